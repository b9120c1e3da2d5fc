import { Kafka, logLevel, type LogEntry, type logCreator } from 'kafkajs';
import type { KafkaConfig } from '@sigflow/config';

/** Where kafkajs log lines go: a pino-like logger or anything with the same methods. */
export interface KafkaLogSink {
  error(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
}

function logCreatorFor(sink: KafkaLogSink): logCreator {
  return () =>
    ({ namespace, level, log }: LogEntry) => {
      const { message, ...extra } = log;
      const fields = { component: 'kafkajs', namespace, ...extra };
      if (level === logLevel.ERROR) sink.error(fields, message);
      else if (level === logLevel.WARN) sink.warn(fields, message);
      else if (level === logLevel.INFO) sink.info(fields, message);
      else sink.debug(fields, message);
    };
}

export interface KafkaClientOptions {
  /** Overrides the configured client id (one per service helps reading broker logs). */
  readonly clientId?: string;
  readonly log?: KafkaLogSink;
  /** kafkajs retries of broker connections; services keep the default, probes use few. */
  readonly retries?: number;
}

/** A kafkajs client for the configured brokers. */
export function createKafka(config: KafkaConfig, options: KafkaClientOptions = {}): Kafka {
  return new Kafka({
    clientId: options.clientId ?? config.clientId,
    brokers: config.brokers,
    connectionTimeout: config.connectionTimeoutMs,
    requestTimeout: config.requestTimeoutMs,
    logLevel: options.log ? logLevel.WARN : logLevel.NOTHING,
    ...(options.log ? { logCreator: logCreatorFor(options.log) } : {}),
    retry: { retries: options.retries ?? 5, initialRetryTime: 100, maxRetryTime: 2_000 },
  });
}
