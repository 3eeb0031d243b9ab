// The event-loop server: one `node:net` listener, Medusa's handler chain,
// and one sweep timer for every connection's deadline (never a timer per
// request). Embeddable: create, add handlers, await listen() and close().

import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import * as tls from 'node:tls';
import { definedOnly, nonNegative, timeoutMs } from '../options.js';
import { Connection } from './connection.js';
import { DEFAULT_SERVER_LIMITS, type ConnectionHost, type ServerLimits } from './options.js';
import type { Handler, Request } from './request.js';

export interface ServerOptions extends Partial<ServerLimits> {
  /** Handlers, tried in this order. More can be added with addHandler(). */
  handlers?: Handler[];
  /** Where handler exceptions are reported (default: a line on stderr). */
  onError?: (err: unknown, request: Request | null) => void;
  /** Serve HTTPS: `node:tls` server options (at least `key` and `cert`, or `pfx`). */
  tls?: tls.TlsOptions;
}

const BUSY_503 =
  'HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: 20\r\nConnection: close\r\n\r\nToo many connections';

export class Server implements ConnectionHost {
  readonly options: Readonly<ServerLimits>;
  private readonly handlers: Handler[];
  private readonly onError: (err: unknown, request: Request | null) => void;
  private readonly listener: net.Server;
  private readonly connections = new Set<Connection>();
  /** TLS only: raw sockets whose handshake has not finished (close() must not wait on them). */
  private readonly handshaking = new Set<net.Socket>();
  private sweepTimer: NodeJS.Timeout | null = null;
  private closePromise: Promise<void> | null = null;
  private closed: (() => void) | null = null;
  closing = false;

  constructor(options: ServerOptions = {}) {
    const { handlers, onError, tls: tlsOptions, ...limits } = options;
    this.options = checkedLimits({ ...DEFAULT_SERVER_LIMITS, ...definedOnly(limits) });
    this.handlers = [...(handlers ?? [])];
    this.onError = onError ?? defaultOnError;
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
    this.handlers.push(handler);
    return this;
  }

  /** Starts listening; port 0 picks a free port. Resolves to the bound address. */
  listen(port = 0, host = '127.0.0.1'): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      this.listener.once('error', onError);
      // A backlog as deep as the connections we serve: a burst of connects
      // then waits in the kernel instead of retrying SYNs for seconds.
      const backlog = Math.min(this.options.maxConnections, 65535);
      this.listener.listen({ port, host, backlog }, () => {
        this.listener.off('error', onError);
        this.startSweep();
        resolve(this.listener.address() as AddressInfo);
      });
    });
  }

  /** The bound address, once listening. */
  get address(): AddressInfo | null {
    return this.listener.address() as AddressInfo | null;
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  /**
   * Stops accepting, lets in-flight requests finish and their responses go
   * out, closes idle keep-alive connections at once. Resolves when every
   * connection has closed.
   */
  close(): Promise<void> {
    if (this.closePromise !== null) return this.closePromise;
    this.closing = true;
    const listenerClosed = new Promise<void>((resolve) => this.listener.close(() => resolve()));
    const drained = new Promise<void>((resolve) => {
      if (this.connections.size === 0) resolve();
      else this.closed = resolve;
    });
    for (const connection of [...this.connections]) connection.shutdown();
    for (const raw of this.handshaking) raw.destroy();
    this.closePromise = Promise.all([listenerClosed, drained]).then(() => this.stopSweep());
    return this.closePromise;
  }

  findHandler(request: Request): Handler | null {
    for (const handler of this.handlers) if (handler.match(request)) return handler;
    return null;
  }

  reportError(err: unknown, request: Request | null): void {
    try {
      this.onError(err, request);
    } catch {
      /* a failing logger must not take the server down */
    }
  }

  forget(connection: Connection): void {
    this.connections.delete(connection);
    if (this.connections.size === 0 && this.closed !== null) {
      const done = this.closed;
      this.closed = null;
      done();
    }
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
    if (this.closing) {
      socket.destroy();
      return;
    }
    if (this.connections.size >= this.options.maxConnections) {
      socket.on('error', () => socket.destroy());
      // Read and drop the request, so that its unread bytes do not turn our close into a RST.
      socket.resume();
      socket.end(BUSY_503, 'latin1');
      const linger = setTimeout(() => socket.destroy(), this.options.lingerTimeout).unref();
      socket.once('close', () => clearTimeout(linger));
      return;
    }
    this.connections.add(new Connection(socket, this));
  }

  private startSweep(): void {
    if (this.sweepTimer !== null) return;
    const o = this.options;
    const shortest = Math.min(o.headersTimeout, o.requestTimeout, o.keepAliveTimeout, o.lingerTimeout);
    const every = Math.max(5, Math.min(1000, Math.floor(shortest / 4)));
    this.sweepTimer = setInterval(() => this.sweep(), every);
    this.sweepTimer.unref();
  }

  private stopSweep(): void {
    if (this.sweepTimer !== null) clearInterval(this.sweepTimer);
    this.sweepTimer = null;
  }

  private sweep(): void {
    const now = Date.now();
    for (const connection of this.connections) {
      if (connection.deadline !== 0 && connection.deadline <= now) connection.timeout();
    }
  }
}


const TIMEOUTS: ReadonlySet<keyof ServerLimits> = new Set(['headersTimeout', 'requestTimeout', 'keepAliveTimeout', 'lingerTimeout']);

/** Every limit checked up front: a NaN timeout would turn the sweep into a busy loop. */
function checkedLimits(limits: ServerLimits): Readonly<ServerLimits> {
  for (const key of Object.keys(limits) as (keyof ServerLimits)[]) {
    if (TIMEOUTS.has(key)) timeoutMs(key, limits[key]);
    else nonNegative(key, limits[key], key === 'gzipThreshold');
  }
  if (limits.maxConnections < 1 || limits.maxPipelinedRequests < 1) {
    throw new RangeError('maxConnections and maxPipelinedRequests must be at least 1');
  }
  return Object.freeze(limits);
}

function defaultOnError(err: unknown, request: Request | null): void {
  const where = request === null ? '' : ` (${request.method} ${request.path})`;
  const text = err instanceof Error ? (err.stack ?? err.message) : String(err);
  process.stderr.write(`xmlrpc server: handler error${where}: ${text}\n`);
}
