import type { SigflowEvent } from '@sigflow/events';
import type { RuleSettings } from '../rule-settings.js';
import { compareUserEventOrder } from '../ordering/event-order.js';
import { floodedIpClicks } from '../validity/flood-rule.js';
import type { ShapleyTable } from '../attribution/shapley-table.js';
import type { MarkovModel } from '../attribution/markov.js';
import { createUserState, type UserState } from './user-state.js';
import { processEvent } from './process-event.js';
import type { EventOutcome } from './event-outcome.js';

/** Inputs of {@link processBatch}. */
export interface BatchRunOptions {
  readonly settings: RuleSettings;
  readonly shapley?: ShapleyTable | null | undefined;
  readonly markov?: MarkovModel | null | undefined;
  /** Only the views are wanted (see `ProcessContext.viewsOnly`). */
  readonly viewsOnly?: boolean | undefined;
}

/**
 * The batch layer's execution of the shared rules over deduplicated events (first copies only)
 * of one Kafka partition: the IP flood verdicts first (clicks by ip, ts, event_id), then every
 * event through {@link processEvent} in (user_id, ts, event_id) order with no watermark.
 * Returns the outcomes in that order and each user's final state. To recompute a time range,
 * feed the preceding attribution lookback too (so paths, joins and floods are warm) and keep
 * the outcomes whose ts is in the range.
 */
export function processBatch(
  events: readonly SigflowEvent[],
  options: BatchRunOptions,
): { outcomes: EventOutcome[]; users: Map<string, UserState> } {
  const sorted = [...events].sort(compareUserEventOrder);
  const ipFlooded = floodedIpClicks(
    sorted.filter((e) => e.type === 'click'),
    options.settings,
  );
  const users = new Map<string, UserState>();
  const outcomes = sorted.map((event) => {
    let user = users.get(event.user_id);
    if (!user) users.set(event.user_id, (user = createUserState()));
    return processEvent(
      {
        user,
        ipFlood: event.type === 'click' ? ipFlooded.has(event.event_id) : undefined,
        settings: options.settings,
        shapley: options.shapley,
        markov: options.markov,
        viewsOnly: options.viewsOnly,
        isDuplicate: false,
      },
      event,
    );
  });
  return { outcomes, users };
}
