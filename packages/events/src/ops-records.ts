import Type, { type Static } from 'typebox';
import { Compile } from 'typebox/compile';

/**
 * What the ops topic (`topicNames.ops`) holds: one decision per record, keyed `kind:id`, so that
 * compaction keeps the latest of each. `value` null: the thing was removed.
 * - `budget` (campaign id): the campaign's budget as stored; `budget-change` (campaign id, time
 *   and a nonce): one entry of its change log;
 * - `segment` (name): a segment's definition with its id, version and creation time;
 * - `alert-rule` (name): an alert rule;
 * - `schedule` (scheduler id): a batch job scheduler's repeat options and job template;
 * - `model` (`shapley` or `markov`): the published attribution model;
 * - `tombstone` (the salted hash of a deleted person's id): when the deletion was asked.
 * The values are the stored forms of `@sigflow/store` (and BullMQ's options for schedules); the
 * store checks each when it applies one.
 */
export const opsRecordKinds = ['budget', 'budget-change', 'segment', 'alert-rule', 'schedule', 'model', 'tombstone'] as const;
export type OpsRecordKind = (typeof opsRecordKinds)[number];

export const OpsRecordSchema = Type.Object(
  {
    kind: Type.Enum([...opsRecordKinds]),
    id: Type.String({ minLength: 1, maxLength: 512 }),
    /** When it was decided (ms). */
    at: Type.Integer({ minimum: 0 }),
    value: Type.Union([Type.Null(), Type.Unknown()]),
  },
  { additionalProperties: false },
);
export type OpsRecord = Static<typeof OpsRecordSchema>;

const check = Compile(OpsRecordSchema);

/** The Kafka key of a record: compaction keeps the latest record of each. */
export function opsRecordKey(record: Pick<OpsRecord, 'kind' | 'id'>): string {
  return `${record.kind}:${record.id}`;
}

/** A record read from the topic, or null when the bytes are not one (skipped by readers). */
export function parseOpsRecord(json: string): OpsRecord | null {
  try {
    const value: unknown = JSON.parse(json);
    return check.Check(value) ? (value as OpsRecord) : null;
  } catch {
    return null;
  }
}
