// The one error catalogue. Every failure the framework reports is a class
// here with a stable `code` string, so callers can branch on `err.code`
// without parsing messages. `Fault` is the exception: it is an application
// answer carried by XML-RPC, not a failure of HTTP or of the transport.

/** Base of every protocol, transport and codec error (not of `Fault`). */
export class XmlRpcError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/**
 * The HTTP parser refused its input. `status` is the response a server owes
 * the peer (400, 411, 413, 414, 417, 431, 501, 505); after it the connection
 * is closed, because the framing of anything that follows is unknown.
 */
export class HttpParseError extends XmlRpcError {
  readonly status: number;
  constructor(code: HttpParseErrorCode, message: string) {
    super(code, message);
    this.status = HTTP_PARSE_ERROR_STATUS[code];
  }
}

/** Every `HttpParseError` code, with the status a server answers it with. */
export const HTTP_PARSE_ERROR_STATUS = {
  HPE_INVALID_METHOD: 400,
  HPE_INVALID_TARGET: 400,
  HPE_INVALID_VERSION: 400,
  HPE_INVALID_STATUS: 400,
  HPE_INVALID_HEADER_TOKEN: 400,
  HPE_INVALID_HEADER_VALUE: 400,
  HPE_HEADER_WHITESPACE: 400,
  HPE_OBS_FOLD: 400,
  HPE_BARE_CR: 400,
  HPE_BARE_LF: 400,
  HPE_INVALID_CONTENT_LENGTH: 400,
  HPE_CL_AND_TE: 400,
  HPE_INVALID_TRANSFER_ENCODING: 400,
  HPE_INVALID_CHUNK_SIZE: 400,
  HPE_INVALID_CHUNK: 400,
  HPE_MISSING_HOST: 400,
  HPE_DUPLICATE_HOST: 400,
  HPE_INVALID_HOST: 400,
  HPE_INVALID_EOF: 400,
  HPE_LENGTH_REQUIRED: 411,
  HPE_BODY_TOO_LARGE: 413,
  HPE_URI_TOO_LONG: 414,
  HPE_EXPECTATION_FAILED: 417,
  HPE_HEADERS_TOO_LARGE: 431,
  HPE_TOO_MANY_HEADERS: 431,
  HPE_UNKNOWN_TRANSFER_ENCODING: 501,
  HPE_VERSION_NOT_SUPPORTED: 505,
} as const;

export type HttpParseErrorCode = keyof typeof HTTP_PARSE_ERROR_STATUS;

/**
 * A gzip body (Content-Encoding: gzip) could not be decoded: the data is not
 * gzip (`ERR_XMLRPC_GZIP_CORRUPT`, a server answers 400) or it decodes past
 * the body limit (`ERR_XMLRPC_GZIP_TOO_LARGE`, 413; decoding stopped at the
 * limit, so a gzip bomb costs no more than that).
 */
export class GzipBodyError extends XmlRpcError {
  /** True when the decoded body passed the cap, false when the data is not gzip. */
  readonly tooLarge: boolean;
  constructor(message: string, tooLarge: boolean, options?: ErrorOptions) {
    super(tooLarge ? 'ERR_XMLRPC_GZIP_TOO_LARGE' : 'ERR_XMLRPC_GZIP_CORRUPT', message, options);
    this.tooLarge = tooLarge;
  }
}

/**
 * A value cannot be written as XML-RPC (NaN, a lone surrogate, a cycle...).
 * The message names the method and where the value sits among its
 * parameters: `add: params[1].items[3]: cannot encode function f as XML-RPC`.
 */
export class EncodeError extends XmlRpcError {
  /** What is wrong, without the method and path. */
  readonly reason: string;
  /** The method of the call being written, when known. */
  method: string | undefined;
  /** Where the value sits: `params[1].items[3]` (a call), `result.x` (a response), when known. */
  path: string | undefined;
  constructor(message: string, options: { method?: string; path?: string } = {}) {
    super('ERR_XMLRPC_ENCODE', message);
    this.reason = message;
    this.method = options.method;
    this.path = options.path;
    this.message = encodeErrorMessage(this);
  }
}

/** `method: path: reason`, each part when known; rebuilt by the encoder as it learns the path on the way out. */
export function encodeErrorMessage(err: EncodeError): string {
  return (err.method === undefined ? '' : `${err.method}: `) + (err.path === undefined ? '' : `${err.path}: `) + err.reason;
}

