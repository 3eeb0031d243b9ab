import t from 'tap';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { gunzipSync, gzipSync } from 'node:zlib';
import { RawClient, handler, post, readSlowly, selfSignedCertificate, sleep, startServer, type Certificate } from './support.js';
import type { Request, Response } from '../lib/server/request.js';
import { Server } from '../lib/server/server.js';

const echoBody = handler(
  (r) => r.path === '/echo',
  (r) => ({ status: 200, headers: { 'Content-Type': 'text/plain' }, body: r.body }),
);

t.test('listen(0) binds an ephemeral loopback port and returns it', async (t) => {
  const { server, port } = await startServer();
  t.teardown(() => server.close());
  t.ok(port > 0);
  t.equal(server.address?.address, '127.0.0.1');
});

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
  const first = handler((r) => r.path.startsWith('/a'), () => (seen.push('first'), { status: 200, body: 'first' }));
  const second = handler(() => true, () => (seen.push('second'), { status: 200, body: 'second' }));
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

t.test('keep-alive serves many requests on one connection', async (t) => {
  const { server, port } = await startServer({ handlers: [echoBody] });
  t.teardown(() => server.close());
  const c = await RawClient.open(port);
  t.teardown(() => c.destroy());
  for (let i = 0; i < 20; i++) {
    c.write(post('/echo', `call ${i}`));
    await c.responsesCount(i + 1);
  }
  t.equal(c.responses[19]!.text(), 'call 19');
  t.equal(c.responses[0]!.header('connection'), undefined, 'HTTP/1.1 keep-alive needs no Connection field');
  t.equal(server.connectionCount, 1);
});

t.test('pipelined requests are answered in request order though handlers finish out of order', async (t) => {
  const started: number[] = [];
  const finished: number[] = [];
  const slow = handler(
    (r) => r.path.startsWith('/delay/'),
    async (r) => {
      const ms = Number(r.path.slice('/delay/'.length));
      started.push(ms);
      await sleep(ms);
      finished.push(ms);
      return { status: 200, body: String(ms) };
    },
  );
  const { server, port } = await startServer({ handlers: [slow] });
  t.teardown(() => server.close());
  const c = await RawClient.open(port);
  t.teardown(() => c.destroy());
  const delays = [120, 10, 60, 0];
  c.write(delays.map((ms) => `GET /delay/${ms} HTTP/1.1\r\nHost: x\r\n\r\n`).join(''));
  const responses = await c.responsesCount(4);
  t.same(responses.map((r) => r.text()), delays.map(String), 'responses in request order');
  t.same(started, delays, 'every handler started before the first finished (processed concurrently)');
  t.same(finished, [0, 10, 60, 120], 'handlers finished out of order');
});

t.test('Expect: 100-continue gets 100 before the body is sent', async (t) => {
  const { server, port } = await startServer({ handlers: [echoBody] });
  t.teardown(() => server.close());
  const c = await RawClient.open(port);
  t.teardown(() => c.destroy());
  c.write('POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n');
  await c.until(() => c.informational.length === 1, 2000, '100 Continue');
  t.equal(c.informational[0]!.status, 100);
  t.equal(c.responses.length, 0);
  c.write('hello');
  const [r] = await c.responsesCount(1);
  t.equal(r!.status, 200);
  t.equal(r!.text(), 'hello');
});

t.test('Expect: 100-continue to a path nobody handles gets the final 404 at once, then close', async (t) => {
  const { server, port } = await startServer({ handlers: [echoBody] });
  t.teardown(() => server.close());
  const c = await RawClient.open(port);
  t.teardown(() => c.destroy());
  c.write('POST /nowhere HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\nExpect: 100-continue\r\n\r\n');
  const [r] = await c.responsesCount(1);
  t.equal(r!.status, 404);
  t.equal(r!.header('connection'), 'close');
  t.equal(c.informational.length, 0);
  await c.whenClosed();
});

