import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultRuleSettings, encodeSignal, encodeUserSnapshot, engagementAt, processBatch, type UserSignal } from '@sigflow/core';
import { userPartition, type SigflowEvent } from '@sigflow/events';
import { HOUR, signalsKey, startTestApi, testConfig, withKey, type TestApi } from './helpers.js';

const T0 = Date.UTC(2026, 0, 5, 10);
const NOW = T0 + 2 * HOUR;
const bot = 'Googlebot/2.1 (+http://www.google.com/bot.html)';

/** 150 events of one user: impressions, clicks 2 s later, a bot impression every 10th, a conversion every 50th. */
function history(user: string): SigflowEvent[] {
  const events: SigflowEvent[] = [];
  for (let i = 0; i < 150; i++) {
    const ts = T0 + i * 10_000;
    const common = { event_id: `${user}-${i}`, user_id: user, ts };
    if (i % 50 === 49) events.push({ ...common, type: 'conversion', value: 30 });
    else if (i % 10 === 3) events.push({ ...common, type: 'impression', campaign_id: 'c1', ad_id: 'a1', channel: 'search', user_agent: bot });
    else if (i % 2 === 1) events.push({ ...common, type: 'click', campaign_id: 'c1', ad_id: 'a1', channel: 'search' });
    else events.push({ ...common, type: 'impression', campaign_id: 'c1', ad_id: 'a1', channel: 'search' });
  }
  return events;
}

