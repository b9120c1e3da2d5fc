// `npm run test:cluster`: a node of the Redis Cluster or of the 3-broker Kafka killed with
// SIGKILL while the generator sends. The speed views must equal the generator's truth exactly
// (0 lost, 0 double-counted); each scenario is a row of the reliability table, with the time
// from the kill until the speed layer commits again on what the node served.
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { topicOffsets } from '@sigflow/kafka';
import { isCluster } from '@sigflow/store';
import { clusterDir } from '../../infra/cluster/up.mjs';
import { kafkaNodeDir, restartKafkaNode } from '../../infra/cluster/kafka-cluster.mjs';
import { clusterInfo, redisClusterPorts, redisNodeLayout, startRedisNode } from '../../infra/cluster/redis-cluster.mjs';
import { Scenario } from '../support/scenario.js';
import { clusterAuth, masterOfSlot, pidIn, redisDir } from './cluster-nodes.js';
import { faultScenario, noteRecovery, sleep, timeUntil, type RowDraft } from '../reliability/faults/lib/fault-run.js';
import { faultTraffic, sendToKafka, type Sent } from '../reliability/faults/lib/traffic.js';
import { speedTally, waitSpeedCaughtUp } from '../reliability/faults/lib/views.js';

/** The leader (node id) of each partition of the scenario's events topic. */
async function partitionLeaders(scenario: Scenario): Promise<Map<number, number>> {
  const metadata = await scenario.kafka.withAdmin((admin) => admin.metadata({ topics: [scenario.topics.events], forceUpdate: true }));
  return new Map((metadata.topics.get(scenario.topics.events)?.partitions ?? []).map((p, partition) => [partition, p.leader]));
}

/** The log end offset of each partition of the events topic. */
async function logEnds(scenario: Scenario): Promise<Map<number, number>> {
  return topicOffsets(scenario.kafka, scenario.topics.events, 'latest');
}

/** Traffic of a node-loss scenario: one request in flight (a retry cannot overtake), patient retries. */
function traffic(scenario: Scenario, seed: number): Promise<Sent> {
  return sendToKafka(scenario, faultTraffic(seed, 30_000), 2_000, { inFlight: 1, retries: 30, timeoutMs: 10_000 });
}

/**
 * Starts the scenario's speed layer and the traffic; resolves 3 s into the traffic (the moment
 * of the fault) with the traffic still running (`sending`: a promise in an object, so that
 * awaiting this does not wait for the traffic).
 */
async function speedUnderTraffic(scenario: Scenario, seed: number): Promise<{ sending: Promise<Sent> }> {
  await scenario.setUp();
  const speed = await scenario.speed();
  await speed.start();
  await speed.ready();
  const sending = traffic(scenario, seed);
  await sleep(3_000);
  return { sending };
}

/** Waits for the traffic and the speed layer, then fills the row from the views against the truth. */
async function tallyAfter(scenario: Scenario, sending: Promise<Sent>, row: RowDraft): Promise<void> {
  const sent = await sending;
  const sentAt = Date.now();
  await waitSpeedCaughtUp(scenario, 120_000);
  // A produce request the broker wrote but could not acknowledge is sent again: the copy is
  // dropped as a duplicate (so the duplicate counter may exceed the truth's), never counted twice.
  const tally = await speedTally(scenario, sent.truth, { exactDuplicates: false });
  Object.assign(row, { eventsSent: sent.truth.totals.sent, eventsInViews: tally.served, lost: tally.lost, doubleCounted: tally.doubleCounted });
  // Events the speed layer judged late (past their window's allowed lateness): counted as events, in no window.
  const late = Number((await scenario.speedCounters())['late'] ?? 0);
  row.details = { ...row.details, catchUpAfterTrafficMs: Date.now() - sentAt, resentCopies: tally.duplicates - sent.truth.totals.duplicates, late, diffs: tally.diffs };
  expect(tally.diffs).toEqual([]);
  expect(tally.served).toBe(sent.truth.totals.unique);
}

