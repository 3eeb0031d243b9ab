// What handlers see and return: the chain, errors and unsendable results
// (500 and reported), header bytes, and results whose client has gone.

import t from 'tap';
import * as net from 'node:net';
import { RawClient, echoBody, handler, post, startServer } from './support.js';
import type { Request } from '../lib/server/request.js';

t.test('no matching handler gives 404 and the connection stays open', async (t) => {
  const { server, port } = await startServer({ handlers: [echoBody] });
  t.teardown(() => server.close());
  const c = await RawClient.open(port);
  t.teardown(() => c.destroy());
  c.write('GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n');
  c.write(post('/nowhere', 'a body that is read and discarded'));
  c.write(post('/echo', 'still here'));
  const [a, b, e] = await c.responsesCount(3);
  t.equal(a!.status, 404);
  t.equal(b!.status, 404);
  t.equal(e!.status, 200);
  t.equal(e!.text(), 'still here');
  t.equal(c.closed, false);
});

t.test('the first matching handler in the chain handles the request', async (t) => {
  const seen: string[] = [];
  const first = handler(
    (r) => r.path.startsWith('/a'),
    () => (seen.push('first'), { status: 200, body: 'first' }),
  );
  const second = handler(
    () => true,
    () => (seen.push('second'), { status: 200, body: 'second' }),
  );
  const { server, port } = await startServer({ handlers: [first] });
  server.addHandler(second);
  t.teardown(() => server.close());
  const c = await RawClient.open(port);
  t.teardown(() => c.destroy());
  c.write('GET /abc HTTP/1.1\r\nHost: x\r\n\r\nGET /zzz HTTP/1.1\r\nHost: x\r\n\r\n');
  const [a, b] = await c.responsesCount(2);
  t.equal(a!.text(), 'first');
  t.equal(b!.text(), 'second');
  t.same(seen, ['first', 'second']);
});

t.test('a throwing handler gives 500, is reported, and the server keeps serving', async (t) => {
  const errors: unknown[] = [];
  const boom = handler(
    (r) => r.path === '/boom',
    () => {
      throw new Error('sync boom');
    },
  );
  const asyncBoom = handler(
    (r) => r.path === '/aboom',
    async () => {
      throw new Error('async boom');
    },
  );
  const { server, port } = await startServer({ handlers: [boom, asyncBoom, echoBody], onError: (e) => errors.push(e) });
  t.teardown(() => server.close());
  const c = await RawClient.open(port);
  t.teardown(() => c.destroy());
  c.write('GET /boom HTTP/1.1\r\nHost: x\r\n\r\nGET /aboom HTTP/1.1\r\nHost: x\r\n\r\n' + post('/echo', 'ok'));
  const rs = await c.responsesCount(3);
  t.same(
    rs.map((r) => r.status),
    [500, 500, 200],
  );
  t.notMatch(rs[0]!.text(), /sync boom/, 'no internals in the response');
  t.same(
    errors.map((e) => (e as Error).message),
    ['sync boom', 'async boom'],
  );
});

// What handlers return is checked once: anything a client could not read becomes a 500.
// prettier-ignore
const unsendable: [name: string, result: unknown][] = [
  ['undefined', undefined],
  ['null', null],
  ['a number', 200],
  ['status 100 (interim)', { status: 100 }],
  ['status 101 (no upgrade here)', { status: 101 }],
  ['status 99', { status: 99 }],
  ['status 600', { status: 600 }],
  ['status 200.5', { status: 200.5 }],
  ['status "200"', { status: '200' }],
  ['a body that is a number', { status: 200, body: 42 }],
  ['a body that is an object', { status: 200, body: { a: 1 } }],
  ['headers that are a string', { status: 200, headers: 'X: y' }],
  ['a header name with a colon', { status: 200, headers: { 'X:Y': 'z' } }],
  ['a header name with a space', { status: 200, headers: { 'X Y': 'z' } }],
  ['a header value with LF', { status: 200, headers: { X: 'a\nSet-Cookie: evil' } }],
  ['a header value with a CTL', { status: 200, headers: { X: 'a\x01b' } }],
  ['a header value beyond latin1', { status: 200, headers: { X: '\u20ac' } }],
  ['a header value that is undefined', { status: 200, headers: { X: undefined } }],
  ['a status getter that throws', { get status(): number { throw new Error('getter'); } }],
];

