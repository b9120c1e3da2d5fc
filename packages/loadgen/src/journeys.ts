import type { EventType, FormAction } from '@sigflow/events';
import { AdPicker, type Ad, type Catalogue, type Page } from './catalogue.js';
import { PlannedEvent, type EventActor, type Validity } from './generated-event.js';
import { keyPartition } from './partitioner.js';
import { Prng } from './prng.js';
import type { GeneratorRules } from './rules.js';
import { plain } from './serialize.js';
import { botUserAgents, browserUserAgents } from './user-agents.js';
import { ctrFactor, type CtrDrop } from './ctr-drop.js';

/**
 * The hard cases, each a fraction in [0, 1]; all 0 (off) unless asked for.
 * - `bots`: share of events sent by crawlers (bot user agents);
 * - `floods`: share of events that belong to click floods (half by one user, half by a
 *   botnet of users on every partition sharing one IP);
 * - `nats`: share of events from NAT bursts: many people behind one IP, each shown an ad
 *   and clicking it once, all within one flood window (the IP's clicks past the threshold
 *   are `flood`);
 * - `late`: share of events in tails of human journeys uploaded late (an offline device),
 *   delayed by minutes to hours of event time;
 * - `outOfOrder`: share of events in tails of human journeys that arrive 1-20 s behind (at
 *   most span / 20 in a short span)
 *   (never late); `late + outOfOrder` may be at most half of the human share;
 * - `duplicates`: share of events sent that are a re-sent copy of an earlier event;
 * - `orphans`: share of human clicks on an ad the user was never shown;
 * - `tooFast`: share of human clicks less than `tooFastMs` after their impression.
 */
export interface Knobs {
  readonly late: number;
  readonly outOfOrder: number;
  readonly duplicates: number;
  readonly bots: number;
  readonly floods: number;
  readonly nats: number;
  readonly orphans: number;
  readonly tooFast: number;
}

/** The kinds of journeys the generator plans. */
export type JourneyKind = 'human' | 'bot' | 'user_flood' | 'ip_flood' | 'nat';

/**
 * One actor's planned events (a user; for an IP flood or a NAT, the users behind the IP), in ts order.
 * The generator emits them in that order; events from `tailFrom` on are held back by
 * `tailDelay` ms of event time.
 */
export interface Journey {
  readonly kind: 'journey';
  readonly journeyKind: JourneyKind;
  readonly events: (PlannedEvent | null)[];
  next: number;
  readonly tailFrom: number;
  readonly tailDelay: number;
  /** Heap key: the emission time of `events[next]`, then the insertion number. */
  at: number;
  seq: number;
  bumps: number;
}

/**
 * Per-journey probabilities: bot and flood journeys, and for a human journey of n events
 * the base chance (scaled by 2n / (n + 1)) of a late or out-of-order tail.
 */
export interface JourneyMix {
  readonly bot: number;
  readonly flood: number;
  readonly nat: number;
  readonly late: number;
  readonly outOfOrder: number;
}

export interface PlannerContext {
  readonly seed: number;
  readonly catalogue: Catalogue;
  readonly rules: GeneratorRules;
  readonly knobs: Knobs;
  readonly partitions: number;
  /** Event time of the stream's start and length of its span. */
  readonly start: number;
  readonly span: number;
  /** Events the stream will emit (with `span`, the event-time rate). */
  readonly events: number;
  /**
   * Bound on events planned but not yet emitted: when the event-time rate is high (or the
   * span short), users' think times shrink (never the gaps the rules look at).
   */
  readonly maxPending: number;
  /** Users per botnet; undefined: the partition count plus 0-100 % more, at least 3. */
  readonly botnetUsers: number | undefined;
  /** A click-through drop to inject; none when absent. */
  readonly ctrDrop?: CtrDrop | null;
}

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Timing derived from the rules, so that legit traffic never trips a rule by accident. */
export interface JourneyTiming {
  /** Legit clicks come this long after their impression, at least... */
  readonly clickDelayMin: number;
  /** ...and at most (before the spacing below pushes them later). */
  readonly clickDelayMax: number;
  /** Spacing between one user's clicks: never `floodThreshold` + 1 clicks in a flood window. */
  readonly clickGap: number;
  /** Late tails are held back at least this long: always past the window + lateness. */
  readonly lateDelayMin: number;
  readonly lateDelayMax: number;
  /**
   * Out-of-order tails and duplicate copies are held back `shortDelayMin`-`shortDelayMax`:
   * well inside the allowed lateness, and short enough to fit a short span.
   */
  readonly shortDelayMin: number;
  readonly shortDelayMax: number;
}

