// The speed layer's part of privacy, against real Kafka and Redis: a person erased while their
// events keep coming (the erasure joins the partition's chain of fenced commits, so no commit
// built before it writes their state back, and later events are dropped and counted); and the
// per-IP flood rule in truncated IP mode, counting by the keyed hash of the full address.
import type { RedisClient, StoreKeys } from '@sigflow/store';
import { recordTombstone, requestSpeedErasure, speedErasurePending } from '@sigflow/store/ops';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SigflowConfig } from '@sigflow/config';
import { userPartition, type SigflowEvent } from '@sigflow/events';
import { privatizeIp, tombstoneHash } from '@sigflow/privacy';
import { waitUntil } from '@sigflow/test-support';
import { startSpeedRun, type SpeedRun } from './helpers.js';

const UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36';

describe('speed layer privacy', () => {
  let run: SpeedRun;
  let id: string;
  let config: SigflowConfig;
  let redis: RedisClient;
  let keys: StoreKeys;
  const metric = async (name: string) => Number((await run.registry.getSingleMetric(name)?.get())?.values[0]?.value ?? 0);
  const send = (events: SigflowEvent[]) => run.producer.send(events.map((e) => ({ key: e.user_id, value: JSON.stringify({ ...e, received_at: Date.now() }) })));

  beforeAll(async () => {
    run = await startSpeedRun('sprivacy', { SIGFLOW_PRIVACY_REFRESH_MS: '100', SIGFLOW_PRIVACY_SALT: 'speed-test-salt' });
    ({ id, config, redis, keys } = run);
  });

  afterAll(async () => run?.close());

  it("erases a person whose events keep arriving: nothing of theirs is written back, later events are dropped and counted", async () => {
    const person = `erased-${id}`;
    const bystander = `stays-${id}`;
    const partition = userPartition(person, 2);
    let seq = 0;
    let sending = true;
    const traffic = (async () => {
      while (sending) {
        const ts = Date.now() - 1_000;
        await send([
          { event_id: `${id}-p${seq}`, type: 'page_view', user_id: person, ts, page_id: 'home', user_agent: UA },
          { event_id: `${id}-b${seq}`, type: 'page_view', user_id: bystander, ts, page_id: 'home', user_agent: UA },
        ]);
        seq++;
        await new Promise((r) => setTimeout(r, 15));
      }
    })();
    await waitUntil('signals of the person', () => redis.llen(keys.signals(partition, person)), (n) => n >= 20);
    // What a deletion does: the tombstone, then the erasure asked of the partition's owner.
    await recordTombstone(redis, keys, tombstoneHash(config.privacy.salt, person), Date.now(), config.limits.retentionMs);
    await requestSpeedErasure(redis, keys, partition, person, 'del-test');
    await waitUntil('the owner to erase', () => speedErasurePending(redis, keys, partition, person), (pending) => !pending, 30_000, 20);
    const sentAtErasure = seq;
    // Traffic goes on for a while: commits built before the erasure land behind it, later ones drop the person.
    await waitUntil('more traffic', () => seq, (n) => n >= sentAtErasure + 60, 30_000, 20);
    sending = false;
    await traffic;
    await waitUntil('every bystander event committed', () => redis.llen(keys.signals(userPartition(bystander, 2), bystander)), (n) => n === seq, 30_000);

    expect(await redis.exists(keys.signals(partition, person), keys.userSnapshot(partition, person))).toBe(0);
    expect(await redis.zscore(keys.recentUsers(partition), person)).toBeNull();
    expect(await metric('sigflow_speed_erasures_total')).toBe(1);
    const dropped = await metric('sigflow_speed_tombstoned_events_total');
    expect(dropped).toBeGreaterThanOrEqual(seq - sentAtErasure);
    const counters = await redis.hgetall(keys.speedCounters(partition));
    // Every event of the person was either processed before the erasure or dropped, never both.
    const processedTheirs = Number(counters['events'] ?? 0) - (userPartition(bystander, 2) === partition ? seq : 0);
    expect(processedTheirs + dropped).toBe(seq);
  });

  it('counts IP floods by the full address in truncated mode (the keyed hash), not by the shared /24', async () => {
    const salt = config.privacy.salt;
    const t0 = Date.now() - 120_000;
    const tp = { campaign_id: `flood-${id}`, ad_id: 'a1', channel: 'search' } as const;
    const events: SigflowEvent[] = [];
    for (let u = 0; u < 12; u++) {
      // Twelve people behind one full address, twelve more behind twelve addresses of one /24.
      for (const [group, ip] of [['one', '10.9.9.9'], ['many', `10.9.8.${u + 1}`]] as const) {
        const user = `${group}-${u}-${id}`;
        const stored = privatizeIp('truncated', salt, ip);
        const at = { user_id: user, user_agent: UA, ...stored };
        events.push({ ...tp, ...at, event_id: `${user}-i`, type: 'impression', ts: t0 + u * 1_000 });
        events.push({ ...tp, ...at, event_id: `${user}-c`, type: 'click', ts: t0 + u * 1_000 + 2_000 });
      }
    }
    expect(new Set(events.map((e) => e.ip))).toEqual(new Set(['10.9.9.0', '10.9.8.0']));
    await send(events);
    const sum = async (name: string) => (await Promise.all([0, 1].map((p) => redis.hget(keys.speedCounters(p), name)))).reduce((a, v) => a + Number(v ?? 0), 0);
    await waitUntil('every click of the flood test', async () => (await Promise.all(events.map((e) => redis.llen(keys.signals(userPartition(e.user_id, 2), e.user_id))))).every((n) => n === 2), (ok) => ok, 30_000);
    // The 11th and 12th click of the one full address; none of the /24's twelve addresses.
    expect(await sum('invalid:flood')).toBe(2);
  });
});
