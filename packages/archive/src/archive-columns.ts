import type { ReceivedEvent, SigflowEvent } from '@sigflow/events';

/**
 * The archive's Parquet schema: one row per event copy, a typed column for every field of the
 * event contract (NULL where the event has none), plus where the copy came from (Kafka
 * partition and offset). `attrs`, `properties` and `traits` are JSON text. The batch layer rebuilds each `SigflowEvent`
 * from these columns ({@link eventOfArchiveRecord}); nothing else of an event exists, so the
 * raw JSON is not kept twice.
 */
export const archiveColumns = [
  { name: 'event_id', type: 'VARCHAR' },
  { name: 'type', type: 'VARCHAR' },
  { name: 'user_id', type: 'VARCHAR' },
  { name: 'ts', type: 'BIGINT' },
  { name: 'received_at', type: 'BIGINT' },
  { name: 'kafka_partition', type: 'INTEGER' },
  { name: 'kafka_offset', type: 'BIGINT' },
  { name: 'ip', type: 'VARCHAR' },
  { name: 'user_agent', type: 'VARCHAR' },
  { name: 'page_id', type: 'VARCHAR' },
  { name: 'placement', type: 'VARCHAR' },
  { name: 'campaign_id', type: 'VARCHAR' },
  { name: 'ad_id', type: 'VARCHAR' },
  { name: 'channel', type: 'VARCHAR' },
  { name: 'element_id', type: 'VARCHAR' },
  { name: 'value', type: 'DOUBLE' },
  { name: 'currency', type: 'VARCHAR' },
  { name: 'form_id', type: 'VARCHAR' },
  { name: 'action', type: 'VARCHAR' },
  { name: 'depth', type: 'DOUBLE' },
  { name: 'href', type: 'VARCHAR' },
  { name: 'x', type: 'DOUBLE' },
  { name: 'y', type: 'DOUBLE' },
  { name: 'attrs', type: 'VARCHAR' },
  // Truncated IP mode: the flood rule's keyed hash of the full address (files written before
  // the column existed read it as NULL: the batch reads with union_by_name).
  { name: 'ip_key', type: 'VARCHAR' },
  // Added after the first archives were written: files from before have no such column (see the
  // batch layer's `archiveSelectList`), and a NULL cost is an event without one.
  { name: 'cost', type: 'BIGINT' },
  // Custom events and identity records (added later, NULL in older files): a track's name and
  // the sender's spelling, its properties and an identify's or a group's traits (JSON text), an
  // alias's previous id, a group's id.
  { name: 'name', type: 'VARCHAR' },
  { name: 'name_original', type: 'VARCHAR' },
  { name: 'properties', type: 'VARCHAR' },
  { name: 'traits', type: 'VARCHAR' },
  { name: 'previous_id', type: 'VARCHAR' },
  { name: 'group_id', type: 'VARCHAR' },
] as const;

/** Columns holding JSON text (objects of the event, parsed back when an event is rebuilt). */
export const jsonColumns: ReadonlySet<string> = new Set(['attrs', 'properties', 'traits']);

/** Column names in schema order. */
export type ArchiveColumn = (typeof archiveColumns)[number]['name'];

/** `CREATE ... TABLE` column list of the schema. */
export function archiveColumnsDdl(): string {
  return archiveColumns.map((c) => `${c.name} ${c.type}`).join(', ');
}

/** An event and where it came from (tests and tools that hold decoded events). */
export interface ArchivedEvent {
  readonly event: ReceivedEvent;
  readonly partition: number;
  /** Kafka offset (int64 as a decimal string, as kafkajs gives it). */
  readonly offset: string;
}

/** A Kafka message as consumed: its value (JSON of a `ReceivedEvent`) and where it came from. */
export interface ArchivedMessage {
  readonly value: Buffer | string | null;
  readonly partition: number;
  /** Kafka offset (int64 as a decimal string, as kafkajs gives it). */
  readonly offset: string;
}

/**
 * The DuckDB struct type `from_json` parses a message into: every event field of the schema
 * with its column type (`attrs` kept as JSON, stored as its text).
 */
export const eventJsonStructType = JSON.stringify(
  Object.fromEntries(
    archiveColumns
      .filter((c) => c.name !== 'kafka_partition' && c.name !== 'kafka_offset')
      .map((c) => [c.name, jsonColumns.has(c.name) ? 'JSON' : c.type]),
  ),
);

