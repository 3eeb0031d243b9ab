// The XML-RPC client transport: one call is one HTTP/1.1 POST over a pooled
// keep-alive connection, read with the response parser of lib/http. As in
// Python's xmlrpc.client.Transport, `request` is a chain of small steps a
// subclass can override one at a time:
//
//   request(host, path, body, options)
//     prepareBody(body)                 bytes, gzip-encoded over the threshold
//     encodeRequest(req)                the request's bytes, from
//       sendRequest(writer, req)        the request line, then
//       requestHeaders(req)             the header list (add one here), and
//       sendHeaders(writer, headers)
//       sendContent(writer, body)       all kept, then written in ONE socket write
//     getConnection(req, call)          a pooled connection, or
//       connect(req)                    a new socket (net / tls; a proxy hop goes here)
//     parseResponse(response, req)      status, gunzip, XML-RPC decode
//
// `openPipeline(host)` runs the same chain over a connection of its own that
// pipelines requests (pipeline.ts): only the carrier differs (request()'s is
// pooled-carrier.ts). Both carry their exchanges on a ClientConnection
// (connection.ts). A Pipeline reaches the chain through a PipelineHost the
// transport builds privately: the chain's entry and the connection opener
// are not public members. What the steps do by default lives beside them:
// the head in request-head.ts, the socket in dial.ts, what a response's body
// means in response-result.ts.
//
// A request is never re-sent: a failure after it may have reached the server
// is reported with `requestSent`, and the caller decides (RFC 9112 §9.3.1).

import { Buffer } from 'node:buffer';
import type * as net from 'node:net';
import { ProtocolError } from '../errors.js';
import { gzip } from '../http/content-coding.js';
import { systemClock, type Clock } from '../clock.js';
import { definedOnly, integerIn, nonNegative, positiveInteger, timeoutMs } from '../options.js';
import type { XmlRpcValue } from '../xmlrpc/values.js';
import { Call, LazyRequest } from './call.js';
import { ClientConnection } from './connection.js';
import { dial, type TlsClientOptions } from './dial.js';
import { checkPath, parseHost, type Endpoint } from './endpoint.js';
import { Pipeline, type PipelineConnectionOptions, type PipelineHost, type PipelineOptions } from './pipeline.js';
import { Pool, type PoolStats } from './pool.js';
import { PooledCarrier } from './pooled-carrier.js';
import { MAX_KEPT_HEADS, KeptHeads, NO_HEADERS, assembleRequest, checkField, checkHeaders, isEmpty, mergeHeaders } from './request-head.js';
import { contentOf, decodeResult, isPlainOk } from './response-result.js';
import {
  RequestBuffer,
  type AbortWatch,
  type Carrier,
  type CallHandle,
  type Deadline,
  type HeaderList,
  type IncomingResponse,
  type OutgoingRequest,
  type RequestOptions,
  type RequestWriter,
} from './request.js';

export type { HeaderList, IncomingResponse, OutgoingRequest, RequestOptions, RequestWriter } from './request.js';
export type { Endpoint } from './endpoint.js';
export type { PoolStats } from './pool.js';
export type { TlsClientOptions } from './dial.js';

/** This package's version, sent in the default User-Agent. */
export const VERSION = '0.1.0';

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
  /** Where the connect, idle and call timers are armed (tests pass a manual clock). Default `systemClock`. */
  clock?: Clock;
}

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

/** A request body as it goes on the wire (Transport.prepareBody). */
export interface PreparedBody {
  bytes: Buffer;
  contentEncoding: 'gzip' | null;
}

