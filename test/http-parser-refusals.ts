// The refusal table of the HTTP parser: one row per forbidden input, each
// with the code and status it must be refused with, grouped by behaviour.
// Each test/http-parser-*.test.ts file runs its groups; the driver's file
// checks that the groups together cover every HttpParseError code. Row names
// and inputs are as they were in the single test file they came from.

import type { HttpParseErrorCode } from '../lib/errors.js';
import type { RunOptions } from './http-parser-harness.js';

export interface Row {
  code: HttpParseErrorCode;
  status: number;
  name: string;
  input: string;
  opts?: RunOptions;
}

export const H = 'Host: a\r\n';
export const GET = `GET / HTTP/1.1\r\n${H}`;
export const POST_TE = `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n`;
const RESPONSE = { kind: 'response' } as const;
export const manyFields = (n: number, size = 10): string => {
  let s = '';
  for (let i = 0; i < n; i++) s += `X-${i}: ${'v'.repeat(size)}\r\n`;
  return s;
};

// prettier-ignore
export const REFUSALS = {
  /** Request line: method, request-target and its forms, version, length. */
  requestLine: [
    { code: 'HPE_INVALID_METHOD', status: 400, name: 'a method with a non-token byte', input: `G(T / HTTP/1.1\r\n${H}\r\n` },
    { code: 'HPE_INVALID_METHOD', status: 400, name: 'a request line starting with a space', input: ` GET / HTTP/1.1\r\n${H}\r\n` },
    { code: 'HPE_INVALID_METHOD', status: 400, name: 'a method alone', input: 'GET\r\n\r\n' },
    { code: 'HPE_INVALID_METHOD', status: 400, name: 'a tab after the method', input: `GET\t/ HTTP/1.1\r\n${H}\r\n` },
    { code: 'HPE_INVALID_METHOD', status: 400, name: 'NUL in the method', input: `G\0T / HTTP/1.1\r\n${H}\r\n` },
    { code: 'HPE_INVALID_METHOD', status: 400, name: 'a TLS hello, before any LF', input: '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03' },
    { code: 'HPE_INVALID_METHOD', status: 400, name: 'a bad method byte, before a bare CR', input: `G(T /\r HTTP/1.1\r\n${H}\r\n` },
    { code: 'HPE_INVALID_METHOD', status: 400, name: 'a bad method byte in a line over its limit', input: `G(T /${'a'.repeat(9000)} HTTP/1.1\r\n${H}\r\n` },
    { code: 'HPE_INVALID_METHOD', status: 400, name: 'a leading space, before a bare CR', input: ` GET /\r HTTP/1.1\r\n${H}\r\n` },
    { code: 'HPE_INVALID_TARGET', status: 400, name: 'two spaces after the method', input: `GET  / HTTP/1.1\r\n${H}\r\n` },
    { code: 'HPE_INVALID_TARGET', status: 400, name: 'a space inside the target', input: `GET /a b HTTP/1.1\r\n${H}\r\n` },
    { code: 'HPE_INVALID_TARGET', status: 400, name: 'an empty target', input: `GET  HTTP/1.1\r\n${H}\r\n` },
    { code: 'HPE_INVALID_TARGET', status: 400, name: 'a CTL in the target', input: `GET /\x01 HTTP/1.1\r\n${H}\r\n` },
    { code: 'HPE_INVALID_TARGET', status: 400, name: 'DEL in the target', input: `GET /\x7f HTTP/1.1\r\n${H}\r\n` },
    { code: 'HPE_INVALID_TARGET', status: 400, name: 'a tab in the target', input: `GET /a\tb HTTP/1.1\r\n${H}\r\n` },
    { code: 'HPE_INVALID_TARGET', status: 400, name: 'obs-text in the target', input: `GET /caf\xe9 HTTP/1.1\r\n${H}\r\n` },
    { code: 'HPE_INVALID_TARGET', status: 400, name: 'a target in no form', input: `GET foo HTTP/1.1\r\n${H}\r\n` },
    { code: 'HPE_INVALID_TARGET', status: 400, name: 'a query before a scheme', input: `GET ?x://y/RPC2 HTTP/1.1\r\n${H}\r\n` },
    { code: 'HPE_INVALID_TARGET', status: 400, name: 'a scheme without an authority', input: `GET http:/RPC2 HTTP/1.1\r\n${H}\r\n` },
    { code: 'HPE_INVALID_TARGET', status: 400, name: 'an empty authority', input: `GET http:///RPC2 HTTP/1.1\r\n${H}\r\n` },
    { code: 'HPE_INVALID_TARGET', status: 400, name: 'a scheme starting with a digit', input: `GET 1http://a/ HTTP/1.1\r\n${H}\r\n` },
    { code: 'HPE_INVALID_TARGET', status: 400, name: 'asterisk-form for GET', input: `GET * HTTP/1.1\r\n${H}\r\n` },
    { code: 'HPE_INVALID_TARGET', status: 400, name: 'authority-form for GET', input: `GET a:80 HTTP/1.1\r\n${H}\r\n` },
    { code: 'HPE_INVALID_TARGET', status: 400, name: 'origin-form for CONNECT', input: `CONNECT /a HTTP/1.1\r\n${H}\r\n` },
    { code: 'HPE_INVALID_TARGET', status: 400, name: 'CONNECT without a port', input: `CONNECT a HTTP/1.1\r\n${H}\r\n` },
    { code: 'HPE_INVALID_TARGET', status: 400, name: 'CONNECT with an empty port', input: `CONNECT a: HTTP/1.1\r\n${H}\r\n` },
    { code: 'HPE_INVALID_TARGET', status: 400, name: 'CONNECT with userinfo', input: `CONNECT u@a:1 HTTP/1.1\r\n${H}\r\n` },
    { code: 'HPE_INVALID_TARGET', status: 400, name: 'CONNECT with only a port', input: `CONNECT :443 HTTP/1.1\r\n${H}\r\n` },
    { code: 'HPE_INVALID_VERSION', status: 400, name: 'a lower-case protocol name', input: `GET / http/1.1\r\n${H}\r\n` },
    { code: 'HPE_INVALID_VERSION', status: 400, name: 'a missing version', input: 'GET /\r\n\r\n' },
    { code: 'HPE_INVALID_VERSION', status: 400, name: 'a version without minor', input: `GET / HTTP/1.\r\n${H}\r\n` },
    { code: 'HPE_INVALID_VERSION', status: 400, name: 'a byte after the version', input: `GET / HTTP/1.1x\r\n${H}\r\n` },
    { code: 'HPE_INVALID_VERSION', status: 400, name: 'a trailing space after the version', input: `GET / HTTP/1.1 \r\n${H}\r\n` },
    { code: 'HPE_INVALID_VERSION', status: 400, name: 'a two-digit major version', input: `GET / HTTP/11.1\r\n${H}\r\n` },
    { code: 'HPE_INVALID_VERSION', status: 400, name: 'a comma in the version', input: `GET / HTTP/1,1\r\n${H}\r\n` },
    { code: 'HPE_VERSION_NOT_SUPPORTED', status: 505, name: 'HTTP/2.0', input: `GET / HTTP/2.0\r\n${H}\r\n` },
    { code: 'HPE_VERSION_NOT_SUPPORTED', status: 505, name: 'HTTP/0.9', input: 'GET / HTTP/0.9\r\n\r\n' },
    { code: 'HPE_VERSION_NOT_SUPPORTED', status: 505, name: 'HTTP/3.1', input: `GET / HTTP/3.1\r\n${H}\r\n` },
    { code: 'HPE_URI_TOO_LONG', status: 414, name: 'a long request line', input: `GET /${'a'.repeat(9000)} HTTP/1.1\r\n${H}\r\n` },
    { code: 'HPE_URI_TOO_LONG', status: 414, name: 'a long request line before its CRLF arrives', input: `GET /${'a'.repeat(8200)}` },
  ],
  /** Line endings: a bare CR or a bare LF anywhere in a head, a chunk-size line or a trailer. */
  lineEndings: [
    { code: 'HPE_BARE_CR', status: 400, name: 'a bare CR ending the request line', input: `GET / HTTP/1.1\r${H}\r\n` },
    { code: 'HPE_BARE_CR', status: 400, name: 'a bare CR inside the request line', input: `GET /\r HTTP/1.1\r\n${H}\r\n` },
    { code: 'HPE_BARE_CR', status: 400, name: 'a bare CR inside the method', input: `GE\rT / HTTP/1.1\r\n${H}\r\n` },
    { code: 'HPE_BARE_CR', status: 400, name: 'a bare CR after leading empty lines', input: `\r\n\rGET / HTTP/1.1\r\n${H}\r\n` },
    { code: 'HPE_BARE_CR', status: 400, name: 'a bare CR in a field value', input: `${GET}X: a\rb\r\n\r\n` },
    { code: 'HPE_BARE_CR', status: 400, name: 'a bare CR in a field name', input: `${GET}X\r: a\r\n\r\n` },
    { code: 'HPE_BARE_CR', status: 400, name: 'a bare CR before the final CRLF', input: `${GET}\r\r\n` },
    { code: 'HPE_BARE_CR', status: 400, name: 'a bare CR in a chunk-size line', input: `${POST_TE}5\rX\r\nhello\r\n0\r\n\r\n` },
    { code: 'HPE_BARE_CR', status: 400, name: 'a bare CR after chunk data', input: `${POST_TE}5\r\nhello\rX0\r\n\r\n` },
    { code: 'HPE_BARE_LF', status: 400, name: 'a bare LF ending the request line', input: `GET / HTTP/1.1\n${H}\r\n` },
    { code: 'HPE_BARE_LF', status: 400, name: 'a bare LF before the request line', input: `\n${GET}\r\n` },
    { code: 'HPE_BARE_LF', status: 400, name: 'a bare LF ending a field', input: `GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n` },
    { code: 'HPE_BARE_LF', status: 400, name: 'a bare LF ending the head', input: `${GET}\n` },
    { code: 'HPE_BARE_LF', status: 400, name: 'a bare LF ending a chunk-size line', input: `${POST_TE}5\nhello\r\n0\r\n\r\n` },
    { code: 'HPE_BARE_LF', status: 400, name: 'a bare LF after chunk data', input: `${POST_TE}5\r\nhello\n0\r\n\r\n` },
    { code: 'HPE_BARE_LF', status: 400, name: 'a bare LF ending a trailer', input: `${POST_TE}0\r\nX: a\n\r\n` },
  ],
  /** Field lines, in the head and in the trailer section. */
  fields: [
    { code: 'HPE_INVALID_HEADER_TOKEN', status: 400, name: 'a field line without a colon', input: `${GET}Foo\r\n\r\n` },
    { code: 'HPE_INVALID_HEADER_TOKEN', status: 400, name: 'an empty field name', input: `${GET}: x\r\n\r\n` },
    { code: 'HPE_INVALID_HEADER_TOKEN', status: 400, name: 'a non-token byte in a field name', input: `${GET}Fo(o: x\r\n\r\n` },
    { code: 'HPE_INVALID_HEADER_TOKEN', status: 400, name: 'a space inside a field name', input: `${GET}Foo Bar: x\r\n\r\n` },
    { code: 'HPE_INVALID_HEADER_TOKEN', status: 400, name: 'obs-text in a field name', input: `${GET}Caf\xe9: x\r\n\r\n` },
    { code: 'HPE_HEADER_WHITESPACE', status: 400, name: 'Transfer-Encoding : chunked', input: `POST / HTTP/1.1\r\n${H}Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n` },
    { code: 'HPE_HEADER_WHITESPACE', status: 400, name: 'a tab before the colon', input: `POST / HTTP/1.1\r\n${H}Content-Length\t: 0\r\n\r\n` },
    { code: 'HPE_OBS_FOLD', status: 400, name: 'a folded field value', input: `${GET}X: a\r\n b\r\n\r\n` },
    { code: 'HPE_OBS_FOLD', status: 400, name: 'an obs-folded Transfer-Encoding', input: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: gzip,\r\n chunked\r\n\r\n0\r\n\r\n` },
    { code: 'HPE_OBS_FOLD', status: 400, name: 'a first field line starting with a tab', input: `GET / HTTP/1.1\r\n\tHost: a\r\n\r\n` },
    { code: 'HPE_INVALID_HEADER_VALUE', status: 400, name: 'NUL in a field value', input: `${GET}X: a\0b\r\n\r\n` },
    { code: 'HPE_INVALID_HEADER_VALUE', status: 400, name: 'Transfer-Encoding:\\x0bchunked', input: `POST / HTTP/1.1\r\n${H}Transfer-Encoding:\x0bchunked\r\n\r\n0\r\n\r\n` },
    { code: 'HPE_INVALID_HEADER_VALUE', status: 400, name: 'DEL in a field value', input: `${GET}X: \x7f\r\n\r\n` },
    { code: 'HPE_INVALID_HEADER_VALUE', status: 400, name: 'a CTL in a trailer value', input: `${POST_TE}0\r\nX: \x01\r\n\r\n` },
    { code: 'HPE_INVALID_CONTENT_LENGTH', status: 400, name: 'Content-Length in a trailer section', input: `${POST_TE}0\r\nContent-Length: 40\r\n\r\n` },
    { code: 'HPE_INVALID_TRANSFER_ENCODING', status: 400, name: 'Transfer-Encoding in a trailer section', input: `${POST_TE}0\r\nTransfer-Encoding: chunked\r\n\r\n` },
  ],
  /** Host. */
  host: [
    { code: 'HPE_MISSING_HOST', status: 400, name: 'HTTP/1.1 without Host', input: 'GET / HTTP/1.1\r\n\r\n' },
    { code: 'HPE_DUPLICATE_HOST', status: 400, name: 'HTTP/1.1 with two Hosts', input: 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n' },
    { code: 'HPE_DUPLICATE_HOST', status: 400, name: 'HTTP/1.1 with the same Host twice', input: 'GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n' },
    { code: 'HPE_DUPLICATE_HOST', status: 400, name: 'HTTP/1.0 with two Hosts', input: 'GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n' },
    { code: 'HPE_INVALID_HOST', status: 400, name: 'a space in Host', input: 'GET / HTTP/1.1\r\nHost: a b\r\n\r\n' },
    { code: 'HPE_INVALID_HOST', status: 400, name: 'a slash in Host', input: 'GET / HTTP/1.1\r\nHost: a/b\r\n\r\n' },
    { code: 'HPE_INVALID_HOST', status: 400, name: 'userinfo in Host', input: 'GET / HTTP/1.1\r\nHost: u@a\r\n\r\n' },
  ],
  /** Content-Length. */
  contentLength: [
    { code: 'HPE_INVALID_CONTENT_LENGTH', status: 400, name: 'Content-Length: +5', input: `POST / HTTP/1.1\r\n${H}Content-Length: +5\r\n\r\nhello` },
    { code: 'HPE_INVALID_CONTENT_LENGTH', status: 400, name: 'Content-Length: -1', input: `POST / HTTP/1.1\r\n${H}Content-Length: -1\r\n\r\n` },
    { code: 'HPE_INVALID_CONTENT_LENGTH', status: 400, name: 'Content-Length: 0x5', input: `POST / HTTP/1.1\r\n${H}Content-Length: 0x5\r\n\r\nhello` },
    { code: 'HPE_INVALID_CONTENT_LENGTH', status: 400, name: 'Content-Length: 5 5', input: `POST / HTTP/1.1\r\n${H}Content-Length: 5 5\r\n\r\nhello` },
    { code: 'HPE_INVALID_CONTENT_LENGTH', status: 400, name: 'Content-Length: 1, 2', input: `POST / HTTP/1.1\r\n${H}Content-Length: 1, 2\r\n\r\nab` },
    { code: 'HPE_INVALID_CONTENT_LENGTH', status: 400, name: 'two Content-Length fields with different values', input: `POST / HTTP/1.1\r\n${H}Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!` },
    { code: 'HPE_INVALID_CONTENT_LENGTH', status: 400, name: 'an empty Content-Length', input: `POST / HTTP/1.1\r\n${H}Content-Length:\r\n\r\n` },
    { code: 'HPE_INVALID_CONTENT_LENGTH', status: 400, name: 'an empty Content-Length list element', input: `POST / HTTP/1.1\r\n${H}Content-Length: 5,\r\n\r\nhello` },
    { code: 'HPE_INVALID_CONTENT_LENGTH', status: 400, name: 'a Content-Length of 16 digits', input: `POST / HTTP/1.1\r\n${H}Content-Length: 1000000000000000\r\n\r\n` },
    { code: 'HPE_INVALID_CONTENT_LENGTH', status: 400, name: 'a Content-Length beyond 2^53', input: `POST / HTTP/1.1\r\n${H}Content-Length: 18446744073709551621\r\n\r\n` },
    { code: 'HPE_INVALID_CONTENT_LENGTH', status: 400, name: 'a decimal Content-Length', input: `POST / HTTP/1.1\r\n${H}Content-Length: 5.0\r\n\r\n` },
  ],
  /** Transfer-Encoding, and Content-Length beside it (request smuggling). */
  transferEncoding: [
    { code: 'HPE_CL_AND_TE', status: 400, name: 'Content-Length then Transfer-Encoding', input: `POST / HTTP/1.1\r\n${H}Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n` },
    { code: 'HPE_CL_AND_TE', status: 400, name: 'Transfer-Encoding then Content-Length', input: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nContent-Length: 0\r\n\r\n0\r\n\r\n` },
    { code: 'HPE_INVALID_TRANSFER_ENCODING', status: 400, name: 'Transfer-Encoding: chunked, identity', input: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n` },
    { code: 'HPE_INVALID_TRANSFER_ENCODING', status: 400, name: 'Transfer-Encoding: xchunked', input: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n` },
    { code: 'HPE_INVALID_TRANSFER_ENCODING', status: 400, name: 'Transfer-Encoding: gzip', input: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: gzip\r\n\r\n` },
    { code: 'HPE_INVALID_TRANSFER_ENCODING', status: 400, name: 'chunked with a parameter', input: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked;q=1\r\n\r\n0\r\n\r\n` },
    { code: 'HPE_INVALID_TRANSFER_ENCODING', status: 400, name: 'chunked with a trailing comma', input: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked,\r\n\r\n0\r\n\r\n` },
    { code: 'HPE_INVALID_TRANSFER_ENCODING', status: 400, name: 'chunked after an empty element', input: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: , chunked\r\n\r\n0\r\n\r\n` },
    { code: 'HPE_INVALID_TRANSFER_ENCODING', status: 400, name: 'an empty element between codings', input: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: gzip,,chunked\r\n\r\n0\r\n\r\n` },
    { code: 'HPE_INVALID_TRANSFER_ENCODING', status: 400, name: 'chunked twice in one field', input: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n` },
    { code: 'HPE_INVALID_TRANSFER_ENCODING', status: 400, name: 'chunked in two fields', input: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n` },
    { code: 'HPE_INVALID_TRANSFER_ENCODING', status: 400, name: 'chunked then identity in a second field', input: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n0\r\n\r\n` },
    { code: 'HPE_INVALID_TRANSFER_ENCODING', status: 400, name: 'an empty Transfer-Encoding', input: `POST / HTTP/1.1\r\n${H}Transfer-Encoding:\r\nContent-Length: 0\r\n\r\n` },
    { code: 'HPE_INVALID_TRANSFER_ENCODING', status: 400, name: 'a Transfer-Encoding of commas', input: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: , ,\r\n\r\n` },
    { code: 'HPE_INVALID_TRANSFER_ENCODING', status: 400, name: 'a response with chunked twice', input: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n', opts: RESPONSE },
    { code: 'HPE_UNKNOWN_TRANSFER_ENCODING', status: 501, name: 'Transfer-Encoding: gzip, chunked', input: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n` },
    { code: 'HPE_UNKNOWN_TRANSFER_ENCODING', status: 501, name: 'Transfer-Encoding: deflate then chunked in two fields', input: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: deflate\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n` },
    { code: 'HPE_UNKNOWN_TRANSFER_ENCODING', status: 501, name: 'an unknown coding before chunked', input: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: x-custom, chunked\r\n\r\n0\r\n\r\n` },
    { code: 'HPE_UNKNOWN_TRANSFER_ENCODING', status: 501, name: 'a response with gzip, chunked', input: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n', opts: RESPONSE },
  ],
  /** A request body without a length, and expectations. */
  lengths: [
    { code: 'HPE_LENGTH_REQUIRED', status: 411, name: 'POST without a length', input: `POST /RPC2 HTTP/1.1\r\n${H}\r\n` },
    { code: 'HPE_LENGTH_REQUIRED', status: 411, name: 'PUT without a length', input: `PUT / HTTP/1.0\r\n\r\n` },
    { code: 'HPE_LENGTH_REQUIRED', status: 411, name: 'PATCH without a length', input: `PATCH / HTTP/1.1\r\n${H}\r\n` },
    { code: 'HPE_EXPECTATION_FAILED', status: 417, name: 'Expect: foo', input: `POST / HTTP/1.1\r\n${H}Expect: foo\r\nContent-Length: 1\r\n\r\nx` },
    { code: 'HPE_EXPECTATION_FAILED', status: 417, name: 'an expectation besides 100-continue', input: `POST / HTTP/1.1\r\n${H}Expect: 100-continue, foo\r\nContent-Length: 1\r\n\r\nx` },
  ],
  /** Chunked framing. */
  chunked: [
    { code: 'HPE_INVALID_CHUNK_SIZE', status: 400, name: 'chunk size -1', input: `${POST_TE}-1\r\nx\r\n0\r\n\r\n` },
    { code: 'HPE_INVALID_CHUNK_SIZE', status: 400, name: 'chunk size 0x5', input: `${POST_TE}0x5\r\nhello\r\n0\r\n\r\n` },
    { code: 'HPE_INVALID_CHUNK_SIZE', status: 400, name: 'a space after the chunk size', input: `${POST_TE}5 \r\nhello\r\n0\r\n\r\n` },
    { code: 'HPE_INVALID_CHUNK_SIZE', status: 400, name: 'a word after the chunk size without a semicolon', input: `${POST_TE}5 x\r\nhello\r\n0\r\n\r\n` },
    { code: 'HPE_INVALID_CHUNK_SIZE', status: 400, name: '17 hex digits', input: `${POST_TE}00000000000000005\r\nhello\r\n0\r\n\r\n` },
    { code: 'HPE_INVALID_CHUNK_SIZE', status: 400, name: 'a chunk size beyond 2^53', input: `${POST_TE}ffffffffffffffff\r\nhello\r\n0\r\n\r\n` },
    { code: 'HPE_INVALID_CHUNK_SIZE', status: 400, name: 'an empty chunk-size line', input: `${POST_TE}\r\nhello\r\n0\r\n\r\n` },
    { code: 'HPE_INVALID_CHUNK_SIZE', status: 400, name: 'a non-hex chunk size', input: `${POST_TE}g\r\n` },
    { code: 'HPE_INVALID_CHUNK_SIZE', status: 400, name: 'a semicolon without extension name', input: `${POST_TE}5;\r\nhello\r\n0\r\n\r\n` },
    { code: 'HPE_INVALID_CHUNK_SIZE', status: 400, name: 'an extension with an empty value', input: `${POST_TE}5;a=\r\nhello\r\n0\r\n\r\n` },
    { code: 'HPE_INVALID_CHUNK_SIZE', status: 400, name: 'an unterminated quoted extension', input: `${POST_TE}5;a="b\r\nhello\r\n0\r\n\r\n` },
    { code: 'HPE_INVALID_CHUNK_SIZE', status: 400, name: 'a CTL in a quoted extension', input: `${POST_TE}5;a="\x01"\r\nhello\r\n0\r\n\r\n` },
    { code: 'HPE_INVALID_CHUNK_SIZE', status: 400, name: 'a CTL in an extension value', input: `${POST_TE}5;a=b\x7f\r\nhello\r\n0\r\n\r\n` },
    { code: 'HPE_INVALID_CHUNK_SIZE', status: 400, name: 'a blank ending an extension', input: `${POST_TE}5;a \r\nhello\r\n0\r\n\r\n` },
    { code: 'HPE_INVALID_CHUNK_SIZE', status: 400, name: 'a chunk-size line over maxChunkLineBytes', input: `${POST_TE}5;a=${'b'.repeat(1100)}\r\nhello\r\n0\r\n\r\n` },
    { code: 'HPE_INVALID_CHUNK', status: 400, name: 'chunk data followed by garbage', input: `${POST_TE}5\r\nhelloXX\r\n0\r\n\r\n` },
    { code: 'HPE_INVALID_CHUNK', status: 400, name: 'chunk data longer than its size', input: `${POST_TE}5\r\nhello!\r\n0\r\n\r\n` },
  ],
  /** Limits on the head, the trailers and the body. */
  limits: [
    { code: 'HPE_BODY_TOO_LARGE', status: 413, name: 'a Content-Length over maxBodyBytes, before any body byte', input: `POST / HTTP/1.1\r\n${H}Content-Length: ${8 * 1024 * 1024 + 1}\r\n\r\n` },
    { code: 'HPE_BODY_TOO_LARGE', status: 413, name: 'a chunked body over maxBodyBytes', input: `${POST_TE}6\r\nhello!\r\n5\r\nworld\r\n0\r\n\r\n`, opts: { limits: { maxBodyBytes: 10 } } },
    { code: 'HPE_HEADERS_TOO_LARGE', status: 431, name: 'a head over maxHeaderBytes', input: `${GET}${manyFields(50, 400)}\r\n` },
    { code: 'HPE_HEADERS_TOO_LARGE', status: 431, name: 'a field over maxHeaderBytes before its CRLF arrives', input: `${GET}X: ${'v'.repeat(17000)}` },
    { code: 'HPE_HEADERS_TOO_LARGE', status: 431, name: 'too many empty lines before the request line', input: `${'\r\n'.repeat(8200)}${GET}\r\n` },
    { code: 'HPE_HEADERS_TOO_LARGE', status: 431, name: 'a trailer section over maxHeaderBytes', input: `${POST_TE}0\r\n${manyFields(5, 30)}\r\n`, opts: { limits: { maxHeaderBytes: 150 } } },
    { code: 'HPE_TOO_MANY_HEADERS', status: 431, name: 'more than maxHeaders fields', input: `GET / HTTP/1.1\r\n${H}${manyFields(100)}\r\n` },
    { code: 'HPE_TOO_MANY_HEADERS', status: 431, name: 'more than maxHeaders trailer fields', input: `${POST_TE}0\r\n${manyFields(101)}\r\n` },
  ],
  /** Status lines and response framing. */
  responses: [
    { code: 'HPE_INVALID_STATUS', status: 400, name: 'a two-digit status', input: 'HTTP/1.1 20 OK\r\n\r\n', opts: RESPONSE },
    { code: 'HPE_INVALID_STATUS', status: 400, name: 'a four-digit status', input: 'HTTP/1.1 2000 OK\r\n\r\n', opts: RESPONSE },
    { code: 'HPE_INVALID_STATUS', status: 400, name: 'a non-numeric status', input: 'HTTP/1.1 abc OK\r\n\r\n', opts: RESPONSE },
    { code: 'HPE_INVALID_STATUS', status: 400, name: 'a missing status', input: 'HTTP/1.1\r\n\r\n', opts: RESPONSE },
    { code: 'HPE_INVALID_STATUS', status: 400, name: 'a status below 100', input: 'HTTP/1.1 099 Odd\r\n\r\n', opts: RESPONSE },
    { code: 'HPE_INVALID_STATUS', status: 400, name: 'a status above 599', input: 'HTTP/1.1 600 Odd\r\n\r\n', opts: RESPONSE },
    { code: 'HPE_INVALID_STATUS', status: 400, name: 'NUL in the reason phrase', input: 'HTTP/1.1 200 O\0K\r\n\r\n', opts: RESPONSE },
    { code: 'HPE_INVALID_VERSION', status: 400, name: 'a byte after the response version', input: 'HTTP/1.1x 200 OK\r\n\r\n', opts: RESPONSE },
    { code: 'HPE_INVALID_VERSION', status: 400, name: 'another protocol name', input: 'ICY 200 OK\r\n\r\n', opts: RESPONSE },
    { code: 'HPE_VERSION_NOT_SUPPORTED', status: 505, name: 'an HTTP/2.0 status line', input: 'HTTP/2.0 200 OK\r\n\r\n', opts: RESPONSE },
    { code: 'HPE_BARE_LF', status: 400, name: 'a bare LF ending the status line', input: 'HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n', opts: RESPONSE },
    { code: 'HPE_BODY_TOO_LARGE', status: 413, name: 'a response Content-Length over maxBodyBytes', input: 'HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n', opts: { kind: 'response', limits: { maxBodyBytes: 10 } } },
    { code: 'HPE_BODY_TOO_LARGE', status: 413, name: 'a response body read until close over maxBodyBytes', input: 'HTTP/1.1 200 OK\r\n\r\n0123456789x', opts: { kind: 'response', limits: { maxBodyBytes: 10 } } },
  ],
  /** The end of input inside a message. */
  endOfInput: [
    { code: 'HPE_INVALID_EOF', status: 400, name: 'the end of input inside a request head', input: `GET / HTTP/1.1\r\n${H}`, opts: { finish: true } },
    { code: 'HPE_INVALID_EOF', status: 400, name: 'the end of input inside a Content-Length body', input: 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel', opts: { kind: 'response', finish: true } },
    { code: 'HPE_INVALID_EOF', status: 400, name: 'the end of input inside a chunked body', input: `${POST_TE}5\r\nhello\r\n`, opts: { finish: true } },
  ],
} satisfies Record<string, Row[]>;
