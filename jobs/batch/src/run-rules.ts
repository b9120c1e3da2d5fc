import type { DuckDBConnection } from '@duckdb/node-api';
import { floodedIpClicks, type MarkovModel, type RuleSettings, type ShapleyTable } from '@sigflow/core';
import { UserRuleFeed, type OutcomeSink } from './rule-feed.js';
import { streamEvents } from './archive-scan.js';
import { codeRuleColumns, viewsOnlyOmittedColumns, type RuleColumns } from './rule-columns.js';

/** What the rules need besides the events. */
export interface RuleRunOptions {
  readonly settings: RuleSettings;
  readonly shapley?: ShapleyTable | null | undefined;
  readonly markov?: MarkovModel | null | undefined;
  /**
   * Called for every event in (user_id, ts, event_id) order with what the rules made of it, the
   * user's keyed state after it and the user's newest event time before it.
   */
  readonly onOutcome: OutcomeSink;
  /**
   * The outcomes are only folded into views (core's `ProcessContext.viewsOnly`): the user state
   * handed to `onOutcome` then lacks sessions, engagement and segment features, and outcomes
   * have no signal. Default false.
   */
  readonly viewsOnly?: boolean;
  /** SQL filter on the table's rows (default: every row). */
  readonly where?: string;
  /** Called after each chunk with the number of events processed so far. */
  readonly onChunk?: (processed: number) => void | Promise<void>;
  /**
   * A BOOLEAN column of the table with known verdicts (`recompute-input.ts` `knownVerdictColumn`):
   * a row with one is replayed into its user's state with that verdict, not judged (`UserRuleFeed`).
   */
  readonly verdictColumn?: string | undefined;
  /** The table whose clicks the IP flood pass counts (default: the table itself). */
  readonly floodTable?: string | undefined;
}

/**
 * The IP half of the flood rule over the clicks of `table`, by core's `floodedIpClicks`: per IP
 * across every Kafka partition (DESIGN.md: the users behind one IP land in different partitions).
 * DuckDB sorts the clicks of the IPs with more clicks than the threshold by IP (no other IP can
 * flood); each IP's clicks are handed to the rule whole, so JS holds one IP's clicks at a time.
 * The table holds the range plus the lookback, which covers the flood window.
 */
export async function floodedClicksOf(conn: DuckDBConnection, table: string, settings: RuleSettings): Promise<Set<string>> {
  // Only IPs with more clicks than the threshold can flood: the others never reach JS (a 2-hour
  // pass of the bench day hands over 36 of 83,197 clicks; 62-85 against 20-43 ms).
  const result = await conn.stream(
    `WITH clicks AS (SELECT coalesce(ip_key, ip) AS ip, ts, event_id FROM ${table} WHERE type = 'click' AND coalesce(ip_key, ip) IS NOT NULL)
     SELECT ip, ts::DOUBLE AS ts, event_id FROM clicks WHERE ip IN (SELECT ip FROM clicks GROUP BY ip HAVING count(*) > $threshold) ORDER BY 1`,
    { threshold: settings.floodThreshold },
  );
  const flooded = new Set<string>();
  let group: { ts: number; event_id: string; ip: string }[] = [];
  const close = () => {
    if (group.length > settings.floodThreshold) for (const id of floodedIpClicks(group, settings)) flooded.add(id);
    group = [];
  };
  for (;;) {
    const chunk = await result.fetchChunk();
    if (!chunk || chunk.rowCount === 0) break;
    const [ips, tss, ids] = chunk.getColumns() as [string[], number[], string[]];
    for (let i = 0; i < chunk.rowCount; i++) {
      const ip = ips[i] as string;
      if (group[0] && group[0].ip !== ip) close();
      group.push({ ts: tss[i] as number, event_id: ids[i] as string, ip });
    }
  }
  close();
  return flooded;
}

/**
 * Runs the shared rules over the events of `table`, the batch layer's execution of core
 * (see `processBatch`): IP flood verdicts first ({@link floodedClicksOf}), then every event
 * through `processEvent` in (user_id, ts, event_id) order, no watermark (nothing is late).
 * Unlike `processBatch` it streams: DuckDB sorts, JS holds one user's state at a time, so a
 * day of events runs in bounded memory. Returns how many events it processed and where the time went.
 */
export async function runRules(conn: DuckDBConnection, table: string, options: RuleRunOptions): Promise<RuleRunStats> {
  const { settings } = options;
  const t0 = performance.now();
  const flooded = await floodedClicksOf(conn, options.floodTable ?? table, settings);
  const t1 = performance.now();
  const columns = await codeRuleColumns(conn, table, options.viewsOnly ? viewsOnlyOmittedColumns : undefined, options.verdictColumn);
  try {
    return await feedRules(conn, table, columns, options, { t0, t1, flooded });
  } finally {
    await columns.drop();
  }
}

/** The user-sorted pass of {@link runRules}: every event through `processEvent`, one user's state at a time. */
async function feedRules(
  conn: DuckDBConnection,
  table: string,
  ruleColumns: RuleColumns,
  options: RuleRunOptions,
  flood: { t0: number; t1: number; flooded: Set<string> },
): Promise<RuleRunStats> {
  const { t0, t1, flooded } = flood;
  const result = await conn.stream(`SELECT ${ruleColumns.select} FROM ${table} WHERE ${options.where ?? 'true'} ORDER BY user_id, ts, event_id`);
  const rules = new UserRuleFeed(
    { settings: options.settings, shapley: options.shapley, markov: options.markov, flooded, viewsOnly: options.viewsOnly },
    options.onOutcome,
  );
  let processed = 0;
  let jsMs = 0;
  let firstChunkMs = -1;
  const stream = { waitMs: 0, convertMs: 0 };
  const verdicts = options.verdictColumn === undefined ? -1 : ruleColumns.plan.findIndex((p) => p.name === options.verdictColumn);
  for await (const { events, columns } of streamEvents(result, stream, ruleColumns.plan)) {
    const t = performance.now();
    if (firstChunkMs < 0) firstChunkMs = t - t1;
    rules.feed(events, verdicts < 0 ? undefined : columns[verdicts]);
    processed += events.length;
    jsMs += performance.now() - t;
    await options.onChunk?.(processed);
  }
  return { processed, floodMs: t1 - t0, sortMs: Math.max(0, firstChunkMs), rulesJsMs: jsMs, ...stream, totalMs: performance.now() - t0 };
}

/** Where the time of {@link runRules} went (ms). */
export interface RuleRunStats {
  readonly processed: number;
  /** The IP flood pass (DuckDB sort by IP + core's rule). */
  readonly floodMs: number;
  /** Until the first sorted chunk arrived (DuckDB's sort by user, ts, event_id). */
  readonly sortMs: number;
  /** JS: `processEvent` and folding outcomes. */
  readonly rulesJsMs: number;
  /** Waiting for DuckDB's next chunk, and turning chunks into events (DuckDB values -> JS). */
  readonly waitMs: number;
  readonly convertMs: number;
  readonly totalMs: number;
}
