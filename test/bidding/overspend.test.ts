// A campaign overspends, end to end: its ad server's impressions and clicks (with their cost) go
// through the collector, the speed layer counts their spend, the bidding service paces the
// campaign every second. Its status becomes `over`, then `exhausted` with every multiplier 0, as
// the API answers bidders and as `bidding.v1` tells them.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { budgetDay } from '@sigflow/core';
import type { SigflowEvent } from '@sigflow/events';
import { Scenario, oneServerProcess } from '../support/scenario.js';
import { waitUntil } from '../support/redis-keys.js';
import { readTopicUntil } from '../support/read-topic.js';
import type { ServiceProcess } from '../support/services.js';

const EUR = 1_000_000;
const BUDGET = 100 * EUR;
const UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36';
/** Zones far apart: one of them is near the middle of its day whenever the suite runs. */
const ZONES = ['UTC', 'Asia/Tokyo', 'America/New_York', 'Asia/Kolkata', 'America/Los_Angeles', 'Europe/Berlin', 'Pacific/Auckland', 'America/Sao_Paulo'];

/** The zone whose budget day is closest to half gone now, and how much of it is gone. */
function midDayZone(now: number): { zone: string; elapsed: number } {
  const elapsedIn = (zone: string) => {
    const day = budgetDay(now, zone);
    return (now - day.start) / (day.end - day.start);
  };
  const zone = [...ZONES].sort((a, b) => Math.abs(elapsedIn(a) - 0.45) - Math.abs(elapsedIn(b) - 0.45))[0]!;
  return { zone, elapsed: elapsedIn(zone) };
}

/** 25 users, each shown the ad and clicking it 5 s later; the clicks cost `clickCost` each (CPC). */
function clickTraffic(campaign: string, run: string, clickCost: number, now: number): SigflowEvent[] {
  const events: SigflowEvent[] = [];
  for (let u = 0; u < 25; u++) {
    const touch = { user_id: `${run}-u${u}`, campaign_id: campaign, ad_id: `${campaign}-ad`, channel: 'search', user_agent: UA, ip: `203.0.113.${u}` };
    events.push({ ...touch, event_id: `${run}-i${u}`, type: 'impression', ts: now - 10_000 + u });
    events.push({ ...touch, event_id: `${run}-k${u}`, type: 'click', ts: now - 5_000 + u, cost: clickCost });
  }
  return events;
}

describe('a campaign that overspends', () => {
  let scenario: Scenario;
  let api: ServiceProcess;
  let collector: ServiceProcess;
  const campaign = `cmp-over-${randomUUID().slice(0, 6)}`;
  const readerKey = `reader-${randomUUID()}`;
  const apiUrl = () => `http://127.0.0.1:${api.metricsPort}`;
  const bidding = async () => {
    const res = await fetch(`${apiUrl()}/v1/bidding/${campaign}`, { headers: { 'x-api-key': readerKey } });
    return res.ok ? ((await res.json()) as { status: string; spendToday: { micros: number }; channels: { channel: string; multiplier: number; reason: string }[] }) : null;
  };
  const send = async (events: SigflowEvent[]) => {
    const res = await fetch(`http://127.0.0.1:${collector.metricsPort}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(events) });
    expect(res.status).toBe(202);
    expect(((await res.json()) as { accepted: number }).accepted).toBe(events.length);
  };

  beforeAll(async () => {
    scenario = new Scenario('overspend', { ...oneServerProcess, SIGFLOW_API_KEYS: `k:ops,${readerKey}:reader` });
    await scenario.setUp();
    collector = await scenario.collector();
    const speed = await scenario.speed();
    const service = await scenario.bidding();
    api = await scenario.api();
    await Promise.all([collector.start(), speed.start(), service.start(), api.start()]);
    await speed.ready();
  }, 120_000);

  afterAll(async () => scenario?.tearDown());

  it('goes over pace, then exhausts its budget: multipliers 0, through the API and on bidding.v1', async () => {
    const { zone, elapsed } = midDayZone(Date.now());
    const put = await fetch(`${apiUrl()}/v1/campaigns/${campaign}/budget`, {
      method: 'PUT',
      headers: { 'x-api-key': 'k', 'content-type': 'application/json' },
      body: JSON.stringify({ dailyBudgetMicros: BUDGET, timeZone: zone }),
    });
    expect(put.status).toBe(200);
    // Spend 1.5 times what is due so far (under the budget: less than 0.67 of the day is gone): pace 1.5.
    const firstCost = Math.round((1.5 * BUDGET * elapsed) / 25);
    await send(clickTraffic(campaign, `${campaign}-a`, firstCost, Date.now()));
    // The 25 clicks may reach the views in more than one commit (they span partitions), and 20 of
    // them are already over pace: wait for the answer that counts them all.
    const over = await waitUntil('status over with every click counted', bidding, (b) => b?.status === 'over' && b.spendToday.micros === 25 * firstCost, 60_000, 250);
    expect(over!.spendToday.micros).toBe(25 * firstCost);
    expect(over!.channels.map((c) => c.channel)).toEqual(['search']);
    expect(over!.channels[0]!.multiplier).toBeGreaterThan(0);

    // Then the rest of the budget and more.
    await send(clickTraffic(campaign, `${campaign}-b`, Math.ceil(BUDGET / 25), Date.now()));
    const exhausted = await waitUntil('status exhausted', bidding, (b) => b?.status === 'exhausted', 60_000, 250);
    expect(exhausted!.spendToday.micros).toBe(25 * firstCost + 25 * Math.ceil(BUDGET / 25));
    expect(exhausted!.channels.map((c) => [c.channel, c.multiplier, c.reason])).toEqual([['search', 0, 'exhausted']]);

    const messages = await readTopicUntil(scenario.kafka, scenario.topics.bidding, (_value, key) => key === campaign, (values) => values.some((v) => v['status'] === 'exhausted'));
    const statuses = messages.map((m) => m['status']);
    expect(statuses.indexOf('over')).toBeGreaterThan(-1);
    expect(statuses.indexOf('exhausted')).toBeGreaterThan(statuses.indexOf('over'));
    const last = messages.at(-1)!;
    expect(last).toMatchObject({ campaignId: campaign, status: 'exhausted', changed: expect.arrayContaining(['status']), previous: { status: 'over' } });
    expect((last['channels'] as { multiplier: number }[]).map((c) => c.multiplier)).toEqual([0]);
    // At most one message a second per campaign.
    const times = messages.map((m) => m['at'] as number);
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(1_000);
  }, 180_000);
});
