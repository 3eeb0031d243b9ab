// Every limit of the server, as one named option with its default.

import { DEFAULT_PARSER_LIMITS, type ParserLimits } from '../http/parser.js';
import type { Handler, Request } from './request.js';

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
  /** Connections open at once; more are answered 503 and closed. Also the listen backlog (the kernel caps it). */
  maxConnections: number;
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
  maxPipelinedRequests: 32,
  gzipThreshold: 1400,
});

/** What a connection needs from its server: limits, handlers, and bookkeeping. */
export interface ConnectionHost {
  readonly options: Readonly<ServerLimits>;
  readonly closing: boolean;
  findHandler(request: Request): Handler | null;
  reportError(err: unknown, request: Request | null): void;
  forget(connection: unknown): void;
}
