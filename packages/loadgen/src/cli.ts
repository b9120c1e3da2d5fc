#!/usr/bin/env node
import { loadConfig, type SigflowConfig } from '@sigflow/config';
import { topicsFor } from '@sigflow/events';
import { createKafka, ensureTopics } from '@sigflow/kafka';
import { CliError, parseCliArgs, usage, type CliSettings } from './cli-args.js';
import { EventStream, resolveGeneratorOptions } from './generate-events.js';
import { runGenerator, type Progress } from './run-generator.js';
import type { EventSink } from './sinks/event-sink.js';
import { HttpSink } from './sinks/http-sink.js';
import { KafkaSink } from './sinks/kafka-sink.js';
import { NullSink } from './sinks/null-sink.js';
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
  const partitions = settings.generator.partitions ?? config.kafka.eventPartitions;
  await ensureTopics(kafka, topics, { eventPartitions: partitions });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const meta = await admin.fetchTopicMetadata({ topics: [topics.events] });
    return { topic: topics.events, partitions: meta.topics[0]?.partitions.length ?? partitions };
  } finally {
    await admin.disconnect();
  }
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

async function main(argv: string[]): Promise<number> {
  let settings: CliSettings;
  try {
    settings = parseCliArgs(argv);
  } catch (err) {
    if (err instanceof CliError) {
      process.stderr.write(`sigflow-generate: ${err.message}\nTry --help.\n`);
      return 2;
    }
    throw err;
  }
  if (settings.help) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  const env = { ...process.env };
  if (settings.brokers !== undefined) env['SIGFLOW_KAFKA_BROKERS'] = settings.brokers;
  if (settings.topicPrefix !== undefined) env['SIGFLOW_TOPIC_PREFIX'] = settings.topicPrefix;
  const config = loadConfig(env);
  // Check the generator options before connecting anything.
  resolveGeneratorOptions({ ...settings.generator, rules: config.rules, partitions: settings.generator.partitions ?? 1 });

  let sink: EventSink;
  let generator = { ...settings.generator, rules: config.rules };
  let target: string;
  if (settings.sink === 'kafka') {
    const { topic, partitions } = await prepareKafka(settings, config);
    if (settings.generator.partitions !== undefined && settings.generator.partitions !== partitions) {
      throw new CliError(`--partitions ${settings.generator.partitions} but topic ${topic} has ${partitions} partitions`);
    }
    generator = { ...generator, partitions };
    const kafkaSink = new KafkaSink({
      kafka: createKafka(config.kafka, { clientId: 'sigflow-loadgen' }),
      topic,
      partitions,
      producer: settings.producer,
      ...(settings.sendSize !== undefined ? { sendSize: settings.sendSize } : {}),
      ...(settings.inFlight !== undefined ? { inFlight: settings.inFlight } : {}),
    });
    await kafkaSink.connect();
    sink = kafkaSink;
    target = `kafka ${config.kafka.brokers.join(',')} topic ${topic}`;
  } else if (settings.sink === 'http') {
    const url = settings.collector ?? `http://${config.collector.host}:${config.collector.port}`;
    const apiKey = settings.apiKey ?? config.collector.apiKeys[0];
    sink = new HttpSink({
      url,
      ...(apiKey !== undefined ? { apiKey } : {}),
      ...(settings.concurrency !== undefined ? { concurrency: settings.concurrency } : {}),
    });
    target = `collector ${url}`;
    generator = { ...generator, partitions: generator.partitions ?? config.kafka.eventPartitions };
  } else {
    sink = new NullSink();
    target = 'none';
  }

  const stream = new EventStream(generator);
  for (const warning of warnings(stream)) if (!settings.quiet) process.stderr.write(`[loadgen] warning: ${warning}\n`);
  const truth = settings.truth ? new TruthRecorder(stream) : undefined;
  const abort = new AbortController();
  const stop = () => abort.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const o = stream.options;
  if (!settings.quiet) {
    process.stderr.write(
      `[loadgen] ${fmt.format(o.events)} events, seed ${o.seed}, span ${o.span / 1000}s from ${new Date(o.start).toISOString()}, ` +
        `${settings.rate > 0 ? `${fmt.format(settings.rate)}/s` : 'as fast as possible'} -> ${target}\n`,
    );
  }
  let stats;
  try {
    stats = await runGenerator({
      stream,
      sink,
      rate: settings.rate,
      truth,
      signal: abort.signal,
      ...(settings.quiet ? {} : { onProgress: (p: Progress) => process.stderr.write(`${progressLine(p)}\n`) }),
    });
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    await sink.close();
  }
  if (truth && settings.truth) await truth.writeFile(settings.truth);
  const { truth: _recorder, ...rest } = stats;
  const summary = {
    ...rest,
    durationMs: Math.round(stats.durationMs),
    eventsPerSecond: Math.round(stats.eventsPerSecond),
    aborted: abort.signal.aborted,
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
        orphans: o.orphans,
        tooFast: o.tooFast,
      },
    },
  };
  process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  return stats.failed > 0 ? 1 : 0;
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
