import { sortByKey, sumRows, type ViewSums } from './sum-by-key.js';

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

/** Spend per (windowStart, campaign_id, channel). */
export const channelSpendSums: ViewSums<ChannelSpend> = {
  key: (r) => [r.windowStart, r.campaign_id, r.channel],
  parts: (r, into) => {
    into[0] = r.campaign_id;
    into[1] = r.channel;
  },
  partCount: 2,
  create: (r) => ({ windowStart: r.windowStart, campaign_id: r.campaign_id, channel: r.channel, spend: r.spend, invalidSpend: r.invalidSpend, clicks: r.clicks }),
  add: (t, r) => {
    t.spend += r.spend;
    t.invalidSpend += r.invalidSpend;
    t.clicks += r.clicks;
  },
};

/**
 * Sums channel spend rows per (windowStart, campaign_id, channel), sorted by that key; re-folding
 * folded rows is a no-op.
 */
export function foldChannelSpend(rows: Iterable<ChannelSpend>): ChannelSpend[] {
  return sumRows(channelSpendSums, rows);
}

/** ChannelSpend rows already summed per key (each key once), in foldChannelSpend's order. */
export function orderChannelSpend(rows: readonly ChannelSpend[]): ChannelSpend[] {
  return sortByKey(rows, channelSpendSums.key);
}
