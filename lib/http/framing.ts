// What a head's fields say about its message's framing and its connection
// (RFC 9112 §6, §9.3; RFC 9110 §7.2, §10.1.1): Content-Length,
// Transfer-Encoding, Connection, Host and Expect, each read once as its field
// line is parsed, then summed up by decide() at the end of the head. The
// parser owns one Framing and resets it per message; nothing here keeps a
// string or a buffer.

import { COMMA, HOST_CHAR, equalsIgnoreCase, isBlank } from './chars.js';
import { fail } from './parse-fail.js';

// Transfer-Encoding bookkeeping: the last coding seen.
const TE_NONE = 0;
const TE_CHUNKED = 1;
const TE_OTHER = 2;

// Comma-list fields handled by listField().
const L_TRANSFER_ENCODING = 0;
const L_CONNECTION = 1;
const L_EXPECT = 2;

export class Framing {
  /** The Content-Length, -1 when absent. */
  contentLength = -1;
  /** An HTTP/1.1 request asked for `100-continue`. */
  expectContinue = false;

  // Set by decide().
  /** The body is chunked. */
  chunked = false;
  /** A response body delimited by the end of input. */
  untilClose = false;
  /** The Connection rule and the framing allow another message on the connection. */
  persistent = false;

  private teFields = 0;
  private teLast = TE_NONE;
  private teChunked = 0;
  private teOther = 0;
  private teEmpty = false; // an empty element in a Transfer-Encoding list
  private connClose = false;
  private connKeepAlive = false;
  private hostCount = 0;
  private expectFailed = false;

  reset(): void {
    this.contentLength = -1;
    this.expectContinue = false;
    this.chunked = false;
    this.untilClose = false;
    this.persistent = false;
    this.teFields = 0;
    this.teLast = TE_NONE;
    this.teChunked = 0;
    this.teOther = 0;
    this.teEmpty = false;
    this.connClose = false;
    this.connKeepAlive = false;
    this.hostCount = 0;
    this.expectFailed = false;
  }

  /** A header field of the head, read by the parser: noted if it bears on the framing, the connection or (requests) Host and Expect. */
  field(name: string, buf: Buffer, vs: number, ve: number, isRequest: boolean, minor: number): void {
    switch (name) {
      case 'content-length':
        this.contentLengthField(buf, vs, ve);
        break;
      case 'transfer-encoding':
        this.transferEncodingField(buf, vs, ve);
        break;
      case 'connection':
        this.connectionField(buf, vs, ve);
        break;
      case 'host':
        if (isRequest) this.hostField(buf, vs, ve);
        break;
      case 'expect':
        if (isRequest && minor === 1) this.expectField(buf, vs, ve);
        break;
    }
  }

  /** Content-Length = 1*DIGIT at buf[vs, ve); a list or repeats of one same value are accepted (RFC 9110 §8.6). */
  contentLengthField(buf: Buffer, vs: number, ve: number): void {
    let i = vs;
    for (;;) {
      let j = i;
      while (j < ve && buf[j] !== COMMA) j++;
      let a = i;
      let b = j;
      while (a < b && isBlank(buf[a])) a++;
      while (b > a && isBlank(buf[b - 1])) b--;
      // 15 digits stay below Number.MAX_SAFE_INTEGER, so the sum below is exact.
      if (a === b || b - a > 15) fail('HPE_INVALID_CONTENT_LENGTH', 'invalid Content-Length');
      let n = 0;
      for (let k = a; k < b; k++) {
        const d = buf[k] - 0x30;
        if (!(d >= 0 && d <= 9)) fail('HPE_INVALID_CONTENT_LENGTH', 'invalid Content-Length');
        n = n * 10 + d;
      }
      if (this.contentLength !== -1 && this.contentLength !== n) {
        fail('HPE_INVALID_CONTENT_LENGTH', 'conflicting Content-Length values');
      }
      this.contentLength = n;
      if (j === ve) return;
      i = j + 1;
    }
  }

  transferEncodingField(buf: Buffer, vs: number, ve: number): void {
    this.teFields++;
    if (!this.listField(L_TRANSFER_ENCODING, buf, vs, ve)) fail('HPE_INVALID_TRANSFER_ENCODING', 'empty Transfer-Encoding');
  }

  connectionField(buf: Buffer, vs: number, ve: number): void {
    this.listField(L_CONNECTION, buf, vs, ve);
  }

  /** Requests only, HTTP/1.1 only (an HTTP/1.0 server ignores Expect). */
  expectField(buf: Buffer, vs: number, ve: number): void {
    this.listField(L_EXPECT, buf, vs, ve);
  }

  /** Requests only. Host = uri-host [ ":" port ] (RFC 9112 §3.2); may be empty. */
  hostField(buf: Buffer, vs: number, ve: number): void {
    if (++this.hostCount > 1) fail('HPE_DUPLICATE_HOST', 'more than one Host field');
    for (let j = vs; j < ve; j++) {
      if (HOST_CHAR[buf[j]] === 0) fail('HPE_INVALID_HOST', 'invalid Host');
    }
  }

