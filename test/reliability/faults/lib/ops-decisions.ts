// What ops decide, set through the API before a fault (or an upgrade) and read back after it
// (a budget, a segment rule and an alert rule), and a person deleted that must stay so. Shared by
// the Redis-loss rows and the upgrade row.
import { expect } from 'vitest';
import type { Scenario } from '../../../support/scenario.js';

export const OPS_KEY = 'ops-key-decisions';
export const PRIVACY_KEY = 'privacy-key-decisions';

/**
 * A run's settings beside the scenario's: the ops and privacy keys, one API and collector
 * process, hours sealed 2 s after the archive goes idle and recomputed every 2 s, no other job
 * on a schedule, loopback webhooks allowed.
 */
export const decisionsRunEnv: Readonly<Record<string, string>> = {
  SIGFLOW_API_KEYS: `${OPS_KEY}:ops,${PRIVACY_KEY}:privacy`,
  SIGFLOW_API_PROCESSES: '1',
  SIGFLOW_COLLECTOR_PROCESSES: '1',
  SIGFLOW_ARCHIVER_IDLE_WATERMARK_DELAY_MS: '2000',
  SIGFLOW_BATCH_RECOMPUTE_EVERY: '*/2 * * * * *',
  SIGFLOW_BATCH_RETRAIN_EVERY: '0 0 1 1 *',
  SIGFLOW_BATCH_RETENTION_EVERY: '0 0 1 1 *',
  SIGFLOW_BATCH_VIEW_PARQUET: 'false',
  SIGFLOW_ALERTS_WEBHOOK_ALLOW: '127.0.0.0/8',
};

export type ApiCall = (method: string, url: string, body?: unknown, key?: string) => Promise<{ status: number; body: Record<string, unknown> | null }>;

/** Calls the API whose port `port()` gives now (it changes when the API is replaced), with the ops key unless told another. */
export function apiCaller(port: () => number): ApiCall {
  return async (method, url, body, key = OPS_KEY) => {
    const res = await fetch(`http://127.0.0.1:${port()}${url}`, { method, headers: { 'x-api-key': key, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
    return { status: res.status, body: (await res.json().catch(() => null)) as Record<string, unknown> | null };
  };
}

/** Sets the budget, the segment rule and the alert rule; each must be taken. */
export async function decideOps(call: ApiCall): Promise<void> {
  const budget = await call('PUT', '/v1/campaigns/cmp-1/budget', { dailyBudgetMicros: 9_000_000, timeZone: 'Europe/Berlin', targetRoas: 1.5 });
  const segment = await call('PUT', '/v1/segments/clickers', { rule: { all: [{ feature: 'count:click:24h', op: '>=', value: 1 }] } });
  const rule = await call('PUT', '/v1/alerts/rules/ctr-drop', { metric: 'ctr', condition: { op: 'drop_pct', threshold: 80 }, for: 3, webhook: { url: 'http://127.0.0.1:9/alerts', secret: 'a-secret-of-16-chars' } });
  expect([budget.status, segment.status, rule.status]).toEqual([200, 201, 201]);
}

/** What the API serves of those decisions. */
export async function servedDecisions(call: ApiCall) {
  return {
    budget: (await call('GET', '/v1/campaigns/cmp-1/budget')).body,
    segment: (await call('GET', '/v1/segments/clickers')).body,
    rule: (await call('GET', '/v1/alerts/rules/ctr-drop')).body,
  };
}

/** A person deleted stays deleted: no signal of theirs in the speed layer's keys, and a new event of theirs refused. */
export async function expectStaysDeleted(scenario: Scenario, userId: string, post: (events: object[]) => Promise<Response>, newEvent: object): Promise<void> {
  expect(await scenario.redis.llen(scenario.signalsKey(userId))).toBe(0);
  const refused = await post([newEvent]);
  expect(((await refused.json()) as { rejected?: { code: string }[] }).rejected?.map((r) => r.code)).toEqual(['user_deleted']);
}
