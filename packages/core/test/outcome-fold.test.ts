import type { ReceivedEvent } from '@sigflow/events';
import { describe, expect, it } from 'vitest';
import { foldOutcomes, invalidTrafficOf, invalidTrafficSums, orderViewRows, ViewRowTotals, type AttributionDelta, type AttributionModel, type Credit, type EventOutcome } from '../src/index.js';
import { foldAttribution } from '../src/views/attribution-deltas.js';
import { foldChannelSpend } from '../src/views/channel-spend.js';
import { foldEventCounts } from '../src/views/event-counts.js';
import { foldHeatmap } from '../src/views/heatmap-deltas.js';
import { foldPageActivity } from '../src/views/page-activity-deltas.js';
import { sumRows } from '../src/views/sum-by-key.js';
import { foldWindowMetrics } from '../src/views/window-metrics.js';
import { CHROME_UA, GOOGLEBOT_UA, MINUTE, SECOND, T0, click, conversion, elementClick, impression, pageView, runSpeed, seededRandom } from './helpers.js';

const track = (id: string, user: string, ts: number, name: string): ReceivedEvent =>
  ({ event_id: id, type: 'track', user_id: user, ts, name, properties: { q: 'tent' }, user_agent: CHROME_UA, received_at: ts }) as ReceivedEvent;

/** Several users' mixed traffic: touchpoints on three channels, bots, conversions, pages, custom events, copies, late arrivals. */
function traffic(seed: number, n: number): ReceivedEvent[] {
  const random = seededRandom(seed);
  const events: ReceivedEvent[] = [];
  let ts = T0;
  for (let i = 0; i < n; i++) {
    ts += Math.floor(random() * 20 * SECOND);
    const user = `u${Math.floor(random() * 12)}`;
    const ua = random() < 0.05 ? GOOGLEBOT_UA : CHROME_UA;
    const channel = ['search', 'social', 'video'][Math.floor(random() * 3)] as string;
    const at = random() < 0.05 ? ts - 30 * MINUTE : ts;
    const id = `e${i}`;
    const kind = random();
    if (kind < 0.3) events.push(impression({ id, user, ts: at, ad: channel === 'video' ? 'a2' : 'a1', ua, channel, cost: 1_000 }));
    else if (kind < 0.55) events.push(click({ id, user, ts: at, ua, channel, cost: 20_000 }));
    else if (kind < 0.65) events.push(conversion({ id, user, ts: at, value: Math.floor(random() * 100), ua }));
    else if (kind < 0.75) events.push(pageView({ id, user, ts: at, page: 'home', ua }));
    else if (kind < 0.85) events.push(elementClick({ id, user, ts: at, page: 'home', element: random() < 0.5 ? 'buy' : 'cart', ua }));
    else events.push(track(id, user, at, random() < 0.5 ? 'search' : 'wishlisted'));
    if (random() < 0.05) events.push(events.at(-1) as ReceivedEvent);
  }
  return events;
}

const present = <T>(rows: (T | null)[]): T[] => rows.filter((r): r is T => r !== null);

/** One attribution row per credit, built here without core's accumulator. */
function creditRows(outcomes: readonly EventOutcome[]): AttributionDelta[] {
  return outcomes.flatMap((o) =>
    Object.entries(o.attribution?.credits ?? {}).flatMap(([model, credits]) =>
      (credits as readonly Credit[]).map((c) => ({ windowStart: o.windowStart, model: model as AttributionModel, campaign_id: c.campaign_id, channel: c.channel, conversions: c.fraction, revenue: c.revenue })),
    ),
  );
}

describe('folding outcomes as they come (OutcomeFold, ViewRowTotals)', () => {
  const { outcomes } = runSpeed(traffic(7, 900));

  it('gives what each view\'s own fold gives over all the rows at once, and the counts', () => {
    const folded = foldOutcomes(outcomes);
    expect(folded).toEqual({
      windowMetrics: foldWindowMetrics(present(outcomes.map((o) => o.windowMetric))),
      spend: foldChannelSpend(present(outcomes.map((o) => o.spend))),
      attribution: foldAttribution(creditRows(outcomes)),
      heatmap: foldHeatmap(present(outcomes.map((o) => o.heatmap))),
      pageActivity: foldPageActivity(present(outcomes.map((o) => o.pageActivity))),
      invalidTraffic: sumRows(invalidTrafficSums, present(outcomes.map(invalidTrafficOf))),
      eventCounts: foldEventCounts(present(outcomes.map((o) => o.eventCount))),
      counts: {
        events: outcomes.filter((o) => o.status !== 'duplicate').length,
        duplicates: outcomes.filter((o) => o.status === 'duplicate').length,
        late: outcomes.filter((o) => o.late).length,
        invalid: outcomes.filter((o) => o.status === 'invalid').length,
      },
    });
    // The traffic reaches every view and count, so none of the comparisons above is of empty lists.
    for (const rows of Object.values(folded)) expect(Array.isArray(rows) ? rows.length : 1).toBeGreaterThan(0);
    expect(Object.values(folded.counts).every((n) => n > 0)).toBe(true);
  });

  it('merges another accumulator\'s totals into the same rows (the batch layer\'s rule threads)', () => {
    const [first, second] = [new ViewRowTotals(), new ViewRowTotals()];
    outcomes.forEach((o, i) => (i % 3 === 0 ? first : second).add(o));
    first.merge(second.values());
    const { counts: _, ...rows } = foldOutcomes(outcomes);
    const merged = orderViewRows(first.values());
    // Attribution credits are fractions: the merge adds them in another order.
    expect({ ...merged, attribution: [] }).toEqual({ ...rows, attribution: [] });
    expect(merged.attribution.map(({ conversions, revenue, ...key }) => ({ ...key, conversions: conversions.toFixed(9), revenue: revenue.toFixed(6) }))).toEqual(
      rows.attribution.map(({ conversions, revenue, ...key }) => ({ ...key, conversions: conversions.toFixed(9), revenue: revenue.toFixed(6) })),
    );
  });
});
