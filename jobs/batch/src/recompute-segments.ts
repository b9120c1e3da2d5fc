import { readableRange } from '@sigflow/archive';
import { compileSegmentSet, featureLookbackMs } from '@sigflow/core';
import { readSegmentDefinitions, writeSegmentBatch } from '@sigflow/store/segments-alerts';
import type { BatchContext } from './batch-context.js';
import { firstCopyQualify, loadArchiveRows, readRelisting } from './archive-scan.js';
import type { DuckDBSession } from './duckdb-session.js';
import { hourStart } from './hour-range.js';
import { runRules } from './run-rules.js';
import { SegmentSeries } from './segment-series.js';

/** One segment recomputed. */
export interface RecomputedSegment {
  readonly name: string;
  readonly id: string;
  /** The definition's version the memberships were computed under. */
  readonly version: number;
  readonly members: number;
  readonly hours: number;
}

/** What a segment recompute did, and under which definitions. */
export interface SegmentRecomputeResult {
  /** The version of the definitions used (every segment as defined then). */
  readonly definitionsVersion: number;
  readonly segments: RecomputedSegment[];
  /** Events run through the rules (the range and its lookback, first copies). */
  readonly events: number;
  /** Definitions left out because they no longer parse. */
  readonly skipped: string[];
}

export interface RecomputeSegmentsOptions {
  readonly context: BatchContext;
  /** Whole hours [from, to). */
  readonly from: number;
  readonly to: number;
  readonly duckdb: DuckDBSession;
  readonly computedBy?: string;
  readonly now?: () => number;
}

/**
 * How far before a range a segment recompute reads (DESIGN.md "Segments"): a membership at the
 * range's start rests on an event at most the membership TTL earlier, and that event's features
 * look back up to 7 days more. Older history reaches only engagement_score (its decayed tail)
 * and last_conversion_age_s (a conversion older than that): the batch layer leaves it out.
 */
export function segmentLookbackMs(ctx: BatchContext): number {
  return ctx.settings.segmentMembershipTtlMs + featureLookbackMs;
}

/**
 * Recomputes every segment's memberships and sizes over [from, to) from the archive under the
 * CURRENT definitions: the archive's first copies of every event type from the lookback on, the
 * same core rules as the speed layer (`processEvent`, then `evaluateSegments` at each event), the
 * size per window of the range and the members as of `to`, written per segment in one transaction.
 */
export async function recomputeSegments(o: RecomputeSegmentsOptions): Promise<SegmentRecomputeResult> {
  const ctx = o.context;
  const { version, definitions } = await readSegmentDefinitions(ctx.redis, ctx.keys);
  const { maxConditions, maxDepth, maxValues } = ctx.config.segments;
  const { set, skipped } = compileSegmentSet(definitions, version, { maxConditions, maxDepth, maxValues });
  if (set.segments.length === 0) return { definitionsVersion: version, segments: [], events: 0, skipped };
  const lookbackFrom = o.from - segmentLookbackMs(ctx);
  const conn = o.duckdb.connection;
  await readRelisting(async () => {
    const files = await readableRange(ctx.archive, hourStart(lookbackFrom), o.to);
    await loadArchiveRows(conn, 'segment_copies', files, 'ts >= $from AND ts < $to', { from: lookbackFrom, to: o.to });
  });
  await conn.run(`CREATE OR REPLACE TEMP TABLE segment_fed AS SELECT * FROM segment_copies ${firstCopyQualify}`);
  await conn.run('DROP TABLE IF EXISTS segment_copies');
  const series = new SegmentSeries(set, ctx.settings, o.to);
  let stats;
  try {
    stats = await runRules(conn, 'segment_fed', { settings: ctx.settings, onOutcome: (_outcome, event, user, previous) => series.event(event.user_id, user, previous) });
  } finally {
    await conn.run('DROP TABLE IF EXISTS segment_fed');
  }
  series.finishUser();
  const computedAt = (o.now ?? Date.now)();
  const segments: RecomputedSegment[] = [];
  for (const s of set.segments) {
    const hours = series.hours(s.id, o.from, o.to);
    const members = series.members.get(s.id) ?? [];
    await writeSegmentBatch(ctx.redis, ctx.keys, {
      segmentId: s.id,
      hours,
      hourEntry: { computedAt, segmentVersion: s.version, definitionsVersion: version, computedBy: o.computedBy ?? 'library' },
      members,
      membersState: { asOf: o.to, segmentVersion: s.version, definitionsVersion: version, computedAt, members: members.length },
      ttlMs: ctx.config.batch.viewTtlMs,
    });
    segments.push({ name: s.name, id: s.id, version: s.version, members: members.length, hours: hours.size });
  }
  return { definitionsVersion: version, segments, events: stats.processed, skipped };
}
