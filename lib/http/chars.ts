// Byte classes for the HTTP/1.1 grammar (RFC 9110 §5.6.2, §5.5, §5.6.4;
// RFC 3986 for Host and scheme), as 256-entry tables: one load per byte on
// the parser's hot path, no regexps, no branches per character class.

export const CR = 13;
export const LF = 10;
export const SP = 32;
export const HTAB = 9;
export const DQUOTE = 34;
export const COMMA = 44;
export const COLON = 58;
export const SEMICOLON = 59;
export const EQUALS = 61;
export const BACKSLASH = 92;
export const HASH = 35;
export const ASTERISK = 42;
export const SLASH = 47;
export const QUESTION = 63;

/** tchar: 1; upper-case ALPHA: 3 (bit 2 says the name needs lower-casing). */
export const TCHAR = new Uint8Array(256);
/** field-vchar and the blanks inside a value: HTAB, SP, VCHAR, obs-text. */
export const FIELD_CHAR = new Uint8Array(256);
/** request-target bytes: VCHAR (no SP, no CTL, no obs-text: RFC 3986 is ASCII). */
export const TARGET_CHAR = new Uint8Array(256);
/** The bytes after the first of a URI scheme: ALPHA, DIGIT, "+", "-", "." (RFC 3986 §3.1). */
export const SCHEME_CHAR = new Uint8Array(256);
/** uri-host [ ":" port ]: unreserved, sub-delims, ":", "[", "]", "%". */
export const HOST_CHAR = new Uint8Array(256);
/** qdtext of a quoted-string. */
export const QDTEXT = new Uint8Array(256);
/** HEXDIG value, -1 otherwise. */
export const HEX = new Int8Array(256).fill(-1);
/** ASCII lower-casing. */
const LOWER = new Uint8Array(256);

for (let c = 0; c < 256; c++) LOWER[c] = c;
for (let c = 0x41; c <= 0x5a; c++) LOWER[c] = c + 0x20;
for (const ch of "!#$%&'*+-.^_`|~") TCHAR[ch.charCodeAt(0)] = 1;
for (let c = 0x30; c <= 0x39; c++) {
  TCHAR[c] = 1;
  HOST_CHAR[c] = 1;
  HEX[c] = c - 0x30;
}
for (let c = 0x61; c <= 0x7a; c++) {
  TCHAR[c] = 1;
  HOST_CHAR[c] = 1;
}
for (let c = 0x41; c <= 0x5a; c++) {
  TCHAR[c] = 3;
  HOST_CHAR[c] = 1;
}
for (let c = 0; c < 6; c++) {
  HEX[0x61 + c] = 10 + c;
  HEX[0x41 + c] = 10 + c;
}
for (const ch of "-._~!$&'()*+,;=:[]%") HOST_CHAR[ch.charCodeAt(0)] = 1;
FIELD_CHAR[HTAB] = 1;
QDTEXT[HTAB] = 1;
for (let c = 0x20; c <= 0x7e; c++) {
  FIELD_CHAR[c] = 1;
  if (c !== SP) TARGET_CHAR[c] = 1;
  if (c !== DQUOTE && c !== BACKSLASH) QDTEXT[c] = 1;
}
for (let c = 0x80; c <= 0xff; c++) {
  FIELD_CHAR[c] = 1;
  QDTEXT[c] = 1;
}
for (const ch of '+-.') SCHEME_CHAR[ch.charCodeAt(0)] = 1;
for (let c = 0x30; c <= 0x39; c++) SCHEME_CHAR[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) {
  SCHEME_CHAR[c] = 1;
  SCHEME_CHAR[c + 0x20] = 1;
}

/** buf[start, end) equals `lower` (an all lower-case ASCII literal), ignoring ASCII case. */
export function equalsIgnoreCase(buf: Buffer, start: number, end: number, lower: string): boolean {
  if (end - start !== lower.length) return false;
  for (let i = 0; i < lower.length; i++) {
    if (LOWER[buf[start + i]] !== lower.charCodeAt(i)) return false;
  }
  return true;
}

export function isBlank(c: number): boolean {
  return c === SP || c === HTAB;
}

// The field names most requests carry, lower-cased, by length: a name in
// this list is given as this very string, with no copy and no lower-casing.
// prettier-ignore
const COMMON_NAMES = ['host', 'content-type', 'content-length', 'user-agent', 'connection', 'accept', 'accept-encoding', 'content-encoding', 'transfer-encoding', 'expect', 'authorization', 'date', 'te', 'cookie', 'referer', 'keep-alive'];
const NAMES_BY_LENGTH: string[][] = [];
for (const name of COMMON_NAMES) (NAMES_BY_LENGTH[name.length] ??= []).push(name);

/**
 * The lower-cased string of a common field name in buf[start, end); null
 * for any other name.
 */
export function commonFieldName(buf: Buffer, start: number, end: number): string | null {
  const names = NAMES_BY_LENGTH[end - start];
  if (names === undefined) return null;
  for (const name of names) if (equalsIgnoreCase(buf, start, end, name)) return name;
  return null;
}

// Short strings a peer sends again and again (its Host, User-Agent and
// Content-Type values, its method and request-target) are found here by a
// hash of their length and three bytes, and given again after a comparison
// byte by byte, instead of a new string per request. Two slots per hash, the
// newer string first, so that two strings of one hash do not evict each
// other. A miss costs the comparisons and takes the first slot. Server-wide
// and bounded (512 strings of at most 64 bytes): nothing is kept per
// connection.
const SHARED_BITS = 9;
const SHARED_MAX = 64;
const shared: string[] = new Array<string>(1 << SHARED_BITS).fill('');

/** buf[start, end) as a latin1 string: the same string as `buf.toString('latin1', start, end)`, often one already made. */
export function latin1Text(buf: Buffer, start: number, end: number): string {
  const n = end - start;
  if (n <= 0) return '';
  if (n > SHARED_MAX) return buf.toString('latin1', start, end);
  const key = n ^ (buf[start] << 8) ^ (buf[start + (n >> 1)] << 16) ^ (buf[end - 1] << 24);
  const slot = (Math.imul(key, 0x9e3779b1) >>> (32 - SHARED_BITS)) & ~1;
  const first = shared[slot];
  if (sameText(first, buf, start, n)) return first;
  const second = shared[slot + 1];
  if (sameText(second, buf, start, n)) return second;
  const text = buf.toString('latin1', start, end);
  shared[slot + 1] = first;
  shared[slot] = text;
  return text;
}

/** Whether buf[start, start + n) holds the characters of `text`, as latin1. */
export function sameText(text: string, buf: Buffer, start: number, n: number): boolean {
  if (text.length !== n) return false;
  let i = 0;
  while (i < n && text.charCodeAt(i) === buf[start + i]) i++;
  return i === n;
}
