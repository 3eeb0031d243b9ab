// The server's life: listen, admission (maxConnections, the backlog),
// graceful close() with requests in flight and responses still going out,
// TLS, and connections that end badly costing only themselves.

import t from 'tap';
import * as net from 'node:net';
import * as tls from 'node:tls';
import {
  ManualClock,
  RawClient,
  ServerSides,
  big,
  bigBody,
  bigGet,
  echoBody,
  gate,
  handler,
  post,
  selfSignedCertificate,
  startServer,
  type Certificate,
} from './support.js';
import { MAX_TIMEOUT_MS } from '../lib/options.js';

t.test('listen(0) binds an ephemeral loopback port and returns it', async (t) => {
  const { server, port } = await startServer();
  t.teardown(() => server.close());
  t.ok(port > 0);
  t.equal(server.address?.address, '127.0.0.1');
});

t.test('the listen backlog is as deep as maxConnections, so a burst of connects waits instead of being dropped', async (t) => {
  // eslint-disable-next-line @typescript-eslint/unbound-method -- saved to be restored, called with apply(this) from the wrapper
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

t.test('connections over maxConnections get 503 and are closed when every open one has sent a request', async (t) => {
  const { server, port } = await startServer({ handlers: [echoBody], maxConnections: 2 });
  t.teardown(() => server.close());
  const a = await RawClient.open(port);
  const b = await RawClient.open(port);
  t.teardown(() => (a.destroy(), b.destroy()));
  // A whole request each: neither is a candidate for eviction.
  a.write(post('/echo', 'a'));
  b.write(post('/echo', 'b'));
  await a.responsesCount(1);
  await b.responsesCount(1);
  t.equal(server.connectionCount, 2);
  const c = await RawClient.open(port);
  t.teardown(() => c.destroy());
  const [r] = await c.responsesCount(1);
  t.equal(r!.status, 503);
  await c.whenClosed();
  a.write(post('/echo', 'fine'));
  const [, ra] = await a.responsesCount(2);
  t.equal(ra!.text(), 'fine');
  t.match(server.stats(), { connections: 2, refusedConnections: 1, evictedConnections: 0 });
});

t.test('close() finishes in-flight requests, closes idle connections, and stops accepting', async (t) => {
  const started = gate();
  const release = gate();
  const slow = handler(
    (r) => r.path === '/slow',
    async () => (started.open(), await release.promise, { status: 200, body: 'finished' }),
  );
  const { server, port } = await startServer({ handlers: [slow, echoBody] });
  const busy = await RawClient.open(port);
  const idle = await RawClient.open(port);
  t.teardown(() => (busy.destroy(), idle.destroy()));
  idle.write(post('/echo', 'x'));
  await idle.responsesCount(1);
  busy.write('GET /slow HTTP/1.1\r\nHost: x\r\n\r\n');
  await busy.until(() => server.connectionCount === 2, 2000, 'connections');
  await started.promise; // in flight: its handler has it
  let closed = false;
  const closing = server.close().then(() => (closed = true));
  await idle.whenClosed();
  t.equal(closed, false, 'close() waits for the in-flight request');
  await new Promise<void>((resolve) => {
    const probe = net.connect(port, '127.0.0.1');
    probe.on('error', () => resolve());
    probe.on('close', () => resolve());
  });
  release.open();
  const [r] = await busy.responsesCount(1);
  t.equal(r!.text(), 'finished');
  t.equal(r!.header('connection'), 'close');
  await busy.whenClosed();
  await closing;
  t.equal(closed, true);
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

t.test('close() lets a response still being written reach a slow reader', async (t) => {
  // The reader is slow by the server's clock: time passes between its reads, past the linger.
  const clock = new ManualClock();
  const { server, port } = await startServer({ handlers: [bigBody], clock, lingerTimeout: 500 });
  const closing: Promise<void>[] = [];
  const got = await bigGet(port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n', {
    onFirstBytes: () => void closing.push(server.close()),
    between: () => clock.advance(100),
  });
  t.ok(got > big.length, `read ${got} bytes of a ${big.length}-byte body`);
  t.equal(closing.length, 1, 'close() was called once the first bytes had arrived');
  await closing[0];
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
  // Node times the handshake (headersTimeout): made endless, a close() that waited for it would never end.
  const { server, port } = await startServer({ handlers: [echoBody], tls: certificate as Certificate, headersTimeout: MAX_TIMEOUT_MS });
  const sides = new ServerSides(server);
  const stalled = net.connect(port, '127.0.0.1'); // TCP only: no ClientHello ever comes
  t.teardown(() => stalled.destroy());
  await new Promise((resolve) => stalled.once('connect', resolve));
  await sides.of(stalled); // the server holds it, handshaking
  let closed = false;
  const closing = server.close().then(() => (closed = true));
  await new Promise((resolve) => stalled.once('close', resolve));
  await closing;
  t.equal(closed, true, 'closed without waiting for the handshake timeout');
});

t.test('closing is a read-only flag that close() sets; what connections ask of the server is not on it', async (t) => {
  const { server } = await startServer();
  t.equal(server.closing, false);
  const closed = server.close();
  t.equal(server.closing, true);
  t.throws(() => ((server as unknown as { closing: boolean }).closing = false), TypeError, 'read-only');
  await closed;
  for (const name of ['findHandler', 'reportError', 'forget']) t.equal((server as unknown as Record<string, unknown>)[name], undefined, `no ${name}`);
});