describe('cluster: a node lost under generator traffic', () => {
  let scenario: Scenario | undefined;
  let restore: (() => Promise<unknown>) | undefined;
  afterEach(async () => {
    await restore?.();
    restore = undefined;
    await scenario?.tearDown();
    scenario = undefined;
  });

  it('runs against the cluster with an ACL user (no anonymous access)', async () => {
    scenario = new Scenario('c-acl');
    expect(isCluster(scenario.redis), 'SIGFLOW_REDIS_CLUSTER_NODES must be set: run npm run test:cluster').toBe(true);
    expect(scenario.config.kafka.brokers.length).toBe(3);
    expect(await scenario.redis.call('ACL', 'WHOAMI')).toBe(clusterAuth().user);
    // The default user is off: a client without the password is refused.
    const { Redis } = await import('ioredis');
    const anonymous = new Redis(redisClusterPorts[0]!, '127.0.0.1', { lazyConnect: true, enableReadyCheck: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
    anonymous.on('error', () => undefined);
    try {
      await anonymous.connect();
      await expect(anonymous.get('x')).rejects.toThrow(/NOAUTH/);
    } finally {
      anonymous.disconnect();
    }
  });

  it('kill -9 of a Kafka broker leading partitions: nothing lost or double-counted', () =>
    faultScenario(
      'kill -9 Kafka broker leading partitions (3 brokers, RF 3, min ISR 2)',
      async (row) => {
        scenario = new Scenario('c-kill-broker');
        const { sending } = await speedUnderTraffic(scenario, 71);
        const leaders = await partitionLeaders(scenario);
        const victim = leaders.get(0)!;
        const led = [...leaders].filter(([, node]) => node === victim).map(([p]) => p);
        const ends = await logEnds(scenario);
        const killedAt = Date.now();
        process.kill(pidIn(path.join(kafkaNodeDir(clusterDir, victim), 'kafka.pid')), 'SIGKILL');
        restore = () => restartKafkaNode({ dir: clusterDir, nodeId: victim });
        // Recovered: the partitions it led have new leaders, and the speed layer committed there
        // past the log end at the kill (events produced to the new leaders).
        const s = scenario;
        const recoveryMs = await timeUntil(
          'new leaders, and speed commits past the kill on the partitions the broker led',
          async () => {
            const now = await partitionLeaders(s);
            if (led.some((p) => now.get(p) === victim)) return false;
            const offsets = await s.speedOffsets();
            return led.every((p) => (offsets[p] ?? 0) > (ends.get(p) ?? 0));
          },
          90_000,
          250,
        );
        noteRecovery(row, recoveryMs);
        row.details = { killedNode: victim, partitionsLed: led, killedAtMs: killedAt };
        await tallyAfter(scenario, sending, row);
      },
      'cluster',
    ));

  it('kill -9 of a Redis master: its replica takes over; nothing lost or double-counted', () =>
    faultScenario(
      'kill -9 Redis master (3 masters + 3 replicas)',
      async (row) => {
        scenario = new Scenario('c-kill-master');
        const { sending } = await speedUnderTraffic(scenario, 73);
        const redis = scenario.redis;
        const slotOf = async (key: string) => Number(await redis.call('CLUSTER', 'KEYSLOT', key));
        const slots = await Promise.all(scenario.partitions.map((p) => slotOf(scenario!.keys.speedOffset(p))));
        const victim = (await masterOfSlot(redis, slots[0]!))!;
        const owners = await Promise.all(slots.map((slot) => masterOfSlot(redis, slot)));
        const served = scenario.partitions.filter((_, i) => owners[i] === victim);
        const ends = await logEnds(scenario);
        const killedAt = Date.now();
        process.kill(pidIn(redisNodeLayout(redisDir, victim).pidFile), 'SIGKILL');
        // Started again, the node rejoins as a replica of the master that replaced it.
        restore = async () => {
          await startRedisNode(redisDir, victim, clusterAuth());
          await timeUntil('cluster state ok on every node', async () => redisClusterPorts.every((p) => clusterInfo(p, clusterAuth())?.cluster_state === 'ok'), 60_000, 250);
        };
        const s = scenario;
        const recoveryMs = await timeUntil(
          "the replica promoted, and speed commits past the kill on the partitions the master held",
          async () => {
            if ((await masterOfSlot(redis, slots[0]!)) === victim) return false;
            const offsets = await s.speedOffsets();
            return served.every((p) => (offsets[p] ?? 0) > (ends.get(p) ?? 0));
          },
          90_000,
          250,
        );
        noteRecovery(row, recoveryMs);
        const promoted = await masterOfSlot(redis, slots[0]!);
        row.details = { killedMasterPort: victim, promotedPort: promoted, partitionsOnIt: served, killedAtMs: killedAt };
        expect(promoted).not.toBe(victim);
        await tallyAfter(scenario, sending, row);
      },
      'cluster',
    ));
});
