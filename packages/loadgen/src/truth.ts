import { open } from 'node:fs/promises';
import { eventTypes, type EventType } from '@sigflow/events';
import { elementNames, type Catalogue } from './catalogue.js';
import type { ResolvedGeneratorOptions, StreamStats } from './generate-events.js';
import { floodFlags, type FloodClick } from './flood-truth.js';
import type { GeneratedEvent, InvalidReason, Validity } from './generated-event.js';

/** Counts over everything sent. */
export interface TruthTotals {
  /** Events sent, duplicates included. */
  sent: number;
  by_type: Record<EventType, number>;
  /** Events sent per partition of the events topic (index = partition). */
  by_partition: number[];
  /** Later copies of an already-sent event_id. */
  duplicates: number;
  /** Non-duplicate events (the first copy of each event_id). */
  unique: number;
  unique_by_type: Record<EventType, number>;
  /** Non-duplicate events that pass every rule. */
  valid: number;
  /** Non-duplicate invalid events per reason. */
  invalid: Record<InvalidReason, number>;
  /** Non-duplicate events that arrive late (whatever their validity). */
  late: number;
  /** Non-duplicate events with a ts older than the newest already sent on their partition. */
  out_of_order: number;
  /**
   * Of the flood clicks, those that are floods only because of clicks of their IP in other
   * partitions (counting each partition apart would not flag them), by what they would be
   * without the flood rule. A layer that shares per-IP state by arrival order (the speed
   * layer) flags between `flood - cross_partition_floods.total` and `flood` clicks; those it
   * does not flag keep their other reason.
   */
  cross_partition_floods: { total: number; valid: number; orphan: number; too_fast: number };
  /** Valid conversions and the sum of their values. */
  conversions: number;
  revenue: number;
  /** Sum of `cost` (micros) of the valid impressions and clicks (non-duplicates). */
  spend: number;
  /** Sum of `cost` (micros) of the invalid ones (refund claims). */
  invalid_spend: number;
}

/** One tumbling window of one ad (non-duplicate events; `late_*` are included in the plain counts). */
export interface WindowTruth {
  window_start: number;
  campaign_id: string;
  ad_id: string;
  channel: string;
  impressions: number;
  clicks: number;
  invalid_impressions: number;
  invalid_clicks: number;
  late_impressions: number;
  late_clicks: number;
  late_invalid_impressions: number;
  late_invalid_clicks: number;
  /** Sum of `cost` (micros) of the valid impressions and clicks; of the invalid ones; of those that arrive late. */
  spend: number;
  invalid_spend: number;
  late_spend: number;
  late_invalid_spend: number;
}

export interface PathTouchpoint {
  event_id: string;
  type: 'impression' | 'click';
  ts: number;
  campaign_id: string;
  ad_id: string;
  channel: string;
  late: boolean;
}

/** One valid conversion and its attribution path. */
export interface ConversionTruth {
  event_id: string;
  user_id: string;
  ts: number;
  value: number;
  currency: string;
  late: boolean;
  /** Valid, non-duplicate impressions and clicks of the user in [ts - lookback, ts], by (ts, event_id). */
  path: PathTouchpoint[];
}

/** Valid, non-duplicate element clicks of one element of one page in one window. */
export interface HeatmapTruth {
  page_id: string;
  window_start: number;
  element_id: string;
  clicks: number;
  late_clicks: number;
}

/** The whole truth file (see the package README). */
export interface TruthFile {
  format: 'sigflow-truth/1';
  params: Record<string, unknown>;
  catalogue: {
    campaigns: { campaign_id: string; channel: string; ads: { ad_id: string; ctr: number; landing_page: string }[] }[];
    pages: { page_id: string; elements: string[]; form_id: string | null }[];
  };
  totals: TruthTotals;
  windows: WindowTruth[];
  conversions: ConversionTruth[];
  heatmap: HeatmapTruth[];
}

/** What the recorder needs to know about the stream (an `EventStream` has it). */
export interface TruthSource {
  readonly options: ResolvedGeneratorOptions;
  readonly catalogue: Catalogue;
  readonly stats?: StreamStats;
}