// One row per refusal: what is sent, the status owed, and the connection closed after.
const refusals: [string, string, number][] = [
  ['a bad token in a header name', 'GET / HTTP/1.1\r\nHost: x\r\nBad Name: 1\r\n\r\n', 400],
  ['whitespace before the colon', 'GET / HTTP/1.1\r\nHost: x\r\nContent-Length : 0\r\n\r\n', 400],
  ['obs-fold', 'GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n  folded\r\n\r\n', 400],
  ['a bare CR', 'GET / HTTP/1.1\r\nHost: x\rX: y\r\n\r\n', 400],
  ['CL and TE together', 'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 400],
  ['differing Content-Lengths', 'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd', 400],
  ['a malformed Content-Length', 'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n', 400],
  ['a final coding other than chunked', 'POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n', 400],
  ['a bad chunk size', 'POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', 400],
  ['HTTP/1.1 without Host', 'GET / HTTP/1.1\r\n\r\n', 400],
  ['two Hosts', 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', 400],
  ['POST without a body length', 'POST /echo HTTP/1.1\r\nHost: x\r\n\r\n', 411],
  ['a Content-Length over the body limit', 'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999\r\n\r\n', 413],
  ['a request line over its limit', `GET /${'a'.repeat(9000)} HTTP/1.1\r\nHost: x\r\n\r\n`, 414],
  ['a head over its limit', `GET / HTTP/1.1\r\nHost: x\r\nX: ${'a'.repeat(20000)}\r\n\r\n`, 431],
  ['an unsupported transfer coding', 'POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n', 501],
  ['HTTP/2.0 on an HTTP/1 connection', 'GET / HTTP/2.0\r\nHost: x\r\n\r\n', 505],
  ['an unknown expectation', 'POST /echo HTTP/1.1\r\nHost: x\r\nExpect: teapot\r\nContent-Length: 1\r\n\r\nx', 417],
];

t.test('malformed requests get their status, Connection: close, and the socket closed', async (t) => {
  const { server, port } = await startServer({ handlers: [echoBody] });
  t.teardown(() => server.close());
  for (const [what, bytes, status] of refusals) {
    const c = await RawClient.open(port);
    c.write(bytes);
    const [r] = await c.responsesCount(1);
    t.equal(r!.status, status, what);
    t.equal(r!.header('connection'), 'close', `${what}: Connection: close`);
    await c.whenClosed();
    c.destroy();
  }
  // and the server keeps serving
  const c = await RawClient.open(port);
  t.teardown(() => c.destroy());
  c.write(post('/echo', 'alive'));
  const [r] = await c.responsesCount(1);
  t.equal(r!.text(), 'alive');
});

t.test('responses owed before a malformed request still go out first', async (t) => {
  const { server, port } = await startServer({ handlers: [echoBody] });
  t.teardown(() => server.close());
  const c = await RawClient.open(port);
  t.teardown(() => c.destroy());
  c.write(post('/echo', 'one') + post('/echo', 'two') + 'BROKEN REQUEST\r\n\r\n' + post('/echo', 'never'));
  await c.whenClosed();
  t.same(c.responses.map((r) => r.status), [200, 200, 400]);
  t.same(c.responses.slice(0, 2).map((r) => r.text()), ['one', 'two']);
});

t.test('a smuggled request after CL+TE is never handled', async (t) => {
  const paths: string[] = [];
  const spy = handler(() => true, (r) => (paths.push(r.path), { status: 200, body: 'ok' }));
  const { server, port } = await startServer({ handlers: [spy] });
  t.teardown(() => server.close());
  const c = await RawClient.open(port);
  t.teardown(() => c.destroy());
  c.write('POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 44\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n');
  await c.whenClosed();
  t.same(paths, []);
  t.same(c.responses.map((r) => r.status), [400]);
});

t.test('a chunked request body is reassembled', async (t) => {
  const { server, port } = await startServer({ handlers: [echoBody] });
  t.teardown(() => server.close());
  const c = await RawClient.open(port);
  t.teardown(() => c.destroy());
  c.write('POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n');
  const [r] = await c.responsesCount(1);
  t.equal(r!.text(), 'hello world');
});

t.test('a chunked body over the limit is refused with 413 without being buffered whole', async (t) => {
  const { server, port } = await startServer({ handlers: [echoBody], maxBodyBytes: 1000 });
  t.teardown(() => server.close());
  const c = await RawClient.open(port);
  t.teardown(() => c.destroy());
  c.write('POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n');
  for (let i = 0; i < 5; i++) c.write(`12c\r\n${'x'.repeat(300)}\r\n`);
  const [r] = await c.responsesCount(1);
  t.equal(r!.status, 413);
  await c.whenClosed();
});

t.test('a throwing handler gives 500, is reported, and the server keeps serving', async (t) => {
  const errors: unknown[] = [];
  const boom = handler((r) => r.path === '/boom', () => {
    throw new Error('sync boom');
  });
  const asyncBoom = handler((r) => r.path === '/aboom', async () => {
    throw new Error('async boom');
  });
  const { server, port } = await startServer({ handlers: [boom, asyncBoom, echoBody], onError: (e) => errors.push(e) });
  t.teardown(() => server.close());
  const c = await RawClient.open(port);
  t.teardown(() => c.destroy());
  c.write('GET /boom HTTP/1.1\r\nHost: x\r\n\r\nGET /aboom HTTP/1.1\r\nHost: x\r\n\r\n' + post('/echo', 'ok'));
  const rs = await c.responsesCount(3);
  t.same(rs.map((r) => r.status), [500, 500, 200]);
  t.notMatch(rs[0]!.text(), /sync boom/, 'no internals in the response');
  t.same(errors.map((e) => (e as Error).message), ['sync boom', 'async boom']);
});

t.test('HTTP/1.0 closes unless keep-alive is asked for', async (t) => {
  const { server, port } = await startServer({ handlers: [echoBody] });
  t.teardown(() => server.close());
  const a = await RawClient.open(port);
  t.teardown(() => a.destroy());
  a.write('POST /echo HTTP/1.0\r\nContent-Length: 2\r\n\r\nhi');
  const [ra] = await a.responsesCount(1);
  t.equal(ra!.header('connection'), 'close');
  await a.whenClosed();
  const b = await RawClient.open(port);
  t.teardown(() => b.destroy());
  b.write('POST /echo HTTP/1.0\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nhi');
  b.write('POST /echo HTTP/1.0\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nho');
  const [rb, rc] = await b.responsesCount(2);
  t.equal(rb!.header('connection'), 'keep-alive');
  t.equal(rc!.text(), 'ho');
  t.equal(b.closed, false);
});

t.test('Connection: close is honoured after the response', async (t) => {
  const { server, port } = await startServer({ handlers: [echoBody] });
  t.teardown(() => server.close());
  const c = await RawClient.open(port);
  t.teardown(() => c.destroy());
  c.write(post('/echo', 'bye', 'Connection: close\r\n') + post('/echo', 'ignored'));
  await c.whenClosed();
  t.equal(c.responses.length, 1);
  t.equal(c.responses[0]!.header('connection'), 'close');
});

t.test('a HEAD response has no body', async (t) => {
  const h = handler(() => true, () => ({ status: 200, body: 'twelve bytes' }));
  const { server, port } = await startServer({ handlers: [h] });
  t.teardown(() => server.close());
  const c = await RawClient.open(port);
  t.teardown(() => c.destroy());
  c.headResponses = 1;
  c.write('HEAD / HTTP/1.1\r\nHost: x\r\n\r\n' + 'GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  const [head, get] = await c.responsesCount(2);
  t.equal(head!.header('content-length'), '12', 'the length a GET would have');
  t.equal(head!.body.length, 0);
  t.equal(get!.text(), 'twelve bytes', 'the next response is framed right after it');
});

t.test('the head timeout answers 408 to a slowloris client and closes', async (t) => {
  const { server, port } = await startServer({ handlers: [echoBody], headersTimeout: 150 });
  t.teardown(() => server.close());
  const c = await RawClient.open(port);
  t.teardown(() => c.destroy());
  c.write('GET / HTTP/1.1\r\n');
  // Dribble bytes: activity must not extend the deadline.
  const dribble = setInterval(() => c.socket.writable && c.write('X'), 20);
  t.teardown(() => clearInterval(dribble));
  const [r] = await c.responsesCount(1, 3000);
  clearInterval(dribble);
  t.equal(r!.status, 408);
  await c.whenClosed();
});

t.test('the request timeout answers 408 to a body that never completes', async (t) => {
  const { server, port } = await startServer({ handlers: [echoBody], requestTimeout: 150 });
  t.teardown(() => server.close());
  const c = await RawClient.open(port);
  t.teardown(() => c.destroy());
  c.write('POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly part');
  const [r] = await c.responsesCount(1, 3000);
  t.equal(r!.status, 408);
  await c.whenClosed();
});

t.test('an idle keep-alive connection is closed after keepAliveTimeout', async (t) => {
  const { server, port } = await startServer({ handlers: [echoBody], keepAliveTimeout: 100 });
  t.teardown(() => server.close());
  const c = await RawClient.open(port);
  t.teardown(() => c.destroy());
  c.write(post('/echo', 'x'));
  await c.responsesCount(1);
  await c.whenClosed(3000);
  t.equal(c.responses.length, 1, 'closed silently');
});

t.test('connections over maxConnections get 503 and are closed', async (t) => {
  const { server, port } = await startServer({ handlers: [echoBody], maxConnections: 2 });
  t.teardown(() => server.close());
  const a = await RawClient.open(port);
  const b = await RawClient.open(port);
  t.teardown(() => (a.destroy(), b.destroy()));
  await a.until(() => server.connectionCount === 2, 2000, 'two connections');
  const c = await RawClient.open(port);
  t.teardown(() => c.destroy());
  const [r] = await c.responsesCount(1);
  t.equal(r!.status, 503);
  await c.whenClosed();
  a.write(post('/echo', 'fine'));
  const [ra] = await a.responsesCount(1);
  t.equal(ra!.text(), 'fine');
});

t.test('back-pressure: the server stops reading while the client does not read', async (t) => {
  let calls = 0;
  const big = Buffer.alloc(1 << 20, 'x');
  const h = handler(() => true, () => (calls++, { status: 200, body: big }));
  const { server, port } = await startServer({ handlers: [h], maxPipelinedRequests: 1000 });
  t.teardown(() => server.close());
  const n = 64;
  const socket = net.connect(port, '127.0.0.1');
  t.teardown(() => socket.destroy());
  await new Promise((r) => socket.once('connect', r));
  socket.pause(); // read nothing
  socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(n));
  await sleep(300);
  const callsWhileBlocked = calls;
  t.ok(callsWhileBlocked < n, `handled ${callsWhileBlocked} of ${n} while the client read nothing`);
  // Now read everything: every response arrives.
  let received = 0;
  const expected = n * big.length;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`only ${received} bytes`)), 10000);
    socket.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received >= expected) {
        clearTimeout(timer);
        resolve();
      }
    });
    socket.resume();
  });
  t.equal(calls, n);
});

