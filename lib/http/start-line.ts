// The start line of a message (RFC 9112 §3, §4): a request line with its
// request-target forms, or a status line; and the HTTP version both carry.
// parseRequestLine() and parseStatusLine() read one complete line, CRLF
// excluded, straight from the caller's buffer, and write what it says into a
// StartLine the parser owns and reuses, so a message costs no object here;
// methodPrefix() reads a request line's first bytes as they arrive.

import { CR, SP, COLON, HASH, ASTERISK, SLASH, QUESTION, TCHAR, FIELD_CHAR, TARGET_CHAR, SCHEME_CHAR, HOST_CHAR, latin1Text } from './chars.js';
import { fail, lineFail } from './parse-fail.js';

/** What a start line says. Fields a line does not carry keep their reset values. */
export interface StartLine {
  /** Request: the method token, case kept. */
  method: string;
  /** Request: the request-target as sent (latin1). */
  target: string;
  /** Response: the status code. */
  status: number;
  /** Response: the reason phrase ('' when absent). */
  reason: string;
  /** 0 or 1 (HTTP/1.2+ is treated as 1.1, RFC 9110 §6.2). */
  versionMinor: number;
}

export function resetStartLine(line: StartLine): void {
  line.method = '';
  line.target = '';
  line.status = 0;
  line.reason = '';
  line.versionMinor = 1;
}

const VERSION_INVALID = -1;
const VERSION_UNSUPPORTED = -2;

/**
 * `HTTP/` DIGIT `.` DIGIT at buf[start, start + 8): the minor version (0, or
 * 1 for 1.1 and above), VERSION_INVALID or VERSION_UNSUPPORTED (major not 1).
 */
function parseVersion(buf: Buffer, start: number): number {
  const major = buf[start + 5] - 0x30;
  const minor = buf[start + 7] - 0x30;
  if (
    buf[start] !== 0x48 || // H
    buf[start + 1] !== 0x54 || // T
    buf[start + 2] !== 0x54 || // T
    buf[start + 3] !== 0x50 || // P
    buf[start + 4] !== 0x2f || // /
    buf[start + 6] !== 0x2e || // .
    !(major >= 0 && major <= 9) ||
    !(minor >= 0 && minor <= 9)
  ) {
    return VERSION_INVALID;
  }
  if (major !== 1) return VERSION_UNSUPPORTED;
  return minor === 0 ? 0 : 1;
}

/** The minor version of the start line buf[start, end), whose version is at `at`; refuses the line otherwise. */
function lineVersion(buf: Buffer, at: number, start: number, end: number): number {
  const minor = parseVersion(buf, at);
  if (minor === VERSION_INVALID) lineFail('HPE_INVALID_VERSION', 'invalid HTTP version', buf, start, end);
  if (minor === VERSION_UNSUPPORTED) lineFail('HPE_VERSION_NOT_SUPPORTED', 'HTTP major version is not 1', buf, start, end);
  return minor;
}

/**
 * The method of a request line as its bytes arrive, before the line is
 * complete: a peer that is not speaking HTTP (a TLS hello, binary noise)
 * is refused at once rather than at the head timeout. Looks at
 * chunk[from, to), the bytes after the `lineLen` already received of the
 * line, each once; `pendingCR` says the bytes received so far end with a CR.
 * Returns the index of the SP that ends the method, or -1 when it has not
 * arrived. parseRequestLine() gives the same verdicts on the whole line.
 */
export function methodPrefix(chunk: Buffer, from: number, to: number, lineLen: number, pendingCR: boolean): number {
  if (from === to) return -1;
  // A CR that ended the previous piece is followed by this piece's first byte, not by LF.
  if (pendingCR) fail('HPE_BARE_CR', 'CR not followed by LF');
  for (let i = from; i < to; i++) {
    const c = chunk[i];
    if (TCHAR[c] !== 0) continue;
    if (c === SP && lineLen + (i - from) > 0) return i;
    if (c === CR) {
      if (i === to - 1) return -1; // perhaps the CR of the line's CRLF: the next byte decides
      fail('HPE_BARE_CR', 'CR not followed by LF');
    }
    fail('HPE_INVALID_METHOD', 'invalid method');
  }
  return -1;
}

