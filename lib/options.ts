// Every numeric option and limit, checked in one place: the generic
// validators every layer uses (a limit is a non-negative number; a timeout
// also fits Node's timers, since a larger delay fires after 1 ms, not never),
// and the server's limits with their defaults.

import { DEFAULT_PARSER_LIMITS, type ParserLimits } from './http/parser.js';

/** The longest delay setTimeout honours (2^31 - 1 ms, about 24.8 days). */
export const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/** A byte, count or size limit: a non-negative number (Infinity only where allowed). */
export function nonNegative(name: string, value: unknown, allowInfinity = false): number {
  if (typeof value !== 'number' || Number.isNaN(value) || value < 0 || (!allowInfinity && !Number.isFinite(value))) {
    throw new RangeError(`${name} must be a non-negative number, got ${String(value)}`);
  }
  return value;
}

/** A timeout in ms: 0 to MAX_TIMEOUT_MS. */
export function timeoutMs(name: string, value: unknown): number {
  const ms = nonNegative(name, value);
  if (ms > MAX_TIMEOUT_MS) throw new RangeError(`${name} must be at most ${MAX_TIMEOUT_MS} ms, got ${ms}`);
  return ms;
}

/** A count that must be at least 1 (sockets, depth, concurrency): a positive integer, Infinity only where allowed. */
export function positiveInteger(name: string, value: unknown, allowInfinity = false): number {
  if (typeof value !== 'number' || !(value >= 1) || (value === Infinity ? !allowInfinity : !Number.isInteger(value))) {
    throw new RangeError(`${name} must be a positive integer${allowInfinity ? ' or Infinity' : ''}, got ${String(value)}`);
  }
  return value;
}

/** An integer from `min` to `max` (a nesting depth, say). */
export function integerIn(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be an integer in [${min}, ${max}], got ${String(value)}`);
  }
  return value;
}

/** The options that are set: an explicit `undefined` falls back to the default. */
export function definedOnly<T extends object>(options: T): Partial<T> {
  const out: Partial<T> = {};
  for (const key of Object.keys(options) as (keyof T)[]) {
    if (options[key] !== undefined) out[key] = options[key];
  }
  return out;
}

// ---------------------------------------------------------------------------
// The server's limits

export interface ServerLimits extends ParserLimits {
  /** Time allowed to receive a request head, from its first byte (slowloris guard), ms. 408 after. */
  headersTimeout: number;
  /** Time allowed to receive a whole request, head and body, from its first byte, ms. 408 after. */
  requestTimeout: number;
  /**
   * How long a connection is kept with nothing moving, ms: idle between
   * requests, or holding response bytes the client does not take (each
   * response the client finishes taking counts as progress).
   */
  keepAliveTimeout: number;
  /** After the server closes a connection, how long it reads and discards what the client still sends, ms. */
  lingerTimeout: number;
  /**
   * Connections open at once. When full, a newcomer takes the slot of the
   * oldest connection that has not yet sent a whole request head, or else of
   * the one idle longest (owing nothing); with none such, it is answered 503
   * and closed. Also the listen backlog (the kernel caps it).
   */
  maxConnections: number;
  /** Connections open at once from one peer address; more are answered 503 and closed. Infinity: no limit. */
  maxConnectionsPerAddress: number;
  /**
   * Bytes the whole server holds for its clients: request bodies (received
   * and decoded), responses being gzipped, and responses not yet taken by
   * the kernel. A body that does not fit is refused with 503 and
   * Retry-After; one of 64 KiB or less (with a Content-Length) first makes
   * room: it refuses the largest unfinished bodies elsewhere, or else closes
   * the clients holding the most responses they do not read.
   */
  maxBufferedBytes: number;
  /**
   * Bytes one connection may hold (bodies of requests not yet answered and
   * responses not yet taken) before the server stops reading it until they
   * go out. Never less than one request: a larger body is still read whole.
   */
  maxConnectionBufferedBytes: number;
  /** Requests of one connection awaiting their responses before the server stops reading it. */
  maxPipelinedRequests: number;
  /**
   * Responses of at least this many bytes are sent gzip-encoded to clients
   * whose Accept-Encoding allows it (Python's encode_threshold); Infinity never.
   * Gzip request bodies are always accepted, decoded up to maxBodyBytes.
   */
  gzipThreshold: number;
}

export const DEFAULT_SERVER_LIMITS: Readonly<ServerLimits> = Object.freeze({
  ...DEFAULT_PARSER_LIMITS,
  headersTimeout: 10_000,
  requestTimeout: 30_000,
  keepAliveTimeout: 5_000,
  lingerTimeout: 2_000,
  maxConnections: 10_000,
  maxConnectionsPerAddress: Infinity,
  maxBufferedBytes: 64 * 1024 * 1024,
  maxConnectionBufferedBytes: 8 * 1024 * 1024,
  maxPipelinedRequests: 32,
  gzipThreshold: 1400,
});

const SERVER_TIMEOUTS: ReadonlySet<keyof ServerLimits> = new Set(['headersTimeout', 'requestTimeout', 'keepAliveTimeout', 'lingerTimeout']);

/**
 * The server's limits: the defaults with what `limits` sets (an `undefined`
 * keeps the default), each checked up front, frozen. A NaN timeout would
 * turn the sweep into a busy loop; a bad parser limit would otherwise throw
 * only when the first connection arrives. Throws RangeError naming the limit.
 */
export function serverLimits(limits: Partial<ServerLimits> = {}): Readonly<ServerLimits> {
  const checked: ServerLimits = { ...DEFAULT_SERVER_LIMITS, ...definedOnly(limits) };
  for (const key of Object.keys(checked) as (keyof ServerLimits)[]) {
    if (SERVER_TIMEOUTS.has(key)) timeoutMs(key, checked[key]);
    else nonNegative(key, checked[key], key === 'gzipThreshold' || key === 'maxConnectionsPerAddress');
    if (key in DEFAULT_PARSER_LIMITS && !Number.isSafeInteger(checked[key])) {
      throw new RangeError(`${key} must be a non-negative integer, got ${checked[key]}`);
    }
  }
  if (checked.maxConnections < 1 || checked.maxPipelinedRequests < 1) {
    throw new RangeError('maxConnections and maxPipelinedRequests must be at least 1');
  }
  if (!(checked.maxConnectionsPerAddress >= 1)) throw new RangeError(`maxConnectionsPerAddress must be at least 1, got ${checked.maxConnectionsPerAddress}`);
  return Object.freeze(checked);
}
