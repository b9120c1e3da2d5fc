import { describe, expect, it } from 'vitest';
import { defaultBiddingSettings } from '@sigflow/core';
import { StoreKeys } from '@sigflow/store';
import type { AlertEpisode, StoredAlertRule, StoredAlertSeries } from '@sigflow/store/segments-alerts';
import { WindowCounts } from '../src/alert-window-reads.js';
import { evaluateWindow } from '../src/window-evaluation.js';

const M = 60_000;
const T = Date.UTC(2026, 0, 5, 12);
const keys = new StoreKeys('t');
const rule: StoredAlertRule = {
  name: 'ctr-drop',
  description: '',
  metric: 'ctr',
  campaign: 'c1',
  condition: { op: 'drop_pct', threshold: 50 },
  for: 2,
  model: 'last_touch',
  webhook: { url: 'https://hooks.example.com/', secret: 's'.repeat(16) },
  createdAt: 0,
  updatedAt: 0,
};

/** An hour at CTR 4 % (1,000 impressions, 40 clicks a window), then the windows given. */
function countsWith(ctrs: number[]): WindowCounts {
  const counts = new WindowCounts(M, defaultBiddingSettings);
  for (let w = T - 60 * M; w < T; w += M) Object.assign(counts.cell('c1', w), { impressions: 1_000, clicks: 40 });
  ctrs.forEach((ctr, i) => Object.assign(counts.cell('c1', T + i * M), { impressions: 1_000, clicks: Math.round(ctr * 1_000) }));
  return counts;
}

describe('one closed window of the alert rules (no Redis)', () => {
  it('fires once after two windows down 50 % or more against the trailing hour, resolves once when it recovers', () => {
    // Window 0: 2 % against exactly 4 %, a drop of exactly 50 %: holds. Window 1: 1 % (the trailing hour now
    // holds window 0 too). Window 2 holds, 3 recovers, 4 is quiet.
    const counts = countsWith([0.02, 0.01, 0.01, 0.04, 0.04]);
    const series = new Map<string, StoredAlertSeries>();
    const episodes = new Map<string, AlertEpisode>();
    const events: string[] = [];
    const commits: string[][] = [];
    for (let i = 0; i < 5; i++) {
      const out = evaluateWindow({ keys, windowMs: M, rules: [rule], campaigns: ['c1', 'c2'], series, episodes, now: 1_000 + i }, counts, T + i * M);
      for (const e of out.fired) events.push(`fired@${(e.firedWindow - T) / M} value=${e.firedValue} trailing=${e.firedTrailing}`);
      for (const e of out.resolved) events.push(`resolved@${(e.resolvedWindow! - T) / M}`);
      commits.push(out.commands.map((c) => String(c[0])));
    }
    expect(events).toEqual([`fired@1 value=0.01 trailing=${(59 * 40 + 20) / 60_000}`, 'resolved@3']);
    expect(commits[1]).toEqual(['HSET', 'HSET', 'SADD', 'ZADD', 'HSET', 'SET']);
    expect(commits[2]).toEqual(['HSET', 'SET']); // streak 3: series only
    expect(commits[4]).toEqual(['SET']); // nothing moved
    expect([...series.values()]).toEqual([{ streak: 0, firingSince: null, episode: null }]);
  });

  it('a window without impressions neither counts nor resolves', () => {
    const counts = countsWith([0.01, 0.01]);
    const series = new Map<string, StoredAlertSeries>();
    const episodes = new Map<string, AlertEpisode>();
    const run = (ws: number) => evaluateWindow({ keys, windowMs: M, rules: [rule], campaigns: [], series, episodes, now: 0 }, counts, ws);
    expect(run(T).fired).toHaveLength(0);
    expect(run(T + M).fired).toHaveLength(1);
    expect(run(T + 2 * M)).toMatchObject({ fired: [], resolved: [] }); // no data in window 2
    expect([...series.values()][0]).toMatchObject({ streak: 2, firingSince: T + 2 * M });
  });
});
