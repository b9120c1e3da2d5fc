import { LIST, VARCHAR, listValue, type DuckDBConnection } from '@duckdb/node-api';
import { causeCampaign, causeName, hourStart, isBotUserAgent, type InvalidReason } from '@sigflow/core';
import { userPartition } from '@sigflow/events';
import { field } from '@sigflow/store';
import { correctUserSignals, readSignalReviews, type SignalVerdict, type UserSignalCorrection } from '@sigflow/store/speed-state';
import type { BatchContext } from './batch-context.js';
import { viewEventTypes } from './recompute-input.js';

/** Hour -> `${campaign}\tsignals_corrected:<what>` -> count: the causes reconciliation names. */
export type SignalCorrectionCauses = Map<number, Map<string, number>>;

/** One reviewed or batch-invalid event of the pass, as the archive holds its first copy. */
interface ReviewedEvent {
  readonly eventId: string;
  readonly userId: string;
  readonly type: string;
  readonly userAgent: string | null;
  readonly campaign: string;
  readonly hour: number;
}

const ruleTypes: ReadonlySet<string> = new Set(viewEventTypes);

/**
 * The first copies of `ids` in the pass's range (`range_copies` holds only first copies once
 * the input is loaded): events the speed layer has not archived yet are not corrected.
 */
async function firstCopiesOf(conn: DuckDBConnection, ids: readonly string[]): Promise<ReviewedEvent[]> {
  const reader = await conn.runAndReadAll(
    `SELECT event_id, user_id, type, user_agent, campaign_id, ts::DOUBLE
     FROM range_copies WHERE event_id IN (SELECT unnest($ids))`,
    { ids: listValue([...ids]) },
    { ids: LIST(VARCHAR) },
  );
  return (reader.getRows() as [string, string, string, string | null, string | null, number][]).map(([eventId, userId, type, userAgent, campaignId, ts]) => ({
    eventId,
    userId,
    type,
    userAgent,
    campaign: causeCampaign({ type, campaign_id: campaignId ?? undefined }),
    hour: hourStart(ts),
  }));
}

/**
 * The batch layer's verdict: its rules' reason for the events they judged (`invalid`, reasons
 * of the range's invalid events), else valid; events the recompute does not run through the
 * rules (`config.batch.viewEventsOnly`) can only be bots.
 */
function verdictOf(event: ReviewedEvent, invalid: ReadonlyMap<string, InvalidReason>): InvalidReason | null {
  const reason = invalid.get(event.eventId);
  if (reason !== undefined) return reason;
  if (!ruleTypes.has(event.type) && isBotUserAgent(event.userAgent ?? undefined)) return 'bot';
  return null;
}

/**
 * After a pass's rules ran, corrects the signals of its hours with the batch layer's verdicts:
 * the events the speed layer asked to review (invalid, late, or unchecked for copies) and those
 * the batch layer judged invalid, each user's at once (store's `correctUserSignals`: atomic per
 * user, what the speed layer appended meanwhile stays). Returns, per hour and campaign, what
 * changed, as reconciliation causes (`signals_corrected:verdict|late|duplicate`).
 */
export async function correctPassSignals(
  ctx: BatchContext,
  conn: DuckDBConnection,
  hours: readonly number[],
  invalid: ReadonlyMap<string, InvalidReason>,
): Promise<SignalCorrectionCauses> {
  const partitions = ctx.config.kafka.eventPartitions;
  const ids = new Set(invalid.keys());
  for (const hour of hours) for (const id of await readSignalReviews(ctx.redis, ctx.keys, partitions, hour)) ids.add(id);
  const causes: SignalCorrectionCauses = new Map();
  if (ids.size === 0) return causes;
  const events = new Map<string, ReviewedEvent>();
  const byUser = new Map<string, SignalVerdict[]>();
  for (const event of await firstCopiesOf(conn, [...ids])) {
    events.set(event.eventId, event);
    let verdicts = byUser.get(event.userId);
    if (!verdicts) byUser.set(event.userId, (verdicts = []));
    verdicts.push({ eventId: event.eventId, reason: verdictOf(event, invalid) });
  }
  const corrections: UserSignalCorrection[] = [...byUser].map(([userId, verdicts]) => ({ partition: userPartition(userId, partitions), userId, verdicts }));
  for (const user of await correctUserSignals(ctx.redis, ctx.keys, corrections)) {
    for (const change of user) {
      const event = events.get(change.eventId) as ReviewedEvent;
      let hour = causes.get(event.hour);
      if (!hour) causes.set(event.hour, (hour = new Map()));
      const f = field(event.campaign, causeName({ kind: 'signals_corrected', what: change.what }));
      hour.set(f, (hour.get(f) ?? 0) + 1);
    }
  }
  return causes;
}
