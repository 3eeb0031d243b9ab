// Message framing and persistence (RFC 9112 §6, §9.3): Content-Length,
// Transfer-Encoding and the two together (request smuggling), a body length a
// request must have, Expect, and whether the connection is kept.

import t from 'tap';
import { type ValidCase, body, complete, head, prefixesNeedMore, refusesEach, run, bin, sameEventsHoweverCut } from './http-parser-harness.js';
import { REFUSALS, H } from './http-parser-refusals.js';

const XML = '<?xml version="1.0"?><methodCall><methodName>ping</methodName><params/></methodCall>';

// prettier-ignore
const CASES: ValidCase[] = [
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
    // llhttp's method.md "CONNECT with body": the bytes after the head are the tunnel's, not content (RFC 9110 §9.3.6).
    name: 'reads no content after a CONNECT head, whatever Content-Length says',
    input: 'CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\nContent-Length: 4\r\n\r\n',
    events: [head({ method: 'CONNECT', target: 'a:443', headers: ['host', 'a:443', 'content-length', '4'], keepAlive: false }), complete()],
    single: true,
  },
];

t.test('valid requests give the same events however they are cut', async (t) => {
  sameEventsHoweverCut(t, CASES);
});

t.test('every strict prefix of these requests is "need more"', async (t) => {
  prefixesNeedMore(t, CASES);
});

t.test('refuses each invalid or conflicting Content-Length', async (t) => {
  refusesEach(t, REFUSALS.contentLength);
});

t.test('refuses each Transfer-Encoding it cannot frame a body by, and Content-Length beside it', async (t) => {
  refusesEach(t, REFUSALS.transferEncoding);
});

t.test('refuses a request body without a length and an expectation it cannot meet', async (t) => {
  refusesEach(t, REFUSALS.lengths);
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
