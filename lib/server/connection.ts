// One client connection: the parser, the queue of requests awaiting their
// responses (in request order, RFC 9112 §9.3.2), back-pressure, and the one
// deadline the server's sweep checks. All per-connection state lives here.

import type { Socket } from 'node:net';
import { HttpParser, type MessageHead } from '../http/parser.js';
import { HttpParseError } from '../errors.js';
import { CONTINUE_100, formatHead, statusText } from '../http/response.js';
import { Request, type Handler, type Response } from './request.js';
import type { ConnectionHost } from './options.js';

/** A request in the queue, and later its response. */
class Slot {
  response: Response | null = null;
  handler: Handler | null = null;
  chunks: Buffer[] = [];
  /** Read the body but do not keep it: the answer is already known (404). */
  discard = false;
  wantsContinue = false;
  continueSent = false;
  constructor(
    readonly request: Request | null,
    readonly keepAlive: boolean,
    readonly headRequest: boolean,
  ) {}
}

// Why reading is paused; reading resumes when no reason is left.
const PAUSE_DRAIN = 1;
const PAUSE_PIPELINE = 2;
const PAUSE_CLOSING = 4;

const enum Phase {
  None,
  Idle,
  Head,
  Body,
  Linger,
}

export class Connection {
  private readonly parser: HttpParser;
  private readonly queue: Slot[] = [];
  private current: Slot | null = null;
  private pending: Buffer | null = null;
  private pauseMask = 0;
  private requestStart = 0;
  private phase = Phase.None;
  /** Absolute time (ms) at which `phase` times out; 0 for never. */
  deadline = 0;
  /** No further request will be read: a fatal error, a close, or the server is closing. */
  private stopped = false;
  /** Our side has sent FIN. */
  private ended = false;
  private peerEnded = false;
  private destroyed = false;

  constructor(
    readonly socket: Socket,
    private readonly host: ConnectionHost,
  ) {
    this.parser = new HttpParser(
      'request',
      {
        onHead: (head) => this.onHead(head),
        onBody: (chunk) => this.onBody(chunk),
        onComplete: () => this.onComplete(),
      },
      host.options,
    );
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('end', () => this.onPeerEnd());
    socket.on('drain', () => this.resumeReading(PAUSE_DRAIN));
    socket.on('error', () => this.socket.destroy());
    socket.on('close', () => this.onClose());
    this.updateDeadline(Date.now());
  }

  /** Idle: no request partly received and no response owed. */
  get idle(): boolean {
    return this.queue.length === 0 && this.parser.idle && this.pending === null;
  }

  /** The server is closing: finish what was received, then close. */
  shutdown(): void {
    if (this.destroyed) return;
    if (this.idle && !this.ended) {
      this.socket.destroy();
      return;
    }
    // A request partly received is still read to its end (onComplete stops after it).
    if (this.parser.idle) this.stopReading();
  }

  private onData(chunk: Buffer): void {
    if (this.stopped) return; // lingering after a close: discard
    if (this.pending !== null || this.pauseMask !== 0) {
      this.pending = this.pending === null ? chunk : Buffer.concat([this.pending, chunk]);
      return;
    }
    this.feed(chunk);
  }

  private feed(chunk: Buffer): void {
    const socket = this.socket;
    socket.cork();
    try {
      const used = this.parser.execute(chunk);
      this.pending = used < chunk.length && !this.stopped ? chunk.subarray(used) : null;
    } catch (err) {
      this.pending = null;
      this.fail(err instanceof HttpParseError ? err.status : 400, err instanceof Error ? err.message : String(err));
    } finally {
      socket.uncork();
    }
    this.updateDeadline(Date.now());
  }

  private onHead(head: MessageHead): void {
    const host = this.host;
    const request = new Request(head, this.socket.remoteAddress, this.socket.remotePort);
    const slot = new Slot(request, head.keepAlive, head.method === 'HEAD');
    this.current = slot;
    this.queue.push(slot);
    let handler: Handler | null;
    try {
      handler = host.findHandler(request);
    } catch (err) {
      host.reportError(err, request);
      this.fail(500, 'handler match failed');
      return;
    }
    if (handler === null) {
      if (head.expectContinue) {
        // Refused before the body: answer now and close, the body never comes.
        this.fail(404, `no handler for ${request.path}`);
        return;
      }
      slot.discard = true;
      return;
    }
    slot.handler = handler;
    if (head.expectContinue) {
      slot.wantsContinue = true;
      if (this.queue[0] === slot) this.sendContinue(slot);
    }
  }

