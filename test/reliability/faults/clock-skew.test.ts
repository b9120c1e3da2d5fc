import { afterEach, describe, expect, it } from 'vitest';
import { Scenario } from '../../support/scenario.js';
import { waitUntil } from '../../support/redis-keys.js';
import { faultScenario } from './lib/fault-run.js';

const MIN = 60_000;
const RETENTION = 10 * MIN;

// Clients with skewed clocks: an event more than the limit (5 min) in the future is rejected
// (`future`), one in the past is accepted up to the retention and rejected (`expired`) beyond.
// Accepted ones reach the views, rejected ones never do. Retention is 10 min here, to test cheaply.
describe('faults: clock skew', () => {
  let scenario: Scenario | undefined;
  afterEach(async () => {
    await scenario?.tearDown();
    scenario = undefined;
  });

  it('future beyond the limit rejected, past accepted up to the retention', () =>
    faultScenario('clock skew (future / past events)', async (row) => {
      scenario = new Scenario('f-clock', { SIGFLOW_RETENTION_MS: String(RETENTION) });
      await scenario.setUp();
      const speed = await scenario.speed();
      const collector = await scenario.collector();
      await Promise.all([speed.start(), collector.start()]);
      await Promise.all([speed.ready(), collector.ready()]);

      const now = Date.now();
      const cases = [
        { skew: 6 * MIN, expect: 'future' },
        { skew: 4 * MIN, expect: 'accepted' },
        { skew: 0, expect: 'accepted' },
        { skew: -(RETENTION - MIN), expect: 'accepted' },
        { skew: -(RETENTION + MIN), expect: 'expired' },
        { skew: -30 * 86_400_000, expect: 'expired' },
      ] as const;
      const events = cases.map((c, i) => ({
        event_id: `skew-${scenario!.id}-${i}`,
        type: 'page_view',
        user_id: `skew-user-${scenario!.id}-${i}`,
        ts: now + c.skew,
        page_id: 'p-skew',
      }));
      const res = await fetch(`http://127.0.0.1:${collector.metricsPort}/v1/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(events),
      });
      const answer = (await res.json()) as { accepted: number; rejected: { index: number; code: string; reason: string }[] };
      const verdicts = cases.map((_, i) => answer.rejected.find((r) => r.index === i)?.code ?? 'accepted');
      const accepted = events.filter((_, i) => cases[i]!.expect === 'accepted');

      // The accepted events reach the speed layer (user signals, counters); the rejected never do.
      const counters = await waitUntil('the speed layer to count the accepted events', () => scenario!.speedCounters(), (c) => (c['events'] ?? 0) >= accepted.length, 30_000);
      const inViews = new Map<string, number>();
      for (const e of events) {
        const signals = await scenario.redis.lrange(scenario.signalsKey(e.user_id), 0, -1);
        inViews.set(e.event_id, signals.filter((s) => (JSON.parse(s) as { event_id: string }).event_id === e.event_id).length);
      }
      const lost = accepted.filter((e) => inViews.get(e.event_id) !== 1).length;
      const doubleCounted = events.reduce((n, e, i) => n + Math.max(0, (inViews.get(e.event_id) ?? 0) - (cases[i]!.expect === 'accepted' ? 1 : 0)), 0);
      Object.assign(row, { eventsSent: events.length, eventsInViews: Number(counters['events'] ?? 0), lost, doubleCounted });
      row.details = { retentionMs: RETENTION, status: res.status, verdicts: cases.map((c, i) => `${c.skew / MIN} min: ${verdicts[i]}`), reasons: answer.rejected.map((r) => r.reason) };
      expect(res.status).toBe(202);
      expect(verdicts).toEqual(cases.map((c) => c.expect));
      expect(answer.accepted).toBe(accepted.length);
      expect(Number(counters['events'])).toBe(accepted.length);
      expect(lost).toBe(0);
      expect(doubleCounted).toBe(0);
    }));
});
