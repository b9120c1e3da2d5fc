import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { latencyBuckets } from '@sigflow/observability';

/** The alerts service's series (process metrics come with the registry). */
export function alertsMetrics(registry: Registry) {
  return {
    windows: new Counter({ name: 'sigflow_alert_windows_evaluated_total', help: 'Closed windows the alert rules were evaluated at', registers: [registry] }),
    evaluations: new Counter({ name: 'sigflow_alert_evaluations_total', help: 'Rule evaluations (one per rule, campaign and closed window)', labelNames: ['rule'] as const, registers: [registry] }),
    firings: new Counter({ name: 'sigflow_alert_firings_total', help: 'Alert episodes fired', labelNames: ['rule'] as const, registers: [registry] }),
    resolutions: new Counter({ name: 'sigflow_alert_resolutions_total', help: 'Alert episodes resolved', labelNames: ['rule'] as const, registers: [registry] }),
    deliveries: new Counter({
      name: 'sigflow_alert_deliveries_total',
      help: 'Webhook delivery attempts by outcome: delivered, retry (failed, will be tried again), failed (dead-lettered: the last attempt failed or the target is refused)',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    deliverySeconds: new Histogram({ name: 'sigflow_alert_delivery_seconds', help: 'Time of a webhook delivery attempt', buckets: latencyBuckets, registers: [registry] }),
    evaluatedWindow: new Gauge({ name: 'sigflow_alert_evaluated_window_seconds', help: 'Start of the last window evaluated (event time, s since the epoch)', registers: [registry] }),
  };
}

export type AlertsMetrics = ReturnType<typeof alertsMetrics>;