for (const how of ['reset', 'close'] as const) {
  t.test(`a result whose client has gone (${how}) is dropped without error`, async (t) => {
    const errors: unknown[] = [];
    let request: Request | null = null;
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    const h = handler(() => true, async (r) => {
      request = r;
      await gate;
      return { status: 200, body: 'late' };
    });
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

t.test('a client that half-closes after its request still gets the response', async (t) => {
  const slow = handler(() => true, async (r) => (await sleep(30), { status: 200, body: r.body }));
  const { server, port } = await startServer({ handlers: [slow] });
  t.teardown(() => server.close());
  const c = await RawClient.open(port);
  t.teardown(() => c.destroy());
  c.socket.end(post('/x', 'half') + post('/x', 'closed'));
  await c.whenClosed();
  t.same(c.responses.map((r) => r.text()), ['half', 'closed']);
  t.equal(c.responses[1]!.header('connection'), 'close');
});

t.test('a request cut short by the client half-closing is answered 400 after the responses owed before it', async (t) => {
  const { server, port } = await startServer({ handlers: [echoBody] });
  t.teardown(() => server.close());
  for (const partial of ['POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc', 'GET /echo HTTP/1.1\r\nHost: x\r\n']) {
    const c = await RawClient.open(port);
    t.teardown(() => c.destroy());
    c.socket.end(post('/echo', 'whole') + partial);
    await c.whenClosed();
    t.same(c.responses.map((r) => r.status), [200, 400], JSON.stringify(partial));
    t.equal(c.responses[1]!.header('connection'), 'close');
  }
});

t.test('close() finishes in-flight requests, closes idle connections, and stops accepting', async (t) => {
  let release: () => void = () => {};
  const gate = new Promise<void>((r) => (release = r));
  const slow = handler((r) => r.path === '/slow', async () => (await gate, { status: 200, body: 'finished' }));
  const { server, port } = await startServer({ handlers: [slow, echoBody] });
  const busy = await RawClient.open(port);
  const idle = await RawClient.open(port);
  t.teardown(() => (busy.destroy(), idle.destroy()));
  idle.write(post('/echo', 'x'));
  await idle.responsesCount(1);
  busy.write('GET /slow HTTP/1.1\r\nHost: x\r\n\r\n');
  await busy.until(() => server.connectionCount === 2, 2000, 'connections');
  await sleep(20);
  let closed = false;
  const closing = server.close().then(() => (closed = true));
  await idle.whenClosed();
  t.equal(closed, false, 'close() waits for the in-flight request');
  await new Promise<void>((resolve) => {
    const probe = net.connect(port, '127.0.0.1');
    probe.on('error', () => resolve());
    probe.on('close', () => resolve());
  });
  release();
  const [r] = await busy.responsesCount(1);
  t.equal(r!.text(), 'finished');
  t.equal(r!.header('connection'), 'close');
  await busy.whenClosed();
  await closing;
  t.equal(closed, true);
});

t.test('the pipelining limit stops reading until responses drain', async (t) => {
  let inFlight = 0;
  let peak = 0;
  const slow = handler(() => true, async () => {
    inFlight++;
    peak = Math.max(peak, inFlight);
    await sleep(5);
    inFlight--;
    return { status: 200, body: 'ok' };
  });
  const { server, port } = await startServer({ handlers: [slow], maxPipelinedRequests: 4 });
  t.teardown(() => server.close());
  const c = await RawClient.open(port);
  t.teardown(() => c.destroy());
  c.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(40));
  await c.responsesCount(40, 5000);
  t.ok(peak <= 4, `at most 4 handlers in flight (saw ${peak})`);
});

// ---- smuggling: what a handler sees never includes what the framing hid ----

const SMUGGLED = 'GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n';
const P = 'POST /a HTTP/1.1\r\nHost: x\r\n';
const TE = 'Transfer-Encoding: chunked\r\n';

/**
 * One row per attack: the bytes, the statuses owed, whether the server then
 * closes, and the requests (method and path) a handler may see. Every input
 * ends with a request for /smuggled, which must be seen only where the bytes
 * really frame it as a request of its own.
 */
const smuggling: [name: string, input: string, statuses: number[], closed: boolean, seen: string[]][] = [
  // CL.TE, TE.CL and TE.TE
  ['CL.TE', `${P}Content-Length: 6\r\n${TE}\r\n0\r\n\r\n${SMUGGLED}`, [400], true, []],
  ['TE.CL', `${P}${TE}Content-Length: 4\r\n\r\n5c\r\n${SMUGGLED}\r\n0\r\n\r\n`, [400], true, []],
  ['TE: chunked, chunked', `${P}Transfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n${SMUGGLED}`, [400], true, []],
  ['two TE: chunked fields', `${P}${TE}${TE}\r\n0\r\n\r\n${SMUGGLED}`, [400], true, []],
  ['TE: chunked then TE: identity', `${P}${TE}Transfer-Encoding: identity\r\n\r\n0\r\n\r\n${SMUGGLED}`, [400], true, []],
  ['TE: identity with a Content-Length', `${P}Transfer-Encoding: identity\r\nContent-Length: 3\r\n\r\nabc${SMUGGLED}`, [400], true, []],
  ['TE: xchunked', `${P}Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n${SMUGGLED}`, [400], true, []],
  ['TE: "chunked" quoted', `${P}Transfer-Encoding: "chunked"\r\n\r\n0\r\n\r\n${SMUGGLED}`, [400], true, []],
  ['TE:\\x0bchunked', `${P}Transfer-Encoding:\x0bchunked\r\nContent-Length: 3\r\n\r\nabc${SMUGGLED}`, [400], true, []],
  ['TE with a space before the colon', `${P}Transfer-Encoding : chunked\r\nContent-Length: 3\r\n\r\nabc${SMUGGLED}`, [400], true, []],
  ['TE as the first field, obs-folded', `${P}Transfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n${SMUGGLED}`, [400], true, []],
  ['an empty TE with a Content-Length', `${P}Transfer-Encoding:\r\nContent-Length: 3\r\n\r\nabc${SMUGGLED}`, [400], true, []],
  ['TE: gzip, chunked', `${P}Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n${SMUGGLED}`, [501], true, []],
  ['TE: ChUnKeD, with blanks, is chunked', `${P}Transfer-Encoding: \t ChUnKeD \r\n\r\n3\r\nabc\r\n0\r\n\r\n${SMUGGLED}`, [200, 200], false, ['POST /a', 'GET /smuggled']],
  ['chunked in HTTP/1.0 is read, then the connection closes', `POST /a HTTP/1.0\r\nConnection: keep-alive\r\n${TE}\r\n0\r\n\r\n${SMUGGLED}`, [200], true, ['POST /a']],
  // Content-Length
  ['two different Content-Lengths', `${P}Content-Length: 3\r\nContent-Length: 40\r\n\r\nabc${SMUGGLED}`, [400], true, []],
  ['Content-Length: +3', `${P}Content-Length: +3\r\n\r\nabc${SMUGGLED}`, [400], true, []],
  ['Content-Length: 3 3', `${P}Content-Length: 3 3\r\n\r\nabc${SMUGGLED}`, [400], true, []],
  ['a Content-Length past 2^64', `${P}Content-Length: 18446744073709551619\r\n\r\nabc${SMUGGLED}`, [400], true, []],
  ['a Content-Length with a space before the colon', `${P}Content-Length : 3\r\n\r\nabc${SMUGGLED}`, [400], true, []],
  ['POST without a length', `${P}\r\n${SMUGGLED}`, [411], true, []],
  ['a Content-Length over maxBodyBytes', `${P}Content-Length: 99999999\r\n\r\n${SMUGGLED}`, [413], true, []],
  // chunked framing
  ['a chunk size with 0x', `${P}${TE}\r\n0x3\r\nabc\r\n0\r\n\r\n${SMUGGLED}`, [400], true, []],
  ['a chunk size with a trailing space', `${P}${TE}\r\n3 \r\nabc\r\n0\r\n\r\n${SMUGGLED}`, [400], true, []],
  ['a chunk size beyond 2^64', `${P}${TE}\r\n10000000000000003\r\nabc\r\n0\r\n\r\n${SMUGGLED}`, [400], true, []],
  ['chunk data longer than its size', `${P}${TE}\r\n3\r\nabcd\r\n0\r\n\r\n${SMUGGLED}`, [400], true, []],
  ['chunks ended by bare LFs', `${P}${TE}\r\n3\nabc\n0\n\n${SMUGGLED}`, [400], true, []],
  ['a chunk-size line with a bare CR', `${P}${TE}\r\n5\r\r;ABCD\r\n34\r\nE\r\n0\r\n\r\n${SMUGGLED}`, [400], true, []],
  ['a chunk extension over maxChunkLineBytes', `${P}${TE}\r\n3;${'e'.repeat(2000)}\r\nabc\r\n0\r\n\r\n${SMUGGLED}`, [400], true, []],
  ['a Content-Length in the trailers', `${P}${TE}\r\n0\r\nContent-Length: 40\r\n\r\n${SMUGGLED}`, [400], true, []],
  ['a Transfer-Encoding in the trailers', `${P}${TE}\r\n0\r\nTransfer-Encoding: chunked\r\n\r\n${SMUGGLED}`, [400], true, []],
  // field lines (llhttp's invalid.md)
  ['a field line ended by a bare LF', `GET /a HTTP/1.1\r\nHost: x\r\nDummy: x\nContent-Length: 23\r\n\r\n${SMUGGLED}`, [400], true, []],
  ['a field line starting with a space', `${P}Foo: bar\r\n Content-Length: 38\r\n\r\n${SMUGGLED}`, [400], true, []],
  ['a bare CR then a request line', `GET /a HTTP/1.1\r\nConnection: close\r\nHost: x\r\n\rZ${SMUGGLED}`, [400], true, []],
  ['NUL in a field value', `GET /a HTTP/1.1\r\nHost: x\r\nX: a\x00b\r\n\r\n${SMUGGLED}`, [400], true, []],
  ['two Hosts', `GET /a HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n${SMUGGLED}`, [400], true, []],
  ['more than maxHeaders fields', `GET /a HTTP/1.1\r\nHost: x\r\n${'X: 1\r\n'.repeat(120)}\r\n${SMUGGLED}`, [431], true, []],
  // request lines
  ['a target in no form', `GET a HTTP/1.1\r\nHost: x\r\n\r\n${SMUGGLED}`, [400], true, []],
  ['a query before a scheme', `GET ?x://y/smuggled HTTP/1.1\r\nHost: x\r\n\r\n${SMUGGLED}`, [400], true, []],
  ['asterisk-form for GET', `GET * HTTP/1.1\r\nHost: x\r\n\r\n${SMUGGLED}`, [400], true, []],
  ['a UTF-8 target', `GET /\xce\xb4 HTTP/1.1\r\nHost: x\r\n\r\n${SMUGGLED}`, [400], true, []],
  ['two spaces after the method', `GET  /a HTTP/1.1\r\nHost: x\r\n\r\n${SMUGGLED}`, [400], true, []],
  ['an HTTP/0.9 request line', `GET /a\r\n\r\n${SMUGGLED}`, [400], true, []],
  ['HTTP/2.0', `GET /a HTTP/2.0\r\nHost: x\r\n\r\n${SMUGGLED}`, [505], true, []],
  ['a request line over maxRequestLineBytes', `GET /${'a'.repeat(9000)} HTTP/1.1\r\nHost: x\r\n\r\n${SMUGGLED}`, [414], true, []],
  ['a TLS hello', `\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03${SMUGGLED}`, [400], true, []],
  ['CONNECT: what follows is a tunnel, never a request', `CONNECT x:443 HTTP/1.1\r\nHost: x:443\r\n\r\n${SMUGGLED}`, [200], true, ['CONNECT x:443']],
  ['CONNECT to an origin-form target', `CONNECT /a HTTP/1.1\r\nHost: x\r\n\r\n${SMUGGLED}`, [400], true, []],
  // connection management
  ['a request after Connection: close', `${P}Content-Length: 3\r\nConnection: close\r\n\r\nabc${SMUGGLED}`, [200], true, ['POST /a']],
  ['a request after an HTTP/1.0 request', `GET /a HTTP/1.0\r\n\r\n${SMUGGLED}`, [200], true, ['GET /a']],
  ['an unknown expectation', `${P}Content-Length: 3\r\nExpect: 100-continue, x\r\n\r\nabc${SMUGGLED}`, [417], true, []],
  ['a well-framed pipeline is served whole', `${P}${TE}\r\n3;a="b"\r\nabc\r\n0\r\nX: t\r\n\r\n${P}Content-Length: 0\r\n\r\n${SMUGGLED}`, [200, 200, 200], false, ['POST /a', 'POST /a', 'GET /smuggled']],
];

t.test('smuggling attempts get their status and close, and a handler never sees what they hide', async (t) => {
  const seen: string[] = [];
  const spy = handler(() => true, (r) => (seen.push(`${r.method} ${r.path}`), { status: 200, body: 'ok' }));
  const { server, port } = await startServer({ handlers: [spy] });
  t.teardown(() => server.close());
  for (const [name, input, statuses, closed, paths] of smuggling) {
    seen.length = 0;
    const c = await RawClient.open(port);
    c.write(input);
    if (closed) await c.whenClosed();
    else await c.responsesCount(statuses.length);
    await sleep(closed ? 0 : 20);
    t.same(c.responses.map((r) => r.status), statuses, `${name}: statuses`);
    t.equal(c.closed, closed, `${name}: ${closed ? 'closed' : 'kept open'}`);
    if (closed) t.equal(c.responses.at(-1)?.header('connection'), 'close', `${name}: Connection: close`);
    t.same(seen, paths, `${name}: what the handler saw`);
    c.destroy();
  }
  const c = await RawClient.open(port);
  t.teardown(() => c.destroy());
  c.write('GET /still-serving HTTP/1.1\r\nHost: x\r\n\r\n');
  const [r] = await c.responsesCount(1);
  t.equal(r!.status, 200, 'the server keeps serving');
});

t.test('a pipeline cut anywhere by TCP is served the same', async (t) => {
  const seen: string[] = [];
  const spy = handler(() => true, (r) => (seen.push(`${r.path} ${r.body.toString()}`), { status: 200, body: 'ok' }));
  const { server, port } = await startServer({ handlers: [spy] });
  t.teardown(() => server.close());
  const input = `${P}${TE}\r\n3\r\nabc\r\n0\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n`;
  const wrong: string[] = [];
  for (let cut = 1; cut < input.length; cut++) {
    seen.length = 0;
    const c = await RawClient.open(port);
    c.socket.setNoDelay(true);
    c.write(input.slice(0, cut));
    await sleep(1);
    c.write(input.slice(cut));
    await c.responsesCount(2);
    if (seen.join() !== '/a abc,/b ' || c.responses.some((r) => r.status !== 200)) wrong.push(`cut at ${cut}: ${seen.join()}`);
    c.destroy();
  }
  t.same(wrong, []);
});

t.test('bytes that are not HTTP get 400 at once, not at the head timeout', async (t) => {
  const { server, port } = await startServer({ handlers: [echoBody], headersTimeout: 10_000 });
  t.teardown(() => server.close());
  const c = await RawClient.open(port);
  t.teardown(() => c.destroy());
  c.write(Buffer.from('16030100f4010000f00303', 'hex')); // a TLS ClientHello's first bytes: no LF
  const [r] = await c.responsesCount(1, 2000); // long before the 10 s head timeout
  t.equal(r!.status, 400);
  await c.whenClosed();
});

t.test('CONNECT and methods nobody implements get 501; known methods nobody handles get 404', async (t) => {
  const { server, port } = await startServer({ handlers: [echoBody] });
  t.teardown(() => server.close());
  const c = await RawClient.open(port);
  t.teardown(() => c.destroy());
  c.write('FOO /echo HTTP/1.1\r\nHost: x\r\n\r\nDELETE /nowhere HTTP/1.1\r\nHost: x\r\n\r\nget /nowhere HTTP/1.1\r\nHost: x\r\n\r\n');
  const rs = await c.responsesCount(3);
  t.same(rs.map((r) => r.status), [200, 404, 501], 'a handler may take any method; methods are case-sensitive');
  t.equal(c.closed, false);
  const tunnel = await RawClient.open(port);
  t.teardown(() => tunnel.destroy());
  tunnel.write(`CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n${post('/echo', 'tunnel bytes')}`);
  await tunnel.whenClosed();
  t.same(tunnel.responses.map((r) => r.status), [501], 'the bytes after CONNECT are never read as a request');
  t.equal(tunnel.responses[0]!.header('connection'), 'close');
});

// What handlers return is checked once: anything a client could not read becomes a 500.
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
  const sync = handler((r) => !r.path.startsWith('/async'), (r) => results.get(r.path) as never);
  const async = handler(() => true, async (r) => results.get(r.path.slice('/async'.length)) as never);
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
  const h = handler(() => true, (r) => ({ status: 200, headers: { 'X-Name': 'Jos\xe9' }, body: r.path === '/s' ? 'caf\xe9' : Buffer.from('caf\xe9', 'latin1') }));
  const { server, port } = await startServer({ handlers: [h] });
  t.teardown(() => server.close());
  for (const path of ['/s', '/b']) {
    const socket = net.connect(port, '127.0.0.1');
    t.teardown(() => socket.destroy());
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no close')), 2000);
      socket.on('close', () => (clearTimeout(timer), resolve()));
    });
    const raw = Buffer.concat(chunks);
    t.ok(raw.includes(Buffer.from('X-Name: Jos\xe9\r\n', 'latin1')), `${path}: é is the byte E9 in the head`);
    t.ok(raw.subarray(raw.indexOf('\r\n\r\n') + 4).equals(Buffer.from('caf\xe9', path === '/s' ? 'utf8' : 'latin1')), `${path}: the body as given`);
  }
});

