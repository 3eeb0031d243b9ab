// The last head a connection's peer sent, kept to recognise the next one.
// A keep-alive client sends the same request head again and again, its
// Content-Length apart (it follows the body); a server answers the same way,
// its Content-Length and its Date apart (Date changes once a second). The
// same bytes elsewhere passed every check of the parser last time, and each
// check depends on the line it reads and on no other input, so the same bytes
// pass them again with the same outcome. The digits are a valid Content-Length
// whatever they are, and the two checks the value takes part in (the body
// limit, the head limit) send a head that fails them to the parser's general
// path, which then refuses it as it would have. A Date value of the same
// length is checked here as the general path checks a field value (field
// bytes, no OWS at either end, which the parser would trim), and a value that
// fails goes to the general path; Date means nothing to the framing. What a
// recognised head costs is a few comparisons of its text, instead of reading
// each line (the field checks, the framing, the strings): the parser's work on
// a head, about 11,000 instructions for a typical peer, was the largest single
// part of an `add` request besides Node's own, and of a client's call
// (bench/README.md).
//
// Kept per parser, so per connection: a head is compared only with the one
// its own connection sent before (its credentials are compared with nothing
// another client sent, unlike the server-wide tables of chars.ts and
// known-fields.ts). Bounded: heads up to MAX_HEAD bytes, four strings and a
// field list. A peer whose heads keep changing stops being remembered after a
// few misses, so that it pays for no memo it never uses. What a response
// head's framing then does (1xx, HEAD, 204, 304, the body limit) is decided
// by the parser for a recognised head as for one read line by line.

import { latin1Slice } from '../bytes.js';
import { FIELD_CHAR, isBlank, latin1Text, sameText } from './chars.js';

/** A head longer than this (CRLFCRLF included) is not remembered. */
const MAX_HEAD = 1024;
/** After this many heads in a row not recognised, the connection's heads are no longer remembered. */
const MAX_MISSES = 4;
/** 15 digits stay below Number.MAX_SAFE_INTEGER (as framing.ts reads them). */
const MAX_DIGITS = 15;

/** A head the parser accepted, and what it said. */
export interface AcceptedHead {
  method: string;
  target: string;
  status: number;
  reason: string;
  versionMinor: number;
  /** Flat [name, value, ...] as the parser made them. */
  headers: readonly string[];
  keepAlive: boolean;
  expectContinue: boolean;
}

