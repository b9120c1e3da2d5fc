import { loadConfig } from '@sigflow/config';
import { buildCatalogue, type Catalogue } from './catalogue.js';
import { DuplicateEvent, type GeneratedEvent, type PlannedEvent } from './generated-event.js';
import { JourneyPlanner, type Journey, type JourneyKind, type Knobs } from './journeys.js';
import { MinHeap } from './min-heap.js';
import { Prng } from './prng.js';
import { pickRules, type GeneratorRules } from './rules.js';
import { checkCtrDrop, type CtrDrop } from './ctr-drop.js';

/** What to generate. Every field is optional; see the defaults on each. */
export interface GeneratorOptions extends Partial<Knobs> {
  /** PRNG seed (an integer); the same seed gives the same stream. Default 1. */
  readonly seed?: number;
  /** Total events to emit (duplicates included). Default `rate` x `durationMs` / 1000. */
  readonly events?: number;
  /** Events per second, used to size the stream when `events` is not given. Default 1000. */
  readonly rate?: number;
  /** Wall-clock length of the run, ms. Default 60 000 (or `events` / `rate` when both are given). */
  readonly durationMs?: number;
  /** Event time of the stream's start, ms since the epoch. Default `Date.now()`. */
  readonly start?: number;
  /**
   * Event-time length of the stream, ms. Default `durationMs`, so events are "live" at the
   * given rate; a longer span compresses time (tests, benchmarks).
   */
  readonly span?: number;
  /** Number of journeys (users; a botnet counts once). Default: as many as the event count needs. */
  readonly users?: number;
  /** Catalogue size. Defaults 12 campaigns, 4 ads each, 20 pages. */
  readonly campaigns?: number;
  readonly adsPerCampaign?: number;
  readonly pages?: number;
  /** Partitions of the events topic, for partition-local facts. Default: the configured count. */
  readonly partitions?: number;
  /**
   * Users per botnet (the `floods` knob's IP floods), e.g. 50. Default: the partition count
   * plus up to as many again, at least 3. Botnets always cover every partition.
   */
  readonly botnetUsers?: number;
  /** The rule parameters to label by. Default: the configured rules (`loadConfig().rules`). */
  readonly rules?: GeneratorRules;
  /**
   * Soft bound on events planned but not yet emitted (memory). When the event-time rate
   * is so high that realistic journeys would exceed it, users' think times shrink (never
   * the gaps the rules look at). Default 200 000.
   */
  readonly maxPending?: number;
  /** A click-through drop to inject (see {@link CtrDrop}); none by default. */
  readonly ctrDrop?: CtrDrop;
}

/** The options with every default applied (recorded in the truth file). */
export interface ResolvedGeneratorOptions extends Knobs {
  readonly seed: number;
  readonly events: number;
  readonly start: number;
  readonly span: number;
  readonly users: number | undefined;
  readonly campaigns: number;
  readonly adsPerCampaign: number;
  readonly pages: number;
  readonly partitions: number;
  readonly botnetUsers: number | undefined;
  readonly rules: GeneratorRules;
  readonly maxPending: number;
  readonly ctrDrop: CtrDrop | null;
}

/** Counters kept while the stream is read. */
export interface StreamStats {
  /** Events emitted so far (duplicates included). */
  emitted: number;
  duplicates: number;
  /** Late events (non-duplicate). */
  late: number;
  /** Out-of-order events (non-duplicate). */
  outOfOrder: number;
  journeys: Record<JourneyKind, number>;
  /** Events held back a little to keep them clear of a lateness boundary. */
  bumps: number;
  /** Events emitted within the margin of a lateness boundary anyway (a silent partition). */
  marginViolations: number;
}

interface DuplicateCopy {
  readonly kind: 'copy';
  readonly event: DuplicateEvent;
  at: number;
  seq: number;
  bumps: number;
}

type Item = Journey | DuplicateCopy;

/** Events are kept at least this far (event time) from their lateness boundary. */
export const lateMarginMs = 2_000;
const bumpMs = 5_000;
// Up to two hours of event time (a partition that is silent that long keeps the event at the margin).
const maxBumps = 1_440;

const knobNames = ['late', 'outOfOrder', 'duplicates', 'bots', 'floods', 'nats', 'orphans', 'tooFast'] as const;

function positiveInt(name: string, value: number, min = 1): number {
  if (!Number.isSafeInteger(value) || value < min) throw new RangeError(`${name} must be an integer >= ${min} (got ${value})`);
  return value;
}