// Window counter slots.
const IMP = 0;
const CLK = 1;
const INV_IMP = 2;
const INV_CLK = 3;
const LATE_IMP = 4;
const LATE_CLK = 5;
const LATE_INV_IMP = 6;
const LATE_INV_CLK = 7;
// Spend slots (micros; Float64: exact integers up to 2^53).
const SPEND = 0;
const INV_SPEND = 1;
const LATE_SPEND = 2;
const LATE_INV_SPEND = 3;

function zeroByType(): Record<EventType, number> {
  return Object.fromEntries(eventTypes.map((t) => [t, 0])) as Record<EventType, number>;
}

/** A non-duplicate click, kept until the flood rule can be applied over the whole stream. */
interface RecordedClick extends FloodClick {
  readonly partition: number;
  readonly withoutFlood: Validity;
  readonly late: boolean;
  readonly windowKey: number;
  readonly cost: number;
}

/** Totals, windows and click verdicts with the flood rule applied to every click so far. */
interface Settled {
  readonly clicks: number;
  readonly totals: TruthTotals;
  readonly windows: Map<number, Uint32Array>;
  readonly spend: Map<number, Float64Array>;
  readonly clickVerdicts: Map<string, Validity>;
}

type Touch = GeneratedEvent['event'] & { campaign_id: string; ad_id: string; channel: string; cost?: number };

/** Counts a touchpoint (impression or click) in its window's counters. */
function countTouch(windows: Map<number, Uint32Array>, key: number, valid: boolean, click: 0 | 1, late: boolean): void {
  let counts = windows.get(key);
  if (!counts) windows.set(key, (counts = new Uint32Array(8)));
  counts[(valid ? IMP : INV_IMP) + click]!++;
  if (late) counts[(valid ? LATE_IMP : LATE_INV_IMP) + click]!++;
}

/** Adds a touchpoint's cost to its window's spend (valid or invalid, and late apart). */
function countSpend(spend: Map<number, Float64Array>, key: number, valid: boolean, late: boolean, cost: number): void {
  if (cost === 0) return;
  let sums = spend.get(key);
  if (!sums) spend.set(key, (sums = new Float64Array(4)));
  sums[valid ? SPEND : INV_SPEND]! += cost;
  if (late) sums[valid ? LATE_SPEND : LATE_INV_SPEND]! += cost;
}

function countValidity(t: TruthTotals, validity: Validity): void {
  if (validity === 'valid') t.valid++;
  else t.invalid[validity]++;
}

/**
 * Builds the expected results from the labelled stream, in compact aggregates (counters
 * per window and ad, per window, page and element; one row per valid conversion), so a
 * 10-million-event run fits in memory. Feed it every event sent, in order.
 *
 * Clicks are judged here, not taken from the labels: the flood rule is applied over every
 * click of the stream by (ts, event_id), per user and per IP, whatever the partition
 * (`floodFlags`, apart from `packages/core`); the other reasons come from the generator
 * (`validityWithoutFlood`: bot, orphan, too_fast are known by construction).
 */
export class TruthRecorder {
  private readonly totalsData: TruthTotals;
  private readonly windowMs: number;
  private readonly adIndex = new Map<string, number>();
  private readonly pageIndex = new Map<string, number>();
  private readonly elementIndex = new Map<string, number>();
  /** Impressions only; clicks are added when settled. */
  private readonly windows = new Map<number, Uint32Array>();
  /** Impressions' cost only, like `windows`. */
  private readonly spend = new Map<number, Float64Array>();
  private readonly heat = new Map<number, Uint32Array>();
  private readonly conversionRows: ConversionTruth[] = [];
  private readonly clicks: RecordedClick[] = [];
  private settledCache: Settled | undefined;

  constructor(private readonly source: TruthSource) {
    const { options, catalogue } = source;
    this.windowMs = options.rules.windowMs;
    catalogue.ads.forEach((ad) => this.adIndex.set(ad.adId, ad.index));
    catalogue.pages.forEach((page, i) => this.pageIndex.set(page.pageId, i));
    elementNames.forEach((name, i) => this.elementIndex.set(name, i));
    this.totalsData = {
      sent: 0,
      by_type: zeroByType(),
      by_partition: new Array<number>(options.partitions).fill(0),
      duplicates: 0,
      unique: 0,
      unique_by_type: zeroByType(),
      valid: 0,
      invalid: { bot: 0, flood: 0, orphan: 0, too_fast: 0 },
      late: 0,
      out_of_order: 0,
      cross_partition_floods: { total: 0, valid: 0, orphan: 0, too_fast: 0 },
      conversions: 0,
      revenue: 0,
      spend: 0,
      invalid_spend: 0,
    };
  }