// ---- slow and absent readers ----

const big = Buffer.alloc(4 << 20, 'x');
const bigBody = handler(() => true, () => ({ status: 200, headers: { 'Content-Type': 'text/plain' }, body: big }));

async function slowGet(port: number, request: string, after?: (socket: net.Socket) => void): Promise<number> {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => {});
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.pause();
  socket.write(request);
  after?.(socket);
  try {
    return await readSlowly(socket, { perTick: 128 << 10, tickMs: 4, want: big.length + 40, ms: 8000 });
  } finally {
    socket.destroy();
  }
}

t.test('a response to Connection: close is not cut by the linger while the client reads it', async (t) => {
  const { server, port } = await startServer({ handlers: [bigBody], lingerTimeout: 50 });
  t.teardown(() => server.close());
  const got = await slowGet(port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  t.ok(got > big.length, `read ${got} bytes of a ${big.length}-byte body`);
});

t.test('a client that half-closes while its response is still going out gets all of it', async (t) => {
  const { server, port } = await startServer({ handlers: [bigBody] });
  t.teardown(() => server.close());
  const got = await slowGet(port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', (socket) => {
    setTimeout(() => socket.end(), 50);
  });
  t.ok(got > big.length, `read ${got} bytes of a ${big.length}-byte body`);
});

