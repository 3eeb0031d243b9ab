// Every timeout of the server, driven by a ManualClock (ServerOptions.clock):
// the test waits until the server has read what it sent, moves the clock,
// then watches for the 408 or the close. No test here waits on real time.

import t from 'tap';
import * as net from 'node:net';
import { ManualClock, RawClient, ServerSides, big, bigBody, bigGet, echoBody, handler, post, startServer, turns } from './support.js';
import { Server } from '../lib/server/server.js';

t.test('the head timeout answers 408 to a slowloris client and closes', async (t) => {
  const clock = new ManualClock();
  const { server, port } = await startServer({ handlers: [echoBody], headersTimeout: 150, clock });
  t.teardown(() => server.close());
  const sides = new ServerSides(server);
  const c = await RawClient.open(port);
  t.teardown(() => c.destroy());
  const side = await sides.of(c.socket);
  const head = 'GET / HTTP/1.1\r\n';
  c.write(head);
  await sides.until(() => side.bytes === head.length, 'the server to read the first bytes');
  // Dribble bytes: activity must not extend the deadline (150 ms from the first byte).
  for (let i = 1; i <= 7; i++) {
    clock.advance(20);
    c.write('X');
    await sides.until(() => side.bytes === head.length + i, `the server to read byte ${i} of the dribble`);
  }
  clock.advance(60); // past the deadline, and the sweep after it; not 150 past the last byte
  const [r] = await c.responsesCount(1);
  t.equal(r!.status, 408);
  await c.whenClosed();
});

t.test('the request timeout answers 408 to a body that never completes', async (t) => {
  const clock = new ManualClock();
  const { server, port } = await startServer({ handlers: [echoBody], requestTimeout: 150, clock });
  t.teardown(() => server.close());
  const sides = new ServerSides(server);
  const c = await RawClient.open(port);
  t.teardown(() => c.destroy());
  const side = await sides.of(c.socket);
  const partial = 'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly part';
  c.write(partial);
  await sides.until(() => side.bytes === partial.length, 'the server to read the partial request');
  clock.advance(200);
  const [r] = await c.responsesCount(1);
  t.equal(r!.status, 408);
  await c.whenClosed();
});

t.test('an idle keep-alive connection is closed after keepAliveTimeout', async (t) => {
  const clock = new ManualClock();
  const { server, port } = await startServer({ handlers: [echoBody], keepAliveTimeout: 100, clock });
  t.teardown(() => server.close());
  const c = await RawClient.open(port);
  t.teardown(() => c.destroy());
  c.write(post('/echo', 'x'));
  await c.responsesCount(1);
  clock.advance(100);
  await c.whenClosed(3000);
  t.equal(c.responses.length, 1, 'closed silently');
});

t.test('a client that never reads is closed once it stops taking bytes, and others are served meanwhile', async (t) => {
  const clock = new ManualClock();
  const bigPath = handler(
    (r) => r.path === '/big',
    () => ({ status: 200, body: big }),
  );
  const { server, port } = await startServer({ handlers: [bigPath, echoBody], keepAliveTimeout: 300, clock });
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
  // Each step gives every connection keepAliveTimeout on the server's clock:
  // one whose client took bytes since the last step is spared, one that took
  // none is closed. The kernel's buffers fill within some turns of the loop.
  for (let step = 0; server.connectionCount > 0; step++) {
    if (step === 10_000) throw new Error('the clients that do not read were never closed');
    clock.advance(300);
    await turns(1);
  }
});

t.test('a response to Connection: close is not cut by the linger while the client reads it', async (t) => {
  // The client is slow by the server's clock: a linger passes between two of its reads.
  const clock = new ManualClock();
  const { server, port } = await startServer({ handlers: [bigBody], lingerTimeout: 50, clock });
  t.teardown(() => server.close());
  const got = await bigGet(port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', { between: () => clock.advance(50) });
  t.ok(got > big.length, `read ${got} bytes of a ${big.length}-byte body`);
});

t.test('bytes that are not HTTP get 400 at once, not at the head timeout', async (t) => {
  // The clock never moves, so no answer can come from the head timeout.
  const { server, port } = await startServer({ handlers: [echoBody], headersTimeout: 10_000, clock: new ManualClock() });
  t.teardown(() => server.close());
  const c = await RawClient.open(port);
  t.teardown(() => c.destroy());
  c.write(Buffer.from('16030100f4010000f00303', 'hex')); // a TLS ClientHello's first bytes: no LF
  const [r] = await c.responsesCount(1);
  t.equal(r!.status, 400);
  await c.whenClosed();
});

t.test('every deadline runs on one sweep timer of the server clock, cleared by close()', async (t) => {
  const clock = new ManualClock();
  const server = new Server({ handlers: [echoBody], clock, onError: () => {} });
  t.equal(clock.pending, 0, 'nothing armed before listen()');
  const { port } = await server.listen(0, '127.0.0.1');
  t.equal(clock.pending, 1, 'one sweep timer');
  const c = await RawClient.open(port);
  t.teardown(() => c.destroy());
  for (let i = 0; i < 5; i++) c.write(post('/echo', `call ${i}`));
  await c.responsesCount(5);
  t.equal(clock.pending, 1, 'still one: no timer per connection or request');
  await server.close();
  t.equal(clock.pending, 0, 'cleared by close()');
});

t.test('a connection refused with 503 whose client keeps its side open is closed after lingerTimeout on the server clock', async (t) => {
  const clock = new ManualClock();
  const holding = new Set<() => void>();
  const hold = handler(
    (r) => r.path === '/hold',
    () => new Promise((resolve) => holding.add(() => resolve({ status: 200, body: 'answered' }))),
  );
  const { server, port } = await startServer({ handlers: [hold, echoBody], maxConnections: 1, lingerTimeout: 1000, clock });
  t.teardown(() => server.close());
  // Teardowns run last first: the held answer goes out before close() waits for it.
  t.teardown(() => holding.forEach((answer) => answer()));
  const sides = new ServerSides(server);
  const first = await RawClient.open(port);
  t.teardown(() => first.destroy());
  // A request awaiting its answer: the first connection cannot be closed to make room for the next.
  first.write(post('/hold', 'x'));
  await first.until(() => holding.size === 1, 3000, 'the request at the handler');
  // Half-open allowed: this client never closes its side on its own.
  const refused = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
  t.teardown(() => refused.destroy());
  const chunks: Buffer[] = [];
  refused.on('data', (d: Buffer) => chunks.push(d));
  await new Promise((resolve) => refused.once('end', resolve)); // the 503, then the server's FIN
  t.match(Buffer.concat(chunks).toString('latin1'), /^HTTP\/1\.1 503 /);
  const side = await sides.of(refused);
  clock.advance(999);
  t.equal(side.socket.destroyed, false, 'the server still holds it before the linger has passed');
  clock.advance(1);
  t.equal(side.socket.destroyed, true, 'and lets it go once it has');
});
