// The shapes one call takes on its way through the client, shared by the
// transport (which builds and reads them), the connection (which carries
// them) and the pipeline: a module of their own, so none of those imports
// another for a type.

import { Buffer } from 'node:buffer';
import type { Endpoint } from './endpoint.js';

/** Options of one call. */
export interface RequestOptions {
  /** Cancels the call: it rejects with TransportError ABORTED and its socket is closed. */
  signal?: AbortSignal;
  /** Overrides the transport's `timeout` for this call (ms; 0: none). */
  timeout?: number;
  /** Headers for this call only, over the transport's. */
  headers?: Record<string, string>;
}

/** One call as the steps see it. */
export interface OutgoingRequest {
  readonly endpoint: Endpoint;
  /** The request-target ('/RPC2'). */
  readonly path: string;
  /** origin + path, without credentials: what error messages name. */
  readonly url: string;
  /** The body as it goes on the wire. */
  readonly body: Buffer;
  /** 'gzip' when `body` is compressed, else null. */
  readonly contentEncoding: 'gzip' | null;
  /** This call's own headers (RequestOptions.headers). */
  readonly headers: Readonly<Record<string, string>>;
  /** Aborts on timeout, cancellation or connect timeout; its reason is the error to report. */
  readonly signal: AbortSignal;
}

/** A complete HTTP response, as read off the wire (the body still content-encoded). */
export interface IncomingResponse {
  readonly status: number;
  readonly reason: string;
  readonly versionMinor: number;
  /** Flat [name0, value0, ...], names lower-cased. */
  readonly headers: readonly string[];
  readonly body: Buffer;
}

/** Header fields in order: [name, value]. */
export type HeaderList = [name: string, value: string][];

/** Where the request-building steps write (Transport.sendRequest). */
export interface RequestWriter {
  write(chunk: string | Buffer): void;
}

/** Whether the request went out whole: read when a call gives up, for `requestSent`. */
export interface SendProgress {
  readonly requestWritten: boolean;
}

/** Settles one exchange, once: its response, or its failure. */
export type Settle = (err: Error | null, response: IncomingResponse | null) => void;

/** A call's deadline, kept by a connection's timer: `expire()` once the clock reaches `at`. */
export interface Deadline {
  readonly at: number;
  expire(): void;
}

/**
 * What the client's own code watches for a call's cancellation: an
 * AbortSignal fits, and so does the call itself (Call), which builds its
 * AbortSignal only when a step reads `req.signal` (creating one, and adding
 * and removing listeners on it, cost about 3 µs a call).
 */
export interface AbortWatch {
  readonly aborted: boolean;
  readonly reason: unknown;
  addEventListener(type: 'abort', listener: () => void): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/** A call as the step that carries its exchange sees it: its cancellation is `req.signal`'s, watched without building that signal. */
export interface CallHandle extends AbortWatch {
  /** Its deadline, or null without a timeout: kept by the timer of the queue it waits in, then of its connection. */
  readonly deadline: Deadline | null;
  /** Where `requestSent` is read from once the request is on a connection. */
  progress: SendProgress | null;
  /**
   * Moves the deadline `ms` later: the time the carrier held the call back
   * behind other calls, which its timeout does not count. Only while no
   * timer keeps the deadline (its `at` is what a timer is armed for).
   */
  postpone(ms: number): void;
}

/** Where a call's exchange goes: the pool (Transport.request) or a Pipeline. */
export interface Carrier {
  /** Sends `bytes` (the request `req`, encoded) and resolves to the response. */
  carry(req: OutgoingRequest, bytes: Buffer, call: CallHandle): Promise<IncomingResponse>;
}

/** What the request-building steps write, kept: the bytes of one request, written in one socket write. */
export class RequestBuffer implements RequestWriter {
  private parts: Buffer[] = [];
  private bytes = 0;

  write(chunk: string | Buffer): void {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk;
    if (buf.length === 0) return;
    this.parts.push(buf);
    this.bytes += buf.length;
  }

  take(): Buffer {
    const out = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.bytes);
    this.parts = [];
    this.bytes = 0;
    return out;
  }
}
