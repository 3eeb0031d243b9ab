// HTTP/1.1 pipelining for the client (RFC 9112 §9.3.2): requests are written
// on one keep-alive connection without waiting for their responses, which
// come back in request order and are read by one HttpParser, first in, first
// out. Two layers, as connection.ts and transport.ts are:
//
//   PipelineConnection  one socket: writes request bytes, reads responses,
//                       knows HTTP framing and nothing of XML-RPC.
//   Pipeline            a lane to one endpoint (Transport.openPipeline): its
//                       calls run the Transport's steps; those not yet
//                       written wait in a queue; it holds one connection at a
//                       time, and opens a new one for that queue when the
//                       server closes the last.
//
// Pipelining POSTs is safe only when a failure is visible, so each request's
// progress is known exactly:
//   - Each request is its own socket.write, and a write that the kernel does
//     not take at once is waited for (its callback) before the next request
//     goes: one write never holds two requests. A request is *written* when
//     its bytes were all handed over (the write completed at once, or its
//     callback came without error).
//   - When the connection breaks, every request written and not answered
//     fails with CONNECTION_LOST and `requestSent: true` (the server may have
//     run it); the request being written fails with `requestSent: false` (it
//     never arrived whole, so it did not run). Nothing is re-sent.
//   - Requests still in the Pipeline's queue never reached any socket: they
//     go on the next connection, which is not a retry.
//   - A response with `Connection: close` (or HTTP/1.0 without keep-alive)
//     ends the pipeline there: the requests written after it fail with
//     `requestSent: true` (a conforming server does not process them, RFC
//     9112 §9.6, but they were sent), and the queue goes on a new connection.
//   - By default a new connection carries one request until a response shows
//     that the server keeps connections open (`waitForKeepAlive`), so a
//     server that closes after each response (Python's default HTTP/1.0
//     server) costs round trips instead of failed calls.
//   - A call that times out or is aborted is dropped by its caller; its
//     response is still read (responses come in order) and discarded. No new
//     request is written behind it, and when no caller is left waiting on the
//     connection, it is closed.

import type * as net from 'node:net';
import { HttpParser, type MessageHead } from '../http/parser.js';
import { HttpParseError, TransportError, TransportErrorCode } from '../errors.js';
import type { XmlRpcValue } from '../xmlrpc/values.js';
import { responseParseError, type IncomingResponse } from './connection.js';
import type { Endpoint } from './endpoint.js';
import type { Exchange, OutgoingRequest, RequestOptions, SendProgress } from './transport.js';

type Settle = (err: Error | null, response: IncomingResponse | null) => void;

const EMPTY = Buffer.alloc(0);

// PipelinedRequest states.
const WRITING = 0; // handed to socket.write, not known to be flushed
const WRITTEN = 1; // every byte handed to the kernel (or the TLS layer)
const SETTLED = 2; // answered or failed

// PipelineConnection states.
const OPEN = 0;
const PARKED = 1; // unused: unref'd, idle timeout, any sign of life from the server closes it
const CLOSED = 2;

/** One request on a pipelined connection. */
export class PipelinedRequest implements SendProgress {
  state = WRITING;
  /** The caller gave up (timeout, abort): the response is read and dropped. */
  abandoned = false;

  constructor(
    private readonly conn: PipelineConnection,
    readonly url: string,
    readonly signal: AbortSignal,
    readonly settle: Settle,
  ) {}

  /**
   * What the call reports as `requestSent` when it gives up now. A write in
   * progress completes if the connection stays open, which it does when
   * another caller still waits on it; otherwise the connection is closed and
   * the write never completes.
   */
  get requestWritten(): boolean {
    if (this.state !== WRITING) return true;
    return this.conn.staysOpenWithout(this);
  }

  readonly onAbort = (): void => this.conn.abandon(this);
}

export interface PipelineConnectionHooks {
  /** A write completed or a response arrived: more may be written. */
  onWritable(): void;
  /** The socket closed; every request on it has been settled. */
  onClose(): void;
}

