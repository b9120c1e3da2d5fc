// The reliability table's rows: every reliability scenario (faults, input, load) appends one
// JSON line per scenario to var/reliability/<run>.jsonl; `print-table.mjs` prints the table of
// a run and keeps it in bench/results/reliability.json.
import fs from 'node:fs';
import path from 'node:path';

export const reliabilityDir = path.resolve(import.meta.dirname, '../../../var/reliability');

/** One scenario's outcome, as a row of the table. */
export interface ScenarioRow {
  /** Which folder of test/reliability it comes from: faults, input, load. */
  readonly suite: string;
  readonly scenario: string;
  /** Events the generator (or the test) sent, copies included. */
  readonly eventsSent: number;
  /** Events the views hold after recovery (distinct events counted by the views). */
  readonly eventsInViews: number;
  /** Expected minus served, where positive, summed over the compared counters and view cells. */
  readonly lost: number;
  /** Served minus expected, where positive, summed the same way. */
  readonly doubleCounted: number;
  /** Longest time from a fault to the affected service working again (ms); null = not measured. */
  readonly maxRecoveryMs: number | null;
  /** Requests that clients saw fail during the fault (connection refused, 503, 5xx, timeouts). */
  readonly requestsFailed: number;
  readonly result: 'pass' | 'fail';
  /** Anything else worth a look (free form, kept in the JSON, not in the printed table). */
  readonly details?: Record<string, unknown>;
}

/**
 * The run the rows go to: SIGFLOW_RELIABILITY_RUN (set by `npm run test:reliability`), else the
 * `npm test` report folder's name, else "adhoc".
 */
export function reliabilityRun(): string {
  const explicit = process.env['SIGFLOW_RELIABILITY_RUN'];
  if (explicit) return explicit;
  const report = process.env['SIGFLOW_TEST_REPORT'];
  return report ? path.basename(report) : 'adhoc';
}

/** Appends a row to the current run's file (one JSON object per line). */
export function recordScenario(row: ScenarioRow): void {
  fs.mkdirSync(reliabilityDir, { recursive: true });
  const line = JSON.stringify({ ...row, at: new Date().toISOString() });
  fs.appendFileSync(path.join(reliabilityDir, `${reliabilityRun()}.jsonl`), `${line}\n`);
}
