import { archiveColumns } from '@sigflow/archive';

/** The DuckDB types of the documented columns. */
export type SqlColumnType = 'VARCHAR' | 'BIGINT' | 'INTEGER' | 'DOUBLE' | 'BOOLEAN';

export interface SqlColumn {
  readonly name: string;
  readonly type: SqlColumnType;
  readonly description: string;
}

/**
 * Where a table's rows come from: `archive` (the Parquet archive's files, read at each query),
 * `views` (the batch layer's Parquet views, the serving versions, read at each query), `redis`
 * (read from Redis by the API process when a query names the table, and handed to the worker).
 */
export type SqlTableSource = 'archive' | 'views' | 'redis';

export interface SqlTable {
  readonly name: string;
  readonly source: SqlTableSource;
  readonly description: string;
  readonly columns: readonly SqlColumn[];
  /** Tables of source `redis` the table's definition reads (they are read whenever it is named). */
  readonly reads?: readonly string[];
}

const archiveDescriptions: Readonly<Record<string, string>> = {
  event_id: 'The idempotency key; copies of one event share it',
  type: 'impression, click, conversion, page_view, element_click, scroll, form_interaction, link_follow, mouse_move, and the custom and identity records (track, identify, alias, group)',
  user_id: 'The person (Kafka key)',
  ts: 'Event time, epoch ms',
  received_at: 'When the collector received it, epoch ms',
  kafka_partition: 'Kafka partition of this copy',
  kafka_offset: 'Kafka offset of this copy',
  ip: 'Client address (truncated in truncated-IP mode)',
  user_agent: 'Client user agent',
  page_id: 'Page (web events)',
  placement: 'Ad placement',
  campaign_id: 'Campaign (impressions and clicks)',
  ad_id: 'Ad (impressions and clicks)',
  channel: 'Channel (impressions and clicks)',
  element_id: 'Clicked element (element_click)',
  value: 'Conversion value',
  currency: 'Conversion currency',
  form_id: 'Form (form_interaction)',
  action: 'focus, input, submit or abandon (form_interaction)',
  depth: 'Scroll depth 0-100 (scroll)',
  href: 'Followed link (link_follow)',
  x: 'Document x (mouse_move)',
  y: 'Document y (mouse_move)',
  attrs: 'Flat string map, as JSON text',
  ip_key: "The flood rule's keyed hash of the full address (truncated-IP mode)",
  cost: 'Cost in micros of the campaign currency (impressions and clicks); NULL when none',
  name: 'Custom event name (track), normalized',
  name_original: "Custom event name as the sender spelled it (track)",
  properties: 'Custom event properties, as JSON text (track)',
  traits: 'Traits, as JSON text (identify, group)',
  previous_id: "The previous id (alias)",
  group_id: 'The group (group)',
};

const hourStart: SqlColumn = { name: 'hour_start', type: 'BIGINT', description: "Start of the event hour, epoch ms (from the files' folders): filter on it to read only those hours' files" };
const version: SqlColumn = { name: 'version', type: 'VARCHAR', description: "The batch version of the hour the row belongs to (the serving one)" };
const windowStart: SqlColumn = { name: 'window_start', type: 'BIGINT', description: 'Start of the 60 s window, epoch ms' };
const col = (name: string, type: SqlColumnType, description: string): SqlColumn => ({ name, type, description });

const events: SqlTable = {
  name: 'events',
  source: 'archive',
  description:
    'The Parquet archive: every archived copy of every event (the archive is at-least-once: replays and resent copies share an event_id; event_verdicts says which copy counts), every column, partitioned by event hour.',
  columns: [...archiveColumns.map((c) => col(c.name, c.type, archiveDescriptions[c.name] ?? c.name)), hourStart],
};

