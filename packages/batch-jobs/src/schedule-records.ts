import type { Queue, RepeatOptions } from 'bullmq';
import type { OpsRecord } from '@sigflow/events';

/** A job scheduler as the ops topic keeps it: its repeat options and the job it enqueues. */
export interface ScheduleValue {
  readonly repeat: RepeatOptions;
  readonly template: { readonly name: string; readonly data: Record<string, unknown> };
}

/** The ops record of a scheduler set by ops (`PUT /v1/schedules/:name`). */
export function scheduleRecord(id: string, value: ScheduleValue, at: number): OpsRecord {
  return { kind: 'schedule', id, at, value };
}

/**
 * Installs the schedulers of `records` the queue lacks (a Redis that lost its data lost them);
 * returns how many. Those it has are left as they are.
 */
export async function restoreSchedules(queue: Queue, records: readonly OpsRecord[]): Promise<number> {
  let restored = 0;
  for (const r of records) {
    if (r.kind !== 'schedule' || r.value === null) continue;
    const { repeat, template } = r.value as ScheduleValue;
    if (await queue.getJobScheduler(r.id)) continue;
    await queue.upsertJobScheduler(r.id, repeat, template);
    restored++;
  }
  return restored;
}