describe('user signals and profile', () => {
  let api: TestApi;
  let signals: UserSignal[];
  const get = (url: string) => api.app.inject({ method: 'GET', url, headers: withKey('reader') });

  beforeAll(async () => {
    api = await startTestApi(testConfig(), { now: () => NOW });
    const { outcomes, users } = processBatch(history('u1'), { settings: defaultRuleSettings });
    signals = outcomes.flatMap((o) => (o.signal ? [o.signal] : []));
    // As the speed layer writes them: LPUSH in arrival order, newest at the head.
    await api.redis.lpush(signalsKey(api, 'u1'), ...signals.map((s) => JSON.stringify(s)));
    // The state as the speed layer stores it: a snapshot covering every signal of the log.
    const snapshot = encodeUserSnapshot({ user: users.get('u1')!, signals: signals.length, writtenAt: NOW });
    await api.redis.set(api.keys.userSnapshot(userPartition('u1', api.config.kafka.eventPartitions), 'u1'), snapshot);
  });

  afterAll(async () => {
    await api?.close();
  });

  it('newest first, invalid excluded by default, limit 100 by default', async () => {
    const res = await get('/v1/users/u1/signals');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('application/json');
    const body = res.json();
    const valid = [...signals].reverse().filter((s) => !s.invalid);
    expect(signals.some((s) => s.invalid && s.reason === 'bot')).toBe(true);
    expect(body).toEqual({ userId: 'u1', count: 100, signals: valid.slice(0, 100) });
  });

  it('includeInvalid, types, since and limit filter; a sparse type is found deep in the list', async () => {
    const all = (await get('/v1/users/u1/signals?includeInvalid=true&limit=1000')).json();
    expect(all.count).toBe(150);
    expect(all.signals).toEqual([...signals].reverse());
    const conversions = (await get('/v1/users/u1/signals?types=conversion&limit=5')).json();
    expect(conversions.signals.map((s: UserSignal) => s.event_id)).toEqual(['u1-149', 'u1-99', 'u1-49']);
    const since = (await get(`/v1/users/u1/signals?since=${new Date(T0 + 1_400_000).toISOString()}&types=click,conversion&limit=3`)).json();
    expect(since.signals.map((s: UserSignal) => s.event_id)).toEqual(['u1-149', 'u1-147', 'u1-145']);
    expect(since.signals.every((s: UserSignal) => s.ts >= T0 + 1_400_000)).toBe(true);
  });

  it('an unknown user has no signals and an empty profile (200, not 404 or 500)', async () => {
    expect((await get('/v1/users/nobody/signals')).json()).toEqual({ userId: 'nobody', count: 0, signals: [] });
    const profile = await get('/v1/users/nobody/profile');
    expect(profile.statusCode).toBe(200);
    expect(profile.json()).toMatchObject({ userId: 'nobody', known: false, sessions: [], lastTouch: null, conversions: { count: 0, value: 0 } });
  });

  it('invalid is read from the field itself, whatever string values hold or how the JSON is spaced', async () => {
    const tricky = { event_id: 'x1', type: 'element_click', ts: T0, page_id: 'p', element_id: '","invalid":false,"a":"', invalid: true, reason: 'bot', late: false };
    const spaced = JSON.stringify({ ...tricky, event_id: 'x2', element_id: 'e', invalid: false, reason: null }, null, 1);
    const spacedBad = JSON.stringify({ ...tricky, event_id: 'x3', element_id: 'e' }, null, 1);
    // As core encodes them now: validity first, whatever the values hold after it.
    const leadingBad = encodeSignal({ ...(tricky as UserSignal), event_id: 'x4' });
    const leadingGood = encodeSignal({ ...(tricky as UserSignal), event_id: 'x5', element_id: '{"invalid":true', invalid: false, reason: null });
    expect([leadingBad.slice(0, 15), leadingGood.slice(0, 16)]).toEqual(['{"invalid":true', '{"invalid":false']);
    await api.redis.lpush(signalsKey(api, 'u2'), JSON.stringify(tricky), spaced, spacedBad, leadingBad, leadingGood);
    const ids = (await get('/v1/users/u2/signals')).json().signals.map((s: UserSignal) => s.event_id);
    expect(ids).toEqual(['x5', 'x2']);
  });

  it('serves each event once: of two copies the one that arrived first, in its place; a dropped copy never', async () => {
    const signal = (event_id: string, over: Partial<UserSignal> = {}) =>
      encodeSignal({ invalid: false, event_id, type: 'page_view', ts: T0, reason: null, late: false, source: 'speed', page_id: 'p', ...over });
    // Oldest first as the speed layer appended them; `a` again beyond the dedupe horizon (late,
    // unchecked for copies), and the marker of a copy of `c` the batch layer dropped.
    const log = [signal('a'), signal('b'), signal('c'), '{"dropped":"duplicate","event_id":"c"}', signal('d'), signal('a', { late: true, unchecked: true }), signal('e')];
    await api.redis.lpush(signalsKey(api, 'u3'), ...log);
    const served = async (query: string) => (await get(`/v1/users/u3/signals${query}`)).json().signals as UserSignal[];
    const all = await served('?includeInvalid=true');
    expect(all.map((s) => [s.event_id, s.late])).toEqual([['e', false], ['d', false], ['c', false], ['b', false], ['a', false]]);
    expect((await served('')).map((s) => s.event_id)).toEqual(['e', 'd', 'c', 'b', 'a']);
    expect((await served('?types=page_view&limit=10')).map((s) => s.event_id)).toEqual(['e', 'd', 'c', 'b', 'a']);
    // The first copy beyond what a small limit reads: the later one is served, still once.
    expect((await served('?limit=3')).map((s) => [s.event_id, s.late])).toEqual([['e', false], ['a', true], ['d', false]]);
  });

  it('user ids with spaces and unicode round-trip through the path', async () => {
    await api.redis.lpush(signalsKey(api, 'ü ser/1'), JSON.stringify(signals[0]));
    const res = await get(`/v1/users/${encodeURIComponent('ü ser/1')}/signals`);
    expect(res.json()).toMatchObject({ userId: 'ü ser/1', count: 1 });
  });

  it('profile: engagement decayed to now, recent sessions newest first, last touch, conversions', async () => {
    const { users } = processBatch(history('u1'), { settings: defaultRuleSettings });
    const state = users.get('u1')!;
    const body = (await get('/v1/users/u1/profile')).json();
    expect(body).toMatchObject({
      userId: 'u1',
      known: true,
      asOf: NOW,
      lastEventAt: T0 + 149 * 10_000,
      conversions: { count: 3, value: 90 },
      lastTouch: { event_id: 'u1-148', type: 'impression', campaign_id: 'c1' },
    });
    expect(body.engagement.score).toBeCloseTo(engagementAt(state.engagement, NOW, defaultRuleSettings.engagementHalfLifeMs), 10);
    expect(body.engagement.score).toBeLessThan(state.engagement.score);
    expect(body.sessions).toEqual([{ start: T0, end: T0 + 149 * 10_000, events: 135, open: false }]);
  });
});
