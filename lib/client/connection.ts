// One client connection: a socket, its response reader (response-reader.ts), and up
// to `depth` exchanges carried in order, responses read back first in,
// first out (RFC 9112 §9.3.2). Depth 1 is the pooled connection of
// Transport.request; a Pipeline's connection carries more. The socket's
// listeners are bound once; what an event means depends on the state:
// CONNECTING (the connect step runs), OPEN (requests are written while
// canWrite() says so), PARKED (unused: unref'd, closed by the idle timer or
// at any sign of life from the server), CLOSED.
//
// One timer per connection, re-armed by kind through the Clock: CONNECT
// (or the waiting call's deadline, if earlier), IDLE while parked, RESPONSE
// for the earliest deadline of the calls in flight. Never a timer per call.
//
// Stray bytes (response smuggling): bytes that arrive with no request
// outstanding, or beyond the last response awaited, close the connection;
// they are never the answer to a later request. A request written on a
// connection that has answered, with nothing in flight, first waits for one
// poll phase of the event loop, so what the server sent meanwhile is seen.
// (A stray sent after the next request left cannot be told from its answer.)
//
// requestSent (RFC 9112 §9.3.1, nothing is re-sent silently): a write the
// kernel does not take at once is waited for before the next goes, so a
// request is *written* when its bytes were all handed over. A Pipeline
// writes the requests it has queued together (cork()/uncork(): one writev,
// up to BATCH_BYTES, a larger request alone), so that a burst costs one
// write and one packet rather than one each. When the connection breaks,
// written requests fail with CONNECTION_LOST and `requestSent: true`, the
// one being written alone with false; of a batch the kernel did not take at
// once, which requests left whole is not known, so each says true (may have
// run). After a `Connection: close` answer, the requests written behind it
// fail with `requestSent: true` (sent; a conforming server does not run
// them, RFC 9112 §9.6). A call that gives up is dropped: its response is
// read and discarded, nothing is written behind it, and the connection
// closes when no caller is left on it.

import type * as net from 'node:net';
import type { Clock } from '../clock.js';
import type { MessageHead } from '../http/parser.js';
import { ConnectAttempt, type ConnectOptions } from './connect-attempt.js';
import { lost, notSent, responseParseError } from './failures.js';
import { NOT_ARMED, OneTimer } from './one-timer.js';
import { startQuietTurn } from './quiet-turn.js';
import { Exchange, SETTLED, WRITING, WRITTEN, type ExchangeCarrier } from './exchange.js';
import { ResponseReader, STRAY } from './response-reader.js';
import type { AbortWatch, CallHandle, Deadline, IncomingResponse, OutgoingRequest, Settle } from './request.js';

// Connection states.
const CONNECTING = 0;
const OPEN = 1;
const PARKED = 2;
const CLOSED = 3;

// Timer kinds.
const CONNECT_TIMER = 1;
const IDLE_TIMER = 2;
const RESPONSE_TIMER = 3;

/** What requestOrNot() resolves to when a reused connection closed before the request could be written. */
export const NOT_WRITTEN: unique symbol = Symbol('not written');

/** Bytes of requests written together in one batch, at most (a larger request goes alone). */
export const BATCH_BYTES = 16 * 1024;

export interface ConnectionOptions {
  /** Requests written and not yet answered, at most. 1: one exchange at a time (the pool). */
  depth: number;
  /** A new connection carries one request until a response shows keep-alive. */
  waitForKeepAlive: boolean;
  maxResponseBytes: number;
  clock: Clock;
  /** A write completed, a response arrived, or the quiet turn passed: more may be written. */
  onWritable?: () => void;
  /** The socket closed; every request on it has been settled. */
  onClose?: (conn: ClientConnection) => void;
}

