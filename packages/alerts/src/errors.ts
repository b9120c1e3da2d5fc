/** A webhook target ops may not use (scheme, credentials, an address in a blocked range, a name that does not resolve). */
export class WebhookTargetError extends Error {
  override readonly name = 'WebhookTargetError';
}
