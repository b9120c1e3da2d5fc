import { SqlRefusal } from './sql-refusal.js';

/** Queries each API key runs at once in this process, at most `perKey` (429 past it). */
export class KeySlots {
  private readonly running = new Map<string, number>();

  constructor(private readonly perKey: number) {}

  /** Takes a slot of `key`; the returned function gives it back (once). */
  take(key: string): () => void {
    const now = this.running.get(key) ?? 0;
    if (now >= this.perKey) {
      throw new SqlRefusal(429, `this key already runs ${now} SQL ${now === 1 ? 'query' : 'queries'} (at most ${this.perKey} at once); wait for ${now === 1 ? 'it' : 'one'} to finish`);
    }
    this.running.set(key, now + 1);
    let given = false;
    return () => {
      if (given) return;
      given = true;
      const left = (this.running.get(key) ?? 1) - 1;
      if (left <= 0) this.running.delete(key);
      else this.running.set(key, left);
    };
  }
}
