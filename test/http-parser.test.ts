// The HTTP/1.1 parser, fed bytes directly (no socket): valid messages whole,
// split at every offset and a byte at a time; every strict prefix is "need
// more"; one row per forbidden input; responses; pause/resume; limits.

import t from 'tap';
import { isDeepStrictEqual } from 'node:util';
import {
  DEFAULT_PARSER_LIMITS,
  HttpParser,
  type MessageHead,
  type ParserLimits,
} from '../lib/http/parser.js';
import { getHeader, getHeaderAll, getTokens, hasHeader, hasToken } from '../lib/http/headers.js';
import { HTTP_PARSE_ERROR_STATUS, HttpParseError, type HttpParseErrorCode } from '../lib/errors.js';

// ---- harness ----

type Event =
  | { type: 'head'; head: MessageHead }
  | { type: 'info'; head: MessageHead }
  | { type: 'body'; data: string }
  | { type: 'complete'; trailers: string[] }
  | { type: 'error'; code: string };

interface RunOptions {
  kind?: 'request' | 'response';
  limits?: Partial<ParserLimits>;
  /** onHead returns true (a response to HEAD). */
  noBody?: boolean;
  /** Call finish() after the last chunk. */
  finish?: boolean;
}

function newParser(events: Event[], opts: RunOptions): HttpParser {
  return new HttpParser(
    opts.kind ?? 'request',
    {
      onHead(head) {
        events.push({ type: 'head', head });
        return opts.noBody === true;
      },
      onBody(chunk) {
        // Adjacent body pieces are merged: how the body is cut is not an event.
        const last = events[events.length - 1];
        if (last !== undefined && last.type === 'body') last.data += chunk.toString('latin1');
        else events.push({ type: 'body', data: chunk.toString('latin1') });
      },
      onComplete(trailers) {
        events.push({ type: 'complete', trailers });
      },
      onInformational(head) {
        events.push({ type: 'info', head });
      },
    },
    opts.limits,
  );
}

/** Feed the pieces in order; the normalized event log, ending with {type: 'error'} on a refusal. */
function run(pieces: Buffer[], opts: RunOptions = {}): Event[] {
  const events: Event[] = [];
  const parser = newParser(events, opts);
  try {
    for (const piece of pieces) {
      const used = parser.execute(piece);
      if (used !== piece.length) throw new Error(`execute consumed ${used} of ${piece.length} bytes`);
    }
    if (opts.finish === true) parser.finish();
  } catch (err) {
    if (!(err instanceof HttpParseError)) throw err;
    events.push({ type: 'error', code: err.code });
  }
  return events;
}

const bin = (s: string): Buffer => Buffer.from(s, 'latin1');

function bytesOf(input: Buffer): Buffer[] {
  const pieces: Buffer[] = [];
  for (let i = 0; i < input.length; i++) pieces.push(input.subarray(i, i + 1));
  return pieces;
}

interface Cuts {
  /** The events of the input fed whole. */
  whole: Event[];
  /** The first cut in two (empty pieces included) whose events differ, or null. */
  splitMismatch: string | null;
  /** The events of the input fed one byte at a time. */
  bytes: Event[];
}

function everyCut(input: Buffer, opts: RunOptions = {}): Cuts {
  const whole = run([input], opts);
  let splitMismatch: string | null = null;
  for (let i = 0; i <= input.length && splitMismatch === null; i++) {
    const got = run([input.subarray(0, i), input.subarray(i)], opts);
    if (!isDeepStrictEqual(got, whole)) splitMismatch = `cut at ${i}: ${JSON.stringify(got)}`;
  }
  return { whole, splitMismatch, bytes: run(bytesOf(input), opts) };
}

const REQUEST_HEAD: MessageHead = {
  method: 'GET',
  target: '/',
  status: 0,
  reason: '',
  versionMinor: 1,
  headers: [],
  contentLength: -1,
  chunked: false,
  keepAlive: true,
  expectContinue: false,
};

const RESPONSE_HEAD: MessageHead = { ...REQUEST_HEAD, method: '', target: '', status: 200, reason: 'OK' };

const head = (fields: Partial<MessageHead>): Event => ({ type: 'head', head: { ...REQUEST_HEAD, ...fields } });
const response = (fields: Partial<MessageHead>): Event => ({ type: 'head', head: { ...RESPONSE_HEAD, ...fields } });
const info = (fields: Partial<MessageHead>): Event => ({ type: 'info', head: { ...RESPONSE_HEAD, ...fields } });
const body = (data: string): Event => ({ type: 'body', data });
const complete = (trailers: string[] = []): Event => ({ type: 'complete', trailers });

// ---- valid requests ----

const XML = '<?xml version="1.0"?><methodCall><methodName>ping</methodName><params/></methodCall>';

