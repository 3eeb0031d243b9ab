// How a client call reports a failure of its connection: the catalogue
// errors (lib/errors.ts) with the URL, and `requestSent` saying how far the
// request got (RFC 9112 §9.3.1: the caller decides whether to re-send).
// Every CONNECTION_LOST the client reports is built here.

import { HttpParseError, ResponseError, TransportError, TransportErrorCode, XmlRpcError } from '../errors.js';
import type { OutgoingRequest } from './request.js';

/** CONNECTION_LOST for a request, saying how far it got. */
export function lost(
  url: string,
  why: 'lost' | 'close',
  responseStarted: boolean,
  written: boolean,
  reused: boolean,
  cause: unknown,
  tls = false,
): TransportError {
  let message: string;
  if (tls && url.startsWith('http:')) {
    message = `the server answered with TLS, not HTTP, and closed the connection: ${TLS_HINT}`;
  } else if (responseStarted) {
    message = 'the connection closed before the whole response arrived';
  } else if (why === 'close') {
    message = written
      ? 'the server closed the connection after an earlier response (Connection: close) without answering this pipelined request; ' +
        'it was written whole (a conforming server does not process it, RFC 9112 §9.6) and is not re-sent'
      : 'the server closed the connection after an earlier response (Connection: close) before this pipelined request was written whole: it did not run';
  } else if (written) {
    const what = reused ? 'the server closed a reused keep-alive connection before answering' : 'the connection was lost before this call was answered';
    message = `${what} (request written whole: the call may have run; not retried)`;
  } else {
    message = 'the connection was lost before this request was written whole: the call did not run';
  }
  if (cause instanceof Error && !(cause instanceof HttpParseError)) message += `: ${cause.message}`;
  // A TLS server closes a plain-HTTP connection without a byte (Node's, OpenSSL's "http request" check).
  if (!tls && !reused && !responseStarted && why === 'lost' && url.startsWith('http:')) message += `; ${TLS_HINT}`;
  return new TransportError(TransportErrorCode.CONNECTION_LOST, url, message, {
    requestSent: responseStarted || written,
    cause: cause ?? undefined,
  });
}

/** Why a call's request was never written (CONNECTION_LOST, `requestSent: false`): the call did not run. */
const NOT_SENT = {
  /** The connection handed to the call closed before the request could go out. */
  closed: 'the connection closed before the request was sent',
  /** A Pipeline's new connection closed before taking a single request: its queue is not carried over. */
  unused: 'the connection closed before a request could be written: the call did not run',
  /** The Pipeline was closed (destroy(), or a call made after close()). */
  pipelineClosed: 'the pipeline is closed: the call was not sent',
} as const;

/** CONNECTION_LOST for a request that was never written. */
export function notSent(url: string, why: keyof typeof NOT_SENT): TransportError {
  return new TransportError(TransportErrorCode.CONNECTION_LOST, url, NOT_SENT[why], { requestSent: false });
}

/** A failed connect as a call reports it: its own abort reason, a catalogue error as is, else CONNECT. */
export function connectError(req: OutgoingRequest, err: unknown): unknown {
  if (req.signal.aborted) return req.signal.reason;
  if (err instanceof XmlRpcError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new TransportError(TransportErrorCode.CONNECT, req.url, `cannot connect to ${req.endpoint.origin}: ${message}`, {
    requestSent: false,
    cause: err,
  });
}

const TLS_HINT = 'if that port speaks TLS, use an https: URL';

/** The first byte of a TLS record carrying an alert (0x15) or a handshake message (0x16): no HTTP response starts so. */
export function looksLikeTls(firstByte: number | undefined): boolean {
  return firstByte === 0x15 || firstByte === 0x16;
}

/**
 * A response the parser refused, as the call reports it: too large, or
 * malformed. `tls`: the connection's first answer was a TLS record.
 */
export function responseParseError(url: string, err: unknown, tls = false): XmlRpcError {
  if (tls && url.startsWith('http:')) {
    return new ResponseError(url, `the server answered with TLS, not HTTP: ${TLS_HINT}`, { cause: err });
  }
  if (err instanceof HttpParseError && err.code === 'HPE_BODY_TOO_LARGE') {
    return new ResponseError(url, `response too large: ${err.message}`, { cause: err });
  }
  const message = err instanceof Error ? err.message : String(err);
  return new ResponseError(url, `malformed HTTP response: ${message}`, { cause: err });
}