export class PipelineConnection {
  readonly socket: net.Socket;
  /** Requests given to write() over the connection's life. */
  writes = 0;
  private readonly parser: HttpParser;
  private readonly hooks: PipelineConnectionHooks;
  /** Written or being written, not yet answered, oldest first: the order responses come in. */
  private readonly inFlight: PipelinedRequest[] = [];
  /** Of those, the ones whose caller still waits, and the abandoned ones. */
  private live = 0;
  private abandonedCount = 0;
  /** The request whose write has not completed; nothing more is written meanwhile. */
  private pendingWrite: PipelinedRequest | null = null;
  /** A response allowed keep-alive: the server answers more than one request per connection. */
  private confirmed = false;
  /** The server said it closes: nothing more is written. */
  private draining = false;
  private state = OPEN;
  private head: MessageHead | null = null;
  private chunks: Buffer[] = [];
  /** Responses came in during this chunk: room to write, once the whole chunk is read. */
  private answeredSome = false;

  constructor(socket: net.Socket, maxResponseBytes: number, hooks: PipelineConnectionHooks) {
    this.socket = socket;
    this.hooks = hooks;
    this.parser = new HttpParser(
      'response',
      {
        onHead: (head) => {
          if (this.inFlight.length === 0) throw new Error('a response to no request'); // bytes after the last answer
          this.head = head;
          this.chunks = [];
        },
        onBody: (chunk) => {
          this.chunks.push(chunk);
        },
        onComplete: () => this.answered(),
      },
      { maxBodyBytes: maxResponseBytes },
    );
    socket.setTimeout(0);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('end', () => this.onEnd());
    socket.on('error', (err: Error) => this.onError(err));
    socket.on('close', () => this.onClose());
    socket.on('timeout', () => this.onIdleTimeout());
  }

  get closed(): boolean {
    return this.state === CLOSED;
  }

  get parked(): boolean {
    return this.state === PARKED;
  }

  /** Requests awaiting their responses (abandoned ones included). */
  get size(): number {
    return this.inFlight.length;
  }

  /**
   * Whether one more request may be written now: open, the server has not
   * said close, no write in progress, no abandoned request ahead, fewer
   * than `depth` awaiting responses, and (with `waitForKeepAlive`) either
   * keep-alive confirmed or nothing awaiting.
   */
  canWrite(depth: number, waitForKeepAlive: boolean): boolean {
    return (
      this.state === OPEN &&
      !this.draining &&
      this.pendingWrite === null &&
      this.abandonedCount === 0 &&
      this.inFlight.length < depth &&
      (!waitForKeepAlive || this.confirmed || this.inFlight.length === 0) &&
      !this.socket.destroyed &&
      this.socket.writable
    );
  }

  /** Writes one request (the caller checked canWrite). `settle` gets its response or its failure, once. */
  write(url: string, bytes: Buffer, signal: AbortSignal, settle: Settle): PipelinedRequest {
    const request = new PipelinedRequest(this, url, signal, settle);
    this.inFlight.push(request);
    this.live++;
    this.writes++;
    signal.addEventListener('abort', request.onAbort);
    this.pendingWrite = request;
    this.socket.write(bytes, (err?: Error | null) => this.afterWrite(request, err));
    if (this.pendingWrite === request && this.socket.writableLength === 0) {
      // The kernel took every byte during write(): written now, not at the callback.
      this.pendingWrite = null;
      request.state = WRITTEN;
    }
    return request;
  }

  /** The caller of `request` gave up: settle it with the signal's reason and drop its response when it comes. */
  abandon(request: PipelinedRequest): void {
    if (request.state === SETTLED || request.abandoned) return;
    request.abandoned = true;
    request.signal.removeEventListener('abort', request.onAbort);
    this.live--;
    this.abandonedCount++;
    request.settle(request.signal.reason as Error, null);
    // Nobody waits for what is left: do not keep a socket for a server that may never answer.
    if (this.live === 0) this.destroy();
  }

  /** Whether the connection stays open if `request` is abandoned now. */
  staysOpenWithout(request: PipelinedRequest): boolean {
    return this.state !== CLOSED && !this.socket.destroyed && this.live - (request.abandoned ? 0 : 1) > 0;
  }