  /** Accounts for one sent event. */
  record(ev: GeneratedEvent): void {
    const t = this.totalsData;
    const e = ev.event;
    t.sent++;
    t.by_type[e.type]++;
    t.by_partition[ev.partition] = (t.by_partition[ev.partition] ?? 0) + 1;
    if (ev.duplicate) {
      t.duplicates++;
      return;
    }
    t.unique++;
    t.unique_by_type[e.type]++;
    if (ev.late) t.late++;
    if (ev.outOfOrder) t.out_of_order++;
    if (e.type === 'click') {
      this.clicks.push({
        ts: e.ts,
        eventId: e.event_id,
        userId: e.user_id,
        ip: e.ip,
        partition: ev.partition,
        withoutFlood: ev.validityWithoutFlood,
        late: ev.late,
        windowKey: this.windowKey(e as Touch),
        cost: (e as Touch).cost ?? 0,
      });
      return;
    }
    countValidity(t, ev.validity);
    if (e.type === 'impression') {
      const key = this.windowKey(e as Touch);
      const cost = (e as Touch).cost ?? 0;
      countTouch(this.windows, key, ev.validity === 'valid', 0, ev.late);
      countSpend(this.spend, key, ev.validity === 'valid', ev.late, cost);
      if (ev.validity === 'valid') t.spend += cost;
      else t.invalid_spend += cost;
    }
    else if (ev.validity === 'valid' && e.type === 'element_click') this.recordHeat(ev);
    else if (ev.validity === 'valid' && e.type === 'conversion') this.recordConversion(ev);
  }

  private windowKey(e: Touch): number {
    return Math.floor(e.ts / this.windowMs) * this.adIndex.size + (this.adIndex.get(e.ad_id) ?? 0);
  }

  private recordHeat(ev: GeneratedEvent): void {
    const e = ev.event as GeneratedEvent['event'] & { element_id: string };
    let element = this.elementIndex.get(e.element_id);
    if (element === undefined) this.elementIndex.set(e.element_id, (element = this.elementIndex.size));
    const page = this.pageIndex.get(e.page_id ?? '') ?? 0;
    const key = (Math.floor(e.ts / this.windowMs) * this.pageIndex.size + page) * 4096 + element;
    let counts = this.heat.get(key);
    if (!counts) this.heat.set(key, (counts = new Uint32Array(2)));
    counts[0]!++;
    if (ev.late) counts[1]!++;
  }

  private recordConversion(ev: GeneratedEvent): void {
    const e = ev.event as GeneratedEvent['event'] & { value?: number; currency?: string };
    this.totalsData.conversions++;
    this.totalsData.revenue += e.value ?? 0;
    this.conversionRows.push({
      event_id: e.event_id,
      user_id: e.user_id,
      ts: e.ts,
      value: e.value ?? 0,
      currency: e.currency ?? 'EUR',
      late: ev.late,
      path: ev.path.map((tp) => {
        const te = tp.event as Touch;
        return {
          event_id: te.event_id,
          type: te.type as 'impression' | 'click',
          ts: te.ts,
          campaign_id: te.campaign_id,
          ad_id: te.ad_id,
          channel: te.channel,
          late: tp.late,
        };
      }),
    });
  }

