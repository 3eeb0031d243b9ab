// Every limit of the parser (ParserLimits): exact to the byte, validated and
// defaulted; memory bounded for any input; work linear in the input however
// it is cut (the slowloris guard), counted with bytesScanned, not timed.

import t from 'tap';
import { DEFAULT_PARSER_LIMITS, HttpParser } from '../lib/http/parser.js';
import type { HttpParseError } from '../lib/errors.js';
import { type Event, body, bin, complete, newParser, refusal, refusesEach, run } from './http-parser-harness.js';
import { REFUSALS, manyFields } from './http-parser-refusals.js';

t.test('refuses a head, a trailer section or a body over its limit', async (t) => {
  refusesEach(t, REFUSALS.limits);
});

t.test('limits are exact', async (t) => {
  const limits = { maxRequestLineBytes: 32, maxHeaderBytes: 64, maxHeaders: 2, maxBodyBytes: 5, maxChunkLineBytes: 8 };
  const line = (n: number): string => `GET /${'a'.repeat(n - 16)} HTTP/1.1\r\n`; // n bytes with CRLF
  t.equal(line(32).length, 32);
  t.same(
    run([bin(`${line(32)}\r\n`)], { limits: { ...limits, maxHeaderBytes: 100 } }).at(-1),
    { type: 'error', code: 'HPE_MISSING_HOST' },
    'a request line of maxRequestLineBytes passes',
  );
  t.same(run([bin(line(33))], { limits }).at(-1), { type: 'error', code: 'HPE_URI_TOO_LONG' }, 'one more byte is refused');

  const head64 = `GET / HTTP/1.1\r\nHost: a\r\nX: ${'v'.repeat(64 - 16 - 9 - 5 - 2)}\r\n\r\n`;
  t.equal(head64.length, 64);
  t.equal(run([bin(head64)], { limits }).at(-1)?.type, 'complete', 'a head of maxHeaderBytes passes');
  t.same(run([bin(head64.replace('X: ', 'X:  '))], { limits }).at(-1), { type: 'error', code: 'HPE_HEADERS_TOO_LARGE' }, 'one more byte is refused');

  t.equal(run([bin('GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\n\r\n')], { limits }).at(-1)?.type, 'complete', 'maxHeaders fields pass');
  t.same(
    run([bin('GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\nY: 2\r\n\r\n')], { limits }).at(-1),
    { type: 'error', code: 'HPE_TOO_MANY_HEADERS' },
    'one more field is refused',
  );

  t.equal(
    run([bin('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello')], { limits }).at(-1)?.type,
    'complete',
    'a Content-Length of maxBodyBytes passes',
  );
  t.same(
    run([bin('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 6\r\n\r\n')], { limits }).at(-1),
    { type: 'error', code: 'HPE_BODY_TOO_LARGE' },
    'one more byte is refused',
  );

  const chunked = 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n';
  t.same(
    run([bin(`${chunked}2;a=bc\r\nhe\r\n3\r\nllo\r\n0\r\n\r\n`)], { limits: { ...limits, maxHeaderBytes: 100 } }).slice(1),
    [body('hello'), complete()],
    'a chunk line of maxChunkLineBytes and a body of maxBodyBytes pass',
  );
  t.same(
    run([bin(`${chunked}2;a=bcd\r\n`)], { limits: { ...limits, maxHeaderBytes: 100 } }).at(-1),
    { type: 'error', code: 'HPE_INVALID_CHUNK_SIZE' },
    'one more chunk-line byte is refused',
  );
});

