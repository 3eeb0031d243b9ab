// HTTP/1.1 pipelining for the client (RFC 9112 §9.3.2): a Pipeline is a
// lane to one endpoint (Transport.openPipeline) whose calls are written on
// one keep-alive ClientConnection (connection.ts) without waiting for their
// responses, up to `depth` at a time; it holds one connection at a time, and
// opens a new one for its queue when the server closes the last. What each
// call reports when the connection breaks is the connection's business
// (see connection.ts); here:
//   - Calls not yet written wait in the Pipeline's queue. They never reached
//     any socket: they go on the next connection, which is not a retry.
//   - By default a new connection carries one request until a response shows
//     that the server keeps connections open (`waitForKeepAlive`), so a
//     server that closes after each response (Python's default HTTP/1.0
//     server) costs round trips instead of failed calls.
//   - A call's timeout does not count the time it is held back: while the
//     connection is open and the call waits behind the calls on it (for
//     keep-alive to be confirmed, for a slot under `depth`, for a write),
//     its timer is stopped; it goes on when the request is written. Held
//     back, a call of a healthy server would time out for the pipelining
//     alone, where on a connection of its own it would have been answered.
//     A call waiting for a connection to be made is timed meanwhile (it
//     would wait for one on its own), and once a call on the wire has timed
//     out, so are the calls held back, until an answer comes: a server that
//     does not answer costs them one timeout more, not one each.
//   - The queue keeps its timed calls' deadlines with one timer
//     (deadlines.ts), the connection those on the wire. A call that times
//     out or is aborted while queued leaves the queue; one on the wire is
//     dropped by the connection (its response is discarded).

import { TransportError, TransportErrorCode } from '../errors.js';
import { asError } from '../async/concurrency.js';
import type { Clock } from '../clock.js';
import { definedOnly, positiveInteger, timeoutMs } from '../options.js';
import type { XmlRpcValue } from '../xmlrpc/values.js';
import type { ClientConnection, ConnectionOptions } from './connection.js';
import type { Exchange } from './exchange.js';
import { DeadlineTimer } from './deadlines.js';
import { connectError, notSent } from './failures.js';
import type { Endpoint } from './endpoint.js';
import type { CallHandle, Carrier, Deadline, IncomingResponse, OutgoingRequest, RequestOptions, SendProgress, Settle } from './request.js';

export interface PipelineOptions {
  /** Requests written and not yet answered on the connection, at most. Default 32 (1 without keep-alive). */
  depth?: number;
  /** A new connection carries one request until a response shows keep-alive, then the rest. Default true. */
  waitForKeepAlive?: boolean;
  /** An unused connection is closed after this many ms. Default: the transport's `idleTimeout`. */
  idleTimeout?: number;
  /** Called whenever the pipeline's connection has closed (ParallelServerProxy counts sockets with it). */
  onConnectionClose?: () => void;
}

export const DEFAULT_PIPELINE_OPTIONS = Object.freeze({
  depth: 32,
  waitForKeepAlive: true,
});

/** What a new connection of a Pipeline's is opened with. */
export type PipelineConnectionOptions = Pick<ConnectionOptions, 'onWritable' | 'onClose'> & { depth?: number; waitForKeepAlive?: boolean };

/**
 * What a Pipeline uses of its Transport, and no more: an object the
 * transport builds privately for its pipelines (Transport.openPipeline), as
 * the server hands its connections a ConnectionHost. Declared here, so that
 * pipeline.ts does not import transport.ts.
 */
export interface PipelineHost {
  readonly keepAlive: boolean;
  readonly idleTimeout: number;
  readonly clock: Clock;
  /** Transport.request's chain for one call to `endpoint`, its exchange carried by `carrier`. */
  send(endpoint: Endpoint, path: string, body: string | Uint8Array, options: RequestOptions, carrier: Carrier): Promise<XmlRpcValue>;
  /** A new connection to `req.endpoint` through the connect step, under the connect timeout and `deadline` (if any). */
  openConnection(req: OutgoingRequest, options: PipelineConnectionOptions, deadline: Deadline | null): Promise<ClientConnection>;
}

export interface PipelineStats {
  /** Calls waiting to be written. */
  queued: number;
  /** Requests written (or being written) and not answered. */
  inFlight: number;
  /** A socket is open or being opened. */
  connected: boolean;
}

/** A call in the queue, then on the wire: what its Call reads for `requestSent`. */
class Queued implements SendProgress {
  exchange: Exchange | null = null;
  done = false;
  /** When its timer was stopped (held back on an open connection); null: running, or no timeout. */
  heldSince: number | null = null;

  constructor(
    readonly req: OutgoingRequest,
    readonly bytes: Buffer,
    readonly call: CallHandle,
    readonly settle: Settle,
  ) {}

  get requestWritten(): boolean {
    return this.exchange?.requestWritten ?? false;
  }
}

