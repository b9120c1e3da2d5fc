// An alert, end to end: generator traffic with a click-through drop injected for one campaign
// (by construction: its impressions in the drop are never clicked) goes to Kafka; the speed
// layer counts it; the alerts service evaluates a rule at each window close and fires exactly one
// episode, delivered to a local webhook receiver that checks the signature itself, and resolves
// it once traffic recovers. A second rule's receiver answers 500 three times per delivery: it
// gets each delivery on the fourth attempt. The rules are set through the API, and the API lists
// the episodes with their deliveries.
import { createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventStream, type GeneratedEvent } from '@sigflow/loadgen';
import { Scenario, oneServerProcess } from '../support/scenario.js';
import { waitUntil } from '../support/redis-keys.js';
import type { ServiceProcess } from '../support/services.js';

const MIN = 60_000;
const START = Date.UTC(2026, 10, 21, 9, 0, 0);
const DROP = { from: START + 20 * MIN, to: START + 28 * MIN };
const SECRET = 'ctr-drop-test-secret';
const FLAKY_SECRET = 'flaky-receiver-secret';

interface Received {
  readonly body: Record<string, unknown>;
  readonly signatureOk: boolean;
  readonly status: number;
}

/** A webhook receiver on 127.0.0.1 that checks each delivery's signature with `secret` (node:crypto, not the code under test). */
async function receiver(secret: string, failFirst = 0): Promise<{ url: string; received: Received[]; close(): Promise<void> }> {
  const received: Received[] = [];
  const attempts = new Map<string, number>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString();
      const ts = String(req.headers['x-sigflow-timestamp']);
      const expected = `sha256=${createHmac('sha256', secret).update(`${ts}.${raw}`).digest('hex')}`;
      const body = JSON.parse(raw) as Record<string, unknown>;
      const n = (attempts.get(String(body['delivery'])) ?? 0) + 1;
      attempts.set(String(body['delivery']), n);
      const status = n <= failFirst ? 500 : 204;
      received.push({ body, signatureOk: req.headers['x-sigflow-signature'] === expected, status });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/hook`, received, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe('a CTR drop injected by the generator fires one alert, delivered signed, and resolves', () => {
  let scenario: Scenario;
  let api: ServiceProcess;
  let alerts: ServiceProcess;
  let hook: Awaited<ReturnType<typeof receiver>>;
  let flaky: Awaited<ReturnType<typeof receiver>>;
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`http://127.0.0.1:${api.metricsPort}${path}`, { method, headers: { 'x-api-key': 'k', 'content-type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}) });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  };

  beforeAll(async () => {
    scenario = new Scenario('alerts', {
      ...oneServerProcess,
      SIGFLOW_ALERTS_WEBHOOK_ALLOW: '127.0.0.0/8',
      SIGFLOW_ALERTS_POLL_MS: '200',
      SIGFLOW_ALERTS_DELIVERY_BACKOFF_MS: '200',
      SIGFLOW_ALERTS_DELIVERY_ATTEMPTS: '5',
    });
    await scenario.setUp();
    [hook, flaky] = await Promise.all([receiver(SECRET), receiver(FLAKY_SECRET, 3)]);
    api = await scenario.api();
    alerts = await scenario.alerts();
    const speed = await scenario.speed();
    await Promise.all([api.start(), alerts.start(), speed.start()]);
    await speed.ready();
  }, 120_000);
  afterAll(async () => {
    await scenario?.tearDown();
    await hook?.close();
    await flaky?.close();
  });

  it('fires exactly once, delivers, resolves once; a receiver failing three times gets each delivery on the fourth attempt', async () => {
    const options = { seed: 31, events: 60_000, start: START, span: 40 * MIN, campaigns: 2, adsPerCampaign: 2, partitions: 4, duplicates: 0.01, bots: 0.01, rules: scenario.config.rules };
    // The catalogue depends on the options, not on the drop: the first campaign is the one dropped.
    const dropped = new EventStream(options).catalogue.campaigns[0]!.campaignId;
    const events = [...new EventStream({ ...options, ctrDrop: { ...DROP, factor: 0, campaignId: dropped } })];
    const rule = (secret: string, url: string) => ({ metric: 'ctr', campaign: dropped, condition: { op: 'drop_pct', threshold: 60 }, for: 3, webhook: { url, secret } });
    expect((await call('PUT', '/v1/alerts/rules/ctr-drop', rule(SECRET, hook.url))).status).toBe(201);
    expect((await call('PUT', '/v1/alerts/rules/ctr-drop-flaky', rule(FLAKY_SECRET, flaky.url))).status).toBe(201);

    const sink = scenario.kafkaSink();
    await sink.connect();
    const send = async (list: readonly GeneratedEvent[]) => {
      await sink.write(list.map((e) => ({ key: e.key, partition: e.partition, json: e.json })));
      await sink.flush();
    };
    // The first quarter of an hour first: the alerts service starts evaluating at a window before the drop.
    const warmUp = events.filter((e) => e.emitAt < START + 15 * MIN);
    await send(warmUp);
    await waitUntil('the first alert evaluation', () => scenario.redis.get(scenario.keys.alertsEvaluated()), (v) => v !== null && Number(v) < DROP.from, 60_000);
    await send(events.slice(warmUp.length));
    await sink.close();

    const deliveries = async () => (await call('GET', '/v1/alerts?state=resolved')).json['alerts'] as { rule: string; campaign: string; firedWindow: number; resolvedWindow: number; deliveries: Record<string, { state: string; attempts: number }> }[];
    await waitUntil('both episodes resolved and delivered', deliveries, (list) => list.length === 2 && list.every((e) => e.deliveries['fired']?.state === 'delivered' && e.deliveries['resolved']?.state === 'delivered'), 120_000);

    // Exactly one episode per rule, for the dropped campaign: it fired within the drop (the third
    // window that held) and resolved when the clicks came back.
    const all = (await call('GET', '/v1/alerts')).json['alerts'] as { rule: string; campaign: string; firedWindow: number; resolvedWindow: number; deliveries: Record<string, { attempts: number }> }[];
    expect(all.map((e) => e.rule).sort()).toEqual(['ctr-drop', 'ctr-drop-flaky']);
    for (const e of all) {
      expect(e.campaign).toBe(dropped);
      expect(e.firedWindow).toBeGreaterThanOrEqual(DROP.from + MIN);
      expect(e.firedWindow).toBeLessThan(DROP.from + 5 * MIN);
      expect(e.resolvedWindow).toBeGreaterThanOrEqual(DROP.to);
      expect(e.resolvedWindow).toBeLessThan(DROP.to + 3 * MIN);
    }
    expect((await call('GET', '/v1/alerts?state=firing')).json['alerts']).toEqual([]);

    // The receiver got one fired and one resolved delivery, each signed with the rule's secret.
    expect(hook.received.map((r) => [r.body['event'], r.signatureOk, r.status])).toEqual([
      ['alert.fired', true, 204],
      ['alert.resolved', true, 204],
    ]);
    expect(hook.received[0]!.body['episode']).toMatchObject({ rule: 'ctr-drop', campaign: dropped, state: 'firing', firedValue: 0 });
    // The flaky receiver: 500, 500, 500, then 204 for each delivery; the API says 4 attempts.
    const byDelivery = new Map<string, Received[]>();
    for (const r of flaky.received) byDelivery.set(String(r.body['delivery']), [...(byDelivery.get(String(r.body['delivery'])) ?? []), r]);
    expect([...byDelivery.values()].map((list) => list.map((r) => r.status))).toEqual([
      [500, 500, 500, 204],
      [500, 500, 500, 204],
    ]);
    expect(flaky.received.every((r) => r.signatureOk)).toBe(true);
    const flakyEpisode = all.find((e) => e.rule === 'ctr-drop-flaky')!;
    expect([flakyEpisode.deliveries['fired']?.attempts, flakyEpisode.deliveries['resolved']?.attempts]).toEqual([4, 4]);

    const metrics = await (await fetch(`http://127.0.0.1:${alerts.metricsPort}/metrics`)).text();
    expect(metrics).toMatch(/sigflow_alert_firings_total\{rule="ctr-drop"[^}]*\} 1\n/);
    expect(metrics).toMatch(/sigflow_alert_resolutions_total\{rule="ctr-drop-flaky"[^}]*\} 1\n/);
    expect(metrics).toMatch(/sigflow_alert_deliveries_total\{outcome="retry"[^}]*\} 6\n/);
    expect(metrics).toMatch(/sigflow_alert_deliveries_total\{outcome="delivered"[^}]*\} 4\n/);
    expect(metrics).toMatch(/sigflow_alert_evaluations_total\{rule="ctr-drop"[^}]*\} \d+/);
  });
});
