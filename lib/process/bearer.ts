// The door of a spawned child's server: a Handler wrapper that lets through
// only requests carrying `Authorization: Bearer <token>`. It matches every
// request, so that one without the token is answered 401 with an empty body
// whatever its path or method: no 404 tells which paths exist, no fault
// tells which methods do. With the token, the wrapped handler decides (a
// path it does not take is the server's usual 404).

import { Buffer } from 'node:buffer';
import { timingSafeEqual } from 'node:crypto';
import type { Handler, Request, Response } from '../server/request.js';

const UNAUTHORIZED: Response = Object.freeze({ status: 401, headers: { 'WWW-Authenticate': 'Bearer' }, body: '', close: true });
const NOT_FOUND: Response = Object.freeze({ status: 404, headers: { 'Content-Type': 'text/plain' }, body: 'Not Found\n' });

export class BearerGate implements Handler {
  readonly #expected: Buffer;
  readonly #inner: Handler;

  constructor(token: string, inner: Handler) {
    if (typeof token !== 'string' || token.length < 16) throw new TypeError('BearerGate: the token must be a string of at least 16 characters');
    this.#expected = Buffer.from(`Bearer ${token}`);
    this.#inner = inner;
  }

  match(): boolean {
    return true;
  }

  handle(request: Request): Response | Promise<Response> {
    if (!this.allowed(request)) return UNAUTHORIZED;
    return this.#inner.match(request) ? this.#inner.handle(request) : NOT_FOUND;
  }

  checkListen(address: { host: string; port: number }): void {
    this.#inner.checkListen?.(address);
  }

  /** The header, compared in constant time (a timing side channel would leak the token byte by byte). */
  allowed(request: Request): boolean {
    const given = request.header('authorization');
    if (given === undefined) return false;
    const bytes = Buffer.from(given);
    return bytes.length === this.#expected.length && timingSafeEqual(bytes, this.#expected);
  }
}