  /** Unused: unref'd, closed after `idleTimeout` or at any sign of life from the server. */
  park(idleTimeout: number): void {
    if (this.state !== OPEN || this.inFlight.length > 0) return;
    this.state = PARKED;
    this.socket.unref();
    this.socket.setTimeout(idleTimeout);
  }

  /** Back in use; false if it turned out unusable (it is then being destroyed). */
  take(): boolean {
    if (this.state !== PARKED) return this.state === OPEN;
    if (this.socket.destroyed || this.socket.readableEnded || !this.socket.writable) {
      this.destroy();
      return false;
    }
    this.state = OPEN;
    this.socket.setTimeout(0);
    this.socket.ref();
    return true;
  }

  /** Closes the socket; requests awaiting responses fail first (CONNECTION_LOST), with `cause`. */
  destroy(cause?: unknown): void {
    this.draining = true;
    if (this.inFlight.length > 0) this.failAll('lost', cause);
    this.socket.destroy();
  }

  // ---- writes and responses ----

  private afterWrite(request: PipelinedRequest, err: Error | null | undefined): void {
    // A destroyed socket reports its cancelled writes as done: believe only a live one.
    if (err == null && request.state === WRITING && !this.socket.destroyed) request.state = WRITTEN;
    if (this.pendingWrite !== request) return;
    this.pendingWrite = null;
    if (err == null && !this.socket.destroyed) this.hooks.onWritable();
  }

  private onData(chunk: Buffer): void {
    if (this.state !== OPEN || this.inFlight.length === 0) {
      // Bytes nobody asked for: a server's 408 before it closes, or garbage.
      this.destroy();
      return;
    }
    try {
      this.parser.execute(chunk);
    } catch (err) {
      if (this.inFlight.length === 0) {
        this.destroy();
        return;
      }
      const head = this.inFlight[0]!;
      this.failAll('lost', err, responseParseError(head.url, err));
      this.socket.destroy();
      return;
    }
    // Write more only once the whole chunk is read: a `Connection: close` later in it stops the writing.
    if (this.answeredSome) {
      this.answeredSome = false;
      if (!this.draining && this.state === OPEN) this.hooks.onWritable();
    }
  }

  private answered(): void {
    const head = this.head!;
    const body = this.chunks.length === 0 ? EMPTY : this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    this.head = null;
    this.chunks = [];
    const request = this.inFlight.shift()!;
    request.signal.removeEventListener('abort', request.onAbort);
    request.state = SETTLED;
    if (this.pendingWrite === request) this.pendingWrite = null; // answered before its write completed (an early 413, say)
    const keepAlive = head.keepAlive && head.status !== 101; // we never ask to switch protocols
    if (keepAlive) this.confirmed = true;
    if (request.abandoned) {
      this.abandonedCount--;
    } else {
      this.live--;
      request.settle(null, { status: head.status, reason: head.reason, versionMinor: head.versionMinor, headers: head.headers, body });
    }
    if (!keepAlive) {
      // The server closes after this response: what was written after it will not be answered.
      this.parser.pause();
      this.draining = true;
      if (this.inFlight.length > 0) this.failAll('close');
      this.socket.destroy();
      return;
    }
    this.answeredSome = true;
  }

  private onEnd(): void {
    if (this.state !== OPEN || this.inFlight.length === 0) {
      this.destroy();
      return;
    }
    try {
      this.parser.finish(); // completes a response read until close
    } catch (err) {
      this.failAll('lost', err);
    }
    this.destroy();
  }

  private onError(err: Error): void {
    this.destroy(err);
  }

  private onClose(): void {
    if (this.inFlight.length > 0) this.failAll('lost');
    this.state = CLOSED;
    this.hooks.onClose();
  }

  private onIdleTimeout(): void {
    if (this.state === PARKED) this.destroy();
  }