  private onBody(chunk: Buffer): void {
    const slot = this.current;
    if (slot === null || slot.discard) return;
    slot.chunks.push(chunk);
  }

  private onComplete(): void {
    const slot = this.current;
    if (slot === null) return;
    this.current = null;
    this.requestStart = 0;
    // Decided before dispatch: a synchronous handler's response is written
    // at once and must already know it is the last one.
    if (this.host.closing || !slot.keepAlive) {
      this.stopReading();
    } else if (this.queue.length >= this.host.options.maxPipelinedRequests) {
      this.pauseReading(PAUSE_PIPELINE);
    }
    if (slot.discard) {
      slot.response = notFound(slot.request!);
      if (this.queue[0] === slot) this.flush();
    } else {
      slot.request!.body = slot.chunks.length === 1 ? slot.chunks[0]! : Buffer.concat(slot.chunks);
      slot.chunks = [];
      this.dispatch(slot);
    }
  }

  private dispatch(slot: Slot): void {
    const request = slot.request!;
    let result: Response | Promise<Response>;
    try {
      result = slot.handler!.handle(request);
    } catch (err) {
      result = this.internalError(err, request);
    }
    if (isPromise(result)) {
      result.then(
        (response) => this.settle(slot, response),
        (err: unknown) => this.settle(slot, this.internalError(err, request)),
      );
    } else {
      this.settle(slot, result);
    }
  }

  private internalError(err: unknown, request: Request): Response {
    this.host.reportError(err, request);
    return plain(500, 'Internal Server Error');
  }

  private settle(slot: Slot, response: Response): void {
    if (this.destroyed) {
      // Twisted's rule: the client has gone, drop the result quietly.
      if (slot.request !== null) slot.request.aborted = true;
      return;
    }
    slot.response = response;
    if (response.error !== undefined) this.host.reportError(response.error, slot.request);
    if (this.queue[0] === slot) this.flush();
  }

  /** Write every response that is ready, in request order. */
  private flush(): void {
    const socket = this.socket;
    if (this.ended || this.destroyed) return;
    socket.cork();
    try {
      while (this.queue.length > 0) {
        const slot = this.queue[0]!;
        if (slot.response === null) {
          if (slot.wantsContinue && !slot.continueSent) this.sendContinue(slot);
          break;
        }
        this.queue.shift();
        if (!this.write(slot, slot.response)) {
          this.end();
          return;
        }
      }
    } finally {
      socket.uncork();
    }
    if (this.queue.length < this.host.options.maxPipelinedRequests) this.resumeReading(PAUSE_PIPELINE);
    if (this.stopped && this.queue.length === 0 && !this.ended) this.end();
    this.updateDeadline(Date.now());
  }

  /** Writes one response; returns whether the connection stays open. */
  private write(slot: Slot, response: Response): boolean {
    const keepAlive = this.decideKeepAlive(slot, response);
    const status = response.status;
    const body = response.body ?? '';
    const bodyless = status < 200 || status === 204 || status === 304;
    const length = bodyless ? -1 : typeof body === 'string' ? Buffer.byteLength(body) : body.length;
    const version = slot.request?.versionMinor ?? 1;
    const connection = keepAlive ? (version === 0 ? 'keep-alive' : '') : 'close';
    let head: string;
    try {
      head = formatHead(status, response.headers, length, connection);
    } catch (err) {
      // A handler produced an unsendable header: still answer, as a 500.
      this.host.reportError(err, slot.request);
      head = formatHead(500, undefined, 0, connection);
      this.socket.write(head, 'latin1');
      return keepAlive;
    }
    const socket = this.socket;
    if (bodyless || slot.headRequest || length === 0) {
      socket.write(head, 'latin1');
    } else if (typeof body === 'string') {
      socket.write(head + body, 'utf8');
    } else {
      socket.write(head, 'latin1');
      socket.write(body);
    }
    if (socket.writableNeedDrain) this.pauseReading(PAUSE_DRAIN);
    return keepAlive;
  }

  /** The one place that decides whether the connection outlives a response. */
  private decideKeepAlive(slot: Slot, response: Response): boolean {
    if (!slot.keepAlive || response.close === true || slot.request === null) return false;
    // Once reading has stopped, the last owed response closes the connection.
    if ((this.stopped || this.peerEnded) && this.queue.length === 0 && this.current === null) return false;
    return true;
  }

  private sendContinue(slot: Slot): void {
    slot.continueSent = true;
    // The client sent its body without waiting: a 100 would only confuse it.
    if (slot !== this.current || slot.chunks.length > 0) return;
    this.socket.write(CONTINUE_100, 'latin1');
  }