t.test('close() lets a response still being written reach a slow reader', async (t) => {
  const { server, port } = await startServer({ handlers: [bigBody] });
  let closing: Promise<void> | null = null;
  const got = await slowGet(port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n', () => {
    setTimeout(() => (closing = server.close()), 50);
  });
  t.ok(got > big.length, `read ${got} bytes of a ${big.length}-byte body`);
  await closing;
});

t.test('a client that never reads is closed once it stops taking bytes, and others are served meanwhile', async (t) => {
  const bigPath = handler((r) => r.path === '/big', () => ({ status: 200, body: big }));
  const { server, port } = await startServer({ handlers: [bigPath, echoBody], keepAliveTimeout: 300 });
  t.teardown(() => server.close());
  const sockets: net.Socket[] = [];
  t.teardown(() => sockets.forEach((s) => s.destroy()));
  for (const extra of ['', 'Connection: close\r\n']) {
    const socket = net.connect(port, '127.0.0.1');
    socket.on('error', () => {});
    sockets.push(socket);
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.pause(); // and never read
    socket.write(`GET /big HTTP/1.1\r\nHost: x\r\n${extra}\r\n`.repeat(4));
  }
  const c = await RawClient.open(port);
  t.teardown(() => c.destroy());
  await c.until(() => server.connectionCount === 3, 2000, 'three connections');
  c.write(post('/echo', 'served meanwhile'));
  const [r] = await c.responsesCount(1);
  t.equal(r!.text(), 'served meanwhile');
  c.destroy();
  await c.until(() => server.connectionCount === 0, 4000, 'the clients that do not read to be closed');
});