  /**
   * Settles every request awaiting a response, in order. `headError`, when
   * given, is the first one's (a malformed response); the others get
   * CONNECTION_LOST saying whether they were written whole.
   */
  private failAll(why: 'lost' | 'close', cause?: unknown, headError?: Error): void {
    const started = this.head !== null || this.chunks.length > 0 || !this.parser.idle;
    const requests = this.inFlight.splice(0);
    this.abandonedCount = 0;
    this.pendingWrite = null;
    for (let i = 0; i < requests.length; i++) {
      const request = requests[i]!;
      const written = request.state === WRITTEN;
      request.state = SETTLED;
      request.signal.removeEventListener('abort', request.onAbort);
      if (request.abandoned) continue;
      this.live--;
      const err = i === 0 && headError !== undefined ? headError : lost(request.url, why, i === 0 && started, written, cause);
      request.settle(err, null);
    }
  }
}

/** CONNECTION_LOST for a pipelined request, saying how far it got. */
function lost(url: string, why: 'lost' | 'close', responseStarted: boolean, written: boolean, cause: unknown): TransportError {
  let message: string;
  if (responseStarted) {
    message = 'the connection closed before the whole response arrived';
  } else if (why === 'close') {
    message = written
      ? 'the server closed the connection after an earlier response (Connection: close) without answering this pipelined request; ' +
        'it was written whole (a conforming server does not process it, RFC 9112 §9.6) and is not re-sent'
      : 'the server closed the connection after an earlier response (Connection: close) before this pipelined request was written whole: it did not run';
  } else {
    message = written
      ? 'the pipelined connection was lost before this call was answered (request written whole: the call may have run; not retried)'
      : 'the pipelined connection was lost before this request was written whole: the call did not run';
  }
  if (cause instanceof Error && !(cause instanceof HttpParseError)) message += `: ${cause.message}`;
  return new TransportError(TransportErrorCode.CONNECTION_LOST, url, message, {
    requestSent: responseStarted || written,
    cause: cause ?? undefined,
  });
}


// ---------------------------------------------------------------------------

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

/** What a Pipeline takes from its Transport: the steps, bound (see Transport.openPipeline). */
export interface PipelineSteps {
  /** The Transport's call chain (checks, body, timeout and abort, response) around `exchange`. */
  call(handler: string, body: string | Uint8Array, options: RequestOptions, exchange: Exchange): Promise<XmlRpcValue>;
  /** The connect step. */
  connect(req: OutgoingRequest): Promise<net.Socket>;
  /** A failed connect as a call reports it. */
  connectError(req: OutgoingRequest, err: unknown): unknown;
  /** The request-building steps (sendRequest and below), into bytes. */
  encode(req: OutgoingRequest): Buffer;
  readonly maxResponseBytes: number;
  readonly keepAlive: boolean;
  readonly idleTimeout: number;
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
class Job implements SendProgress {
  request: PipelinedRequest | null = null;
  done = false;

  constructor(
    readonly req: OutgoingRequest,
    readonly bytes: Buffer,
    readonly settle: Settle,
  ) {}