/** Python's gzip encode threshold (a common MTU). */
const DEFAULT_GZIP_THRESHOLD = 1400;
/** ProtocolError keeps this much of an error page. */
const ERROR_BODY_BYTES = 1024;

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
  readonly clock: Clock;
  // Private for real (#): the TLS options hold a key, and neither should reach a log through JSON.
  readonly #tls: Readonly<TlsClientOptions>;
  readonly #pool: Pool;
  /** What this transport's pipelines use of it (see PipelineHost). */
  readonly #pipelineHost: PipelineHost;
  /** No request-building step is overridden: encodeRequest may take its short way. */
  readonly #plainSteps: boolean;
  /** Neither parseResponse nor decodeContent is overridden: #send may decode a plain 200 itself. */
  readonly #plainParse: boolean;
  /** No step that is given a call's `req` is overridden: nothing outside this module spreads it or reads its signal. */
  readonly #plainRequest: boolean;
  /** The carrier of request(): one exchange at a time on a connection of #pool. */
  readonly #pooled: PooledCarrier;
  readonly #decodeOptions: { readonly maxDepth: number; readonly wrapDoubles: boolean };
  /** The start of a request's head, up to Content-Length, by endpoint and path (see #encodePlain). */
  readonly #heads = new KeptHeads();
  /** Endpoints parsed from request()'s host strings (see #endpoint). */
  readonly #endpoints = new Map<string, Endpoint>();

  constructor(options: TransportOptions = {}) {
    const o = { ...DEFAULT_TRANSPORT_OPTIONS, ...definedOnly(options) };
    this.secure = o.secure === true;
    this.keepAlive = o.keepAlive !== false;
    this.userAgent = o.userAgent ?? `medusa-xmlrpc/${VERSION}`;
    this.connectTimeout = timeoutMs('connectTimeout', o.connectTimeout);
    this.timeout = timeoutMs('timeout', o.timeout);
    this.maxResponseBytes = nonNegative('maxResponseBytes', o.maxResponseBytes);
    this.wrapDoubles = o.wrapDoubles === true;
    this.maxDepth = integerIn('maxDepth', o.maxDepth, 0, 1000);
    const maxSockets = positiveInteger('maxSocketsPerHost', o.maxSocketsPerHost);
    const gz = o.gzipRequests;
    this.gzipThreshold = gz === false ? null : gz === true ? DEFAULT_GZIP_THRESHOLD : nonNegative('gzipRequests', gz);
    this.#tls = Object.freeze({ ...(o.tls ?? {}) });
    checkHeaders({ 'User-Agent': this.userAgent });
    this.headers = Object.freeze(checkHeaders(o.headers ?? {}));
    this.clock = o.clock ?? systemClock;
    this.#pool = new Pool(maxSockets, timeoutMs('idleTimeout', o.idleTimeout), this.clock);
    const proto = Transport.prototype;
    this.#plainSteps =
      this.sendRequest === proto.sendRequest &&
      this.requestHeaders === proto.requestHeaders &&
      this.sendHeaders === proto.sendHeaders &&
      this.sendContent === proto.sendContent;
    this.#plainParse = this.parseResponse === proto.parseResponse && this.decodeContent === proto.decodeContent;
    const plainConnection = this.getConnection === proto.getConnection;
    this.#plainRequest =
      this.#plainSteps && this.#plainParse && plainConnection && this.connect === proto.connect && this.encodeRequest === proto.encodeRequest;
    this.#decodeOptions = Object.freeze({ maxDepth: this.maxDepth, wrapDoubles: this.wrapDoubles });
    this.#pipelineHost = {
      keepAlive: this.keepAlive,
      idleTimeout: this.#pool.idleTimeout,
      clock: this.clock,
      send: (endpoint, path, body, options, carrier) => this.#send(endpoint, path, body, options, carrier),
      openConnection: (req, options, deadline) => this.#openConnection(req, options, deadline),
    };
    this.#pooled = new PooledCarrier(this.#pool, {
      keepAlive: this.keepAlive,
      plainConnection,
      getConnection: (req, call) => this.getConnection(req, call),
      openConnection: (req, call) => this.#openConnection(req, {}, call?.deadline ?? null, call ?? req.signal),
    });
  }

  /** How long an unused connection is kept, in ms. */
  get idleTimeout(): number {
    return this.#pool.idleTimeout;
  }

  /**
   * Sends one XML-RPC request and resolves to the decoded result value
   * (Python returns a 1-tuple; this returns the value). `host` is
   * `[user:pass@]host[:port]`, `path` the request-target ('/RPC2'), `body` an
   * XML-RPC methodCall (from `dumps`). Rejects with the server's `Fault`,
   * `ProtocolError` (not 200), `ResponseError` (not XML-RPC) or
   * `TransportError` (connect, lost, timeout, aborted).
   */
  request(host: string, path: string, body: string | Uint8Array, options: RequestOptions = {}): Promise<XmlRpcValue> {
    let endpoint: Endpoint;
    try {
      endpoint = this.#endpoint(host);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    // #send's promise itself: an async wrapper would cost a promise and three turns a call.
    return this.#send(endpoint, path, body, options, this.#pooled);
  }

  /** parseHost, kept: a ServerProxy calls with the same host string every time. */
  #endpoint(host: string): Endpoint {
    let endpoint = typeof host === 'string' ? this.#endpoints.get(host) : undefined;
    if (endpoint === undefined) {
      endpoint = parseHost(host, this.secure);
      if (this.#endpoints.size >= MAX_KEPT_HEADS) this.#endpoints.clear();
      this.#endpoints.set(host, endpoint);
    }
    return endpoint;
  }

  /**
   * A connection of its own to `host` that pipelines: calls made through it
   * are written one after another on one keep-alive socket, without waiting
   * for the responses, which are read back in order (RFC 9112 §9.3.2). The
   * same steps build, send and read each call; only the connection differs,
   * and a call's timeout, which does not count the time the pipeline holds
   * it back behind other calls (see pipeline.ts). See connection.ts for what
   * each call reports when the connection breaks.
   */
  openPipeline(host: string, options: PipelineOptions = {}): Pipeline {
    return new Pipeline(parseHost(host, this.secure), this.#pipelineHost, options);
  }

  /**
   * One call to `endpoint`, its exchange carried by `carrier` (the pool, or
   * a Pipeline): checks, its deadline and cancellation (`Call`), the body,
   * the request's bytes, the exchange, then the response. Decoding is not
   * timed. `request` and `Pipeline.request` (through its host) both come here.
   */
  async #send(endpoint: Endpoint, path: string, body: string | Uint8Array, options: RequestOptions, carrier: Carrier): Promise<XmlRpcValue> {
    checkPath(path);
    const headers = options.headers === undefined ? NO_HEADERS : checkHeaders(options.headers);
    const timeout = options.timeout === undefined ? this.timeout : timeoutMs('timeout', options.timeout);
    const url = endpoint.origin + path;
    const call = new Call(url, timeout, options.signal, this.clock);
    try {
      if (call.aborted) throw call.reason;
      // Without gzip, nothing is awaited before the carrier: a Pipeline connects in the caller's turn,
      // not once every other call of a batch has been prepared.
      let prepared = this.prepareBody(body);
      if (prepared instanceof Promise) {
        prepared = await prepared;
        call.checkDeadline(); // a gzip that took longer than the timeout
        if (call.aborted) throw call.reason;
      }
      const { bytes, contentEncoding } = prepared;
      // With every step that is given `req` the transport's own, `req.signal` is built only if read; a
      // subclass's step gets a plain object whose signal is there (its `{ ...req }` copies it).
      const req: OutgoingRequest = this.#plainRequest
        ? new LazyRequest(endpoint, path, url, bytes, contentEncoding, headers, call)
        : { endpoint, path, url, body: bytes, contentEncoding, headers, signal: call.signal };
      const response = await carrier.carry(req, this.encodeRequest(req), call);
      call.dispose(); // the response is in: decoding is not timed
      // parseResponse's own work, without its two promises, when neither step is overridden.
      if (this.#plainParse && isPlainOk(response)) return decodeResult(response.body, req.url, this.#decodeOptions);
      return await this.parseResponse(response, req);
    } finally {
      call.dispose();
    }
  }

  /**
   * A new connection to `req.endpoint` through the connect step, under the
   * connect timeout and `deadline` (the waiting call's, if any). Rejects
   * with what the connect failed with; `connectError` says it as a call does.
   */
  async #openConnection(
    req: OutgoingRequest,
    options: PipelineConnectionOptions,
    deadline: Deadline | null,
    watch: AbortWatch = req.signal,
  ): Promise<ClientConnection> {
    const conn = new ClientConnection(req.endpoint.key, {
      depth: options.depth ?? 1,
      waitForKeepAlive: options.waitForKeepAlive ?? false,
      maxResponseBytes: this.maxResponseBytes,
      clock: this.clock,
      onWritable: options.onWritable,
      onClose: options.onClose,
    });
    await conn.connect((signal) => this.connect({ ...req, signal }), {
      signal: watch,
      timeout: this.connectTimeout,
      url: req.url,
      deadline,
    });
    return conn;
  }

  /**
   * Destroys the idle connections now; connections in use close when their
   * call ends. Resolves once all of them have closed. The transport stays
   * usable (a later call connects again), as Python's does.
   */
  close(): Promise<void> {
    return this.#pool.closeIdle();
  }

  /** `await using transport = new Transport()` closes it at the end of the block. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Sockets open, idle and calls waiting: for one host (as given to request) or all. */
  stats(host?: string): PoolStats {
    return this.#pool.stats(host === undefined ? undefined : parseHost(host, this.secure).key);
  }

  // ---- the steps ----

  /** The body as bytes, gzip-encoded when larger than the threshold (then a promise). */
  protected prepareBody(body: string | Uint8Array): PreparedBody | Promise<PreparedBody> {
    let bytes: Buffer;
    if (typeof body === 'string') bytes = Buffer.from(body, 'utf8');
    else if (body instanceof Uint8Array) bytes = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    else throw new TypeError('body must be a string or a Buffer');
    if (this.gzipThreshold !== null && bytes.length > this.gzipThreshold) {
      return gzip(bytes).then((gz): PreparedBody => ({ bytes: gz, contentEncoding: 'gzip' }));
    }
    return { bytes, contentEncoding: null };
  }

  /**
   * A pooled connection to the endpoint, or a new one; waits when the host
   * is at its limit. `call` is the call `req` is (an override passes it on to
   * super): its deadline times the wait and the connect.
   */
  protected async getConnection(req: OutgoingRequest, call?: CallHandle): Promise<ClientConnection> {
    const pooled = await this.#pool.acquire(req.endpoint.key, call ?? req.signal, call?.deadline ?? null);
    return pooled ?? (await this.#pooled.newConnection(req, call));
  }

  /**
   * Opens a socket to `req.endpoint` and resolves once it can carry a
   * request (after the TLS handshake for HTTPS). Override for a proxy hop.
   * On `req.signal` abort (the connect timeout aborts it too): destroy the
   * socket and reject with its reason.
   */
  protected connect(req: OutgoingRequest): Promise<net.Socket> {
    return dial(req.endpoint, this.#tls, req.signal);
  }

  /** The request's bytes: what sendRequest and the steps below it write, kept for one socket write. */
  encodeRequest(req: OutgoingRequest): Buffer {
    if (this.#plainSteps && isEmpty(req.headers)) return this.#encodePlain(req);
    const writer = new RequestBuffer();
    this.sendRequest(writer, req);
    return writer.take();
  }

  /**
   * What the steps write when none is overridden and the call has no headers
   * of its own: the head up to Content-Length depends only on the path and
   * the endpoint, so it is built (and its fields checked) once, kept, and the
   * request assembled in one buffer. The same bytes as the steps'.
   */
  #encodePlain(req: OutgoingRequest): Buffer {
    const { endpoint, path } = req;
    const start = this.#heads.get(endpoint, path) ?? this.#heads.keep(endpoint, path, this.requestHeaders({ ...req, contentEncoding: null }));
    return assembleRequest(start, req.contentEncoding, req.body, this.keepAlive);
  }

  /**
   * Writes the request line, the headers and the body to `writer` (a buffer:
   * the connection writes its bytes in one go).
   */
  protected sendRequest(writer: RequestWriter, req: OutgoingRequest): void {
    writer.write(`POST ${req.path} HTTP/1.1\r\n`);
    this.sendHeaders(writer, this.requestHeaders(req));
    this.sendContent(writer, req.body);
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
  protected sendHeaders(writer: RequestWriter, headers: HeaderList): void {
    let head = '';
    for (const [name, value] of headers) {
      checkField(name, value);
      head += `${name}: ${value}\r\n`;
    }
    writer.write(head + '\r\n');
  }

  protected sendContent(writer: RequestWriter, body: Buffer): void {
    writer.write(body);
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
    return decodeResult(await this.decodeContent(response, req), req.url, this.#decodeOptions);
  }

  /** The body without its Content-Encoding (gzip, or none). */
  protected decodeContent(response: IncomingResponse, req: OutgoingRequest): Promise<Buffer> {
    return contentOf(response, req.url, this.maxResponseBytes);
  }
}
