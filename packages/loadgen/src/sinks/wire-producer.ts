import { connect, type Socket } from 'node:net';
import type { Kafka } from 'kafkajs';
import { crc32c } from './crc32c.js';
import type { SinkEvent } from './event-sink.js';

/**
 * A minimal Kafka producer for pre-serialized events: it writes Produce (v3) requests with
 * magic-2 record batches straight into one buffer per request (no per-message objects),
 * pipelines requests on one connection per leader broker, and reads the acknowledgements.
 * Kafka handles the requests of one connection in order, so pipelining keeps every
 * partition's order. Plaintext connections only (what `@sigflow/config` describes);
 * metadata comes from a kafkajs admin client.
 */
export class WireProducer {
  private readonly connections = new Map<number, BrokerConnection>();
  private leaders: number[] = [];
  private brokers = new Map<number, { host: string; port: number }>();
  private readonly clientId: Buffer;
  private readonly topicBytes: Buffer;

  constructor(
    private readonly kafka: Kafka,
    readonly topic: string,
    private readonly options: { clientId?: string; acks?: -1 | 1; timeoutMs?: number } = {},
  ) {
    this.clientId = Buffer.from(options.clientId ?? 'sigflow-loadgen');
    this.topicBytes = Buffer.from(topic);
  }

  /** Reads the topic's partition leaders and the brokers' addresses; returns the partition count. */
  async connect(): Promise<number> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const [meta, cluster] = await Promise.all([admin.fetchTopicMetadata({ topics: [this.topic] }), admin.describeCluster()]);
      const partitions = meta.topics[0]?.partitions ?? [];
      this.leaders = [];
      for (const p of partitions) this.leaders[p.partitionId] = p.leader;
      this.brokers = new Map(cluster.brokers.map((b) => [b.nodeId, { host: b.host, port: b.port }]));
      return partitions.length;
    } finally {
      await admin.disconnect();
    }
  }

  async disconnect(): Promise<void> {
    for (const c of this.connections.values()) c.close();
    this.connections.clear();
  }

  /**
   * Produces `events` (any partitions; order kept within each) with `received_at` =
   * `receivedAt` appended to each JSON value. Resolves when every leader acknowledged;
   * rejects with the first error (a broker error code or a connection failure).
   */
  async send(events: readonly SinkEvent[], receivedAt: number): Promise<void> {
    if (events.length === 0) return;
    // Group by leader broker, then by partition (order kept).
    const byLeader = new Map<number, Map<number, SinkEvent[]>>();
    for (const ev of events) {
      const leader = this.leaders[ev.partition];
      if (leader === undefined) throw new Error(`no leader known for partition ${ev.partition} of ${this.topic}`);
      let parts = byLeader.get(leader);
      if (!parts) byLeader.set(leader, (parts = new Map()));
      let list = parts.get(ev.partition);
      if (!list) parts.set(ev.partition, (list = []));
      list.push(ev);
    }
    const suffix = Buffer.from(`,"received_at":${receivedAt}}`);
    const requests: Promise<void>[] = [];
    for (const [leader, parts] of byLeader) {
      const conn = this.connection(leader);
      const correlationId = conn.nextCorrelationId();
      const request = this.encodeProduce(correlationId, parts, suffix, receivedAt);
      requests.push(conn.request(correlationId, request).then((body) => checkProduceResponse(body)));
    }
    await Promise.all(requests);
  }

  private connection(nodeId: number): BrokerConnection {
    let conn = this.connections.get(nodeId);
    if (!conn || conn.closed) {
      const address = this.brokers.get(nodeId);
      if (!address) throw new Error(`unknown broker ${nodeId}`);
      conn = new BrokerConnection(address.host, address.port, (this.options.timeoutMs ?? 30_000) + 5_000);
      this.connections.set(nodeId, conn);
    }
    return conn;
  }

  /** One Produce v3 request: header, then one record batch per partition. */
  private encodeProduce(correlationId: number, parts: Map<number, SinkEvent[]>, suffix: Buffer, timestamp: number): Buffer {
    // Upper bound of the size: headers plus, per message, its bytes and at most 20 bytes of varints.
    let bound = 64 + this.clientId.length + this.topicBytes.length;
    for (const list of parts.values()) {
      bound += 12 + 61;
      for (const ev of list) bound += 3 * ev.json.length + ev.key.length * 3 + suffix.length + 24;
    }
    const buf = Buffer.allocUnsafe(bound);
    let o = 4; // size comes last
    o = buf.writeInt16BE(0, o); // api key: Produce
    o = buf.writeInt16BE(3, o); // api version
    o = buf.writeInt32BE(correlationId, o);
    o = buf.writeInt16BE(this.clientId.length, o);
    o += this.clientId.copy(buf, o);
    o = buf.writeInt16BE(-1, o); // transactional id: null
    o = buf.writeInt16BE(this.options.acks ?? -1, o);
    o = buf.writeInt32BE(this.options.timeoutMs ?? 30_000, o);
    o = buf.writeInt32BE(1, o); // one topic
    o = buf.writeInt16BE(this.topicBytes.length, o);
    o += this.topicBytes.copy(buf, o);
    o = buf.writeInt32BE(parts.size, o);
    for (const [partition, list] of parts) {
      o = buf.writeInt32BE(partition, o);
      const sizeAt = o;
      o += 4;
      o = encodeRecordBatch(buf, o, list, suffix, timestamp);
      buf.writeInt32BE(o - sizeAt - 4, sizeAt);
    }
    buf.writeInt32BE(o - 4, 0);
    return buf.subarray(0, o);
  }
}