/**
 * One archive row with JS values: strings, numbers (BIGINT columns converted to numbers; event
 * times and offsets below 2^53), null for NULL. Keys are {@link ArchiveColumn}s; a reader may
 * leave out columns it did not select.
 */
export type ArchiveRecord = { readonly [K in ArchiveColumn]?: string | number | bigint | null };

/** Optional string fields, copied when not NULL. */
const optionalStrings = ['ip', 'user_agent', 'page_id', 'placement', 'ip_key'] as const;

/** Fields each type carries beyond the common ones (the event contract). */
const typeFields: Record<SigflowEvent['type'], readonly ArchiveColumn[]> = {
  impression: ['campaign_id', 'ad_id', 'channel', 'cost'],
  click: ['campaign_id', 'ad_id', 'channel', 'cost'],
  conversion: ['value', 'currency'],
  page_view: [],
  element_click: ['element_id'],
  scroll: ['depth'],
  form_interaction: ['form_id', 'action'],
  link_follow: ['href'],
  mouse_move: ['x', 'y'],
  track: ['name', 'name_original', 'properties'],
  identify: ['traits'],
  alias: ['previous_id'],
  group: ['group_id', 'traits'],
};

/** A column's value as the event holds it: JSON text parsed, BIGINT as a number. */
function fieldValue(column: string, v: unknown): unknown {
  if (typeof v === 'bigint') return Number(v);
  return jsonColumns.has(column) && typeof v === 'string' ? JSON.parse(v) : v;
}

/**
 * Rebuilds the event of an archive row: the same fields, the same values, no field the event
 * did not have. Columns the reader did not select are left out of the event.
 */
export function eventOfArchiveRecord(row: ArchiveRecord): ReceivedEvent {
  const event: Record<string, unknown> = {
    event_id: row.event_id,
    type: row.type,
    user_id: row.user_id,
    ts: Number(row.ts),
    received_at: Number(row.received_at),
  };
  for (const f of optionalStrings) {
    const v = row[f];
    if (v !== null && v !== undefined) event[f] = v;
  }
  for (const f of typeFields[row.type as SigflowEvent['type']] ?? []) {
    const v = row[f];
    if (v !== null && v !== undefined) event[f] = fieldValue(f, v);
  }
  const attrs = row.attrs;
  if (typeof attrs === 'string') event['attrs'] = JSON.parse(attrs) as Record<string, string>;
  return event as ReceivedEvent;
}

/**
 * Rebuilds the events of a result chunk column by column (the batch layer's fast path; same
 * result as {@link eventOfArchiveRecord} per row). `names` are the selected columns, `columns`
 * their values; columns not selected are left out of the events.
 */
export function eventsOfColumns(names: readonly string[], columns: readonly (readonly unknown[])[], rowCount: number): ReceivedEvent[] {
  const col = (name: string) => {
    const i = names.indexOf(name);
    return i < 0 ? undefined : columns[i];
  };
  const present = (fields: readonly string[]) =>
    fields.map((f) => [f, col(f)] as const).filter((p): p is readonly [string, readonly unknown[]] => p[1] !== undefined);
  const ids = col('event_id') ?? [];
  const types = col('type') ?? [];
  const users = col('user_id') ?? [];
  const tss = col('ts') ?? [];
  const received = col('received_at') ?? [];
  const attrs = col('attrs');
  const optional = present(optionalStrings);
  const perType = new Map(Object.entries(typeFields).map(([t, fields]) => [t, present(fields)]));
  const events: ReceivedEvent[] = new Array(rowCount);
  for (let i = 0; i < rowCount; i++) {
    const type = types[i] as string;
    const event: Record<string, unknown> = {
      event_id: ids[i],
      type,
      user_id: users[i],
      ts: Number(tss[i]),
      received_at: Number(received[i]),
    };
    for (const [f, c] of optional) {
      const v = c[i];
      if (v !== null && v !== undefined) event[f] = v;
    }
    for (const [f, c] of perType.get(type) ?? []) {
      const v = c[i];
      if (v !== null && v !== undefined) event[f] = fieldValue(f, v);
    }
    const a = attrs?.[i];
    if (typeof a === 'string') event['attrs'] = JSON.parse(a) as Record<string, string>;
    events[i] = event as ReceivedEvent;
  }
  return events;
}
