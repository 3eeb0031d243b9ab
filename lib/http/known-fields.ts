// Header field lines a peer sends again and again (`Host: 127.0.0.1:8080`,
// `Content-Type: text/xml`), remembered once the parser has accepted them:
// the same bytes again are the same field, already checked, with the same
// name and value strings, so the parser compares the line once instead of
// checking its name and value byte by byte and slicing them. Only lines the
// parser accepted are remembered, so a line found here would have passed;
// what depends on more than the line (the field count, framing, trailers,
// the line limits) is still decided by the parser every time. Server-wide
// and bounded (256 lines of at most 96 bytes): nothing is kept per
// connection. Request lines were remembered the same way and measured: no
// gain in instructions, so they are parsed each time.

import { sameText } from './chars.js';

/** A field line as the parser accepted it. */
export interface KnownField {
  /** The whole line, without its CRLF, as latin1. */
  readonly line: string;
  /** The name, lower-cased. */
  readonly name: string;
  /** The value, OWS-trimmed. */
  readonly value: string;
  /** Where the trimmed value lies in the line. */
  readonly valueStart: number;
  readonly valueEnd: number;
}

const MAX_LINE = 96;
const FIELD_BITS = 8;
const fields: Array<KnownField | null> = new Array<KnownField | null>(1 << FIELD_BITS).fill(null);

/** Two slots per hash of the line's length and four of its bytes. */
function slotOf(buf: Buffer, start: number, n: number, bits: number): number {
  const key = n ^ (buf[start] << 8) ^ (buf[start + (n >> 1)] << 16) ^ (buf[start + n - 1] << 24) ^ (buf[start + (n >> 2)] << 4);
  return (Math.imul(key, 0x9e3779b1) >>> (32 - bits)) & ~1;
}

function find<T extends { readonly line: string }>(table: Array<T | null>, bits: number, buf: Buffer, start: number, end: number): T | null {
  const n = end - start;
  if (n > MAX_LINE || n <= 0) return null;
  const slot = slotOf(buf, start, n, bits);
  const first = table[slot];
  if (first !== null && sameText(first.line, buf, start, n)) return first;
  const second = table[slot + 1];
  if (second !== null && sameText(second.line, buf, start, n)) return second;
  return null;
}

function remember<T>(table: Array<T | null>, bits: number, buf: Buffer, start: number, end: number, entry: T): void {
  const slot = slotOf(buf, start, end - start, bits);
  // The newer line first; the one it displaces moves to the second slot.
  table[slot + 1] = table[slot];
  table[slot] = entry;
}

/** The field whose line is buf[start, end), if the parser accepted these very bytes before; null otherwise. */
export function knownField(buf: Buffer, start: number, end: number): KnownField | null {
  return find(fields, FIELD_BITS, buf, start, end);
}

/** A line the parser has just accepted: name and value as it made them, the value at buf[vs, ve). */
export function rememberField(buf: Buffer, start: number, end: number, name: string, value: string, vs: number, ve: number): void {
  if (end - start > MAX_LINE) return;
  remember(fields, FIELD_BITS, buf, start, end, { line: buf.toString('latin1', start, end), name, value, valueStart: vs - start, valueEnd: ve - start });
}