t.test('a handler result a client could not read is answered 500 and reported, sync or async', async (t) => {
  const errors: unknown[] = [];
  const results = new Map(unsendable.map(([, result], i) => [`/${i}`, result]));
  const sync = handler(
    (r) => !r.path.startsWith('/async'),
    (r) => results.get(r.path) as never,
  );
  const async = handler(
    () => true,
    async (r) => results.get(r.path.slice('/async'.length)) as never,
  );
  const { server, port } = await startServer({ handlers: [sync, async], onError: (e) => errors.push(e) });
  t.teardown(() => server.close());
  const c = await RawClient.open(port);
  t.teardown(() => c.destroy());
  for (const prefix of ['', '/async']) {
    for (let i = 0; i < unsendable.length; i++) c.write(`GET ${prefix}/${i} HTTP/1.1\r\nHost: x\r\n\r\n`);
  }
  const rs = await c.responsesCount(2 * unsendable.length);
  rs.forEach((r, i) => {
    const [name] = unsendable[i % unsendable.length]!;
    t.equal(r.status, 500, `${i < unsendable.length ? 'sync' : 'async'}: ${name}`);
    t.equal(r.header('x'), undefined, `${name}: no bad header went out`);
    t.equal(r.header('set-cookie'), undefined, `${name}: no header injected`);
  });
  t.equal(errors.length, 2 * unsendable.length, 'each one reported');
  t.equal(c.closed, false, 'and the connection still serves');
});

t.test('header values go out one byte per character (latin1) whatever the body', async (t) => {
  const h = handler(
    () => true,
    (r) => ({ status: 200, headers: { 'X-Name': 'Jos\xe9' }, body: r.path === '/s' ? 'caf\xe9' : Buffer.from('caf\xe9', 'latin1') }),
  );
  const { server, port } = await startServer({ handlers: [h] });
  t.teardown(() => server.close());
  for (const path of ['/s', '/b']) {
    const socket = net.connect(port, '127.0.0.1');
    t.teardown(() => socket.destroy());
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no close')), 10_000); // a bound, not a measure
      socket.on('close', () => (clearTimeout(timer), resolve()));
    });
    const raw = Buffer.concat(chunks);
    t.ok(raw.includes(Buffer.from('X-Name: Jos\xe9\r\n', 'latin1')), `${path}: é is the byte E9 in the head`);
    t.ok(raw.subarray(raw.indexOf('\r\n\r\n') + 4).equals(Buffer.from('caf\xe9', path === '/s' ? 'utf8' : 'latin1')), `${path}: the body as given`);
  }
});

for (const how of ['reset', 'close'] as const) {
  t.test(`a result whose client has gone (${how}) is dropped without error`, async (t) => {
    const errors: unknown[] = [];
    let request: Request | null = null;
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    const h = handler(
      () => true,
      async (r) => {
        request = r;
        await gate;
        return { status: 200, body: 'late' };
      },
    );
    const { server, port } = await startServer({ handlers: [h], onError: (e) => errors.push(e) });
    t.teardown(() => server.close());
    const c = await RawClient.open(port);
    c.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await c.until(() => request !== null, 2000, 'the handler to start');
    if (how === 'reset') {
      // An RST: the server knows at once that nobody will read the result.
      c.socket.resetAndDestroy();
      await c.until(() => server.connectionCount === 0, 2000, 'the server to see the reset');
      t.equal((request as Request | null)?.aborted, true);
    } else {
      // A FIN may be a half-close: the server answers, and the write fails quietly.
      c.destroy();
    }
    release();
    await c.until(() => server.connectionCount === 0, 2000, 'the connection to go');
    t.same(errors, []);
  });
}