/** Writes a magic-2 record batch of `events` at `start`; returns the end offset. */
function encodeRecordBatch(buf: Buffer, start: number, events: readonly SinkEvent[], suffix: Buffer, timestamp: number): number {
  let o = start;
  o = buf.writeInt32BE(0, o); // base offset (int64) = 0
  o = buf.writeInt32BE(0, o);
  const lengthAt = o;
  o += 4; // batch length
  o = buf.writeInt32BE(-1, o); // partition leader epoch
  o = buf.writeInt8(2, o); // magic
  const crcAt = o;
  o += 4;
  const attributesAt = o;
  o = buf.writeInt16BE(0, o); // attributes: no compression, create time
  o = buf.writeInt32BE(events.length - 1, o); // last offset delta
  o = writeInt64(buf, o, timestamp); // base timestamp
  o = writeInt64(buf, o, timestamp); // max timestamp
  o = buf.writeInt32BE(-1, o); // producer id (int64) = -1
  o = buf.writeInt32BE(-1, o);
  o = buf.writeInt16BE(-1, o); // producer epoch
  o = buf.writeInt32BE(-1, o); // base sequence
  o = buf.writeInt32BE(events.length, o);
  const suffixLength = suffix.length;
  for (let i = 0; i < events.length; i++) {
    const ev = events[i] as SinkEvent;
    const json = ev.json;
    // The value is the JSON without its closing brace, then the received_at suffix.
    const jsonBytes = Buffer.byteLength(json) - 1;
    const keyBytes = Buffer.byteLength(ev.key);
    const valueBytes = jsonBytes + suffixLength;
    const bodyLength =
      1 + // attributes
      1 + // timestamp delta 0
      varintSize(i) +
      varintSize(keyBytes) +
      keyBytes +
      varintSize(valueBytes) +
      valueBytes +
      1; // no headers
    o = writeVarint(buf, o, bodyLength);
    buf[o++] = 0;
    buf[o++] = 0;
    o = writeVarint(buf, o, i);
    o = writeVarint(buf, o, keyBytes);
    o += buf.write(ev.key, o, keyBytes, 'utf8');
    o = writeVarint(buf, o, valueBytes);
    o += buf.write(json, o, jsonBytes, 'utf8');
    o += suffix.copy(buf, o);
    buf[o++] = 0;
  }
  buf.writeInt32BE(o - lengthAt - 4, lengthAt);
  buf.writeUInt32BE(crc32c(buf, attributesAt, o), crcAt);
  return o;
}

function writeInt64(buf: Buffer, o: number, value: number): number {
  const high = Math.floor(value / 4294967296);
  buf.writeInt32BE(high, o);
  buf.writeUInt32BE(value - high * 4294967296, o + 4);
  return o + 8;
}

