import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * A full garbage collection now, however the process was started (no `--expose-gc` needed: the
 * flag is set for one new context, which hands out V8's `gc`, and unset again). For the end of a
 * start-up that left much garbage in the old generation (a JIT warm-up): collected before the
 * service takes traffic, rather than in a mark-compact under its first seconds of it.
 */
export function collectGarbageNow(): void {
  v8.setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  v8.setFlagsFromString('--no-expose-gc');
  gc();
}
