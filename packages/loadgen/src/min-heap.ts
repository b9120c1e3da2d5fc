/** Something scheduled on the stream's clock: emitted at `at`, ties broken by `seq`. */
export interface Scheduled {
  at: number;
  seq: number;
}

/** A binary min-heap ordered by (`at`, `seq`): the next thing to emit is on top. */
export class MinHeap<T extends Scheduled> {
  private readonly items: T[] = [];

  get size(): number {
    return this.items.length;
  }

  peek(): T | undefined {
    return this.items[0];
  }

  push(item: T): void {
    const items = this.items;
    let i = items.length;
    items.push(item);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = items[parent] as T;
      if (!before(item, p)) break;
      items[i] = p;
      i = parent;
    }
    items[i] = item;
  }

  pop(): T | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last !== undefined) this.sinkFrom(0, last);
    return top;
  }

  /** Replaces the top with `item` (cheaper than pop + push). */
  replaceTop(item: T): void {
    if (this.items.length === 0) this.items.push(item);
    else this.sinkFrom(0, item);
  }

  private sinkFrom(start: number, item: T): void {
    const items = this.items;
    const n = items.length;
    let i = start;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      let c = l;
      if (r < n && before(items[r] as T, items[l] as T)) c = r;
      const child = items[c] as T;
      if (!before(child, item)) break;
      items[i] = child;
      i = c;
    }
    items[i] = item;
  }
}

function before(a: Scheduled, b: Scheduled): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}
