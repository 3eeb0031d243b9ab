// The server's life: listen, admission (maxConnections, the backlog),
// graceful close() with requests in flight and responses still going out,
// close({ timeout }) and its deadline, TLS, and connections that end badly
// costing only themselves.

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
  holdHandler,
  pollUntil,
  post,
  selfSignedCertificate,
  startServer,
  turns,
  type Certificate,
} from './support.js';
import { MAX_TIMEOUT_MS } from '../lib/options.js';
import type { Request, Response } from '../lib/server/request.js';

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

t.test('connections over maxConnections get 503 and are closed when every open one awaits an answer', async (t) => {
  const { handler: hold, release, held } = holdHandler();
  const { server, port } = await startServer({ handlers: [hold, echoBody], maxConnections: 2 });
  t.teardown(() => server.close());
  t.teardown(() => release.open());
  const a = await RawClient.open(port);
  const b = await RawClient.open(port);
  t.teardown(() => (a.destroy(), b.destroy()));
  // Each awaits its answer: neither may be closed to make room.
  a.write(post('/hold', 'a'));
  b.write(post('/hold', 'b'));
  await a.until(() => held() === 2, 3000, 'both requests at the handler');
  const c = await RawClient.open(port);
  t.teardown(() => c.destroy());
  const [r] = await c.responsesCount(1);
  t.equal(r!.status, 503);
  await c.whenClosed();
  release.open();
  t.equal((await a.responsesCount(1))[0]!.text(), 'answered');
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

// A balancer (node:cluster's round-robin, say) hands a worker a connection just
// before telling it to stop: its client's request is on the wire, and closing
// the connection as idle would reset it unread.
t.test('close() answers the first request of a connection that had sent nothing yet, with Connection: close', async (t) => {
  const clock = new ManualClock();
  const { server, port } = await startServer({ handlers: [echoBody], clock, keepAliveTimeout: 5000 });
  const fresh = await RawClient.open(port);
  const used = await RawClient.open(port);
  t.teardown(() => (fresh.destroy(), used.destroy()));
  used.write(post('/echo', 'x'));
  await used.responsesCount(1);
  await fresh.until(() => server.connectionCount === 2, 2000, 'both connections accepted');
  let closed = false;
  const closing = server.close().then(() => (closed = true));
  await used.whenClosed();
  await turns(5);
  t.equal(fresh.closed, false, 'the connection that sent nothing is kept for its first request');
  t.equal(closed, false);
  fresh.write(post('/echo', 'late'));
  const [r] = await fresh.responsesCount(1);
  t.equal(r!.text(), 'late');
  t.equal(r!.header('connection'), 'close');
  await fresh.whenClosed();
  await closing;
  t.equal(closed, true);
});

t.test('close() waits for a silent new connection no longer than the keep-alive timeout', async (t) => {
  const clock = new ManualClock();
  const { server, port } = await startServer({ handlers: [echoBody], clock, keepAliveTimeout: 5000 });
  const silent = await RawClient.open(port);
  t.teardown(() => silent.destroy());
  await silent.until(() => server.connectionCount === 1, 2000, 'the connection accepted');
  const closing = server.close();
  await turns(5);
  t.equal(silent.closed, false);
  clock.advance(5000);
  await silent.whenClosed();
  await closing;
  t.equal(server.connectionCount, 0);
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

t.test('close({ timeout }) answers what finishes in time, then destroys the rest and resolves', async (t) => {
  const clock = new ManualClock();
  const requests = new Map<string, Request>();
  const started = gate();
  const release = gate();
  const slow = handler(
    (r) => r.path === '/slow',
    async (r) => (requests.set('slow', r), started.open(), await release.promise, { status: 200, body: 'in time' }),
  );
  // Never settles: only the deadline ends its connection.
  const hung = handler(
    (r) => r.path === '/hung',
    (r) => (requests.set('hung', r), new Promise<Response>(() => {})),
  );
  const { server, port } = await startServer({ handlers: [slow, hung, echoBody], clock });
  const sides = new ServerSides(server);
  const inTime = await RawClient.open(port);
  const stuck = await RawClient.open(port);
  const halfSent = await RawClient.open(port);
  t.teardown(() => (inTime.destroy(), stuck.destroy(), halfSent.destroy()));
  inTime.write('GET /slow HTTP/1.1\r\nHost: x\r\n\r\n');
  stuck.write('GET /hung HTTP/1.1\r\nHost: x\r\n\r\n');
  const partial = 'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly part';
  halfSent.write(partial);
  const side = await sides.of(halfSent.socket);
  await sides.until(() => side.bytes === partial.length, 'the server to read the partial request');
  await started.promise;
  await stuck.until(() => requests.has('hung'), 5000, 'the hung handler to start');
  let closed = false;
  const closing = server.close({ timeout: 1000 }).then(() => (closed = true));
  release.open();
  const [r] = await inTime.responsesCount(1);
  t.equal(r!.text(), 'in time', 'answered before the deadline');
  t.equal(r!.header('connection'), 'close');
  await inTime.whenClosed();
  clock.advance(999);
  await turns(3);
  t.equal(closed, false, 'the deadline has not passed');
  t.equal(stuck.closed || halfSent.closed, false, 'nothing destroyed before it');
  clock.advance(1);
  await closing;
  t.equal(closed, true, 'resolved at the deadline, not at the request timeout');
  await stuck.whenClosed();
  await halfSent.whenClosed();
  t.equal(stuck.responses.length + halfSent.responses.length, 0, 'destroyed, not answered');
  t.equal(requests.get('hung')!.aborted, true, 'the in-flight request is marked aborted');
  t.equal(requests.get('slow')!.aborted, false);
  t.equal(server.connectionCount, 0);
});

t.test('a second close() with a shorter timeout brings the deadline forward; a longer one does not put it back', async (t) => {
  let started = 0;
  const hung = handler(
    () => true,
    () => (started++, new Promise<Response>(() => {})),
  );
  const cases: [name: string, timeouts: (number | undefined)[], at: number][] = [
    ['no timeout, then 100', [undefined, 100], 100],
    ['10000, then 100', [10_000, 100], 100],
    ['100, then 10000', [100, 10_000], 100],
    ['100, then none', [100, undefined], 100],
    ['0: at once', [0], 0],
  ];
  for (const [name, timeouts, at] of cases) {
    const clock = new ManualClock();
    const { server, port } = await startServer({ handlers: [hung], clock });
    const c = await RawClient.open(port);
    t.teardown(() => c.destroy());
    c.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    const before = started;
    await c.until(() => started === before + 1, 5000, 'the handler to start');
    let closed = false;
    const promises = timeouts.map((timeout) => server.close(timeout === undefined ? undefined : { timeout }));
    t.ok(
      promises.every((p) => p === promises[0]),
      `${name}: every call returns the same promise`,
    );
    void promises[0]!.then(() => (closed = true));
    if (at > 0) {
      clock.advance(at - 1);
      await turns(3);
      t.equal(closed, false, `${name}: pending before ${at} ms`);
      clock.advance(1);
    }
    await promises[0];
    await c.whenClosed();
    t.equal(closed, true, `${name}: closed at ${at} ms`);
  }
});

t.test('close() checks its timeout before it closes anything', async (t) => {
  const { server } = await startServer();
  t.teardown(() => server.close());
  for (const timeout of [-1, NaN, Infinity, MAX_TIMEOUT_MS + 1, '5' as unknown as number]) {
    t.throws(() => void server.close({ timeout }), RangeError, String(timeout));
  }
  t.equal(server.closing, false, 'still serving');
});

t.test('a handler that never settles does not keep close() pending once its client has reset the connection', async (t) => {
  let request: Request | null = null;
  const hung = handler(
    () => true,
    (r) => ((request = r), new Promise<Response>(() => {})),
  );
  const { server, port } = await startServer({ handlers: [hung] });
  const c = await RawClient.open(port);
  t.teardown(() => c.destroy());
  c.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  await c.until(() => request !== null, 5000, 'the handler to start');
  const closing = server.close();
  c.socket.resetAndDestroy();
  await closing; // no timeout: the reset alone ends the connection (onClose -> forget)
  t.equal((request as Request | null)?.aborted, true);
});

t.test('request.signal aborts when the client resets the connection; read afterwards, it is already aborted', async (t) => {
  const seen: Request[] = [];
  const reasons: unknown[] = [];
  const hung = handler(
    () => true,
    (r) => {
      seen.push(r);
      // The first reads its signal while waiting; the second only after the client has gone.
      if (seen.length === 1) r.signal.addEventListener('abort', () => reasons.push(r.signal.reason));
      return new Promise<Response>(() => {});
    },
  );
  const { server, port } = await startServer({ handlers: [hung] });
  t.teardown(() => server.close({ timeout: 0 }));
  const a = await RawClient.open(port);
  const b = await RawClient.open(port);
  a.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  await a.until(() => seen.length === 1, 5000, 'the first handler to start');
  b.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  await b.until(() => seen.length === 2, 5000, 'the second handler to start');
  t.equal(seen[0]!.signal.aborted, false, 'not while the client waits');
  a.socket.resetAndDestroy();
  b.socket.resetAndDestroy();
  await pollUntil(() => reasons.length === 1 && seen[1]!.aborted, 'the server to see both resets');
  t.match(String((reasons[0] as Error).message), /client has gone/);
  t.equal(seen[1]!.signal.aborted, true, 'made after the client left: aborted at once');
});

t.test('a handler that never settles after its client sent FIN holds close() until its timeout', async (t) => {
  // A FIN may be a half-close whose sender still reads (its response is owed),
  // so only the deadline can end this one.
  const clock = new ManualClock();
  let request: Request | null = null;
  const hung = handler(
    () => true,
    (r) => ((request = r), new Promise<Response>(() => {})),
  );
  const { server, port } = await startServer({ handlers: [hung], clock });
  const sides = new ServerSides(server);
  const c = await RawClient.open(port);
  t.teardown(() => c.destroy());
  c.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  await c.until(() => request !== null, 5000, 'the handler to start');
  const side = await sides.of(c.socket);
  let closed = false;
  const closing = server.close().then(() => (closed = true));
  c.socket.end();
  await sides.until(() => side.ended, 'the server to see the FIN');
  clock.advance(60_000); // past every timeout of the server's own
  await turns(3);
  t.equal(closed, false, 'without a timeout, close() waits for the handler');
  void server.close({ timeout: 50 });
  clock.advance(50);
  await closing;
  await c.whenClosed();
  t.equal((request as Request | null)?.aborted, true);
});