/**
 * Calls to one endpoint over one pipelined keep-alive connection at a time.
 * Made by `transport.openPipeline(host, options)`:
 *
 * ```ts
 * const pipeline = transport.openPipeline('127.0.0.1:8182');
 * const sums = await Promise.all([1, 2, 3].map((n) => pipeline.request('/RPC2', dumps([n, n], 'add'))));
 * await pipeline.close();
 * ```
 */
export class Pipeline {
  readonly endpoint: Endpoint;
  readonly depth: number;
  readonly waitForKeepAlive: boolean;
  readonly idleTimeout: number;
  readonly #host: PipelineHost;
  readonly #onConnectionClose: (() => void) | undefined;
  readonly #carrier: Carrier = { carry: (req, bytes, call) => this.#enqueue(req, bytes, call) };
  /** Calls not yet written, oldest first. */
  #queue: Queued[] = [];
  /** The one timer for the queued calls' deadlines. */
  readonly #deadlines: DeadlineTimer;
  #conn: ClientConnection | null = null;
  #connecting: AbortController | null = null;
  /** A call on the wire timed out and no answer has come since: the calls held back are timed. */
  #stalled = false;
  /** Calls accepted and not settled. */
  #calls = 0;
  #closed = false;
  /** destroy(): not even the calls accepted are written any more. */
  #queueClosed = false;
  #closeWaiters: (() => void)[] = [];

  constructor(endpoint: Endpoint, host: PipelineHost, options: PipelineOptions = {}) {
    const o = { ...DEFAULT_PIPELINE_OPTIONS, ...definedOnly(options) };
    const depth = positiveInteger('depth', o.depth);
    const idleTimeout = timeoutMs('idleTimeout', o.idleTimeout ?? host.idleTimeout);
    this.endpoint = endpoint;
    this.#host = host;
    this.#deadlines = new DeadlineTimer(host.clock);
    // Without keep-alive every request says Connection: close: one per connection.
    this.depth = host.keepAlive ? depth : 1;
    this.waitForKeepAlive = o.waitForKeepAlive;
    this.idleTimeout = idleTimeout;
    this.#onConnectionClose = options.onConnectionClose;
  }

  /**
   * One call, as Transport.request makes it (same options, same errors), on
   * this pipeline's connection. `path` is the request-target ('/RPC2').
   */
  request(path: string, body: string | Uint8Array, options: RequestOptions = {}): Promise<XmlRpcValue> {
    if (this.#closed) return Promise.reject(this.#closedError(this.endpoint.origin + String(path)));
    this.#calls++; // accepted: close() lets it finish
    return this.#host.send(this.endpoint, path, body, options, this.#carrier).finally(() => {
      this.#calls--;
      if (this.#calls === 0) this.#whenIdle();
    });
  }

