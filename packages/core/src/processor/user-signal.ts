import type { SigflowEvent } from '@sigflow/events';
import type { InvalidReason } from '../validity/invalid-reason.js';
import type { UserSignal } from './event-outcome.js';

/** The signal of a non-duplicate event: what the user's append-only log keeps of it. */
export function signalOf(event: SigflowEvent, reason: InvalidReason | null, late: boolean): UserSignal {
  // Built by assignment rather than conditional spreads: this runs once per event.
  // Validity first: a reader serving valid signals decides from the stored JSON's first bytes.
  const signal: { -readonly [K in keyof UserSignal]: UserSignal[K] } = {
    invalid: reason !== null,
    event_id: event.event_id,
    type: event.type,
    ts: event.ts,
    reason,
    late,
  };
  if (event.type === 'impression' || event.type === 'click') {
    signal.campaign_id = event.campaign_id;
    signal.ad_id = event.ad_id;
    signal.channel = event.channel;
  }
  if (event.page_id !== undefined) signal.page_id = event.page_id;
  if (event.type === 'element_click') signal.element_id = event.element_id;
  if (event.type === 'conversion' && event.value !== undefined) signal.value = event.value;
  return signal;
}

const str = JSON.stringify;

/**
 * The JSON of a signal, exactly as `JSON.stringify(signal)` writes it (same fields, same order),
 * built by hand: the speed layer writes one per event, and the generic serializer walks the
 * object's shape every time. It begins `{"invalid":true` or `{"invalid":false`, so the signals
 * read can skip invalid traffic without parsing or searching (the store's `readSignals`).
 */
export function encodeSignal(signal: UserSignal): string {
  let json = `{"invalid":${signal.invalid},"event_id":${str(signal.event_id)},"type":"${signal.type}","ts":${signal.ts},"reason":${signal.reason === null ? 'null' : `"${signal.reason}"`},"late":${signal.late}`;
  if (signal.campaign_id !== undefined) json += `,"campaign_id":${str(signal.campaign_id)}`;
  if (signal.ad_id !== undefined) json += `,"ad_id":${str(signal.ad_id)}`;
  if (signal.channel !== undefined) json += `,"channel":${str(signal.channel)}`;
  if (signal.page_id !== undefined) json += `,"page_id":${str(signal.page_id)}`;
  if (signal.element_id !== undefined) json += `,"element_id":${str(signal.element_id)}`;
  if (signal.value !== undefined) json += `,"value":${str(signal.value)}`;
  return `${json}}`;
}
