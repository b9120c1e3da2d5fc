import { describe, expect, it } from 'vitest';
import { field } from '@sigflow/store';
import type { LayerHashes } from '@sigflow/store/views';
import { compareCampaigns, compareValues, layersDiffer, reconciliationRows } from '../src/index.js';
import { H0, HOUR, MIN, metricsHash } from './helpers.js';

describe('reconciliation', () => {
  describe('when the layers differ, the sign is diff = speed - batch', () => {
    // Hand-made hour of campaign c1 (window 10:05, ad a1): the speed layer left one impression
    // out as late and missed an invalid click and a conversion; the batch layer counted them.
    const w = H0 + 5 * MIN;
    const hour: LayerHashes = {
      speedMetrics: new Map([['c1', { [field(w, 'a1', 'impressions')]: '2', [field(w, 'a1', 'clicks')]: '2' }]]),
      batchMetrics: new Map([['c1', { [field(w, 'a1', 'impressions')]: '3', [field(w, 'a1', 'clicks')]: '2', [field(w, 'a1', 'invalid_clicks')]: '1' }]]),
      speedQuality: { [field('c1', 'late_impression')]: '1' },
      // The flooded click's signal and the late impression's, rewritten by the batch layer.
      batchQuality: { [field('c1', 'invalid:flood')]: '1', [field('c1', 'signals_corrected:verdict')]: '1', [field('c1', 'signals_corrected:late')]: '1' },
      speedAttribution: { [field(w, 'c1', 'search', 'c')]: '1', [field(w, 'c1', 'search', 'r')]: '10' },
      batchAttribution: { [field(w, 'c1', 'search', 'c')]: '2', [field(w, 'c1', 'search', 'r')]: '15' },
    };

    it('speed below batch is negative: 2 - 3 impressions = -1, relDiff -1/3', () => {
      const c1 = compareCampaigns(hour, true).get('c1');
      expect(c1).toEqual({
        impressions: { speed: 2, batch: 3, diff: -1, relDiff: -1 / 3 },
        clicks: { speed: 2, batch: 2, diff: 0, relDiff: 0 },
        invalidImpressions: { speed: 0, batch: 0, diff: 0, relDiff: null },
        invalidClicks: { speed: 0, batch: 1, diff: -1, relDiff: -1 },
        conversions: { speed: 1, batch: 2, diff: -1, relDiff: -0.5 },
        revenue: { speed: 10, batch: 15, diff: -5, relDiff: -1 / 3 },
        causes: {
          late: { impression: 1 },
          duplicates: { speed: 0, batch: 0 },
          invalid: { speed: {}, batch: { flood: 1 } },
          signalsCorrected: { verdict: 1, late: 1 },
          other: {},
          named: [
            { cause: 'late_events', speed: 1, batch: 0 },
            { cause: 'ip_flood_arrival_order', speed: 0, batch: 1 },
            { cause: 'signals_corrected', reason: 'late', speed: 1, batch: 0 },
            { cause: 'signals_corrected', reason: 'verdict', speed: 1, batch: 0 },
          ],
        },
      });
      expect(layersDiffer(c1!)).toBe(true);
    });

    it('speed above batch is positive: 5 - 3 = 2, relDiff 2/3; no batch version: nulls', () => {
      expect(compareValues(5, 3)).toEqual({ speed: 5, batch: 3, diff: 2, relDiff: 2 / 3 });
      expect(compareValues(4, 0)).toEqual({ speed: 4, batch: 0, diff: 4, relDiff: null });
      expect(compareValues(4, null)).toEqual({ speed: 4, batch: null, diff: null, relDiff: null });
      const unversioned = compareCampaigns({ ...hour, batchMetrics: new Map(), batchQuality: null, batchAttribution: null }, false).get('c1');
      expect(unversioned?.impressions).toEqual({ speed: 2, batch: null, diff: null, relDiff: null });
      expect(unversioned?.causes.duplicates).toEqual({ speed: 0, batch: null });
      expect(unversioned?.causes.named).toEqual([]);
    });

    it('float sums that are equal in either order compare equal (no 1e-17 differences)', () => {
      const credits = (values: string[]) => Object.fromEntries(values.map((v, i) => [field(w + i * MIN, 'c1', 'search', 'c'), v]));
      const c1 = compareCampaigns({ ...hour, speedAttribution: credits(['0.1', '0.2', '0.3']), batchAttribution: credits(['0.3', '0.2', '0.1']) }, true).get('c1');
      expect(c1?.conversions).toEqual({ speed: 0.6, batch: 0.6, diff: 0, relDiff: 0 });
    });
  });

  it('names an orphan reclassified by batch apart from IP floods', () => {
    const c1 = compareCampaigns(
      {
        speedMetrics: new Map(),
        batchMetrics: new Map(),
        speedQuality: { [field('c1', 'invalid:orphan')]: '2', [field('c1', 'invalid:flood')]: '3' },
        batchQuality: { [field('c1', 'invalid:orphan')]: '1', [field('c1', 'invalid:flood')]: '3' },
        speedAttribution: null,
        batchAttribution: null,
      },
      true,
    ).get('c1');
    expect(c1?.causes.named).toEqual([{ cause: 'invalid_reclassified', reason: 'orphan', speed: 2, batch: 1 }]);
  });

  it('reconciliation compares per hour and campaign and sorts the causes', () => {
    const rows = reconciliationRows(
      {
        watermark: H0 + HOUR,
        shapleyVersion: 's2',
        hours: [
          {
            hourStart: H0,
            batch: { version: 'v1', computedAt: 5, asOf: 4, rows: 1, duplicates: 0, shapleyVersion: 's1', markovVersion: null, isbotVersion: '5.1.0', computedBy: 'test' },
            speedMetrics: new Map([['c1', metricsHash(H0, 10, 1)]]),
            batchMetrics: new Map([['c1', metricsHash(H0, 12, 1)]]),
            speedQuality: { [field('c1', 'late_impression')]: '3', [field('c1', 'duplicates')]: '1', [field('c1', 'invalid:bot')]: '2' },
            batchQuality: { [field('c1', 'duplicates')]: '4', [field('c1', 'invalid:bot')]: '2' },
            batchChanges: { c1: '{"impressions":120}' },
            speedAttribution: null,
            batchAttribution: null,
          },
        ],
      },
      null,
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      campaignId: 'c1',
      authoritative: true,
      batchVersion: 'v1',
      batchShapleyVersion: 's1',
      batchIsbotVersion: '5.1.0',
      impressions: { speed: 600, batch: 720, diff: -120, relDiff: -120 / 720 },
      clicks: { speed: 60, batch: 60, diff: 0, relDiff: 0 },
      conversions: { speed: 0, batch: 0, diff: 0, relDiff: null },
      causes: {
        late: { impression: 3 },
        duplicates: { speed: 1, batch: 4 },
        invalid: { speed: { bot: 2 }, batch: { bot: 2 } },
        signalsCorrected: {},
        other: {},
        named: [
          { cause: 'late_events', speed: 3, batch: 0 },
          { cause: 'duplicates_beyond_dedupe_horizon', speed: 1, batch: 4 },
        ],
      },
      changes: { impressions: 120 },
    });
  });
});