/** Interoperable fault codes (xmlrpc-epi, "specification for fault code interoperability", 20010516). */
export const FaultCode = {
  PARSE_ERROR: -32700,
  UNSUPPORTED_ENCODING: -32701,
  INVALID_CHARACTER: -32702,
  INVALID_XMLRPC: -32600,
  METHOD_NOT_FOUND: -32601,
  INVALID_PARAMS: -32602,
  INTERNAL_ERROR: -32603,
  APPLICATION_ERROR: -32500,
  SYSTEM_ERROR: -32400,
  TRANSPORT_ERROR: -32300,
  // The spec reserves -32099 .. -32000 for implementation-defined server errors:
  /** An offloaded method's pool was busy and its queue full: the call never ran; retrying later is safe. */
  SERVER_BUSY: -32001,
  /** An offloaded method passed its timeout: its worker was stopped; the call may have had effects. */
  TIMEOUT: -32002,
} as const;

/**
 * An XML-RPC fault: `<fault>` with `faultCode` and `faultString`.
 * Thrown by a handler, it goes to the client as is; received by a client,
 * it is what the server answered. Python's `xmlrpc.client.Fault`.
 */
export class Fault extends Error {
  readonly faultCode: number;
  readonly faultString: string;
  constructor(faultCode: number, faultString: string) {
    super(faultString);
    this.faultCode = faultCode;
    this.faultString = faultString;
    this.name = new.target.name;
  }
}

/**
 * The document is not XML-RPC we can read. It is a `Fault` so that a server
 * sends it back unchanged (with the interop code: -32700 not well formed,
 * -32701 unsupported encoding, -32702 bytes invalid for the declared
 * encoding, -32600 not XML-RPC);
 * `code` tells the cases apart for a program.
 */
export class DecodeError extends Fault {
  readonly code: DecodeErrorCode;
  constructor(code: DecodeErrorCode, message: string) {
    super(DECODE_ERROR_FAULT[code], message);
    this.code = code;
  }
}

export const DECODE_ERROR_FAULT = {
  ERR_XML_NOT_WELL_FORMED: FaultCode.PARSE_ERROR,
  ERR_XML_DOCTYPE: FaultCode.PARSE_ERROR,
  ERR_XML_TOO_DEEP: FaultCode.PARSE_ERROR,
  ERR_XML_TOO_LARGE: FaultCode.PARSE_ERROR,
  ERR_XML_UNSUPPORTED_ENCODING: FaultCode.UNSUPPORTED_ENCODING,
  ERR_XML_INVALID_CHARACTER: FaultCode.INVALID_CHARACTER,
  ERR_XMLRPC_INVALID: FaultCode.INVALID_XMLRPC,
} as const;

export type DecodeErrorCode = keyof typeof DECODE_ERROR_FAULT;

// ---------------------------------------------------------------------------
// Client errors. Each names the URL it was calling, so a log line says where.

/** The server answered with an HTTP status other than 200 (Python's ProtocolError). */
export class ProtocolError extends XmlRpcError {
  readonly url: string;
  readonly status: number;
  readonly reason: string;
  /** Flat [name, value, ...] list, names lower-cased. */
  readonly headers: readonly string[];
  /** The start of the body (at most 1 KiB, as text), so an HTML error page can be read. */
  readonly body: string;
  constructor(url: string, status: number, reason: string, headers: readonly string[], body: string) {
    // One line: an HTML error page's line breaks and indentation are folded into single spaces.
    const excerpt = body.slice(0, 200).replace(/\s+/g, ' ').trim();
    super('ERR_XMLRPC_HTTP_STATUS', `${url}: HTTP ${status} ${reason}${excerpt === '' ? '' : `: ${excerpt}`}`);
    this.url = url;
    this.status = status;
    this.reason = reason;
    this.headers = headers;
    this.body = body;
  }
}

/** The server answered 200 but not with an XML-RPC response we can read. */
export class ResponseError extends XmlRpcError {
  readonly url: string;
  constructor(url: string, message: string, options?: { cause?: unknown }) {
    super('ERR_XMLRPC_RESPONSE', `${url}: ${message}`, options);
    this.url = url;
  }
}