const eventVerdicts: SqlTable = {
  name: 'event_verdicts',
  source: 'archive',
  reads: ['batch_hours'],
  description:
    "The batch layer's verdicts per archived copy: whether it is a duplicate (a later copy of its event_id), and for impressions and clicks of hours the batch layer computed, the verdict its rules gave the first copy in the serving version.",
  columns: [
    col('event_id', 'VARCHAR', 'The event'),
    col('type', 'VARCHAR', 'Its type'),
    col('user_id', 'VARCHAR', 'The person'),
    col('ts', 'BIGINT', 'Event time, epoch ms'),
    hourStart,
    col('campaign_id', 'VARCHAR', 'Campaign (touchpoints)'),
    col('ad_id', 'VARCHAR', 'Ad (touchpoints)'),
    col('channel', 'VARCHAR', 'Channel (touchpoints)'),
    col('kafka_partition', 'INTEGER', 'Kafka partition of this copy'),
    col('kafka_offset', 'BIGINT', 'Kafka offset of this copy'),
    col('duplicate', 'BOOLEAN', "A later copy of its event_id in its hour (the batch layer's dedupe: the first copy has the earliest received_at, then the lowest Kafka offset, then partition)"),
    col('valid', 'BOOLEAN', "The batch layer's verdict on the first copy of an impression or click (false: invalid traffic, kept out of CTR and attribution); NULL for duplicates, other types and hours without a batch version"),
    col('reason', 'VARCHAR', 'The invalid reason (bot, flood, orphan, too_fast) where the verdict file records it; NULL otherwise (the batch layer counts reasons per campaign and hour: batch_quality)'),
    col('batch_version', 'VARCHAR', 'The serving batch version of the hour (NULL: not computed yet)'),
  ],
};

/** One batch view's table: the columns of its Parquet files, the version and the hour. */
const batchView = (name: string, description: string, columns: readonly SqlColumn[]): SqlTable => ({
  name: `batch_${name}`,
  source: 'views',
  description,
  columns: [...columns, version, hourStart],
});

const batchViews: readonly SqlTable[] = [
  batchView('window_metrics', 'Campaign metrics per 60 s window, campaign and ad, as the batch layer corrected them (first copies, valid traffic; invalid counted apart).', [
    windowStart,
    col('campaign_id', 'VARCHAR', 'Campaign'),
    col('ad_id', 'VARCHAR', 'Ad'),
    col('impressions', 'BIGINT', 'Valid impressions'),
    col('clicks', 'BIGINT', 'Valid clicks'),
    col('invalid_impressions', 'BIGINT', 'Invalid impressions'),
    col('invalid_clicks', 'BIGINT', 'Invalid clicks'),
  ]),
  batchView('channel_spend', 'Spend per window, campaign and channel: the cost of valid touchpoints and of invalid ones (refund claims).', [
    windowStart,
    col('campaign_id', 'VARCHAR', 'Campaign'),
    col('channel', 'VARCHAR', 'Channel'),
    col('spend_micros', 'BIGINT', 'Cost of valid touchpoints, micros'),
    col('invalid_spend_micros', 'BIGINT', 'Cost of invalid touchpoints, micros'),
    col('clicks', 'BIGINT', 'Valid clicks'),
  ]),
  batchView('attribution', "Attributed conversions and revenue per window of the conversion's time, model, campaign and channel of the credited touchpoints (campaign none, channel direct: no path).", [
    windowStart,
    col('model', 'VARCHAR', 'last_touch, first_touch, linear, time_decay, position_based, shapley, markov'),
    col('campaign_id', 'VARCHAR', 'Campaign credited'),
    col('channel', 'VARCHAR', 'Channel credited'),
    col('conversions', 'DOUBLE', 'Credit (fractions of conversions)'),
    col('revenue', 'DOUBLE', 'Revenue credit'),
  ]),
  batchView('heatmap', 'Valid element clicks per page, window and element (share and rank: clicks over the page and window).', [
    col('page_id', 'VARCHAR', 'Page'),
    windowStart,
    col('element_id', 'VARCHAR', 'Element'),
    col('clicks', 'BIGINT', 'Valid element clicks'),
  ]),
  batchView('page_activity', 'Page activity per page and window: views, scroll depths, form actions, mouse-move cells.', [
    col('page_id', 'VARCHAR', 'Page'),
    windowStart,
    col('metric', 'VARCHAR', 'view, scroll (key: depth), form (key: form, detail: action), mouse (key: cell x, detail: cell y)'),
    col('key', 'VARCHAR', 'See metric'),
    col('detail', 'VARCHAR', 'See metric'),
    col('events', 'BIGINT', 'Events'),
  ]),
  batchView('quality', "The batch layer's counts per hour and campaign of why events left the views: duplicates, invalid:<reason>, signals_corrected:<what> (campaign * : events without one).", [
    col('campaign_id', 'VARCHAR', 'Campaign'),
    col('cause', 'VARCHAR', 'duplicates, invalid:bot|flood|orphan|too_fast, signals_corrected:verdict|late|duplicate'),
    col('events', 'BIGINT', 'Events'),
  ]),
];