  /** Applies the flood rule to every click recorded so far (again only when clicks came since). */
  private settled(): Settled {
    if (this.settledCache?.clicks === this.clicks.length) return this.settledCache;
    const { floodThreshold, floodWindowMs } = this.source.options.rules;
    const flags = floodFlags(this.clicks, floodThreshold, floodWindowMs);
    const local = this.partitionLocalFloods(floodThreshold, floodWindowMs);
    const t = this.totalsData;
    const totals = { ...t, invalid: { ...t.invalid }, cross_partition_floods: { total: 0, valid: 0, orphan: 0, too_fast: 0 } };
    const windows = new Map([...this.windows].map(([key, counts]) => [key, counts.slice()]));
    const spend = new Map([...this.spend].map(([key, sums]) => [key, sums.slice()]));
    const clickVerdicts = new Map<string, Validity>();
    this.clicks.forEach((click, i) => {
      const validity = click.withoutFlood === 'bot' ? 'bot' : flags[i] ? 'flood' : click.withoutFlood;
      clickVerdicts.set(click.eventId, validity);
      countValidity(totals, validity);
      if (validity === 'flood' && !local.has(click)) {
        totals.cross_partition_floods.total++;
        totals.cross_partition_floods[click.withoutFlood as 'valid' | 'orphan' | 'too_fast']++;
      }
      countTouch(windows, click.windowKey, validity === 'valid', 1, click.late);
      countSpend(spend, click.windowKey, validity === 'valid', click.late, click.cost);
      if (validity === 'valid') totals.spend += click.cost;
      else totals.invalid_spend += click.cost;
    });
    this.settledCache = { clicks: this.clicks.length, totals, windows, spend, clickVerdicts };
    return this.settledCache;
  }

  /** The clicks the flood rule flags when each partition's clicks are counted apart. */
  private partitionLocalFloods(threshold: number, windowMs: number): Set<RecordedClick> {
    const flagged = new Set<RecordedClick>();
    const byPartition = new Map<number, RecordedClick[]>();
    for (const click of this.clicks) {
      let list = byPartition.get(click.partition);
      if (!list) byPartition.set(click.partition, (list = []));
      list.push(click);
    }
    for (const list of byPartition.values()) {
      const flags = floodFlags(list, threshold, windowMs);
      list.forEach((click, i) => {
        if (flags[i]) flagged.add(click);
      });
    }
    return flagged;
  }

  /**
   * The truth's verdict on every non-duplicate click recorded so far, by event id: `bot`,
   * else `flood` as computed over all partitions, else the generator's other reason or valid.
   */
  clickVerdicts(): ReadonlyMap<string, Validity> {
    return this.settled().clickVerdicts;
  }

  /** Totals so far (revenue rounded to cents). */
  totals(): TruthTotals {
    const t = this.settled().totals;
    return {
      ...t,
      by_type: { ...t.by_type },
      by_partition: [...t.by_partition],
      unique_by_type: { ...t.unique_by_type },
      invalid: { ...t.invalid },
      cross_partition_floods: { ...t.cross_partition_floods },
      revenue: Math.round(t.revenue * 100) / 100,
    };
  }

  /** Per (window_start, ad) counts, ordered by window_start, then catalogue order of the ads. */
  windowRows(): WindowTruth[] {
    const ads = this.source.catalogue.ads;
    const n = ads.length;
    const { windows, spend } = this.settled();
    const noSpend = new Float64Array(4);
    return [...windows.keys()]
      .sort((a, b) => a - b)
      .map((key) => {
        const c = windows.get(key) as Uint32Array;
        const m = spend.get(key) ?? noSpend;
        const ad = ads[key - Math.floor(key / n) * n]!;
        return {
          window_start: Math.floor(key / n) * this.windowMs,
          campaign_id: ad.campaignId,
          ad_id: ad.adId,
          channel: ad.channel,
          impressions: c[IMP]!,
          clicks: c[CLK]!,
          invalid_impressions: c[INV_IMP]!,
          invalid_clicks: c[INV_CLK]!,
          late_impressions: c[LATE_IMP]!,
          late_clicks: c[LATE_CLK]!,
          late_invalid_impressions: c[LATE_INV_IMP]!,
          late_invalid_clicks: c[LATE_INV_CLK]!,
          spend: m[SPEND]!,
          invalid_spend: m[INV_SPEND]!,
          late_spend: m[LATE_SPEND]!,
          late_invalid_spend: m[LATE_INV_SPEND]!,
        };
      });
  }

  /** Valid conversions ordered by (ts, event_id); paths leave out the clicks judged floods. */
  conversions(): ConversionTruth[] {
    const verdicts = this.settled().clickVerdicts;
    const valid = (tp: PathTouchpoint) => tp.type !== 'click' || verdicts.get(tp.event_id) === 'valid';
    return this.conversionRows
      .map((row) => (row.path.every(valid) ? row : { ...row, path: row.path.filter(valid) }))
      .sort((a, b) => a.ts - b.ts || (a.event_id < b.event_id ? -1 : a.event_id > b.event_id ? 1 : 0));
  }

