// lib/http/response.ts: response heads as exact bytes. The Date field is the
// one value that depends on the clock, so it is checked for its form only.

import t from 'tap';
import { spawnSync } from 'node:child_process';
import { CONTINUE_100, formatHead, framedResponse, framedText, statusText, type ResponseHeaders } from '../lib/http/response.js';

const DATE = /\r\nDate: (Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d GMT\r\n/;

/** The head with its Date line (checked for its form) replaced by `Date: *`. */
function withoutDate(head: string): string {
  if (!DATE.test(head)) throw new Error(`no IMF-fixdate Date line in ${JSON.stringify(head)}`);
  return head.replace(DATE, '\r\nDate: *\r\n');
}

t.test('statusText gives the reason phrase of each status it knows and Unknown otherwise', async (t) => {
  // prettier-ignore
  const rows: Array<[number, string]> = [
    [100, 'Continue'],
    [200, 'OK'],
    [204, 'No Content'],
    [400, 'Bad Request'],
    [404, 'Not Found'],
    [411, 'Length Required'],
    [413, 'Content Too Large'],
    [414, 'URI Too Long'],
    [417, 'Expectation Failed'],
    [431, 'Request Header Fields Too Large'],
    [500, 'Internal Server Error'],
    [501, 'Not Implemented'],
    [503, 'Service Unavailable'],
    [505, 'HTTP Version Not Supported'],
    [299, 'Unknown'],
    [0, 'Unknown'],
  ];
  for (const [status, text] of rows) t.equal(statusText(status), text, String(status));
});

t.test('formatHead writes the status line, Date, the handler fields, then Content-Length and Connection', async (t) => {
  // prettier-ignore
  const rows: Array<[string, Parameters<typeof formatHead>, string]> = [
    [
      'a 200 with a body, kept alive',
      [200, { 'Content-Type': 'text/xml' }, 12, 'keep-alive'],
      'HTTP/1.1 200 OK\r\nDate: *\r\nContent-Type: text/xml\r\nContent-Length: 12\r\nConnection: keep-alive\r\n\r\n',
    ],
    ['no handler fields, closing', [400, undefined, 0, 'close'], 'HTTP/1.1 400 Bad Request\r\nDate: *\r\nContent-Length: 0\r\nConnection: close\r\n\r\n'],
    ['no Content-Length when negative, no Connection when empty', [204, {}, -1, ''], 'HTTP/1.1 204 No Content\r\nDate: *\r\n\r\n'],
    ['an unknown status', [299, undefined, 1, ''], 'HTTP/1.1 299 Unknown\r\nDate: *\r\nContent-Length: 1\r\n\r\n'],
    [
      'field names as given, numbers as decimal, in order',
      [200, { 'x-b': 2, 'X-A': 'one', 'Retry-After': 120 }, 3, ''],
      'HTTP/1.1 200 OK\r\nDate: *\r\nx-b: 2\r\nX-A: one\r\nRetry-After: 120\r\nContent-Length: 3\r\n\r\n',
    ],
    [
      'the server-owned fields a handler gives are left out, whatever their case',
      [200, { 'content-length': 99, CONNECTION: 'upgrade', 'Transfer-Encoding': 'chunked', date: 'yesterday', 'X-Kept': 'yes' }, 5, 'close'],
      'HTTP/1.1 200 OK\r\nDate: *\r\nX-Kept: yes\r\nContent-Length: 5\r\nConnection: close\r\n\r\n',
    ],
    ['an empty value, obs-text and HTAB kept', [200, { 'X-E': '', 'X-L': 'caf\xe9\tx' }, 0, ''], 'HTTP/1.1 200 OK\r\nDate: *\r\nX-E: \r\nX-L: caf\xe9\tx\r\nContent-Length: 0\r\n\r\n'],
  ];
  for (const [name, args, expected] of rows) t.equal(withoutDate(formatHead(...args)), expected, name);
});

t.test('formatHead refuses a field it cannot send with a TypeError, so no handler can split a response', async (t) => {
  // prettier-ignore
  const rows: Array<[string, ResponseHeaders]> = [
    ['a name with a space', { 'Bad Name': 'x' }],
    ['a name with a colon', { 'X:Y': 'x' }],
    ['an empty name', { '': 'x' }],
    ['a name above latin1', { 'X-\u0100': 'x' }],
    ['CRLF in a value (response splitting)', { 'X-A': 'a\r\nSet-Cookie: evil=1' }],
    ['a bare LF in a value', { 'X-A': 'a\nb' }],
    ['NUL in a value', { 'X-A': 'a\0b' }],
    ['a value above latin1', { 'X-A': '\u20ac' }],
    ['a boolean value', { 'X-A': true as unknown as string }],
    ['an object value', { 'X-A': {} as unknown as string }],
    ['an undefined value', { 'X-A': undefined as unknown as string }],
  ];
  for (const [name, headers] of rows) t.throws(() => formatHead(200, headers, 0, ''), TypeError, name);
});

t.test('framedResponse is formatHead and the body, byte for byte, whatever came before it', async (t) => {
  const xml = Object.freeze({ 'Content-Type': 'text/xml' });
  const two = Object.freeze({ 'Content-Type': 'text/plain; charset=utf-8', 'Retry-After': 1 });
  const lists: Array<ResponseHeaders | undefined> = [xml, xml, two, undefined, xml, two, two, undefined];
  const lengths = [1, 9, 10, 99, 100, 101, 999, 1000, 12345, 16384];
  let n = 0;
  for (const status of [200, 200, 405, 200, 503]) {
    for (const headers of lists) {
      for (const connection of ['', 'close', 'keep-alive'] as const) {
        const length = lengths[n++ % lengths.length]!;
        const body = Buffer.alloc(length, 0x41 + (n % 26));
        const framed = framedResponse(status, headers, connection, body);
        const expected = formatHead(status, headers, length, connection) + body.toString('latin1');
        t.equal(
          withoutDate(framed!.toString('latin1')),
          withoutDate(expected),
          `${status}, ${JSON.stringify(headers)}, ${length} bytes, ${connection || 'no Connection'}`,
        );
      }
    }
  }
});

t.test('framedResponse leaves headers that are not frozen to formatHead, and refuses a frozen field it cannot send', async (t) => {
  t.equal(framedResponse(200, { 'Content-Type': 'text/xml' }, '', Buffer.from('x')), null);
  t.throws(() => framedResponse(200, Object.freeze({ 'X-Bad': 'a\r\nb' }), '', Buffer.from('x')), TypeError);
  t.throws(() => framedResponse(200, Object.freeze({ 'Bad Name': 'v' }), '', Buffer.from('x')), TypeError);
});

t.test('framedText is formatHead and the body, character for character, whatever came before it (framedResponse included)', async (t) => {
  const xml = Object.freeze({ 'Content-Type': 'text/xml' });
  const two = Object.freeze({ 'Content-Type': 'text/plain; charset=utf-8', 'Retry-After': 1 });
  const lists: Array<ResponseHeaders | undefined> = [xml, xml, two, undefined, xml, two, two, undefined];
  const lengths = [0, 1, 9, 10, 99, 100, 101, 999, 1000, 12345, 16384];
  let n = 0;
  for (const status of [200, 200, 405, 200, 503]) {
    for (const headers of lists) {
      for (const connection of ['', 'close', 'keep-alive'] as const) {
        const length = lengths[n++ % lengths.length]!;
        const body = String.fromCharCode(0x41 + (n % 26)).repeat(length);
        // The two share the head they keep: one of each, in turn, on the same status and list.
        if (n % 2 === 0) framedResponse(status, headers, connection, Buffer.from(body.slice(0, 7)));
        const framed = framedText(status, headers, connection, body);
        t.equal(
          withoutDate(framed!),
          withoutDate(formatHead(status, headers, length, connection) + body),
          `${status}, ${JSON.stringify(headers)}, ${length} characters, ${connection || 'no Connection'}`,
        );
      }
    }
  }
});

t.test('framedText leaves headers that are not frozen to formatHead, and refuses a frozen field it cannot send', async (t) => {
  t.equal(framedText(200, { 'Content-Type': 'text/xml' }, '', 'x'), null);
  t.throws(() => framedText(200, Object.freeze({ 'X-Bad': 'a\r\nb' }), '', 'x'), TypeError);
  t.throws(() => framedText(200, Object.freeze({ 'Bad Name': 'v' }), '', 'x'), TypeError);
});

t.test('the header list kept from the last response spares no other list its checks', async (t) => {
  const xml = Object.freeze({ 'Content-Type': 'text/xml' });
  const bad = Object.freeze({ 'X-Bad': 'a\r\nb' });
  for (const frame of [(h?: ResponseHeaders) => framedText(200, h, '', 'x'), (h?: ResponseHeaders) => framedResponse(200, h, '', Buffer.from('x'))]) {
    // The frozen list is now the kept one; a list like it but not frozen is still formatHead's.
    t.not(frame(xml), null);
    t.equal(frame({ 'Content-Type': 'text/xml' }), null);
    t.not(frame(xml), null);
    // A list refused is never kept: refused again, each time.
    t.throws(() => frame(bad), TypeError);
    t.throws(() => frame(bad), TypeError);
    t.not(frame(undefined), null);
    t.equal(frame({ 'Content-Type': 'text/xml' }), null);
  }
});

t.test('the Date of every response, kept or made, is the second it goes out in, across second boundaries', async (t) => {
  // In a process of its own: the Date and the kept head are module state, and node:test's mock
  // timers drive Date.now and setTimeout together (the Date is forgotten by a timer at each second's start).
  const response = new URL('../lib/http/response.js', import.meta.url).href;
  const script = `
    import { mock } from 'node:test';
    mock.timers.enable({ apis: ['setTimeout', 'Date'], now: Date.UTC(2026, 11, 5, 12, 0, 0, 998) });
    const { formatHead, framedResponse, framedText } = await import(${JSON.stringify(response)});
    const xml = Object.freeze({ 'Content-Type': 'text/xml' });
    const date = (head) => /\\r\\nDate: ([^\\r]*)\\r\\n/.exec(head)[1];
    const seen = [];
    for (const step of [0, 1, 1, 998, 1, 1, 2500, 3000]) {
      mock.timers.tick(step);
      seen.push([Date.now(), date(framedResponse(200, xml, '', Buffer.from('x')).toString('latin1')), date(framedText(200, xml, 'close', 'x')), date(formatHead(200, xml, 1, ''))]);
    }
    process.stdout.write(JSON.stringify(seen));
  `;
  const run = spawnSync(process.execPath, ['--no-warnings', '--input-type=module', '-e', script], { encoding: 'utf8' });
  t.equal(run.status, 0, run.stderr);
  const seen = JSON.parse(run.stdout) as [number, string, string, string][];
  t.equal(seen.length, 8);
  for (const [now, ...dates] of seen) {
    const want = new Date(now - (now % 1000)).toUTCString();
    t.same(dates, [want, want, want], `at ${new Date(now).toISOString()}`);
  }
});

t.test('CONTINUE_100 is the whole interim response', async (t) => {
  t.equal(CONTINUE_100, 'HTTP/1.1 100 Continue\r\n\r\n');
});
