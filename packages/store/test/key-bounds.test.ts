// Every key kind of the layout written without a TTL has a named bound; the kinds written with a
// TTL have none (a key of theirs found without a TTL is a bug the run's key scan reports).
import { describe, expect, it } from 'vitest';
import { keyBound, StoreKeys } from '../src/index.js';

describe('key bounds', () => {
  const keys = new StoreKeys('t-bounds');

  it('names the bound of each kind that lives without a TTL', () => {
    const bounded = [
      keys.speedOffset(3),
      keys.speedEpoch(0),
      keys.speedPartition(1),
      keys.speedWatermark(2),
      keys.knownUsersSince(0),
      keys.speedCounters(1),
      keys.speedOutbox(0),
      keys.speedErasures(2),
      keys.campaigns(0),
      keys.pages(1),
      keys.batchCampaigns(),
      keys.batchHours(),
      keys.dirtyHours(),
      keys.batchWatermark(),
      keys.shapleyTable(),
      keys.markovModel(),
      keys.tombstones(),
      keys.storeMarker(),
      keys.budgets(),
      keys.budgetChanges('c1'),
      keys.biddingPublished(),
      keys.segmentDefinitions(),
      keys.segmentMeta(),
      keys.segmentsVersion(),
      keys.alertRules(),
      keys.alertSeries(),
      keys.alertsEvaluated(),
      keys.alertEpisodes(),
      keys.alertEpisodesByTime(),
      keys.alertDeliveries(),
      keys.alertOutbox(),
      `${keys.prefix}:archive:watermarks`,
      `${keys.prefix}:bull:batch:completed`,
      `${keys.prefix}:bull:batch:events`,
      `${keys.prefix}:bull:batch:del-0b0e5f3a-2c1d-4e9f-8a7b-6c5d4e3f2a1b`,
    ];
    for (const key of bounded) expect(keyBound(keys, key), key).toMatch(/\w/);
    expect(keyBound(keys, keys.tombstones())).toBe('the deletions of one retention period (older tombstones are removed)');
  });

  it('names none for the kinds that must carry a TTL, nor for keys of another prefix', () => {
    const withTtl = [
      keys.signals(0, 'u1'),
      keys.userSnapshot(1, 'u1'),
      keys.ipState(0, '203.0.113.0'),
      keys.seenEvents(0, 3_600_000),
      keys.signalReviews(0, 3_600_000),
      keys.storeRestoring(),
      keys.knownUsers(0, 86_400_000),
      keys.speedMetrics(0, 'c1', 3_600_000),
      keys.speedSpend(0, 'c1', 3_600_000),
      keys.batchSpend('c1', 3_600_000, 'v1'),
      keys.biddingState('c1'),
      keys.biddingLeader(),
      keys.recentUsers(0),
      keys.batchMetrics('c1', 3_600_000, 'v1'),
      keys.batchQuality(3_600_000, 'v1'),
      keys.speedSegmentSizes(0, 'active.1', 3_600_000),
      keys.speedSegmentDays(1, 'active.1'),
      keys.speedSegmentMembers(2, 'active.1'),
      keys.speedSegmentMemberInfo(3, 'active.1'),
      keys.batchSegmentSizes('active.1', 3_600_000),
      keys.batchSegmentHours('active.1'),
      keys.batchSegmentMembers('active.1'),
      keys.batchSegmentMemberInfo('active.1'),
      keys.batchSegmentMembersState('active.1'),
      keys.alertsLease(),
      `other-prefix:batch:hours`,
    ];
    for (const key of withTtl) expect(keyBound(keys, key), key).toBeNull();
  });
});
