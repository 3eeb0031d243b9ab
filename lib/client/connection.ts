// One client connection: a socket, the response parser of lib/http, and at
// most one exchange (request out, response in) at a time. Per-connection
// state is this one object; the socket's listeners are bound once, when the
// connection is made, and what an event means depends on the state:
//
//   HELD   owned by a call, no exchange in flight (just connected, or the
//          response is in). Bytes arriving now are unsolicited: not reusable.
//   ACTIVE an exchange is in flight: bytes go to the parser.
//   IDLE   parked in the pool. Any event (bytes, end, error, idle timeout)
//          means the server is done with it: destroyed at once, so a
//          connection the server closed is never picked.
//   CLOSED the socket is gone.

import type * as net from 'node:net';
import { HttpParser, type MessageHead } from '../http/parser.js';
import { HttpParseError, ResponseError, TransportError, TransportErrorCode, type XmlRpcError } from '../errors.js';

/** A complete HTTP response, as read off the wire (the body still content-encoded). */
export interface IncomingResponse {
  readonly status: number;
  readonly reason: string;
  readonly versionMinor: number;
  /** Flat [name0, value0, ...], names lower-cased. */
  readonly headers: readonly string[];
  readonly body: Buffer;
}

/** Where the request-building steps write (Transport.sendRequest): a connection, or a buffer. */
export interface RequestWriter {
  write(chunk: string | Buffer): void;
}

const HELD = 0;
const ACTIVE = 1;
const IDLE = 2;
const CLOSED = 3;

const EMPTY = Buffer.alloc(0);

export class ClientConnection implements RequestWriter {
  readonly socket: net.Socket;
  /** The pool key of the endpoint this socket is connected to. */
  readonly key: string;
  /** Completed exchanges: more than 0 means the next one reuses the connection. */
  exchanges = 0;
  /** Whether the whole current request reached the socket (its write completed without error). */
  requestWritten = false;
  /** Set by the pool: the pool generation the connection belongs to. */
  generation = 0;

  private state = HELD;
  private readonly parser: HttpParser;
  private out: Buffer[] = [];
  private outBytes = 0;
  private exchangeId = 0;

  // The exchange in flight.
  private url = '';
  private head: MessageHead | null = null;
  private chunks: Buffer[] = [];
  private responseStarted = false;
  private keepAlive = false;
  /** False once something happened that makes the socket unfit for another request. */
  private clean = true;
  private signal: AbortSignal | null = null;
  private settle: ((err: Error | null, response: IncomingResponse | null) => void) | null = null;
  private readonly closeCallbacks: (() => void)[] = [];

