// The request line (RFC 9112 §3): the method as it arrives, the request-target
// in each of its four forms, the version; one row per malformed request line.

import t from 'tap';
import { type ValidCase, complete, head, prefixesNeedMore, refusesEach, sameEventsHoweverCut } from './http-parser-harness.js';
import { REFUSALS } from './http-parser-refusals.js';

// prettier-ignore
const CASES: ValidCase[] = [
  {
    name: 'parses a simple GET',
    input: 'GET /RPC2 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: test\r\n\r\n',
    events: [head({ target: '/RPC2', headers: ['host', 'example.com', 'user-agent', 'test'] }), complete()],
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
];

t.test('valid request lines give the same events however they are cut', async (t) => {
  sameEventsHoweverCut(t, CASES);
});

t.test('every strict prefix of these request lines is "need more"', async (t) => {
  prefixesNeedMore(t, CASES);
});

t.test('refuses each malformed request line with its own code and status', async (t) => {
  refusesEach(t, REFUSALS.requestLine);
});
