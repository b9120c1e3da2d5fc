import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/index.js';

describe('loadConfig', () => {
  it('gives the documented defaults with an empty environment', () => {
    const config = loadConfig({});
    expect(config.kafka.brokers).toEqual(['127.0.0.1:9092']);
    expect(config.kafka.eventPartitions).toBe(16);
    expect(config.kafka.eventPartitionsSet).toBe(false);
    expect(loadConfig({ SIGFLOW_EVENT_PARTITIONS: '4' }).kafka).toMatchObject({ eventPartitions: 4, eventPartitionsSet: true });
    expect(config.redis.url).toBe('redis://127.0.0.1:6379');
    expect([config.api.port, config.collector.port, config.speed.metricsPort, config.archiver.metricsPort, config.batch.metricsPort]).toEqual([
      7000, 7001, 7002, 7003, 7004,
    ]);
    expect(config.rules.windowMs).toBe(60_000);
    expect(config.rules.sessionGapMs).toBe(30 * 60_000);
    expect(config.limits.maxFutureMs).toBe(300_000);
    expect(config.collector.processes).toBe(availableParallelism());
    expect(config.speed.cachedUsers).toBe(1_000_000);
  });

  it("names a static member by host and slot, else by host and metrics port, so two processes of one host never share an id", () => {
    const id = (env: Record<string, string>) => loadConfig(env).speed.instanceId.replace(/^.*-speed-/, '');
    expect(id({})).toBe('port7002');
    expect(id({ SIGFLOW_SPEED_METRICS_PORT: '7202' })).not.toBe(id({ SIGFLOW_SPEED_METRICS_PORT: '7203' }));
    expect(id({ SIGFLOW_SPEED_INSTANCE_SLOT: '3', SIGFLOW_SPEED_METRICS_PORT: '7202' })).toBe('3');
    expect(loadConfig({ SIGFLOW_SPEED_INSTANCE_ID: 'a-1' }).speed.instanceId).toBe('a-1');
    expect(loadConfig({ SIGFLOW_ARCHIVER_METRICS_PORT: '0' }).archiver.instanceId).toMatch(/-archiver-pid\d+$/);
  });

  it('refuses a setting that was replaced, naming the one to set', () => {
    expect(() => loadConfig({ SIGFLOW_SPEED_CACHED_USERS_PER_PARTITION: '250000' })).toThrow(
      'SIGFLOW_SPEED_CACHED_USERS_PER_PARTITION: is no longer read; set SIGFLOW_SPEED_CACHED_USERS',
    );
    expect(loadConfig({ SIGFLOW_SPEED_CACHED_USERS: '5000' }).speed.cachedUsers).toBe(5_000);
  });

  it('gives the bidding defaults of DESIGN.md and reads their overrides, refusing settings no rule can use', () => {
    const d = loadConfig({}).bidding;
    expect([d.metricsPort, d.refreshMs, d.publishIntervalMs]).toEqual([7005, 1_000, 1_000]);
    expect(d.rules).toEqual({
      windowMs: 3_600_000,
      model: 'shapley',
      minClicks: 20,
      roasFactorMin: 0.25,
      roasFactorMax: 4,
      paceFactorMin: 0.5,
      paceFactorMax: 1.5,
      overPace: 1.1,
      underPace: 0.9,
      defaultTargetRoas: 1,
    });
    const o = loadConfig({ SIGFLOW_BIDDING_WINDOW_MS: '1800000', SIGFLOW_BIDDING_MODEL: 'linear', SIGFLOW_BIDDING_PACE_FACTOR_MAX: '2' }).bidding.rules;
    expect([o.windowMs, o.model, o.paceFactorMax]).toEqual([1_800_000, 'linear', 2]);
    expect(() => loadConfig({ SIGFLOW_BIDDING_MODEL: 'markov' })).toThrow(/SIGFLOW_BIDDING_MODEL/);
    expect(() => loadConfig({ SIGFLOW_BIDDING_UNDER_PACE: '1.5' })).toThrow(/underPace/);
  });

  it('reads the collector process count, at least 1', () => {
    expect(loadConfig({ SIGFLOW_COLLECTOR_PROCESSES: '3' }).collector.processes).toBe(3);
    expect(() => loadConfig({ SIGFLOW_COLLECTOR_PROCESSES: '0' })).toThrow(ConfigError);
  });

  it('reads overrides, lists and API keys with roles', () => {
    const config = loadConfig({
      SIGFLOW_KAFKA_BROKERS: 'a:1, b:2',
      SIGFLOW_RULE_SESSION_GAP_MS: '60000',
      SIGFLOW_API_KEYS: 'r1:reader,a1:analyst,o:1:ops',
    });
    expect(config.kafka.brokers).toEqual(['a:1', 'b:2']);
    expect(config.rules.sessionGapMs).toBe(60_000);
    expect([...config.api.apiKeys]).toEqual([
      ['r1', 'reader'],
      ['a1', 'analyst'],
      ['o:1', 'ops'],
    ]);
  });

  it.each([
    [{ SIGFLOW_API_PORT: 'seven' }, 'SIGFLOW_API_PORT: expected an integer, got "seven"'],
    [{ SIGFLOW_API_PORT: '70000' }, 'SIGFLOW_API_PORT: expected 0..65535, got 70000'],
    [{ SIGFLOW_LOG_LEVEL: 'loud' }, /SIGFLOW_LOG_LEVEL: expected one of fatal, error/],
    [{ SIGFLOW_API_KEYS: 'k:admin' }, /SIGFLOW_API_KEYS: expected "key:role"/],
    [{ SIGFLOW_RULE_WINDOW_MS: '10' }, /SIGFLOW_RULE_WINDOW_MS: expected 1000\.\./],
  ])('names the variable of an unusable value (%o)', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });
});
