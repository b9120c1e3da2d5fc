import { describe, expect, it } from 'vitest';
import { loadConfig } from '@sigflow/config';
import { batchJobOptions, batchSchedules, InvalidJobDataError, jobDataOf, jobKinds, parseJobRequest, parseJobTime } from '../src/index.js';

const H = 3_600_000;
const T = Date.UTC(2026, 10, 20, 10);

describe('job data validation', () => {
  it('accepts ISO times without seconds and ms, and widens ranges to whole hours', () => {
    expect(parseJobRequest('recompute', { from: '2026-11-20T10:00Z', to: '2026-11-20T14:00Z' })).toEqual({ kind: 'recompute', from: T, to: T + 4 * H });
    expect(parseJobRequest('recompute', { from: T + 60_000, to: String(T + H + 1) })).toEqual({ kind: 'recompute', from: T, to: T + 2 * H });
    expect(parseJobRequest('reconcile', { from: '2026-11-20T11:00+01:00', to: '2026-11-20T11:30Z' })).toEqual({ kind: 'reconcile', from: T, to: T + 2 * H });
    expect(parseJobRequest('recompute-dirty', undefined)).toEqual({ kind: 'recompute-dirty' });
    expect(parseJobRequest('train-attribution', {})).toEqual({ kind: 'train-attribution' });
    expect(parseJobRequest('compact', { hour: '2026-11-20T10:30Z' })).toEqual({ kind: 'compact', hour: T, force: false });
    expect(parseJobTime('2026-11-20T10:00:00.000Z', 'x')).toBe(T);
  });

  it('rejects malformed data with a message that names the field', () => {
    const bad: [string, unknown, RegExp][] = [
      ['recompute', { from: 'yesterday', to: T }, /recompute\.from must be an ISO time/],
      ['recompute', { from: T }, /needs from and to/],
      ['recompute', { from: T + H, to: T }, /from must be before to/],
      ['recompute', { from: T, to: T + 400 * 24 * H }, /longer than 366 days/],
      ['recompute', { from: T, to: T + H, hours: 3 }, /unknown field hours/],
      ['recompute', [T, T + H], /must be an object/],
      ['recompute-dirty', { from: T }, /unknown field from/],
      ['compact', { hour: T, force: 'yes' }, /force must be a boolean/],
      ['compact', {}, /needs hour/],
      ['reprocess', {}, /unknown job kind "reprocess"/],
    ];
    for (const [name, data, message] of bad) {
      expect(() => parseJobRequest(name, data)).toThrow(InvalidJobDataError);
      expect(() => parseJobRequest(name, data)).toThrow(message);
    }
  });

  it('delete-user takes a user id as the event contract has it, and nothing else', () => {
    for (const userId of ['', 'x'.repeat(129), 'tab\there', 42, undefined]) {
      expect(() => parseJobRequest('delete-user', { userId })).toThrow(/delete-user\.userId must be 1-128 printable characters/);
    }
    expect(() => parseJobRequest('delete-user', { userId: 'p', extra: 1 })).toThrow(/unknown field extra/);
    expect(parseJobRequest('delete-user', { userId: 'x'.repeat(128) })).toEqual({ kind: 'delete-user', userId: 'x'.repeat(128) });
  });

  describe('when a surface says who asked (requestedBy)', () => {
    it('every kind takes it and keeps it in the data it enqueues', () => {
      const by = 'api:key-0123456789ab';
      const cases: [string, Record<string, unknown>, Record<string, unknown>][] = [
        ['recompute', { from: '2026-11-20T10:30Z', to: T + H }, { from: T, to: T + H }],
        ['recompute-part', { from: T, to: '2026-11-20T11:30Z' }, { from: T, to: T + 2 * H }],
        ['reconcile', { from: T, to: T + H + 1 }, { from: T, to: T + 2 * H }],
        ['recompute-dirty', {}, {}],
        ['train-attribution', { from: T }, { from: T }],
        ['compact', { hour: T + 5 }, { hour: T, force: false }],
        ['enforce-retention', {}, {}],
        ['delete-user', { userId: 'person-1' }, { userId: 'person-1' }],
      ];
      expect(cases.map(([kind]) => kind).sort()).toEqual([...jobKinds].sort());
      for (const [kind, data, normalized] of cases) {
        expect(parseJobRequest(kind, { ...data, requestedBy: by })).toEqual({ kind, ...normalized, requestedBy: by });
        expect(jobDataOf(parseJobRequest(kind, { ...data, requestedBy: by }))).toEqual({ ...normalized, requestedBy: by });
      }
    });

    it('refuses a requester that is not a short plain name', () => {
      for (const requestedBy of ['', 'x'.repeat(65), 'a b', 'api\nkey', 42, null, { user: 'x' }]) {
        expect(() => parseJobRequest('recompute-dirty', { requestedBy })).toThrow(/recompute-dirty\.requestedBy must be/);
      }
    });
  });
});

describe('queue options from configuration', () => {
  it('every job gets the configured attempts and backoff; schedules say who asked', () => {
    const config = loadConfig({ SIGFLOW_BATCH_ATTEMPTS: '5', SIGFLOW_BATCH_BACKOFF_MS: '250', SIGFLOW_BATCH_KEEP_COMPLETED_MS: '60000', SIGFLOW_BATCH_RECOMPUTE_EVERY: '*/2 * * * *' });
    expect(batchJobOptions(config.batch)).toEqual({
      attempts: 5,
      backoff: { type: 'exponential', delay: 250 },
      removeOnComplete: { age: 60, count: 1_000 },
      removeOnFail: { age: 30 * 86_400, count: 1_000 },
    });
    const schedules = batchSchedules(config);
    expect(schedules.map((s) => [s.id, s.pattern, s.jobName])).toEqual([
      ['recompute-dirty', '*/2 * * * *', 'recompute-dirty'],
      ['train-attribution', '15 3 * * *', 'train-attribution'],
      ['enforce-retention', '40 * * * *', 'enforce-retention'],
    ]);
    for (const s of schedules) expect(parseJobRequest(s.jobName, s.data)).toMatchObject({ requestedBy: `scheduler:${s.id}` });
  });
});
