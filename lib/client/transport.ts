// The XML-RPC client transport: one call is one HTTP/1.1 POST over a pooled
// keep-alive connection, read with the response parser of lib/http. As in
// Python's xmlrpc.client.Transport, `request` is a chain of small steps a
// subclass can override one at a time:
//
//   request(host, handler, body, options)
//     prepareBody(body)                 bytes, gzip-encoded over the threshold
//     getConnection(req)                a pooled connection, or
//       connect(req)                    a new socket (net / tls; a proxy hop goes here)
//     sendRequest(conn, req)            request line, then
//       requestHeaders(req)             the header list (add one here), and
//       sendHeaders(conn, headers)
//       sendContent(conn, body)         all queued, then written in ONE socket write
//     parseResponse(response, req)      status, gunzip, XML-RPC decode
//
// `openPipeline(host)` runs the same chain over a connection of its own that
// pipelines requests (pipeline.ts): only the connection step differs.
//
// A request is never re-sent: a failure after it may have reached the server
// is reported with `requestSent`, and the caller decides (RFC 9112 §9.3.1).

import * as net from 'node:net';
import * as tls from 'node:tls';
import {
  DecodeError,
  ProtocolError,
  ResponseError,
  TransportError,
  TransportErrorCode,
  XmlRpcError,
} from '../errors.js';
import { bodyCoding, gunzipCapped, gzip } from '../http/content-coding.js';
import type { GzipBodyError } from '../errors.js';
import { getTokens, isFieldValue, isToken } from '../http/headers.js';
import { definedOnly, nonNegative, timeoutMs } from '../options.js';
import { parseMethodResponse } from '../xmlrpc/decode.js';
import type { XmlRpcValue } from '../xmlrpc/values.js';
import { ClientConnection, type IncomingResponse, type RequestWriter } from './connection.js';
import { checkHandler, parseHost, type Endpoint } from './endpoint.js';
import { Pipeline, type PipelineOptions } from './pipeline.js';
import { Pool, type PoolStats } from './pool.js';

export type { IncomingResponse, RequestWriter } from './connection.js';
export type { Endpoint } from './endpoint.js';
export type { PoolStats } from './pool.js';

/** This package's version, sent in the default User-Agent. */
export const VERSION = '0.1.0';

/** The `node:tls` options a client may set (certificates are verified unless `rejectUnauthorized: false`). */
export type TlsClientOptions = Pick<
  tls.ConnectionOptions,
  'ca' | 'cert' | 'key' | 'passphrase' | 'pfx' | 'rejectUnauthorized' | 'servername' | 'checkServerIdentity' | 'minVersion' | 'maxVersion' | 'ciphers'
>;

export interface TransportOptions {
  /** HTTPS through `node:tls` (Python's SafeTransport). Default false. */
  secure?: boolean;
  /** TLS options: `ca`, client `cert`/`key`, `rejectUnauthorized` (default true), `servername`... */
  tls?: TlsClientOptions;
  /** Headers added to every request (replacing a default of the same name). */
  headers?: Record<string, string>;
  /** Default `medusa-xmlrpc/<version>`. */
  userAgent?: string;
  /** Reuse connections between calls. Default true; false sends `Connection: close`. */
  keepAlive?: boolean;
  /** Sockets per host at most; more calls wait, first come first served. Default 8. */
  maxSocketsPerHost?: number;
  /** How long an unused connection is kept, in ms. Default 4000 (below common servers' keep-alive). */
  idleTimeout?: number;
  /** Connecting (TCP, and the TLS handshake) may take this long, in ms; 0: no limit. Default 10000. */
  connectTimeout?: number;
  /** Per call, from request() to the response, in ms; 0: no limit. Default 0. */
  timeout?: number;
  /** Gzip request bodies larger than this many bytes (true: 1400, Python's threshold). Default false. */
  gzipRequests?: boolean | number;
  /** Largest response body, as received and after gunzip (Python's cap). Default 20 MiB. */
  maxResponseBytes?: number;
  /** Decode `<double>` as `Double` (see DecodeOptions). Default false. */
  wrapDoubles?: boolean;
  /** Levels of array/struct nesting accepted in a response. Default 64. */
  maxDepth?: number;
}

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
  readonly handler: string;
  /** origin + handler, without credentials: what error messages name. */
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

/** Header fields in order: [name, value]. */
export type HeaderList = [name: string, value: string][];

/** Whether the request went out whole: read when a call gives up, for `requestSent`. */
export interface SendProgress {
  readonly requestWritten: boolean;
}