  /** Calls queued or in flight, and whether a socket is open. */
  stats(): PipelineStats {
    return { queued: this.#queue.length, inFlight: this.#conn?.size ?? 0, connected: this.connected };
  }

  /** Calls accepted and not settled yet. */
  get pending(): number {
    return this.#calls;
  }

  /** A socket is open or being opened. */
  get connected(): boolean {
    return this.#conn !== null || this.#connecting !== null;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * No new calls; the calls accepted still complete, then the socket
   * closes. Resolves once it has.
   */
  close(): Promise<void> {
    this.#closed = true;
    const done = new Promise<void>((resolve) => this.#closeWaiters.push(resolve));
    this.#whenIdle();
    return done;
  }

  /**
   * Closes at once: queued calls fail (CONNECTION_LOST, not sent), calls on
   * the wire fail as for a lost connection (`requestSent` per call).
   */
  destroy(cause?: unknown): Promise<void> {
    this.#closed = true;
    this.#queueClosed = true;
    const done = new Promise<void>((resolve) => this.#closeWaiters.push(resolve));
    for (const job of this.#queue.splice(0)) job.settle(this.#closedError(job.req.url), null);
    this.#connecting?.abort();
    this.#connecting = null;
    this.#conn?.destroy(cause);
    this.#whenIdle();
    return done;
  }

  toString(): string {
    return `<Pipeline to ${this.endpoint.origin}>`;
  }

  // ---- internals ----

  #enqueue(req: OutgoingRequest, bytes: Buffer, call: CallHandle): Promise<IncomingResponse> {
    if (this.#queueClosed) return Promise.reject(this.#closedError(req.url));
    return new Promise<IncomingResponse>((resolve, reject) => {
      const onAbort = (): void => {
        const i = this.#queue.indexOf(job);
        if (i === -1) return; // on the wire: its Exchange handles the abort
        this.#queue.splice(i, 1);
        job.settle(call.reason as Error, null);
        this.#stopConnectingIfUnused();
      };
      const job: Queued = new Queued(req, bytes, call, (err, response) => {
        if (job.done) return;
        job.done = true;
        this.#deadlines.delete(call.deadline);
        call.removeEventListener('abort', onAbort);
        if (job.exchange !== null) this.#ended(err);
        if (err === null) resolve(response!);
        else reject(err);
      });
      call.progress = job;
      call.addEventListener('abort', onAbort);
      this.#queue.push(job);
      this.#pump();
      if (job.exchange === null && !job.done) this.#wait(job);
    });
  }

  /**
   * A call not written yet: held back (its timer stopped) while the
   * connection is open and the server answers, else timed by the queue's
   * timer. Called again whenever either changes.
   */
  #wait(job: Queued): void {
    const deadline = job.call.deadline;
    if (deadline === null) return;
    if (this.#conn !== null && !this.#stalled) {
      if (job.heldSince !== null) return;
      this.#deadlines.delete(deadline);
      job.heldSince = this.#host.clock.now();
    } else {
      this.#release(job);
      this.#deadlines.add(deadline);
    }
  }

  /** Its timer goes on: the time it was held back is added to its deadline (no timer keeps it now). */
  #release(job: Queued): void {
    if (job.heldSince === null) return;
    job.call.postpone(this.#host.clock.now() - job.heldSince);
    job.heldSince = null;
  }

  /** A call on the wire ended: an answer clears #stalled, a timeout sets it; other failures say nothing of the server's pace. */
  #ended(err: Error | null): void {
    const timedOut = err instanceof TransportError && err.code === TransportErrorCode.TIMEOUT;
    if (err !== null && !timedOut) return;
    if (timedOut === this.#stalled) return;
    this.#stalled = timedOut;
    for (const job of this.#queue) this.#wait(job);
  }

  /**
   * Writes queued calls while the connection can take them, those that go
   * at once together (one write: a burst is one packet, not one each);
   * connects when there is no connection.
   */
  #pump(): void {
    while (this.#queue.length > 0) {
      const conn = this.#conn;
      if (conn === null) {
        this.#connect();
        return;
      }
      // A connection being closed: its close event brings the next one.
      if (!conn.take()) return;
      if (!conn.canWrite()) return;
      conn.cork();
      try {
        do {
          const job = this.#queue.shift()!;
          this.#deadlines.delete(job.call.deadline);
          this.#release(job);
          job.exchange = conn.send(job.req.url, job.bytes, job.call, job.call.deadline, job.settle);
        } while (this.#queue.length > 0 && conn.canWrite() && conn.fits(this.#queue[0]!.bytes.length));
      } finally {
        conn.uncork();
      }
    }
  }

  #connect(): void {
    if (this.#connecting !== null) return;
    const first = this.#queue[0]!;
    const controller = new AbortController();
    this.#connecting = controller;
    const options = {
      depth: this.depth,
      waitForKeepAlive: this.waitForKeepAlive,
      onWritable: () => this.#pump(),
      onClose: (conn: ClientConnection) => this.#connectionClosed(conn),
    };
    // Shared by the queue: not bounded by one call's deadline. The queue's timer times its calls out,
    // and the connect is given up once none is left (#stopConnectingIfUnused).
    this.#host.openConnection({ ...first.req, signal: controller.signal }, options, null).then(
      (conn) => {
        if (this.#connecting === controller) this.#connecting = null;
        if (controller.signal.aborted) {
          conn.destroy();
          this.#whenIdle();
          return;
        }
        this.#conn = conn;
        this.#pump();
        for (const job of this.#queue) this.#wait(job);
        if (this.#calls === 0) this.#whenIdle();
      },
      (err: unknown) => {
        if (this.#connecting === controller) this.#connecting = null;
        if (!controller.signal.aborted) {
          for (const job of this.#queue.splice(0)) job.settle(asError(connectError(job.req, err)), null);
        }
        this.#whenIdle();
      },
    );
  }

  #connectionClosed(conn: ClientConnection): void {
    if (this.#conn !== conn) return;
    this.#conn = null;
    // Waiting for a new connection, not behind other calls: timed again.
    for (const job of this.#queue) this.#wait(job);
    if (this.#queue.length > 0) {
      if (conn.writes === 0) {
        // Closed before taking a single request: no new connection for the queue (that could loop).
        for (const job of this.#queue.splice(0)) {
          job.settle(notSent(job.req.url, 'unused'), null);
        }
      } else {
        this.#pump(); // never written: on a new connection
      }
    }
    this.#onConnectionClose?.();
    this.#whenIdle();
  }

  #stopConnectingIfUnused(): void {
    if (this.#queue.length === 0 && this.#connecting !== null) {
      this.#connecting.abort();
      this.#connecting = null;
    }
  }

  /** No call left: park the connection, or close it when the pipeline is closed; then wake close(). */
  #whenIdle(): void {
    if (this.#calls > 0) return;
    const conn = this.#conn;
    if (this.#closed) {
      this.#connecting?.abort();
      this.#connecting = null;
      if (conn !== null && !conn.closed) {
        conn.destroy();
        return; // its close event comes back here
      }
      if (this.#conn === null && this.#connecting === null) {
        for (const resolve of this.#closeWaiters.splice(0)) resolve();
      }
      return;
    }
    if (conn !== null && conn.size === 0) conn.park(this.idleTimeout);
  }

  #closedError(url: string): TransportError {
    return notSent(url, 'pipelineClosed');
  }
}
