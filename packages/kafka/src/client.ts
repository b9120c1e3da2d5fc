import { Admin, type Base, type BaseOptions } from '@platformatic/kafka';
import type { KafkaConfig } from '@sigflow/config';
import './tagged-fields.js';
import { connectionSecurity, type ConnectionSecurity } from './connection-security.js';

/** Where the clients' warnings go: a pino-like logger or anything with the same methods. */
export interface KafkaLogSink {
  error(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
}

export interface KafkaClientOptions {
  /** Overrides the configured client id (one per service helps reading broker logs). */
  readonly clientId?: string;
  /** Broker connections that fail are logged here (warn). None: nothing is logged. */
  readonly log?: KafkaLogSink;
  /** Retries of a failed request (a connection, metadata, admin calls); services keep the default 5, probes use 0. */
  readonly retries?: number;
}

/** The delay before retry `attempt` (1, 2, ...): 100 ms doubling up to 2 s. */
const retryDelay = (_client: unknown, _operation: string, attempt: number): number => Math.min(2_000, 100 * 2 ** (attempt - 1));

/**
 * A service's Kafka connection settings (brokers, TLS and SASL, timeouts, retries) from which its
 * `@platformatic/kafka` clients are made: the admin calls ({@link admin}), the producers
 * (`EventProducer`), the probe and the topic readers. Creating it opens nothing; each client
 * connects on its first request and is closed by whoever made it.
 */
export class KafkaClient {
  readonly clientId: string;
  readonly brokers: readonly string[];
  readonly security: ConnectionSecurity;
  readonly retries: number;
  readonly log: KafkaLogSink | undefined;
  private readonly connectTimeoutMs: number;
  private readonly requestTimeoutMs: number;

  constructor(config: KafkaConfig, options: KafkaClientOptions = {}) {
    this.clientId = options.clientId ?? config.clientId;
    this.brokers = config.brokers;
    this.security = connectionSecurity(config);
    this.retries = options.retries ?? 5;
    this.log = options.log;
    this.connectTimeoutMs = config.connectionTimeoutMs;
    this.requestTimeoutMs = config.requestTimeoutMs;
  }

  /** The options every client of this service starts from; `overrides` (a client id, retries) win. */
  options(overrides: Partial<BaseOptions> = {}): BaseOptions {
    return {
      clientId: this.clientId,
      bootstrapBrokers: [...this.brokers],
      connectTimeout: this.connectTimeoutMs,
      requestTimeout: this.requestTimeoutMs,
      retries: this.retries,
      retryDelay,
      ...this.security,
      ...overrides,
    };
  }

  /** Logs the broker connections `client` fails to open (when a log sink was given); returns it. */
  watch<C extends Base>(client: C): C {
    const log = this.log;
    if (log) {
      client.on('client:broker:failed', ({ broker }) => log.warn({ component: 'kafka', client: client.clientId, broker: `${broker.host}:${broker.port}` }, 'Kafka broker connection failed'));
    }
    return client;
  }

  /** A new admin client; the caller closes it. */
  admin(overrides: Partial<BaseOptions> = {}): Admin {
    return this.watch(new Admin(this.options(overrides)));
  }

  /** Runs `use` with an admin client of its own, closed afterwards. */
  async withAdmin<T>(use: (admin: Admin) => Promise<T>): Promise<T> {
    const admin = this.admin();
    try {
      return await use(admin);
    } finally {
      await admin.close().catch(() => undefined);
    }
  }
}

/** A client for the configured brokers, with TLS and SASL when configured. */
export function createKafka(config: KafkaConfig, options: KafkaClientOptions = {}): KafkaClient {
  return new KafkaClient(config, options);
}
