// @sigflow/store/bidding: Budgets and their log, the bidding states, published marks and the answer cache.
export {
  changeBudget,
  readBudget,
  readBudgets,
  readBudgetChanges,
  parseStoredBudget,
  budgetChangesKept,
} from './budgets.js';
export type { StoredBudget, KeyIdentity } from './budgets.js';
export {
  writeBiddingStates,
  readBiddingStates,
  deleteBiddingState,
  readPublishedMarks,
  writePublishedMarks,
  deletePublishedMark,
  holdBiddingLease,
  releaseBiddingLease,
} from './bidding-state.js';
export type { PublishedMark } from './bidding-state.js';
export { BiddingAnswerCache, type CacheOutcome } from './bidding-answer-cache.js';
