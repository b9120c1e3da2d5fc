import { parseArgs } from 'node:util';
import type { GeneratorOptions } from './generate-events.js';

/** A bad command line; the message says which flag and why. */
export class CliError extends Error {
  override readonly name = 'CliError';
}

export type SinkKind = 'kafka' | 'http' | 'none';

/** The command line, checked and with defaults applied. */
export interface CliSettings {
  readonly help: boolean;
  readonly generator: GeneratorOptions;
  /** Wall-clock pacing, events/s (0 = as fast as possible). */
  readonly rate: number;
  readonly sink: SinkKind;
  readonly collector: string | undefined;
  readonly apiKey: string | undefined;
  readonly concurrency: number | undefined;
  readonly brokers: string | undefined;
  readonly topicPrefix: string | undefined;
  readonly producerThreads: number | undefined;
  readonly sendSize: number | undefined;
  readonly inFlight: number | undefined;
  readonly lingerMs: number | undefined;
  readonly truth: string | undefined;
  readonly quiet: boolean;
  /** Generate every event before sending the first (`--pregenerate`). */
  readonly pregenerate: boolean;
}

export const usage = `Usage: sigflow-generate [options]   (npm run generate -- [options])

Generates deterministic, labelled ad and web traffic and writes it to Kafka (default) or
through the collector; --truth writes the expected results.

Volume and time
  --events N            total events (default: rate x duration)
  --rate N              events per second of wall clock, 0 = as fast as possible (default 1000)
  --duration D          wall-clock length (default 60s); D is 500ms, 90s, 15m, 2h, 7d or seconds
  --span D              event-time length of the stream (default: duration; with --rate 0,
                        events x 10 ms, at least 1h, at most 7d)
  --start T             event time of the stream start: ms since the epoch or an ISO date
                        (default now; with --rate 0, now - span)
  --seed N              PRNG seed (default 1): same seed and options, same events
Catalogue
  --users N             number of users (default: as many as the event count needs)
  --campaigns N         campaigns (default 12)
  --ads-per-campaign N  ads per campaign (default 4)
  --pages N             landing pages (default 20)
  --partitions N        partitions of the events topic (default: the topic's, else config)
  --max-pending N       bound on planned, not yet sent events (default 200000)
Hard cases (fractions in [0, 1], default 0)
  --bots F              share of events from crawlers (bot user agents)
  --floods F            share of events in click floods (one user, or a botnet on one IP
                        with users on every partition)
  --nats F              share of events from NATs: 14-30 people behind one IP, one click
                        each within a minute (the IP's clicks past the 10th are floods)
  --botnet-users N      users per botnet (default: partitions to twice that, at least 3)
  --late F              share of events uploaded late (journey tails held back minutes to hours)
  --out-of-order F      share of events arriving 1-20 s behind (never late)
  --duplicates F        share of events that are re-sent copies
  --orphans F           share of human clicks on an ad the user never saw
  --too-fast F          share of human clicks less than 1 s after the impression
Output
  --sink S              kafka (default), http (through the collector) or none (generate only)
  --brokers LIST        Kafka brokers (default SIGFLOW_KAFKA_BROKERS or 127.0.0.1:9092)
  --topic-prefix P      topic prefix (default SIGFLOW_TOPIC_PREFIX)
  --producer-threads N  Kafka: producer threads, each owning some partitions (default: cores, at most 2;
                        0: one producer in the main thread, the least CPU at a paced rate)
  --send-size N         Kafka: messages per produce request, at most (default 2000)
  --in-flight N         Kafka: produce requests in flight per producer thread (default 8)
  --linger-ms N         Kafka: a partial request goes out at most N ms after its first event
                        (default 50; a collector's group commit sends one per broker round trip)
  --collector URL       http: collector base URL (default http://127.0.0.1:7001 from config)
  --api-key KEY         http: x-api-key (default: the first of SIGFLOW_COLLECTOR_API_KEYS)
  --concurrency N       http: requests in flight (default 1, keeps the generated order)
  --truth FILE          write the truth file (expected counts) to FILE
  --pregenerate         generate every event before sending any, then send them paced: the run
                        then costs only the sending (benchmarks of a consumer on the same
                        machine); holds the whole stream in memory (about 0.4 KB an event)
  --quiet               no progress lines
  --help                this text

Progress goes to stderr once a second; a JSON summary goes to stdout at the end.`;

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/;
const UNIT: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "90s", "15m", "2h", "7d", "500ms" or plain seconds, in ms. */
export function parseDuration(flag: string, text: string): number {
  const m = DURATION.exec(text.trim());
  if (!m) throw new CliError(`--${flag} must be a duration like 60, 90s, 15m, 2h or 7d (got "${text}")`);
  const ms = Math.round(Number(m[1]) * (UNIT[m[2] ?? 's'] as number));
  if (ms <= 0) throw new CliError(`--${flag} must be positive (got "${text}")`);
  return ms;
}

function parseCount(flag: string, text: string | undefined, min = 1): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text.replaceAll('_', ''));
  if (!Number.isSafeInteger(n) || n < min) throw new CliError(`--${flag} must be an integer >= ${min} (got "${text}")`);
  return n;
}

function parseFraction(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1) {
    throw new CliError(`--${flag} must be a fraction between 0 and 1 (got "${text}")`);
  }
  return n;
}

function parseStart(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (/^\d+$/.test(text)) return Number(text);
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw new CliError(`--start must be ms since the epoch or an ISO date (got "${text}")`);
  return ms;
}