interface ValidCase {
  name: string;
  input: string;
  events: Event[];
  /** One message only: every strict prefix must be "need more". */
  single: boolean;
}

const VALID_REQUESTS: ValidCase[] = [
  {
    name: 'parses a simple GET',
    input: 'GET /RPC2 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: test\r\n\r\n',
    events: [head({ target: '/RPC2', headers: ['host', 'example.com', 'user-agent', 'test'] }), complete()],
    single: true,
  },
  {
    name: 'parses a POST with a Content-Length body',
    input:
      'POST /RPC2 HTTP/1.1\r\nHost: localhost:8080\r\nContent-Type: text/xml\r\n' +
      `Content-Length: ${XML.length}\r\n\r\n${XML}`,
    events: [
      head({
        method: 'POST',
        target: '/RPC2',
        headers: ['host', 'localhost:8080', 'content-type', 'text/xml', 'content-length', String(XML.length)],
        contentLength: XML.length,
      }),
      body(XML),
      complete(),
    ],
    single: true,
  },
  {
    name: 'parses a chunked body with extensions and trailers',
    input:
      'POST /upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n' +
      '5;name=value;quoted="a \\"b\\" ;c"\r\nhello\r\n' +
      '6 ; x ;y = z\r\n world\r\n' +
      'A\r\n0123456789\r\n' +
      '000\r\nX-Checksum: abc\r\nX-Other:  two  \r\n\r\n',
    events: [
      head({ method: 'POST', target: '/upload', headers: ['host', 'a', 'transfer-encoding', 'Chunked'], chunked: true }),
      body('hello world0123456789'),
      complete(['x-checksum', 'abc', 'x-other', 'two']),
    ],
    single: true,
  },
  {
    name: 'parses a chunked body without trailers',
    input: 'PUT /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n',
    events: [
      head({ method: 'PUT', target: '/x', headers: ['host', 'a', 'transfer-encoding', 'chunked'], chunked: true }),
      body('abc'),
      complete(),
    ],
    single: true,
  },
  {
    name: 'closes an HTTP/1.0 request without keep-alive',
    input: 'GET / HTTP/1.0\r\n\r\n',
    events: [head({ versionMinor: 0, keepAlive: false }), complete()],
    single: true,
  },
  {
    name: 'keeps an HTTP/1.0 request with Connection: keep-alive',
    input: 'POST /RPC2 HTTP/1.0\r\nConnection: Keep-Alive\r\nContent-Length: 2\r\n\r\nhi',
    events: [
      head({
        method: 'POST',
        target: '/RPC2',
        versionMinor: 0,
        headers: ['connection', 'Keep-Alive', 'content-length', '2'],
        contentLength: 2,
        keepAlive: true,
      }),
      body('hi'),
      complete(),
    ],
    single: true,
  },
  {
    name: 'closes an HTTP/1.1 request with Connection: close among other tokens',
    input: 'GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive\r\nConnection: TE, Close\r\n\r\n',
    events: [head({ headers: ['host', 'a', 'connection', 'keep-alive', 'connection', 'TE, Close'], keepAlive: false }), complete()],
    single: true,
  },
  {
    name: 'reports Expect: 100-continue',
    input: 'POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\nContent-Length: 3\r\n\r\nabc',
    events: [
      head({
        method: 'POST',
        headers: ['host', 'a', 'expect', '100-Continue', 'content-length', '3'],
        contentLength: 3,
        expectContinue: true,
      }),
      body('abc'),
      complete(),
    ],
    single: true,
  },
  {
    name: 'ignores Expect in HTTP/1.0',
    input: 'GET / HTTP/1.0\r\nExpect: 100-continue\r\nExpect: something-else\r\n\r\n',
    events: [
      head({ versionMinor: 0, keepAlive: false, headers: ['expect', '100-continue', 'expect', 'something-else'] }),
      complete(),
    ],
    single: true,
  },
  {
    name: 'keeps repeated fields in order, and accepts repeats of one Content-Length',
    input:
      'POST / HTTP/1.1\r\nHost: a\r\nAccept: text/xml\r\nX-A: 1\r\naccept: */*\r\n' +
      'Content-Length: 004\r\ncontent-length: 4, 4\r\nX-Empty:\r\nX-Blank: \t \r\n\r\nbody',
    events: [
      head({
        method: 'POST',
        headers: [
          'host', 'a', 'accept', 'text/xml', 'x-a', '1', 'accept', '*/*',
          'content-length', '004', 'content-length', '4, 4', 'x-empty', '', 'x-blank', '',
        ],
        contentLength: 4,
      }),
      body('body'),
      complete(),
    ],
    single: true,
  },
  {
    name: 'ignores empty lines before a request line',
    input: '\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n',
    events: [head({ headers: ['host', 'a'] }), complete()],
    single: true,
  },
  {
    name: 'accepts absolute-form, asterisk-form and authority-form targets; nothing after CONNECT is kept',
    input:
      'GET http://example.com:8080/a?b=c HTTP/1.1\r\nHost: example.com:8080\r\n\r\n' +
      'GET https://u:p@h?q HTTP/1.1\r\nHost: h\r\n\r\n' +
      'OPTIONS * HTTP/1.1\r\nHost: [::1]:80\r\n\r\n' +
      'OPTIONS /a HTTP/1.1\r\nHost: a\r\n\r\n' +
      'CONNECT [::1]:8080 HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n' +
      'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n',
    events: [
      head({ target: 'http://example.com:8080/a?b=c', headers: ['host', 'example.com:8080'] }),
      complete(),
      head({ target: 'https://u:p@h?q', headers: ['host', 'h'] }),
      complete(),
      head({ method: 'OPTIONS', target: '*', headers: ['host', '[::1]:80'] }),
      complete(),
      head({ method: 'OPTIONS', target: '/a', headers: ['host', 'a'] }),
      complete(),
      head({ method: 'CONNECT', target: '[::1]:8080', headers: ['host', '[::1]:8080'], keepAlive: false }),
      complete(),
      head({ method: 'CONNECT', target: 'example.com:443', headers: ['host', 'example.com:443'], keepAlive: false }),
      complete(),
    ],
    single: false,
  },
  {
    name: 'keeps obs-text in values, an empty Host, and treats HTTP/1.2 as 1.1',
    input: 'M-SEARCH /caf%C3%A9#x HTTP/1.2\r\nHost:\r\nX-Name: Jos\xe9\x80 \xff\r\n\r\n',
    events: [head({ method: 'M-SEARCH', target: '/caf%C3%A9#x', headers: ['host', '', 'x-name', 'Jos\xe9\x80 \xff'] }), complete()],
    single: true,
  },
  {
    name: 'processes chunked in HTTP/1.0 but does not keep the connection',
    input:
      'POST / HTTP/1.0\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n',
    events: [
      head({
        method: 'POST',
        versionMinor: 0,
        headers: ['connection', 'keep-alive', 'transfer-encoding', 'chunked'],
        chunked: true,
        keepAlive: false,
      }),
      body('ok'),
      complete(),
    ],
    single: true,
  },
  {
    name: 'parses several pipelined requests in one buffer',
    input:
      'GET /1 HTTP/1.1\r\nHost: a\r\n\r\n' +
      'POST /2 HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello' +
      'POST /3 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\nT: 1\r\n\r\n' +
      'DELETE /4 HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n' +
      'GET /5 HTTP/1.0\r\n\r\n',
    events: [
      head({ target: '/1', headers: ['host', 'a'] }),
      complete(),
      head({ method: 'POST', target: '/2', headers: ['host', 'a', 'content-length', '5'], contentLength: 5 }),
      body('hello'),
      complete(),
      head({ method: 'POST', target: '/3', headers: ['host', 'a', 'transfer-encoding', 'chunked'], chunked: true }),
      body('x'),
      complete(['t', '1']),
      head({ method: 'DELETE', target: '/4', headers: ['host', 'a', 'content-length', '0'], contentLength: 0 }),
      complete(),
      head({ target: '/5', versionMinor: 0, keepAlive: false }),
      complete(),
    ],
    single: false,
  },
];

