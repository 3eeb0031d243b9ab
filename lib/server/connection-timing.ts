// What a connection is doing and waits for, and until when: the one
// deadline the server's sweep checks (the keep-alive, a head's and a body's
// time, a slow reader's progress, the linger after our FIN), the state the
// status page shows, whether it is idle and what it holds, and whether it
// may give way to a newcomer. The base of
// Connection (connection.ts), which reads, answers and writes: both turn on
// the same few fields (the parser, the queue, the socket, whether reading
// has stopped), which the subclass provides, rather than a second object
// passing them back and forth on every read.

import type { Socket } from 'node:net';
import type { Clock } from '../clock.js';
import type { HttpParser } from '../http/parser.js';
import type { ServerLimits } from '../options.js';
import type { Holding } from './budget.js';
import type { Slot } from './slot.js';
import type { ConnectionState } from './traffic.js';

// What the connection waits for, and so which timeout its deadline is.
const enum Phase {
  None, // a handler is at work: no timeout of ours applies
  Idle, // the next request: keepAliveTimeout
  Head, // the rest of a request head: headersTimeout from its first byte
  Body, // the rest of a request body: requestTimeout from its first byte
  Send, // the client to take response bytes we hold: keepAliveTimeout from its last progress
  Linger, // the client to close after our FIN: lingerTimeout
}

/** `deadline` when no timeout of ours applies. */
export const NEVER = Infinity;

export abstract class TimedConnection {
  abstract readonly socket: Socket;
  protected abstract readonly parser: HttpParser;
  protected abstract readonly queue: Slot[];
  protected abstract readonly host: { readonly options: Readonly<ServerLimits> };
  protected abstract readonly clock: Clock;
  protected abstract readonly holding: Holding;
  /** No further request will be read. */
  protected abstract stopped: boolean;
  /** Our side has sent FIN. */
  protected abstract ended: boolean;
  protected abstract destroyed: boolean;
  /** Requests read on this connection so far. */
  protected abstract served: number;
  /** The request being read; bytes read but not yet parsed (reading paused). */
  protected abstract current: Slot | null;
  protected abstract pending: Buffer | null;

  /** When the first byte of the request being read arrived (clock ms); -1 between requests. */
  protected requestStart = -1;
  private phase = Phase.None;
  /** Clock time (ms) at which `phase` times out; NEVER when none applies. */
  deadline = NEVER;
  /** In Phase.Send: libuvQueue() when the deadline was armed (a change is progress). */
  private sendQueued = 0;
  /** As last reported to the host (ConnectionHost.evictable). */
  private evictable = false;
  /** `served` when evictable was last reported: a connection that has served a request since goes to the back again. */
  private evictableServed = 0;

  /** Tells the server whether the connection may be closed for a newcomer (ConnectionHost.evictable). */
  protected abstract reportEvictable(evictable: boolean): void;
  /** Reading pauses while the connection is over its budget, and resumes once it is not. */
  protected abstract checkBudget(): void;
  /** A request cannot be served: answer `status` after the responses owed before it, then close. */
  protected abstract fail(status: number, message: string): void;

  /** Idle: no request partly received and no response owed. */
  get idle(): boolean {
    return this.queue.length === 0 && this.parser.idle && this.pending === null;
  }

  /** Destroyed (its 'close' may not have come yet): nothing to evict or refuse. */
  get gone(): boolean {
    return this.destroyed;
  }

  /**
   * Response bytes the client has not taken: those still queued here and
   * those the socket holds (what closing a slow reader would free).
   */
  get unsentBytes(): number {
    let bytes = this.holding.socketBytes;
    for (const slot of this.queue) bytes += slot.responseHeld;
    return bytes;
  }

  /** Bytes of a request body still arriving (the most that refusing it would free). */
  get unfinishedBody(): number {
    return this.current?.bodyHeld ?? 0;
  }

