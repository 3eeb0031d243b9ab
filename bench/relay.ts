// A delaying TCP relay: a host "far away" on this machine (the kernel's netem
// is not available here). Each relay listens on its own address and passes
// bytes to one server, holding every chunk `delay` ms in each direction, so a
// round trip costs 2 x delay. A new connection costs one round trip before
// its first byte goes on (TCP's handshake), as it would over a real link.
// Time comes through the clock seam, so a test drives it with a manual clock.

import * as net from 'node:net';
import { systemClock, type Clock } from '../lib/clock.js';

export interface RelayOptions {
  /** Where the server is. */
  target: { host: string; port: number };
  /** Where the relay listens (default 127.0.0.1, port 0). */
  host?: string;
  port?: number;
  /** Held in each direction, ms. */
  delay: number;
  clock?: Clock;
}

export class DelayRelay {
  /** Connections accepted so far. */
  accepted = 0;
  /** Connections open now, and the most at once. */
  open = 0;
  peakOpen = 0;
  /** Chunks held now, waiting for their delay to pass. */
  held = 0;
  /** Bytes passed on, each way. */
  readonly bytes = { up: 0, down: 0 };
  private readonly listener: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private readonly clock: Clock;

  constructor(private readonly options: RelayOptions) {
    this.clock = options.clock ?? systemClock;
    this.listener = net.createServer({ noDelay: true, pauseOnConnect: false }, (client) => this.accept(client));
  }

  listen(): Promise<net.AddressInfo> {
    return new Promise((resolve, reject) => {
      this.listener.once('error', reject);
      this.listener.listen({ port: this.options.port ?? 0, host: this.options.host ?? '127.0.0.1', backlog: 4096 }, () => {
        this.listener.off('error', reject);
        resolve(this.listener.address() as net.AddressInfo);
      });
    });
  }

  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return new Promise((resolve) => this.listener.close(() => resolve()));
  }

  private accept(client: net.Socket): void {
    this.accepted++;
    this.open++;
    this.peakOpen = Math.max(this.peakOpen, this.open);
    const delay = this.options.delay;
    const upstream = new net.Socket();
    this.sockets.add(client).add(upstream);
    let connected = false;
    let ended = false;
    /** Chunks due upstream before the upstream connection was made. */
    const early: Buffer[] = [];
    const closeBoth = () => {
      if (ended) return;
      ended = true;
      this.open--;
      this.sockets.delete(client);
      this.sockets.delete(upstream);
      client.destroy();
      upstream.destroy();
    };
    client.setNoDelay(true);
    client.on('error', closeBoth);
    upstream.on('error', closeBoth);
    // The handshake: one round trip before the connection is there.
    this.clock.setTimeout(() => {
      if (ended) return;
      upstream.connect({ host: this.options.target.host, port: this.options.target.port, noDelay: true }, () => {
        connected = true;
        for (const chunk of early.splice(0)) upstream.write(chunk);
      });
    }, 2 * delay);
    const later = (fn: () => void) => {
      this.held++;
      this.clock.setTimeout(() => {
        this.held--;
        fn();
      }, delay);
    };
    client.on('data', (chunk: Buffer) =>
      later(() => {
        if (ended) return;
        this.bytes.up += chunk.length;
        if (connected) upstream.write(chunk);
        else early.push(chunk);
      }),
    );
    upstream.on('data', (chunk: Buffer) =>
      later(() => {
        if (ended) return;
        this.bytes.down += chunk.length;
        client.write(chunk);
      }),
    );
    // A close travels as the bytes do.
    client.on('end', () => later(closeBoth));
    upstream.on('end', () => later(closeBoth));
    client.on('close', () => later(closeBoth));
    upstream.on('close', () => {
      if (connected) later(closeBoth);
    });
  }
}