export class ClientConnection implements ExchangeCarrier {
  /** The pool key of the endpoint this connection goes to. */
  readonly key: string;
  readonly depth: number;
  readonly waitForKeepAlive: boolean;
  /** Set by the pool: the pool generation the connection belongs to. */
  generation = 0;
  /** Set by the pool: in its idle list (parked, or released in this turn and parked at its end). */
  pooledIdle = false;
  /** Responses received over the connection's life: more than 0 means the next request reuses it. */
  exchanges = 0;
  /** Requests given to send() over the connection's life. */
  writes = 0;

  #socket: net.Socket | null = null;
  #state = CONNECTING;
  readonly #clock: Clock;
  readonly #reader: ResponseReader;
  readonly #onWritable: (() => void) | undefined;
  readonly #onClose: ((conn: ClientConnection) => void) | undefined;
  readonly #closeCallbacks: (() => void)[] = [];
  /** Written or being written, not yet answered, oldest first: the order responses come in. */
  readonly #inFlight: Exchange[] = [];
  /** Of those, the ones whose caller still waits, and the abandoned ones. */
  #live = 0;
  #abandoned = 0;
  /** The request whose write has not completed; nothing more is written meanwhile. */
  #pendingWrite: Exchange | null = null;
  /** Between cork() and uncork(): the requests sent, written together at uncork(). */
  #corked = false;
  /** The batch being corked; one array for the connection's life (a pump corks even for one request). */
  readonly #batch: Exchange[] = [];
  #batchBytes = 0;
  /** A response allowed keep-alive: the server answers more than one request per connection. */
  #confirmed = false;
  /** The last response allowed keep-alive, and no response came before its request was written whole. */
  #keepAlive = false;
  #clean = true;
  /** The server said it closes, or the connection is being destroyed: nothing more is written. */
  #draining = false;
  /** Nothing in flight since the last response, and no poll turn has passed since: a write waits. */
  #quiet = true;
  #quietTurn = false;
  #quietWaiters: ((ok: boolean) => void)[] = [];
  /** Responses came in during this chunk: room to write, once the whole chunk is read. */
  #answeredSome = false;

  readonly #timer: OneTimer;
  #idleAt = Infinity;
  #connect: ConnectAttempt | null = null;