  /** Per (page, window, element) valid element clicks, ordered by page, window, element id. */
  heatmapRows(): HeatmapTruth[] {
    const pages = this.source.catalogue.pages;
    const elements = [...this.elementIndex.entries()].sort((a, b) => a[1] - b[1]).map(([name]) => name);
    const rows: HeatmapTruth[] = [];
    for (const [key, c] of this.heat) {
      const element = key % 4096;
      const rest = (key - element) / 4096;
      const page = rest % pages.length;
      const windowIndex = (rest - page) / pages.length;
      rows.push({
        page_id: pages[page]!.pageId,
        window_start: windowIndex * this.windowMs,
        element_id: elements[element]!,
        clicks: c[0]!,
        late_clicks: c[1]!,
      });
    }
    return rows.sort(
      (a, b) =>
        (a.page_id < b.page_id ? -1 : a.page_id > b.page_id ? 1 : 0) ||
        a.window_start - b.window_start ||
        (a.element_id < b.element_id ? -1 : a.element_id > b.element_id ? 1 : 0),
    );
  }

  /** Run parameters as recorded in the truth file. */
  params(): Record<string, unknown> {
    const o = this.source.options;
    return {
      seed: o.seed,
      events: o.events,
      start: o.start,
      span: o.span,
      users: o.users ?? null,
      campaigns: o.campaigns,
      ads_per_campaign: o.adsPerCampaign,
      pages: o.pages,
      partitions: o.partitions,
      knobs: {
        late: o.late,
        out_of_order: o.outOfOrder,
        duplicates: o.duplicates,
        bots: o.bots,
        floods: o.floods,
        nats: o.nats,
        orphans: o.orphans,
        too_fast: o.tooFast,
      },
      botnet_users: o.botnetUsers ?? null,
      ...(o.ctrDrop ? { ctr_drop: { ...o.ctrDrop } } : {}),
      rules: { ...o.rules },
      ...(this.source.stats
        ? {
            stream: {
              journeys: { ...this.source.stats.journeys },
              bumps: this.source.stats.bumps,
              margin_violations: this.source.stats.marginViolations,
            },
          }
        : {}),
    };
  }

  catalogueSummary(): TruthFile['catalogue'] {
    const c = this.source.catalogue;
    return {
      campaigns: c.campaigns.map((cmp) => ({
        campaign_id: cmp.campaignId,
        channel: cmp.channel,
        ads: cmp.ads.map((ad) => ({ ad_id: ad.adId, ctr: ad.ctr, landing_page: ad.landingPage.pageId })),
      })),
      pages: c.pages.map((p) => ({ page_id: p.pageId, elements: [...p.elements], form_id: p.formId ?? null })),
    };
  }

  /** The whole truth as one object (fine for tests; use {@link writeFile} for big runs). */
  toJSON(): TruthFile {
    return {
      format: 'sigflow-truth/1',
      params: this.params(),
      catalogue: this.catalogueSummary(),
      totals: this.totals(),
      windows: this.windowRows(),
      conversions: this.conversions(),
      heatmap: this.heatmapRows(),
    };
  }

  /** Writes the truth file as JSON, one array row per line, without building one big string. */
  async writeFile(path: string): Promise<void> {
    const file = await open(path, 'w');
    try {
      let chunk = '';
      const write = async (text: string) => {
        chunk += text;
        if (chunk.length >= 1 << 20) {
          await file.write(chunk);
          chunk = '';
        }
      };
      await write(`{"format":"sigflow-truth/1",\n"params":${JSON.stringify(this.params())},\n`);
      await write(`"catalogue":${JSON.stringify(this.catalogueSummary())},\n`);
      await write(`"totals":${JSON.stringify(this.totals())}`);
      const arrays: [string, () => unknown[]][] = [
        ['windows', () => this.windowRows()],
        ['conversions', () => this.conversions()],
        ['heatmap', () => this.heatmapRows()],
      ];
      for (const [name, rows] of arrays) {
        await write(`,\n"${name}":[`);
        let first = true;
        for (const row of rows()) {
          await write(`${first ? '\n' : ',\n'}${JSON.stringify(row)}`);
          first = false;
        }
        await write(']');
      }
      await write('}\n');
      await file.write(chunk);
    } finally {
      await file.close();
    }
  }
}