t.test('valid requests give the same events however they are cut', async (t) => {
  for (const c of VALID_REQUESTS) {
    t.test(c.name, async (t) => {
      const cuts = everyCut(bin(c.input));
      t.same(cuts.whole, c.events, 'the expected heads, bodies and trailers');
      t.equal(cuts.splitMismatch, null, 'the same events when cut in two at every offset');
      t.same(cuts.bytes, cuts.whole, 'the same events fed one byte at a time');
    });
  }
});

t.test('every strict prefix of a valid request is "need more"', async (t) => {
  for (const c of VALID_REQUESTS.filter((c) => c.single)) {
    const input = bin(c.input);
    let bad: string | null = null;
    for (let i = 0; i < input.length && bad === null; i++) {
      const events = run([input.subarray(0, i)]);
      if (events.some((e) => e.type === 'error' || e.type === 'complete')) bad = `prefix ${i}: ${JSON.stringify(events)}`;
    }
    t.equal(bad, null, c.name);
  }
});

t.test('body pieces are zero-copy subarrays of the input', async (t) => {
  const input = bin('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello');
  const pieces: Buffer[] = [];
  const parser = new HttpParser('request', { onHead() {}, onBody: (b) => pieces.push(b), onComplete() {} });
  parser.execute(input);
  t.equal(pieces.length, 1);
  t.equal(pieces[0].buffer, input.buffer, 'same ArrayBuffer');
  t.equal(pieces[0].byteOffset, input.byteOffset + input.length - 5, 'points into the input');
});

