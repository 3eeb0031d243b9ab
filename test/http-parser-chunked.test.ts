// The chunked transfer coding (RFC 9112 §7.1): chunk sizes, extensions, the
// CRLF after chunk data, the last chunk and trailers, the body limit.

import t from 'tap';
import { type ValidCase, body, complete, head, prefixesNeedMore, refusesEach, run, bin, sameEventsHoweverCut } from './http-parser-harness.js';
import { REFUSALS, POST_TE } from './http-parser-refusals.js';

// prettier-ignore
const CASES: ValidCase[] = [
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
];

t.test('valid chunked requests give the same events however they are cut', async (t) => {
  sameEventsHoweverCut(t, CASES);
});

t.test('every strict prefix of these chunked requests is "need more"', async (t) => {
  prefixesNeedMore(t, CASES);
});

t.test('refuses each malformed chunk-size line or chunk', async (t) => {
  refusesEach(t, REFUSALS.chunked);
});

t.test('a chunked body over the limit fails when the size line declares it', async (t) => {
  const input = bin(`${POST_TE}6\r\nhello!\r\n5\r\n`);
  const events = run([input], { limits: { maxBodyBytes: 10 } });
  t.same(events.slice(1), [body('hello!'), { type: 'error', code: 'HPE_BODY_TOO_LARGE' }]);
});
