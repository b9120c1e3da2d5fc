// The batch job contract, one place for the API (producer), the CLI and the batch worker
// (consumer): kinds and their data, who asked, the queue, its prefix and job options.
export { jobKinds, requesterPattern, parseJobRequest, jobDataOf } from './job-kinds.js';
export type { JobKind, JobRequest } from './job-kinds.js';
export { ceilHour, parseJobTime } from './job-time.js';
export { bullPrefix, bullConnection, batchJobOptions, openBatchQueue, readJobAndState, recentJobs } from './batch-queue.js';
export { schedulerIds, batchSchedules, installSchedulers } from './schedules.js';
export type { BatchSchedule } from './schedules.js';
export { InvalidJobDataError } from './errors.js';
export { requestDeletion, deletionRequestPattern } from './deletion-request.js';
export { scheduleRecord, restoreSchedules } from './schedule-records.js';
export type { ScheduleValue } from './schedule-records.js';
