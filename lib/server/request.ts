// What a handler sees and returns. A `Request` is built from the parsed
// head as soon as it arrives (so `match` can refuse before any body byte is
// read); its `body` is filled in once the message is complete.

import { Buffer } from 'node:buffer';
import type { MessageHead } from '../http/parser.js';
import { getHeader } from '../http/headers.js';
import type { ResponseHeaders } from '../http/response.js';

export class Request {
  readonly method: string;
  /** The request-target exactly as sent. */
  readonly target: string;
  /** The target's path (origin-form or absolute-form), without the query. */
  readonly path: string;
  /** What follows `?` in the target, without it; '' when none. */
  readonly query: string;
  readonly versionMinor: number;
  /** Flat list: [name0, value0, name1, value1, ...], names lower-cased. */
  readonly headers: readonly string[];
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
  /** The whole body, once the request is complete (empty before; empty again once the response is ready, for a handler that lends its body: Handler.lendsBody). */
  body: Buffer = EMPTY;
  /**
   * Set by the handler for the access log and the status page: the RPC
   * layer says which method was called and the fault it answered with, so
   * the server can count them without knowing XML-RPC.
   */
  rpcMethod: string | null = null;
  faultCode: number | null = null;
  /** The first failure reported for this request (Server's onError), for the access log's record. */
  error: unknown = undefined;
  #aborted = false;
  #controller: AbortController | null = null;

  constructor(head: MessageHead, remoteAddress: string | undefined, remotePort: number | undefined) {
    this.method = head.method;
    this.target = head.target;
    this.versionMinor = head.versionMinor;
    this.headers = head.headers;
    this.remoteAddress = remoteAddress;
    this.remotePort = remotePort;
    const target = head.target;
    if (target === lastTarget) {
      // A client sends the same target again and again (the head memo hands out the same string): its parts are known.
      this.path = lastPath;
      this.query = lastQuery;
      return;
    }
    // The common target, `/path` alone, is its own path: no split, no array.
    if (target.charCodeAt(0) === 47 /* / */ && target.indexOf('?') < 0 && target.indexOf('#') < 0) {
      this.path = target;
      this.query = '';
    } else {
      const [path, query] = splitTarget(target);
      this.path = path;
      this.query = query;
    }
    lastTarget = target;
    lastPath = this.path;
    lastQuery = this.query;
  }

  /** True once the client has gone (or will read nothing more) before its response was written. */
  get aborted(): boolean {
    return this.#aborted;
  }

  /**
   * Aborts when the client goes away before its response is written (as
   * Twisted's notifyFinish errback, or Node's 'close' on a request), so a
   * handler can stop work no one will read: pass it on to what the handler
   * waits for (an offloaded call, a fetch). Made on first read only.
   */
  get signal(): AbortSignal {
    this.#controller ??= new AbortController();
    if (this.#aborted && !this.#controller.signal.aborted) this.#controller.abort(clientGone());
    return this.#controller.signal;
  }

  /** The server's: the client has gone; `aborted` is set and `signal` aborts. */
  abort(): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#controller?.abort(clientGone());
  }

  /** The first value of a header field (name case-insensitive). */
  header(name: string): string | undefined {
    return getHeader(this.headers, name.toLowerCase());
  }
}

const EMPTY = Buffer.alloc(0);
/** The last target split, and its parts: a path and a query depend on the target alone. */
let lastTarget = '';
let lastPath = '';
let lastQuery = '';

function clientGone(): Error {
  return new Error('the client has gone before its response was written');
}

function splitTarget(target: string): [string, string] {
  // A fragment is the client's own business (RFC 9110 §4.2.5); some send it anyway.
  const hash = target.indexOf('#');
  if (hash >= 0) target = target.slice(0, hash);
  let start = 0;
  // absolute-form (RFC 9112 §3.2.2): skip "scheme://authority".
  if (target.charCodeAt(0) !== 47 /* / */) {
    const scheme = target.indexOf('://');
    if (scheme > 0) {
      const slash = target.indexOf('/', scheme + 3);
      if (slash < 0) {
        const q = target.indexOf('?', scheme + 3);
        return ['/', q < 0 ? '' : target.slice(q + 1)];
      }
      start = slash;
    }
  }
  const q = target.indexOf('?', start);
  if (q < 0) return [start === 0 ? target : target.slice(start), ''];
  return [target.slice(start, q), target.slice(q + 1)];
}

export interface Response {
  status: number;
  headers?: ResponseHeaders;
  body?: string | Buffer;
  /** Close the connection after this response. */
  close?: boolean;
  /**
   * Called with the body (a Buffer) once the server has handed all of it to
   * the kernel and holds it no more, so that its maker may reuse its memory;
   * not called when the socket kept some of it (the buffer is then simply
   * dropped). Whoever passes on a Response with `reuse` must not use its
   * body after (a handler that caches responses drops `reuse`).
   */
  reuse?: (body: Buffer) => void;
  /** A failure to log, though the response is still sent (an unencodable result, say). */
  error?: unknown;
  /**
   * True: a string body goes out as latin1, as Node writes that encoding:
   * one byte per character (a character above U+00FF keeps only its low
   * byte), so its length is its Content-Length, with no scan and no Buffer
   * made for it. The XML-RPC handler sets it on documents its encoder knows
   * to be ASCII, whose latin1 and UTF-8 bytes are the same. False or absent:
   * a string body goes out as UTF-8. Ignored for a Buffer body.
   */
  latin1?: boolean;
}

/**
 * Medusa's handler contract: the server asks each handler in turn whether it
 * `match`es the request (head only: the body has not been read yet); the
 * first that does handles it. None matching gives 404.
 */
export interface Handler {
  match(request: Request): boolean;
  handle(request: Request): Response | Promise<Response>;
  /**
   * True: the handler reads `request.body` only until its response is
   * ready, and keeps no reference to it (nor to a part of it) past that.
   * The server may then join a large body into a buffer it reuses for a
   * later request, and sets `request.body` to an empty Buffer once the
   * response is ready. Default false: the body is the handler's to keep.
   */
  readonly lendsBody?: boolean;
  /**
   * Asked by Server#listen before it binds `host` (and by addHandler on a
   * listening server): throwing refuses the address. An ObjectServer refuses
   * a non-loopback one unless told otherwise.
   */
  checkListen?(address: { host: string; port: number }): void;
}

/** A Request for a head that failed after its request line (for its access record): method and target only. */
export function partialRequest(
  line: { method: string; target: string; versionMinor: number },
  remoteAddress: string | undefined,
  remotePort: number | undefined,
): Request {
  const head = { method: line.method, target: line.target, versionMinor: line.versionMinor, headers: [] } as unknown as MessageHead;
  return new Request(head, remoteAddress, remotePort);
}