t.test('idle and inBody follow the message', async (t) => {
  const parser = new HttpParser('request', { onHead() {}, onBody() {}, onComplete() {} });
  t.ok(parser.idle, 'idle before any byte');
  t.notOk(parser.inBody);
  parser.execute(bin('P'));
  t.notOk(parser.idle, 'not idle after one byte');
  parser.execute(bin('OST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\n'));
  t.ok(parser.inBody, 'inBody once the head is complete');
  t.notOk(parser.idle);
  parser.execute(bin('o'));
  t.ok(parser.inBody);
  parser.execute(bin('k'));
  t.ok(parser.idle, 'idle again after the message');
  t.notOk(parser.inBody);
  parser.execute(bin('\r\n'));
  t.notOk(parser.idle, 'an empty line already belongs to the next message');
  t.doesNotThrow(() => parser.finish(), 'finish() after only empty lines is a no-op');
});

// ---- forbidden inputs ----

interface Row {
  code: HttpParseErrorCode;
  status: number;
  name: string;
  input: string;
  opts?: RunOptions;
}

const H = 'Host: a\r\n';
const GET = `GET / HTTP/1.1\r\n${H}`;
const POST_TE = `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n`;
const RESPONSE = { kind: 'response' } as const;
const manyFields = (n: number, size = 10): string => {
  let s = '';
  for (let i = 0; i < n; i++) s += `X-${i}: ${'v'.repeat(size)}\r\n`;
  return s;
};

