import { type RedisClient, slotSafePipeline } from '@sigflow/store';
import type { RedisCommand } from '@sigflow/store/views';

/**
 * Sends commands in pipelines of `chunk` and throws the first error. Not atomic: callers use it
 * for keys nobody reads yet (a new batch version) or for idempotent cleanup.
 */
export async function sendCommands(redis: RedisClient, commands: readonly RedisCommand[], chunk = 2_000): Promise<void> {
  for (let i = 0; i < commands.length; i += chunk) {
    // The commands' keys are of many hash slots (a version's views): on a cluster they go per node.
    const pipe = slotSafePipeline(redis);
    for (const [name, ...args] of commands.slice(i, i + chunk)) pipe.call(name, ...args);
    const results = await pipe.exec();
    for (const [err] of results ?? []) if (err) throw err;
  }
}
