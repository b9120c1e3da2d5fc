import { randomUUID } from 'node:crypto';
import { Queue, Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@sigflow/config';
import { deleteKeysWithPrefix } from '@sigflow/store';
import { waitUntil } from '@sigflow/test-support';
import { bullConnection, bullPrefix, readJobAndState } from '../src/index.js';

// What the API's GET /v1/jobs/:id, the privacy request status and the CLI's `status --watch`
// read: a poller that sees `completed` stops, so `completed` must come with the job's result.
describe('readJobAndState', () => {
  const config = loadConfig({ ...process.env, SIGFLOW_REDIS_PREFIX: `t-read-job-${randomUUID().slice(0, 8)}`, SIGFLOW_BATCH_QUEUE: 'read-job' });
  const connection = bullConnection(config);
  const queue = new Queue(config.batch.queueName, { connection, prefix: bullPrefix(config) });
  let release: () => void = () => {};
  const released = new Promise<void>((resolve) => (release = resolve));
  let worker: Worker;

  beforeAll(async () => {
    worker = new Worker(
      config.batch.queueName,
      async () => {
        await released;
        return { answer: 42 };
      },
      { connection: bullConnection(config), prefix: bullPrefix(config) },
    );
    await worker.waitUntilReady();
  });

  afterAll(async () => {
    await worker.close();
    await queue.close();
    await deleteKeysWithPrefix(connection, config.redis.keyPrefix);
    connection.disconnect();
  });

  describe('when the job completes between the two reads', () => {
    it('never answers completed without the return value', async () => {
      const job = await queue.add('recompute', { from: 0, to: 3_600_000 });
      const id = String(job.id);
      await waitUntil('the worker to take the job', () => queue.getJobState(id), (s) => s === 'active', 10_000);
      // Whichever of the two reads the helper makes first, the job finishes right after it.
      let firstRead = true;
      const finishAfterFirstRead = async <T>(read: Promise<T>): Promise<T> => {
        const value = await read;
        if (firstRead) {
          firstRead = false;
          release();
          await waitUntil('the job to complete', () => Queue.prototype.getJobState.call(queue, id), (s) => s === 'completed', 10_000);
        }
        return value;
      };
      const reading = Object.create(queue) as Queue;
      reading.getJob = (jobId: string) => finishAfterFirstRead(queue.getJob(jobId));
      reading.getJobState = (jobId: string) => finishAfterFirstRead(queue.getJobState(jobId));

      const read = await readJobAndState(reading, id);
      expect(firstRead).toBe(false);
      expect(read).not.toBeNull();
      expect(['active', 'completed']).toContain(read!.state);
      if (read!.state === 'completed') expect(read!.job.returnvalue).toEqual({ answer: 42 });
      // A later read sees the final state with its result.
      const after = await readJobAndState(queue, id);
      expect(after?.state).toBe('completed');
      expect(after?.job.returnvalue).toEqual({ answer: 42 });
    });
  });

  it('is null for a job that does not exist', async () => {
    expect(await readJobAndState(queue, 'no-such-job')).toBeNull();
  });
});
