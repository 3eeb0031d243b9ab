// The head of a client request, as Transport's steps write it: header fields
// checked before they go on the wire (a name is a token, a value a field
// value, and a user's header never one that frames the message), merged over
// the defaults, and the start of the head kept per endpoint and path, so that
// a call with no headers of its own is assembled in one buffer without a
// field built or checked (Transport.encodeRequest's short way).

import { Buffer } from 'node:buffer';
import type { Endpoint } from './endpoint.js';
import { isFieldValue, isToken } from '../http/headers.js';
import type { HeaderList } from './request.js';

/** Request heads and endpoints kept per transport, at most (then forgotten all at once). */
export const MAX_KEPT_HEADS = 256;

/** Set by the transport; a user header of one of these names would break the framing. */
const RESERVED_HEADERS = new Set(['content-length', 'transfer-encoding', 'content-encoding', 'connection', 'keep-alive', 'upgrade', 'te', 'trailer', 'expect']);

/** The headers of a call that gives none. */
export const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({});

export function checkField(name: string, value: string): void {
  if (typeof name !== 'string' || !isToken(name)) throw new TypeError(`invalid header name ${JSON.stringify(name)}`);
  if (typeof value !== 'string' || !isFieldValue(value)) {
    throw new TypeError(`invalid value for header ${name}: ${JSON.stringify(value)}`);
  }
}

/** User headers: valid fields, none that the transport owns. Returns a copy. */
export function checkHeaders(headers: Record<string, string>): Record<string, string> {
  if (headers === null || typeof headers !== 'object') throw new TypeError('headers must be an object');
  const copy: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    checkField(name, value);
    if (RESERVED_HEADERS.has(name.toLowerCase())) throw new TypeError(`header ${name} is set by the transport`);
    copy[name] = value;
  }
  return copy;
}

/** Replaces same-named fields (case-insensitive) in place, appends the others. */
export function mergeHeaders(list: HeaderList, extra: Readonly<Record<string, string>>): void {
  for (const [name, value] of Object.entries(extra)) {
    const lower = name.toLowerCase();
    const i = list.findIndex(([n]) => n.toLowerCase() === lower);
    if (i === -1) list.push([name, value]);
    else list[i] = [name, value];
  }
}

export function isEmpty(record: Readonly<Record<string, string>>): boolean {
  for (const _ in record) return false;
  return true;
}

/**
 * The start of a request's head (request line and fields up to
 * Content-Length), by endpoint, then path: it depends on nothing else when
 * the steps are the transport's own and the call has no headers, so it is
 * built and checked once, and kept as the bytes it is written as. No key is
 * built per call.
 */
export class KeptHeads {
  readonly #heads = new WeakMap<Endpoint, Map<string, Buffer>>();

  /** The start kept for `endpoint` and `path`, or undefined. */
  get(endpoint: Endpoint, path: string): Buffer | undefined {
    return this.#heads.get(endpoint)?.get(path);
  }

  /** Keeps and returns the start made of `fields` (requestHeaders' list), each checked, up to Content-Length. */
  keep(endpoint: Endpoint, path: string, fields: HeaderList): Buffer {
    let byPath = this.#heads.get(endpoint);
    if (byPath === undefined) this.#heads.set(endpoint, (byPath = new Map<string, Buffer>()));
    let text = `POST ${path} HTTP/1.1\r\n`;
    for (const [name, value] of fields) {
      if (name === 'Content-Length') break; // the fields after it depend on the call
      checkField(name, value);
      text += `${name}: ${value}\r\n`;
    }
    const start = Buffer.from(text, 'latin1');
    if (byPath.size >= MAX_KEPT_HEADS) byPath.clear();
    byPath.set(path, start);
    return start;
  }
}

const CONTENT_LENGTH = Buffer.from('Content-Length: ', 'latin1');
/** What follows the length: the end of its line and of the head, with `Connection: close` between them without keep-alive. */
const END_KEEP_ALIVE = Buffer.from('\r\n\r\n', 'latin1');
const END_CLOSE = Buffer.from('\r\nConnection: close\r\n\r\n', 'latin1');
const NO_FIELD = Buffer.alloc(0);

/**
 * A request in one buffer: the kept `start`, the fields that depend on the
 * call, the body. Copied as bytes, the length's digits written in place: no
 * head string is made and flattened per call.
 */
export function assembleRequest(start: Buffer, contentEncoding: 'gzip' | null, body: Buffer, keepAlive: boolean): Buffer {
  const encoding = contentEncoding === null ? NO_FIELD : Buffer.from(`Content-Encoding: ${contentEncoding}\r\n`, 'latin1');
  const end = keepAlive ? END_KEEP_ALIVE : END_CLOSE;
  const length = body.length;
  let digits = 1;
  for (let n = length; n >= 10; n = Math.floor(n / 10)) digits++;
  const bytes = Buffer.allocUnsafe(start.length + encoding.length + CONTENT_LENGTH.length + digits + end.length + length);
  bytes.set(start, 0);
  let i = start.length;
  if (encoding.length > 0) {
    bytes.set(encoding, i);
    i += encoding.length;
  }
  bytes.set(CONTENT_LENGTH, i);
  i += CONTENT_LENGTH.length + digits;
  for (let k = i - 1, n = length; k >= i - digits; k--, n = Math.floor(n / 10)) bytes[k] = 0x30 + (n % 10);
  bytes.set(end, i);
  bytes.set(body, i + end.length);
  return bytes;
}
