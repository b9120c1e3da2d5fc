import { describe, expect, it } from 'vitest';
import { analyticsMessageProblem } from '../src/index.js';

// Written by hand as README's analytics.v1 section describes them.
const conversion = {
  conversion_event_id: 'v-1',
  user_id: 'alice',
  ts: 1_764_000_000_000,
  window_start: 1_763_999_980_000,
  value: 40,
  path_length: 1,
  shapley_version: null,
  shapley_fallback: 'no_table',
  credits: {
    last_touch: [{ touchpoint_event_id: 'c-1', touchpoint_ts: 1_763_999_000_000, campaign_id: 'spring', ad_id: 'a1', channel: 'search', fraction: 1, revenue: 40 }],
    linear: [{ touchpoint_event_id: null, touchpoint_ts: null, campaign_id: 'direct', ad_id: 'direct', channel: 'direct', fraction: 1, revenue: 40 }],
  },
};
const entered = { kind: 'segment_entered', user_id: 'bob', segment: 'readers', segment_id: 's-1', segment_version: 2, at: 10, reason: 'rule', entered_at: 10 };

describe('analytics.v1 messages', () => {
  it('accepts an attributed conversion and a segment change', () => {
    expect(analyticsMessageProblem(conversion)).toBeNull();
    expect(analyticsMessageProblem(entered)).toBeNull();
    expect(analyticsMessageProblem({ ...entered, kind: 'segment_left', reason: 'lapsed', entered_at: 2 })).toBeNull();
  });

  it('names what is wrong with a message that is not one', () => {
    expect(analyticsMessageProblem({ ...entered, reason: 'expired' })).not.toBeNull();
    expect(analyticsMessageProblem({ ...entered, extra: 1 })).not.toBeNull();
    expect(analyticsMessageProblem({ ...conversion, credits: {} })).not.toBeNull();
    expect(analyticsMessageProblem({ ...conversion, credits: { linear: [{ ...conversion.credits.linear[0], fraction: 1.5 }] } })).not.toBeNull();
    const { user_id: _, ...anonymous } = conversion;
    expect(analyticsMessageProblem(anonymous)).not.toBeNull();
    expect(analyticsMessageProblem('{"kind":"segment_entered"}')).not.toBeNull();
  });
});
