import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { eventTypes } from '@sigflow/events';
import { generateEvents } from '../src/generate-events.js';
import type { GeneratedEvent } from '../src/generated-event.js';
import { TruthRecorder, type TruthFile } from '../src/truth.js';
import { HOUR, allKnobs, byTsThenId, groupBy, rules, start } from './helpers.js';

type Any = GeneratedEvent['event'] & Record<string, unknown>;

describe('truth', () => {
  const stream = generateEvents({ seed: 41, events: 80_000, start, rules, partitions: 4, span: 10 * 24 * HOUR, ...allKnobs });
  const truth = new TruthRecorder(stream);
  const events: GeneratedEvent[] = [];
  for (const ev of stream) {
    truth.record(ev);
    events.push(ev);
  }
  const file: TruthFile = truth.toJSON();
  const originals = events.filter((e) => !e.duplicate);

  it('totals equal a recount of the labelled stream', () => {
    const t = file.totals;
    expect(t.sent).toBe(events.length);
    expect(t.duplicates).toBe(events.length - originals.length);
    expect(t.unique).toBe(originals.length);
    for (const type of eventTypes) {
      expect(t.by_type[type]).toBe(events.filter((e) => e.event.type === type).length);
      expect(t.unique_by_type[type]).toBe(originals.filter((e) => e.event.type === type).length);
    }
    expect(t.by_partition).toEqual([0, 1, 2, 3].map((p) => events.filter((e) => e.partition === p).length));
    expect(t.valid).toBe(originals.filter((e) => e.validity === 'valid').length);
    for (const reason of ['bot', 'flood', 'orphan', 'too_fast'] as const) {
      expect(t.invalid[reason]).toBe(originals.filter((e) => e.validity === reason).length);
      expect(t.invalid[reason]).toBeGreaterThan(0);
    }
    expect(t.late).toBe(originals.filter((e) => e.late).length);
    expect(t.out_of_order).toBe(originals.filter((e) => e.outOfOrder).length);
    const conversions = originals.filter((e) => e.event.type === 'conversion' && e.validity === 'valid');
    expect(t.conversions).toBe(conversions.length);
    expect(t.revenue).toBeCloseTo(conversions.reduce((s, e) => s + ((e.event as Any)['value'] as number), 0), 2);
  });

  it('windows equal a recount per (window, campaign, ad)', () => {
    const recount = new Map<string, number[]>();
    for (const ev of originals) {
      const e = ev.event as Any;
      if (e.type !== 'impression' && e.type !== 'click') continue;
      const key = `${e.ts - (e.ts % rules.windowMs)}|${e['campaign_id']}|${e['ad_id']}`;
      const c = recount.get(key) ?? [0, 0, 0, 0, 0, 0, 0, 0];
      const slot = (ev.validity === 'valid' ? 0 : 2) + (e.type === 'click' ? 1 : 0);
      c[slot]!++;
      if (ev.late) c[slot + 4]!++;
      recount.set(key, c);
    }
    expect(file.windows).toHaveLength(recount.size);
    for (const w of file.windows) {
      expect(w.window_start % rules.windowMs).toBe(0);
      expect([
        w.impressions,
        w.clicks,
        w.invalid_impressions,
        w.invalid_clicks,
        w.late_impressions,
        w.late_clicks,
        w.late_invalid_impressions,
        w.late_invalid_clicks,
      ]).toEqual(recount.get(`${w.window_start}|${w.campaign_id}|${w.ad_id}`));
    }
    const sum = (k: 'clicks' | 'late_clicks' | 'late_impressions') => file.windows.reduce((s, w) => s + w[k], 0);
    expect(sum('clicks')).toBe(originals.filter((e) => e.event.type === 'click' && e.validity === 'valid').length);
    expect(sum('late_impressions')).toBeGreaterThan(0);
  });

  it('spend per window is the sum of the cost of its touchpoints, valid and invalid apart, late ones also apart', () => {
    // Recounted from each event's own cost field and label.
    const recount = new Map<string, number[]>();
    let valid = 0;
    let invalid = 0;
    for (const ev of originals) {
      const e = ev.event as Any;
      if (e.type !== 'impression' && e.type !== 'click') continue;
      const cost = (e['cost'] as number | undefined) ?? 0;
      const key = `${e.ts - (e.ts % rules.windowMs)}|${e['ad_id']}`;
      const m = recount.get(key) ?? [0, 0, 0, 0];
      const slot = ev.validity === 'valid' ? 0 : 1;
      m[slot]! += cost;
      if (ev.late) m[slot + 2]! += cost;
      recount.set(key, m);
      if (ev.validity === 'valid') valid += cost;
      else invalid += cost;
    }
    for (const w of file.windows) {
      expect([w.spend, w.invalid_spend, w.late_spend, w.late_invalid_spend], `${w.window_start} ${w.ad_id}`).toEqual(recount.get(`${w.window_start}|${w.ad_id}`));
    }
    expect(file.totals.spend).toBe(valid);
    expect(file.totals.invalid_spend).toBe(invalid);
    expect(valid).toBeGreaterThan(0);
    expect(invalid).toBeGreaterThan(0);
    expect(file.windows.some((w) => w.late_spend > 0)).toBe(true);
  });

  it('lists each valid conversion with its path recomputed from the stream', () => {
    const touchpoints = groupBy(
      originals.filter((e) => (e.event.type === 'impression' || e.event.type === 'click') && e.validity === 'valid'),
      (e) => e.event.user_id,
    );
    const conversions = originals.filter((e) => e.event.type === 'conversion' && e.validity === 'valid').sort(byTsThenId);
    expect(file.conversions.map((c) => c.event_id)).toEqual(conversions.map((c) => c.event.event_id));
    let longAgo = 0;
    file.conversions.forEach((c, i) => {
      const ev = conversions[i]!;
      expect(c).toMatchObject({ user_id: ev.event.user_id, ts: ev.event.ts, late: ev.late, currency: 'EUR' });
      expect(c.value).toBeGreaterThan(0);
      const path = (touchpoints.get(c.user_id) ?? [])
        .filter((t) => t.event.ts >= c.ts - rules.attributionLookbackMs && t.event.ts <= c.ts)
        .sort(byTsThenId);
      expect(c.path.map((p) => p.event_id)).toEqual(path.map((p) => p.event.event_id));
      c.path.forEach((p, j) => {
        const tp = path[j]!;
        const e = tp.event as Any;
        expect(p).toEqual({
          event_id: e.event_id,
          type: e.type,
          ts: e.ts,
          campaign_id: e['campaign_id'],
          ad_id: e['ad_id'],
          channel: e['channel'],
          late: tp.late,
        });
      });
      if ((touchpoints.get(c.user_id) ?? []).some((t) => t.event.ts < c.ts - rules.attributionLookbackMs)) longAgo++;
    });
    expect(file.conversions.length).toBeGreaterThan(50);
    // Over a 10-day span, some conversions come more than 7 days after a touch.
    expect(longAgo).toBeGreaterThan(0);
  });

  it('counts valid element clicks per page, window and element', () => {
    const recount = new Map<string, [number, number]>();
    for (const ev of originals) {
      const e = ev.event as Any;
      if (e.type !== 'element_click' || ev.validity !== 'valid') continue;
      const key = `${e.page_id}|${e.ts - (e.ts % rules.windowMs)}|${e['element_id']}`;
      const c = recount.get(key) ?? [0, 0];
      c[0]++;
      if (ev.late) c[1]++;
      recount.set(key, c);
    }
    expect(file.heatmap).toHaveLength(recount.size);
    for (const h of file.heatmap) expect([h.clicks, h.late_clicks]).toEqual(recount.get(`${h.page_id}|${h.window_start}|${h.element_id}`));
  });

  it('writes the same truth to a file, as JSON', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'loadgen-truth-'));
    try {
      const path = join(dir, 'truth.json');
      await truth.writeFile(path);
      const written = JSON.parse(await readFile(path, 'utf8')) as TruthFile;
      expect(written).toEqual(JSON.parse(JSON.stringify(file)));
      expect(written.format).toBe('sigflow-truth/1');
      expect(written.params).toMatchObject({ seed: 41, events: 80_000, start, partitions: 4 });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('truth of IP floods', () => {
  const { options, catalogue } = generateEvents({ seed: 5, events: 1, start, rules, partitions: 4 });
  const ad = catalogue.ads[0]!;
  /** A click as the generator would hand it over, labelled `label` whatever the rules say. */
  const click = (n: number, ts: number, ip: string, label: 'valid' | 'orphan'): GeneratedEvent => {
    const event = { event_id: `x-${n}`, type: 'click', user_id: `nat-user-${n}`, ts, ip, campaign_id: ad.campaignId, ad_id: ad.adId, channel: ad.channel } as GeneratedEvent['event'];
    return { event, json: JSON.stringify(event), key: event.user_id, partition: n % 4, seq: n, emitAt: ts, duplicate: false, validity: label, validityWithoutFlood: label, late: false, outOfOrder: false, path: [] };
  };

  it('judges floods itself, over all partitions, and keeps the other reasons from the generator', () => {
    const truth = new TruthRecorder({ options, catalogue });
    const minute = start - (start % rules.windowMs);
    // 12 users behind one IP (partitions 0-3), one click each 3 s apart, all labelled valid:
    // the 11th and 12th have ten earlier clicks of the IP within 60 s.
    for (let n = 0; n < 12; n++) truth.record(click(n, minute + n * 3_000, '198.18.7.7', 'valid'));
    // 11 orphan clicks on another IP, recorded out of ts order: the one at the latest ts is a flood.
    for (let n = 0; n < 11; n++) truth.record(click(100 + n, minute + 50_000 - n * 1_000, '100.64.1.1', 'orphan'));
    const t = truth.totals();
    expect(t.valid).toBe(10);
    expect(t.invalid).toEqual({ bot: 0, flood: 2 + 1, orphan: 10, too_fast: 0 });
    // Three clicks a partition at most: each flood needs the other partitions' clicks.
    expect(t.cross_partition_floods).toEqual({ total: 3, valid: 2, orphan: 1, too_fast: 0 });
    expect(truth.clickVerdicts().get('x-10')).toBe('flood');
    expect(truth.clickVerdicts().get('x-100')).toBe('flood');
    expect(truth.clickVerdicts().get('x-101')).toBe('orphan');
    expect(truth.toJSON().windows).toEqual([
      expect.objectContaining({ window_start: minute, ad_id: ad.adId, clicks: 10, invalid_clicks: 13, impressions: 0 }),
    ]);
  });
});
