// One client connection: the parser, the queue of requests awaiting their
// responses (in request order, RFC 9112 §9.3.2), back-pressure and the
// budgets. All per-connection state lives here or in its base,
// TimedConnection (connection-timing.ts: what the connection waits for, its
// deadline, its state, whether it may be evicted); what it needs from its
// server is the ConnectionHost contract (host.ts). Nothing a peer sends and
// nothing a handler returns may throw out of here: the worst either can cost
// is its own connection. What stands alone is apart: the socket's listeners
// (socket-hooks.ts), answering a request (answer.ts), its body (body.ts), the
// byte accounting (budget.ts), the responses the server makes
// (responses.ts), putting one response on the socket (send.ts), a queued
// request and its response (slot.ts).

import { Buffer } from 'node:buffer';
import type { Socket } from 'node:net';
import { HttpParser, type MessageHead, type ParserCallbacks } from '../http/parser.js';
import { HttpParseError } from '../errors.js';
import { CONTINUE_100, statusText } from '../http/response.js';
import type { Clock } from '../clock.js';
import type { ServerLimits } from '../options.js';
import { BodyBuffer } from './body.js';
import { Holding } from './budget.js';
import { Request, partialRequest, type Handler, type Response } from './request.js';
import { answer, type Answerer } from './answer.js';
import type { ConnectionHost } from './host.js';
import { Slot } from './slot.js';
import { HeldText, send, writeHeld } from './send.js';
import { noHandler, plain, refusedForMemory } from './responses.js';
import { accessRecord } from './access-log.js';
import { countResponse } from './traffic.js';
import { TimedConnection, NEVER } from './connection-timing.js';
import { hookSocket, type SocketHooks } from './socket-hooks.js';

type Hooks = SocketHooks & ParserCallbacks & Answerer<Slot>;

// Why reading is paused; reading resumes when no reason is left.
const PAUSE_DRAIN = 1;
const PAUSE_PIPELINE = 2;
const PAUSE_CLOSING = 4;
const PAUSE_BUDGET = 8;

const CONTINUE = Buffer.from(CONTINUE_100, 'latin1');
const EMPTY = Buffer.alloc(0);

export class Connection extends TimedConnection {
  protected readonly parser: HttpParser;
  protected readonly queue: Slot[] = [];
  protected current: Slot | null = null;
  protected pending: Buffer | null = null;
  private pauseMask = 0;
  /** No further request will be read: a fatal error, a close, or the server is closing. */
  protected stopped = false;
  /** Our side has sent FIN. */
  protected ended = false;
  private peerEnded = false;
  protected destroyed = false;
  /** What this connection holds, charged to the server's budget. */
  protected readonly holding: Holding;
  /** Its links in the server's list of evictable connections (evictable.ts). */
  evictPrev: Connection | null = null;
  evictNext: Connection | null = null;
  evictListed = false;
  /** feed() calls under way (it may nest): flush() leaves the deadline to the feed, which settles it once per read. */
  private feeding = 0;
  /** The socket is corked until the outermost feed() ends: the read holds pipelined requests, whose responses leave in one write. */
  private corked = false;
  private proven = false;
  /** Text responses gathered while the socket is corked (send.ts), written (writeHeld) before it uncorks or is written otherwise. */
  private readonly held = new HeldText();
  /** A response write reached the kernel (bound once, passed to every write). */
  private readonly written = (): void => this.onWritten();
  protected readonly clock: Clock;
  /** The socket's and the parser's callbacks, and what answering a request may ask of this connection (answer.ts); made once, not per request. */
  private readonly hooks: Hooks;
  /** Requests read on this connection so far. */
  protected served = 0;
  /** The peer's address and port, read from the socket at the first request (a getter and a call each, per request, otherwise); null before. */
  private peerAddress: string | undefined | null = null;
  private peerPort: number | undefined = undefined;
  /** host.precise() when the chunk being parsed came, and when the request being read began (-1 between requests). */
  private chunkAt = 0;
  private messageStart = -1;

  constructor(
    readonly socket: Socket,
    protected readonly host: ConnectionHost<Connection>,
    /** This connection's number on its server, from 1 (the access log's `connection`). */
    readonly id = 0,
  ) {
    super();
    this.clock = host.clock;
    this.holding = new Holding(host.budget);
    this.hooks = new Connection.Hooks(this);
    this.parser = new HttpParser('request', this.hooks, host.options);
    socket.setNoDelay(true);
    // Listeners shared by every connection (they find theirs on the socket), not closures made per connection.
    hookSocket(socket, this.hooks);
    this.updateDeadline(this.clock.now());
  }

