// @sigflow/store/speed-state: The speed layer's own state: the fenced commit (owner epoch, offsets, outbox), users' stored state and recent users, and the signal corrections the batch layer applies to it.
export {
  dryRunCommit,
  epochState,
  fencedCommit,
  fencedOutboxTrim,
  OffsetFenceError,
  retakeEpoch,
} from './fenced-commit.js';
export { readRecentUsers } from './recent-users.js';
export { correctUserSignals, readSignalReviews, signalReviewLine } from './signal-corrections.js';
export type { SignalVerdict, UserSignalCorrection } from './signal-corrections.js';
export { readStoredUserStates } from './user-state-reads.js';
export type { StoredUserState } from './user-state-reads.js';