/** method SP request-target SP HTTP-version (RFC 9112 §3), at buf[start, end). */
export function parseRequestLine(line: StartLine, buf: Buffer, start: number, end: number): void {
  let i = start;
  while (i < end && TCHAR[buf[i]] !== 0) i++;
  // As methodPrefix() decides before the line is complete: the method's first fault wins.
  if (i < end && buf[i] === CR) fail('HPE_BARE_CR', 'CR not followed by LF');
  if (i === start || i === end || buf[i] !== SP) fail('HPE_INVALID_METHOD', 'invalid method');
  const targetStart = i + 1;
  if (targetStart === end || buf[targetStart] === SP) {
    lineFail('HPE_INVALID_TARGET', 'empty request-target', buf, start, end);
  }
  if (buf[end - 1] === SP) lineFail('HPE_INVALID_VERSION', 'space after the HTTP version', buf, start, end);
  // The version follows the last SP; any other SP lies inside the target.
  const lastSp = buf.lastIndexOf(SP, end - 1);
  const targetEnd = lastSp > i ? lastSp : end;
  for (let j = targetStart; j < targetEnd; j++) {
    if (TARGET_CHAR[buf[j]] === 0) lineFail('HPE_INVALID_TARGET', 'invalid byte in request-target', buf, start, end);
  }
  if (targetEnd === end || end - lastSp !== 9) {
    lineFail('HPE_INVALID_VERSION', 'missing or invalid HTTP version', buf, start, end);
  }
  line.versionMinor = lineVersion(buf, lastSp + 1, start, end);
  const method = latin1Text(buf, start, i);
  line.method = method;
  if (!targetFormFits(method, buf, targetStart, targetEnd)) {
    lineFail('HPE_INVALID_TARGET', `request-target not in a form ${method} takes`, buf, start, end);
  }
  line.target = latin1Text(buf, targetStart, targetEnd);
}

/** HTTP-version SP 3DIGIT [ SP reason-phrase ] (RFC 9112 §4; a missing reason is tolerated), at buf[start, end). */
export function parseStatusLine(line: StartLine, buf: Buffer, start: number, end: number): void {
  if (end - start < 8 || (end - start > 8 && buf[start + 8] !== SP)) {
    lineFail('HPE_INVALID_VERSION', 'invalid HTTP version', buf, start, end);
  }
  line.versionMinor = lineVersion(buf, start, start, end);
  const s = start + 9;
  if (end - s < 3) lineFail('HPE_INVALID_STATUS', 'missing status code', buf, start, end);
  const d0 = buf[s] - 0x30;
  const d1 = buf[s + 1] - 0x30;
  const d2 = buf[s + 2] - 0x30;
  if (!(d0 >= 1 && d0 <= 5) || !(d1 >= 0 && d1 <= 9) || !(d2 >= 0 && d2 <= 9) || (end > s + 3 && buf[s + 3] !== SP)) {
    lineFail('HPE_INVALID_STATUS', 'invalid status code', buf, start, end);
  }
  for (let j = s + 4; j < end; j++) {
    if (FIELD_CHAR[buf[j]] === 0) lineFail('HPE_INVALID_STATUS', 'invalid byte in reason phrase', buf, start, end);
  }
  line.status = d0 * 100 + d1 * 10 + d2;
  line.reason = end > s + 4 ? buf.toString('latin1', s + 4, end) : '';
}

/**
 * The four forms of request-target (RFC 9112 §3.2): authority-form for
 * CONNECT and only there, asterisk-form for OPTIONS and only there,
 * otherwise origin-form (`/path?query`) or absolute-form (`scheme://host...`).
 * Anything else (`GET foo`, `GET ?x://y/RPC2`) would leave each reader to
 * guess where the path starts.
 */
function targetFormFits(method: string, buf: Buffer, start: number, end: number): boolean {
  const c0 = buf[start];
  if (method === 'CONNECT') return isAuthorityForm(buf, start, end);
  if (c0 === SLASH) return true;
  if (c0 === ASTERISK && end - start === 1) return method === 'OPTIONS';
  return isAbsoluteForm(buf, start, end);
}

/** uri-host ":" port, the port required (RFC 9110 §9.3.6). */
function isAuthorityForm(buf: Buffer, start: number, end: number): boolean {
  let colon = end - 1;
  while (colon > start && buf[colon] >= 0x30 && buf[colon] <= 0x39) colon--;
  if (colon === start || colon === end - 1 || buf[colon] !== COLON) return false;
  for (let i = start; i < colon; i++) if (HOST_CHAR[buf[i]] === 0) return false;
  return true;
}

/** scheme "://" authority [ path ] [ "?" query ], with a non-empty authority. */
function isAbsoluteForm(buf: Buffer, start: number, end: number): boolean {
  const c0 = buf[start];
  if (!((c0 >= 0x41 && c0 <= 0x5a) || (c0 >= 0x61 && c0 <= 0x7a))) return false;
  let i = start + 1;
  while (i < end && SCHEME_CHAR[buf[i]] !== 0) i++;
  if (end - i < 4 || buf[i] !== COLON || buf[i + 1] !== SLASH || buf[i + 2] !== SLASH) return false;
  const c = buf[i + 3];
  return c !== SLASH && c !== QUESTION && c !== HASH;
}
