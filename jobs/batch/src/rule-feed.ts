import { createUserState, processEvent, updateKeyedState, type EventOutcome, type MarkovModel, type RuleSettings, type ShapleyTable, type UserState } from '@sigflow/core';
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
 * An event with a known verdict (a touchpoint verdict of an hour computed before) is not judged
 * again: core's `updateKeyedState` takes it into its user's state with that verdict, the step
 * `processEvent` ends with, and it has no outcome.
 */
export class UserRuleFeed {
  private userId: string | undefined;
  private user: UserState = createUserState();

  constructor(
    private readonly ctx: RuleFeedContext,
    private readonly onOutcome: OutcomeSink,
  ) {}

  /** Feeds the next events of the sorted stream; `knownVerdicts[i]` is event i's known verdict (1 valid, 0 invalid), if any. */
  feed(events: readonly ReceivedEvent[], knownVerdicts?: readonly unknown[]): void {
    const { settings, shapley, markov, flooded, viewsOnly } = this.ctx;
    for (let i = 0; i < events.length; i++) {
      const event = events[i] as ReceivedEvent;
      if (event.user_id !== this.userId) {
        this.userId = event.user_id;
        this.user = createUserState();
      }
      const user = this.user;
      const known = knownVerdicts?.[i];
      if (known !== null && known !== undefined) {
        updateKeyedState(user, event, known === 1, settings, viewsOnly ?? false);
        continue;
      }
      const previousMaxTs = user.maxTs;
      const ipFlood = event.type === 'click' ? flooded.has(event.event_id) : undefined;
      const outcome = processEvent({ user, ipFlood, settings, shapley, markov, viewsOnly, isDuplicate: false }, event);
      this.onOutcome(outcome, event, user, previousMaxTs);
    }
  }
}