/** The timing constants for a set of rules and a span. */
export function journeyTiming(rules: GeneratorRules, span: number): JourneyTiming {
  const clickDelayMin = Math.max(1_500, rules.tooFastMs + 500);
  const clickDelayMax = Math.max(clickDelayMin + 1, Math.min(20 * SECOND, rules.joinWindowMs / 4));
  const clickGap =
    rules.floodThreshold > 1
      ? Math.floor(rules.floodWindowMs / (rules.floodThreshold - 1)) + SECOND
      : rules.floodWindowMs + SECOND;
  const lateDelayMin = rules.windowMs + rules.allowedLatenessMs + rules.watermarkDelayMs + MINUTE;
  const lateDelayMax = Math.max(2 * lateDelayMin, Math.min(3 * HOUR, span / 10));
  const shortDelayMax = Math.max(
    2,
    Math.min(20 * SECOND, rules.allowedLatenessMs + rules.watermarkDelayMs - 5 * SECOND, Math.floor(span / 20)),
  );
  const shortDelayMin = Math.min(SECOND, Math.floor(shortDelayMax / 2));
  return { clickDelayMin, clickDelayMax, clickGap, lateDelayMin, lateDelayMax, shortDelayMin, shortDelayMax };
}

/** IPv4 in 10/8 for the first 16 M users, then unique IPv6 addresses. */
function userIp(n: number): string {
  if (n < 0x1000000) return `10.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
  return `fd00::${Math.floor(n / 65536).toString(16)}:${(n & 0xffff).toString(16)}`;
}

/** One shared address per botnet, in 100.64/10, which no user gets. */
function botnetIp(k: number): string {
  return `100.${64 + ((k >>> 16) & 63)}.${(k >>> 8) & 255}.${k & 255}`;
}

/** One shared address per NAT, in 198.18/15, which no user or botnet gets. */
function natIp(k: number): string {
  return `198.${18 + ((k >>> 16) & 1)}.${(k >>> 8) & 255}.${k & 255}`;
}

/**
 * Builds one user's timeline: strictly increasing ts (no two events of a user share a ts),
 * click spacing, the ads seen, the valid touchpoints (for attribution paths). Each planned
 * event is one small record (the event object is built when it is read).
 */
class Timeline {
  readonly events: PlannedEvent[] = [];
  readonly touchpoints: PlannedEvent[] = [];
  readonly seenAds = new Set<number>();
  lastTs = -Infinity;
  lastClickTs = -Infinity;
  clicks = 0;

  constructor(
    private readonly planner: JourneyPlanner,
    readonly actor: EventActor,
  ) {}

  /** Adds an event wanted at `ts` (moved to 1 ms after the previous one when needed). */
  private add(
    type: EventType,
    ts: number,
    validity: Validity,
    ad: Ad | undefined,
    page: Page | undefined,
    text?: string,
    action?: string,
    n1 = 0,
    n2 = 0,
  ): PlannedEvent {
    const at = Math.max(Math.floor(ts), this.lastTs + 1);
    this.lastTs = at;
    const planned = new PlannedEvent(type, at, this.actor, this.planner.nextEventNumber(), validity, ad, page, text, action, n1, n2);
    this.events.push(planned);
    return planned;
  }

  impression(ad: Ad, ts: number): PlannedEvent {
    this.seenAds.add(ad.index);
    const planned = this.add('impression', ts, this.actor.validity, ad, undefined);
    if (this.actor.validity === 'valid') this.touchpoints.push(planned);
    return planned;
  }

  /** A click; `withoutFlood`: its validity by the other rules (given for a `flood` click). */
  click(ad: Ad, ts: number, validity: Validity, withoutFlood: Validity = validity): PlannedEvent {
    if (withoutFlood === 'flood') throw new Error('a flood click needs its validity without the flood rule');
    const planned = this.add('click', ts, validity, ad, undefined);
    planned.validityWithoutFlood = withoutFlood;
    if (validity === 'valid') this.touchpoints.push(planned);
    this.lastClickTs = this.lastTs;
    this.clicks++;
    return planned;
  }

  pageView(page: Page, ts: number): void {
    this.add('page_view', ts, this.actor.validity, undefined, page);
  }

  scroll(page: Page, depth: number, ts: number): void {
    this.add('scroll', ts, this.actor.validity, undefined, page, undefined, undefined, depth);
  }

  elementClick(page: Page, element: string, ts: number): void {
    this.add('element_click', ts, this.actor.validity, undefined, page, element);
  }

  mouseMove(page: Page, x: number, y: number, ts: number): void {
    this.add('mouse_move', ts, this.actor.validity, undefined, page, undefined, undefined, x, y);
  }

  form(page: Page, formId: string, action: FormAction, ts: number): void {
    this.add('form_interaction', ts, this.actor.validity, undefined, page, formId, action);
  }

  linkFollow(page: Page, href: string, ts: number): void {
    this.add('link_follow', ts, this.actor.validity, undefined, page, href);
  }

  conversion(page: Page, value: number, ts: number): PlannedEvent {
    return this.add('conversion', ts, this.actor.validity, undefined, page, undefined, undefined, value);
  }
}

/**
 * Plans journeys: who the user is, what they see, click, do on the landing page, whether
 * and when they convert, and which hard case (if any) they carry. Each journey draws from
 * its own seeded PRNG, so it depends only on the seed and its number.
 */
export class JourneyPlanner {
  private readonly rng = new Prng(0);
  private readonly adPicker: AdPicker;
  readonly timing: JourneyTiming;
  /** Think-time factor in (0, 1]: 1 = realistic pauses; smaller when the event-time rate is high. */
  readonly pace: number;
  private readonly mix: JourneyMix;
  private readonly idPrefix: string;
  private userCounter = 0;
  private botnetCounter = 0;
  private natCounter = 0;
  private eventCounter = 0;

  /** `sampler`: a planner used only to measure journeys (no mix, realistic pace). */
  constructor(
    private readonly ctx: PlannerContext,
    sampler = false,
  ) {
    this.adPicker = new AdPicker(ctx.catalogue.ads);
    this.timing = journeyTiming(ctx.rules, ctx.span);
    this.idPrefix = `${ctx.seed}-`;
    if (sampler) {
      this.pace = 1;
      this.mix = { bot: 0, flood: 0, nat: 0, late: 0, outOfOrder: 0 };
    } else {
      const sample = new JourneyPlanner(ctx, true).measure();
      this.pace = JourneyPlanner.paceFor(ctx, sample);
      this.mix = JourneyPlanner.mixFor(ctx, sample);
    }
  }

  /** Mean events and mean first-session length (ms) per kind, from a sample. */
  private measure(): Record<'human' | 'bot' | 'flood' | 'nat', { events: number; durationMs: number }> {
    const { ctx } = this;
    const mean = (kinds: readonly JourneyKind[], samples: number) => {
      let events = 0;
      let duration = 0;
      for (let i = 0; i < samples; i++) {
        this.rng.reseed(ctx.seed, i, 0x5a3b1e);
        const journey = this.planKind(kinds[i % kinds.length] as JourneyKind, ctx.start, Infinity);
        events += journey.events.length;
        const first = journey.events[0]?.ts ?? 0;
        // Up to the last event of the first session (a conversion comes back much later).
        let last = first;
        for (const e of journey.events) if (e && e.ts - last < 10 * MINUTE) last = e.ts;
        duration += last - first;
      }
      return { events: events / samples, durationMs: duration / samples };
    };
    return {
      human: mean(['human'], 1_000),
      bot: mean(['bot'], 200),
      flood: mean(['user_flood', 'ip_flood'], 50),
      nat: mean(['nat'], 20),
    };
  }

  /**
   * Think times shrink when realistic journeys would not fit: more than `maxPending` events
   * in flight, or a first session longer than a tenth of the span (the event-time rate
   * would ramp up over much of the stream instead of staying level).
   */
  private static paceFor(ctx: PlannerContext, sample: ReturnType<JourneyPlanner['measure']>): number {
    const duration = Math.max(1, sample.human.durationMs);
    const pending = (ctx.events / ctx.span) * duration;
    return Math.max(1e-4, Math.min(1, ctx.maxPending / pending, ctx.span / (10 * duration)));
  }

  /** Journey-level probabilities that give the knobs' shares of events. */
  private static mixFor(ctx: PlannerContext, sample: ReturnType<JourneyPlanner['measure']>): JourneyMix {
    const { knobs } = ctx;
    const human = 1 - knobs.bots - knobs.floods - knobs.nats;
    const wBot = knobs.bots / sample.bot.events;
    const wFlood = knobs.floods / sample.flood.events;
    const wNat = knobs.nats / sample.nat.events;
    const wHuman = human / sample.human.events;
    const sum = wBot + wFlood + wNat + wHuman;
    return {
      bot: wBot / sum,
      flood: wFlood / sum,
      nat: wNat / sum,
      late: human > 0 ? knobs.late / human : 0,
      outOfOrder: human > 0 ? knobs.outOfOrder / human : 0,
    };
  }

  /** Deterministic event ids: the seed, then a base-36 counter (this number). */
  nextEventNumber(): number {
    return this.eventCounter++;
  }

  private newEventActor(validity: Validity, userAgents: readonly string[]): EventActor {
    const n = ++this.userCounter;
    const userId = `u${this.idPrefix}${n.toString(36)}`;
    const ip = userIp(n);
    const userAgent = this.rng.pick(userAgents);
    return {
      userId,
      ip,
      userAgent,
      partition: keyPartition(userId, this.ctx.partitions),
      validity,
      idPrefix: this.idPrefix,
      plain: plain(userId) && plain(ip) && plain(userAgent) && plain(this.idPrefix),
    };
  }

  /** A think time: `min`-`max` ms scaled by the pace (at least 1 ms). */
  private think(min: number, max: number): number {
    return Math.max(1, Math.round(this.rng.int(min, max) * this.pace));
  }

  /** Plans journey number `index`, starting at event time `arrival`. */
  plan(arrival: number, index: number): Journey {
    const rng = this.rng.reseed(this.ctx.seed, index, 0x10ad);
    const mix = this.mix;
    const end = this.ctx.start + this.ctx.span;
    const u = rng.float();
    if (u < mix.bot) return this.planKind('bot', arrival, end);
    if (u < mix.bot + mix.flood) return this.planKind(rng.chance(0.5) ? 'user_flood' : 'ip_flood', arrival, end);
    if (u < mix.bot + mix.flood + mix.nat) return this.planKind('nat', arrival, end);
    const events = this.humanJourney(arrival, end);
    // A tail from a uniform cut holds (n + 1) / 2n of the journey on average.
    const n = events.length;
    const scale = (2 * n) / (n + 1);
    const d = rng.float();
    if (d < mix.late * scale) {
      const delay = Math.round(rng.logBetween(this.timing.lateDelayMin, this.timing.lateDelayMax));
      return this.finish('human', events, rng.int(0, n - 1), delay);
    }
    if (d < (mix.late + mix.outOfOrder) * scale) {
      const delay = rng.int(this.timing.shortDelayMin, this.timing.shortDelayMax);
      return this.finish('human', events, rng.int(0, n - 1), delay);
    }
    return this.finish('human', events);
  }

  /** Plans a journey of a given kind (no delayed tail), drawing from the current PRNG state. */
  private planKind(kind: JourneyKind, arrival: number, end: number): Journey {
    switch (kind) {
      case 'bot':
        return this.finish(kind, this.botJourney(arrival));
      case 'user_flood':
        return this.finish(kind, this.userFlood(arrival));
      case 'ip_flood':
        return this.finish(kind, this.ipFlood(arrival));
      case 'nat':
        return this.finish(kind, this.nat(arrival));
      default:
        return this.finish(kind, this.humanJourney(arrival, end));
    }
  }

  private finish(journeyKind: JourneyKind, events: PlannedEvent[], tailFrom = events.length, tailDelay = 0): Journey {
    const first = events[0];
    const at = first ? first.ts + (tailFrom === 0 ? tailDelay : 0) : 0;
    return { kind: 'journey', journeyKind, events, next: 0, tailFrom, tailDelay, at, seq: 0, bumps: 0 };
  }

  /**
   * A person: impressions, some clicks and landing-page activity; some come back (days
   * later when the span allows, before `end` otherwise) and convert.
   */
  private humanJourney(arrival: number, end: number): PlannedEvent[] {
    const { rng } = this;
    const line = new Timeline(this, this.newEventActor('valid', browserUserAgents));
    let t = arrival;
    const impressions = 1 + rng.geometric(0.45, 7);
    for (let i = 0; i < impressions; i++) {
      t = this.adExposure(line, t) + this.think(3 * SECOND, 2 * MINUTE);
    }
    if (!rng.chance(line.clicks > 0 ? 0.1 : 0.006)) return line.events;

    const sessionEnd = line.lastTs;
    let back = arrival + Math.round(rng.between(0.5 * DAY, 9 * DAY));
    const limit = end - MINUTE;
    if (back > limit) {
      back =
        limit > sessionEnd + MINUTE
          ? rng.int(sessionEnd + MINUTE, limit)
          : sessionEnd + this.think(30 * SECOND, 5 * MINUTE);
    }
    t = Math.max(back, sessionEnd + 1);
    if (rng.chance(0.5)) t = this.adExposure(line, t) + this.think(2 * SECOND, 30 * SECOND);
    const page = this.ctx.catalogue.checkoutPage;
    const form = page.formId ?? 'form-checkout';
    line.pageView(page, t);
    line.scroll(page, rng.int(30, 100), line.lastTs + this.think(2 * SECOND, 20 * SECOND));
    line.form(page, form, 'focus', line.lastTs + this.think(SECOND, 10 * SECOND));
    for (let i = rng.int(1, 3); i > 0; i--) line.form(page, form, 'input', line.lastTs + this.think(SECOND, 15 * SECOND));
    line.form(page, form, 'submit', line.lastTs + this.think(SECOND, 10 * SECOND));
    t = line.lastTs + this.think(300, 3 * SECOND);
    // Keep every touchpoint clear of the lookback boundary (no ambiguity at ts - lookback).
    const lookback = this.ctx.rules.attributionLookbackMs;
    while (line.touchpoints.some((tp) => Math.abs(tp.ts - (t - lookback)) < 2 * SECOND)) t += 5 * SECOND;
    const value = Math.round(Math.exp(rng.between(Math.log(5), Math.log(400))) * 100) / 100;
    const conversion = line.conversion(page, value, t);
    const ts = conversion.ts;
    conversion.path = line.touchpoints.filter((tp) => tp.ts >= ts - lookback && tp.ts <= ts);
    return line.events;
  }

  /**
   * One impression at `t`; with the ad's CTR a click (normal, or orphan / too fast per the
   * knobs) followed by landing-page activity. Returns the ts of the last event.
   */
  private adExposure(line: Timeline, t: number): number {
    const { rng, timing } = this;
    const { knobs, catalogue } = this.ctx;
    const ad = this.adPicker.pick(rng);
    if (!rng.chance(ad.ctr * ctrFactor(this.ctx.ctrDrop ?? null, ad.campaignId, t))) {
      line.impression(ad, t);
      return line.lastTs;
    }
    const c = rng.float();
    let clickedAd = ad;
    let validity: Validity = 'valid';
    if (c < knobs.orphans) {
      const unseen = catalogue.ads.filter((a) => !line.seenAds.has(a.index) && a.index !== ad.index);
      if (unseen.length > 0) {
        clickedAd = rng.pick(unseen);
        validity = 'orphan';
      }
    } else if (c < knobs.orphans + knobs.tooFast) {
      validity = 'too_fast';
    }
    let clickTs: number;
    if (validity === 'too_fast') {
      // The impression waits until the click may follow it within the too-fast window.
      const imp = line.impression(ad, Math.max(t, line.lastClickTs + timing.clickGap));
      clickTs = imp.ts + Math.max(1, Math.round(rng.between(0.2, 0.8) * this.ctx.rules.tooFastMs));
    } else {
      const imp = line.impression(ad, t);
      const delay = timing.clickDelayMin + Math.round((timing.clickDelayMax - timing.clickDelayMin) * rng.float() * this.pace);
      clickTs = Math.max(imp.ts + delay, line.lastClickTs + timing.clickGap);
    }
    line.click(clickedAd, clickTs, validity);
    this.landing(line, clickedAd.landingPage);
    return line.lastTs;
  }

  /** What a person does on a landing page after a click. */
  private landing(line: Timeline, page: Page): void {
    const { rng } = this;
    line.pageView(page, line.lastTs + this.think(300, 2_500));
    let depth = 0;
    for (let i = rng.int(0, 3); i > 0 && depth < 100; i--) {
      depth = Math.min(100, depth + rng.int(15, 40));
      line.scroll(page, depth, line.lastTs + this.think(800, 6_000));
    }
    if (rng.chance(0.3)) line.mouseMove(page, rng.int(0, 1_920), rng.int(0, 3_000), line.lastTs + this.think(100, 2_000));
    for (let i = rng.geometric(0.45, 4); i > 0; i--) {
      // Elements higher on the page draw more clicks.
      const element = page.elements[Math.floor(rng.float() ** 2 * page.elements.length)] as string;
      line.elementClick(page, element, line.lastTs + this.think(1_000, 8_000));
    }
    if (page.formId && rng.chance(0.3)) {
      const form = page.formId;
      line.form(page, form, 'focus', line.lastTs + this.think(1_000, 5_000));
      for (let i = rng.int(0, 3); i > 0; i--) line.form(page, form, 'input', line.lastTs + this.think(500, 4_000));
      line.form(page, form, rng.chance(0.6) ? 'submit' : 'abandon', line.lastTs + this.think(1_000, 20_000));
    }
    if (rng.chance(0.25)) {
      line.linkFollow(page, `https://shop.example.com/${rng.pick(page.elements)}`, line.lastTs + this.think(1_000, 10_000));
    }
  }

  /** A crawler: pages, links, sometimes the ads on them. Every event is `bot`. */
  private botJourney(arrival: number): PlannedEvent[] {
    const { rng } = this;
    const { catalogue } = this.ctx;
    const line = new Timeline(this, this.newEventActor('bot', botUserAgents));
    let t = arrival;
    for (let i = rng.int(3, 12); i > 0; i--) {
      const page = rng.pick(catalogue.pages);
      line.pageView(page, t);
      if (rng.chance(0.4)) {
        const ad = this.adPicker.pick(rng);
        line.impression(ad, line.lastTs + this.think(50, 500));
        if (rng.chance(0.2)) line.click(ad, line.lastTs + this.think(100, 3_000), 'bot');
      }
      if (rng.chance(0.6)) {
        const href = `https://shop.example.com/${rng.pick(catalogue.pages).pageId}`;
        line.linkFollow(page, href, line.lastTs + this.think(20, 400));
      }
      t = line.lastTs + this.think(500, 4_000);
    }
    return line.events;
  }

  /** Clicks of a flood: `floodThreshold` + 10-20 of them (at least `atLeast`), all inside one flood window. */
  private floodClicks(atLeast = 0): { count: number; spacing: number } {
    const { floodThreshold, floodWindowMs } = this.ctx.rules;
    const count = Math.max(atLeast, floodThreshold + this.rng.int(10, 20));
    const spacing = Math.max(1, Math.min(2 * SECOND, Math.floor((floodWindowMs - SECOND) / (count - 1))));
    return { count, spacing };
  }

  /**
   * One user floods an ad: one impression, then clicks 2 s apart. The first
   * `floodThreshold` clicks are valid, the rest `flood`.
   */
  private userFlood(arrival: number): PlannedEvent[] {
    const line = new Timeline(this, this.newEventActor('valid', browserUserAgents));
    const ad = this.adPicker.pick(this.rng);
    const imp = line.impression(ad, arrival);
    const { count, spacing } = this.floodClicks();
    const first = imp.ts + this.timing.clickDelayMin;
    for (let k = 1; k <= count; k++) {
      line.click(ad, first + (k - 1) * spacing, k <= this.ctx.rules.floodThreshold ? 'valid' : 'flood', 'valid');
    }
    return line.events;
  }

  /**
   * `size` users sharing `ip`, on consecutive partitions (user j on partition (p0 + j) mod
   * partitions, p0 drawn): a crowd of at least `partitions` users covers every partition,
   * as users behind one address do, since Kafka is keyed by user.
   */
  private crowd(size: number, ip: string): Timeline[] {
    const { partitions } = this.ctx;
    const first = this.rng.int(0, partitions - 1);
    const lines: Timeline[] = [];
    while (lines.length < size) {
      const actor = this.newEventActor('valid', browserUserAgents);
      if (actor.partition === (first + lines.length) % partitions) lines.push(new Timeline(this, { ...actor, ip }));
    }
    return lines;
  }

  /**
   * A botnet floods an ad from one IP: its users (browser user agents, on every partition;
   * `botnetUsers` of them, by default the partition count plus up to as many again, at
   * least 3) take turns clicking without impressions, every user at least once, all within
   * one flood window. The IP's first `floodThreshold` clicks are `orphan`, the rest `flood`.
   */
  private ipFlood(arrival: number): PlannedEvent[] {
    const { rng } = this;
    const { partitions, botnetUsers, rules } = this.ctx;
    const size = botnetUsers ?? Math.max(3, partitions + rng.int(0, partitions));
    const lines = this.crowd(size, botnetIp(++this.botnetCounter));
    const ad = this.adPicker.pick(rng);
    const { count, spacing } = this.floodClicks(size);
    const events: PlannedEvent[] = [];
    for (let k = 1; k <= count; k++) {
      const line = lines[(k - 1) % size] as Timeline;
      events.push(line.click(ad, arrival + (k - 1) * spacing, k <= rules.floodThreshold ? 'orphan' : 'flood', 'orphan'));
    }
    return events;
  }

  /**
   * A NAT: `floodThreshold` + 4-20 people (at least one per partition) behind one IP, each
   * shown an ad and clicking it once, 1.5-20 s later; the clicks follow each other within
   * one flood window. The IP's first `floodThreshold` clicks are valid, the rest `flood`.
   */
  private nat(arrival: number): PlannedEvent[] {
    const { rng, timing } = this;
    const { floodThreshold, floodWindowMs } = this.ctx.rules;
    const size = Math.max(this.ctx.partitions, floodThreshold + rng.int(4, 20));
    const lines = this.crowd(size, natIp(++this.natCounter));
    const spacing = Math.max(1, Math.min(3 * SECOND, Math.floor((floodWindowMs - SECOND) / Math.max(1, size - 1))));
    const firstClick = arrival + timing.clickDelayMax;
    const events: PlannedEvent[] = [];
    lines.forEach((line, k) => {
      const ad = this.adPicker.pick(rng);
      const clickTs = firstClick + k * spacing;
      events.push(line.impression(ad, clickTs - rng.int(timing.clickDelayMin, timing.clickDelayMax)));
      events.push(line.click(ad, clickTs, k < floodThreshold ? 'valid' : 'flood', 'valid'));
    });
    return events.sort((a, b) => a.ts - b.ts);
  }
}
