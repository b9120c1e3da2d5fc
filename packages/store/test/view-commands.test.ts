import { describe, expect, it } from 'vitest';
import type { ViewDeltas } from '@sigflow/core';
import { windowViewCommands, windowViewHashes, type WindowViewKeyspace } from '../src/views/index.js';

const H = Date.UTC(2026, 10, 20, 10);
const M = 60_000;
const space: WindowViewKeyspace = {
  metrics: (c, h) => `m:${c}:${h}`,
  campaignMetrics: (c, h) => `cm:${c}:${h}`,
  spend: (c, h) => `s:${c}:${h}`,
  attribution: (model, h) => `a:${model}:${h}`,
  heatmap: (p, h) => `h:${p}:${h}`,
  pageActivity: (p, h) => `p:${p}:${h}`,
  eventCounts: (h) => `e:${h}`,
};
const metrics = (windowStart: number, ad_id: string, impressions: number, clicks: number) =>
  ({ windowStart, campaign_id: 'c1', ad_id, impressions, clicks, invalidImpressions: 0, invalidClicks: 0 }) as const;

// Folded deltas of two hours (one row per fold key), written by hand.
const deltas: ViewDeltas = {
  windowMetrics: [metrics(H, 'a1', 3, 1), metrics(H, 'a2', 2, 0), metrics(H + 60 * M, 'a1', 1, 0)],
  spend: [{ windowStart: H + M, campaign_id: 'c1', channel: 'search', spend: 0, invalidSpend: 7, clicks: 2 }],
  attribution: [
    { windowStart: H, model: 'linear', campaign_id: 'c1', channel: 'search', conversions: 0.5, revenue: 0 },
    { windowStart: H + M, model: 'linear', campaign_id: 'c1', channel: 'email', conversions: 0.25, revenue: 2.5 },
  ],
  heatmap: [{ page_id: 'p1', windowStart: H, element_id: 'buy', clicks: 4 }],
  pageActivity: [
    { page_id: 'p1', windowStart: H, metric: ['scroll', 50], count: 2 },
    { page_id: 'p1', windowStart: H, metric: ['mouse', 3, 4], count: 1 },
  ],
  invalidTraffic: [],
  eventCounts: [],
  counts: { events: 0, duplicates: 0, late: 0, invalid: 0 },
};

describe('windowViewHashes', () => {
  it('groups each hash’s fields, rolls metrics up per campaign, leaves zero counts out', () => {
    const H2 = H + 60 * M;
    expect(windowViewHashes(space, deltas)).toEqual([
      { key: `m:c1:${H}`, float: false, fields: [`${H}\ta1\timpressions`, 3, `${H}\ta1\tclicks`, 1, `${H}\ta2\timpressions`, 2] },
      { key: `m:c1:${H2}`, float: false, fields: [`${H2}\ta1\timpressions`, 1] },
      { key: `cm:c1:${H}`, float: false, fields: [`${H}\timpressions`, 5, `${H}\tclicks`, 1] },
      { key: `cm:c1:${H2}`, float: false, fields: [`${H2}\timpressions`, 1] },
      { key: `s:c1:${H}`, float: false, fields: [`${H + M}\tsearch\tinvalid_spend`, 7, `${H + M}\tsearch\tclicks`, 2] },
      {
        key: `a:linear:${H}`,
        float: true,
        fields: [`${H}\tc1\tsearch\tc`, 0.5, `${H + M}\tc1\temail\tc`, 0.25, `${H + M}\tc1\temail\tr`, 2.5],
      },
      { key: `h:p1:${H}`, float: false, fields: [`${H}\tbuy`, 4] },
      { key: `p:p1:${H}`, float: false, fields: [`${H}\tscroll\t50`, 2, `${H}\tmouse\t3\t4`, 1] },
    ]);
  });

  it('windowViewCommands: one increment per field, then each key’s expiry unless the writer says null', () => {
    const commands = windowViewCommands(space, deltas, (key) => (key.startsWith('a:') ? null : 60));
    const increments = commands.filter((c) => c[0] !== 'EXPIRE');
    // 3 + 1 + 2 + 1 + 2 + 3 + 1 + 2 fields of the hashes above.
    expect(increments).toHaveLength(15);
    expect(increments.filter((c) => c[0] === 'HINCRBYFLOAT')).toEqual([
      ['HINCRBYFLOAT', `a:linear:${H}`, `${H}\tc1\tsearch\tc`, 0.5],
      ['HINCRBYFLOAT', `a:linear:${H}`, `${H + M}\tc1\temail\tc`, 0.25],
      ['HINCRBYFLOAT', `a:linear:${H}`, `${H + M}\tc1\temail\tr`, 2.5],
    ]);
    expect(commands.filter((c) => c[0] === 'EXPIRE').map((c) => c[1])).toEqual([
      `m:c1:${H}`,
      `m:c1:${H + 60 * M}`,
      `cm:c1:${H}`,
      `cm:c1:${H + 60 * M}`,
      `s:c1:${H}`,
      `h:p1:${H}`,
      `p:p1:${H}`,
    ]);
  });
});