/** The connection step of a call: send `req`, resolve to the response. `track` says where to read progress. */
export type Exchange = (req: OutgoingRequest, track: (progress: SendProgress) => void) => Promise<IncomingResponse>;

export const DEFAULT_TRANSPORT_OPTIONS = Object.freeze({
  secure: false,
  keepAlive: true,
  maxSocketsPerHost: 8,
  idleTimeout: 4000,
  connectTimeout: 10_000,
  timeout: 0,
  gzipRequests: false as boolean | number,
  maxResponseBytes: 20 * 1024 * 1024,
  wrapDoubles: false,
  maxDepth: 64,
});

/** Python's gzip encode threshold (a common MTU). */
const DEFAULT_GZIP_THRESHOLD = 1400;
/** ProtocolError keeps this much of an error page. */
const ERROR_BODY_BYTES = 1024;

/** Set by the transport; a user header of one of these names would break the framing. */
const RESERVED_HEADERS = new Set([
  'content-length',
  'transfer-encoding',
  'content-encoding',
  'connection',
  'keep-alive',
  'upgrade',
  'te',
  'trailer',
  'expect',
]);


export class Transport {
  readonly secure: boolean;
  readonly keepAlive: boolean;
  readonly userAgent: string;
  readonly connectTimeout: number;
  readonly timeout: number;
  readonly maxResponseBytes: number;
  readonly wrapDoubles: boolean;
  readonly maxDepth: number;
  /** Bodies over this many bytes are gzipped; null: never. */
  readonly gzipThreshold: number | null;
  readonly headers: Readonly<Record<string, string>>;
  // Private for real (#): the TLS options hold a key, and neither should reach a log through JSON.
  readonly #tls: Readonly<TlsClientOptions>;
  readonly #pool: Pool;

  constructor(options: TransportOptions = {}) {
    const o = { ...DEFAULT_TRANSPORT_OPTIONS, ...definedOnly(options) };
    this.secure = o.secure === true;
    this.keepAlive = o.keepAlive !== false;
    this.userAgent = o.userAgent ?? `medusa-xmlrpc/${VERSION}`;
    this.connectTimeout = timeoutMs('connectTimeout', o.connectTimeout);
    this.timeout = timeoutMs('timeout', o.timeout);
    this.maxResponseBytes = nonNegative('maxResponseBytes', o.maxResponseBytes);
    this.wrapDoubles = o.wrapDoubles === true;
    this.maxDepth = nonNegative('maxDepth', o.maxDepth);
    if (!Number.isInteger(this.maxDepth) || this.maxDepth > 1000) throw new RangeError('maxDepth must be an integer in [0, 1000]');
    const maxSockets = nonNegative('maxSocketsPerHost', o.maxSocketsPerHost);
    if (maxSockets < 1) throw new RangeError('maxSocketsPerHost must be at least 1');
    const gz = o.gzipRequests;
    this.gzipThreshold = gz === false ? null : gz === true ? DEFAULT_GZIP_THRESHOLD : nonNegative('gzipRequests', gz);
    this.#tls = Object.freeze({ ...(o.tls ?? {}) });
    checkHeaders({ 'User-Agent': this.userAgent });
    this.headers = Object.freeze(checkHeaders(o.headers ?? {}));
    this.#pool = new Pool(maxSockets, timeoutMs('idleTimeout', o.idleTimeout));
  }

  /**
   * Sends one XML-RPC request and resolves to the decoded result value
   * (Python returns a 1-tuple; this returns the value). `host` is
   * `[user:pass@]host[:port]`, `handler` the path ('/RPC2'), `body` an
   * XML-RPC methodCall (from `dumps`). Rejects with the server's `Fault`,
   * `ProtocolError` (not 200), `ResponseError` (not XML-RPC) or
   * `TransportError` (connect, lost, timeout, aborted).
   */
  async request(host: string, handler: string, body: string | Uint8Array, options: RequestOptions = {}): Promise<XmlRpcValue> {
    return this.#call(parseHost(host, this.secure), handler, body, options, (req, call) => this.#exchange(req, call));
  }

