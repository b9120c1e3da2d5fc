import { createHash } from 'node:crypto';
import { readableRange } from '@sigflow/archive';
import { markovDefinition, markovJourneys, trainMarkovChain, trainShapleyTable, type JourneyEvent, type MarkovModel, type MarkovPath, type ShapleyTable } from '@sigflow/core';
import type { PublishedMarkovModel, PublishedShapleyTable } from '@sigflow/store/batch';
import { modelRecord } from '@sigflow/store/ops';
import type { BatchContext } from './batch-context.js';
import { countRows, firstCopyQualify, loadArchiveRows, readRelisting } from './archive-scan.js';
import { DuckDBSession } from './duckdb-session.js';
import { InvalidJobDataError } from '@sigflow/batch-jobs';
import { hourStart, HOUR_MS } from './hour-range.js';
import type { JobProgress } from './recompute-hours.js';
import { runRules } from './run-rules.js';

/**
 * One user's record over the training period: channels of valid touchpoints in order and
 * whether a valid conversion came (Shapley), and those touchpoints and conversions (Markov's
 * journeys).
 */
interface TrainingUser {
  readonly channels: string[];
  converted: boolean;
  readonly events: JourneyEvent[];
}

export interface TrainAttributionOptions {
  readonly context: BatchContext;
  /** Training period [from, to) (ms). Default: the trailing `shapleyTrainingMs` up to the current hour. */
  readonly from?: number;
  readonly to?: number;
  /** Publish to Redis (default true). */
  readonly publish?: boolean;
  readonly duckdb?: DuckDBSession;
  readonly onProgress?: (progress: JobProgress) => void | Promise<void>;
  readonly now?: () => number;
}

export interface TrainAttributionResult {
  readonly from: number;
  readonly to: number;
  readonly shapley: ShapleyTable;
  readonly markov: PublishedMarkovModel;
  /** Users with at least one valid touchpoint, and how many of them converted. */
  readonly users: number;
  readonly convertedUsers: number;
  readonly rowsRead: number;
}

const stamp = (ts: number) => new Date(ts).toISOString().slice(0, 13).replace(/-/g, '');
const digest = (value: unknown) => createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 10);

/**
 * Trains the data-driven attribution models over the archive: the Shapley coalition values v(S)
 * (core's `trainShapleyTable`) and the first-order Markov chain with removal effects (core's
 * `trainMarkovChain`). Validity comes from the same rules as everywhere: the period's
 * touchpoints and conversions (plus the join/flood window before it) run through `processEvent`
 * per user; a user's exposure set is the channels of its valid touchpoints in the period, and it
 * converted when it has a valid conversion in the period. The chain is trained over the users'
 * journeys (core's `markovJourneys`: cut at each conversion with the attribution lookback, the
 * rest one unconverted journey), and the published model names that definition.
 *
 * Versions are derived from the period end and the content, so training twice on the same
 * archive publishes the same versions (the speed layer does not reload an unchanged table).
 * The table and the model are published together in one MULTI.
 */
export async function trainAttribution(options: TrainAttributionOptions): Promise<TrainAttributionResult> {
  const ctx = options.context;
  const now = options.now ?? Date.now;
  const to = options.to ?? hourStart(now());
  const from = options.from ?? to - ctx.settings.shapleyTrainingMs;
  if (!(to > from)) throw new InvalidJobDataError(`training needs from < to, got [${from}, ${to})`);
  const session = options.duckdb ?? (await DuckDBSession.forBatch(ctx.config.batch));
  const hoursTotal = Math.ceil((to - from) / HOUR_MS);
  let rowsRead = 0;
  const progress = (fraction: number) =>
    options.onProgress?.({ hoursDone: Math.floor(hoursTotal * fraction), hoursTotal, rowsRead, percent: Math.round(fraction * 1000) / 10 });
  try {
    await progress(0);
    const conn = session.connection;
    const lo = from - Math.max(ctx.settings.joinWindowMs, ctx.settings.floodWindowMs);
    await readRelisting(async () => {
      const files = await readableRange(ctx.archive, hourStart(lo), to);
      await loadArchiveRows(conn, 'train_copies', files, `ts >= $lo AND ts < $to AND type IN ('impression', 'click', 'conversion')`, { lo, to });
    });
    await conn.run(`CREATE OR REPLACE TEMP TABLE train_fed AS SELECT * FROM train_copies ${firstCopyQualify}`);
    rowsRead = await countRows(conn, 'train_copies');
    const fed = Math.max(1, await countRows(conn, 'train_fed'));
    await progress(0.1);

    const users: TrainingUser[] = [];
    let current: { id: string; user: TrainingUser } | undefined;
    await runRules(conn, 'train_fed', {
      settings: ctx.settings,
      onOutcome: (outcome, event) => {
        if (outcome.status !== 'valid' || event.ts < from || event.ts >= to) return;
        if (current?.id !== event.user_id) {
          current = { id: event.user_id, user: { channels: [], converted: false, events: [] } };
          users.push(current.user);
        }
        const { ts, event_id } = event;
        if (event.type === 'impression' || event.type === 'click') {
          current.user.channels.push(event.channel);
          current.user.events.push({ ts, event_id, kind: 'touchpoint', channel: event.channel });
        } else if (event.type === 'conversion') {
          current.user.converted = true;
          current.user.events.push({ ts, event_id, kind: 'conversion' });
        }
      },
      onChunk: (processed) => (processed % 262_144 < 2_048 ? progress(0.1 + (0.8 * processed) / fed) : undefined),
    });
    await conn.run('DROP TABLE IF EXISTS train_fed');
    await conn.run('DROP TABLE IF EXISTS train_copies');

    const exposed = users.filter((u) => u.channels.length > 0);
    const values = trainShapleyTable(exposed, 'pending').values;
    const shapley: ShapleyTable = { version: `s${stamp(to)}-${digest({ from, to, values })}`, values };
    const journeys = exposed.flatMap((u): MarkovPath[] => markovJourneys(u.events, ctx.settings.attributionLookbackMs));
    const model: MarkovModel = trainMarkovChain(journeys);
    const definition = markovDefinition;
    const trained = { journeys: journeys.length, convertedJourneys: journeys.filter((j) => j.converted).length };
    const markov: PublishedMarkovModel = { version: `m${stamp(to)}-${digest({ from, to, definition, model })}`, definition, from, to, ...trained, model };
    const userCount = exposed.length;
    const convertedUsers = exposed.filter((u) => u.converted).length;
    if (options.publish !== false) {
      const { keys } = ctx;
      const published: PublishedShapleyTable = { ...shapley, from, to, users: userCount, convertedUsers, trainedAt: now() };
      const results = await ctx.redis
        .multi()
        .set(keys.shapleyTable(), JSON.stringify(published))
        .set(keys.shapleyVersion(), shapley.version)
        .set(keys.markovModel(), JSON.stringify(markov))
        .exec();
      for (const [err] of results ?? []) if (err) throw err;
      await ctx.ops.record([modelRecord('shapley', published, published.trainedAt ?? to), modelRecord('markov', markov, to)]);
    }
    await progress(1);
    return { from, to, shapley, markov, users: userCount, convertedUsers, rowsRead };
  } finally {
    if (!options.duckdb) session.close();
  }
}
