import type { TouchpointType } from '@sigflow/events';
import type { EventKey } from '../ordering/event-order.js';

/** A valid impression or click as attribution sees it. */
export interface Touchpoint extends EventKey {
  readonly type: TouchpointType;
  readonly campaign_id: string;
  readonly ad_id: string;
  readonly channel: string;
}

/** The credit one touchpoint (or `direct`) gets for one conversion under one model. */
export interface Credit {
  /** The credited touchpoint; null for `direct` (empty path). */
  readonly touchpoint_event_id: string | null;
  readonly touchpoint_ts: number | null;
  readonly campaign_id: string;
  readonly ad_id: string;
  readonly channel: string;
  /** Share of the conversion, 0..1; the fractions of one conversion sum to 1. */
  readonly fraction: number;
  /** fraction x conversion value. */
  readonly revenue: number;
}

/** Channel and campaign of a conversion with an empty path (DESIGN.md). */
export const directCredit = Object.freeze({ channel: 'direct', campaign_id: 'none', ad_id: 'none' });

/** The single credit of a conversion with an empty path: all of it to `direct`. */
export function directCredits(value: number): Credit[] {
  return [{ touchpoint_event_id: null, touchpoint_ts: null, ...directCredit, fraction: 1, revenue: value }];
}

/** Turns per-touchpoint fractions (same order as `path`) into credits. */
export function creditsOf(path: readonly Touchpoint[], fractions: readonly number[], value: number): Credit[] {
  return path.map((tp, i) => {
    const fraction = fractions[i] ?? 0;
    return {
      touchpoint_event_id: tp.event_id,
      touchpoint_ts: tp.ts,
      campaign_id: tp.campaign_id,
      ad_id: tp.ad_id,
      channel: tp.channel,
      fraction,
      revenue: fraction * value,
    };
  });
}

/** Scales non-negative weights to sum to 1 (equal weights if they sum to 0). */
export function normalize(weights: readonly number[]): number[] {
  const total = weights.reduce((a, b) => a + b, 0);
  if (total > 0) return weights.map((w) => w / total);
  return weights.map(() => 1 / weights.length);
}

/**
 * Spreads per-channel credit over the path: each channel's credit is split equally over its
 * touchpoints (Shapley and Markov credit channels, attribution reports touchpoints).
 */
export function splitChannelCredit(path: readonly Touchpoint[], channelCredit: ReadonlyMap<string, number>): number[] {
  const touches = new Map<string, number>();
  for (const tp of path) touches.set(tp.channel, (touches.get(tp.channel) ?? 0) + 1);
  return path.map((tp) => (channelCredit.get(tp.channel) ?? 0) / (touches.get(tp.channel) ?? 1));
}
