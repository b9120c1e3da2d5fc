// Shared steps of the fault scenarios: a row of the reliability table per scenario (also when
// it fails), probes, recovery clocks and a seeded PRNG for the "random moments".
import { recordScenario, type ScenarioRow } from '../../support/report.js';

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** What a scenario fills in while it runs; recorded as its table row at the end. */
export interface RowDraft {
  eventsSent: number;
  eventsInViews: number;
  lost: number;
  doubleCounted: number;
  maxRecoveryMs: number | null;
  requestsFailed: number;
  details: Record<string, unknown>;
}

/**
 * Runs a scenario body and records its row: `pass` when the body finishes (its assertions
 * hold), `fail` with the error otherwise (and rethrows). `suite` names the table's group
 * (`cluster` for the scenarios of `npm run test:cluster`).
 */
export async function faultScenario(name: string, body: (row: RowDraft) => Promise<void>, suite = 'faults'): Promise<void> {
  const row: RowDraft = { eventsSent: 0, eventsInViews: 0, lost: 0, doubleCounted: 0, maxRecoveryMs: null, requestsFailed: 0, details: {} };
  const started = Date.now();
  const record = (result: ScenarioRow['result'], error?: unknown) =>
    recordScenario({
      suite,
      scenario: name,
      ...row,
      result,
      details: { ...row.details, wallMs: Date.now() - started, ...(error ? { error: String((error as Error).message ?? error).slice(0, 2_000) } : {}) },
    });
  try {
    await body(row);
  } catch (err) {
    record('fail', err);
    throw err;
  }
  record('pass');
}

/** Records a recovery time on the row (keeps the longest). */
export function noteRecovery(row: RowDraft, ms: number): void {
  row.maxRecoveryMs = Math.max(row.maxRecoveryMs ?? 0, Math.round(ms));
}

/** Status of GET http://127.0.0.1:port/path (0 = no answer within `timeoutMs`, -1 = connection error). */
export async function probe(port: number, path = '/readyz', timeoutMs = 2_000): Promise<number> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(timeoutMs) });
    await res.arrayBuffer();
    return res.status;
  } catch (err) {
    return (err as Error).name === 'TimeoutError' ? 0 : -1;
  }
}

/** Polls `check` until true; resolves with the ms it took (throws after `timeoutMs`). */
export async function timeUntil(what: string, check: () => Promise<boolean>, timeoutMs = 60_000, intervalMs = 100): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await check().catch(() => false)) return Date.now() - started;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

export { seededRandom } from '../../../support/seed.js';
