// Alert webhooks: who may be called (the API when ops set a rule, the alerts service before each
// delivery) and how deliveries are signed.
export { WebhookTargetError } from './errors.js';
export { allowListOf } from './address-ranges.js';
export { checkWebhookTarget, parseWebhookUrl, maxWebhookUrlLength, type WebhookTarget, type ResolvedAddress, type Resolve } from './webhook-target.js';
export { signDelivery, signatureHeader, timestampHeader } from './signature.js';
