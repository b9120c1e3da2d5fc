import { Kafka, logLevel, type KafkaConfig as KafkaJsConfig, type LogEntry, type logCreator } from 'kafkajs';
import type { KafkaConfig } from '@sigflow/config';
import { caOf } from './connection-security.js';

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

/** TLS and SASL of the connection, as kafkajs takes them (none on a local broker). */
export function kafkaSecurity(config: KafkaConfig): Pick<KafkaJsConfig, 'ssl' | 'sasl'> {
  const ca = caOf(config);
  const ssl = config.ssl ? (ca === undefined ? true : { ca }) : undefined;
  const sasl = config.sasl === null ? undefined : { mechanism: config.sasl.mechanism, username: config.sasl.username, password: config.sasl.password };
  return { ...(ssl === undefined ? {} : { ssl }), ...(sasl === undefined ? {} : { sasl }) } as Pick<KafkaJsConfig, 'ssl' | 'sasl'>;
}

/** A kafkajs client for the configured brokers, with TLS and SASL when configured. */
export function createKafka(config: KafkaConfig, options: KafkaClientOptions = {}): Kafka {
  return new Kafka({
    clientId: options.clientId ?? config.clientId,
    brokers: config.brokers,
    ...kafkaSecurity(config),
    connectionTimeout: config.connectionTimeoutMs,
    requestTimeout: config.requestTimeoutMs,
    logLevel: options.log ? logLevel.WARN : logLevel.NOTHING,
    ...(options.log ? { logCreator: logCreatorFor(options.log) } : {}),
    retry: { retries: options.retries ?? 5, initialRetryTime: 100, maxRetryTime: 2_000 },
  });
}
