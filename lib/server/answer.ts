// From a complete request to its response: the body's Content-Encoding
// undone (off the event loop, charged to the memory budget as it inflates),
// the handler run, what it returns checked, and gzipped when that pays off.
// Nothing here touches a socket: what it needs from the connection it
// answers for is the Answerer below. Never throws: a handler's failure is a
// 500, and a fault of ours costs the connection, never the process.

import { Buffer } from 'node:buffer';
import { bodyCoding, gunzipMetered, gzip } from '../http/content-coding.js';
import { statusText } from '../http/response.js';
import type { GzipBodyError } from '../errors.js';
import type { ServerLimits } from '../options.js';
import type { Handler, Request, Response } from './request.js';
import { UNSUPPORTED_CODING_HEADERS, plain, refusedForMemory, sendable, shouldGzip, withGzipBody } from './responses.js';

/** What answering needs from a connection; `S` is the connection's record of the request. */
export interface Answerer<S> {
  readonly options: Readonly<ServerLimits>;
  /** The client has gone, or will read nothing more: its request gets no further work. */
  gone(): boolean;
  reportError(err: unknown, request: Request): void;
  /** Room for `bytes` more of the request's decoded body; false refuses the request (503). */
  reserveDecoded(slot: S, bytes: number): boolean;
  /** A response of `bytes` is being gzipped: held meanwhile (never refused: the work is done). */
  compressing(slot: S, bytes: number): void;
  /** The response, exactly once, unless the client has gone meanwhile. */
  ready(slot: S, response: Response): void;
  /** A fault of ours after the handler settled. */
  broken(err: unknown, request: Request): void;
}

export function answer<S>(host: Answerer<S>, slot: S, request: Request, handler: Handler, body: Buffer): void {
  const coding = bodyCoding(request.headers);
  if (coding === 'identity') {
    request.body = body;
    dispatch(host, slot, request, handler);
  } else if (coding === null) {
    settle(host, slot, request, plain(415, `Unsupported Media Type: only gzip bodies are decoded\n`, false, UNSUPPORTED_CODING_HEADERS));
  } else {
    // Decoded bytes are charged as they appear: fifty bombs at once cost the budget, not fifty times the body limit.
    gunzipMetered(body, host.options.maxBodyBytes, (bytes) => !host.gone() && host.reserveDecoded(slot, bytes)).then(
      (decoded) => {
        if (host.gone()) return request.abort();
        if (decoded === null) return settle(host, slot, request, refusedForMemory());
        request.body = decoded;
        dispatch(host, slot, request, handler);
      },
      (err: GzipBodyError) => {
        const status = err.tooLarge ? 413 : 400;
        settle(host, slot, request, plain(status, `${statusText(status)}: ${err.message}\n`));
      },
    );
  }
}

function dispatch<S>(host: Answerer<S>, slot: S, request: Request, handler: Handler): void {
  let result: unknown;
  try {
    result = handler.handle(request);
    if (isThenable(result)) {
      Promise.resolve(result)
        .then(
          (response) => settle(host, slot, request, response),
          (err: unknown) => settle(host, slot, request, internalError(host, err, request)),
        )
        .catch((err: unknown) => host.broken(err, request));
      return;
    }
  } catch (err) {
    result = internalError(host, err, request);
  }
  settle(host, slot, request, result);
}

function settle<S>(host: Answerer<S>, slot: S, request: Request, result: unknown): void {
  if (host.gone()) {
    // Twisted's rule: the client has gone (or will read nothing more), drop the result quietly.
    request.abort();
    return;
  }
  let response: Response;
  try {
    response = sendable(result);
  } catch (err) {
    response = internalError(host, err, request);
  }
  if (response.error !== undefined) host.reportError(response.error, request);
  if (shouldGzip(response, request, host.options.gzipThreshold)) {
    const body = response.body!;
    host.compressing(slot, typeof body === 'string' ? body.length : body.byteLength);
    // A text body marked latin1 goes out as latin1 (Response.latin1): gzip takes those bytes, not its UTF-8.
    gzip(typeof body === 'string' && response.latin1 === true ? Buffer.from(body, 'latin1') : body).then(
      (compressed) => host.ready(slot, withGzipBody(response, compressed)),
      (err: unknown) => host.ready(slot, internalError(host, err, request)),
    );
    return;
  }
  host.ready(slot, response);
}

function internalError<S>(host: Answerer<S>, err: unknown, request: Request): Response {
  host.reportError(err, request);
  return plain(500, 'Internal Server Error');
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}
