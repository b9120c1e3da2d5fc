#!/usr/bin/env node
import { loadConfig, type SigflowConfig } from '@sigflow/config';
import { topicsFor } from '@sigflow/events';
import { adoptEventPartitions, configuredTopicLayout, connectionSecurity, createKafka, ensureTopics } from '@sigflow/kafka';
import { CliError, parseCliArgs, usage, type CliSettings } from './cli-args.js';
import { EventStream, resolveGeneratorOptions } from './generate-events.js';
import { runGenerator, type Progress } from './run-generator.js';
import type { EventSink } from './sinks/event-sink.js';
import { HttpSink } from './sinks/http-sink.js';
import { KafkaSink } from './sinks/kafka-sink.js';
import { NullSink } from './sinks/null-sink.js';
import { PregeneratedEvents } from './pregenerated-events.js';
import { TruthRecorder } from './truth.js';

const fmt = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

function progressLine(p: Progress): string {
  return (
    `[loadgen] ${(p.elapsedMs / 1000).toFixed(1)}s  sent ${fmt.format(p.sent)} (${fmt.format(p.rate)}/s)` +
    `  generated ${fmt.format(p.generated)}  errors ${fmt.format(p.errors)}` +
    `  rejected ${fmt.format(p.rejected)}  failed ${fmt.format(p.failed)}`
  );
}

/** Creates the topics when missing; returns the events topic's partition count. */
async function prepareKafka(settings: CliSettings, config: SigflowConfig): Promise<{ topic: string; partitions: number }> {
  const kafka = createKafka(config.kafka, { clientId: 'sigflow-loadgen', retries: 2 });
  const topics = topicsFor(config.kafka.topicPrefix);
  // Without --partitions, an existing topic's count (a new one is created with the configured count).
  const partitions = settings.generator.partitions ?? (await adoptEventPartitions(kafka, config, console)).kafka.eventPartitions;
  await ensureTopics(kafka, topics, { ...configuredTopicLayout(config.kafka, config.limits.retentionMs), eventPartitions: partitions });
  const meta = await kafka.withAdmin((admin) => admin.metadata({ topics: [topics.events], forceUpdate: true }));
  return { topic: topics.events, partitions: meta.topics.get(topics.events)?.partitionsCount ?? partitions };
}

function startLine(stream: EventStream, rate: number, target: string): string {
  const o = stream.options;
  return (
    `[loadgen] ${fmt.format(o.events)} events, seed ${o.seed}, span ${o.span / 1000}s from ${new Date(o.start).toISOString()}, ` +
    `${rate > 0 ? `${fmt.format(rate)}/s` : 'as fast as possible'} -> ${target}`
  );
}

/** Knob settings that will deliver fewer cases than asked. */
function warnings(stream: EventStream): string[] {
  const o = stream.options;
  const out: string[] = [];
  if (o.late > 0 && o.span < 30 * 60_000) {
    out.push('--late needs a --span of 30 min or more: tails are held back at least 3 min, many would fall after the end');
  }
  if ((o.late > 0 || o.outOfOrder > 0) && (o.events / o.span) * 1000 < o.partitions) {
    out.push('fewer than 1 event/s per partition (event time): some held-back events will not end up late or out of order');
  }
  return out;
}

/** The settings, or the exit code when there is nothing to run (a bad flag, --help). */
function readSettings(argv: string[]): CliSettings | number {
  try {
    const settings = parseCliArgs(argv);
    if (!settings.help) return settings;
    process.stdout.write(`${usage}\n`);
    return 0;
  } catch (err) {
    if (!(err instanceof CliError)) throw err;
    process.stderr.write(`sigflow-generate: ${err.message}\nTry --help.\n`);
    return 2;
  }
}

/** The configuration, with --brokers and --topic-prefix over the environment. */
function configFor(settings: CliSettings): SigflowConfig {
  const env = { ...process.env };
  if (settings.brokers !== undefined) env['SIGFLOW_KAFKA_BROKERS'] = settings.brokers;
  if (settings.topicPrefix !== undefined) env['SIGFLOW_TOPIC_PREFIX'] = settings.topicPrefix;
  return loadConfig(env);
}

interface OpenSink {
  readonly sink: EventSink;
  /** Where the events go, for the summary. */
  readonly target: string;
  /** The partition count the labels must assume, when the sink decides it. */
  readonly partitions: number | undefined;
}

async function openKafkaSink(settings: CliSettings, config: SigflowConfig): Promise<OpenSink> {
  const { topic, partitions } = await prepareKafka(settings, config);
  if (settings.generator.partitions !== undefined && settings.generator.partitions !== partitions) {
    throw new CliError(`--partitions ${settings.generator.partitions} but topic ${topic} has ${partitions} partitions`);
  }
  const sink = new KafkaSink({
    brokers: config.kafka.brokers,
    security: connectionSecurity(config.kafka),
    topic,
    partitions,
    ...(settings.producerThreads !== undefined ? { workers: settings.producerThreads } : {}),
    ...(settings.sendSize !== undefined ? { sendSize: settings.sendSize } : {}),
    ...(settings.inFlight !== undefined ? { inFlight: settings.inFlight } : {}),
    ...(settings.lingerMs !== undefined ? { lingerMs: settings.lingerMs } : {}),
  });
  await sink.connect();
  return { sink, target: `kafka ${config.kafka.brokers.join(',')} topic ${topic}`, partitions };
}

