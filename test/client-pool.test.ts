// The connection pool, seen from the server's side: how many sockets a
// transport opens, which it reuses, and that a connection the server has
// closed is never used for a call.

import t from 'tap';
import { spawn } from 'node:child_process';
import { Transport } from '../lib/client/transport.js';
import { dumps } from '../lib/xmlrpc/encode.js';
import { TransportError, TransportErrorCode } from '../lib/errors.js';
import { getHeader } from '../lib/http/headers.js';
import { loads } from '../lib/xmlrpc/decode.js';
import { demoServer, httpResponse, scriptedServer, pollUntil, xmlResult, ManualClock, type RawRequest, failure } from './support.js';

/** The method name of a raw request. */
function methodOf(request: RawRequest): string {
  return loads(request.body).methodName!;
}

t.test('sequential calls reuse one keep-alive connection', async (t) => {
  const s = await demoServer();
  const transport = new Transport();
  t.teardown(async () => {
    await transport.close();
    await s.close();
  });
  for (let i = 0; i < 25; i++) t.equal(await transport.request(`127.0.0.1:${s.port}`, '/RPC2', dumps([i, 1], 'add')), i + 1);
  t.equal(s.requests.length, 25);
  t.equal(s.sockets(), 1, 'the server saw one socket for 25 calls');
  t.same(transport.stats(), { open: 1, idle: 1, waiting: 0 });
});

t.test('concurrent calls open at most maxSocketsPerHost sockets; the others wait, first come first served', async (t) => {
  const held: RawRequest[] = [];
  const s = await scriptedServer((request) => held.push(request));
  const transport = new Transport({ maxSocketsPerHost: 3 });
  t.teardown(async () => {
    await transport.close();
    await s.close();
  });
  const host = `127.0.0.1:${s.port}`;
  const calls = Array.from({ length: 10 }, (_, i) => transport.request(host, '/RPC2', dumps([i], `m${i}`)));
  await pollUntil(() => held.length === 3, 'three requests');
  t.same(transport.stats(), { open: 3, idle: 0, waiting: 7 });
  // Answer whatever is in, in arrival order, until every call is done.
  let answered = 0;
  while (answered < 10) {
    await pollUntil(() => held.length > answered, `request ${answered}`);
    const request = held[answered++]!;
    request.socket.write(httpResponse(xmlResult(`<string>${methodOf(request)}</string>`)));
  }
  t.same(
    await Promise.all(calls),
    Array.from({ length: 10 }, (_, i) => `m${i}`),
  );
  t.same(
    held.map(methodOf),
    Array.from({ length: 10 }, (_, i) => `m${i}`),
    'queued calls went out in the order they were made',
  );
  t.equal(s.connections, 3, 'three sockets carried ten calls');
  t.same(transport.stats(), { open: 3, idle: 3, waiting: 0 });
});

t.test('keepAlive: false sends Connection: close and uses one socket per call', async (t) => {
  const s = await demoServer();
  const transport = new Transport({ keepAlive: false });
  t.teardown(async () => {
    await transport.close();
    await s.close();
  });
  for (let i = 0; i < 3; i++) await transport.request(`127.0.0.1:${s.port}`, '/RPC2', dumps([1, 2], 'add'));
  t.equal(s.sockets(), 3);
  t.equal(s.requests[0]!.header('connection'), 'close');
  await pollUntil(() => transport.stats().open === 0, 'every socket to close');
});

t.test('a connection the server closed while idle is dropped before use, and the next call does not fail', async (t) => {
  const s = await demoServer({ keepAliveTimeout: 20 });
  const transport = new Transport();
  t.teardown(async () => {
    await transport.close();
    await s.close();
  });
  const host = `127.0.0.1:${s.port}`;
  t.equal(await transport.request(host, '/RPC2', dumps([1, 2], 'add')), 3);
  t.equal(transport.stats().idle, 1);
  await pollUntil(() => s.server.connectionCount === 0, 'the server to close the idle connection');
  await pollUntil(() => transport.stats().open === 0, 'the client to see the close');
  t.equal(await transport.request(host, '/RPC2', dumps([3, 4], 'add')), 7, 'the next call opens a new connection');
  t.equal(s.sockets(), 2);
});