t.test('a reset in the middle of large pipelined responses costs only that connection', async (t) => {
  const errors: unknown[] = [];
  const { server, port } = await startServer({ handlers: [bigBody], onError: (e) => errors.push(e) });
  t.teardown(() => server.close());
  for (let i = 0; i < 5; i++) {
    const socket = net.connect(port, '127.0.0.1');
    socket.on('error', () => {});
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(3));
    await new Promise((resolve) => socket.once('data', resolve));
    socket.resetAndDestroy();
  }
  const c = await RawClient.open(port);
  t.teardown(() => c.destroy());
  await c.until(() => server.connectionCount === 1, 2000, 'the reset connections to go');
  c.headResponses = 1;
  c.write('HEAD / HTTP/1.1\r\nHost: x\r\n\r\n');
  const [r] = await c.responsesCount(1);
  t.equal(r!.status, 200);
  t.same(errors, []);
});

t.test('the listen backlog is as deep as maxConnections, so a burst of connects waits instead of being dropped', async (t) => {
  const listen = net.Server.prototype.listen;
  const asked: unknown[] = [];
  net.Server.prototype.listen = function (this: net.Server, ...args: unknown[]) {
    asked.push(args[0]);
    return (listen as (...a: unknown[]) => net.Server).apply(this, args);
  } as typeof listen;
  try {
    const { server } = await startServer({ maxConnections: 3000 });
    await server.close();
  } finally {
    net.Server.prototype.listen = listen;
  }
  t.match(asked, [{ port: 0, host: '127.0.0.1', backlog: 3000 }], 'not the default 511, which drops SYNs past it');
});

