import { type RedisClient, FIELD_SEPARATOR, windowMetricFields, type StoreKeys, slotSafePipeline } from '@sigflow/store';
import { readBudgets, type StoredBudget } from '@sigflow/store/bidding';
import { forEachField, type HashReply } from '@sigflow/store/views';
import { addAlertCounts, budgetDay, noAlertCounts, spendPaceAt, type AlertCounts, type BiddingSettings, type RealTimeModel, type RuleSettings, type SpendCell, HOUR_MS, hourStart } from '@sigflow/core';
import { spendCellsOf } from '@sigflow/serving';

/** What one evaluation pass needs to read: its windows, campaigns, models, and whether spend_pace is watched. */
export interface WindowReadPlan {
  /** Window starts [from, to] (both evaluated). */
  readonly from: number;
  readonly to: number;
  readonly campaigns: readonly string[];
  readonly models: ReadonlySet<RealTimeModel>;
  readonly spend: boolean;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
const metricOf: Record<string, keyof AlertCounts> = {
  [windowMetricFields.impressions]: 'impressions',
  [windowMetricFields.clicks]: 'clicks',
  [windowMetricFields.invalidImpressions]: 'invalidImpressions',
  [windowMetricFields.invalidClicks]: 'invalidClicks',
};

/** The counts of a pass, per campaign and window, from the speed views (every partition summed). */
export class WindowCounts {
  /** `${campaign}\t${window}` -> counts (without conversions and pace). */
  readonly cells = new Map<string, Mutable<AlertCounts>>();
  /** `${model}\t${campaign}\t${window}` -> credited conversions. */
  readonly conversions = new Map<string, number>();
  readonly paces = new Map<string, number | null>();
  readonly spend = new Map<string, SpendCell[]>();
  budgets = new Map<string, StoredBudget>();

  constructor(
    private readonly windowMs: number,
    private readonly bidding: BiddingSettings,
  ) {}

  cell(campaign: string, ws: number): Mutable<AlertCounts> {
    const key = `${campaign}\t${ws}`;
    let c = this.cells.get(key);
    if (!c) this.cells.set(key, (c = { ...noAlertCounts }));
    return c;
  }

  private pace(campaign: string, ws: number): number | null {
    const key = `${campaign}\t${ws}`;
    if (!this.paces.has(key)) {
      const budget = this.budgets.get(campaign);
      this.paces.set(key, budget ? spendPaceAt(ws + this.windowMs, budget, this.spend.get(campaign) ?? [], this.bidding) : null);
    }
    return this.paces.get(key) ?? null;
  }

  /** One window of a campaign, conversions by `model`, with its pace when `spend` is watched. */
  window(campaign: string, ws: number, model: RealTimeModel, spend: boolean): AlertCounts {
    const base = this.cells.get(`${campaign}\t${ws}`) ?? noAlertCounts;
    const pace = spend ? this.pace(campaign, ws) : null;
    return { ...base, windows: 1, conversions: this.conversions.get(`${model}\t${campaign}\t${ws}`) ?? 0, paceSum: pace ?? 0, paceWindows: pace === null ? 0 : 1 };
  }

  /** The hour of windows before `ws`, summed. */
  trailingHour(campaign: string, ws: number, model: RealTimeModel, spend: boolean): AlertCounts {
    let sum = noAlertCounts;
    for (let w = ws - HOUR_MS; w < ws; w += this.windowMs) sum = addAlertCounts(sum, this.window(campaign, w, model, spend));
    return sum;
  }
}

/** The hour starts of [from, to]. */
function hoursBetween(from: number, to: number): number[] {
  const hours: number[] = [];
  for (let h = hourStart(from); h <= to; h += HOUR_MS) hours.push(h);
  return hours;
}

/**
 * Reads what a pass evaluates, in one pipelined round trip (plus the budgets): the per-campaign
 * rollup of the window metrics and the attribution of the models watched, for the pass's windows
 * and the hour before them; for budgeted campaigns when spend_pace is watched, the spend of their
 * budget days. Every partition's speed view, summed.
 */
export async function readWindowCounts(redis: RedisClient, keys: StoreKeys, partitions: number, rules: RuleSettings, bidding: BiddingSettings, plan: WindowReadPlan): Promise<WindowCounts> {
  const counts = new WindowCounts(rules.windowMs, bidding);
  if (plan.spend) counts.budgets = await readBudgets(redis, keys);
  const hours = hoursBetween(plan.from - HOUR_MS, plan.to);
  const pipe = slotSafePipeline(redis);
  const parse: ((reply: HashReply) => void)[] = [];
  for (let p = 0; p < partitions; p++) {
    for (const h of hours) {
      for (const campaign of plan.campaigns) {
        pipe.call('HGETALL', keys.speedCampaignMetrics(p, campaign, h));
        parse.push((reply) => forEachField(reply, (f, v) => addMetric(counts, campaign, f, Number(v))));
      }
      for (const model of plan.models) {
        pipe.call('HGETALL', keys.speedAttribution(p, model, h));
        parse.push((reply) => forEachField(reply, (f, v) => addConversions(counts, model, f, Number(v))));
      }
    }
  }
  const spendHashes = new Map<string, HashReply[]>();
  for (const [campaign, budget] of plan.spend ? counts.budgets : []) {
    if (!plan.campaigns.includes(campaign)) continue;
    const list: HashReply[] = [];
    spendHashes.set(campaign, list);
    for (const h of hoursBetween(budgetDay(plan.from - HOUR_MS, budget.timeZone).start, plan.to)) {
      for (let p = 0; p < partitions; p++) {
        pipe.call('HGETALL', keys.speedSpend(p, campaign, h));
        parse.push((reply) => list.push(reply));
      }
    }
  }
  const replies = (await pipe.exec()) ?? [];
  replies.forEach(([err, reply], i) => {
    if (err) throw err;
    parse[i]?.(reply as HashReply);
  });
  for (const [campaign, hashes] of spendHashes) counts.spend.set(campaign, spendCellsOf(hashes));
  return counts;
}

function addMetric(counts: WindowCounts, campaign: string, f: string, v: number): void {
  const at = f.indexOf(FIELD_SEPARATOR);
  const name = metricOf[f.slice(at + 1)];
  if (name === undefined || !Number.isFinite(v)) return;
  counts.cell(campaign, Number(f.slice(0, at)))[name] += v;
}

function addConversions(counts: WindowCounts, model: string, f: string, v: number): void {
  const [ws, campaign, , kind] = f.split(FIELD_SEPARATOR);
  if (kind !== 'c' || !Number.isFinite(v)) return;
  const key = `${model}\t${campaign}\t${ws}`;
  counts.conversions.set(key, (counts.conversions.get(key) ?? 0) + v);
}