  constructor(key: string, options: ConnectionOptions) {
    this.key = key;
    this.depth = options.depth;
    this.waitForKeepAlive = options.waitForKeepAlive;
    this.#clock = options.clock;
    this.#onWritable = options.onWritable;
    this.#onClose = options.onClose;
    this.#timer = new OneTimer(this.#clock, (kind) => this.#onTimer(kind));
    this.#reader = new ResponseReader(
      options.maxResponseBytes,
      () => this.#inFlight.length > 0,
      (head, body) => this.#answered(head, body),
    );
  }

  get closed(): boolean {
    return this.#state === CLOSED;
  }

  /** Requests awaiting their responses (abandoned ones included). */
  get size(): number {
    return this.#inFlight.length;
  }

  /** Runs `callback` once the connection has closed (at once if it has). */
  onceClosed(callback: () => void): void {
    if (this.#state === CLOSED) callback();
    else this.#closeCallbacks.push(callback);
  }

  /**
   * Opens the socket with `open` (the transport's connect step, given a
   * signal it must honour) under this connection's timer: the connect
   * timeout, or the waiting call's deadline if that comes first. Rejects
   * with the reason the connect ended with (the signal's reason when the
   * timer or `options.signal` ended it); the connection is then closed.
   */
  connect(open: (signal: AbortSignal) => Promise<net.Socket>, options: ConnectOptions): Promise<void> {
    const attempt = new ConnectAttempt(options, this.#clock.now());
    this.#connect = attempt;
    return new Promise<void>((resolve, reject) => {
      const watching = attempt.watch((err, socket) => {
        this.#connect = null;
        if (socket !== null && this.#state === CONNECTING) {
          this.#attach(socket);
          this.#arm();
          resolve();
          return;
        }
        socket?.destroy();
        this.#closedNow();
        reject(err);
      });
      if (!watching) return;
      this.#arm();
      attempt.run(open);
    });
  }

  /**
   * Whether one more request may be written now: open, the server has not
   * said close, no write in progress, no abandoned request ahead, fewer
   * than `depth` awaiting responses, (with `waitForKeepAlive`) keep-alive
   * confirmed or nothing awaiting, and the quiet turn a reused connection
   * owes has passed (false meanwhile: onWritable follows).
   */
  canWrite(): boolean {
    if (!this.#open()) return false;
    if (this.#pendingWrite !== null || this.#abandoned > 0 || this.#inFlight.length >= this.depth) return false;
    if (this.waitForKeepAlive && !this.#confirmed && this.#inFlight.length > 0) return false;
    if (this.#corked && this.#batchBytes >= BATCH_BYTES) return false;
    if (!this.#quiet) {
      this.#startQuietTurn();
      return false;
    }
    return true;
  }

  /** Resolves true once a request may be written (see canWrite), false if the connection cannot carry one. */
  whenWritable(): Promise<boolean> {
    if (this.canWrite()) return Promise.resolve(true);
    if (!this.#quietTurn) return Promise.resolve(false);
    return new Promise((resolve) => this.#quietWaiters.push(resolve));
  }

  /**
   * Writes one request (the caller checked canWrite) in one socket write.
   * `settle` gets its response or its failure, once; `deadline`, if any, is
   * kept by the connection's timer.
   */
  send(url: string, bytes: Buffer, signal: AbortWatch, deadline: Deadline | null, settle: Settle): Exchange {
    const exchange = new Exchange(this, url, signal, deadline, settle);
    const socket = this.#socket!;
    this.#inFlight.push(exchange);
    this.#live++;
    this.writes++;
    signal.addEventListener('abort', exchange.onAbort);
    if (this.#corked) {
      // Corked: the bytes leave at uncork(), with the rest of the batch.
      this.#batch.push(exchange);
      this.#batchBytes += bytes.length;
      socket.write(bytes, (err?: Error | null) => this.#afterWrite(exchange, err));
      return exchange;
    }
    this.#pendingWrite = exchange;
    socket.write(bytes, (err?: Error | null) => this.#afterWrite(exchange, err));
    if (this.#pendingWrite === exchange && socket.writableLength === 0) {
      // The kernel took every byte during write(): written now, not at the callback.
      this.#pendingWrite = null;
      exchange.state = WRITTEN;
    }
    this.#arm();
    return exchange;
  }

  /** Whether a request of `bytes` joins the batch being corked (a larger one goes alone, after uncork()). */
  fits(bytes: number): boolean {
    return !this.#corked || this.#batch.length === 0 || this.#batchBytes + bytes <= BATCH_BYTES;
  }

  /** Requests sent until uncork() are written together, in one write (canWrite() says when the batch is full). */
  cork(): void {
    if (this.#corked || !this.#open()) return;
    this.#corked = true;
    this.#batchBytes = 0;
    this.#socket!.cork();
  }

  /** Writes the batch. Taken whole by the kernel: every request in it is written; else the last one is waited for. */
  uncork(): void {
    if (!this.#corked) return;
    this.#corked = false;
    const batch = this.#batch;
    const socket = this.#socket!;
    socket.uncork();
    if (!socket.destroyed && batch.length > 0) {
      if (socket.writableLength === 0) {
        for (const exchange of batch) if (exchange.state === WRITING) exchange.state = WRITTEN;
      } else {
        // Which of them left whole is not known: each may have run.
        if (batch.length > 1) for (const exchange of batch) exchange.shared = true;
        this.#pendingWrite = batch.at(-1)!;
      }
      this.#arm();
    }
    batch.length = 0;
  }

  /**
   * One exchange at a time (the pool's way): writes the request once the
   * connection can take it, and resolves to its response. Rejects as send()
   * settles, or with CONNECTION_LOST (`requestSent: false`) when the
   * connection closed before the request could be written.
   */
  request(req: OutgoingRequest, bytes: Buffer, call: CallHandle): Promise<IncomingResponse> {
    // Writable now (the pooled carrier has just waited for that): no promise and no turn spent on it.
    if (this.canWrite()) return this.#request(req, bytes, call, true);
    return this.whenWritable().then((writable) => this.#request(req, bytes, call, writable));
  }

  #request(req: OutgoingRequest, bytes: Buffer, call: CallHandle, writable: boolean): Promise<IncomingResponse> {
    return new Promise<IncomingResponse>((resolve, reject) => this.#write(req, bytes, call, writable, resolve, reject));
  }

  /** Writes the request now if the call still waits and `writable`; its promise is `resolve`/`reject`. */
  #write(
    req: OutgoingRequest,
    bytes: Buffer,
    call: CallHandle,
    writable: boolean,
    resolve: (response: IncomingResponse) => void,
    reject: (err: Error) => void,
  ): void {
    const deadline = call.deadline;
    if (deadline !== null && deadline.at <= this.#clock.now()) deadline.expire();
    if (call.aborted) return reject(call.reason as Error);
    if (!writable) {
      this.destroy();
      return reject(notSent(req.url, 'closed'));
    }
    call.progress = this.send(req.url, bytes, call, deadline, (err, response) => (err === null ? resolve(response!) : reject(err)));
  }

  /**
   * request() for the pooled carrier, which takes another connection when a
   * reused one closed (what the server sent while it was parked) before the
   * request could be written: resolves NOT_WRITTEN then, nothing written.
   * One promise for the wait and the exchange: request()'s whenWritable()
   * and its own promise cost a promise and a turn more.
   */
  requestOrNot(req: OutgoingRequest, bytes: Buffer, call: CallHandle): Promise<IncomingResponse | typeof NOT_WRITTEN> {
    if (this.canWrite()) return this.#request(req, bytes, call, true);
    const reused = this.exchanges > 0;
    if (!this.#quietTurn) return reused ? Promise.resolve(NOT_WRITTEN) : this.#request(req, bytes, call, false);
    return new Promise((resolve, reject) => {
      this.#quietWaiters.push((ok) => {
        if (!ok && reused) resolve(NOT_WRITTEN);
        else if (!ok || this.canWrite()) this.#write(req, bytes, call, ok, resolve, reject);
        else this.request(req, bytes, call).then(resolve, reject); // another waiter wrote first
      });
    });
  }

  /** The caller of `exchange` gave up: settle it with the signal's reason and drop its response when it comes. */
  abandon(exchange: Exchange): void {
    if (exchange.state === SETTLED || exchange.abandoned) return;
    exchange.abandoned = true;
    exchange.signal.removeEventListener('abort', exchange.onAbort);
    this.#live--;
    this.#abandoned++;
    exchange.settle(exchange.signal.reason as Error, null);
    // Nobody waits for what is left: do not keep a socket for a server that may never answer.
    if (this.#live === 0) this.destroy();
    else this.#arm();
  }

  /** Whether the connection stays open if `exchange` is abandoned now. */
  staysOpenWithout(exchange: Exchange): boolean {
    return this.#open() && this.#live - (exchange.abandoned ? 0 : 1) > 0;
  }

  /** Fit for the pool to hand to another call: open, clean, idle, and the last response allowed keep-alive. */
  get reusable(): boolean {
    return this.#open() && this.#clean && this.#keepAlive && this.#inFlight.length === 0 && this.#reader.idle && this.#socket!.writableLength === 0;
  }

  /** Unused: unref'd, closed after `idleTimeout` ms or at any sign of life from the server. */
  park(idleTimeout: number): void {
    if (!this.#open() || this.#inFlight.length > 0) return; // one being closed is not parked (nor timed)
    this.#state = PARKED;
    this.#socket!.unref();
    this.#idleAt = this.#clock.now() + idleTimeout;
    this.#arm();
  }

  /** Back in use; false if it turned out unusable (it is then being destroyed). */
  take(): boolean {
    if (this.#state !== PARKED) return this.#state === OPEN;
    const socket = this.#socket!;
    if (socket.destroyed || socket.readableEnded || !socket.writable) {
      this.destroy();
      return false;
    }
    this.#state = OPEN;
    socket.ref();
    // What the server sent while the connection was parked may not have been read yet.
    if (this.exchanges > 0) this.#quiet = false;
    this.#arm();
    return true;
  }

  /** Closes the connection; requests awaiting responses fail first (CONNECTION_LOST), with `cause`. */
  destroy(cause?: unknown): void {
    this.#draining = true;
    this.#clean = false;
    if (this.#inFlight.length > 0) this.#failAll('lost', cause);
    if (this.#state === CONNECTING) this.#connect?.abort(cause);
    this.#socket?.destroy();
    this.#arm();
  }

  // ---- socket events ----

  #attach(socket: net.Socket): void {
    this.#socket = socket;
    this.#state = OPEN;
    socket.setTimeout(0);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('end', () => this.#onEnd());
    socket.on('error', (err: Error) => this.destroy(err));
    socket.on('close', () => this.#onSocketClose());
  }

  #open(): boolean {
    const socket = this.#socket;
    return this.#state === OPEN && !this.#draining && socket !== null && !socket.destroyed && socket.writable && !socket.readableEnded;
  }

  #afterWrite(exchange: Exchange, err: Error | null | undefined): void {
    // A destroyed socket reports its cancelled writes as done: believe only a live one.
    const live = !this.#socket!.destroyed;
    if (err == null && exchange.state === WRITING && live) exchange.state = WRITTEN;
    if (this.#pendingWrite !== exchange) return;
    this.#pendingWrite = null;
    if (err == null && live) this.#onWritable?.();
  }

  #onData(chunk: Buffer): void {
    if (this.#state !== OPEN || this.#inFlight.length === 0) {
      // Bytes nobody asked for: a server's 408 before it closes, a second answer, garbage.
      this.destroy();
      return;
    }
    try {
      this.#reader.read(chunk);
    } catch (err) {
      if (err === STRAY || this.#inFlight.length === 0) {
        this.destroy(); // a response beyond the ones awaited
        return;
      }
      this.#failAll('lost', err, responseParseError(this.#inFlight[0]!.url, err, this.#tlsAnswer()));
      this.destroy();
      return;
    }
    if (this.#inFlight.length === 0 && !this.#reader.idle) {
      this.destroy(); // the start of a response nobody asked for
      return;
    }
    // Write more only once the whole chunk is read: a `Connection: close` later in it stops the writing.
    if (this.#answeredSome) {
      this.#answeredSome = false;
      if (this.#open()) this.#onWritable?.();
    }
  }

  #answered(head: MessageHead, body: Buffer): void {
    const exchange = this.#inFlight.shift()!;
    exchange.signal.removeEventListener('abort', exchange.onAbort);
    // Answered before its write completed (an early 413, say): bytes of it may still be queued.
    if (exchange.state === WRITING) this.#clean = false;
    exchange.state = SETTLED;
    if (this.#pendingWrite === exchange) this.#pendingWrite = null;
    this.exchanges++;
    const keepAlive = head.keepAlive && head.status !== 101; // we never ask to switch protocols
    this.#keepAlive = keepAlive;
    if (keepAlive) this.#confirmed = true;
    if (this.#inFlight.length === 0) this.#quiet = false;
    if (exchange.abandoned) {
      this.#abandoned--;
    } else {
      this.#live--;
      exchange.settle(null, { status: head.status, reason: head.reason, versionMinor: head.versionMinor, headers: head.headers, body });
    }
    if (!keepAlive) {
      // The server closes after this response: what was written after it will not be answered.
      this.#reader.pause();
      this.#draining = true;
      if (this.#inFlight.length > 0) this.#failAll('close');
      this.#socket?.destroy();
      this.#arm();
      return;
    }
    this.#answeredSome = true;
    this.#arm();
  }

  #onEnd(): void {
    if (this.#state === OPEN && this.#inFlight.length > 0) {
      try {
        this.#reader.finish(); // completes a response read until close
      } catch (err) {
        this.#failAll('lost', err);
      }
    }
    this.destroy();
  }

  #onSocketClose(): void {
    if (this.#inFlight.length > 0) this.#failAll('lost');
    this.#closedNow();
    this.#onClose?.(this);
  }

  #closedNow(): void {
    if (this.#state === CLOSED) return;
    this.#state = CLOSED;
    this.#draining = true;
    this.#clean = false;
    this.#arm();
    for (const resolve of this.#quietWaiters.splice(0)) resolve(false);
    for (const callback of this.#closeCallbacks.splice(0)) callback();
  }

  // ---- the quiet turn ----

  /**
   * Two setImmediate hops: whatever phase this runs in, one poll phase
   * passes before the second, so bytes the server sent before now have been
   * read (and have closed the connection) by then.
   */
  #startQuietTurn(): void {
    if (this.#quietTurn) return;
    this.#quietTurn = true;
    startQuietTurn(this.#quietTurnPassed);
  }

  readonly #quietTurnPassed = (): void => {
    this.#quietTurn = false;
    if (this.#inFlight.length === 0 && this.#open()) this.#quiet = true;
    const ok = this.canWrite();
    const waiters = this.#quietWaiters;
    if (waiters.length > 0) {
      this.#quietWaiters = [];
      for (const resolve of waiters) resolve(ok);
    }
    if (ok) this.#onWritable?.();
  };

  // ---- the one timer ----

  /** Arms the timer for what the connection waits for now, unless it is armed for that already. */
  #arm(): void {
    let kind = NOT_ARMED;
    let at = Infinity;
    if (this.#state === CONNECTING && this.#connect !== null) {
      kind = CONNECT_TIMER;
      at = this.#connect.due;
    } else if (this.#state === PARKED) {
      kind = IDLE_TIMER;
      at = this.#idleAt;
    } else if (this.#state === OPEN) {
      kind = RESPONSE_TIMER;
      for (const exchange of this.#inFlight) {
        if (!exchange.abandoned && exchange.deadline !== null && exchange.deadline.at < at) at = exchange.deadline.at;
      }
    }
    // A parked connection must not keep the process alive; its socket is unref'd too.
    this.#timer.arm(kind, at, kind === IDLE_TIMER);
  }

  #onTimer(kind: number): void {
    const now = this.#clock.now();
    if (kind === CONNECT_TIMER && this.#connect !== null) {
      this.#connect.expire(now);
    } else if (kind === IDLE_TIMER && this.#state === PARKED) {
      this.destroy();
    } else if (kind === RESPONSE_TIMER) {
      for (const exchange of [...this.#inFlight]) {
        if (!exchange.abandoned && exchange.state !== SETTLED && exchange.deadline !== null && exchange.deadline.at <= now) exchange.deadline.expire();
      }
    }
    this.#arm();
  }

  // ---- failures ----

  /** The server's first answer on this connection was a TLS record. */
  #tlsAnswer(): boolean {
    return this.exchanges === 0 && this.#reader.tlsFirst;
  }

  /**
   * Settles every request awaiting a response, in order. `headError`, when
   * given, is the first one's (a malformed response); the others get
   * CONNECTION_LOST saying whether they were written whole.
   */
  #failAll(why: 'lost' | 'close', cause?: unknown, headError?: Error): void {
    const started = this.#reader.started;
    const reused = this.exchanges > 0;
    const exchanges = this.#inFlight.splice(0);
    this.#abandoned = 0;
    this.#pendingWrite = null;
    for (let i = 0; i < exchanges.length; i++) {
      const exchange = exchanges[i]!;
      const written = exchange.state === WRITTEN || exchange.shared;
      exchange.state = SETTLED;
      exchange.signal.removeEventListener('abort', exchange.onAbort);
      if (exchange.abandoned) continue;
      this.#live--;
      const err = i === 0 && headError !== undefined ? headError : lost(exchange.url, why, i === 0 && started, written, reused, cause, this.#tlsAnswer());
      exchange.settle(err, null);
    }
    this.#arm();
  }
}