  /**
   * The socket's and the parser's callbacks and what answer() asks of a
   * connection, as one small object whose methods live on its prototype: a
   * closure per callback cost every idle connection about 900 bytes of heap.
   */
  private static readonly Hooks = class implements Hooks {
    readonly options: Readonly<ServerLimits>;
    constructor(private readonly c: Connection) {
      this.options = c.host.options;
    }
    data(chunk: Buffer): void {
      this.c.onData(chunk);
    }
    end(): void {
      this.c.onPeerEnd();
    }
    drain(): void {
      this.c.onDrain();
    }
    close(): void {
      this.c.onClose();
    }
    onHead(head: MessageHead): void {
      this.c.onHead(head);
    }
    onBody(chunk: Buffer): void {
      this.c.onBody(chunk);
    }
    onComplete(): void {
      this.c.onComplete();
    }
    gone(): boolean {
      return this.c.destroyed || this.c.ended;
    }
    reportError(err: unknown, request: Request): void {
      this.c.host.reportError(err, request);
    }
    reserveDecoded(slot: Slot, bytes: number): boolean {
      const c = this.c;
      if (!c.host.admit(c, bytes, slot.bodyHeld + bytes)) return false;
      c.holding.charge(bytes);
      slot.bodyHeld += bytes;
      return true;
    }
    compressing(slot: Slot, bytes: number): void {
      // Released with the body when the compressed response is ready.
      this.c.holding.charge(bytes);
      slot.bodyHeld += bytes;
    }
    ready(slot: Slot, response: Response): void {
      this.c.ready(slot, response);
    }
    broken(err: unknown, request: Request): void {
      this.c.host.reportError(err, request);
      this.c.socket.destroy();
    }
  };

  /** The server is closing: finish what was received, then close. */
  shutdown(): void {
    // Once our FIN is queued, the bytes before it still go out and the linger still guards them.
    if (this.destroyed || this.ended) return;
    // Text gathered in a pipelined read (HeldText) is owed as much as bytes the socket holds:
    // a close from a callback in the middle of that read (onRequest, say) must not drop it.
    if (this.idle && this.socket.writableLength === 0 && this.held.text === '') {
      // A client connects to send a request: one accepted just now has it on its way,
      // and a close would reset it unread. So a connection that has sent nothing yet
      // gets its first request, answered with Connection: close, within the
      // keep-alive timeout and the close deadline (Go's Server.Shutdown spares new
      // connections the same way). One between requests is closed at once.
      if (this.served > 0) this.socket.destroy();
      return;
    }
    // A request partly received is still read to its end (onComplete stops after it).
    if (!this.parser.idle) return;
    this.stopReading();
    if (this.queue.length === 0) this.end();
  }

  /**
   * The server's close deadline has passed: whatever is owed is dropped, and
   * the requests are marked aborted now, so that a handler settling before
   * the socket's close event finds its client gone.
   */
  abort(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    // Released now, not at 'close': the server may be making room for a request this very turn.
    this.dropQueue();
    this.holding.clear();
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    if (this.stopped) return; // lingering after a close: discard
    this.host.traffic.bytesIn += chunk.length;
    if (this.pending !== null || this.pauseMask !== 0) {
      this.pending = this.pending === null ? chunk : Buffer.concat([this.pending, chunk]);
      return;
    }
    this.feed(chunk);
  }

