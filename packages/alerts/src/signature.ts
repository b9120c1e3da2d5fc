import { createHmac } from 'node:crypto';

/** The headers of a signed delivery. */
export const signatureHeader = 'x-sigflow-signature';
export const timestampHeader = 'x-sigflow-timestamp';

/**
 * The signature of a delivery: `sha256=` + hex HMAC-SHA256 with the rule's secret over
 * `${timestamp}.${body}` (the raw body bytes as sent), so a receiver can check both the body
 * and its freshness.
 */
export function signDelivery(secret: string, timestamp: number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}
