// Kafka and Redis servers of a fault scenario's own, on spare ports: the faults stop, restart
// or freeze them, never the shared ones (127.0.0.1:9092, :6379) other suites use.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startKafkaBroker, stopKafkaBroker } from '../../../../infra/kafka/broker.mjs';
import { freePort } from '../../../../infra/lib/process.mjs';
import { startRedisServer, stopRedisServer } from '../../../../infra/redis/redis.mjs';

/** A redis-server of the test's own (AOF, fsync every second, when `persistence`). */
export class OwnRedis {
  private paused = false;
  private constructor(
    readonly port: number,
    readonly dir: string,
    private readonly persistence: boolean,
  ) {}

  static async start({ persistence = true } = {}): Promise<OwnRedis> {
    const port = await freePort();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sigflow-fault-redis-'));
    const server = new OwnRedis(port, dir, persistence);
    await startRedisServer({ port, dir, persistence });
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get pid(): number {
    return Number(fs.readFileSync(path.join(this.dir, 'redis.pid'), 'utf8').trim());
  }

  /** Clean stop (SIGTERM: Redis writes its AOF out first). */
  async stop(): Promise<void> {
    this.resume();
    await stopRedisServer({ dir: this.dir, signal: 'SIGTERM' });
  }

  async start(): Promise<void> {
    await startRedisServer({ port: this.port, dir: this.dir, persistence: this.persistence });
  }

  /** SIGKILL: a crash. Without persistence it comes back empty from {@link start}. */
  async kill(): Promise<void> {
    this.resume();
    await stopRedisServer({ dir: this.dir, signal: 'SIGKILL' });
  }

  /** SIGSTOP: connections stay open, nothing answers (a network partition, seen from clients). */
  pause(): void {
    process.kill(this.pid, 'SIGSTOP');
    this.paused = true;
  }

  resume(): void {
    if (!this.paused) return;
    process.kill(this.pid, 'SIGCONT');
    this.paused = false;
  }

  async destroy(): Promise<void> {
    await this.stop().catch(() => undefined);
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A single-node Kafka broker (KRaft) of the test's own. */
export class OwnKafka {
  private constructor(
    readonly port: number,
    readonly controllerPort: number,
    readonly dir: string,
    /** A listener advertised at another port (a proxy in front of it), when asked for. */
    readonly proxied?: { port: number; advertisedPort: number },
  ) {}

  static async start(options: { proxiedAt?: number } = {}): Promise<OwnKafka> {
    const [port, controllerPort] = [await freePort(), await freePort()];
    const proxied = options.proxiedAt === undefined ? undefined : { port: await freePort(), advertisedPort: options.proxiedAt };
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sigflow-fault-kafka-'));
    const broker = new OwnKafka(port, controllerPort, dir, proxied);
    await broker.start();
    return broker;
  }

  get brokers(): string {
    return `127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    await startKafkaBroker({ dir: this.dir, port: this.port, controllerPort: this.controllerPort, heap: '256m', log: () => undefined, ...(this.proxied ? { proxied: this.proxied } : {}) });
  }

  async stop(): Promise<void> {
    await stopKafkaBroker({ dir: this.dir, signal: 'SIGTERM' });
  }

  async destroy(): Promise<void> {
    await stopKafkaBroker({ dir: this.dir, signal: 'SIGKILL', graceMs: 5_000 }).catch(() => undefined);
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