  private feed(chunk: Buffer): void {
    const socket = this.socket;
    if (this.host.record !== null) this.chunkAt = this.host.precise();
    this.feeding++;
    try {
      const used = this.parser.execute(chunk);
      this.pending = used < chunk.length && !this.stopped ? chunk.subarray(used) : null;
      // Decided once the whole chunk is parsed: body bytes that came with the head are in hand by now.
      const slot = this.current;
      if (slot !== null && slot.wantsContinue && !slot.continueSent && this.queue[0] === slot) this.sendContinue(slot);
    } catch (err) {
      this.pending = null;
      if (err instanceof HttpParseError) {
        this.host.traffic.parseErrors++;
        this.fail(err.status, err.message);
      } else {
        // Not the peer's fault but ours: said as such, and reported.
        this.host.reportError(err, this.current?.request ?? null);
        this.fail(500, 'internal error');
      }
    } finally {
      if (--this.feeding === 0 && this.corked) {
        this.corked = false;
        writeHeld(socket, this.held, this.written);
        socket.uncork();
        // What the socket holds now, the held text included (flush counted before it was written).
        this.holding.setSocketBytes(socket.writableLength);
      }
    }
    // A request left partly read began in this chunk (or earlier, if already set).
    if (this.messageStart < 0 && !this.parser.idle && this.host.record !== null) this.messageStart = this.chunkAt;
    this.checkBudget();
    this.updateDeadline(this.clock.now());
  }

