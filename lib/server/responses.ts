// The responses the server makes on its own (404, 501, the plain-text
// errors) and what happens to a handler's result before it is written:
// checked once, framed, gzipped when that pays off.

import { Buffer } from 'node:buffer';
import { acceptsGzip } from '../http/content-coding.js';
import type { ResponseHeaders } from '../http/response.js';
import type { Request, Response } from './request.js';

// RFC 9110 §9: the methods a server may know without implementing them for a
// resource. No handler matching one of these is a 404; any other method
// (CONNECT, which needs a tunnel, or one no RFC defines) is one nothing here
// implements, a 501 (§15.6.2).
const KNOWN_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'TRACE', 'PATCH']);

/** Frozen and shared: formatHead checks and formats their lines once (response.ts), not per response. */
const TEXT_HEADERS = Object.freeze({ 'Content-Type': 'text/plain; charset=utf-8' });
/** RFC 9110 §15.5.16: a 415 for a content coding says which codings would do. */
export const UNSUPPORTED_CODING_HEADERS = Object.freeze({ ...TEXT_HEADERS, 'Accept-Encoding': 'gzip' });

/** A short text response the server makes itself; `close` ends the connection after it. */
export function plain(status: number, text: string, close = false, headers: ResponseHeaders = TEXT_HEADERS): Response {
  return { status, headers, body: text, close };
}

/**
 * The Content-Length of a response: -1 (none) for 204 and 304, which have no
 * body (RFC 9110 §8.6). A string body's UTF-8 length, or its length when its
 * maker sends it as latin1 (Response.latin1).
 */
export function bodyLength(status: number, body: string | Uint8Array, latin1 = false): number {
  if (status === 204 || status === 304) return -1;
  return typeof body !== 'string' ? body.byteLength : latin1 ? body.length : Buffer.byteLength(body);
}

/** gzip pays off for a large body the client can read, unless the handler chose a coding itself. */
export function shouldGzip(response: Response, request: Request, threshold: number): boolean {
  const body = response.body;
  if (body === undefined || response.status === 204 || response.status === 304) return false;
  const size = typeof body === 'string' ? body.length : body.byteLength; // chars <= bytes: a cheap lower bound
  if (size < threshold || request.method === 'HEAD') return false;
  if (response.headers !== undefined) {
    for (const name in response.headers) if (name.toLowerCase() === 'content-encoding') return false;
  }
  return acceptsGzip(request.headers);
}

export function withGzipBody(response: Response, body: Buffer): Response {
  return { ...response, body, headers: { ...response.headers, 'Content-Encoding': 'gzip', Vary: 'Accept-Encoding' } };
}

const RETRY_HEADERS = Object.freeze({ ...TEXT_HEADERS, 'Retry-After': 1 });

/** The server's memory budget has no room for this request's body: try again shortly, then close. */
export function refusedForMemory(): Response {
  return plain(503, 'Service Unavailable: the server is holding as many request bytes as it budgets; retry shortly\n', true, RETRY_HEADERS);
}

export function noHandler(request: Request): Response {
  if (KNOWN_METHODS.has(request.method)) return plain(404, `Not Found: ${request.path}\n`);
  return plain(501, `Not Implemented: ${request.method}\n`);
}

/**
 * A handler's result as a response we can send, each field read once (a
 * getter runs once, a later change is not seen). Throws TypeError for
 * anything else: an interim status (1xx) cannot end a request, and a status
 * outside 200-599 is not one a client can read.
 */
export function sendable(result: unknown): Response {
  if (typeof result !== 'object' || result === null) {
    throw new TypeError(`a handler returned ${result === null ? 'null' : typeof result}, not a response`);
  }
  const { status, headers, body, close, error, reuse, latin1 } = result as Response;
  if (typeof status !== 'number' || !Number.isInteger(status) || status < 200 || status > 599) {
    throw new TypeError(`a handler returned status ${typeof status === 'number' ? status : typeof status}, not one from 200 to 599`);
  }
  if (headers !== undefined && (typeof headers !== 'object' || headers === null)) {
    throw new TypeError('response headers must be an object');
  }
  if (body !== undefined && typeof body !== 'string' && !(body instanceof Uint8Array)) {
    throw new TypeError('a response body must be a string or a Buffer');
  }
  if (reuse !== undefined && typeof reuse !== 'function') throw new TypeError('a response reuse must be a function');
  // Every field in the literal, set or not: one shape for every response (a field added after is a
  // map transition and a property array per response, and the readers downstream see several shapes).
  return { status, headers, body, close: close === true, error, reuse, latin1: latin1 === true && typeof body === 'string' ? true : undefined };
}
