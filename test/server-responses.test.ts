// lib/server/responses.ts without a socket: the server's own responses, how a
// handler's result is checked, framed (bodyLength) and chosen for gzip.

import t from 'tap';
import type { MessageHead } from '../lib/http/parser.js';
import { Request, type Response } from '../lib/server/request.js';
import { bodyLength, noHandler, plain, sendable, shouldGzip, withGzipBody } from '../lib/server/responses.js';

function request(method: string, target: string, headers: string[] = []): Request {
  const head = { method, target, versionMinor: 1, headers, keepAlive: true } as unknown as MessageHead;
  return new Request(head, '127.0.0.1', 1);
}

t.test('plain is a UTF-8 text response, closing only when asked', async (t) => {
  t.same(plain(400, 'Bad Request: x\n'), { status: 400, headers: { 'Content-Type': 'text/plain; charset=utf-8' }, body: 'Bad Request: x\n', close: false });
  t.equal(plain(408, 'late', true).close, true);
});

t.test('no handler is 404 for the methods RFC 9110 defines, 501 for any other', async (t) => {
  for (const method of ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'TRACE', 'PATCH']) {
    t.same(noHandler(request(method, '/a?q=1')), plain(404, 'Not Found: /a\n'), method);
  }
  for (const method of ['CONNECT', 'FOO', 'get']) t.same(noHandler(request(method, '/a')), plain(501, `Not Implemented: ${method}\n`), method);
});

t.test('bodyLength counts UTF-8 bytes, and is none for 204 and 304', async (t) => {
  t.equal(bodyLength(200, 'caf\xe9'), 5);
  t.equal(bodyLength(200, Buffer.from('caf\xe9', 'latin1')), 4);
  t.equal(bodyLength(200, ''), 0);
  t.equal(bodyLength(204, 'ignored'), -1);
  t.equal(bodyLength(304, Buffer.alloc(3)), -1);
});

t.test('sendable reads each field once and keeps what a client can read', async (t) => {
  let reads = 0;
  const result = {
    get status() {
      reads++;
      return 201;
    },
    body: Buffer.from('x'),
    close: 'yes',
  };
  t.same(sendable(result), { status: 201, headers: undefined, body: Buffer.from('x'), close: false, error: undefined }, 'close only when it is true');
  t.equal(reads, 1, 'the status getter ran once');
  const error = new Error('logged');
  t.same(sendable({ status: 599, headers: {}, body: '', close: true, error }), { status: 599, headers: {}, body: '', close: true, error });
});

t.test('sendable refuses what a client could not read, with a TypeError saying why', async (t) => {
  // prettier-ignore
  const rows: [result: unknown, message: RegExp][] = [
    [undefined, /returned undefined, not a response/],
    [null, /returned null, not a response/],
    [200, /returned number, not a response/],
    [{ status: 199 }, /status 199, not one from 200 to 599/],
    [{ status: 600 }, /status 600/],
    [{ status: 200.5 }, /status 200.5/],
    [{ status: '200' }, /status string/],
    [{ status: 200, headers: null }, /headers must be an object/],
    [{ status: 200, headers: 'X: y' }, /headers must be an object/],
    [{ status: 200, body: 42 }, /body must be a string or a Buffer/],
  ];
  for (const [result, message] of rows) t.throws(() => sendable(result), { name: 'TypeError', message }, String(JSON.stringify(result)));
});

t.test('shouldGzip: a large enough body, a client that accepts gzip, and no coding chosen by the handler', async (t) => {
  const big: Response = { status: 200, body: 'x'.repeat(100) };
  const gzipOk = request('GET', '/', ['accept-encoding', 'gzip']);
  t.equal(shouldGzip(big, gzipOk, 100), true);
  t.equal(shouldGzip(big, gzipOk, 101), false, 'under the threshold');
  t.equal(shouldGzip(big, gzipOk, Infinity), false, 'Infinity never');
  t.equal(shouldGzip(big, request('GET', '/'), 1), false, 'no Accept-Encoding');
  t.equal(shouldGzip(big, request('GET', '/', ['accept-encoding', 'gzip;q=0']), 1), false, 'gzip refused');
  t.equal(shouldGzip(big, request('HEAD', '/', ['accept-encoding', 'gzip']), 1), false, 'HEAD');
  t.equal(shouldGzip({ ...big, status: 204 }, gzipOk, 1), false, '204');
  t.equal(shouldGzip({ ...big, status: 304 }, gzipOk, 1), false, '304');
  t.equal(shouldGzip({ status: 200 }, gzipOk, 0), false, 'no body');
  t.equal(shouldGzip({ ...big, headers: { 'content-ENCODING': 'identity' } }, gzipOk, 1), false, 'the handler chose a coding');
});

t.test('withGzipBody sets the coding and Vary, keeping the other headers', async (t) => {
  const body = Buffer.from([0x1f, 0x8b]);
  t.same(withGzipBody({ status: 200, headers: { 'Content-Type': 'text/xml' }, body: 'xx', close: true }, body), {
    status: 200,
    headers: { 'Content-Type': 'text/xml', 'Content-Encoding': 'gzip', Vary: 'Accept-Encoding' },
    body,
    close: true,
  });
});
