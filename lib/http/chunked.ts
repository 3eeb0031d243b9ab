// The chunked transfer coding (RFC 9112 §7.1): the chunk-size line with its
// extensions, and the CRLF after chunk data. The parser's driver carries the
// coding through its states: the size line is read by its line reader, chunk
// data is counted down like a Content-Length body, the CRLF is two one-byte
// states, and the trailer section is read as header fields (never merged
// into the head).

import { CR, LF, DQUOTE, SEMICOLON, EQUALS, BACKSLASH, TCHAR, FIELD_CHAR, QDTEXT, HEX, isBlank } from './chars.js';
import { fail, lineFail } from './parse-fail.js';

/**
 * chunk-size [ chunk-ext ] at buf[start, end), CRLF excluded: the size (0 for
 * the last chunk). At most 16 hex digits and a safe integer, so the sum of
 * the sizes stays exact; the extensions are validated and ignored.
 */
export function parseChunkSize(buf: Buffer, start: number, end: number): number {
  let i = start;
  let size = 0;
  for (; i < end; i++) {
    const h = HEX[buf[i]];
    if (h < 0) break;
    size = size * 16 + h;
  }
  if (i === start || i - start > 16 || size > Number.MAX_SAFE_INTEGER) {
    lineFail('HPE_INVALID_CHUNK_SIZE', 'invalid chunk size', buf, start, end);
  }
  if (i < end) chunkExtensions(buf, i, end, start);
  return size;
}

/**
 * *( BWS ";" BWS ext-name [ BWS "=" BWS ( token / quoted-string ) ] ),
 * validated and ignored. No blank may end the line.
 */
function chunkExtensions(buf: Buffer, i: number, end: number, lineStart: number): void {
  for (;;) {
    while (i < end && isBlank(buf[i])) i++;
    if (i === end || buf[i] !== SEMICOLON) break;
    i++;
    while (i < end && isBlank(buf[i])) i++;
    const nameStart = i;
    while (i < end && TCHAR[buf[i]] !== 0) i++;
    if (i === nameStart) break;
    let j = i;
    while (j < end && isBlank(buf[j])) j++;
    if (j < end && buf[j] === EQUALS) {
      j++;
      while (j < end && isBlank(buf[j])) j++;
      if (j < end && buf[j] === DQUOTE) {
        j++;
        while (j < end) {
          const c = buf[j];
          if (c === DQUOTE) break;
          if (c === BACKSLASH) {
            j++;
            if (j === end || FIELD_CHAR[buf[j]] === 0) break;
          } else if (QDTEXT[c] === 0) {
            break;
          }
          j++;
        }
        if (j === end || buf[j] !== DQUOTE) break;
        i = j + 1;
      } else {
        const valueStart = j;
        while (j < end && TCHAR[buf[j]] !== 0) j++;
        if (j === valueStart) break;
        i = j;
      }
    }
    if (i === end) return;
  }
  lineFail('HPE_INVALID_CHUNK_SIZE', 'invalid chunk extension', buf, lineStart, end);
}

/** The byte after a chunk's data: the CR of its CRLF. */
export function chunkDataCR(c: number): void {
  if (c === CR) return;
  if (c === LF) fail('HPE_BARE_LF', 'LF without CR after chunk data');
  fail('HPE_INVALID_CHUNK', 'chunk data not followed by CRLF');
}

/** The byte after that CR. */
export function chunkDataLF(c: number): void {
  if (c !== LF) fail('HPE_BARE_CR', 'CR not followed by LF after chunk data');
}