t.test('bytes the server sends to an idle connection (a 408 before closing) make the pool drop it', async (t) => {
  const s = await scriptedServer(({ socket }) => socket.write(httpResponse(xmlResult('<int>1</int>'))));
  const transport = new Transport();
  t.teardown(async () => {
    await transport.close();
    await s.close();
  });
  const host = `127.0.0.1:${s.port}`;
  await transport.request(host, '/RPC2', dumps([], 'x'));
  s.requests[0]!.socket.write('HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  await pollUntil(() => transport.stats().open === 0, 'the client to drop the connection');
  t.equal(await transport.request(host, '/RPC2', dumps([], 'x')), 1);
  t.equal(s.connections, 2);
});

t.test('bytes after a complete response make its connection unfit for reuse', async (t) => {
  const s = await scriptedServer(({ socket }) => socket.write(Buffer.concat([httpResponse(xmlResult('<int>1</int>')), Buffer.from('HTTP/1.1 200 OK\r\n')])));
  const transport = new Transport();
  t.teardown(async () => {
    await transport.close();
    await s.close();
  });
  t.equal(await transport.request(`127.0.0.1:${s.port}`, '/RPC2', dumps([], 'x')), 1);
  t.equal(await transport.request(`127.0.0.1:${s.port}`, '/RPC2', dumps([], 'x')), 1);
  t.equal(s.connections, 2);
});

t.test('Connection: close and HTTP/1.0 responses are not pooled', async (t) => {
  const s = await scriptedServer(({ socket, head }) => {
    const xml = xmlResult('<int>5</int>');
    if (head.target === '/close') socket.end(httpResponse(xml, '200 OK', { Connection: 'close' }));
    else socket.write(httpResponse(xml).toString('latin1').replace('HTTP/1.1', 'HTTP/1.0'));
  });
  const transport = new Transport();
  t.teardown(async () => {
    await transport.close();
    await s.close();
  });
  for (const path of ['/close', '/close', '/http10', '/http10']) t.equal(await transport.request(`127.0.0.1:${s.port}`, path, dumps([], 'x')), 5);
  t.equal(s.connections, 4);
  await pollUntil(() => s.closed === 4, 'the client to close the HTTP/1.0 connections');
  t.equal(transport.stats().open, 0);
});

t.test('a reused connection that fails before any response byte is CONNECTION_LOST with requestSent, never re-sent', async (t) => {
  const s = await scriptedServer(({ socket, index }) => {
    if (index === 0) socket.write(httpResponse(xmlResult('<int>1</int>')));
    else socket.destroy(); // took the request, then went away
  });
  const transport = new Transport();
  t.teardown(async () => {
    await transport.close();
    await s.close();
  });
  const host = `127.0.0.1:${s.port}`;
  t.equal(await transport.request(host, '/RPC2', dumps([], 'first')), 1);
  const err = await failure(transport.request(host, '/RPC2', dumps([], 'second')));
  t.match(err, { constructor: TransportError, code: TransportErrorCode.CONNECTION_LOST, requestSent: true });
  t.match(err.message, /reused keep-alive connection .* the call may have run; not retried/);
  t.equal(s.requests.length, 2, 'the second request arrived exactly once');
  t.equal(s.connections, 1, 'no second connection: nothing was retried');
});

t.test('an idle connection is closed after idleTimeout', async (t) => {
  const s = await scriptedServer(({ socket }) => socket.write(httpResponse(xmlResult('<int>1</int>'))));
  const clock = new ManualClock();
  const transport = new Transport({ idleTimeout: 20, clock });
  t.teardown(async () => {
    await transport.close();
    await s.close();
  });
  await transport.request(`127.0.0.1:${s.port}`, '/RPC2', dumps([], 'x'));
  await pollUntil(() => clock.pending === 1, 'the idle timer armed (the connection parked)');
  clock.advance(19);
  t.same(transport.stats(), { open: 1, idle: 1, waiting: 0 }, 'kept until idleTimeout');
  clock.advance(1);
  await pollUntil(() => s.closed === 1, 'the client to close the idle connection');
  t.same(transport.stats(), { open: 0, idle: 0, waiting: 0 });
});

t.test('a connection taken back in the turn it was released in is not parked: no idle timer armed and cleared per call', async (t) => {
  const s = await demoServer();
  // Counts the timers armed through the clock: the connection's idle timer is one per park.
  class CountingClock extends ManualClock {
    armed = 0;
    override setTimeout(fn: () => void, ms: number) {
      this.armed++;
      return super.setTimeout(fn, ms);
    }
  }
  const clock = new CountingClock();
  const transport = new Transport({ idleTimeout: 1000, clock });
  t.teardown(async () => {
    await transport.close();
    await s.close();
  });
  // Each call made as soon as the previous one resolves: its connection comes back to the pool and is taken again.
  for (let i = 0; i < 20; i++)
    t.equal(
      loads(Buffer.from(dumps([await transport.request(`127.0.0.1:${s.port}`, '/RPC2', dumps([i, 1], 'add'))], { methodResponse: true }))).params[0],
      i + 1,
    );
  t.ok(clock.armed <= 2, `${clock.armed} timers armed for 20 calls on one connection`);
  await pollUntil(() => clock.pending === 1, 'parked at the end: the idle timer armed');
  t.same(transport.stats(), { open: 1, idle: 1, waiting: 0 });
  clock.advance(1000);
  await pollUntil(() => transport.stats().open === 0, 'closed after idleTimeout');
});

t.test('an idle pooled connection does not keep the process alive', async (t) => {
  const s = await demoServer();
  t.teardown(() => s.close());
  const index = new URL('../lib/index.js', import.meta.url).href;
  const script = `
    import { Transport, dumps } from ${JSON.stringify(index)};
    const t = new Transport({ idleTimeout: 60000 });
    console.log(await t.request('127.0.0.1:${s.port}', '/RPC2', dumps([40, 2], 'add')));
    console.log(JSON.stringify(t.stats()));
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearTimeout(killer);
  t.equal(code, 0, 'the child exited by itself, its connection still pooled');
  t.same(out.trim().split('\n'), ['42', JSON.stringify({ open: 1, idle: 1, waiting: 0 })]);
});

t.test('close() closes idle connections at once and busy ones when their call ends; the transport stays usable', async (t) => {
  const held: RawRequest[] = [];
  const s = await scriptedServer((request) => {
    if (methodOf(request) === 'slow') held.push(request);
    else request.socket.write(httpResponse(xmlResult('<int>1</int>')));
  });
  const transport = new Transport();
  t.teardown(async () => {
    await transport.close();
    await s.close();
  });
  const host = `127.0.0.1:${s.port}`;
  await Promise.all([transport.request(host, '/RPC2', dumps([], 'x')), transport.request(host, '/RPC2', dumps([], 'x'))]);
  const slow = transport.request(host, '/RPC2', dumps([], 'slow'));
  await pollUntil(() => held.length === 1, 'the slow call to arrive');
  t.same(transport.stats(), { open: 2, idle: 1, waiting: 0 });
  let closed = false;
  const closing = transport.close().then(() => (closed = true));
  await pollUntil(() => s.closed === 1, 'the idle connection to close');
  t.equal(closed, false, 'close() waits for the busy connection');
  held[0]!.socket.write(httpResponse(xmlResult('<int>2</int>')));
  t.equal(await slow, 2, 'the call in flight completes');
  await closing;
  t.same(transport.stats(), { open: 0, idle: 0, waiting: 0 }, 'close() resolved: every socket is closed');
  await pollUntil(() => s.closed === 2, 'the server to see the busy connection close too');
  t.equal(await transport.request(host, '/RPC2', dumps([], 'x')), 1, 'a later call connects again');
});

t.test('a call aborted while waiting for a socket leaves the queue and never reaches the server', async (t) => {
  const held: RawRequest[] = [];
  const s = await scriptedServer((request) => held.push(request));
  const transport = new Transport({ maxSocketsPerHost: 1 });
  t.teardown(async () => {
    await transport.close();
    await s.close();
  });
  const host = `127.0.0.1:${s.port}`;
  const first = transport.request(host, '/RPC2', dumps([], 'first'));
  const controller = new AbortController();
  const second = failure(transport.request(host, '/RPC2', dumps([], 'second'), { signal: controller.signal }));
  const third = transport.request(host, '/RPC2', dumps([], 'third'));
  await pollUntil(() => held.length === 1 && transport.stats().waiting === 2, 'one call in flight, two waiting');
  controller.abort();
  t.match(await second, { constructor: TransportError, code: TransportErrorCode.ABORTED, requestSent: false });
  t.equal(transport.stats().waiting, 1);
  held[0]!.socket.write(httpResponse(xmlResult('<int>1</int>')));
  t.equal(await first, 1);
  await pollUntil(() => held.length === 2, 'the third call to go out');
  held[1]!.socket.write(httpResponse(xmlResult('<int>3</int>')));
  t.equal(await third, 3);
  t.same(held.map(methodOf), ['first', 'third']);
  t.equal(s.connections, 1);
});

t.test('a call that times out frees its slot for the next waiting call', async (t) => {
  const s = await scriptedServer((request) => {
    if (methodOf(request) !== 'slow') request.socket.write(httpResponse(xmlResult('<int>9</int>')));
  });
  const clock = new ManualClock();
  const transport = new Transport({ maxSocketsPerHost: 1, clock });
  t.teardown(async () => {
    await transport.close();
    await s.close();
  });
  const host = `127.0.0.1:${s.port}`;
  const slow = failure(transport.request(host, '/RPC2', dumps([], 'slow'), { timeout: 30 }));
  const next = transport.request(host, '/RPC2', dumps([], 'fast'));
  await pollUntil(() => s.requests.length === 1 && transport.stats().waiting === 1, 'the slow call on the only socket, the next one waiting');
  clock.advance(30);
  t.match(await slow, { code: TransportErrorCode.TIMEOUT, requestSent: true });
  t.equal(await next, 9);
  t.equal(s.connections, 2, 'the timed-out socket was destroyed, not reused');
  t.equal(getHeader(s.requests[1]!.head.headers, 'host'), host);
});
