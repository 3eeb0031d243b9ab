import t from 'tap';
import * as net from 'node:net';
import { RawClient, handler, post, sleep, startServer } from './support.js';
import type { Request } from '../lib/server/request.js';

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
