// The event-loop server: one `node:net` listener, Medusa's handler chain,
// and one sweep timer for every connection's deadline (never a timer per
// request). Embeddable: create, add handlers, await listen() and close().

import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import * as tls from 'node:tls';
import { systemClock, type Clock, type ClockTimer } from '../clock.js';
import { ClusterError, ClusterErrorCode } from '../errors.js';
import { serverLimits, timeoutMs, type ServerLimits } from '../options.js';
import { MemoryBudget, SMALL_REQUEST } from './budget.js';
import { BodyPool } from './body.js';
import { Connection } from './connection.js';
import type { ConnectionHost } from './host.js';
import { newTraffic, type ConnectionState, type Traffic } from './traffic.js';
import type { Handler, Request } from './request.js';
import { accessLogWriter, type AccessLogOptions, type AccessRecord } from './access-log.js';
import { EvictableList } from './evictable.js';

export interface ServerOptions extends Partial<ServerLimits> {
  /** Handlers, tried in this order. More can be added with addHandler(). */
  handlers?: Handler[];
  /**
   * Where handler exceptions are reported. The default writes one line on
   * stderr: the error's name and message, the XML-RPC method (or HTTP method
   * and path) and the peer; the stack goes to the request's access record
   * (`err.stack`), not to stderr.
   */
  onError?: (err: unknown, request: Request | null) => void;
  /** Writes one line per answered request (4xx and 5xx included). Off by default. */
  accessLog?: AccessLogOptions;
  /** Called with each answered request's record (the access log's fields): give it to your own logger. */
  onRequest?: (record: AccessRecord) => void;
  /** Serve HTTPS: `node:tls` server options (at least `key` and `cert`, or `pfx`). */
  tls?: tls.TlsOptions;
  /**
   * The time every timeout is measured by (default: the system clock). The
   * TLS handshake is timed by Node itself (its handshakeTimeout), not by this.
   */
  clock?: Clock;
}

/** How Server#listen binds, beside port and host. */
export interface ListenOptions {
  /** In a `node:cluster` worker: bind a socket of this process's own, not the primary's shared one. */
  exclusive?: boolean;
  /** SO_REUSEPORT: several processes bind the same port and the kernel spreads connections. Detected at run time (reusePortSupported()). */
  reusePort?: boolean;
}

/** Whether this Node offers `reusePort` for net.Server#listen: 22.12+ (or 23.1+) on Linux, FreeBSD and DragonFly. */
export function reusePortSupported(version: string = process.versions.node, platform: string = process.platform): boolean {
  if (!['linux', 'freebsd', 'dragonfly'].includes(platform)) return false;
  const [major = 0, minor = 0] = version.split('.').map(Number);
  return major > 23 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12);
}

const BUSY_503 = 'HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: 20\r\nConnection: close\r\n\r\nToo many connections';

/** What the server holds and what it has refused, for operators (Server#stats), beside its traffic counters. */
export interface ServerStats extends Traffic {
  connections: number;
  /** Bytes held for clients now: request bodies and responses not yet taken by the kernel (maxBufferedBytes). */
  bufferedBytes: number;
  peakBufferedBytes: number;
  /** Requests refused with 503 because the memory budget had no room for their body. */
  refusedForMemory: number;
  /** Connections closed to make room in the memory budget: they held response bytes they did not read. */
  closedSlowReaders: number;
  /** Connections answered 503 at accept: the server was full (none to evict), or the peer address at its limit. */
  refusedConnections: number;
  /** Connections closed to give their slot to a newcomer: they were waiting for a request, owing nothing. */
  evictedConnections: number;
  /** Open connections by what they are doing. */
  connectionsByState: Record<ConnectionState, number>;
}