export const TransportErrorCode = {
  /** The connection could not be made (refused, unreachable, DNS, TLS handshake). */
  CONNECT: 'ERR_XMLRPC_CONNECT',
  /** The connection failed or closed before the whole response arrived. */
  CONNECTION_LOST: 'ERR_XMLRPC_CONNECTION_LOST',
  /** The connect timeout passed. */
  CONNECT_TIMEOUT: 'ERR_XMLRPC_CONNECT_TIMEOUT',
  /** The call's timeout passed. */
  TIMEOUT: 'ERR_XMLRPC_TIMEOUT',
  /** The call was cancelled through its AbortSignal. */
  ABORTED: 'ERR_XMLRPC_ABORTED',
} as const;

export type TransportErrorCodeValue = (typeof TransportErrorCode)[keyof typeof TransportErrorCode];

/**
 * The call did not complete at the transport level. `requestSent` says
 * whether the whole request had been written: when true the server may have
 * run the call, so it is never re-sent silently (RFC 9112 §9.3.1).
 */
export class TransportError extends XmlRpcError {
  readonly url: string;
  readonly requestSent: boolean;
  constructor(code: TransportErrorCodeValue, url: string, message: string, options: { requestSent: boolean; cause?: unknown }) {
    super(code, `${url}: ${message}`, { cause: options.cause });
    this.url = url;
    this.requestSent = options.requestSent;
  }
}

// ---------------------------------------------------------------------------
// Offload errors (lib/offload): the pool's own failures, and the wrapper of
// what a task threw when its class cannot be rebuilt on the caller's side.

export const OffloadErrorCode = {
  /** The pool's queue was full (`maxQueue`): the task was refused at once and never ran. */
  QUEUE_FULL: 'ERR_OFFLOAD_QUEUE_FULL',
  /** The task's `timeout` passed: removed from the queue, or its worker terminated and replaced. */
  TIMEOUT: 'ERR_OFFLOAD_TIMEOUT',
  /** The task was cancelled through its AbortSignal, or by `close({ force: true })`. */
  ABORTED: 'ERR_OFFLOAD_ABORTED',
  /** `run()` after `close()`. */
  CLOSED: 'ERR_OFFLOAD_CLOSED',
  /** The worker exited while running the task (`process.exit()` in the task, say); `exitCode` says how. */
  WORKER_EXITED: 'ERR_OFFLOAD_WORKER_EXITED',
  /** An exception nothing caught killed the worker (thrown from a timer the task left behind, say); `cause` is it. */
  WORKER_CRASHED: 'ERR_OFFLOAD_WORKER_CRASHED',
  /** The worker passed its heap cap (`resourceLimits`) and was stopped. */
  WORKER_OUT_OF_MEMORY: 'ERR_OFFLOAD_WORKER_OUT_OF_MEMORY',
} as const;

export type OffloadErrorCodeValue = (typeof OffloadErrorCode)[keyof typeof OffloadErrorCode];

/**
 * A `WorkerPool` task failed for a reason of the pool's, not because the task
 * threw: see `OffloadErrorCode`. The worker a crash took is replaced; other
 * tasks are not affected.
 */
