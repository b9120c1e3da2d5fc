import type { RevenueCell, SpendCell } from '@sigflow/core';
import { FIELD_SEPARATOR, spendFields } from '@sigflow/store';
import { forEachField, type HashReply } from '@sigflow/store/views';

type SpendName = keyof typeof spendFields;
const spendByField = new Map<string, SpendName>((Object.entries(spendFields) as [SpendName, string][]).map(([name, f]) => [f, name]));

interface MutableSpend {
  windowStart: number;
  channel: string;
  spend: number;
  invalidSpend: number;
  clicks: number;
}

/**
 * The channel spend of a campaign-hour from its spend hashes (fields
 * `${windowStart}\t${channel}\t${spend|invalid_spend|clicks}`; several speed partitions' hashes
 * are summed): one cell per window and channel, the input of core's `campaignBidding`.
 */
export function spendCellsOf(hashes: readonly HashReply[]): SpendCell[] {
  const cells = new Map<string, MutableSpend>();
  for (const hash of hashes) {
    forEachField(hash, (f, v) => {
      const last = f.lastIndexOf(FIELD_SEPARATOR);
      const first = f.indexOf(FIELD_SEPARATOR);
      const name = spendByField.get(f.slice(last + 1));
      const value = Number(v);
      if (name === undefined || first === last || !Number.isFinite(value)) return;
      const id = f.slice(0, last);
      let cell = cells.get(id);
      if (!cell) cells.set(id, (cell = { windowStart: Number(f.slice(0, first)), channel: f.slice(first + 1, last), spend: 0, invalidSpend: 0, clicks: 0 }));
      cell[name] += value;
    });
  }
  return [...cells.values()];
}

/**
 * The attributed revenue of a model-hour's attribution hashes (fields
 * `${windowStart}\t${campaign}\t${channel}\t${c|r}`, partitions summed), per campaign: one cell
 * per window and channel.
 */
export function revenueCellsOf(hashes: readonly HashReply[]): Map<string, RevenueCell[]> {
  const sums = new Map<string, { campaign: string; cell: { windowStart: number; channel: string; revenue: number } }>();
  for (const hash of hashes) {
    forEachField(hash, (f, v) => {
      if (!f.endsWith(`${FIELD_SEPARATOR}r`)) return;
      const [ws, campaign, channel] = f.split(FIELD_SEPARATOR);
      const value = Number(v);
      if (ws === undefined || campaign === undefined || channel === undefined || !Number.isFinite(value)) return;
      const id = f.slice(0, -2);
      const known = sums.get(id);
      if (known) known.cell.revenue += value;
      else sums.set(id, { campaign, cell: { windowStart: Number(ws), channel, revenue: value } });
    });
  }
  const byCampaign = new Map<string, RevenueCell[]>();
  for (const { campaign, cell } of sums.values()) {
    const list = byCampaign.get(campaign);
    if (list) list.push(cell);
    else byCampaign.set(campaign, [cell]);
  }
  return byCampaign;
}