  constructor(socket: net.Socket, key: string, maxResponseBytes: number) {
    this.socket = socket;
    this.key = key;
    this.parser = new HttpParser(
      'response',
      {
        onHead: (head) => {
          this.head = head;
        },
        onBody: (chunk) => {
          this.chunks.push(chunk);
        },
        onComplete: () => {
          this.parser.pause();
          this.complete();
        },
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

  /** Runs `callback` once the socket has closed (at once if it has). */
  onceClosed(callback: () => void): void {
    if (this.state === CLOSED) callback();
    else this.closeCallbacks.push(callback);
  }

  get closed(): boolean {
    return this.state === CLOSED;
  }

  /** Fit to carry another request: clean, open both ways, the last response allowed it. */
  get reusable(): boolean {
    return (
      this.state === HELD &&
      this.clean &&
      this.keepAlive &&
      this.requestWritten &&
      this.parser.idle &&
      !this.socket.destroyed &&
      !this.socket.readableEnded &&
      this.socket.writable
    );
  }

  /** Queues bytes of the request being built; send() writes them all at once. */
  write(chunk: string | Buffer): void {
    if (this.state === ACTIVE) throw new Error('ClientConnection.write: an exchange is already in flight');
    const buf = typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk;
    if (buf.length === 0) return;
    this.out.push(buf);
    this.outBytes += buf.length;
  }

  /**
   * Writes the queued request in one socket write and resolves to the
   * response. Rejects with TransportError CONNECTION_LOST, ResponseError (a
   * malformed or oversized response), or `signal.reason` when the signal
   * aborts; in each case the socket is destroyed.
   */
  send(url: string, signal: AbortSignal): Promise<IncomingResponse> {
    if (this.state !== HELD || !this.clean || this.socket.destroyed || !this.socket.writable) {
      // Closed (or spoken to) between being taken and being used: nothing was sent.
      this.destroy();
      return Promise.reject(
        new TransportError(TransportErrorCode.CONNECTION_LOST, url, 'the connection closed before the request was sent', { requestSent: false }),
      );
    }
    const id = ++this.exchangeId;
    this.state = ACTIVE;
    this.url = url;
    this.head = null;
    this.chunks = [];
    this.responseStarted = false;
    this.keepAlive = false;
    this.requestWritten = false;
    this.parser.resume();
    const promise = new Promise<IncomingResponse>((resolve, reject) => {
      this.settle = (err, response) => (err === null ? resolve(response!) : reject(err));
    });
    this.signal = signal;
    signal.addEventListener('abort', this.onAbort);
    if (signal.aborted) {
      this.onAbort();
      return promise;
    }
    const parts = this.out;
    const total = this.outBytes;
    this.out = [];
    this.outBytes = 0;
    const written = (err?: Error | null) => {
      if (err == null && id === this.exchangeId) this.requestWritten = true;
    };
    // One socket write per request: the head and the body leave together.
    this.socket.write(parts.length === 1 ? parts[0]! : Buffer.concat(parts, total), written);
    return promise;
  }

  /** Parks the connection in the pool: unref'd, with an idle timeout. */
  park(idleTimeout: number): void {
    this.state = IDLE;
    this.socket.unref();
    this.socket.setTimeout(idleTimeout);
  }

  /** Takes a parked connection for a call; false if it turned out unusable (it is then destroyed). */
  take(): boolean {
    if (this.state !== IDLE || this.socket.destroyed || this.socket.readableEnded || !this.socket.writable) {
      this.destroy();
      return false;
    }
    this.state = HELD;
    this.socket.setTimeout(0);
    this.socket.ref();
    return true;
  }

  destroy(): void {
    this.clean = false;
    this.socket.destroy();
  }

  // ---- socket events ----

  private onData(chunk: Buffer): void {
    if (this.state !== ACTIVE) {
      // Bytes nobody asked for: a server's 408 before it closes, or garbage.
      this.clean = false;
      if (this.state === IDLE) this.destroy();
      return;
    }
    this.responseStarted = true;
    let consumed: number;
    try {
      consumed = this.parser.execute(chunk);
    } catch (err) {
      this.fail(responseParseError(this.url, err));
      return;
    }
    if (consumed < chunk.length) this.clean = false; // bytes after the response
  }

  private onEnd(): void {
    this.clean = false;
    if (this.state === IDLE) {
      this.destroy();
      return;
    }
    if (this.state !== ACTIVE) return;
    try {
      this.parser.finish(); // completes a response read until close
    } catch (err) {
      this.fail(this.lost(err));
      return;
    }
    if (this.state === ACTIVE) this.fail(this.lost(null));
  }

  private onError(err: Error): void {
    this.clean = false;
    if (this.state === ACTIVE) this.fail(this.lost(err));
    else this.socket.destroy();
  }

  private onClose(): void {
    if (this.state === ACTIVE) this.fail(this.lost(null));
    this.state = CLOSED;
    this.clean = false;
    for (const callback of this.closeCallbacks.splice(0)) callback();
  }

  private onIdleTimeout(): void {
    if (this.state === IDLE) this.destroy();
  }

  private readonly onAbort = (): void => {
    if (this.state !== ACTIVE || this.signal === null) return;
    this.fail(this.signal.reason as Error);
  };

  // ---- outcomes ----

  private complete(): void {
    const head = this.head!;
    this.keepAlive = head.keepAlive && head.status !== 101; // we never ask to switch protocols
    const body = this.chunks.length === 0 ? EMPTY : this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    this.chunks = [];
    this.head = null;
    this.exchanges++;
    this.finish(null, {
      status: head.status,
      reason: head.reason,
      versionMinor: head.versionMinor,
      headers: head.headers,
      body,
    });
  }

  private fail(err: Error): void {
    this.clean = false;
    this.socket.destroy();
    this.finish(err, null);
  }

  private finish(err: Error | null, response: IncomingResponse | null): void {
    if (this.state === ACTIVE) this.state = HELD;
    this.signal?.removeEventListener('abort', this.onAbort);
    this.signal = null;
    const settle = this.settle;
    this.settle = null;
    settle?.(err, response);
  }

  /** CONNECTION_LOST for the exchange in flight, saying how far it got. */
  private lost(cause: unknown): TransportError {
    const requestSent = this.requestWritten;
    let message: string;
    if (this.responseStarted) {
      message = 'the connection closed before the whole response arrived';
    } else if (this.exchanges > 0) {
      message = `the server closed a reused keep-alive connection before answering (request ${requestSent ? 'fully sent: the call may have run' : 'not fully sent'}; not retried)`;
    } else {
      message = `the connection was lost before any response (request ${requestSent ? 'fully sent' : 'not fully sent'})`;
    }
    if (cause instanceof Error && !(cause instanceof HttpParseError)) message += `: ${cause.message}`;
    return new TransportError(TransportErrorCode.CONNECTION_LOST, this.url, message, { requestSent, cause: cause ?? undefined });
  }
}

export function responseParseError(url: string, err: unknown): XmlRpcError {
  if (err instanceof HttpParseError && err.code === 'HPE_BODY_TOO_LARGE') {
    return new ResponseError(url, `response too large: ${err.message}`, { cause: err });
  }
  const message = err instanceof Error ? err.message : String(err);
  return new ResponseError(url, `malformed HTTP response: ${message}`, { cause: err });
}
