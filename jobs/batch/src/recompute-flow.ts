import { Job, WaitingChildrenError, type Queue } from 'bullmq';
import { parseJobRequest } from '@sigflow/batch-jobs';
import { RecomputePartError } from './errors.js';
import { HOUR_MS, hourSpans } from './hour-range.js';

/** An hour range [from, to), ms. */
export interface HourSpan {
  readonly from: number;
  readonly to: number;
}

/** What a `recompute-part` job answers, and what its parent sums. */
export interface PartAnswer {
  readonly hours: number;
  readonly replaced: number;
  readonly versions: string[];
  readonly events: number;
  /** Later copies dropped (duplicates) in the hours. */
  readonly duplicates: number;
  readonly rowsRead: number;
  readonly eventsProcessed: number;
  readonly recomputedHours: number[];
  /** Later hours marked dirty because a late file in the part made them stale (absent in answers of older workers). */
  readonly staleHoursMarked?: number[];
  /** Passes run, and those whose lookback came from touchpoint verdicts (absent in answers of older workers). */
  readonly passes?: number;
  readonly passesFromVerdicts?: number;
  /** Where the part's time went (`RecomputeResult.timings`, ms). */
  readonly timings?: Readonly<Record<string, number>>;
}

/** Whether a recompute of `span` fans out as parts (it is longer than `hoursPerPart` hours). */
export function fansOut(span: HourSpan, hoursPerPart: number): boolean {
  return span.to - span.from > hoursPerPart * HOUR_MS;
}

/**
 * The parent's side of a fanned-out recompute. On its first run it enqueues its parts as
 * `recompute-part` child jobs (one `addBulk`, only while it has no children: a parent run again
 * after a crash adds none twice) and waits for them (BullMQ's `WaitingChildrenError`: the parent
 * is handed out again once every part completed, or as soon as one failed for good). Returns the
 * parts' answers; throws {@link RecomputePartError} with the hours and reason of a failed part.
 */
export async function awaitRecomputeParts(queue: Queue, job: Job, token: string, span: HourSpan, hoursPerPart: number): Promise<PartAnswer[]> {
  const parts = hourSpans(span.from, span.to, hoursPerPart);
  const counts = await job.getDependenciesCount({ processed: true, unprocessed: true, failed: true });
  if ((counts.processed ?? 0) + (counts.unprocessed ?? 0) + (counts.failed ?? 0) === 0) {
    const { requestedBy } = job.data as { requestedBy?: string };
    await queue.addBulk(
      parts.map((part) => ({
        name: 'recompute-part',
        data: { from: part.from, to: part.to, ...(requestedBy === undefined ? {} : { requestedBy }) },
        opts: { ...queue.defaultJobOptions, parent: { id: String(job.id), queue: job.queueQualifiedName }, continueParentOnFailure: true },
      })),
    );
  }
  await throwPartFailure(queue, job);
  if (await job.moveToWaitingChildren(token)) throw new WaitingChildrenError();
  await throwPartFailure(queue, job);
  return Object.values(await job.getChildrenValues<PartAnswer>());
}

/** Throws {@link RecomputePartError} when a part of `parent` failed for good. */
async function throwPartFailure(queue: Queue, parent: Job): Promise<void> {
  const failures = Object.entries(await parent.getFailedChildrenValues());
  if (failures.length === 0) return;
  const [key, reason] = failures[0] as [string, string];
  const part = await Job.fromId(queue, key.slice(key.lastIndexOf(':') + 1));
  const span = part ? parseJobRequest(part.name, part.data) as HourSpan : undefined;
  const hours = span ? `${new Date(span.from).toISOString()} to ${new Date(span.to).toISOString()}` : key;
  throw new RecomputePartError(`part ${hours} failed after ${part?.attemptsMade ?? '?'} attempts: ${reason}`);
}

/** The parts' answers summed as one recompute's (timings: summed over the parts, which ran side by side). */
export function sumPartAnswers(answers: readonly PartAnswer[]): PartAnswer & { parts: number } {
  const timings: Record<string, number> = {};
  for (const a of answers) for (const [k, ms] of Object.entries(a.timings ?? {})) timings[k] = (timings[k] ?? 0) + ms;
  return {
    parts: answers.length,
    hours: answers.reduce((a, p) => a + p.hours, 0),
    replaced: answers.reduce((a, p) => a + p.replaced, 0),
    versions: [...new Set(answers.flatMap((p) => p.versions))],
    events: answers.reduce((a, p) => a + p.events, 0),
    duplicates: answers.reduce((a, p) => a + p.duplicates, 0),
    rowsRead: answers.reduce((a, p) => a + p.rowsRead, 0),
    eventsProcessed: answers.reduce((a, p) => a + p.eventsProcessed, 0),
    recomputedHours: answers.flatMap((p) => p.recomputedHours).sort((a, b) => a - b),
    staleHoursMarked: [...new Set(answers.flatMap((p) => p.staleHoursMarked ?? []))].sort((a, b) => a - b),
    passes: answers.reduce((a, p) => a + (p.passes ?? 0), 0),
    passesFromVerdicts: answers.reduce((a, p) => a + (p.passesFromVerdicts ?? 0), 0),
    timings,
  };
}

/**
 * A part done: its parent's progress moves by the part's hours (ops follow the parent on every
 * surface). Parts finishing together may each count the other as not yet done; the parent's
 * own last progress, once it sums them, is exact.
 */
export async function reportPartToParent(queue: Queue, part: Job, answer: PartAnswer): Promise<void> {
  const parentId = part.parent?.id;
  if (!parentId) return;
  const parent = await Job.fromId(queue, parentId);
  if (!parent) return;
  const { from, to } = parseJobRequest(parent.name, parent.data) as HourSpan;
  const before = (parent.progress ?? {}) as { hoursDone?: number; rowsRead?: number };
  const hoursTotal = Math.round((to - from) / HOUR_MS);
  const hoursDone = Math.min(hoursTotal, (before.hoursDone ?? 0) + answer.hours);
  const rowsRead = (before.rowsRead ?? 0) + answer.rowsRead;
  await parent.updateProgress({ hoursDone, hoursTotal, rowsRead, percent: Math.min(99, Math.round((hoursDone / hoursTotal) * 1000) / 10) });
}
