// The head of a client request, as Transport's steps write it: header fields
// checked before they go on the wire (a name is a token, a value a field
// value, and a user's header never one that frames the message), merged over
// the defaults, and the start of the head kept per endpoint and path, so that
// a call with no headers of its own is assembled in one buffer without a
// field built or checked (Transport.encodeRequest's short way).

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
 * built and checked once. No key is built per call.
 */
export class KeptHeads {
  readonly #heads = new WeakMap<Endpoint, Map<string, string>>();

  /** The start kept for `endpoint` and `path`, or undefined. */
  get(endpoint: Endpoint, path: string): string | undefined {
    return this.#heads.get(endpoint)?.get(path);
  }

  /** Keeps and returns the start made of `fields` (requestHeaders' list), each checked, up to Content-Length. */
  keep(endpoint: Endpoint, path: string, fields: HeaderList): string {
    let byPath = this.#heads.get(endpoint);
    if (byPath === undefined) this.#heads.set(endpoint, (byPath = new Map<string, string>()));
    let text = `POST ${path} HTTP/1.1\r\n`;
    for (const [name, value] of fields) {
      if (name === 'Content-Length') break; // the fields after it depend on the call
      checkField(name, value);
      text += `${name}: ${value}\r\n`;
    }
    if (byPath.size >= MAX_KEPT_HEADS) byPath.clear();
    byPath.set(path, text);
    return text;
  }
}

/** A request in one buffer: the kept `start`, the fields that depend on the call, the body. */
export function assembleRequest(start: string, contentEncoding: 'gzip' | null, body: Buffer, keepAlive: boolean): Buffer {
  const encoding = contentEncoding === null ? '' : `Content-Encoding: ${contentEncoding}\r\n`;
  const head = `${start}${encoding}Content-Length: ${body.length}\r\n${keepAlive ? '' : 'Connection: close\r\n'}\r\n`;
  const bytes = Buffer.allocUnsafe(head.length + body.length);
  bytes.write(head, 0, 'latin1');
  body.copy(bytes, head.length);
  return bytes;
}