// ---------------------------------------------------------------------------
// Content-Coding and TLS

t.test('a gzip request body is decoded before the handler sees it', async (t) => {
  const { server, port } = await startServer({ handlers: [echoBody] });
  t.teardown(() => server.close());
  const c = await RawClient.open(port);
  t.teardown(() => c.destroy());
  const body = gzipSync('the decoded body');
  c.write(Buffer.concat([Buffer.from(`POST /echo HTTP/1.1\r\nHost: x\r\nContent-Encoding: gzip\r\nContent-Length: ${body.length}\r\n\r\n`), body]));
  const [r] = await c.responsesCount(1);
  t.equal(r!.text(), 'the decoded body');
});

t.test('a corrupt gzip body is 400, a gzip bomb past maxBodyBytes is 413, another coding is 415; the connection goes on', async (t) => {
  const { server, port } = await startServer({ handlers: [echoBody], maxBodyBytes: 64 * 1024 });
  t.teardown(() => server.close());
  const c = await RawClient.open(port);
  t.teardown(() => c.destroy());
  const send = (coding: string, body: Buffer) =>
    c.write(Buffer.concat([Buffer.from(`POST /echo HTTP/1.1\r\nHost: x\r\nContent-Encoding: ${coding}\r\nContent-Length: ${body.length}\r\n\r\n`), body]));
  send('gzip', Buffer.from('not gzip at all'));
  const bomb = gzipSync(Buffer.alloc(10 * 1024 * 1024)); // ~10 KB on the wire, 10 MB decoded
  send('gzip', bomb);
  send('br', Buffer.from('x'));
  send('identity', Buffer.from('plain'));
  const rs = await c.responsesCount(4);
  t.same(rs.map((r) => r.status), [400, 413, 415, 200]);
  t.equal(rs[3]!.text(), 'plain');
  t.equal(c.closed, false);
});

