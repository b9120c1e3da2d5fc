// What HTTP clients saw during a fault: every request through the global fetch (the HttpSink's
// and the pollers') with its status or error and latency, and the fault windows.

/** A request slower than this without an answer counts as a hang. */
export const HANG_MS = 5_000;

interface Entry {
  readonly url: string;
  readonly start: number;
  end: number;
  status?: number;
  error?: string;
  /** A 503's Retry-After header and reason (the documented "retry later" must say when and why). */
  unavailable?: Promise<string>;
}

export interface ClientSummary {
  readonly requests: number;
  readonly byStatus: Record<string, number>;
  /** Connection refused/reset, timeouts. */
  readonly errors: number;
  /** No answer within {@link HANG_MS}. */
  readonly hangs: number;
  /** 5xx other than 503 (503 is the documented "retry later"). */
  readonly serverErrors: number;
  /** Requests overlapping a fault window that failed (error, 5xx). */
  readonly failedDuringFault: number;
  /** Failed requests outside every fault window (should be none). */
  readonly failedOutsideFault: number;
  readonly maxLatencyMs: number;
  /** The three slowest requests (url path, ms, outcome). */
  readonly slowest: string[];
}

/** Records the requests made through `globalThis.fetch` to URLs that `match`. */
export class ClientLog {
  private readonly entries: Entry[] = [];
  private readonly windows: { start: number; end: number }[] = [];
  private original: typeof fetch | undefined;

  constructor(private readonly match: (url: string) => boolean) {}

  install(): this {
    const original = globalThis.fetch;
    this.original = original;
    globalThis.fetch = async (input: string | URL | Request, init?: RequestInit) => {
      const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
      if (!this.match(url)) return original(input, init);
      const entry: Entry = { url, start: Date.now(), end: 0 };
      this.entries.push(entry);
      try {
        const res = await original(input, init);
        entry.status = res.status;
        if (res.status === 503) entry.unavailable = unavailableAnswer(res.clone());
        return res;
      } catch (err) {
        entry.error = (err as Error).name === 'TimeoutError' ? 'timeout' : String((err as Error & { cause?: { code?: string } }).cause?.code ?? (err as Error).message);
        throw err;
      } finally {
        entry.end = Date.now();
      }
    };
    return this;
  }

  uninstall(): void {
    if (this.original) globalThis.fetch = this.original;
    this.original = undefined;
  }

  /** Opens a fault window (from the injection until the service works again). */
  faultStarted(at = Date.now()): void {
    this.windows.push({ start: at, end: Infinity });
  }

  faultEnded(at = Date.now()): void {
    const open = this.windows.at(-1);
    if (open && open.end === Infinity) open.end = at;
  }

  private failed(e: Entry): boolean {
    return e.error !== undefined || (e.status !== undefined && e.status >= 500);
  }

  private duringFault(e: Entry): boolean {
    const end = e.end || Date.now();
    return this.windows.some((w) => e.start <= w.end && end >= w.start);
  }

  /** Each distinct 503 answer (`Retry-After <seconds>: <error>`), once its body has been read. */
  async unavailableAnswers(): Promise<string[]> {
    return [...new Set(await Promise.all(this.entries.flatMap((e) => (e.unavailable ? [e.unavailable] : []))))];
  }

  summary(): ClientSummary {
    const byStatus: Record<string, number> = {};
    let errors = 0;
    let hangs = 0;
    let serverErrors = 0;
    let failedDuringFault = 0;
    let failedOutsideFault = 0;
    let maxLatencyMs = 0;
    for (const e of this.entries) {
      const key = e.status !== undefined ? String(e.status) : (e.error ?? 'pending');
      byStatus[key] = (byStatus[key] ?? 0) + 1;
      const latency = (e.end || Date.now()) - e.start;
      maxLatencyMs = Math.max(maxLatencyMs, latency);
      if (e.error !== undefined) errors++;
      if (latency >= HANG_MS || e.error === 'timeout') hangs++;
      if (e.status !== undefined && e.status >= 500 && e.status !== 503) serverErrors++;
      if (this.failed(e)) {
        if (this.duringFault(e)) failedDuringFault++;
        else failedOutsideFault++;
      }
    }
    const slowest = [...this.entries]
      .sort((a, b) => (b.end || Date.now()) - b.start - ((a.end || Date.now()) - a.start))
      .slice(0, 3)
      .map((e) => `${new URL(e.url).pathname} ${(e.end || Date.now()) - e.start} ms ${e.status ?? e.error ?? 'pending'} at +${e.start - (this.windows[0]?.start ?? e.start)} ms`);
    return { requests: this.entries.length, byStatus, errors, hangs, serverErrors, failedDuringFault, failedOutsideFault, maxLatencyMs, slowest };
  }
}

async function unavailableAnswer(res: Response): Promise<string> {
  const body = (await res.json().catch(() => ({}))) as { error?: string };
  return `Retry-After ${res.headers.get('retry-after')}: ${body.error ?? '(no error in the body)'}`;
}

/**
 * Polls `url` every `intervalMs` until `signal` aborts; each request gives up after
 * {@link HANG_MS} (a hang). Requests go through the global fetch, so a {@link ClientLog} sees them.
 */
export async function poll(url: string, headers: Record<string, string>, intervalMs: number, signal: AbortSignal): Promise<void> {
  while (!signal.aborted) {
    try {
      const res = await fetch(url, { headers, signal: AbortSignal.timeout(HANG_MS) });
      await res.arrayBuffer();
    } catch {
      // recorded by the ClientLog
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
