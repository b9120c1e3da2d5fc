import { describe, expect, it } from 'vitest';
import { field } from '@sigflow/store';
import type { WindowedHashes } from '@sigflow/store/views';
import { revenueCellsOf, spendCellsOf, spendRows } from '../src/index.js';
import { H0, HOUR, MIN } from './helpers.js';

describe('spend under the merge rule (pure)', () => {
  it('sums the speed partitions of a campaign-hour into one cell per window and channel', () => {
    const p0 = { [field(H0, 'search', 'spend')]: '1000', [field(H0, 'search', 'clicks')]: '2', [field(H0 + MIN, 'video', 'invalid_spend')]: '7' };
    const p1 = [field(H0, 'search', 'spend'), '500', field(H0, 'search', 'invalid_spend'), '30', 'junk', '1'];
    expect(spendCellsOf([p0, p1]).sort((a, b) => a.windowStart - b.windowStart)).toEqual([
      { windowStart: H0, channel: 'search', spend: 1_500, invalidSpend: 30, clicks: 2 },
      { windowStart: H0 + MIN, channel: 'video', spend: 0, invalidSpend: 7, clicks: 0 },
    ]);
  });

  it('takes the revenue of each campaign from attribution hashes, conversions left out', () => {
    const p0 = { [field(H0, 'c1', 'search', 'r')]: '12.5', [field(H0, 'c1', 'search', 'c')]: '0.5', [field(H0, 'c2', 'video', 'r')]: '4' };
    const p1 = { [field(H0, 'c1', 'search', 'r')]: '7.5' };
    const cells = revenueCellsOf([p0, p1]);
    expect(cells.get('c1')).toEqual([{ windowStart: H0, channel: 'search', revenue: 20 }]);
    expect(cells.get('c2')).toEqual([{ windowStart: H0, channel: 'video', revenue: 4 }]);
  });

  it('answers spend per bucket and channel, each window from the layer that serves it', () => {
    const W = H0 + 30 * MIN;
    const hash = (spend: number) => {
      const h: Record<string, string> = {};
      for (let m = 0; m < 60; m++) {
        h[field(H0 + m * MIN, 'search', 'spend')] = String(spend);
        h[field(H0 + m * MIN, 'display', 'clicks')] = '1';
      }
      return h;
    };
    const view: WindowedHashes = { watermark: W, hours: [{ hourStart: H0, speed: hash(10), batch: hash(20), batchVersion: 'v1' }] };
    const rows = spendRows(view, { range: { from: H0, to: H0 + HOUR }, granularity: 'hour', windowMs: MIN, watermark: W });
    // 30 batch windows of 20 and 30 speed windows of 10.
    expect(rows).toEqual([
      { start: H0, end: H0 + HOUR, channel: 'display', spendMicros: 0, invalidSpendMicros: 0, clicks: 60, source: 'mixed' },
      { start: H0, end: H0 + HOUR, channel: 'search', spendMicros: 900, invalidSpendMicros: 0, clicks: 0, source: 'mixed' },
    ]);
    const minutes = spendRows(view, { range: { from: H0 + 29 * MIN, to: H0 + 31 * MIN }, granularity: 'minute', windowMs: MIN, watermark: W });
    expect(minutes.filter((r) => r.channel === 'search').map((r) => [r.spendMicros, r.source])).toEqual([
      [20, 'batch'],
      [10, 'speed'],
    ]);
  });
});