t.test('a large response is gzipped for a client that accepts gzip, and only then', async (t) => {
  const big = 'x'.repeat(5000);
  const h = handler(
    () => true,
    (r): Response => ({
      status: 200,
      headers: r.path === '/own' ? { 'Content-Encoding': 'identity' } : { 'Content-Type': 'text/plain' },
      body: r.path === '/small' ? 'tiny' : big,
    }),
  );
  const { server, port } = await startServer({ handlers: [h] });
  t.teardown(() => server.close());
  const c = await RawClient.open(port);
  t.teardown(() => c.destroy());
  const get = (path: string, accept: string | null) =>
    c.write(`GET ${path} HTTP/1.1\r\nHost: x\r\n${accept === null ? '' : `Accept-Encoding: ${accept}\r\n`}\r\n`);
  get('/big', 'gzip, deflate');
  get('/big', null);
  get('/big', 'gzip;q=0, deflate');
  get('/small', 'gzip');
  get('/own', 'gzip');
  get('/big', '*');
  const rs = await c.responsesCount(6);
  t.equal(rs[0]!.header('content-encoding'), 'gzip');
  t.equal(rs[0]!.header('vary'), 'Accept-Encoding');
  t.equal(gunzipSync(rs[0]!.body).toString(), big);
  t.ok(rs[0]!.body.length < 200, 'smaller on the wire');
  for (const i of [1, 2, 3, 4]) t.equal(rs[i]!.header('content-encoding') ?? 'identity', 'identity', `response ${i} not gzipped`);
  t.equal(rs[5]!.header('content-encoding'), 'gzip', '* accepts gzip');
});

const certificate = selfSignedCertificate();

t.test('the server speaks HTTPS with the tls option', { skip: typeof certificate === 'string' ? certificate : false }, async (t) => {
  const cert = certificate as Certificate;
  const { server, port } = await startServer({ handlers: [echoBody], tls: cert });
  t.teardown(() => server.close());
  const socket = tls.connect({ port, host: '127.0.0.1', ca: cert.cert, servername: 'localhost' });
  t.teardown(() => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    socket.once('secureConnect', () => resolve());
    socket.once('error', reject);
  });
  socket.write(post('/echo', 'over tls', 'Connection: close\r\n'));
  const chunks: Buffer[] = [];
  socket.on('data', (d: Buffer) => chunks.push(d));
  await new Promise((resolve) => socket.once('close', resolve));
  const text = Buffer.concat(chunks).toString();
  t.match(text, /^HTTP\/1\.1 200 OK\r\n/);
  t.match(text, /\r\n\r\nover tls$/);
});

t.test('close() does not wait for a TLS handshake that never finishes', { skip: typeof certificate === 'string' ? certificate : false }, async (t) => {
  const { server, port } = await startServer({ handlers: [echoBody], tls: certificate as Certificate });
  const stalled = net.connect(port, '127.0.0.1'); // TCP only: no ClientHello ever comes
  t.teardown(() => stalled.destroy());
  await new Promise((resolve) => stalled.once('connect', resolve));
  await sleep(20);
  let closed = false;
  const closing = server.close().then(() => (closed = true));
  await new Promise((resolve) => stalled.once('close', resolve));
  await closing;
  t.equal(closed, true, 'closed without waiting for the handshake timeout');
});

t.test('requests held back by the pipeline limit are still answered after the client half-closes', async (t) => {
  let n = 0;
  const slow = handler(() => true, async () => {
    const mine = n++;
    await sleep(mine % 2 === 0 ? 60 : 10);
    return { status: 200, body: String(mine) };
  });
  const { server, port } = await startServer({ handlers: [slow], maxPipelinedRequests: 2 });
  t.teardown(() => server.close());
  const c = await RawClient.open(port);
  t.teardown(() => c.destroy());
  c.socket.end('GET / HTTP/1.1\r\nHost: a\r\n\r\n'.repeat(4));
  await c.whenClosed(5000);
  t.same(c.responses.map((r) => r.text()), ['0', '1', '2', '3']);
  t.equal(c.responses[3]!.header('connection'), 'close', 'the last one closes');
});

t.test('a refused Expect: 100-continue says what was not found, once', async (t) => {
  const { server, port } = await startServer({ handlers: [echoBody] });
  t.teardown(() => server.close());
  const c = await RawClient.open(port);
  t.teardown(() => c.destroy());
  c.write('POST /nowhere HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n');
  const [r] = await c.responsesCount(1);
  t.equal(r!.text(), 'Not Found: /nowhere\n');
});

t.test('every server limit is checked when the server is made', async (t) => {
  for (const bad of [{ headersTimeout: NaN }, { keepAliveTimeout: -1 }, { requestTimeout: 3e9 }, { maxBodyBytes: -5 }, { maxConnections: 0 }, { maxHeaders: 'x' as unknown as number }]) {
    t.throws(() => new Server(bad), RangeError, JSON.stringify(bad));
  }
  t.doesNotThrow(() => new Server({ gzipThreshold: Infinity, keepAliveTimeout: undefined }));
});
