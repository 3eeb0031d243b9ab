// Field lines (RFC 9112 §5, §2.2): names, values, repeats, Host and Expect, the
// trailer section's fields, and the CRLF that must end every line.

import t from 'tap';
import { type ValidCase, body, complete, head, prefixesNeedMore, refusesEach, sameEventsHoweverCut } from './http-parser-harness.js';
import { REFUSALS } from './http-parser-refusals.js';

// prettier-ignore
const CASES: ValidCase[] = [
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
    name: 'keeps obs-text in values, an empty Host, and treats HTTP/1.2 as 1.1',
    input: 'M-SEARCH /caf%C3%A9#x HTTP/1.2\r\nHost:\r\nX-Name: Jos\xe9\x80 \xff\r\n\r\n',
    events: [head({ method: 'M-SEARCH', target: '/caf%C3%A9#x', headers: ['host', '', 'x-name', 'Jos\xe9\x80 \xff'] }), complete()],
    single: true,
  },
];

t.test('valid heads give the same events however they are cut', async (t) => {
  sameEventsHoweverCut(t, CASES);
});

t.test('every strict prefix of these heads is "need more"', async (t) => {
  prefixesNeedMore(t, CASES);
});

t.test('refuses each malformed field line with its own code and status', async (t) => {
  refusesEach(t, REFUSALS.fields);
});

t.test('refuses a missing, repeated or malformed Host', async (t) => {
  refusesEach(t, REFUSALS.host);
});

t.test('refuses a bare CR or a bare LF wherever a line ends', async (t) => {
  refusesEach(t, REFUSALS.lineEndings);
});