const FORBIDDEN: Row[] = [
  // request line
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
  // line endings
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
  // fields
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
  // Content-Length
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
  // Transfer-Encoding
  { code: 'HPE_CL_AND_TE', status: 400, name: 'Content-Length then Transfer-Encoding', input: `POST / HTTP/1.1\r\n${H}Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n` },
  { code: 'HPE_CL_AND_TE', status: 400, name: 'Transfer-Encoding then Content-Length', input: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nContent-Length: 0\r\n\r\n0\r\n\r\n` },
  { code: 'HPE_CL_AND_TE', status: 400, name: 'a response with Content-Length and Transfer-Encoding', input: 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', opts: RESPONSE },
  { code: 'HPE_INVALID_TRANSFER_ENCODING', status: 400, name: 'Transfer-Encoding: chunked, identity', input: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n` },
  { code: 'HPE_INVALID_TRANSFER_ENCODING', status: 400, name: 'Transfer-Encoding: xchunked', input: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n` },
  { code: 'HPE_INVALID_TRANSFER_ENCODING', status: 400, name: 'Transfer-Encoding: gzip', input: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: gzip\r\n\r\n` },
  { code: 'HPE_INVALID_TRANSFER_ENCODING', status: 400, name: 'chunked with a parameter', input: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked;q=1\r\n\r\n0\r\n\r\n` },
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
  // chunked framing
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
  // Host
  { code: 'HPE_MISSING_HOST', status: 400, name: 'HTTP/1.1 without Host', input: 'GET / HTTP/1.1\r\n\r\n' },
  { code: 'HPE_DUPLICATE_HOST', status: 400, name: 'HTTP/1.1 with two Hosts', input: 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n' },
  { code: 'HPE_DUPLICATE_HOST', status: 400, name: 'HTTP/1.1 with the same Host twice', input: 'GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n' },
  { code: 'HPE_DUPLICATE_HOST', status: 400, name: 'HTTP/1.0 with two Hosts', input: 'GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n' },
  { code: 'HPE_INVALID_HOST', status: 400, name: 'a space in Host', input: 'GET / HTTP/1.1\r\nHost: a b\r\n\r\n' },
  { code: 'HPE_INVALID_HOST', status: 400, name: 'a slash in Host', input: 'GET / HTTP/1.1\r\nHost: a/b\r\n\r\n' },
  { code: 'HPE_INVALID_HOST', status: 400, name: 'userinfo in Host', input: 'GET / HTTP/1.1\r\nHost: u@a\r\n\r\n' },
  // lengths and limits
  { code: 'HPE_LENGTH_REQUIRED', status: 411, name: 'POST without a length', input: `POST /RPC2 HTTP/1.1\r\n${H}\r\n` },
  { code: 'HPE_LENGTH_REQUIRED', status: 411, name: 'PUT without a length', input: `PUT / HTTP/1.0\r\n\r\n` },
  { code: 'HPE_LENGTH_REQUIRED', status: 411, name: 'PATCH without a length', input: `PATCH / HTTP/1.1\r\n${H}\r\n` },
  { code: 'HPE_BODY_TOO_LARGE', status: 413, name: 'a Content-Length over maxBodyBytes, before any body byte', input: `POST / HTTP/1.1\r\n${H}Content-Length: ${8 * 1024 * 1024 + 1}\r\n\r\n` },
  { code: 'HPE_BODY_TOO_LARGE', status: 413, name: 'a chunked body over maxBodyBytes', input: `${POST_TE}6\r\nhello!\r\n5\r\nworld\r\n0\r\n\r\n`, opts: { limits: { maxBodyBytes: 10 } } },
  { code: 'HPE_EXPECTATION_FAILED', status: 417, name: 'Expect: foo', input: `POST / HTTP/1.1\r\n${H}Expect: foo\r\nContent-Length: 1\r\n\r\nx` },
  { code: 'HPE_EXPECTATION_FAILED', status: 417, name: 'an expectation besides 100-continue', input: `POST / HTTP/1.1\r\n${H}Expect: 100-continue, foo\r\nContent-Length: 1\r\n\r\nx` },
  { code: 'HPE_HEADERS_TOO_LARGE', status: 431, name: 'a head over maxHeaderBytes', input: `${GET}${manyFields(50, 400)}\r\n` },
  { code: 'HPE_HEADERS_TOO_LARGE', status: 431, name: 'a field over maxHeaderBytes before its CRLF arrives', input: `${GET}X: ${'v'.repeat(17000)}` },
  { code: 'HPE_HEADERS_TOO_LARGE', status: 431, name: 'too many empty lines before the request line', input: `${'\r\n'.repeat(8200)}${GET}\r\n` },
  { code: 'HPE_HEADERS_TOO_LARGE', status: 431, name: 'a trailer section over maxHeaderBytes', input: `${POST_TE}0\r\n${manyFields(5, 30)}\r\n`, opts: { limits: { maxHeaderBytes: 150 } } },
  { code: 'HPE_TOO_MANY_HEADERS', status: 431, name: 'more than maxHeaders fields', input: `GET / HTTP/1.1\r\n${H}${manyFields(100)}\r\n` },
  { code: 'HPE_TOO_MANY_HEADERS', status: 431, name: 'more than maxHeaders trailer fields', input: `${POST_TE}0\r\n${manyFields(101)}\r\n` },
  // responses
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
  // end of input
  { code: 'HPE_INVALID_EOF', status: 400, name: 'the end of input inside a request head', input: `GET / HTTP/1.1\r\n${H}`, opts: { finish: true } },
  { code: 'HPE_INVALID_EOF', status: 400, name: 'the end of input inside a Content-Length body', input: 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel', opts: { kind: 'response', finish: true } },
  { code: 'HPE_INVALID_EOF', status: 400, name: 'the end of input inside a chunked body', input: `${POST_TE}5\r\nhello\r\n`, opts: { finish: true } },
];

/** Feed the pieces; the error thrown (checking the parser then stays failed with it), or null. */
function refusal(pieces: Buffer[], opts: RunOptions = {}): HttpParseError | null {
  const parser = newParser([], opts);
  try {
    for (const piece of pieces) parser.execute(piece);
    if (opts.finish === true) parser.finish();
  } catch (err) {
    if (!(err instanceof HttpParseError)) throw err;
    let again: unknown = null;
    try {
      parser.execute(bin('GET / HTTP/1.1\r\n'));
    } catch (later) {
      again = later;
    }
    if (again !== err) throw new Error('a failed parser accepted more input or threw another error');
    return err;
  }
  return null;
}

t.test('each forbidden input is refused with its own code and status', async (t) => {
  for (const row of FORBIDDEN) {
    const input = bin(row.input);
    const opts = row.opts ?? {};
    const whole = refusal([input], opts);
    t.equal(whole?.code, row.code, `${row.name}: ${row.code}`);
    t.equal(whole?.status, row.status, `${row.name}: status ${row.status}`);
    t.equal(refusal(bytesOf(input), opts)?.code, row.code, `${row.name}: the same fed one byte at a time`);
    if (input.length < 2048) {
      let other: string | null = null;
      for (let i = 0; i <= input.length && other === null; i++) {
        const code = refusal([input.subarray(0, i), input.subarray(i)], opts)?.code;
        if (code !== row.code) other = `cut at ${i}: ${code}`;
      }
      t.equal(other, null, `${row.name}: the same cut in two anywhere`);
    }
  }
});

t.test('the forbidden table covers every error code', async (t) => {
  const covered = new Set(FORBIDDEN.map((row) => row.code));
  const missing = Object.keys(HTTP_PARSE_ERROR_STATUS).filter((code) => !covered.has(code as HttpParseErrorCode));
  t.same(missing, []);
});

t.test('a request refused at head time never reaches onHead', async (t) => {
  for (const input of [
    `POST / HTTP/1.1\r\n${H}Content-Length: 9000000\r\n\r\n`,
    `POST / HTTP/1.1\r\n${H}\r\n`,
    `GET / HTTP/1.1\r\n\r\n`,
    `POST / HTTP/1.1\r\n${H}Transfer-Encoding: gzip, chunked\r\n\r\n`,
  ]) {
    const events = run([bin(input)]);
    t.equal(events.length, 1, JSON.stringify(input));
    t.equal(events[0].type, 'error');
  }
});

t.test('a chunked body over the limit fails when the size line declares it', async (t) => {
  const input = bin(`${POST_TE}6\r\nhello!\r\n5\r\n`);
  const events = run([input], { limits: { maxBodyBytes: 10 } });
  t.same(events.slice(1), [body('hello!'), { type: 'error', code: 'HPE_BODY_TOO_LARGE' }]);
});

// ---- limits ----

t.test('limits are exact', async (t) => {
  const limits = { maxRequestLineBytes: 32, maxHeaderBytes: 64, maxHeaders: 2, maxBodyBytes: 5, maxChunkLineBytes: 8 };
  const line = (n: number): string => `GET /${'a'.repeat(n - 16)} HTTP/1.1\r\n`; // n bytes with CRLF
  t.equal(line(32).length, 32);
  t.same(run([bin(`${line(32)}\r\n`)], { limits: { ...limits, maxHeaderBytes: 100 } }).at(-1), { type: 'error', code: 'HPE_MISSING_HOST' }, 'a request line of maxRequestLineBytes passes');
  t.same(run([bin(line(33))], { limits }).at(-1), { type: 'error', code: 'HPE_URI_TOO_LONG' }, 'one more byte is refused');

  const head64 = `GET / HTTP/1.1\r\nHost: a\r\nX: ${'v'.repeat(64 - 16 - 9 - 5 - 2)}\r\n\r\n`;
  t.equal(head64.length, 64);
  t.equal(run([bin(head64)], { limits }).at(-1)?.type, 'complete', 'a head of maxHeaderBytes passes');
  t.same(run([bin(head64.replace('X: ', 'X:  '))], { limits }).at(-1), { type: 'error', code: 'HPE_HEADERS_TOO_LARGE' }, 'one more byte is refused');

  t.equal(run([bin('GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\n\r\n')], { limits }).at(-1)?.type, 'complete', 'maxHeaders fields pass');
  t.same(run([bin('GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\nY: 2\r\n\r\n')], { limits }).at(-1), { type: 'error', code: 'HPE_TOO_MANY_HEADERS' }, 'one more field is refused');

  t.equal(run([bin('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello')], { limits }).at(-1)?.type, 'complete', 'a Content-Length of maxBodyBytes passes');
  t.same(run([bin('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 6\r\n\r\n')], { limits }).at(-1), { type: 'error', code: 'HPE_BODY_TOO_LARGE' }, 'one more byte is refused');

  const chunked = 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n';
  t.same(run([bin(`${chunked}2;a=bc\r\nhe\r\n3\r\nllo\r\n0\r\n\r\n`)], { limits: { ...limits, maxHeaderBytes: 100 } }).slice(1), [body('hello'), complete()], 'a chunk line of maxChunkLineBytes and a body of maxBodyBytes pass');
  t.same(run([bin(`${chunked}2;a=bcd\r\n`)], { limits: { ...limits, maxHeaderBytes: 100 } }).at(-1), { type: 'error', code: 'HPE_INVALID_CHUNK_SIZE' }, 'one more chunk-line byte is refused');
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

t.test('a head arriving a byte at a time is parsed without rescanning', async (t) => {
  // 16 KB of head fed byte by byte: quadratic rescanning would take seconds.
  const input = bin(`POST / HTTP/1.1\r\nHost: a\r\n${manyFields(90, 160)}Content-Length: 1\r\n\r\nx`);
  t.ok(input.length > 15000 && input.length < DEFAULT_PARSER_LIMITS.maxHeaderBytes);
  const started = process.hrtime.bigint();
  const events = run(bytesOf(input));
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  t.equal(events.at(-1)?.type, 'complete');
  t.ok(ms < 1000, `took ${ms.toFixed(1)} ms`);
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

// ---- responses ----

t.test('responses give the same events however they are cut', async (t) => {
  const cases: Array<{ name: string; input: string; events: Event[]; opts?: RunOptions }> = [
    {
      name: 'a status line with a reason and a Content-Length body',
      input: 'HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: 5\r\n\r\nhello',
      events: [response({ headers: ['content-type', 'text/xml', 'content-length', '5'], contentLength: 5 }), body('hello'), complete()],
    },
    {
      name: 'a status line without a reason',
      input: 'HTTP/1.1 200\r\nContent-Length: 0\r\n\r\nHTTP/1.1 201 \r\nContent-Length: 0\r\n\r\n',
      events: [
        response({ reason: '', headers: ['content-length', '0'], contentLength: 0 }),
        complete(),
        response({ status: 201, reason: '', headers: ['content-length', '0'], contentLength: 0 }),
        complete(),
      ],
    },
    {
      name: 'a reason phrase kept as sent, and HTTP/1.0 without keep-alive',
      input: 'HTTP/1.0 500 Internal  Server\tError \xe9\r\nContent-Length: 2\r\n\r\nno',
      events: [
        response({ status: 500, reason: 'Internal  Server\tError \xe9', versionMinor: 0, keepAlive: false, headers: ['content-length', '2'], contentLength: 2 }),
        body('no'),
        complete(),
      ],
    },
    {
      name: '100 Continue then 200',
      input: 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok',
      events: [
        info({ status: 100, reason: 'Continue' }),
        info({ status: 103, reason: 'Early Hints', headers: ['link', '</a>'] }),
        response({ headers: ['content-length', '2'], contentLength: 2 }),
        body('ok'),
        complete(),
      ],
    },
    {
      name: '204 and 304 without a body',
      input:
        'HTTP/1.1 204 No Content\r\n\r\n' +
        'HTTP/1.1 304 Not Modified\r\nContent-Length: 100\r\n\r\n' +
        'HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx',
      events: [
        response({ status: 204, reason: 'No Content' }),
        complete(),
        response({ status: 304, reason: 'Not Modified', headers: ['content-length', '100'], contentLength: 100 }),
        complete(),
        response({ headers: ['content-length', '1'], contentLength: 1 }),
        body('x'),
        complete(),
      ],
    },
    {
      name: 'a response to HEAD (onHead returns true)',
      input:
        'HTTP/1.1 200 OK\r\nContent-Length: 100000000\r\n\r\n' +
        'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n' +
        'HTTP/1.1 200 OK\r\n\r\n',
      events: [
        response({ headers: ['content-length', '100000000'], contentLength: 100000000 }),
        complete(),
        response({ headers: ['transfer-encoding', 'chunked'], chunked: true }),
        complete(),
        response({}), // not read until close: kept alive
        complete(),
      ],
      opts: { noBody: true },
    },
    {
      name: 'a body read until close, completed by finish()',
      input: 'HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\n\r\n<methodResponse/>\r\n',
      events: [response({ headers: ['content-type', 'text/xml'], keepAlive: false }), body('<methodResponse/>\r\n'), complete()],
      opts: { finish: true },
    },
    {
      name: 'a body read until close when the final coding is not chunked',
      input: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n\x1f\x8b',
      events: [response({ headers: ['transfer-encoding', 'gzip'], keepAlive: false }), body('\x1f\x8b'), complete()],
      opts: { finish: true },
    },
    {
      name: 'a chunked response with trailers',
      input: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\nX-T: 1\r\n\r\n',
      events: [response({ headers: ['transfer-encoding', 'chunked'], chunked: true }), body('ok'), complete(['x-t', '1'])],
    },
    {
      name: 'an HTTP/1.0 response with keep-alive',
      input: 'HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n',
      events: [response({ versionMinor: 0, headers: ['connection', 'keep-alive', 'content-length', '0'], contentLength: 0 }), complete()],
    },
    {
      name: 'empty lines before a status line',
      input: '\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n',
      events: [response({ headers: ['content-length', '0'], contentLength: 0 }), complete()],
    },
  ];
  for (const c of cases) {
    t.test(c.name, async (t) => {
      const cuts = everyCut(bin(c.input), { kind: 'response', ...c.opts });
      t.same(cuts.whole, c.events, 'the expected heads, bodies and trailers');
      t.equal(cuts.splitMismatch, null, 'the same events when cut in two at every offset');
      t.same(cuts.bytes, cuts.whole, 'the same events fed one byte at a time');
    });
  }
});

t.test('finish() is a no-op when idle and refuses a partial response', async (t) => {
  const parser = new HttpParser('response', { onHead() {}, onBody() {}, onComplete() {} });
  t.doesNotThrow(() => parser.finish(), 'idle');
  parser.execute(bin('HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx'));
  t.doesNotThrow(() => parser.finish(), 'after a complete response');
  parser.execute(bin('HTTP/1.1 200 OK\r\n'));
  let error: unknown = null;
  try {
    parser.finish();
  } catch (err) {
    error = err;
  }
  t.equal((error as HttpParseError).code, 'HPE_INVALID_EOF');
  t.throws(() => parser.finish(), error as Error, 'finish() keeps failing with the same error');
  t.throws(() => parser.execute(Buffer.alloc(0)), error as Error, 'execute() too');
});

t.test('a response without onInformational skips 1xx', async (t) => {
  const heads: number[] = [];
  const parser = new HttpParser('response', { onHead: (h) => void heads.push(h.status), onBody() {}, onComplete() {} });
  parser.execute(bin('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'));
  t.same(heads, [200]);
});

t.test('101 Switching Protocols ends the message and pausing in onComplete leaves the rest to the caller', async (t) => {
  const input = bin('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x05hello');
  const events: Event[] = [];
  let parser: HttpParser | null = null;
  parser = new HttpParser('response', {
    onHead: (head) => void events.push({ type: 'head', head }),
    onBody: (b) => void events.push(body(b.toString('latin1'))),
    onComplete: () => {
      events.push(complete());
      parser?.pause();
    },
  });
  const used = parser.execute(input);
  t.equal(used, input.length - 7, 'stops right after the head');
  t.same(events.map((e) => e.type), ['head', 'complete']);
  t.equal((events[0] as { head: MessageHead }).head.status, 101);
});

// ---- pause / resume ----

t.test('pause() in onComplete takes pipelined requests one at a time', async (t) => {
  const messages = [
    'GET /1 HTTP/1.1\r\nHost: a\r\n\r\n',
    'POST /2 HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc',
    'POST /3 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n',
  ];
  const input = bin(messages.join(''));
  const targets: string[] = [];
  let completes = 0;
  const parser: HttpParser = new HttpParser('request', {
    onHead: (head) => void targets.push(head.target),
    onBody() {},
    onComplete: () => {
      completes++;
      parser.pause();
    },
  });
  let rest = input;
  for (const message of messages) {
    const used = parser.execute(rest);
    t.equal(used, message.length, `stops at the end of ${message.split(' ')[1]}`);
    t.ok(parser.idle, 'idle between messages');
    t.equal(parser.execute(rest.subarray(used)), 0, 'consumes nothing while paused');
    rest = rest.subarray(used);
    parser.resume();
  }
  t.equal(rest.length, 0);
  t.equal(parser.execute(rest), 0);
  t.same(targets, ['/1', '/2', '/3']);
  t.equal(completes, 3);
});

t.test('pause() in onHead and onBody stops right after that callback', async (t) => {
  const input = bin('GET /a HTTP/1.1\r\nHost: a\r\n\r\nPOST /b HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\nbodyGET /c HTTP/1.0\r\n\r\n');
  const log: string[] = [];
  const parser: HttpParser = new HttpParser('request', {
    onHead: (head) => {
      log.push(`head ${head.target}`);
      parser.pause();
    },
    onBody: (b) => {
      log.push(`body ${b.toString()}`);
      parser.pause();
    },
    onComplete: () => void log.push('complete'),
  });
  let rest = input;
  const steps: number[] = [];
  while (rest.length > 0 || parser.inBody) {
    const used = parser.execute(rest);
    steps.push(used);
    rest = rest.subarray(used);
    parser.resume();
    if (steps.length > 20) break;
  }
  t.same(log, ['head /a', 'complete', 'head /b', 'body body', 'complete', 'head /c', 'complete']);
  t.same(steps, [
    'GET /a HTTP/1.1\r\nHost: a\r\n\r\n'.length,
    'POST /b HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\n'.length,
    4,
    'GET /c HTTP/1.0\r\n\r\n'.length,
    0,
  ], 'each execute stops after the pausing callback; an empty chunk delivers the pending completion');
  t.ok(parser.idle);
});

t.test('an exception from a callback propagates and fails the parser', async (t) => {
  const boom = new Error('boom');
  const parser = new HttpParser('request', {
    onHead() {
      throw boom;
    },
    onBody() {},
    onComplete() {},
  });
  t.throws(() => parser.execute(bin('GET / HTTP/1.1\r\nHost: a\r\n\r\n')), boom);
  t.throws(() => parser.execute(bin('GET / HTTP/1.1\r\nHost: a\r\n\r\n')), boom, 'and stays failed');
});

// ---- headers helpers ----

t.test('header helpers read the flat list case-insensitively', async (t) => {
  const headers = ['host', 'a', 'connection', 'keep-alive, Upgrade', 'accept', 'x', 'connection', ' CLOSE ,', 'x-nbsp', '\xa0'];
  t.equal(getHeader(headers, 'Host'), 'a');
  t.equal(getHeader(headers, 'accept'), 'x');
  t.equal(getHeader(headers, 'missing'), undefined);
  t.same(getHeaderAll(headers, 'Connection'), ['keep-alive, Upgrade', ' CLOSE ,']);
  t.same(getHeaderAll(headers, 'missing'), []);
  t.ok(hasHeader(headers, 'ACCEPT'));
  t.notOk(hasHeader(headers, 'expect'));
  t.same(getTokens(headers, 'connection'), ['keep-alive', 'upgrade', 'close']);
  t.same(getTokens(headers, 'x-nbsp'), ['\xa0'], 'only SP and HTAB are trimmed');
  t.ok(hasToken(headers, 'connection', 'close'));
  t.ok(hasToken(headers, 'Connection', 'UPGRADE'));
  t.notOk(hasToken(headers, 'connection', 'keep'));
  t.notOk(hasToken(headers, 'accept', 'close'));
});
