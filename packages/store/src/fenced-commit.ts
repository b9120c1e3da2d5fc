import type { Redis, Result } from 'ioredis';
import type { RedisCommand } from './view-commands.js';

/**
 * Applies a batch of commands and moves a partition's offset in ONE atomic Redis step,
 * only if the stored offset is still the one the writer started from. A consumer that lost
 * its partition in a rebalance (a zombie) finds the offset moved and writes nothing.
 *
 * KEYS[1] = offset key; ARGV[1] = expected offset ('' = none stored yet), ARGV[2] = new
 * offset, then each command as <word count> <words...>.
 *
 * Redis runs the script atomically but does not undo writes made before a command fails;
 * the key layout gives every key one type, so a failure means a bug, and the offset stays put.
 */
const script = `
local current = redis.call('GET', KEYS[1])
if (current or '') ~= ARGV[1] then return current or '' end
local i = 3
local n = #ARGV
while i <= n do
  local count = tonumber(ARGV[i])
  redis.call(unpack(ARGV, i + 1, i + count))
  i = i + count + 1
end
redis.call('SET', KEYS[1], ARGV[2])
return 'OK'
`;

/** Thrown when the stored offset moved: another consumer owns the partition now. */
export class OffsetFenceError extends Error {
  override readonly name = 'OffsetFenceError';
  constructor(
    readonly offsetKey: string,
    readonly expected: string,
    readonly found: string,
  ) {
    super(`offset ${offsetKey} is ${found || 'unset'}, expected ${expected || 'unset'}: another consumer committed`);
  }
}

declare module 'ioredis' {
  interface RedisCommander<Context> {
    /** `args` as one array: ioredis flattens it into the command. */
    sigflowFencedCommit(offsetKey: string, args: (string | number)[]): Result<string, Context>;
  }
}

function defineScript(redis: Redis): void {
  if (typeof (redis as Partial<Redis>).sigflowFencedCommit !== 'function') {
    redis.defineCommand('sigflowFencedCommit', { numberOfKeys: 1, lua: script });
  }
}

/**
 * Commits `commands` with the offset move from `expected` to `next`. Throws
 * {@link OffsetFenceError} (and writes nothing) when the stored offset is not `expected`.
 */
export async function fencedCommit(
  redis: Redis,
  offsetKey: string,
  expected: string | null,
  next: string,
  commands: readonly RedisCommand[],
): Promise<void> {
  defineScript(redis);
  const args: (string | number)[] = [expected ?? '', next];
  for (const c of commands) args.push(c.length, ...c);
  // One array argument (ioredis flattens it): spreading a big batch's words into the call would
  // exceed V8's argument limit (RangeError: Maximum call stack size exceeded).
  const result = await redis.sigflowFencedCommit(offsetKey, args);
  if (result !== 'OK') throw new OffsetFenceError(offsetKey, expected ?? '', result);
}