/** Flags that take a value (all read as strings, then checked). */
const valueFlags = [
  'events', 'rate', 'duration', 'span', 'start', 'seed', 'users', 'campaigns', 'ads-per-campaign', 'pages',
  'partitions', 'max-pending', 'bots', 'floods', 'nats', 'botnet-users', 'late', 'out-of-order', 'duplicates',
  'orphans', 'too-fast', 'sink', 'brokers', 'topic-prefix', 'producer-threads', 'send-size', 'in-flight', 'linger-ms',
  'collector', 'api-key', 'concurrency', 'truth',
] as const;

type Flags = { readonly [K in (typeof valueFlags)[number]]?: string } & { readonly help?: boolean; readonly quiet?: boolean; readonly pregenerate?: boolean };

/** The flags as given; unknown flags and positionals are errors. */
function readFlags(argv: readonly string[]): Flags {
  const options = {
    help: { type: 'boolean' as const, short: 'h' },
    quiet: { type: 'boolean' as const },
    pregenerate: { type: 'boolean' as const },
    ...Object.fromEntries(valueFlags.map((flag) => [flag, { type: 'string' as const }])),
  };
  try {
    return parseArgs({ args: [...argv], strict: true, allowPositionals: false, options }).values as Flags;
  } catch (err) {
    throw new CliError((err as Error).message);
  }
}

/** Pacing, volume and event time: --rate, --events, --duration, --span, --start, --seed. */
function parseVolume(flags: Flags, now: number) {
  const rate = flags.rate === undefined ? 1_000 : Number(flags.rate);
  if (!Number.isFinite(rate) || rate < 0) throw new CliError(`--rate must be a number >= 0 (got "${flags.rate}")`);
  const duration = flags.duration === undefined ? undefined : parseDuration('duration', flags.duration);
  let events = parseCount('events', flags.events, 1);
  if (events === undefined) {
    if (rate === 0) throw new CliError('--rate 0 (as fast as possible) needs --events');
    events = Math.round((rate * (duration ?? 60_000)) / 1000);
    if (events < 1) throw new CliError('rate x duration gives no events');
  }
  const span =
    flags.span !== undefined
      ? parseDuration('span', flags.span)
      : (duration ??
        (rate > 0
          ? Math.max(1, Math.round((events / rate) * 1000))
          : // As fast as possible: 10 ms of event time per event, 1 h to 7 d (few journeys in flight, dense partitions).
            Math.min(7 * 86_400_000, Math.max(3_600_000, events * 10))));
  const start = parseStart(flags.start) ?? (rate > 0 ? now : now - span);
  const seed = flags.seed === undefined ? 1 : Number(flags.seed);
  if (!Number.isSafeInteger(seed)) throw new CliError(`--seed must be an integer (got "${flags.seed}")`);
  return { rate, generator: { seed, events, start, span } };
}

/** The catalogue, partitions, memory bound and hard cases, as generator options (unset ones left out). */
function parseShape(flags: Flags): Partial<GeneratorOptions> {
  const shape = {
    users: parseCount('users', flags.users),
    campaigns: parseCount('campaigns', flags.campaigns),
    adsPerCampaign: parseCount('ads-per-campaign', flags['ads-per-campaign']),
    pages: parseCount('pages', flags.pages, 2),
    partitions: parseCount('partitions', flags.partitions),
    botnetUsers: parseCount('botnet-users', flags['botnet-users']),
    maxPending: parseCount('max-pending', flags['max-pending']),
    bots: parseFraction('bots', flags.bots),
    floods: parseFraction('floods', flags.floods),
    nats: parseFraction('nats', flags.nats),
    late: parseFraction('late', flags.late),
    outOfOrder: parseFraction('out-of-order', flags['out-of-order']),
    duplicates: parseFraction('duplicates', flags.duplicates),
    orphans: parseFraction('orphans', flags.orphans),
    tooFast: parseFraction('too-fast', flags['too-fast']),
  };
  return Object.fromEntries(Object.entries(shape).filter(([, v]) => v !== undefined));
}

/** Where events go and how: --sink and the Kafka and HTTP settings. */
function parseOutput(flags: Flags) {
  const sink = (flags.sink ?? 'kafka') as SinkKind;
  if (!['kafka', 'http', 'none'].includes(sink)) throw new CliError(`--sink must be kafka, http or none (got "${flags.sink}")`);
  if (flags.collector !== undefined && !URL.canParse(flags.collector)) {
    throw new CliError(`--collector must be a URL like http://127.0.0.1:7001 (got "${flags.collector}")`);
  }
  return {
    sink,
    collector: flags.collector,
    apiKey: flags['api-key'],
    concurrency: parseCount('concurrency', flags.concurrency),
    brokers: flags.brokers,
    topicPrefix: flags['topic-prefix'],
    producerThreads: parseCount('producer-threads', flags['producer-threads'], 0),
    sendSize: parseCount('send-size', flags['send-size']),
    inFlight: parseCount('in-flight', flags['in-flight']),
    lingerMs: parseCount('linger-ms', flags['linger-ms']),
  };
}

/** Parses the command line (without the node and script arguments). Throws {@link CliError}. */
export function parseCliArgs(argv: readonly string[], now = Date.now()): CliSettings {
  const flags = readFlags(argv);
  const { rate, generator } = parseVolume(flags, now);
  return {
    help: flags.help ?? false,
    generator: { ...generator, ...parseShape(flags) },
    rate,
    ...parseOutput(flags),
    truth: flags.truth,
    quiet: flags.quiet ?? false,
    pregenerate: flags.pregenerate ?? false,
  };
}