  /**
   * A connection of its own to `host` that pipelines: calls made through it
   * are written one after another on one keep-alive socket, without waiting
   * for the responses, which are read back in order (RFC 9112 §9.3.2). The
   * same steps build, send and read each call; only the connection differs.
   * See pipeline.ts for what happens when the connection breaks.
   */
  openPipeline(host: string, options: PipelineOptions = {}): Pipeline {
    const endpoint = parseHost(host, this.secure);
    return new Pipeline(
      endpoint,
      {
        call: (handler, body, callOptions, exchange) => this.#call(endpoint, handler, body, callOptions, exchange),
        connect: (req) => this.connect(req),
        connectError,
        encode: (req) => {
          const writer = new RequestBuffer();
          this.sendRequest(writer, req);
          return writer.take();
        },
        maxResponseBytes: this.maxResponseBytes,
        keepAlive: this.keepAlive,
        idleTimeout: this.#pool.idleTimeout,
      },
      options,
    );
  }

  /**
   * One call: checks, its deadline and cancellation (`Call`), the body, then
   * `exchange` (the connection step: pooled, or a pipeline's), then the
   * response. Decoding is not timed.
   */
  async #call(endpoint: Endpoint, handler: string, body: string | Uint8Array, options: RequestOptions, exchange: Exchange): Promise<XmlRpcValue> {
    checkHandler(handler);
    const headers = checkHeaders(options.headers ?? {});
    const timeout = options.timeout === undefined ? this.timeout : timeoutMs('timeout', options.timeout);
    const url = endpoint.origin + handler;
    const call = new Call(url, timeout, options.signal);
    try {
      if (call.signal.aborted) throw call.signal.reason;
      const { bytes, contentEncoding } = await this.prepareBody(body);
      if (call.signal.aborted) throw call.signal.reason;
      const req: OutgoingRequest = { endpoint, handler, url, body: bytes, contentEncoding, headers, signal: call.signal };
      const response = await exchange(req, (progress) => {
        call.progress = progress;
      });
      call.dispose(); // the response is in: decoding is not timed
      return await this.parseResponse(response, req);
    } finally {
      call.dispose();
    }
  }

  /** The pooled connection step: one exchange at a time on a keep-alive connection. */
  async #exchange(req: OutgoingRequest, track: (progress: SendProgress) => void): Promise<IncomingResponse> {
    const conn = await this.getConnection(req);
    let response: IncomingResponse;
    try {
      this.sendRequest(conn, req);
      const pending = conn.send(req.url, req.signal);
      track(conn);
      response = await pending;
    } catch (err) {
      this.#pool.release(conn, false);
      throw err;
    }
    this.#pool.release(conn, this.keepAlive);
    return response;
  }

  /**
   * Destroys the idle connections now; connections in use close when their
   * call ends. Resolves once all of them have closed. The transport stays
   * usable (a later call connects again), as Python's does.
   */
  close(): Promise<void> {
    return this.#pool.closeIdle();
  }

  /** Sockets open, idle and calls waiting: for one host (as given to request) or all. */
  stats(host?: string): PoolStats {
    return this.#pool.stats(host === undefined ? undefined : parseHost(host, this.secure).key);
  }

  // ---- the steps ----

  /** The body as bytes, gzip-encoded when larger than the threshold. */
  protected async prepareBody(body: string | Uint8Array): Promise<{ bytes: Buffer; contentEncoding: 'gzip' | null }> {
    let bytes: Buffer;
    if (typeof body === 'string') bytes = Buffer.from(body, 'utf8');
    else if (body instanceof Uint8Array) bytes = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    else throw new TypeError('body must be a string or a Buffer');
    if (this.gzipThreshold !== null && bytes.length > this.gzipThreshold) {
      return { bytes: await gzip(bytes), contentEncoding: 'gzip' };
    }
    return { bytes, contentEncoding: null };
  }

  /** A pooled connection to the endpoint, or a new one; waits when the host is at its limit. */
  protected async getConnection(req: OutgoingRequest): Promise<ClientConnection> {
    const pooled = await this.#pool.acquire(req.endpoint.key, req.signal);
    if (pooled !== null) return pooled;
    let socket: net.Socket;
    try {
      socket = await this.connect(req);
    } catch (err) {
      this.#pool.unreserve(req.endpoint.key);
      throw connectError(req, err);
    }
    const conn = new ClientConnection(socket, req.endpoint.key, this.maxResponseBytes);
    this.#pool.adopt(conn);
    return conn;
  }

  /**
   * Opens a socket to `req.endpoint` and resolves once it can carry a
   * request (after the TLS handshake for HTTPS). Override for a proxy hop.
   * On `req.signal` abort: destroy the socket and reject with its reason.
   */
  protected connect(req: OutgoingRequest): Promise<net.Socket> {
    const { endpoint, signal } = req;
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      let socket: net.Socket;
      let ready: string;
      if (endpoint.secure) {
        const servername = this.#tls.servername ?? (net.isIP(endpoint.hostname) === 0 ? endpoint.hostname : undefined);
        socket = tls.connect({ ...this.#tls, host: endpoint.hostname, port: endpoint.port, servername, ALPNProtocols: ['http/1.1'] });
        ready = 'secureConnect';
      } else {
        socket = net.connect({ host: endpoint.hostname, port: endpoint.port });
        ready = 'connect';
      }
      const cleanup = () => {
        socket.off(ready, onReady);
        socket.off('error', onError);
        socket.off('timeout', onTimeout);
        signal.removeEventListener('abort', onAbort);
        socket.setTimeout(0);
      };
      const giveUp = (err: unknown) => {
        cleanup();
        socket.on('error', noop); // nothing more to report from this socket
        socket.destroy();
        reject(err);
      };
      const onReady = () => {
        cleanup();
        socket.setNoDelay(true);
        resolve(socket);
      };
      const onError = (err: Error) => giveUp(err);
      const onTimeout = () =>
        giveUp(
          new TransportError(TransportErrorCode.CONNECT_TIMEOUT, req.url, `could not connect within ${this.connectTimeout} ms`, {
            requestSent: false,
          }),
        );
      const onAbort = () => giveUp(signal.reason);
      socket.once(ready, onReady);
      socket.once('error', onError);
      if (this.connectTimeout > 0) {
        socket.setTimeout(this.connectTimeout);
        socket.once('timeout', onTimeout);
      }
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /**
   * Queues the request line, the headers and the body; the caller writes them
   * in one go. `conn` is the ClientConnection, or on a Pipeline a buffer
   * whose bytes are queued on the pipelined connection: only `write` is there.
   */
  protected sendRequest(conn: RequestWriter, req: OutgoingRequest): void {
    conn.write(`POST ${req.handler} HTTP/1.1\r\n`);
    this.sendHeaders(conn, this.requestHeaders(req));
    this.sendContent(conn, req.body);
  }

  /**
   * Host, User-Agent, Content-Type: text/xml, Accept-Encoding: gzip,
   * Authorization (when the host has credentials), Content-Encoding (gzip
   * bodies), the transport's and the call's headers (replacing defaults of
   * the same name), Content-Length, and Connection: close without keep-alive.
   */
  protected requestHeaders(req: OutgoingRequest): HeaderList {
    const headers: HeaderList = [
      ['Host', req.endpoint.hostHeader],
      ['User-Agent', this.userAgent],
      ['Content-Type', 'text/xml'],
      ['Accept-Encoding', 'gzip'],
    ];
    if (req.endpoint.authorization !== null) headers.push(['Authorization', req.endpoint.authorization]);
    mergeHeaders(headers, this.headers);
    mergeHeaders(headers, req.headers);
    if (req.contentEncoding !== null) headers.push(['Content-Encoding', req.contentEncoding]);
    headers.push(['Content-Length', String(req.body.length)]);
    if (!this.keepAlive) headers.push(['Connection', 'close']);
    return headers;
  }

  /** Writes the header fields and the empty line that ends the head. */
  protected sendHeaders(conn: RequestWriter, headers: HeaderList): void {
    let head = '';
    for (const [name, value] of headers) {
      checkField(name, value);
      head += `${name}: ${value}\r\n`;
    }
    conn.write(head + '\r\n');
  }

  protected sendContent(conn: RequestWriter, body: Buffer): void {
    conn.write(body);
  }

  /**
   * The result of a complete response: a status other than 200 is a
   * ProtocolError, a gzip body is decoded (capped at maxResponseBytes), a
   * fault is thrown as the server's `Fault`, and a body that is not an
   * XML-RPC response is a ResponseError whose `cause` is the DecodeError.
   */
  protected async parseResponse(response: IncomingResponse, req: OutgoingRequest): Promise<XmlRpcValue> {
    if (response.status !== 200) {
      let start = response.body.subarray(0, ERROR_BODY_BYTES);
      try {
        start = (await this.decodeContent(response, req)).subarray(0, ERROR_BODY_BYTES);
      } catch {
        /* keep the raw bytes: the status is what matters */
      }
      throw new ProtocolError(req.url, response.status, response.reason, response.headers, start.toString('utf8'));
    }
    const body = await this.decodeContent(response, req);
    try {
      return parseMethodResponse(body, { maxDepth: this.maxDepth, wrapDoubles: this.wrapDoubles });
    } catch (err) {
      if (err instanceof DecodeError) {
        throw new ResponseError(req.url, `not an XML-RPC response: ${err.message}`, { cause: err });
      }
      throw err; // the server's Fault
    }
  }

  /** The body without its Content-Encoding (gzip, or none). */
  protected async decodeContent(response: IncomingResponse, req: OutgoingRequest): Promise<Buffer> {
    const coding = bodyCoding(response.headers);
    if (coding === 'identity') return response.body;
    if (coding === null) {
      const codings = getTokens(response.headers, 'content-encoding').join(', ');
      throw new ResponseError(req.url, `unsupported Content-Encoding: ${codings}`);
    }
    try {
      return await gunzipCapped(response.body, this.maxResponseBytes);
    } catch (err) {
      const message = (err as GzipBodyError).tooLarge
        ? `gzip response decodes to more than maxResponseBytes (${this.maxResponseBytes} bytes)`
        : `invalid gzip response body: ${(err as Error).message}`;
      throw new ResponseError(req.url, message, { cause: err });
    }
  }
}

/**
 * One call's deadline and cancellation: at most one timer, one listener on
 * the caller's signal, both removed by dispose() on every outcome. Either
 * aborts the call's own signal with the TransportError to report; every
 * step listens to that signal.
 */
class Call {
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | null = null;
  /** How far the request got, once it is being sent (the connection, or a pipelined exchange). */
  progress: SendProgress | null = null;

  constructor(
    private readonly url: string,
    private readonly timeout: number,
    private readonly userSignal: AbortSignal | undefined,
  ) {
    if (userSignal !== undefined) {
      if (userSignal.aborted) {
        this.onUserAbort();
        return;
      }
      userSignal.addEventListener('abort', this.onUserAbort);
    }
    if (timeout > 0) this.timer = setTimeout(this.onTimeout, timeout);
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  dispose(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    this.userSignal?.removeEventListener('abort', this.onUserAbort);
  }

  private get requestSent(): boolean {
    return this.progress?.requestWritten ?? false;
  }

  private readonly onTimeout = (): void => {
    this.timer = null;
    this.abort(
      new TransportError(TransportErrorCode.TIMEOUT, this.url, `no response within ${this.timeout} ms`, { requestSent: this.requestSent }),
    );
  };

  private readonly onUserAbort = (): void => {
    this.abort(
      new TransportError(TransportErrorCode.ABORTED, this.url, 'the call was aborted', {
        requestSent: this.requestSent,
        cause: this.userSignal?.reason,
      }),
    );
  };

  private abort(err: TransportError): void {
    this.dispose();
    if (!this.controller.signal.aborted) this.controller.abort(err);
  }
}

/** What sendRequest writes, kept: the bytes of one request for a pipelined connection. */
class RequestBuffer implements RequestWriter {
  private parts: Buffer[] = [];
  private bytes = 0;

  write(chunk: string | Buffer): void {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk;
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

/** A failed connect as the call reports it: its own abort reason, a catalogue error as is, else CONNECT. */
export function connectError(req: OutgoingRequest, err: unknown): unknown {
  if (req.signal.aborted) return req.signal.reason;
  if (err instanceof XmlRpcError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new TransportError(TransportErrorCode.CONNECT, req.url, `cannot connect to ${req.endpoint.origin}: ${message}`, {
    requestSent: false,
    cause: err,
  });
}

/** Replaces same-named fields (case-insensitive) in place, appends the others. */
function mergeHeaders(list: HeaderList, extra: Readonly<Record<string, string>>): void {
  for (const [name, value] of Object.entries(extra)) {
    const lower = name.toLowerCase();
    const i = list.findIndex(([n]) => n.toLowerCase() === lower);
    if (i === -1) list.push([name, value]);
    else list[i] = [name, value];
  }
}

function checkField(name: string, value: string): void {
  if (typeof name !== 'string' || !isToken(name)) throw new TypeError(`invalid header name ${JSON.stringify(name)}`);
  if (typeof value !== 'string' || !isFieldValue(value)) {
    throw new TypeError(`invalid value for header ${name}: ${JSON.stringify(value)}`);
  }
}

/** User headers: valid fields, none that the transport owns. Returns a copy. */
function checkHeaders(headers: Record<string, string>): Record<string, string> {
  if (headers === null || typeof headers !== 'object') throw new TypeError('headers must be an object');
  const copy: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    checkField(name, value);
    if (RESERVED_HEADERS.has(name.toLowerCase())) throw new TypeError(`header ${name} is set by the transport`);
    copy[name] = value;
  }
  return copy;
}


function noop(): void {}