  /** What the connection is doing, for the status page. */
  get state(): ConnectionState {
    switch (this.phase) {
      case Phase.Head:
      case Phase.Body:
        return 'reading';
      case Phase.Send:
        return 'writing';
      case Phase.Linger:
        return 'closing';
      default: // None, or Idle with a request read this very turn (its handler runs before the deadline is updated)
        return this.queue.length > 0 ? 'handling' : 'idle';
    }
  }

  /** The one place that decides what the connection waits for, and until when. */
  protected updateDeadline(now: number): void {
    if (this.destroyed) return;
    const options = this.host.options;
    const previous = this.phase;
    if (!this.parser.idle && !this.stopped) {
      if (this.requestStart < 0) this.requestStart = now;
      if (this.parser.inBody) {
        this.phase = Phase.Body;
        this.deadline = this.requestStart + options.requestTimeout;
      } else {
        this.phase = Phase.Head;
        this.deadline = this.requestStart + options.headersTimeout;
      }
    } else if (this.socket.writableLength > 0) {
      // Not idle while responses wait to be read, however long they take,
      // as long as the client keeps taking them (onWritten re-arms).
      this.phase = Phase.Send;
      if (previous !== Phase.Send) this.armSend(now);
    } else if (this.ended) {
      // The linger starts once our last byte has left, not when it was queued.
      this.phase = Phase.Linger;
      if (previous !== Phase.Linger) this.deadline = now + options.lingerTimeout;
    } else if (this.queue.length === 0 && !this.stopped) {
      this.phase = Phase.Idle;
      this.deadline = now + options.keepAliveTimeout;
    } else {
      this.phase = Phase.None;
      this.deadline = NEVER;
    }
    // Waiting for a request with nothing owed: the connection could give way to a newcomer.
    const phase = this.phase;
    const evictable = phase === Phase.Idle || (phase === Phase.Head && this.queue.length <= 1 && this.socket.writableLength === 0);
    if (evictable !== this.evictable || (evictable && this.evictableServed !== this.served)) {
      this.evictable = evictable;
      this.evictableServed = this.served;
      this.reportEvictable(evictable);
    }
  }

  /** The client took bytes, or we start waiting for it to: it has keepAliveTimeout to take more. */
  private armSend(now: number): void {
    this.sendQueued = libuvQueue(this.socket);
    this.deadline = now + this.host.options.keepAliveTimeout;
  }

  /** A response write reached the kernel (send.ts: only for one the socket held after it). */
  protected onWritten(): void {
    this.holding.setSocketBytes(this.socket.writableLength);
    this.checkBudget();
    // Only Send waits on the socket's bytes, and a head being read becomes
    // evictable once they are gone; any other phase stays as it is.
    const phase = this.phase;
    if (phase === Phase.Send) {
      if (this.socket.writableLength === 0) this.updateDeadline(this.clock.now());
      else this.armSend(this.clock.now());
    } else if (phase === Phase.Head && !this.evictable && this.socket.writableLength === 0) {
      this.updateDeadline(this.clock.now());
    }
  }

  /** Called by the server's sweep once `deadline` has passed. */
  timeout(): void {
    const phase = this.phase;
    if (phase === Phase.Send && libuvQueue(this.socket) !== this.sendQueued) {
      // Part of a large write went out since: a slow reader, not a stalled one.
      this.armSend(this.clock.now());
      return;
    }
    this.phase = Phase.None;
    this.deadline = NEVER;
    if (phase === Phase.Head) this.fail(408, 'request head not received in time');
    else if (phase === Phase.Body) this.fail(408, 'request body not received in time');
    else this.socket.destroy(); // idle, not taking what we send, or lingering
  }
}

/**
 * Bytes libuv still holds for the kernel. A write stays whole in
 * writableLength until the kernel has taken all of it; this count shrinks as
 * it takes each part. Not in @types/node: Node's own socket timeout reads it
 * the same way (net.Socket#_onTimeout) to spare a slow reader.
 */
function libuvQueue(socket: Socket): number {
  const handle = (socket as unknown as { _handle?: { writeQueueSize?: unknown } | null })._handle;
  const queued = handle?.writeQueueSize;
  return typeof queued === 'number' ? queued : 0;
}