t.test('memory stays bounded: a megabyte of head bytes without CRLF fails at the limit', async (t) => {
  const field = bin(`GET / HTTP/1.1\r\nX: ${'v'.repeat(1 << 20)}`);
  t.equal(refusal([field])?.code, 'HPE_HEADERS_TOO_LARGE', 'in one chunk');

  const parser = new HttpParser('request', { onHead() {}, onBody() {}, onComplete() {} });
  let fed = 0;
  let error: unknown = null;
  try {
    for (; fed < field.length; fed += 1024) parser.execute(field.subarray(fed, fed + 1024));
  } catch (err) {
    error = err;
  }
  t.equal((error as HttpParseError).code, 'HPE_HEADERS_TOO_LARGE', 'in 1 KiB pieces');
  t.ok(fed < DEFAULT_PARSER_LIMITS.maxHeaderBytes, `refused within the piece that crosses the limit (at ${fed})`);

  const line = bin(`GET /${'a'.repeat(1 << 20)}`);
  const lineParser = new HttpParser('request', { onHead() {}, onBody() {}, onComplete() {} });
  let lineFed = 0;
  try {
    for (; lineFed < line.length; lineFed += 1024) lineParser.execute(line.subarray(lineFed, lineFed + 1024));
  } catch (err) {
    error = err;
  }
  t.equal((error as HttpParseError).code, 'HPE_URI_TOO_LONG', 'a request line in 1 KiB pieces');
  t.ok(lineFed < DEFAULT_PARSER_LIMITS.maxRequestLineBytes, `refused within the piece that crosses the limit (at ${lineFed})`);
});

/** Feed `input` in pieces of `step` bytes; the events and the parser's bytesScanned. */
function scan(input: Buffer, step: number): { events: Event[]; scanned: number } {
  const events: Event[] = [];
  const parser = newParser(events, {});
  for (let i = 0; i < input.length; i += step) parser.execute(input.subarray(i, i + step));
  return { events, scanned: parser.bytesScanned };
}

t.test('a head arriving a byte at a time is parsed without rescanning', async (t) => {
  // 16 KB of head fed byte by byte: each byte is looked at a bounded number of times.
  const input = bin(`POST / HTTP/1.1\r\nHost: a\r\n${manyFields(90, 160)}Content-Length: 1\r\n\r\nx`);
  t.ok(input.length > 15000 && input.length < DEFAULT_PARSER_LIMITS.maxHeaderBytes);
  const { events, scanned } = scan(input, 1);
  t.equal(events.at(-1)?.type, 'complete');
  t.ok(scanned <= 5 * input.length, `${scanned} bytes scanned for ${input.length} bytes of input`);
});

t.test('the work to parse a long header line fed a byte at a time grows linearly with its length', async (t) => {
  // n versus 2n: linear work doubles; a parser that rescans the line (or the
  // head) on each byte does n^2 work, which quadruples.
  const request = (n: number): Buffer => bin(`POST / HTTP/1.1\r\nHost: a\r\nX-Long: ${'v'.repeat(n)}\r\nContent-Length: 1\r\n\r\nx`);
  const n = 6000;
  t.ok(request(2 * n).length < DEFAULT_PARSER_LIMITS.maxHeaderBytes, 'both heads are within the default limit');
  const once = scan(request(n), 1);
  const twice = scan(request(2 * n), 1);
  t.equal(once.events.at(-1)?.type, 'complete', 'n: parsed');
  t.equal(twice.events.at(-1)?.type, 'complete', '2n: parsed');
  const ratio = twice.scanned / once.scanned;
  t.ok(ratio > 1.5 && ratio < 2.5, `2n costs ${ratio.toFixed(2)} times n (${once.scanned} -> ${twice.scanned} bytes scanned)`);
  // Fed whole, each byte is searched for LF once and validated once.
  const whole = scan(request(2 * n), request(2 * n).length);
  t.ok(twice.scanned <= 3 * whole.scanned, `a byte at a time costs ${(twice.scanned / whole.scanned).toFixed(2)} times one piece`);
});

t.test('limits are validated and defaulted', async (t) => {
  t.same(DEFAULT_PARSER_LIMITS, {
    maxRequestLineBytes: 8192,
    maxHeaderBytes: 16384,
    maxHeaders: 100,
    maxBodyBytes: 8 * 1024 * 1024,
    maxChunkLineBytes: 1024,
  });
  const callbacks = { onHead() {}, onBody() {}, onComplete() {} };
  t.throws(() => new HttpParser('request', callbacks, { maxHeaders: -1 }), RangeError);
  t.throws(() => new HttpParser('request', callbacks, { maxBodyBytes: Number.NaN }), RangeError);
  t.doesNotThrow(() => new HttpParser('response', callbacks, { maxHeaders: 5 }));
});