const batchHours: SqlTable = {
  name: 'batch_hours',
  source: 'redis',
  description: 'Every hour the batch layer computed: the version it serves and how it was computed.',
  columns: [
    hourStart,
    col('version', 'VARCHAR', 'The serving batch version'),
    col('computed_at', 'BIGINT', 'When it was switched in, epoch ms'),
    col('as_of', 'BIGINT', 'When its computation started reading the archive, epoch ms'),
    col('rows', 'BIGINT', 'Events of the hour after the dedupe'),
    col('duplicates', 'BIGINT', 'Later copies the dedupe dropped'),
    col('shapley_version', 'VARCHAR', 'The Shapley table its attribution used'),
    col('markov_version', 'VARCHAR', 'The Markov model its attribution used'),
    col('isbot_version', 'VARCHAR', "The isbot list that decided the bot rule"),
    col('computed_by', 'VARCHAR', 'The job that computed it'),
  ],
};

/** A comparison's three columns: speed, batch and diff = speed - batch. */
const compared = (name: string, type: SqlColumnType, what: string): SqlColumn[] => [
  col(`${name}_speed`, type, `${what} in the speed views`),
  col(`${name}_batch`, type, `${what} in the batch views (NULL: hour not computed)`),
  col(`${name}_diff`, type, 'speed - batch (NULL without batch)'),
];

const reconciliation: SqlTable = {
  name: 'reconciliation',
  source: 'redis',
  description:
    'Speed vs batch per hour and campaign over the request\'s from..to, exactly as GET /v1/reconciliation answers it (the same function), flattened: diff = speed - batch, and the causes both layers counted.',
  columns: [
    hourStart,
    col('campaign_id', 'VARCHAR', 'Campaign (none: direct conversions, *: causes of events without a campaign)'),
    col('model', 'VARCHAR', "The attribution model of conversions and revenue (the request's model)"),
    col('batch_version', 'VARCHAR', 'The serving batch version (NULL: not computed)'),
    col('batch_computed_at', 'BIGINT', 'When it was switched in, epoch ms'),
    col('authoritative', 'BOOLEAN', 'The whole hour is at or below the batch watermark'),
    ...compared('impressions', 'BIGINT', 'Valid impressions'),
    ...compared('clicks', 'BIGINT', 'Valid clicks'),
    ...compared('invalid_impressions', 'BIGINT', 'Invalid impressions'),
    ...compared('invalid_clicks', 'BIGINT', 'Invalid clicks'),
    ...compared('conversions', 'DOUBLE', 'Attributed conversions'),
    ...compared('revenue', 'DOUBLE', 'Attributed revenue'),
    col('late_events', 'BIGINT', 'Events the speed layer kept out of closed windows (late), all types'),
    col('duplicates_speed', 'BIGINT', 'Duplicates the speed layer recognised'),
    col('duplicates_batch', 'BIGINT', 'Duplicates the batch layer dropped (NULL without batch)'),
    col('signals_corrected', 'BIGINT', 'User signals the batch layer rewrote with its verdict (NULL without batch)'),
    col('causes', 'VARCHAR', 'The named causes whose counts differ, JSON: [{cause, reason?, speed, batch}]'),
  ],
};

const segmentSizes: SqlTable = {
  name: 'segment_sizes',
  source: 'redis',
  description: "Every segment's size at the end of each window over the request's from..to, as GET /v1/segments/:name/size answers it per minute.",
  columns: [
    col('segment', 'VARCHAR', 'Segment name'),
    col('segment_version', 'BIGINT', 'Definition version'),
    windowStart,
    col('size', 'BIGINT', 'Members at the end of the window'),
    col('entered', 'BIGINT', 'Entries in the window'),
    col('exited', 'BIGINT', 'Exits in the window'),
    col('source', 'VARCHAR', 'speed, or batch for hours a batch recompute wrote'),
  ],
};

/** Every table an analyst's query may read, by name: the documented, stable catalogue. */
export const sqlTables: readonly SqlTable[] = [events, eventVerdicts, ...batchViews, batchHours, reconciliation, segmentSizes];

/** The table of a name. */
export function sqlTable(name: string): SqlTable | undefined {
  return sqlTables.find((t) => t.name === name);
}

/** The tables of source `redis` a query naming `names` needs (named directly or read by a named table). */
export function redisTablesOf(names: readonly string[]): string[] {
  const needed = new Set<string>();
  for (const name of names) {
    const table = sqlTable(name.toLowerCase());
    if (!table) continue;
    if (table.source === 'redis') needed.add(table.name);
    for (const read of table.reads ?? []) needed.add(read);
  }
  return [...needed].sort();
}
