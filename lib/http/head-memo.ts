// The last request head a connection sent, kept to recognise the next one.
// A keep-alive client sends the same head again and again, its
// Content-Length apart (it follows the body): the same bytes before the
// digits and after them. Those bytes passed every check of the parser last
// time, and each check depends on the line it reads and on no other input,
// so the same bytes pass them again with the same outcome; the digits are a
// valid Content-Length whatever they are, and the two checks the value takes
// part in (the body limit, the head limit) send a head that fails them to
// the parser's general path, which then refuses it as it would have. What a
// recognised head costs is one comparison of its text, instead of reading
// each line (the field checks, the framing, the strings): the parser's work
// on a head, about 11,000 instructions for a typical client, was the largest
// single part of an `add` request besides Node's own (bench/README.md).
//
// Kept per parser, so per connection: a head is compared only with the one
// its own connection sent before (its credentials are compared with nothing
// another client sent, unlike the server-wide tables of chars.ts and
// known-fields.ts). Bounded: heads up to MAX_HEAD bytes, two strings and a
// field list. A client whose heads keep changing stops being remembered
// after a few misses, so that it pays for no memo it never uses.

import { latin1Text } from './chars.js';

/** A head longer than this (CRLFCRLF included) is not remembered. */
const MAX_HEAD = 1024;
/** After this many heads in a row not recognised, the connection's heads are no longer remembered. */
const MAX_MISSES = 4;
/** 15 digits stay below Number.MAX_SAFE_INTEGER (as framing.ts reads them). */
const MAX_DIGITS = 15;

/** A request head the parser accepted, and what it said. */
export interface AcceptedHead {
  method: string;
  target: string;
  versionMinor: number;
  /** Flat [name, value, ...] as the parser made them. */
  headers: readonly string[];
  keepAlive: boolean;
  expectContinue: boolean;
}

export class HeadMemo implements AcceptedHead {
  method = '';
  target = '';
  versionMinor = 1;
  headers: readonly string[] = [];
  keepAlive = false;
  expectContinue = false;
  /** The head's text before its Content-Length digits; the whole head when it has no Content-Length. */
  private prefix = '';
  /** The head's text after the digits, to the end of its CRLFCRLF; '' when no Content-Length. */
  private suffix = '';
  /** Where the Content-Length value is in `headers`; -1 for none. */
  private lengthIndex = -1;
  private misses = 0;
  private off = false;

  // What the last match() found.
  /** The head's Content-Length, -1 for none. */
  contentLength = -1;
  private digitsStart = 0;
  private digitsEnd = 0;

  /** Whether there is a head to compare with. */
  get armed(): boolean {
    return this.prefix !== '';
  }

  /**
   * The length of the head at buf[pos, len) if it is the remembered one with
   * any Content-Length of at most `maxBodyBytes`, whole, and at most
   * `maxHeaderBytes` long; 0 otherwise (the parser's general path reads it).
   */
  match(buf: Buffer, pos: number, len: number, maxHeaderBytes: number, maxBodyBytes: number): number {
    const prefix = this.prefix;
    const p = prefix.length;
    let total = p;
    if (this.lengthIndex >= 0) {
      let k = pos + p;
      const stop = Math.min(len, k + MAX_DIGITS + 1);
      let n = 0;
      for (; k < stop; k++) {
        const d = buf[k]! - 0x30;
        if (!(d >= 0 && d <= 9)) break;
        n = n * 10 + d;
      }
      const digits = k - (pos + p);
      if (digits === 0 || digits > MAX_DIGITS || n > maxBodyBytes) return this.miss();
      this.contentLength = n;
      this.digitsStart = pos + p;
      this.digitsEnd = k;
      total += digits + this.suffix.length;
    } else {
      this.contentLength = -1;
    }
    if (total > len - pos || total > maxHeaderBytes) return this.miss();
    // Strings of the bytes, compared whole by the engine (word by word); the
    // bytes compared one by one in JavaScript cost more than the copies.
    const slicer = buf as unknown as Latin1Slicer;
    if (slicer.latin1Slice(pos, pos + p) !== prefix) return this.miss();
    if (this.lengthIndex >= 0 && slicer.latin1Slice(this.digitsEnd, pos + total) !== this.suffix) return this.miss();
    this.misses = 0;
    return total;
  }

  /** The field list of the head match() found: the remembered one, its Content-Length value the new one's. */
  fields(buf: Buffer): string[] {
    const headers = this.headers.slice();
    if (this.lengthIndex >= 0) headers[this.lengthIndex] = latin1Text(buf, this.digitsStart, this.digitsEnd);
    return headers;
  }

  /**
   * A head the general path accepted, at buf[start, end) (its CRLFCRLF
   * included): remembered when it is one a match() can stand for. Not a
   * head with Transfer-Encoding, nor with a Content-Length other than one
   * field of plain digits, nor CONNECT's (framed by its method).
   */
  remember(buf: Buffer, start: number, end: number, head: AcceptedHead): void {
    if (this.off) return;
    if (this.armed && ++this.misses >= MAX_MISSES) {
      this.off = true;
      this.forget();
      return;
    }
    if (end - start > MAX_HEAD || head.method === 'CONNECT') return this.forget();
    const headers = head.headers;
    let lengthIndex = -1;
    for (let i = 0; i < headers.length; i += 2) {
      const name = headers[i];
      if (name === 'transfer-encoding' || (name === 'content-length' && lengthIndex >= 0)) return this.forget();
      if (name === 'content-length') lengthIndex = i + 1;
    }
    let prefix: string;
    let suffix = '';
    if (lengthIndex >= 0) {
      const value = headers[lengthIndex]!;
      if (value.length > MAX_DIGITS || !/^[0-9]+$/.test(value)) return this.forget();
      // The value is the field line's, OWS-trimmed: its digits are where the line has them.
      const at = contentLengthDigits(buf, start, end, value);
      if (at < 0) return this.forget();
      prefix = buf.toString('latin1', start, at);
      suffix = buf.toString('latin1', at + value.length, end);
    } else {
      prefix = buf.toString('latin1', start, end);
    }
    this.prefix = prefix;
    this.suffix = suffix;
    this.lengthIndex = lengthIndex;
    this.method = head.method;
    this.target = head.target;
    this.versionMinor = head.versionMinor;
    this.headers = headers.slice();
    this.keepAlive = head.keepAlive;
    this.expectContinue = head.expectContinue;
  }

  private forget(): void {
    this.prefix = '';
    this.suffix = '';
    this.headers = [];
    this.lengthIndex = -1;
  }

  private miss(): 0 {
    return 0;
  }
}

interface Latin1Slicer {
  latin1Slice(start: number, end: number): string;
}

/**
 * Where the value `digits` of the Content-Length line starts in the head
 * buf[start, end): after the line's name, colon and OWS. -1 if not found
 * (it always is, for a head the parser accepted with that value).
 */
function contentLengthDigits(buf: Buffer, start: number, end: number, digits: string): number {
  let line = buf.indexOf(0x0a, start) + 1; // past the request line
  while (line > 0 && line < end) {
    const lf = buf.indexOf(0x0a, line);
    if (lf < 0 || lf > end) return -1;
    if (lf - line >= 15 && buf.toString('latin1', line, line + 15).toLowerCase() === 'content-length:') {
      let v = line + 15;
      while (buf[v] === 0x20 || buf[v] === 0x09) v++;
      return buf.toString('latin1', v, v + digits.length) === digits ? v : -1;
    }
    line = lf + 1;
  }
  return -1;
}
