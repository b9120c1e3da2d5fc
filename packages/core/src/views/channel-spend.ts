import { sortByKey, sumByKey, type KeyTuple, type Mutable } from './sum-by-key.js';

/**
 * What the touchpoints of one (window, campaign, channel) cost, and the valid clicks among them
 * (DESIGN.md "Spend and pacing"): `spend` is the `cost` of the valid impressions and clicks,
 * `invalidSpend` that of the invalid ones (refund claims), both in integer micros. As an
 * outcome's increment it is one touchpoint; folded, sums. Late touchpoints are left out by the
 * speed layer, as from every windowed view.
 */
export interface ChannelSpend {
  readonly windowStart: number;
  readonly campaign_id: string;
  readonly channel: string;
  readonly spend: number;
  readonly invalidSpend: number;
  /** Valid clicks (the bid multiplier needs enough of them). */
  readonly clicks: number;
}

/** The key foldChannelSpend sums ChannelSpend rows by. */
const channelSpendKey = (r: ChannelSpend): KeyTuple => [r.windowStart, r.campaign_id, r.channel];

/**
 * Sums channel spend rows per (windowStart, campaign_id, channel), sorted by that key; re-folding
 * folded rows is a no-op.
 */
export function foldChannelSpend(rows: Iterable<ChannelSpend>): ChannelSpend[] {
  return sumByKey(
    rows,
    channelSpendKey,
    (t, r) => {
      const sum = t as Mutable<ChannelSpend>;
      sum.spend += r.spend;
      sum.invalidSpend += r.invalidSpend;
      sum.clicks += r.clicks;
      return sum;
    },
  );
}

/** ChannelSpend rows already summed per key (each key once), in foldChannelSpend's order. */
export function orderChannelSpend(rows: readonly ChannelSpend[]): ChannelSpend[] {
  return sortByKey(rows, channelSpendKey);
}