export class HeadMemo implements AcceptedHead {
  method = '';
  target = '';
  status = 0;
  reason = '';
  versionMinor = 1;
  headers: string[] = [];
  keepAlive = false;
  expectContinue = false;
  /** A response's framing (framing.ts): persistent by the Connection rule, and read until close. */
  persistent = false;
  untilClose = false;
  /** The head's text before its Date value; '' when the value is not compared apart (dateIndex -1). */
  private lead = '';
  /** The Date value last seen, its length the one a new value must have. */
  private date = '';
  /** Where the Date value is in `headers`; -1 when it is part of the text compared whole. */
  private dateIndex = -1;
  /** The head's text after the Date value (or from its start) to the Content-Length digits; to its end when it has no Content-Length. */
  private prefix = '';
  /** lead, date and prefix: the text before the digits, compared whole when the Date has not changed. */
  private front = '';
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
    return this.front !== '';
  }

  /**
   * The length of the head at buf[pos, len) if it is the remembered one with
   * any Content-Length of at most `maxBodyBytes` (and any plain Date value of
   * the same length), whole, and at most `maxHeaderBytes` long; 0 otherwise
   * (the parser's general path reads it).
   */
  match(buf: Buffer, pos: number, len: number, maxHeaderBytes: number, maxBodyBytes: number): number {
    const front = this.front;
    const f = front.length;
    let total = f;
    if (this.lengthIndex >= 0) {
      let k = pos + f;
      const stop = Math.min(len, k + MAX_DIGITS + 1);
      let n = 0;
      for (; k < stop; k++) {
        const d = buf[k]! - 0x30;
        if (!(d >= 0 && d <= 9)) break;
        n = n * 10 + d;
      }
      const digits = k - (pos + f);
      if (digits === 0 || digits > MAX_DIGITS || n > maxBodyBytes) return this.miss();
      this.contentLength = n;
      this.digitsStart = pos + f;
      this.digitsEnd = k;
      total += digits + this.suffix.length;
    } else {
      this.contentLength = -1;
    }
    if (total > len - pos || total > maxHeaderBytes) return this.miss();
    // Strings of the bytes, compared whole by the engine (word by word); the
    // bytes compared one by one in JavaScript cost more than the copies, but
    // for a few (the CRLFCRLF after the digits).
    if (latin1Slice.call(buf, pos, pos + f) !== front && !this.newDate(buf, pos)) return this.miss();
    if (this.lengthIndex >= 0) {
      const suffix = this.suffix;
      if (suffix.length <= 8 ? !sameText(suffix, buf, this.digitsEnd, suffix.length) : latin1Slice.call(buf, this.digitsEnd, pos + total) !== suffix)
        return this.miss();
    }
    this.misses = 0;
    return total;
  }

  /**
   * Whether the text before the digits at buf[pos, pos + front.length) is
   * the remembered one with another Date value, of the same length and plain:
   * then the value is the memo's from now on (it passed what the general path
   * checks of it; the rest of the head is compared as before).
   */
  private newDate(buf: Buffer, pos: number): boolean {
    if (this.dateIndex < 0) return false;
    const lead = this.lead;
    const valueAt = pos + lead.length;
    const valueEnd = valueAt + this.date.length;
    if (latin1Slice.call(buf, pos, valueAt) !== lead || !plainValue(buf, valueAt, valueEnd)) return false;
    if (latin1Slice.call(buf, valueEnd, pos + this.front.length) !== this.prefix) return false;
    const date = latin1Slice.call(buf, valueAt, valueEnd);
    this.date = date;
    this.headers[this.dateIndex] = date;
    this.front = lead + date + this.prefix;
    return true;
  }

  /** The field list of the head match() found: the remembered one, its Content-Length value the new one's. */
  fields(buf: Buffer): string[] {
    const headers = this.headers.slice();
    if (this.lengthIndex >= 0) headers[this.lengthIndex] = latin1Text(buf, this.digitsStart, this.digitsEnd);
    return headers;
  }

  /**
   * A head the general path accepted, at buf[start, end) (its CRLFCRLF
   * included), with its framing (a response's: `persistent`, `untilClose`):
   * remembered when it is one a match() can stand for. Not a head with
   * Transfer-Encoding, nor with a Content-Length other than one field of
   * plain digits, nor CONNECT's (framed by its method), nor a 1xx response
   * (the final response follows it).
   */
  remember(buf: Buffer, start: number, end: number, head: AcceptedHead, persistent: boolean, untilClose: boolean): void {
    if (this.off) return;
    if (this.armed && ++this.misses >= MAX_MISSES) {
      this.off = true;
      this.forget();
      return;
    }
    if (end - start > MAX_HEAD || head.method === 'CONNECT' || (head.status !== 0 && head.status < 200)) return this.forget();
    const headers = head.headers;
    let lengthIndex = -1;
    let dateIndex = -1;
    for (let i = 0; i < headers.length; i += 2) {
      const name = headers[i];
      if (name === 'transfer-encoding' || (name === 'content-length' && lengthIndex >= 0)) return this.forget();
      if (name === 'content-length') lengthIndex = i + 1;
      else if (name === 'date' && dateIndex < 0 && headers[i + 1] !== '') dateIndex = i + 1;
    }
    // The value is the field line's, OWS-trimmed: it lies where the line has it.
    let from = start;
    let lead = '';
    let date = '';
    if (dateIndex >= 0) {
      date = headers[dateIndex]!;
      const at = valueAt(buf, start, end, 'date:', date);
      if (at < 0) return this.forget();
      lead = buf.toString('latin1', start, at);
      from = at + date.length;
    }
    let prefix: string;
    let suffix = '';
    if (lengthIndex >= 0) {
      const value = headers[lengthIndex]!;
      if (value.length > MAX_DIGITS || !/^[0-9]+$/.test(value)) return this.forget();
      const at = valueAt(buf, start, end, 'content-length:', value);
      if (at < 0) return this.forget();
      if (at < from) {
        // Date after the Content-Length: compared as part of the text.
        dateIndex = -1;
        lead = '';
        date = '';
        from = start;
      }
      prefix = buf.toString('latin1', from, at);
      suffix = buf.toString('latin1', at + value.length, end);
    } else {
      prefix = buf.toString('latin1', from, end);
    }
    this.lead = lead;
    this.date = date;
    this.dateIndex = dateIndex;
    this.prefix = prefix;
    this.front = lead + date + prefix;
    this.suffix = suffix;
    this.lengthIndex = lengthIndex;
    this.method = head.method;
    this.target = head.target;
    this.status = head.status;
    this.reason = head.reason;
    this.versionMinor = head.versionMinor;
    this.headers = headers.slice();
    this.keepAlive = head.keepAlive;
    this.expectContinue = head.expectContinue;
    this.persistent = persistent;
    this.untilClose = untilClose;
  }

  private forget(): void {
    this.lead = '';
    this.date = '';
    this.dateIndex = -1;
    this.prefix = '';
    this.front = '';
    this.suffix = '';
    this.headers = [];
    this.lengthIndex = -1;
  }

  private miss(): 0 {
    return 0;
  }
}

/**
 * Where the value `value` of the first field line named `name` (lower-case,
 * its colon included) starts in the head buf[start, end): after the line's
 * name, colon and OWS. -1 if not found (it always is, for a head the parser
 * accepted with that value).
 */
function valueAt(buf: Buffer, start: number, end: number, name: string, value: string): number {
  const n = name.length;
  let line = buf.indexOf(0x0a, start) + 1; // past the start line
  while (line > 0 && line < end) {
    const lf = buf.indexOf(0x0a, line);
    if (lf < 0 || lf > end) return -1;
    if (lf - line >= n && buf.toString('latin1', line, line + n).toLowerCase() === name) {
      let v = line + n;
      while (buf[v] === 0x20 || buf[v] === 0x09) v++;
      return buf.toString('latin1', v, v + value.length) === value ? v : -1;
    }
    line = lf + 1;
  }
  return -1;
}

/** Whether buf[start, end) is a field value as the parser makes one: field bytes, no OWS to trim at either end. */
function plainValue(buf: Buffer, start: number, end: number): boolean {
  if (isBlank(buf[start]!) || isBlank(buf[end - 1]!)) return false;
  for (let i = start; i < end; i++) {
    if (FIELD_CHAR[buf[i]!] === 0) return false;
  }
  return true;
}