  get requestWritten(): boolean {
    return this.request?.requestWritten ?? false;
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
  readonly #steps: PipelineSteps;
  readonly #onConnectionClose: (() => void) | undefined;
  /** Calls not yet written, oldest first. */
  #queue: Job[] = [];
  #conn: PipelineConnection | null = null;
  #connecting: AbortController | null = null;
  /** Calls accepted and not settled. */
  #calls = 0;
  #closed = false;
  /** destroy(): not even the calls accepted are written any more. */
  #queueClosed = false;
  #closeWaiters: (() => void)[] = [];

  constructor(endpoint: Endpoint, steps: PipelineSteps, options: PipelineOptions = {}) {
    const depth = options.depth ?? DEFAULT_PIPELINE_OPTIONS.depth;
    if (!Number.isInteger(depth) || depth < 1) throw new RangeError(`depth must be a positive integer, got ${String(depth)}`);
    const idleTimeout = options.idleTimeout ?? steps.idleTimeout;
    if (typeof idleTimeout !== 'number' || !(idleTimeout >= 0)) throw new RangeError(`idleTimeout must be a non-negative number, got ${String(idleTimeout)}`);
    this.endpoint = endpoint;
    this.#steps = steps;
    // Without keep-alive every request says Connection: close: one per connection.
    this.depth = steps.keepAlive ? depth : 1;
    this.waitForKeepAlive = options.waitForKeepAlive ?? DEFAULT_PIPELINE_OPTIONS.waitForKeepAlive;
    this.idleTimeout = idleTimeout;
    this.#onConnectionClose = options.onConnectionClose;
  }

  /**
   * One call, as Transport.request makes it (same options, same errors), on
   * this pipeline's connection. `handler` is the path ('/RPC2').
   */
  request(handler: string, body: string | Uint8Array, options: RequestOptions = {}): Promise<XmlRpcValue> {
    if (this.#closed) return Promise.reject(this.#closedError(this.endpoint.origin + String(handler)));
    this.#calls++; // accepted: close() lets it finish
    return this.#steps.call(handler, body, options, (req, track) => this.#enqueue(req, track)).finally(() => {
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

  #enqueue(req: OutgoingRequest, track: (progress: SendProgress) => void): Promise<IncomingResponse> {
    if (this.#queueClosed) return Promise.reject(this.#closedError(req.url));
    const bytes = this.#steps.encode(req);
    return new Promise<IncomingResponse>((resolve, reject) => {
      const onAbort = (): void => {
        const i = this.#queue.indexOf(job);
        if (i === -1) return; // on the wire: its PipelinedRequest handles the abort
        this.#queue.splice(i, 1);
        job.settle(req.signal.reason as Error, null);
        this.#stopConnectingIfUnused();
      };
      const job: Job = new Job(req, bytes, (err, response) => {
        if (job.done) return;
        job.done = true;
        req.signal.removeEventListener('abort', onAbort);
        if (err === null) resolve(response!);
        else reject(err);
      });
      track(job);
      req.signal.addEventListener('abort', onAbort);
      this.#queue.push(job);
      this.#pump();
    });
  }

  /** Writes queued calls while the connection can take them; connects when there is none. */
  #pump(): void {
    while (this.#queue.length > 0) {
      const conn = this.#conn;
      if (conn === null) {
        this.#connect();
        return;
      }
      // A connection being closed: its close event brings the next one.
      if (!conn.take()) return;
      if (!conn.canWrite(this.depth, this.waitForKeepAlive)) return;
      const job = this.#queue.shift()!;
      job.request = conn.write(job.req.url, job.bytes, job.req.signal, job.settle);
    }
  }

  #connect(): void {
    if (this.#connecting !== null) return;
    const first = this.#queue[0]!;
    const controller = new AbortController();
    this.#connecting = controller;
    this.#steps.connect({ ...first.req, signal: controller.signal }).then(
      (socket) => {
        if (this.#connecting === controller) this.#connecting = null;
        if (controller.signal.aborted) {
          socket.destroy();
          this.#whenIdle();
          return;
        }
        const conn: PipelineConnection = new PipelineConnection(socket, this.#steps.maxResponseBytes, {
          onWritable: () => this.#pump(),
          onClose: () => this.#connectionClosed(conn),
        });
        this.#conn = conn;
        this.#pump();
        if (this.#calls === 0) this.#whenIdle();
      },
      (err: unknown) => {
        if (this.#connecting === controller) this.#connecting = null;
        if (!controller.signal.aborted) {
          for (const job of this.#queue.splice(0)) job.settle(asError(this.#steps.connectError(job.req, err)), null);
        }
        this.#whenIdle();
      },
    );
  }

  #connectionClosed(conn: PipelineConnection): void {
    if (this.#conn !== conn) return;
    this.#conn = null;
    if (this.#queue.length > 0) {
      if (conn.writes === 0) {
        // Closed before taking a single request: no new connection for the queue (that could loop).
        for (const job of this.#queue.splice(0)) {
          job.settle(
            new TransportError(TransportErrorCode.CONNECTION_LOST, job.req.url, 'the connection closed before a request could be written: the call did not run', {
              requestSent: false,
            }),
            null,
          );
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
    return new TransportError(TransportErrorCode.CONNECTION_LOST, url, 'the pipeline is closed: the call was not sent', { requestSent: false });
  }
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
