// A TCP link on loopback between a service and a server (Redis), which a test cuts and heals, or
// slows. The kernel here has no netem and tests may not change the host's network, so the fault
// sits in this proxy: a cut stops reading both ways (what is sent waits in the sockets' buffers,
// as packets wait for retransmission across a partition; new connections are accepted and wait
// too), a heal lets it all through in order; a degraded link holds every chunk a delay each way,
// and some chunks a retransmission's time more.
import net from 'node:net';

type Target = { host: string; port: number };

export class FaultyLink {
  private cut = false;
  private delayMs = 0;
  private lossRate = 0;
  private retransmitMs = 0;
  /** Chunks held as lost (the row's evidence that the loss happened). */
  lost = 0;
  private readonly pairs = new Set<[net.Socket, net.Socket]>();

  private constructor(
    private readonly server: net.Server,
    readonly port: number,
  ) {}

  /**
   * Listens on a spare loopback port and forwards each connection to `target` (or to what it
   * returns when the connection comes: a server that must know the link's port first).
   */
  static async open(target: Target | (() => Target)): Promise<FaultyLink> {
    const holder: { link?: FaultyLink } = {};
    const server = net.createServer((client) => holder.link?.connect(client, typeof target === 'function' ? target() : target));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    holder.link = new FaultyLink(server, (server.address() as net.AddressInfo).port);
    return holder.link;
  }

  /** Stops everything both ways until {@link heal}. */
  partition(): void {
    this.cut = true;
    for (const [a, b] of this.pairs) {
      a.pause();
      b.pause();
    }
  }

  heal(): void {
    this.cut = false;
    for (const [a, b] of this.pairs) {
      a.resume();
      b.resume();
    }
  }

  /**
   * Holds every chunk `delayMs` before passing it on, and a `lossRate` share of them
   * `retransmitMs` more (a lost segment waits for TCP's retransmission, and holds up everything
   * behind it: the link keeps each direction in order). `degrade({})` ends it.
   */
  degrade({ delayMs = 0, lossRate = 0, retransmitMs = 0 }: { delayMs?: number; lossRate?: number; retransmitMs?: number }): void {
    this.delayMs = delayMs;
    this.lossRate = lossRate;
    this.retransmitMs = retransmitMs;
  }

  async close(): Promise<void> {
    for (const [a, b] of this.pairs) {
      a.destroy();
      b.destroy();
    }
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private connect(client: net.Socket, target: Target): void {
    const upstream = net.connect(target.port, target.host);
    const pair: [net.Socket, net.Socket] = [client, upstream];
    this.pairs.add(pair);
    this.forward(client, upstream);
    this.forward(upstream, client);
    const close = () => {
      this.pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', close).on('error', close);
    upstream.on('close', close).on('error', close);
    if (this.cut) {
      client.pause();
      upstream.pause();
    }
  }

  /** Passes `from`'s bytes to `to`, each chunk after the delay, in order. */
  private forward(from: net.Socket, to: net.Socket): void {
    let queue = Promise.resolve();
    from.on('data', (chunk: Buffer) => {
      const lost = this.lossRate > 0 && Math.random() < this.lossRate;
      if (lost) this.lost++;
      const wait = this.delayMs + (lost ? this.retransmitMs : 0);
      if (wait === 0) {
        queue = queue.then(() => void to.write(chunk));
        return;
      }
      const due = Date.now() + wait;
      queue = queue.then(() => new Promise<void>((resolve) => setTimeout(() => {
        if (!to.destroyed) to.write(chunk);
        resolve();
      }, Math.max(0, due - Date.now()))));
    });
  }
}