  /**
   * A #list field: each non-empty element, OWS-trimmed (RFC 9110 §5.6.1), in
   * one pass; an empty one (`a,,b`, a trailing comma) is noted for
   * Transfer-Encoding only. Returns whether there was a non-empty one.
   */
  private listField(kind: number, buf: Buffer, vs: number, ve: number): boolean {
    let any = false;
    let i = vs;
    // `<=`: the element after a final comma is visited too (it is empty).
    while (i <= ve) {
      let j = i;
      while (j < ve && buf[j] !== COMMA) j++;
      let a = i;
      let b = j;
      while (a < b && isBlank(buf[a])) a++;
      while (b > a && isBlank(buf[b - 1])) b--;
      if (a < b) {
        any = true;
        switch (kind) {
          case L_TRANSFER_ENCODING:
            if (equalsIgnoreCase(buf, a, b, 'chunked')) {
              this.teChunked++;
              this.teLast = TE_CHUNKED;
            } else {
              this.teOther++;
              this.teLast = TE_OTHER;
            }
            break;
          case L_CONNECTION:
            if (equalsIgnoreCase(buf, a, b, 'close')) this.connClose = true;
            else if (equalsIgnoreCase(buf, a, b, 'keep-alive')) this.connKeepAlive = true;
            break;
          default: // L_EXPECT
            if (equalsIgnoreCase(buf, a, b, '100-continue')) this.expectContinue = true;
            else this.expectFailed = true;
        }
      } else if (kind === L_TRANSFER_ENCODING) {
        this.teEmpty = true;
      }
      i = j + 1;
    }
    return any;
  }

  /**
   * The end of the head: the framing (RFC 9112 §6.3) and the persistence
   * (§9.3) the fields give, into chunked, untilClose and persistent; or the
   * refusal, the first fault in the order below. A response's status and a
   * response's body limit are the parser's to weigh, after onHead.
   */
  decide(isRequest: boolean, minor: number, method: string, maxBodyBytes: number): void {
    // Persistence by the Connection rule (RFC 9112 §9.3), then framing doubts.
    let persistent = !this.connClose && (minor === 1 || this.connKeepAlive);
    let chunked = false;
    let untilClose = false;

    if (isRequest && minor === 1 && this.hostCount === 0) fail('HPE_MISSING_HOST', 'HTTP/1.1 request without Host');
    if (this.teFields > 0) {
      if (this.contentLength !== -1) {
        // A request with both is refused (smuggling). A response is framed by its Transfer-Encoding,
        // which overrides (RFC 9112 §6.3 (3)), as Python's and curl's clients do (Perl's HTTP::Daemon
        // sends both), and its connection is not reused, so no smuggled bytes reach a next response.
        if (isRequest) fail('HPE_CL_AND_TE', 'both Content-Length and Transfer-Encoding');
        this.contentLength = -1;
        persistent = false;
      }
      // RFC 9110 §5.6.1 would skip empty list elements, but `chunked,` or `, chunked` is how a smuggler
      // hides chunked from a peer that does not skip them: refused, as llhttp and Go's net/http do.
      if (this.teEmpty) fail('HPE_INVALID_TRANSFER_ENCODING', 'empty element in Transfer-Encoding');
      if (this.teLast !== TE_CHUNKED) {
        if (isRequest) fail('HPE_INVALID_TRANSFER_ENCODING', 'final transfer coding is not chunked');
        untilClose = true; // RFC 9112 §6.3 (4)
      } else {
        if (this.teChunked > 1) fail('HPE_INVALID_TRANSFER_ENCODING', 'chunked applied more than once');
        if (this.teOther > 0) fail('HPE_UNKNOWN_TRANSFER_ENCODING', 'unsupported transfer coding');
        chunked = true;
      }
      if (minor === 0) persistent = false; // RFC 9112 §6.1: TE in HTTP/1.0 is a framing doubt
    } else if (!isRequest && this.contentLength === -1) {
      untilClose = true; // RFC 9112 §6.3 (8)
    }
    if (isRequest) {
      // What follows a CONNECT head is tunnel data, which no request parser may read as requests,
      // nor as its content: a CONNECT request has none (RFC 9110 §9.3.6), whatever its fields say.
      if (method === 'CONNECT') {
        persistent = false;
        chunked = false;
        this.contentLength = -1;
      }
      if (this.contentLength === -1 && !chunked) {
        if (method === 'POST' || method === 'PUT' || method === 'PATCH') fail('HPE_LENGTH_REQUIRED', `${method} without a body length`);
      }
      if (this.contentLength > maxBodyBytes) {
        fail('HPE_BODY_TOO_LARGE', `Content-Length over ${maxBodyBytes} bytes`);
      }
      if (this.expectFailed) fail('HPE_EXPECTATION_FAILED', 'unsupported expectation');
    }
    this.chunked = chunked;
    this.untilClose = untilClose;
    this.persistent = persistent;
  }
}

/**
 * A field of a trailer section: framing fields cannot frame a body already
 * read; a peer that merges trailers into the head (RFC 9110 §6.5.1 forbids
 * it) would obey them, so they are refused.
 */
export function trailerField(name: string): void {
  if (name === 'content-length') fail('HPE_INVALID_CONTENT_LENGTH', 'Content-Length in a trailer section');
  if (name === 'transfer-encoding') fail('HPE_INVALID_TRANSFER_ENCODING', 'Transfer-Encoding in a trailer section');
}
