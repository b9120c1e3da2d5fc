import { InvalidJobDataError, jobDataOf, parseJobRequest } from '@sigflow/batch-jobs';
import { BadParameterError } from '../errors.js';

/**
 * Job data checked by the batch layer's own contract, normalized, ready to enqueue: what the API
 * enqueues the worker runs. Malformed data is a 400 naming `parameter`.
 */
export function checkedJobData(name: string, data: unknown, parameter: string): Record<string, unknown> {
  try {
    return jobDataOf(parseJobRequest(name, data));
  } catch (err) {
    if (err instanceof InvalidJobDataError) throw new BadParameterError(parameter, err.message);
    throw err;
  }
}
