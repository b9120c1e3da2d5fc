import { parentPort } from 'node:worker_threads';
import { eventsOfColumns } from '@sigflow/archive';
import type { MarkovModel, RuleSettings, ShapleyTable } from '@sigflow/core';
import { columnValues, type ColumnPlan, type RawColumn } from './chunk-columns.js';
import { HourViewsAccumulator } from './hour-views.js';
import { UserRuleFeed } from './rule-feed.js';

/** What a rule thread needs for one pass of a recompute. */
export interface RuleThreadData {
  readonly plan: ColumnPlan[];
  readonly settings: RuleSettings;
  readonly shapley: ShapleyTable | null | undefined;
  readonly markov: MarkovModel | null | undefined;
  readonly flooded: string[];
  readonly from: number;
  readonly to: number;
  /** The plan's column of known verdicts, if any (`RuleRunOptions.verdictColumn`). */
  readonly verdictColumn?: string | undefined;
}

/** Main thread -> rule thread: a pass starts, the next rows of its users (sorted), or the pass ends. */
export type RuleThreadRequest =
  | { readonly start: RuleThreadData }
  | { readonly rows: RawColumn[]; readonly rowCount: number }
  | { readonly finish: true };

/** A pass in a rule thread: its columns, its accumulator, its users' rule loop. */
function startPass(data: RuleThreadData) {
  const acc = new HourViewsAccumulator(data.from, data.to, new Map(), new Map());
  const rules = new UserRuleFeed(
    // A rule thread only sums views.
    { settings: data.settings, shapley: data.shapley, markov: data.markov, flooded: new Set(data.flooded), viewsOnly: true },
    (outcome, event) => acc.add(outcome, event),
  );
  const names = data.plan.map((p) => p.name);
  return { plan: data.plan, names, verdicts: data.verdictColumn === undefined ? -1 : names.indexOf(data.verdictColumn), acc, rules };
}

// A rule thread of a recompute (see `sharded-rules.ts`), kept across its passes: the events of
// its users, in (user_id, ts, event_id) order, through the same UserRuleFeed (core's
// processEvent) as the main thread, folded into its own HourViewsAccumulator; at the end of a
// pass it sends the sums back.
if (parentPort) {
  const port = parentPort;
  let pass: ReturnType<typeof startPass> | undefined;
  port.on('message', (request: RuleThreadRequest) => {
    if ('start' in request) {
      pass = startPass(request.start);
    } else if ('finish' in request) {
      port.postMessage({ totals: pass?.acc.snapshot() });
      pass = undefined;
    } else if (pass) {
      const { plan, names, verdicts, rules } = pass;
      const columns = columnValues(request.rows, plan, request.rowCount);
      rules.feed(eventsOfColumns(names, columns, request.rowCount), verdicts < 0 ? undefined : columns[verdicts]);
      port.postMessage({ done: request.rowCount });
    }
  });
}