export class Server {
  readonly options: Readonly<ServerLimits>;
  private readonly clock: Clock;
  private readonly handlers: Handler[];
  private readonly onError: (err: unknown, request: Request | null) => void;
  private readonly listener: net.Server;
  private readonly connections = new Set<Connection>();
  /** What every connection may ask of this server; kept off the public surface. */
  private readonly host: ConnectionHost<Connection>;
  /** TLS only: raw sockets whose handshake has not finished (close() must not wait on them). */
  private readonly handshaking = new Set<net.Socket>();
  private sweepTimer: ClockTimer | null = null;
  private closePromise: Promise<void> | null = null;
  private closed: (() => void) | null = null;
  private isClosing = false;
  private readonly budget: MemoryBudget;
  private readonly bodies = new BodyPool();
  /** Connections that have not sent a whole request head yet, oldest first: the first a full server closes. */
  private readonly unproven = new Set<Connection>();
  /** Connections waiting for a request with nothing owed, longest waiting first: the next it closes. */
  private readonly evictable = new EvictableList<Connection>();
  /** Open connections per peer address, when maxConnectionsPerAddress is finite. */
  private readonly perAddress = new Map<string, number>();
  private readonly counts = { refusedForMemory: 0, closedSlowReaders: 0, refusedConnections: 0, evictedConnections: 0 };
  /** When close() gives up waiting (clock ms), and the timer that does it. */
  private closeDeadline = Infinity;
  private closeTimer: ClockTimer | null = null;
  /** Sockets answered 503, lingering until the client closes: a close deadline ends them too. */
  private readonly refused = new Set<net.Socket>();
  private readonly traffic: Traffic = newTraffic();
  private readonly observers: ((record: AccessRecord) => void)[] = [];
  private lastConnectionId = 0;
  private readonly accessLog: { write: (record: AccessRecord) => void; close: () => Promise<void> } | null;

  constructor(options: ServerOptions = {}) {
    const { handlers, onError, tls: tlsOptions, clock, accessLog, onRequest, ...limits } = options;
    this.options = serverLimits(limits);
    this.budget = new MemoryBudget(this.options.maxBufferedBytes);
    this.clock = clock ?? systemClock;
    this.handlers = [...(handlers ?? [])];
    this.onError = onError ?? defaultOnError;
    this.host = this.connectionHost();
    this.accessLog = accessLog === undefined ? null : accessLogWriter(accessLog);
    if (this.accessLog !== null) this.observe(this.accessLog.write);
    if (onRequest !== undefined) this.observe(onRequest);
    // allowHalfOpen: a client that sends its request and then shuts down its
    // writing side still gets its response (Node would otherwise end at once).
    const listenerOptions = { allowHalfOpen: true, noDelay: true };
    if (tlsOptions === undefined) {
      this.listener = net.createServer(listenerOptions, (socket) => this.accept(socket));
    } else {
      // A handshake is part of a request's head: it gets the same time.
      const secure = { handshakeTimeout: this.options.headersTimeout, ...listenerOptions, ...tlsOptions };
      this.listener = tls.createServer(secure, (socket) => {
        this.handshakeDone(socket);
        this.accept(socket);
      });
      this.listener.on('connection', (raw: net.Socket) => {
        this.handshaking.add(raw);
        raw.once('close', () => this.handshaking.delete(raw));
      });
      // A failed TLS handshake is the client's problem, not the server's.
      this.listener.on('tlsClientError', (_err: Error, socket: net.Socket) => socket.destroy());
    }
  }

  /** Appends a handler to the chain; the first whose match() is true handles a request. */
  addHandler(handler: Handler): this {
    const bound = this.address;
    if (bound !== null) handler.checkListen?.({ host: bound.address, port: bound.port });
    this.handlers.push(handler);
    return this;
  }

