import { createUserState, processEvent, type EventOutcome, type MarkovModel, type RuleSettings, type ShapleyTable, type UserState } from '@sigflow/core';
import type { ReceivedEvent } from '@sigflow/events';

/** What the rules need besides the events (the batch layer's side of `ProcessContext`). */
export interface RuleFeedContext {
  readonly settings: RuleSettings;
  readonly shapley?: ShapleyTable | null | undefined;
  readonly markov?: MarkovModel | null | undefined;
  /** Clicks the IP half of the flood rule flagged (`floodedClicksOf`). */
  readonly flooded: ReadonlySet<string>;
  /** Only the views are read (core's `ProcessContext.viewsOnly`): no signals, sessions, engagement or segment features. */
  readonly viewsOnly?: boolean | undefined;
}

/** Called for every event with what the rules made of it, the user's state after it and the user's newest event time before it. */
export type OutcomeSink = (outcome: EventOutcome, event: ReceivedEvent, user: UserState, previousMaxTs: number | null) => void;

/**
 * Events sorted by (user_id, ts, event_id) through core's `processEvent`, one user's keyed
 * state at a time (a new user starts from an empty state; nothing is late, no partition). The
 * one loop of the batch layer: runRules drives it in the main thread, the rule threads in theirs.
 */
export class UserRuleFeed {
  private userId: string | undefined;
  private user: UserState = createUserState();

  constructor(
    private readonly ctx: RuleFeedContext,
    private readonly onOutcome: OutcomeSink,
  ) {}

  /** Feeds the next events of the sorted stream. */
  feed(events: readonly ReceivedEvent[]): void {
    const { settings, shapley, markov, flooded, viewsOnly } = this.ctx;
    for (const event of events) {
      if (event.user_id !== this.userId) {
        this.userId = event.user_id;
        this.user = createUserState();
      }
      const user = this.user;
      const previousMaxTs = user.maxTs;
      const ipFlood = event.type === 'click' ? flooded.has(event.event_id) : undefined;
      const outcome = processEvent({ user, ipFlood, settings, shapley, markov, viewsOnly, isDuplicate: false }, event);
      this.onOutcome(outcome, event, user, previousMaxTs);
    }
  }
}