function openHttpSink(settings: CliSettings, config: SigflowConfig): OpenSink {
  const url = settings.collector ?? `http://${config.collector.host}:${config.collector.port}`;
  const apiKey = settings.apiKey ?? config.collector.apiKeys[0];
  const sink = new HttpSink({
    url,
    ...(apiKey !== undefined ? { apiKey } : {}),
    ...(settings.concurrency !== undefined ? { concurrency: settings.concurrency } : {}),
  });
  return { sink, target: `collector ${url}`, partitions: settings.generator.partitions ?? config.kafka.eventPartitions };
}

function openSink(settings: CliSettings, config: SigflowConfig): Promise<OpenSink> | OpenSink {
  if (settings.sink === 'kafka') return openKafkaSink(settings, config);
  if (settings.sink === 'http') return openHttpSink(settings, config);
  return { sink: new NullSink(), target: 'none', partitions: settings.generator.partitions };
}

/** Runs the generator until done or SIGINT / SIGTERM, then closes the sink. */
async function runUntilStopped(settings: CliSettings, stream: EventStream | PregeneratedEvents, sink: EventSink, truth: TruthRecorder | undefined) {
  const abort = new AbortController();
  const stop = () => abort.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    const stats = await runGenerator({
      stream,
      sink,
      rate: settings.rate,
      truth,
      signal: abort.signal,
      ...(settings.quiet ? {} : { onProgress: (p: Progress) => process.stderr.write(`${progressLine(p)}\n`) }),
    });
    return { stats, aborted: abort.signal.aborted };
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    await sink.close();
  }
}

function cpuSecondsSoFar(): number {
  const { user, system } = process.cpuUsage();
  return Math.round((user + system) / 1e3) / 1e3;
}

/** The JSON summary printed at the end. */
function summary(settings: CliSettings, stream: EventStream, run: Awaited<ReturnType<typeof runUntilStopped>>, target: string, pregenerated: PregeneratedEvents | null) {
  const o = stream.options;
  const { truth: _recorder, ...rest } = run.stats;
  return {
    ...rest,
    durationMs: Math.round(run.stats.durationMs),
    eventsPerSecond: Math.round(run.stats.eventsPerSecond),
    // CPU of the whole process (generation, producer threads, garbage collection), seconds.
    cpuSeconds: cpuSecondsSoFar(),
    // --pregenerate: the part of it spent generating, before the first event was sent.
    pregenerateCpuSeconds: pregenerated ? Math.round(pregenerated.cpuSeconds * 1e3) / 1e3 : null,
    aborted: run.aborted,
    sink: settings.sink,
    target,
    truthFile: settings.truth ?? null,
    params: {
      seed: o.seed,
      events: o.events,
      start: o.start,
      span: o.span,
      partitions: o.partitions,
      rate: settings.rate,
      knobs: {
        late: o.late,
        outOfOrder: o.outOfOrder,
        duplicates: o.duplicates,
        bots: o.bots,
        floods: o.floods,
        nats: o.nats,
        orphans: o.orphans,
        tooFast: o.tooFast,
      },
    },
  };
}

async function main(argv: string[]): Promise<number> {
  const settings = readSettings(argv);
  if (typeof settings === 'number') return settings;
  const config = configFor(settings);
  // Check the generator options before connecting anything.
  resolveGeneratorOptions({ ...settings.generator, rules: config.rules, partitions: settings.generator.partitions ?? 1 });
  const { sink, target, partitions } = await openSink(settings, config);
  const stream = new EventStream({ ...settings.generator, rules: config.rules, ...(partitions !== undefined ? { partitions } : {}) });
  if (!settings.quiet) for (const warning of warnings(stream)) process.stderr.write(`[loadgen] warning: ${warning}\n`);
  const truth = settings.truth ? new TruthRecorder(stream) : undefined;
  if (!settings.quiet) process.stderr.write(`${startLine(stream, settings.rate, target)}\n`);
  const pregenerated = settings.pregenerate ? PregeneratedEvents.from(stream, truth) : null;
  if (pregenerated && !settings.quiet) process.stderr.write(`[loadgen] pregenerated ${fmt.format(pregenerated.length)} events in ${pregenerated.cpuSeconds.toFixed(1)} CPU-s\n`);
  const run = await runUntilStopped(settings, pregenerated ?? stream, sink, truth);
  if (truth && settings.truth) await truth.writeFile(settings.truth);
  process.stdout.write(`${JSON.stringify(summary(settings, stream, run, target, pregenerated), null, 2)}\n`);
  return run.stats.failed > 0 ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`sigflow-generate: ${message}\n`);
    process.exitCode = err instanceof CliError || err instanceof RangeError ? 2 : 1;
  },
);
