import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUserState, defaultRuleSettings, encodeUserSnapshot } from '@sigflow/core';
import { userPartition } from '@sigflow/events';
import { segmentViewCommands, type SegmentMemberChange } from '@sigflow/store/segments-alerts';
import { HOUR, MIN, startTestApi, testConfig, withKey, type TestApi } from './helpers.js';

const T0 = Date.UTC(2026, 0, 5, 10);
const NOW = T0 + 2 * HOUR;
const TTL = defaultRuleSettings.segmentMembershipTtlMs;

describe('segment definitions, members, sizes and profiles through the API', () => {
  let api: TestApi;
  const send = (method: 'GET' | 'PUT' | 'DELETE', url: string, role: 'reader' | 'ops' = 'ops', payload?: unknown) =>
    api.app.inject({ method, url, headers: withKey(role), ...(payload === undefined ? {} : { payload: payload as object }) });
  const put = (name: string, rule: unknown) => send('PUT', `/v1/segments/${name}`, 'ops', { rule });

  beforeAll(async () => {
    api = await startTestApi(testConfig({ SIGFLOW_SEGMENTS_MAX: '3' }), { now: () => NOW });
  });
  afterAll(async () => api?.close());

  it('ops create (201), change (200, version 2), read, list and delete a segment; readers only read', async () => {
    const rule = { all: [{ feature: 'count:page_view:24h', op: '>=', value: 3 }] };
    const created = await put('readers', rule);
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ name: 'readers', version: 1, rule, createdAt: NOW });
    const changed = await put('readers', { any: [{ feature: 'flagged', op: '==', value: true }] });
    expect(changed.statusCode).toBe(200);
    expect(changed.json()).toMatchObject({ version: 2, id: created.json().id });
    expect((await send('GET', '/v1/segments/readers', 'reader')).json().rule).toEqual({ any: [{ feature: 'flagged', op: '==', value: true }] });
    expect((await send('GET', '/v1/segments', 'reader')).json()).toMatchObject({ version: 2, segments: [{ name: 'readers' }] });
    expect((await send('PUT', '/v1/segments/readers', 'reader', { rule })).statusCode).toBe(403);
    expect((await send('DELETE', '/v1/segments/readers')).json()).toEqual({ deleted: 'readers' });
    expect((await send('GET', '/v1/segments/readers', 'reader')).statusCode).toBe(404);
    expect((await send('DELETE', '/v1/segments/readers')).statusCode).toBe(404);
  });

  describe('hostile rules are refused with a 400 that names the place', () => {
    const refused = async (rule: unknown, parameter: string, text: RegExp) => {
      const res = await put('hostile', rule);
      expect(res.statusCode, res.body).toBe(400);
      expect(res.json().parameter).toBe(parameter);
      expect(res.json().error).toMatch(text);
    };

    it('deep nesting', async () => {
      let rule: unknown = { feature: 'flagged', op: '==', value: true };
      for (let i = 0; i < 500; i++) rule = { all: [rule] };
      await refused(rule, 'rule/all/0/all/0/all/0/all/0', /nested deeper than 4 levels/);
    });

    it('huge lists', async () => {
      const channels = Array.from({ length: 2_000 }, (_, i) => `c${i}`);
      await refused({ all: [{ feature: 'channels', op: 'in', value: channels }] }, 'rule/all/0/value', /2000 values; at most 64/);
    });

    it('unknown features, and code where a value goes', async () => {
      await refused({ all: [{ feature: 'require("child_process")', op: '==', value: 1 }] }, 'rule/all/0/feature', /unknown feature/);
      await refused({ all: [{ feature: 'engagement_score', op: '>', value: { $where: 'sleep(1000)' } }] }, 'rule/all/0/value', /finite number/);
      await refused('return process.exit()', 'rule', /expected a group/);
    });

    it('too many conditions, a bad name, more segments than allowed', async () => {
      await refused({ any: Array.from({ length: 40 }, () => ({ feature: 'flagged', op: '==', value: true })) }, 'rule/any', /more than 32 conditions/);
      expect((await put('Bad Name', { all: [{ feature: 'flagged', op: '==', value: true }] })).statusCode).toBe(400);
      for (const name of ['s1', 's2', 's3']) expect((await put(name, { all: [{ feature: 'flagged', op: '==', value: true }] })).statusCode).toBe(201);
      const over = await put('s4', { all: [{ feature: 'flagged', op: '==', value: true }] });
      expect(over.statusCode).toBe(400);
      expect(over.json().error).toMatch(/at most 3 segments/);
      for (const name of ['s1', 's2', 's3']) await send('DELETE', `/v1/segments/${name}`);
    });
  });

  describe('members, size and profile, from speed views written as the speed layer writes them', () => {
    let id: string;
    beforeAll(async () => {
      id = (await put('buyers', { all: [{ feature: 'last_conversion_age_s', op: '<', value: 86400 }] })).json().id as string;
      // Five users enter at T0 + 1, 2, ... min (spread over the partitions); u3 leaves at T0 + 30 min.
      const users = ['u1', 'u2', 'u3', 'u4', 'u5'];
      const byPartition = new Map<number, { sizes: Map<string, number>; members: Map<string, SegmentMemberChange> }>();
      for (const [i, u] of users.entries()) {
        const p = userPartition(u, api.config.kafka.eventPartitions);
        const part = byPartition.get(p) ?? { sizes: new Map(), members: new Map() };
        byPartition.set(p, part);
        const entered = T0 + (i + 1) * MIN;
        part.sizes.set(`${id}\t${entered}\tin`, 1);
        if (u === 'u3') part.sizes.set(`${id}\t${T0 + 30 * MIN}\tout`, 1);
        else part.members.set(u, { members: [{ id, name: 'buyers', entered, version: 1 }], expiresAt: entered + TTL, entered: new Set([id]), left: null });
      }
      const pipe = api.redis.pipeline();
      for (const [p, part] of byPartition) {
        for (const [cmd, ...args] of segmentViewCommands(api.keys, p, part, { sizesMs: HOUR * 48, daysMs: HOUR * 48, membersMs: HOUR * 48 })) pipe.call(cmd, ...args);
        pipe.set(api.keys.speedWatermark(p), T0 + HOUR);
      }
      // u1's state: in the segment since T0 + 1 min.
      const state = { ...createUserState(), maxTs: T0 + 50 * MIN, segments: [{ id, name: 'buyers', entered: T0 + MIN, version: 1 }] };
      pipe.set(api.keys.userSnapshot(userPartition('u1', api.config.kafka.eventPartitions), 'u1'), encodeUserSnapshot({ user: state, signals: 0, writtenAt: NOW }));
      await pipe.exec();
    });

    it('pages through the members in user id order', async () => {
      const first = (await send('GET', '/v1/segments/buyers/members?limit=2', 'reader')).json();
      expect(first.members.map((m: { userId: string }) => m.userId)).toEqual(['u1', 'u2']);
      expect(first.members[0]).toEqual({ userId: 'u1', entered: T0 + MIN, expiresAt: T0 + MIN + TTL });
      const second = (await send('GET', `/v1/segments/buyers/members?limit=2&cursor=${first.nextCursor}`, 'reader')).json();
      expect(second.members.map((m: { userId: string }) => m.userId)).toEqual(['u4', 'u5']);
      const third = (await send('GET', `/v1/segments/buyers/members?limit=2&cursor=${second.nextCursor}`, 'reader')).json();
      expect(third).toMatchObject({ members: [], nextCursor: null, source: 'speed', asOf: T0 + HOUR + defaultRuleSettings.watermarkDelayMs });
      expect((await send('GET', '/v1/segments/buyers/members?cursor=%25%25', 'reader')).json().parameter).toBe('cursor');
    });

    it('sizes per minute and per hour: the level at the bucket end, entries and exits summed', async () => {
      const minutes = (await send('GET', `/v1/segments/buyers/size?from=${T0}&to=${T0 + 6 * MIN}&granularity=minute`, 'reader')).json();
      expect(minutes.rows.map((r: { size: number }) => r.size)).toEqual([0, 1, 2, 3, 4, 5]);
      const hours = (await send('GET', `/v1/segments/buyers/size?from=${T0}&to=${T0 + 2 * HOUR}&granularity=hour`, 'reader')).json();
      expect(hours.rows.map((r: { start: number; size: number; entered: number; left: number; source: string }) => [r.start, r.size, r.entered, r.left, r.source])).toEqual([
        [T0, 4, 5, 1, 'speed'],
        [T0 + HOUR, 4, 0, 0, 'speed'],
      ]);
      expect((await send('GET', '/v1/segments/nope/size', 'reader')).statusCode).toBe(404);
    });

    it("lists the segments in the user's profile with the time entered", async () => {
      const profile = (await send('GET', '/v1/users/u1/profile', 'reader')).json();
      expect(profile.segments).toEqual([{ name: 'buyers', entered: T0 + MIN, version: 1, expiresAt: T0 + 50 * MIN + TTL }]);
    });
  });
});
