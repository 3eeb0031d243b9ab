// How the parser's modules refuse input: one HttpParseError per refusal, and
// one rule for which fault a refused line reports, shared by the start line,
// the header fields and the chunk-size line so that each gives the same
// verdict whichever module reads it.

import { HttpParseError, type HttpParseErrorCode } from '../errors.js';
import { CR } from './chars.js';

export function fail(code: HttpParseErrorCode, message: string): never {
  throw new HttpParseError(code, message);
}

/**
 * Refuse a line. A CR inside it (not the CR of its CRLF) is the more basic
 * fault and is reported instead, whatever the line's other faults.
 */
export function lineFail(code: HttpParseErrorCode, message: string, buf: Buffer, start: number, end: number): never {
  const cr = buf.indexOf(CR, start);
  if (cr !== -1 && cr < end) fail('HPE_BARE_CR', 'CR not followed by LF');
  fail(code, message);
}
