// What the parser hands out and what bounds it: the head of a message, the
// limits (each with its own error), the callbacks. Apart from parser.ts so
// that the layers above (the server, the client, the options) name these
// types without the state machine; parser.ts exports them again.

/** The head of a request or a response, with framing already decided. */
export interface MessageHead {
  /** Request: the method token, case kept. '' for responses. */
  method: string;
  /** Request: the request-target as sent (latin1). '' for responses. */
  target: string;
  /** Response: the status code. 0 for requests. */
  status: number;
  /** Response: the reason phrase ('' when absent). '' for requests. */
  reason: string;
  /** 0 or 1 (HTTP/1.2+ is treated as 1.1, RFC 9110 §6.2). */
  versionMinor: number;
  /** Flat [name0, value0, name1, value1, ...]; names lower-cased, values OWS-trimmed, latin1. */
  headers: string[];
  /** The Content-Length, -1 when absent (always -1 when chunked). */
  contentLength: number;
  /** The body is chunked (Transfer-Encoding ending in `chunked`). */
  chunked: boolean;
  /**
   * Whether the connection may carry another message after this one (RFC 9112
   * §9.3): false for HTTP/1.0 without keep-alive, Connection: close, a
   * Transfer-Encoding in HTTP/1.0, a response read until close. When onHead
   * returns true (no body), the parser sets it again without the last reason.
   */
  keepAlive: boolean;
  /** An HTTP/1.1 request with `Expect: 100-continue`. */
  expectContinue: boolean;
}

/** Every bound on what one message may cost; each has its own error. */
export interface ParserLimits {
  /** Request line, CRLF included -> HPE_URI_TOO_LONG (414), checked before the CRLF arrives. */
  maxRequestLineBytes: number;
  /** Whole head (leading empty lines, start line, fields, final CRLF) -> HPE_HEADERS_TOO_LARGE (431); also the trailer section. */
  maxHeaderBytes: number;
  /** Header fields in a head (and trailer fields in a trailer section) -> HPE_TOO_MANY_HEADERS (431). */
  maxHeaders: number;
  /** Body bytes (decoded, for chunked) -> HPE_BODY_TOO_LARGE (413). */
  maxBodyBytes: number;
  /** A chunk-size line with its extensions and CRLF -> HPE_INVALID_CHUNK_SIZE. */
  maxChunkLineBytes: number;
}

export const DEFAULT_PARSER_LIMITS: Readonly<ParserLimits> = Object.freeze({
  maxRequestLineBytes: 8192,
  maxHeaderBytes: 16384,
  maxHeaders: 100,
  maxBodyBytes: 8 * 1024 * 1024,
  maxChunkLineBytes: 1024,
});

export interface ParserCallbacks {
  /**
   * The head of a message. For a response, returning true says it has no
   * body (the answer to a HEAD request). Ignored for requests, whose framing
   * is theirs alone.
   */
  onHead(head: MessageHead): boolean | void;
  /** Body bytes: a subarray of the chunk given to execute() (no copy). Valid only if the caller keeps the chunk. */
  onBody(chunk: Buffer): void;
  /** The message is complete. Trailer fields (flat list, never merged into the head); when none, one shared frozen []. */
  onComplete(trailers: string[]): void;
  /** Responses only: a 1xx other than 101. Parsing goes on to the final response. */
  onInformational?(head: MessageHead): void;
}

/** A limit from `limits`, or its default; a RangeError for one that is not a non-negative integer. */
export function positiveLimit(limits: Partial<ParserLimits> | undefined, name: keyof ParserLimits): number {
  const value = limits?.[name] ?? DEFAULT_PARSER_LIMITS[name];
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${name} must be a non-negative integer`);
  return value;
}