/** Applies the defaults and checks ranges; throws `RangeError` naming the bad option. */
export function resolveGeneratorOptions(options: GeneratorOptions = {}): ResolvedGeneratorOptions {
  const seed = options.seed ?? 1;
  if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be an integer (got ${seed})`);
  const rate = options.rate ?? 1_000;
  if (!(rate >= 0) || !Number.isFinite(rate)) throw new RangeError(`rate must be >= 0 (got ${rate})`);
  const durationMs =
    options.durationMs ?? (options.events !== undefined && rate > 0 ? Math.round((options.events / rate) * 1000) : 60_000);
  const events = options.events ?? Math.round((rate * durationMs) / 1000);
  positiveInt('events', events, 0);
  const span = options.span ?? durationMs;
  positiveInt('span', span);
  const knobs = {} as Record<(typeof knobNames)[number], number>;
  for (const name of knobNames) {
    const value = options[name] ?? 0;
    if (!(value >= 0 && value <= 1)) throw new RangeError(`${name} must be a fraction in [0, 1] (got ${value})`);
    knobs[name] = value;
  }
  const crafted = knobs.bots + knobs.floods + knobs.nats;
  if (crafted > 1) throw new RangeError('bots + floods + nats must not exceed 1');
  if (knobs.late + knobs.outOfOrder > 0.5 * (1 - crafted) + 1e-9) {
    throw new RangeError('late + outOfOrder must not exceed half of the human share (1 - bots - floods - nats) / 2');
  }
  if (knobs.orphans + knobs.tooFast > 1) throw new RangeError('orphans + tooFast must not exceed 1');
  if (knobs.duplicates >= 1) throw new RangeError('duplicates must be below 1');
  const needsConfig = options.rules === undefined || options.partitions === undefined;
  const config = needsConfig ? loadConfig() : undefined;
  const rules = pickRules(options.rules ?? (config as NonNullable<typeof config>).rules);
  return {
    seed,
    events,
    start: Math.floor(options.start ?? Date.now()),
    span,
    users: options.users === undefined ? undefined : positiveInt('users', options.users),
    campaigns: positiveInt('campaigns', options.campaigns ?? 12),
    adsPerCampaign: positiveInt('adsPerCampaign', options.adsPerCampaign ?? 4),
    pages: positiveInt('pages', options.pages ?? 20, 2),
    partitions: positiveInt('partitions', options.partitions ?? config?.kafka.eventPartitions ?? 4),
    botnetUsers: options.botnetUsers === undefined ? undefined : positiveInt('botnetUsers', options.botnetUsers),
    rules,
    maxPending: positiveInt('maxPending', options.maxPending ?? 200_000),
    ctrDrop: options.ctrDrop === undefined ? null : checkCtrDrop(options.ctrDrop),
    ...knobs,
  };
}

/**
 * The generated stream, in emission order: an iterator (read it with `for...of`) that
 * also exposes its options, catalogue and counters. Memory stays bounded by the journeys
 * in progress, whatever the event count.
 */
export class EventStream implements IterableIterator<GeneratedEvent> {
  readonly options: ResolvedGeneratorOptions;
  readonly catalogue: Catalogue;
  readonly stats: StreamStats = {
    emitted: 0,
    duplicates: 0,
    late: 0,
    outOfOrder: 0,
    journeys: { human: 0, bot: 0, user_flood: 0, ip_flood: 0, nat: 0 },
    bumps: 0,
    marginViolations: 0,
  };

  private readonly planner: JourneyPlanner;
  private readonly heap = new MinHeap<Item>();
  private readonly duplicateRng: Prng;
  private readonly duplicateChance: number;
  private readonly duplicateDelayMin: number;
  private readonly duplicateDelayMax: number;
  /** Newest ts emitted per partition (-Infinity before the first). */
  private readonly maxTs: Float64Array;
  private seq = 0;
  private journeyIndex = 0;
  private planned = 0;
  private nextArrival: number;

  constructor(options: GeneratorOptions = {}) {
    const o = resolveGeneratorOptions(options);
    this.options = o;
    this.catalogue = buildCatalogue(o);
    this.planner = new JourneyPlanner({
      seed: o.seed,
      catalogue: this.catalogue,
      rules: o.rules,
      knobs: o,
      partitions: o.partitions,
      start: o.start,
      span: o.span,
      events: o.events,
      maxPending: o.maxPending,
      botnetUsers: o.botnetUsers,
      ctrDrop: o.ctrDrop,
    });
    this.duplicateRng = new Prng(o.seed, 0xd0b1e);
    // A copy after p of the originals makes duplicates / sent = p / (1 + p) = `duplicates`.
    this.duplicateChance = o.duplicates / (1 - o.duplicates);
    this.duplicateDelayMin = Math.min(500, this.planner.timing.shortDelayMin);
    this.duplicateDelayMax = this.planner.timing.shortDelayMax;
    this.maxTs = new Float64Array(o.partitions).fill(-Infinity);
    this.nextArrival = o.events > 0 && o.users !== 0 ? o.start : Infinity;
  }

  [Symbol.iterator](): this {
    return this;
  }

  next(): IteratorResult<GeneratedEvent> {
    const o = this.options;
    if (this.stats.emitted >= o.events) return { done: true, value: undefined };
    const heap = this.heap;
    const rules = o.rules;
    for (;;) {
      let top = heap.peek();
      while (this.nextArrival <= (top ? top.at : Infinity)) {
        this.arrive();
        top = heap.peek();
      }
      if (!top) return { done: true, value: undefined };
      const ev = top.kind === 'journey' ? (top.events[top.next] as PlannedEvent) : top.event;
      const ts = ev.ts;
      const p = ev.partition;
      const maxTs = this.maxTs[p] as number;
      const watermark = maxTs - rules.watermarkDelayMs;
      const closes = ts - (ts % rules.windowMs) + rules.windowMs + rules.allowedLatenessMs;
      if (Math.abs(closes - watermark) < lateMarginMs) {
        if (top.bumps < maxBumps) {
          // Too close to call: hold it back until the partition's watermark has moved on.
          top.at += bumpMs;
          top.seq = this.seq++;
          top.bumps++;
          this.stats.bumps++;
          heap.replaceTop(top);
          continue;
        }
        this.stats.marginViolations++;
      }
      const at = top.at;
      ev.seq = this.stats.emitted++;
      ev.emitAt = at;
      ev.late = closes < watermark;
      ev.outOfOrder = ts < maxTs;
      if (ts > maxTs) this.maxTs[p] = ts;
      if (top.kind === 'journey') {
        top.events[top.next++] = null;
        top.bumps = 0;
        const following = top.events[top.next];
        if (following) {
          top.at = Math.max(at, following.ts + (top.next >= top.tailFrom ? top.tailDelay : 0));
          top.seq = this.seq++;
          heap.replaceTop(top);
        } else {
          heap.pop();
        }
      } else {
        heap.pop();
      }
      if (ev instanceof DuplicateEvent) {
        this.stats.duplicates++;
      } else {
        ev.json = ev.serialize();
        if (ev.late) this.stats.late++;
        if (ev.outOfOrder) this.stats.outOfOrder++;
        if (this.duplicateChance > 0 && this.duplicateRng.chance(this.duplicateChance)) {
          heap.push({
            kind: 'copy',
            event: new DuplicateEvent(ev),
            at: at + this.duplicateRng.int(this.duplicateDelayMin, this.duplicateDelayMax),
            seq: this.seq++,
            bumps: 0,
          });
        }
      }
      return { done: false, value: ev };
    }
  }

  /** Plans the next journey and schedules the one after it. */
  private arrive(): void {
    const o = this.options;
    const journey = this.planner.plan(this.nextArrival, this.journeyIndex++);
    this.stats.journeys[journey.journeyKind]++;
    this.planned += journey.events.length;
    if (journey.events.length > 0) {
      journey.seq = this.seq++;
      this.heap.push(journey);
    }
    if (o.users !== undefined) {
      this.nextArrival = this.journeyIndex < o.users ? o.start + Math.floor((o.span * this.journeyIndex) / o.users) : Infinity;
    } else {
      // Arrivals follow the planned volume: by the span's end about `events` are planned.
      const expected = this.planned / (1 - o.duplicates);
      this.nextArrival = o.start + Math.floor((o.span * expected) / o.events);
    }
  }
}

/**
 * Generates a deterministic stream of labelled events in emission order. The same options
 * (seed included) always give the same events, ids and labels.
 */
export function generateEvents(options: GeneratorOptions = {}): EventStream {
  return new EventStream(options);
}