/** Bytes of a non-negative value as a zigzag varint. */
function varintSize(value: number): number {
  let v = value * 2;
  let n = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

/** Writes a non-negative value as a zigzag varint (Kafka record fields). */
function writeVarint(buf: Buffer, o: number, value: number): number {
  let v = value * 2;
  while (v >= 0x80) {
    buf[o++] = (v & 0x7f) | 0x80;
    v = Math.floor(v / 128);
  }
  buf[o++] = v;
  return o;
}

const errorNames: Record<number, string> = {
  1: 'OFFSET_OUT_OF_RANGE',
  2: 'CORRUPT_MESSAGE',
  3: 'UNKNOWN_TOPIC_OR_PARTITION',
  5: 'LEADER_NOT_AVAILABLE',
  6: 'NOT_LEADER_OR_FOLLOWER',
  7: 'REQUEST_TIMED_OUT',
  10: 'MESSAGE_TOO_LARGE',
  19: 'NOT_ENOUGH_REPLICAS',
  20: 'NOT_ENOUGH_REPLICAS_AFTER_APPEND',
  29: 'TOPIC_AUTHORIZATION_FAILED',
  35: 'UNSUPPORTED_VERSION',
  42: 'INVALID_REQUEST',
  87: 'INVALID_RECORD',
};

/** Throws when any partition of a Produce v3 response carries an error code. */
function checkProduceResponse(body: Buffer): void {
  let o = 0;
  const topics = body.readInt32BE(o);
  o += 4;
  for (let t = 0; t < topics; t++) {
    const nameLength = body.readInt16BE(o);
    o += 2 + nameLength;
    const partitions = body.readInt32BE(o);
    o += 4;
    for (let p = 0; p < partitions; p++) {
      const partition = body.readInt32BE(o);
      const code = body.readInt16BE(o + 4);
      o += 4 + 2 + 8 + 8;
      if (code !== 0) {
        throw new Error(`Kafka refused partition ${partition}: ${errorNames[code] ?? `error code ${code}`}`);
      }
    }
  }
}

/** One TCP connection to a broker: framed requests out, responses matched by correlation id. */
class BrokerConnection {
  closed = false;
  private readonly socket: Socket;
  private correlationId = 0;
  private readonly pending = new Map<number, { resolve: (body: Buffer) => void; reject: (err: Error) => void }>();
  private inbox: Buffer = Buffer.alloc(0);
  private failure: Error | undefined;

  constructor(
    host: string,
    port: number,
    private readonly timeoutMs: number,
  ) {
    this.socket = connect({ host, port, noDelay: true });
    this.socket.on('data', (chunk: Buffer) => this.receive(chunk));
    this.socket.on('error', (err) => this.fail(err));
    this.socket.on('close', () => this.fail(new Error(`connection to ${host}:${port} closed`)));
  }

  nextCorrelationId(): number {
    this.correlationId = (this.correlationId + 1) & 0x7fffffff;
    return this.correlationId;
  }

  request(correlationId: number, frame: Buffer): Promise<Buffer> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<Buffer>((resolve, reject) => {
      // No answer in time: the connection is broken for every request on it.
      const timer = setTimeout(() => {
        this.fail(new Error(`no answer from the broker within ${this.timeoutMs} ms`));
        this.socket.destroy();
      }, this.timeoutMs);
      this.pending.set(correlationId, {
        resolve: (body) => {
          clearTimeout(timer);
          resolve(body);
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      });
      this.socket.write(frame);
    });
  }

  close(): void {
    this.closed = true;
    this.socket.destroy();
  }

  private receive(chunk: Buffer): void {
    this.inbox = this.inbox.length === 0 ? chunk : Buffer.concat([this.inbox, chunk]);
    while (this.inbox.length >= 4) {
      const size = this.inbox.readInt32BE(0);
      if (this.inbox.length < 4 + size) break;
      const correlationId = this.inbox.readInt32BE(4);
      const body = this.inbox.subarray(8, 4 + size);
      this.inbox = this.inbox.subarray(4 + size);
      const waiter = this.pending.get(correlationId);
      if (waiter) {
        this.pending.delete(correlationId);
        waiter.resolve(body);
      }
    }
  }

  private fail(err: Error): void {
    this.closed = true;
    this.failure ??= err;
    for (const waiter of this.pending.values()) waiter.reject(this.failure);
    this.pending.clear();
  }
}
