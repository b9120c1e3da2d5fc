import type { EventType } from '@sigflow/events';

/**
 * Why an event counts differently in the two layers, as each layer records it per hour and
 * campaign (the speed layer in its commit, the batch layer in its version's quality hash) and
 * reconciliation reads it back. Written and read only through {@link causeName} and
 * {@link parseCause}: the names are stored (Redis, the quality view's Parquet), so they never change.
 */
export type ReconciliationCause =
  /** Later copies of an event the layer dropped. */
  | { readonly kind: 'duplicates' }
  /** An invalid touchpoint, by reason (`bot`, `flood`, `orphan`, `too_fast`, ...). */
  | { readonly kind: 'invalid'; readonly reason: string }
  /** An event the speed layer kept out of a closed window, by event type. */
  | { readonly kind: 'late'; readonly eventType: string }
  /** Conversions credited with a Shapley table (`none`: the equal split). */
  | { readonly kind: 'shapley'; readonly version: string }
  /** User signals the batch layer rewrote with its verdict, by what changed (`verdict`, `late`, `duplicate`). */
  | { readonly kind: 'signals_corrected'; readonly what: string }
  /** A name this version does not know (kept as it is). */
  | { readonly kind: 'other'; readonly name: string };

/** The campaign of events that have none (page views, conversions, custom events), in cause fields. */
export const NO_CAMPAIGN = '*';

/** The campaign a cause of `event` is recorded under: a touchpoint's campaign, else {@link NO_CAMPAIGN}. */
export function causeCampaign(event: { readonly type: EventType | string; readonly campaign_id?: string }): string {
  return (event.type === 'impression' || event.type === 'click') && event.campaign_id !== undefined ? event.campaign_id : NO_CAMPAIGN;
}

/** The stored name of a cause: `duplicates`, `invalid:<reason>`, `late_<type>`, `shapley:<version>`, `signals_corrected:<what>`. */
export function causeName(cause: ReconciliationCause): string {
  switch (cause.kind) {
    case 'duplicates':
      return 'duplicates';
    case 'invalid':
      return `invalid:${cause.reason}`;
    case 'late':
      return `late_${cause.eventType}`;
    case 'shapley':
      return `shapley:${cause.version}`;
    case 'signals_corrected':
      return `signals_corrected:${cause.what}`;
    case 'other':
      return cause.name;
  }
}

const prefixed: readonly [string, (rest: string) => ReconciliationCause][] = [
  ['invalid:', (reason) => ({ kind: 'invalid', reason })],
  ['late_', (eventType) => ({ kind: 'late', eventType })],
  ['shapley:', (version) => ({ kind: 'shapley', version })],
  ['signals_corrected:', (what) => ({ kind: 'signals_corrected', what })],
];

/** The cause a stored name stands for ({@link causeName}'s inverse); `other` for an unknown one. */
export function parseCause(name: string): ReconciliationCause {
  if (name === 'duplicates') return { kind: 'duplicates' };
  for (const [prefix, make] of prefixed) {
    if (name.startsWith(prefix) && name.length > prefix.length) return make(name.slice(prefix.length));
  }
  return { kind: 'other', name };
}