  /**
   * A request cannot be served: answer `status` after the responses owed
   * before it, then close. Nothing more is parsed from this connection.
   */
  private fail(status: number, message: string): void {
    let slot = this.current;
    if (slot === null) {
      slot = new Slot(null, false, false);
      this.queue.push(slot);
    } else if (slot.request !== null) {
      slot.request.aborted = true;
    }
    this.current = null;
    slot.handler = null;
    slot.response = plain(status, `${statusText(status)}: ${message}\n`, true);
    this.stopReading();
    if (this.queue[0] === slot) this.flush();
  }

  /** No further request is parsed from this connection, ever. */
  private stopReading(): void {
    this.stopped = true;
    this.pending = null;
    this.parser.pause();
    this.pauseReading(PAUSE_CLOSING);
  }

  /** Sends FIN, then lingers reading (and discarding) until the peer closes. */
  private end(): void {
    if (this.ended) return;
    this.ended = true;
    this.stopped = true;
    this.queue.length = 0;
    this.socket.end();
    if (this.peerEnded) return;
    // Keep reading so unread request bytes do not turn our FIN into a RST
    // that could destroy the response before the client reads it.
    this.pauseMask = 0;
    this.socket.resume();
    this.phase = Phase.Linger;
    this.deadline = Date.now() + this.host.options.lingerTimeout;
  }

  private onPeerEnd(): void {
    this.peerEnded = true;
    if (this.ended) {
      this.socket.destroy();
      return;
    }
    this.afterInputEnds();
  }

  /** The peer sent FIN: answer what was fully received, then close. */
  private afterInputEnds(): void {
    // Requests held back by the pipeline limit are still answered first.
    if (this.pending !== null) return;
    if (!this.parser.idle && !this.stopped) {
      // Half-closed in the middle of a request: it can never complete.
      if (this.current !== null) {
        this.queue.pop();
        this.current = null;
      }
    }
    this.stopReading();
    if (this.queue.length === 0) this.end();
  }

  private onClose(): void {
    this.destroyed = true;
    this.deadline = 0;
    for (const slot of this.queue) if (slot.request !== null) slot.request.aborted = true;
    this.queue.length = 0;
    this.host.forget(this);
  }

  // The parser is paused too, so a chunk holding many pipelined requests
  // stops being parsed (and dispatched) the moment a reason appears.
  private pauseReading(reason: number): void {
    if (this.pauseMask === 0 && !this.ended) {
      this.socket.pause();
      this.parser.pause();
    }
    this.pauseMask |= reason;
  }

  private resumeReading(reason: number): void {
    if ((this.pauseMask & reason) === 0) return;
    this.pauseMask &= ~reason;
    if (this.pauseMask !== 0 || this.destroyed || this.stopped) return;
    this.parser.resume();
    const pending = this.pending;
    this.pending = null;
    if (pending !== null) this.feed(pending);
    if (this.peerEnded && this.pending === null && !this.stopped) this.afterInputEnds();
    if (this.pauseMask === 0 && !this.stopped) this.socket.resume();
  }

  private updateDeadline(now: number): void {
    if (this.ended || this.destroyed) return;
    const options = this.host.options;
    if (!this.parser.idle && !this.stopped) {
      if (this.requestStart === 0) this.requestStart = now;
      if (this.parser.inBody) {
        this.phase = Phase.Body;
        this.deadline = this.requestStart + options.requestTimeout;
      } else {
        this.phase = Phase.Head;
        this.deadline = this.requestStart + options.headersTimeout;
      }
    } else if (this.queue.length === 0 && !this.stopped) {
      this.phase = Phase.Idle;
      this.deadline = now + options.keepAliveTimeout;
    } else {
      // Busy with a handler, or waiting to flush: no read timeout applies.
      this.phase = Phase.None;
      this.deadline = 0;
    }
  }

  /** Called by the server's sweep once `deadline` has passed. */
  timeout(): void {
    const phase = this.phase;
    this.phase = Phase.None;
    this.deadline = 0;
    if (phase === Phase.Head) this.fail(408, 'request head not received in time');
    else if (phase === Phase.Body) this.fail(408, 'request body not received in time');
    else this.socket.destroy();
  }
}

function plain(status: number, text: string, close = false): Response {
  return { status, headers: { 'Content-Type': 'text/plain; charset=utf-8' }, body: text, close };
}

function notFound(request: Request): Response {
  return plain(404, `Not Found: ${request.path}\n`);
}

function isPromise<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}
