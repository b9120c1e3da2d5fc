/**
 * A click-through drop to inject (alert tests): impressions shown in [from, to) of event time
 * are clicked with the ad's CTR times `factor` (0: no clicks at all), for one campaign or all.
 */
export interface CtrDrop {
  readonly from: number;
  readonly to: number;
  /** In [0, 1]. */
  readonly factor: number;
  /** Only this campaign's ads; absent: every campaign. */
  readonly campaignId?: string;
}

/** Checks a drop's fields; throws `RangeError` naming the bad one. */
export function checkCtrDrop(drop: CtrDrop): CtrDrop {
  if (!Number.isFinite(drop.from) || !Number.isFinite(drop.to) || drop.to <= drop.from) throw new RangeError('ctrDrop needs from < to (event time, ms)');
  if (!(drop.factor >= 0 && drop.factor <= 1)) throw new RangeError(`ctrDrop.factor must be in [0, 1] (got ${drop.factor})`);
  return drop;
}

/** The factor on an ad's CTR for an impression at `ts`. */
export function ctrFactor(drop: CtrDrop | null, campaignId: string, ts: number): number {
  if (drop === null || ts < drop.from || ts >= drop.to) return 1;
  return drop.campaignId === undefined || drop.campaignId === campaignId ? drop.factor : 1;
}
