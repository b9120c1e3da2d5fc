import { UnrecoverableError, Worker, type Job } from 'bullmq';
import type { RedisClient, StoreKeys } from '@sigflow/store';
import { parseDeliveryId, readAlertEpisode, readAlertRule, writeAlertDelivery, type AlertEpisode, type StoredAlertRule } from '@sigflow/store/segments-alerts';
import type { BlockList } from 'node:net';
import type { SigflowConfig } from '@sigflow/config';
import { checkWebhookTarget, signatureHeader, signDelivery, timestampHeader, WebhookTargetError } from '@sigflow/alerts';
import type { Logger } from '@sigflow/observability';
import type { AlertsMetrics } from './alerts-metrics.js';
import { bullPrefix } from '@sigflow/batch-jobs';
import type { DeliveryJobData } from './delivery-queue.js';
import { postWebhook } from './webhook-post.js';
import { DeliveryFailedError } from './errors.js';

export interface DeliveryWorkerDeps {
  readonly config: SigflowConfig;
  readonly redis: RedisClient;
  readonly keys: StoreKeys;
  readonly logger: Logger;
  readonly metrics: AlertsMetrics;
  /** Ranges webhooks may reach although private (SIGFLOW_ALERTS_WEBHOOK_ALLOW). */
  readonly allow: BlockList;
  readonly connection: RedisClient;
}

/** The JSON body of a delivery. */
export function deliveryBody(id: string, kind: 'fired' | 'resolved', rule: StoredAlertRule, episode: AlertEpisode, attempt: number, sentAt: number): string {
  const { metric, campaign, condition } = rule;
  // A firing is told as it fired, even when the episode has resolved since (a slow delivery).
  const told = kind === 'fired' ? { ...episode, state: 'firing', resolvedWindow: null, resolvedValue: null, resolvedAt: null } : episode;
  return JSON.stringify({ delivery: id, event: `alert.${kind}`, rule: { name: rule.name, metric, campaign, condition, for: rule.for }, episode: told, attempt, sentAt });
}

/** Loads what a delivery sends; a delivery whose episode or rule is gone cannot succeed. */
async function loadDelivery(deps: DeliveryWorkerDeps, id: string) {
  const parsed = parseDeliveryId(id);
  const episode = parsed ? await readAlertEpisode(deps.redis, deps.keys, parsed.episodeId) : null;
  if (!parsed || !episode) throw new UnrecoverableError(`delivery ${id}: its episode is gone`);
  const rule = await readAlertRule(deps.redis, deps.keys, episode.rule);
  if (!rule) throw new UnrecoverableError(`delivery ${id}: rule ${episode.rule} was deleted`);
  return { kind: parsed.kind, episode, rule };
}

/**
 * One attempt of a delivery: the rule's target checked again (its name may resolve elsewhere
 * now), the body signed with the rule's secret, POSTed; a 2xx delivers it, anything else throws
 * for BullMQ's retry with backoff, and the last attempt's failure leaves it `failed`.
 */
async function attempt(deps: DeliveryWorkerDeps, job: Job<DeliveryJobData>): Promise<void> {
  const id = job.data.delivery;
  const attempts = job.attemptsMade + 1;
  const last = attempts >= (job.opts.attempts ?? 1);
  const record = (state: 'delivered' | 'pending' | 'failed', status: number | null, lastError: string | null) =>
    writeAlertDelivery(deps.redis, deps.keys, id, { state, attempts, status, lastError, at: Date.now() });
  const started = performance.now();
  try {
    const { kind, episode, rule } = await loadDelivery(deps, id);
    const target = await checkWebhookTarget(rule.webhook.url, deps.allow).catch((err: unknown) => {
      throw err instanceof WebhookTargetError ? new UnrecoverableError(`target refused: ${err.message}`) : err;
    });
    const sentAt = Date.now();
    const body = deliveryBody(id, kind, rule, episode, attempts, sentAt);
    const headers = { [signatureHeader]: signDelivery(rule.webhook.secret, sentAt, body), [timestampHeader]: String(sentAt), 'x-sigflow-delivery': id, 'user-agent': 'sigflow-alerts/1' };
    const { status } = await postWebhook(target, body, headers, deps.config.alerts.deliveryTimeoutMs).catch((cause: unknown) => {
      throw new DeliveryFailedError(`webhook unreachable: ${(cause as Error).message}`, null, { cause });
    });
    if (status < 200 || status >= 300) throw new DeliveryFailedError(`webhook answered ${status}`, status);
    await record('delivered', status, null);
    deps.metrics.deliveries.inc({ outcome: 'delivered' });
  } catch (err) {
    const final = last || err instanceof UnrecoverableError;
    const status = err instanceof DeliveryFailedError ? err.status : null;
    await record(final ? 'failed' : 'pending', status, (err as Error).message);
    deps.metrics.deliveries.inc({ outcome: final ? 'failed' : 'retry' });
    deps.logger.warn({ delivery: id, attempt: attempts, err: (err as Error).message, final }, final ? 'alert delivery failed for good' : 'alert delivery failed; retried with backoff');
    throw err;
  } finally {
    deps.metrics.deliverySeconds.observe((performance.now() - started) / 1000);
  }
}

/** Starts the BullMQ worker of the deliveries' queue. */
export function startDeliveryWorker(deps: DeliveryWorkerDeps): Worker<DeliveryJobData> {
  const worker = new Worker<DeliveryJobData>(deps.config.alerts.queueName, (job) => attempt(deps, job), { connection: deps.connection, prefix: bullPrefix(deps.config), concurrency: 4, autorun: true });
  worker.on('error', (err) => deps.logger.error({ err }, 'delivery worker error'));
  return worker;
}