  /**
   * Starts listening; port 0 picks a free port. Resolves to the bound address.
   * In a `node:cluster` worker the port is shared through the primary unless
   * `exclusive` (or `reusePort`) is set.
   * @throws ClusterError REUSE_PORT_UNSUPPORTED (as a rejection) for `reusePort` where the running Node lacks it.
   */
  listen(port = 0, host = '127.0.0.1', options: ListenOptions = {}): Promise<AddressInfo> {
    try {
      if (options.reusePort === true && !reusePortSupported())
        throw new ClusterError(
          ClusterErrorCode.REUSE_PORT_UNSUPPORTED,
          `reusePort needs Node 22.12+ or 23.1+ on Linux or FreeBSD; this is Node ${process.versions.node} on ${process.platform}`,
        );
      for (const handler of this.handlers) handler.checkListen?.({ host, port });
    } catch (err) {
      return Promise.reject(err as Error);
    }
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      this.listener.once('error', onError);
      // A backlog as deep as the connections we serve: a burst of connects
      // then waits in the kernel instead of retrying SYNs for seconds.
      const backlog = Math.min(this.options.maxConnections, 65535);
      const extra = { ...(options.exclusive === true ? { exclusive: true } : {}), ...(options.reusePort === true ? { reusePort: true, exclusive: true } : {}) };
      this.listener.listen({ port, host, backlog, ...extra }, () => {
        this.listener.off('error', onError);
        this.startSweep();
        resolve(this.listener.address() as AddressInfo);
      });
    });
  }

  /**
   * Calls `listener` with the record of every request answered from now on
   * (what the access log, onRequest and the status page are built on).
   * Returns the function that stops it. While no one listens, no record is made.
   */
  observe(listener: (record: AccessRecord) => void): () => void {
    this.observers.push(listener);
    this.host.record = this.tell;
    return () => {
      const at = this.observers.indexOf(listener);
      if (at < 0) return;
      this.observers.splice(at, 1);
      if (this.observers.length === 0) this.host.record = null;
    };
  }

  /** Bound once: what the connections call while anyone listens. */
  private readonly tell = (record: AccessRecord): void => {
    for (const observer of this.observers) {
      try {
        observer(record);
      } catch {
        /* a failing logger must not take the server down */
      }
    }
  };

  /** The bound address, once listening. */
  get address(): AddressInfo | null {
    return this.listener.address() as AddressInfo | null;
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  stats(): ServerStats {
    const connectionsByState: Record<ConnectionState, number> = { idle: 0, reading: 0, handling: 0, writing: 0, closing: 0 };
    for (const connection of this.connections) connectionsByState[connection.state]++;
    return {
      connections: this.connections.size,
      bufferedBytes: this.budget.used,
      peakBufferedBytes: this.budget.peak,
      ...this.counts,
      connectionsByState,
      ...this.traffic,
    };
  }

  /** close() has been called: no new connection is served. */
  get closing(): boolean {
    return this.isClosing;
  }

  /**
   * Stops accepting, lets in-flight requests finish and their responses go
   * out, closes idle keep-alive connections at once. A connection that has
   * sent nothing yet is kept for its first request (answered with
   * Connection: close) within keepAliveTimeout: its client is surely sending
   * one. Resolves when every connection has closed.
   *
   * Without a timeout this waits as long as the handlers take (a handler that
   * never settles holds it forever). With `timeout` (ms, on the server's
   * clock), whatever is still open when it runs out is destroyed, its
   * requests marked aborted, and the promise resolves. Called again, it
   * returns the same promise; a shorter timeout brings the deadline forward,
   * a longer one never puts it back. `timeout: 0` destroys at once.
   * @throws RangeError for a timeout that is not 0 to MAX_TIMEOUT_MS, before anything is closed.
   */
  close(options: { timeout?: number } = {}): Promise<void> {
    const timeout = options.timeout === undefined ? Infinity : timeoutMs('timeout', options.timeout);
    if (this.closePromise === null) {
      this.isClosing = true;
      const listenerClosed = new Promise<void>((resolve) => this.listener.close(() => resolve()));
      const drained = new Promise<void>((resolve) => {
        if (this.connections.size === 0) resolve();
        else this.closed = resolve;
      });
      for (const connection of [...this.connections]) connection.shutdown();
      for (const raw of this.handshaking) raw.destroy();
      this.closePromise = Promise.all([listenerClosed, drained]).then(() => {
        this.stopSweep();
        this.clearCloseTimer();
        return this.accessLog?.close();
      });
    }
    if (timeout !== Infinity) this.closeBy(this.clock.now() + timeout);
    return this.closePromise;
  }

  /** `await using server = new Server(...)` closes it (gracefully, no timeout) at the end of the block. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Moves the close deadline to `at` (clock ms) if that is sooner. */
  private closeBy(at: number): void {
    if (at >= this.closeDeadline || (this.connections.size === 0 && this.refused.size === 0)) return;
    this.closeDeadline = at;
    this.clearCloseTimer();
    const now = this.clock.now();
    if (at <= now) {
      this.destroyAll();
      return;
    }
    this.closeTimer = this.clock.setTimeout(() => {
      this.closeTimer = null;
      this.destroyAll();
    }, at - now);
    // The connections keep the process alive while they last; this need not.
    this.closeTimer.unref();
  }

  private clearCloseTimer(): void {
    if (this.closeTimer !== null) this.clock.clearTimeout(this.closeTimer);
    this.closeTimer = null;
  }

  /** The close deadline has come: nothing more is answered. */
  private destroyAll(): void {
    for (const connection of [...this.connections]) connection.abort();
    for (const socket of this.refused) socket.destroy();
  }

  /** The one object every connection of this server is given: the ConnectionHost contract. */
  private connectionHost(): ConnectionHost<Connection> {
    const clock = this.clock;
    return {
      options: this.options,
      clock: this.clock,
      closing: () => this.isClosing,
      findHandler: (request) => {
        for (const handler of this.handlers) if (handler.match(request)) return handler;
        return null;
      },
      reportError: (err, request) => {
        if (request !== null && request.error === undefined) request.error = err;
        try {
          this.onError(err, request);
        } catch {
          /* a failing logger must not take the server down */
        }
      },
      budget: this.budget,
      bodies: this.bodies,
      admit: (connection, bytes, total) => this.admit(connection, bytes, total),
      evictable: (connection, evictable) => {
        // A connection that becomes evictable again goes to the back.
        if (evictable) this.evictable.add(connection);
        else this.evictable.delete(connection);
      },
      proven: (connection) => this.unproven.delete(connection),
      record: null,
      precise: clock.precise === undefined ? () => clock.now() : () => clock.precise!(),
      traffic: this.traffic,
      forget: (connection) => {
        this.connections.delete(connection);
        this.evictable.delete(connection);
        this.unproven.delete(connection);
        this.leaveAddress(connection.socket);
        if (this.connections.size === 0 && this.closed !== null) {
          const done = this.closed;
          this.closed = null;
          done();
        }
      },
    };
  }

  /** The TLS socket shares its peer's address and port with the raw socket it wraps. */
  private handshakeDone(socket: net.Socket): void {
    for (const raw of this.handshaking) {
      if (raw.remotePort === socket.remotePort && raw.remoteAddress === socket.remoteAddress) {
        this.handshaking.delete(raw);
        return;
      }
    }
  }

  private accept(socket: net.Socket): void {
    if (this.isClosing) {
      socket.destroy();
      return;
    }
    if (!this.enterAddress(socket)) return this.refuse(socket);
    if (this.connections.size >= this.options.maxConnections && !this.evictOne()) {
      this.leaveAddress(socket);
      return this.refuse(socket);
    }
    const connection = new Connection(socket, this.host, ++this.lastConnectionId);
    this.connections.add(connection);
    this.unproven.add(connection);
  }

  /**
   * A full server closes the oldest connection that has not yet sent a
   * whole request head, or else the one that has waited longest for its next
   * request while owing nothing: holding a slot while sending nothing
   * (slowloris) buys nothing, and the newcomer gets its place. One that has
   * sent its request and awaits the answer is never closed for this.
   */
  private evictOne(): boolean {
    const victim = first(this.unproven) ?? this.evictable.first();
    if (victim === null) return false;
    this.unproven.delete(victim);
    this.evictable.delete(victim);
    // Its 'close' (forget) settles the per-address count.
    this.connections.delete(victim);
    victim.abort();
    this.counts.evictedConnections++;
    return true;
  }

  private refuse(socket: net.Socket): void {
    this.counts.refusedConnections++;
    socket.on('error', () => socket.destroy());
    // Read and drop the request, so that its unread bytes do not turn our close into a RST.
    socket.resume();
    socket.end(BUSY_503, 'latin1');
    const clock = this.clock;
    const linger = clock.setTimeout(() => socket.destroy(), this.options.lingerTimeout);
    linger.unref();
    this.refused.add(socket);
    socket.once('close', () => {
      clock.clearTimeout(linger);
      this.refused.delete(socket);
    });
  }

  private enterAddress(socket: net.Socket): boolean {
    if (this.options.maxConnectionsPerAddress === Infinity) return true;
    const address = socket.remoteAddress ?? '';
    const open = this.perAddress.get(address) ?? 0;
    if (open >= this.options.maxConnectionsPerAddress) return false;
    this.perAddress.set(address, open + 1);
    return true;
  }

  private leaveAddress(socket: net.Socket): void {
    if (this.options.maxConnectionsPerAddress === Infinity) return;
    const address = socket.remoteAddress ?? '';
    const open = this.perAddress.get(address) ?? 0;
    if (open <= 1) this.perAddress.delete(address);
    else this.perAddress.set(address, open - 1);
  }

  /**
   * Room in the memory budget for `bytes` more of a body that will hold
   * `total`. A large body that does not fit is refused itself. A small one
   * (an add(1, 2) among floods) is not starved by what others hold: it
   * refuses the largest unfinished body elsewhere (503), or else closes the
   * client holding the most response bytes it does not read, one at a time,
   * until it fits.
   */
  private admit(requester: Connection, bytes: number, total: number): boolean {
    const budget = this.budget;
    while (!budget.fits(bytes)) {
      if (total > SMALL_REQUEST) break;
      const unfinished = this.most(requester, total, (c) => c.unfinishedBody);
      if (unfinished !== null) {
        unfinished.refuseForMemory();
        this.counts.refusedForMemory++;
        continue;
      }
      const reader = this.most(requester, total, (c) => c.unsentBytes);
      if (reader === null) break;
      reader.abort();
      this.counts.closedSlowReaders++;
    }
    if (budget.fits(bytes)) return true;
    this.counts.refusedForMemory++;
    return false;
  }

  /** The connection other than `requester` with the highest `bytes` above `than`; null for none. */
  private most(requester: Connection, than: number, bytes: (connection: Connection) => number): Connection | null {
    let found: Connection | null = null;
    let most = than;
    for (const connection of this.connections) {
      if (connection === requester || connection.gone) continue;
      const held = bytes(connection);
      if (held > most) {
        found = connection;
        most = held;
      }
    }
    return found;
  }

  private startSweep(): void {
    if (this.sweepTimer !== null) return;
    const o = this.options;
    const shortest = Math.min(o.headersTimeout, o.requestTimeout, o.keepAliveTimeout, o.lingerTimeout);
    const every = Math.max(5, Math.min(1000, Math.floor(shortest / 4)));
    this.sweepTimer = this.clock.setInterval(() => this.sweep(), every);
    this.sweepTimer.unref();
  }

  private stopSweep(): void {
    if (this.sweepTimer !== null) this.clock.clearInterval(this.sweepTimer);
    this.sweepTimer = null;
  }

  private sweep(): void {
    const now = this.clock.now();
    for (const connection of this.connections) {
      if (connection.deadline <= now) connection.timeout();
    }
  }
}

/** One line: what failed, in which call, for whom. The stack is in the access record (onRequest, a JSON access log). */
export function defaultOnError(err: unknown, request: Request | null): void {
  process.stderr.write(errorLine(err, request));
}

export function errorLine(err: unknown, request: Request | null): string {
  const what = err instanceof Error ? `${err.name}: ${err.message}` : `thrown ${typeof err}: ${String(err)}`;
  const method = request === null ? '' : request.rpcMethod !== null ? ` method ${request.rpcMethod}` : ` ${request.method} ${request.path}`;
  const peer = request?.remoteAddress === undefined ? '' : ` peer ${request.remoteAddress}:${request.remotePort ?? 0}`;
  return `xmlrpc server: handler error: ${oneLine(what)} (${(method + peer).trim() || 'no request'})\n`;
}

/** A message's line breaks would forge log lines. */
function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, ' ');
}

function first(connections: Set<Connection>): Connection | null {
  for (const connection of connections) if (!connection.gone) return connection;
  return null;
}
