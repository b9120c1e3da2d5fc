import { describe, expect, it } from 'vitest';
import { field } from '@sigflow/store';
import { hoursOf, type WindowedHashes } from '@sigflow/store/views';
import { attributionRowsOf, bucketSource, heatmapOf, hourLayers, mergedCells, metricsRows, windowSource } from '../src/index.js';
import { H0, HOUR, MIN, metricsHash } from './helpers.js';

describe('merge rule (pure)', () => {
  it('a window is batch exactly when its end is at or before the watermark', () => {
    const W = H0 + 30 * MIN;
    expect(windowSource(H0 + 29 * MIN, MIN, W)).toBe('batch'); // ends at W
    expect(windowSource(H0 + 30 * MIN, MIN, W)).toBe('speed'); // ends after W
    expect(windowSource(H0, MIN, null)).toBe('speed'); // no batch run yet
  });

  it("an hour's reads: the layers of its first and last windows, for 1-minute and 7-minute windows", () => {
    const minutes = hourLayers(MIN);
    expect(minutes(H0, null)).toEqual({ speed: true, batch: false });
    expect(minutes(H0, H0 + 30 * MIN)).toEqual({ speed: true, batch: true });
    expect(minutes(H0, H0 + HOUR)).toEqual({ speed: false, batch: true });
    expect(minutes(H0, H0 + MIN - 1)).toEqual({ speed: true, batch: false });
    // 7-minute windows from the epoch: H0's last window starts in it and ends in the next hour.
    const sevens = hourLayers(7 * MIN);
    const lastStart = Math.floor((H0 + HOUR - 1) / (7 * MIN)) * 7 * MIN;
    expect(sevens(H0, lastStart + 7 * MIN)).toEqual({ speed: false, batch: true });
    expect(sevens(H0, lastStart + 7 * MIN - 1)).toEqual({ speed: true, batch: true });
  });

  it('bucket sources: all batch, all speed, mixed; the range clips the bucket', () => {
    const W = H0 + 30 * MIN;
    const range = { from: H0 - HOUR, to: H0 + 2 * HOUR };
    expect(bucketSource({ start: H0 - HOUR, end: H0 }, range, MIN, W)).toBe('batch');
    expect(bucketSource({ start: H0, end: H0 + HOUR }, range, MIN, W)).toBe('mixed');
    expect(bucketSource({ start: H0 + HOUR, end: H0 + 2 * HOUR }, range, MIN, W)).toBe('speed');
    // The same hour bucket, but the range stops at the watermark: only batch windows.
    expect(bucketSource({ start: H0, end: H0 + HOUR }, { from: H0, to: W }, MIN, W)).toBe('batch');
  });

  it('hoursOf lists the hour buckets of the windows starting in [from, to)', () => {
    expect(hoursOf({ from: H0 + 5 * MIN, to: H0 + HOUR })).toEqual([H0]);
    expect(hoursOf({ from: H0 + 5 * MIN, to: H0 + HOUR + 1 })).toEqual([H0, H0 + HOUR]);
    expect(hoursOf({ from: H0, to: H0 })).toEqual([]);
  });

  it('takes each window from one layer only, at the watermark boundary', () => {
    const W = H0 + HOUR + 30 * MIN;
    const view: WindowedHashes = {
      watermark: W,
      hours: [
        // H0 is below the watermark but has no batch version: no rows.
        { hourStart: H0, speed: metricsHash(H0, 10, 1), batch: null, batchVersion: null },
        { hourStart: H0 + HOUR, speed: metricsHash(H0 + HOUR, 10, 1), batch: metricsHash(H0 + HOUR, 12, 2), batchVersion: 'v1' },
      ],
    };
    const range = { from: H0 + 58 * MIN, to: H0 + HOUR + 32 * MIN };
    const rows = metricsRows(view, { range, granularity: 'minute', windowMs: MIN, watermark: W });
    expect(rows).toHaveLength(32);
    expect(rows[0]).toMatchObject({ start: H0 + HOUR, impressions: 12, clicks: 2, ctr: 2 / 12, source: 'batch' });
    expect(rows[29]).toMatchObject({ start: H0 + HOUR + 29 * MIN, impressions: 12, source: 'batch' });
    expect(rows[30]).toMatchObject({ start: H0 + HOUR + 30 * MIN, impressions: 10, clicks: 1, source: 'speed' });

    const full = { from: H0, to: H0 + 2 * HOUR };
    const hourly = metricsRows(view, { range: full, granularity: 'hour', windowMs: MIN, watermark: W });
    expect(hourly).toEqual([
      { start: H0 + HOUR, end: H0 + 2 * HOUR, impressions: 30 * 12 + 30 * 10, clicks: 30 * 2 + 30, ctr: 90 / 660, invalidImpressions: 0, invalidClicks: 0, source: 'mixed' },
    ]);
  });

  it('attribution groups by channel or campaign and sums conversions and revenue', () => {
    const hash = {
      [field(H0, 'c1', 'search', 'c')]: '0.5',
      [field(H0, 'c1', 'search', 'r')]: '10',
      [field(H0 + MIN, 'c2', 'search', 'c')]: '1',
      [field(H0 + MIN, 'c2', 'social', 'c')]: '0.25',
      [field(H0 + MIN, 'none', 'direct', 'c')]: '1',
    };
    const view: WindowedHashes = { watermark: null, hours: [{ hourStart: H0, speed: hash, batch: null, batchVersion: null }] };
    const range = { from: H0, to: H0 + HOUR };
    const cells = mergedCells(view, range, MIN);
    const byChannel = attributionRowsOf(cells, { range, granularity: 'total', windowMs: MIN, watermark: null, groupBy: 'channel' });
    expect(byChannel.map((r) => [r.key, r.conversions, r.revenue, r.source])).toEqual([
      ['direct', 1, 0, 'speed'],
      ['search', 1.5, 10, 'speed'],
      ['social', 0.25, 0, 'speed'],
    ]);
    const byCampaign = attributionRowsOf(cells, { range, granularity: 'minute', windowMs: MIN, watermark: null, groupBy: 'campaign' });
    expect(byCampaign.map((r) => [r.start, r.key, r.conversions])).toEqual([
      [H0, 'c1', 0.5],
      [H0 + MIN, 'c2', 1.25],
      [H0 + MIN, 'none', 1],
    ]);
  });

  it('heatmap shares and ranks come from core (ties by element id)', () => {
    const hash = { [field(H0, 'b')]: '2', [field(H0 + MIN, 'a')]: '2', [field(H0, 'c')]: '4' };
    const view: WindowedHashes = { watermark: null, hours: [{ hourStart: H0, speed: hash, batch: null, batchVersion: null }] };
    expect(heatmapOf(mergedCells(view, { from: H0, to: H0 + HOUR }, MIN))).toEqual([
      { elementId: 'c', clicks: 4, share: 0.5, rank: 1 },
      { elementId: 'a', clicks: 2, share: 0.25, rank: 2 },
      { elementId: 'b', clicks: 2, share: 0.25, rank: 3 },
    ]);
  });
});