  private onHead(head: MessageHead): void {
    const host = this.host;
    if (this.peerAddress === null) {
      this.peerAddress = this.socket.remoteAddress;
      this.peerPort = this.socket.remotePort;
    }
    const request = new Request(head, this.peerAddress, this.peerPort);
    const slot = new Slot(request, head.keepAlive, head.method === 'HEAD');
    this.number(slot);
    this.current = slot;
    this.queue.push(slot);
    if (!this.proven) {
      this.proven = true;
      host.proven(this);
    }
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
        this.fail(noHandler(request));
        return;
      }
      slot.discard = true;
      return;
    }
    slot.handler = handler;
    slot.body = new BodyBuffer(head.contentLength, handler.lendsBody === true ? host.bodies : null);
    // The 100 is sent (or not) by feed(), once it knows whether body bytes came along.
    slot.wantsContinue = head.expectContinue;
  }

  /** A new slot's place on the connection, for its access record: its number, when it began, its head's bytes. */
  private number(slot: Slot): void {
    slot.number = ++this.served;
    slot.start = this.messageStart >= 0 ? this.messageStart : this.chunkAt;
    slot.bytesIn = this.parser.headLength;
  }

  private onBody(chunk: Buffer): void {
    const slot = this.current;
    if (slot === null) return;
    slot.bytesIn += chunk.length;
    if (slot.body === null) return;
    const growth = slot.body.growth(chunk);
    if (growth > 0) {
      // A body is as large as it says it will be, or as it has grown (chunked).
      // A chunked body may grow to any size: never small enough to take another's room.
      const total = slot.body.declaredLength < 0 ? Infinity : Math.max(slot.body.declaredLength, slot.bodyHeld + growth);
      if (!this.host.admit(this, growth, total)) {
        this.refuseForMemory();
        return;
      }
      this.holding.charge(growth);
      slot.bodyHeld += growth;
    }
    slot.body.append(chunk);
    // Bodies and responses owed past the connection's budget: read no more
    // until what is owed goes out (parsing stops right after this chunk).
    if (this.overBudget()) this.pauseReading(PAUSE_BUDGET);
  }

  /** The server's budget has no room for this body (or took its room for a smaller one): 503, then close. */
  refuseForMemory(): void {
    if (this.current !== null) this.fail(refusedForMemory());
  }

  private onComplete(): void {
    const slot = this.current;
    if (slot === null) return;
    // More requests follow in this read: their responses are gathered and
    // leave together when the read is done. A lone request's response is not
    // corked, which would only add a trip through the socket's buffer.
    if (!this.corked && this.feeding > 0 && this.parser.bytesAfterMessage > 0) {
      this.corked = true;
      this.socket.cork();
    }
    this.current = null;
    this.requestStart = -1;
    this.messageStart = -1;
    // Decided before dispatch: a synchronous handler's response is written
    // at once and must already know it is the last one.
    if (this.host.closing() || !slot.keepAlive) {
      this.stopReading();
    } else if (this.queue.length >= this.host.options.maxPipelinedRequests) {
      this.pauseReading(PAUSE_PIPELINE);
    } else if (this.overBudget()) {
      this.pauseReading(PAUSE_BUDGET);
    }
    if (slot.discard) {
      slot.response = noHandler(slot.request!);
      if (this.queue[0] === slot) this.flush();
    } else {
      const body = slot.body!.take();
      slot.lent = slot.body!.lent;
      slot.body = null;
      answer(this.hooks, slot, slot.request!, slot.handler!, body);
    }
  }

  private ready(slot: Slot, response: Response): void {
    if (slot.lent !== null) {
      // The handler is done with the body (Handler.lendsBody): its buffer serves a later request.
      slot.request!.body = EMPTY;
      this.host.bodies.give(slot.lent);
      slot.lent = null;
    }
    if (this.destroyed || this.ended) {
      slot.request!.abort();
      return;
    }
    slot.response = response;
    // The handler is done with the body; the response is what the slot holds now.
    const body = response.body;
    const size = body === undefined ? 0 : typeof body === 'string' ? body.length : body.byteLength;
    this.holding.release(slot.bodyHeld);
    slot.bodyHeld = 0;
    this.holding.charge(size);
    slot.responseHeld = size;
    if (this.queue[0] === slot) this.flush();
    else this.checkBudget();
  }

  /** Write every response that is ready, in request order. */
  private flush(): void {
    const socket = this.socket;
    if (this.ended || this.destroyed) return;
    // Several responses may be ready (handlers settled out of order): one write for all.
    const batch = this.queue.length > 1;
    if (batch) socket.cork();
    try {
      while (this.queue.length > 0) {
        const slot = this.queue[0]!;
        if (slot.response === null) {
          if (slot.wantsContinue && !slot.continueSent) this.sendContinue(slot);
          break;
        }
        // The socket holds enough: the rest waits for 'drain' (onDrain), so a
        // client that does not read stops costing us more than one write.
        if (socket.writableNeedDrain) break;
        this.queue.shift();
        this.holding.release(slot.responseHeld);
        slot.responseHeld = 0;
        if (!this.write(slot, slot.response)) {
          this.end();
          return;
        }
      }
    } finally {
      if (batch) {
        writeHeld(socket, this.held, this.written);
        socket.uncork();
      }
      this.holding.setSocketBytes(this.socket.writableLength);
    }
    // Tested here, not only in resumeReading: a call per response for a reason seldom set.
    if ((this.pauseMask & PAUSE_PIPELINE) !== 0 && this.queue.length < this.host.options.maxPipelinedRequests) this.resumeReading(PAUSE_PIPELINE);
    if (this.stopped && this.queue.length === 0 && !this.ended) this.end();
    this.checkBudget();
    // Within a read, the feed settles the deadline once all of it is parsed and answered.
    if (this.feeding === 0) this.updateDeadline(this.clock.now());
  }

  private onDrain(): void {
    this.flush();
    if (!this.socket.writableNeedDrain) this.resumeReading(PAUSE_DRAIN);
  }

  /** Sends one response (send.ts), then counts and records it; returns whether the connection stays open. */
  private write(slot: Slot, response: Response): boolean {
    const keepAlive = this.decideKeepAlive(slot, response);
    const version = slot.request?.versionMinor ?? 1;
    const connection = keepAlive ? (version === 0 ? 'keep-alive' : '') : 'close';
    const socket = this.socket;
    const sent = send(socket, response, connection, slot.headRequest, this.written, this.host, slot.request, this.held);
    const status = sent.status;
    const bytesOut = sent.bytes;
    if (socket.writableNeedDrain) this.pauseReading(PAUSE_DRAIN);
    countResponse(this.host.traffic, status, bytesOut);
    const record = this.host.record;
    if (record !== null) {
      const durationUs = Math.round((this.host.precise() - slot.start) * 1000);
      record(accessRecord(slot.request, socket, this.id, slot.number, status, slot.bytesIn, bytesOut, durationUs));
    }
    return keepAlive;
  }

  /** The one place that decides whether the connection outlives a response. */
  private decideKeepAlive(slot: Slot, response: Response): boolean {
    if (!slot.keepAlive || response.close === true || slot.request === null) return false;
    // Once reading has stopped, the last owed response closes the connection.
    // Requests parsed ahead but held back (pipeline limit, drain) are still owed.
    if ((this.stopped || this.peerEnded) && this.queue.length === 0 && this.current === null && this.pending === null) return false;
    return true;
  }

  private sendContinue(slot: Slot): void {
    slot.continueSent = true;
    // The client sent its body without waiting: a 100 would only confuse it.
    if (slot !== this.current || (slot.body?.length ?? 0) > 0) return;
    writeHeld(this.socket, this.held, this.written);
    this.socket.write(CONTINUE, this.written);
  }

  /**
   * A request cannot be served: answer `status` after the responses owed
   * before it, then close. Nothing more is parsed from this connection.
   */
  protected fail(statusOrResponse: number | Response, message = ''): void {
    let slot = this.current;
    if (slot === null) {
      // A head refused before it was whole: its request line, if read, still names it in the log.
      const line = this.parser.requestLine;
      slot = new Slot(line === null ? null : partialRequest(line, this.socket.remoteAddress, this.socket.remotePort), false, false);
      this.number(slot);
      this.queue.push(slot);
    } else if (slot.request !== null) {
      slot.request.abort();
    }
    this.current = null;
    slot.handler = null;
    slot.body = null;
    this.holding.release(slot.bodyHeld);
    slot.bodyHeld = 0;
    slot.response =
      typeof statusOrResponse === 'number'
        ? plain(statusOrResponse, `${statusText(statusOrResponse)}: ${message}\n`, true)
        : { ...statusOrResponse, close: true };
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

  /**
   * Sends FIN after the bytes already written, then lingers reading (and
   * discarding) until the peer closes. Requests still queued are dropped.
   */
  private end(): void {
    if (this.ended) return;
    this.ended = true;
    this.stopped = true;
    this.dropQueue();
    writeHeld(this.socket, this.held, this.written);
    this.socket.end();
    // Keep reading so unread request bytes do not turn our FIN into a RST
    // that could destroy the response before the client reads it.
    this.pauseMask = 0;
    this.socket.resume();
    this.updateDeadline(this.clock.now());
  }

  private onPeerEnd(): void {
    this.peerEnded = true;
    if (this.ended) {
      // Both sides are done; bytes still queued finish first (the socket then closes itself).
      if (this.socket.writableLength === 0) this.socket.destroy();
      return;
    }
    this.afterInputEnds();
  }

  /** The peer sent FIN: answer what was fully received, then close. */
  private afterInputEnds(): void {
    // Requests held back by the pipeline limit are still answered first.
    if (this.pending !== null) return;
    if (!this.stopped) {
      try {
        this.parser.finish();
      } catch (err) {
        // Half-closed in the middle of a request: it can never complete, and is answered as such.
        this.host.traffic.parseErrors++;
        this.fail(err instanceof HttpParseError ? err.status : 400, err instanceof Error ? err.message : String(err));
        return;
      }
    }
    this.stopReading();
    if (this.queue.length === 0) this.end();
  }

  private onClose(): void {
    this.destroyed = true;
    this.deadline = NEVER;
    this.dropQueue();
    // Whatever is still charged (bytes the socket held, a decode in flight) is freed with the connection.
    this.holding.clear();
    this.host.forget(this);
  }

  /** Requests still queued will get no response: their handlers see `aborted`, their bytes are released. */
  private dropQueue(): void {
    for (const slot of this.queue) {
      if (slot.request !== null) slot.request.abort();
      slot.body = null;
      this.holding.release(slot.bodyHeld + slot.responseHeld);
      slot.bodyHeld = slot.responseHeld = 0;
    }
    this.queue.length = 0;
    this.current = null;
  }

  /** Something ahead of the request being read can free bytes: an owed response, or bytes the socket holds. */
  private aheadCanFree(): boolean {
    return this.queue.length > (this.current === null ? 0 : 1) || this.holding.socketBytes > 0;
  }

  /** More held than the connection's budget, and something ahead that can free it: reading waits for it. */
  private overBudget(): boolean {
    return this.holding.bytes > this.host.options.maxConnectionBufferedBytes && this.aheadCanFree();
  }

  /** Reading pauses while the connection is over its budget, and resumes once it is not. */
  protected checkBudget(): void {
    if (this.overBudget()) this.pauseReading(PAUSE_BUDGET);
    else this.resumeReading(PAUSE_BUDGET);
  }

  protected reportEvictable(evictable: boolean): void {
    this.host.evictable(this, evictable);
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
    // Even with no bytes left, the parser may hold an event it paused before
    // (a body's last byte read, its completion not yet delivered).
    if (pending !== null) this.feed(pending);
    else if (!this.parser.idle) this.feed(EMPTY);
    if (this.peerEnded && this.pending === null && !this.stopped) this.afterInputEnds();
    if (this.pauseMask === 0 && !this.stopped) this.socket.resume();
  }
}