export class WorkerPoolError extends XmlRpcError {
  /** The worker's exit code, for `ERR_OFFLOAD_WORKER_EXITED`. */
  readonly exitCode: number | undefined;
  constructor(code: OffloadErrorCodeValue, message: string, options?: { cause?: unknown; exitCode?: number }) {
    super(code, message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.exitCode = options?.exitCode;
  }
}

/**
 * What an offloaded task threw, when it cannot come back as an instance of
 * its own class: a class the caller's side does not know (register it with
 * the pool's `errorClasses` option to get it rebuilt), or a thrown value that
 * is not an Error. It carries the thrown error's `name`, `message`, own
 * enumerable properties and `code` (`ERR_OFFLOAD_TASK_FAILED` when it had
 * none); for a non-Error, `code` is `ERR_OFFLOAD_NON_ERROR` and `value` is
 * the value thrown (a copy; a value that cannot be copied is described in
 * `message` only).
 */
export class OffloadError extends XmlRpcError {
  /** The thrown value, for `ERR_OFFLOAD_NON_ERROR`. */
  readonly value: unknown;
  constructor(message: string, options?: { name?: string; code?: unknown; value?: unknown; nonError?: boolean; cause?: unknown }) {
    const fallback = options?.nonError === true ? 'ERR_OFFLOAD_NON_ERROR' : 'ERR_OFFLOAD_TASK_FAILED';
    const code = options?.code;
    super(typeof code === 'string' ? code : fallback, message, options !== undefined && 'cause' in options ? { cause: options.cause } : undefined);
    // A code that is not a string (a number, say) is carried as it was.
    if (code !== undefined && typeof code !== 'string')
      Object.defineProperty(this, 'code', { value: code, enumerable: true, configurable: true, writable: true });
    if (options?.name !== undefined) this.name = options.name;
    this.value = options?.value;
  }
}

// ---------------------------------------------------------------------------
// Remote-object errors (lib/objects): what an ObjectProxy reports beside the
// server's Fault and the transport's errors.

export const RemoteObjectErrorCode = {
  /**
   * The reference is gone: the owner answered fault RELEASED (-32010: unknown,
   * released or expired), or the proxy was released on this side
   * (`$release()`, `await using`) before the call, which then sent nothing.
   */
  RELEASED: 'ERR_OBJECT_RELEASED',
  /**
   * The owner cannot be reached any more: a call failed to connect, or lost
   * its connection, on an ObjectClient whose owner had answered before (a
   * first call that cannot connect stays a TransportError). `cause` is the
   * TransportError.
   */
  OWNER_GONE: 'ERR_OBJECT_OWNER_GONE',
  /**
   * A result named a reference of yet another owner while the client keeps
   * `maxPeers` clients of other owners, none idle: the call fails rather
   * than grow without bound (a hostile owner could name a million URLs).
   */
  TOO_MANY_OWNERS: 'ERR_OBJECT_TOO_MANY_OWNERS',
} as const;

export type RemoteObjectErrorCodeValue = (typeof RemoteObjectErrorCode)[keyof typeof RemoteObjectErrorCode];

/** A call on an ObjectProxy failed because of the object's lifetime: see `RemoteObjectErrorCode`. */
export class RemoteObjectError extends XmlRpcError {
  /** The reference id (`__ref__`) the call named. */
  readonly ref: string;
  constructor(code: RemoteObjectErrorCodeValue, ref: string, message: string, options?: { cause?: unknown }) {
    super(code, message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.ref = ref;
  }
}

// ---------------------------------------------------------------------------
// Child-process errors (lib/process): spawnProcess could not start a child.

export const SpawnErrorCode = {
  /** The child failed while starting: a module threw, the port could not be bound, it exited or was killed. `cause` is its error, with its stack. */
  START_FAILED: 'ERR_SPAWN_START_FAILED',
  /** The child did not report its address within `startTimeout`; it was killed. */
  START_TIMEOUT: 'ERR_SPAWN_START_TIMEOUT',
} as const;

export type SpawnErrorCodeValue = (typeof SpawnErrorCode)[keyof typeof SpawnErrorCode];

/**
 * spawnProcess rejected: see `SpawnErrorCode`. The child is gone when this is
 * thrown (its `pid` is reaped). `cause` is the child's own error, rebuilt with
 * its name, message and stack, when it reported one.
 */
export class SpawnError extends XmlRpcError {
  /** The child's pid (gone by now), when it was started at all. */
  readonly pid: number | undefined;
  /** How it ended: exit code and signal. */
  readonly exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  constructor(
    code: SpawnErrorCodeValue,
    message: string,
    options?: { cause?: unknown; pid?: number; exit?: { code: number | null; signal: NodeJS.Signals | null } },
  ) {
    super(code, message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.pid = options?.pid;
    this.exit = options?.exit;
  }
}

// ---------------------------------------------------------------------------
// Cluster errors (lib/cluster): serving one port from several processes.

export const ClusterErrorCode = {
  /** `reusePort` was asked for on a Node or a platform without it (Node 22.12+ / 23.1+ on Linux, FreeBSD, DragonFly). */
  REUSE_PORT_UNSUPPORTED: 'ERR_CLUSTER_REUSE_PORT_UNSUPPORTED',
  /** A worker exited (or failed its setup) before it was listening: the start or the reload stopped there. */
  WORKER_FAILED: 'ERR_CLUSTER_WORKER_FAILED',
  /** `reload()` or `close()` after `close()`. */
  CLOSED: 'ERR_CLUSTER_CLOSED',
} as const;
export type ClusterErrorCodeValue = (typeof ClusterErrorCode)[keyof typeof ClusterErrorCode];

export class ClusterError extends XmlRpcError {
  constructor(code: ClusterErrorCodeValue, message: string, options?: { cause?: unknown }) {
    super(code, message, options?.cause === undefined ? undefined : { cause: options.cause });
  }
}
