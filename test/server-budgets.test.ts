// What one client can make the server hold: the per-connection budget
// (slow readers), the server-wide memory budget (bodies, decoded bodies,
// queued responses), and connection slots (who gives way when full). Each
// test asserts on the server's own accounting, Server#stats().

import t from 'tap';
import * as net from 'node:net';
import * as zlib from 'node:zlib';
import { randomBytes } from 'node:crypto';
import { Holding, MemoryBudget } from '../lib/server/budget.js';
import { RawClient, ServerSides, echoBody, gate, handler, holdHandler, pollUntil, post, startServer, turns } from './support.js';

const KiB = 1024;
const MiB = 1024 * KiB;

t.test('what a connection holds is charged to the server budget as it changes, the socket counted by its latest figure', async (t) => {
  const budget = new MemoryBudget(100);
  const a = new Holding(budget);
  const b = new Holding(budget);
  a.charge(60);
  t.ok(budget.fits(40) && !budget.fits(41));
  b.setSocketBytes(30);
  b.setSocketBytes(50);
  t.equal(b.bytes, 50, 'the socket figure replaces the last one');
  b.charge(20);
  t.equal(budget.used, 130, 'work already done is charged past the limit');
  b.setSocketBytes(0);
  a.release(a.bytes);
  t.same([a.bytes, b.bytes, budget.used, budget.peak], [0, 20, 20, 130]);
});

function head(length: number, extra = ''): string {
  return `POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nContent-Length: ${length}\r\n${extra}\r\n`;
}

/** A socket that sends what it is given and never reads. */
async function deaf(port: number): Promise<net.Socket> {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => {});
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.pause();
  return socket;
}

t.test('a client that pipelines large gzip-answered requests and never reads stops being read at the connection budget', async (t) => {
  let calls = 0;
  // Asynchronous answers (as gzip makes them): the server must not keep parsing while they are owed.
  const slowEcho = handler(
    (r) => r.path === '/echo',
    async (r) => (calls++, await turns(1), { status: 200, headers: { 'Content-Type': 'text/plain' }, body: r.body.toString('latin1') }),
  );
  const budget = 2 * MiB;
  const { server, port } = await startServer({ handlers: [slowEcho], maxConnectionBufferedBytes: budget });
  t.teardown(() => server.close());
  const sides = new ServerSides(server);
  const client = await deaf(port);
  t.teardown(() => client.destroy());
  // Random text compresses little: the answers fill the socket as the bodies would.
  const body = randomBytes(768 * KiB).toString('base64'); // 1 MiB
  for (let i = 0; i < 32; i++) client.write(head(body.length, 'Accept-Encoding: gzip\r\n') + body);
  const side = await sides.of(client);
  // Settled: the server has stopped reading this connection and every call it took has been answered.
  await pollUntil(() => side.socket.isPaused() && calls > 0 && server.stats().bufferedBytes > 0, 'the server to stop reading', 10_000);
  await turns(10);
  const { peakBufferedBytes } = server.stats();
  t.ok(calls < 32, `the server took ${calls} of the 32 requests, not all`);
  // Past the budget: the rest of the body being read, and an answer being gzipped (counted until it is).
  t.ok(peakBufferedBytes <= budget + 2 * body.length + 64 * KiB, `held at most the budget, a body and an answer: peak ${peakBufferedBytes}`);
  t.ok(side.socket.isPaused(), 'still not reading');
  client.destroy();
  await pollUntil(() => server.connectionCount === 0, 'the connection to close');
  t.equal(server.stats().bufferedBytes, 0, 'everything it held is released when the client goes');
});

t.test('responses that become ready together wait for drain with the server: the socket never holds more than one of them', async (t) => {
  const release = gate();
  let calls = 0;
  const heldEcho = handler(
    (r) => r.path === '/echo',
    async (r) => (calls++, await release.promise, { status: 200, headers: { 'Content-Type': 'text/plain' }, body: r.body }),
  );
  // A budget large enough to read all 16 first: this test is about writing, not reading.
  const { server, port } = await startServer({ handlers: [heldEcho], maxConnectionBufferedBytes: 64 * MiB });
  t.teardown(() => server.close());
  const sides = new ServerSides(server);
  const client = await deaf(port);
  t.teardown(() => client.destroy());
  const body = randomBytes(600 * KiB).toString('base64'); // 800 KiB
  for (let i = 0; i < 16; i++) client.write(post('/echo', body));
  const side = await sides.of(client);
  await pollUntil(() => calls === 16, 'all 16 requests to reach the handler', 10_000);
  release.open();
  // The kernel takes a few MiB; then the socket needs draining and stays so, since the client reads nothing.
  await pollUntil(() => side.socket.writableNeedDrain, 'the socket to need draining');
  await turns(10);
  t.ok(side.socket.writableLength <= body.length + 1024, `queued in the socket: ${side.socket.writableLength}`);
  t.ok(server.stats().bufferedBytes >= side.socket.writableLength + body.length, 'the rest are held, and counted, by the server');
  let got = 0;
  client.on('data', (d: Buffer) => (got += d.length));
  client.resume();
  await pollUntil(() => got >= 16 * body.length, 'all 16 answers once the client reads', 20_000);
});

t.test('one byte of a body declared at 8 MiB costs the server one byte', async (t) => {
  const { server, port } = await startServer({ handlers: [echoBody] });
  t.teardown(() => server.close());
  const sides = new ServerSides(server);
  const client = await deaf(port);
  t.teardown(() => client.destroy());
  const start = head(8 * MiB);
  client.write(start + 'x');
  const side = await sides.of(client);
  await sides.until(() => side.bytes === start.length + 1, 'the server to read the head and one byte');
  t.equal(server.stats().bufferedBytes, 1);
});

t.test('past the server budget a large body is refused with 503 and Retry-After, and the server holds no more than its budget', async (t) => {
  const limit = 1 * MiB;
  const { server, port } = await startServer({ handlers: [echoBody], maxBufferedBytes: limit });
  t.teardown(() => server.close());
  const clients: RawClient[] = [];
  t.teardown(() => clients.forEach((c) => c.destroy()));
  // All but the last byte of each: a growing body never holds more than its declared length.
  const part = Buffer.alloc(400 * KiB, 'a');
  for (let i = 0; i < 3; i++) {
    const c = await RawClient.open(port);
    clients.push(c);
    c.write(head(part.length + 1));
    c.write(part);
  }
  // Which of the three finds no room depends on how the chunks interleave; exactly one does.
  await pollUntil(() => clients.some((c) => c.responses.length > 0), 'a refusal');
  const refused = clients.find((c) => c.responses.length > 0)!;
  const r = refused.responses[0]!;
  t.equal(r.status, 503);
  t.equal(r.header('retry-after'), '1');
  t.equal(r.header('connection'), 'close');
  await refused.whenClosed();
  t.equal(clients.filter((c) => c.responses.length > 0).length, 1, 'the other two are still being received');
  const stats = server.stats();
  t.ok(stats.peakBufferedBytes <= limit, `peak ${stats.peakBufferedBytes}`);
  t.equal(stats.refusedForMemory, 1);
});

t.test('a small request is served even when large unfinished bodies fill the budget: the largest is refused to make room', async (t) => {
  // 300 + 500 KiB held (all but the last byte of each body), a 60 KiB request on top does not fit.
  const limit = 850 * KiB;
  const { server, port } = await startServer({ handlers: [echoBody], maxBufferedBytes: limit });
  t.teardown(() => server.close());
  const sides = new ServerSides(server);
  const [smaller, larger] = [await RawClient.open(port), await RawClient.open(port)];
  t.teardown(() => (smaller.destroy(), larger.destroy()));
  smaller.write(head(300 * KiB) + 'a'.repeat(300 * KiB - 1));
  larger.write(head(500 * KiB) + 'b'.repeat(500 * KiB - 1));
  await sides.until(() => server.stats().bufferedBytes >= 800 * KiB - 2, 'both bodies to be held');
  const small = await RawClient.open(port);
  t.teardown(() => small.destroy());
  small.write(post('/echo', 'x'.repeat(60 * KiB)));
  const [answer] = await small.responsesCount(1);
  t.equal(answer!.status, 200, 'the small request is answered');
  const [refused] = await larger.responsesCount(1);
  t.equal(refused!.status, 503, 'the largest unfinished body made room');
  t.equal(smaller.responses.length, 0, 'the other is untouched');
  t.ok(server.stats().peakBufferedBytes <= limit);
});

t.test('fifty gzip bombs at once cost the server its budget, not fifty times the body limit', async (t) => {
  const limit = 2 * MiB;
  const { server, port } = await startServer({ handlers: [echoBody], maxBufferedBytes: limit, maxBodyBytes: 8 * MiB });
  t.teardown(() => server.close());
  const bomb = zlib.gzipSync(Buffer.alloc(64 * MiB, ' '), { level: 9 });
  const clients = await Promise.all(Array.from({ length: 50 }, () => RawClient.open(port)));
  t.teardown(() => clients.forEach((c) => c.destroy()));
  for (const c of clients) c.write(head(bomb.length, 'Content-Encoding: gzip\r\n') + bomb.toString('latin1'));
  const statuses = await Promise.all(clients.map(async (c) => (await c.responsesCount(1, 20_000))[0]!.status));
  t.ok(
    statuses.every((s) => s === 413 || s === 503),
    `each refused: ${[...new Set(statuses)].join(', ')}`,
  );
  const stats = server.stats();
  t.ok(stats.peakBufferedBytes <= limit, `peak ${stats.peakBufferedBytes} within ${limit}`);
  await pollUntil(() => server.stats().bufferedBytes === 0, 'every decode to be released');
});

t.test('a full server gives the slot of the oldest connection that has not sent a whole head to a newcomer', async (t) => {
  const { server, port } = await startServer({ handlers: [echoBody], maxConnections: 3 });
  t.teardown(() => server.close());
  const proven = await RawClient.open(port);
  proven.write(post('/echo', 'first'));
  await proven.responsesCount(1);
  const oldest = await RawClient.open(port);
  oldest.write('P'); // one byte of a head, never more
  const silent = await RawClient.open(port);
  t.teardown(() => (proven.destroy(), oldest.destroy(), silent.destroy()));
  await pollUntil(() => server.connectionCount === 3, 'three connections');
  const newcomer = await RawClient.open(port);
  t.teardown(() => newcomer.destroy());
  newcomer.write(post('/echo', 'served'));
  t.equal((await newcomer.responsesCount(1))[0]!.text(), 'served');
  await oldest.whenClosed();
  t.equal(silent.closed, false, 'the younger one stays');
  proven.write(post('/echo', 'still here'));
  t.equal((await proven.responsesCount(2))[1]!.text(), 'still here', 'one that has sent a request goes after those that have not');
  t.match(server.stats(), { connections: 3, evictedConnections: 1, refusedConnections: 0 });
});

t.test('with no such connection, the one idle longest gives way; one awaiting its answer never does', async (t) => {
  const { handler: hold, release, held } = holdHandler();
  const { server, port } = await startServer({ handlers: [hold, echoBody], maxConnections: 3 });
  t.teardown(() => server.close());
  t.teardown(() => release.open());
  const [idleLonger, idle, waiting] = [await RawClient.open(port), await RawClient.open(port), await RawClient.open(port)];
  t.teardown(() => [idleLonger, idle, waiting].forEach((c) => c.destroy()));
  waiting.write(post('/hold', 'x'));
  await waiting.until(() => held() === 1, 3000, 'the held request');
  idleLonger.write(post('/echo', 'a'));
  await idleLonger.responsesCount(1);
  idle.write(post('/echo', 'b'));
  await idle.responsesCount(1);
  const newcomer = await RawClient.open(port);
  t.teardown(() => newcomer.destroy());
  newcomer.write(post('/echo', 'served'));
  t.equal((await newcomer.responsesCount(1))[0]!.text(), 'served');
  await idleLonger.whenClosed();
  t.equal(idle.closed, false);
  release.open();
  t.equal((await waiting.responsesCount(1))[0]!.text(), 'answered', 'the request in flight was answered');
  t.match(server.stats(), { evictedConnections: 1 });
});

t.test('a request whose last body byte crosses the connection budget is answered once what is ahead goes out', async (t) => {
  const { handler: hold, release, held } = holdHandler('first');
  const { server, port } = await startServer({ handlers: [hold, echoBody], maxConnectionBufferedBytes: 1000 });
  t.teardown(() => server.close());
  t.teardown(() => release.open());
  const sides = new ServerSides(server);
  const client = await RawClient.open(port);
  t.teardown(() => client.destroy());
  const first = post('/hold', 'x');
  client.write(first);
  await client.until(() => held() === 1, 3000, 'the first request at its handler');
  // The whole second request in one write: reading pauses at its last byte, with its completion not yet delivered.
  const second = post('/echo', 'y'.repeat(5000));
  client.write(second);
  const side = await sides.of(client.socket);
  await sides.until(() => side.socket.isPaused() && side.bytes === first.length + second.length, 'the server to read it and pause');
  release.open();
  const responses = await client.responsesCount(2);
  t.same(
    responses.map((r) => [r.status, r.body.length]),
    [
      [200, 5],
      [200, 5000],
    ],
  );
});

t.test('responses that slow readers leave unread cannot lock out small requests: the reader holding most is closed', async (t) => {
  const answer = Buffer.alloc(4 * MiB, 'r');
  let served = 0;
  const big = handler(
    (r) => r.path === '/big',
    () => (served++, { status: 200, headers: { 'Content-Type': 'text/plain' }, body: answer }),
  );
  const { server, port } = await startServer({ handlers: [big, echoBody], maxBufferedBytes: 8 * MiB, gzipThreshold: Infinity });
  t.teardown(() => server.close());
  const readers = await Promise.all([1, 2, 3, 4].map(() => deaf(port)));
  t.teardown(() => readers.forEach((r) => r.destroy()));
  for (const r of readers) r.write('GET /big HTTP/1.1\r\nHost: x\r\n\r\n');
  await pollUntil(() => served === 4 && server.stats().bufferedBytes > 8 * MiB, 'the slow readers to fill the budget');
  const small = await RawClient.open(port);
  t.teardown(() => small.destroy());
  small.write(post('/echo', 'x'));
  const [r] = await small.responsesCount(1);
  t.equal(r!.status, 200, 'answered, not 503');
  const stats = server.stats();
  t.ok(stats.closedSlowReaders >= 1, `${stats.closedSlowReaders} slow readers closed`);
  t.equal(stats.refusedForMemory, 0);
});

t.test('maxConnectionsPerAddress answers 503 past the limit for one address and leaves others alone', async (t) => {
  const { server, port } = await startServer({ handlers: [echoBody], maxConnectionsPerAddress: 2 });
  t.teardown(() => server.close());
  const open = (localAddress: string) =>
    new Promise<net.Socket>((resolve, reject) => {
      const s = net.connect({ port, host: '127.0.0.1', localAddress });
      s.on('error', reject);
      s.once('connect', () => resolve(s));
    });
  const sockets = [await open('127.0.0.1'), await open('127.0.0.1')];
  t.teardown(() => sockets.forEach((s) => s.destroy()));
  await pollUntil(() => server.connectionCount === 2, 'two connections');
  const third = await open('127.0.0.1');
  sockets.push(third);
  const answer = await new Promise<string>((resolve) => {
    let text = '';
    third.on('data', (d: Buffer) => (text += d.toString('latin1')));
    third.on('close', () => resolve(text));
  });
  t.match(answer, /^HTTP\/1\.1 503 /);
  sockets.push(await open('127.0.0.2'));
  await pollUntil(() => server.connectionCount === 3, 'another address is let in');
  sockets[0]!.destroy();
  await pollUntil(() => server.connectionCount === 2, 'one of the address left');
  sockets.push(await open('127.0.0.1'));
  await pollUntil(() => server.connectionCount === 3, 'its slot is free again');
  t.match(server.stats(), { refusedConnections: 1 });
});

t.test('whatever clients send and however they leave, the budget returns to zero once they have gone', async (t) => {
  // A seeded mix of complete, pipelined, partial, gzip (good and corrupt), unread and abandoned
  // requests against small budgets, so that every refusal and release path is taken.
  let seed = 12345;
  const random = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
  const slowEcho = handler(
    (r) => r.path === '/slow',
    async (r) => (await turns(random(3)), { status: 200, body: r.body }),
  );
  const { server, port } = await startServer({
    handlers: [slowEcho, echoBody],
    maxBufferedBytes: 256 * KiB,
    maxConnectionBufferedBytes: 32 * KiB,
    gzipThreshold: 1024,
  });
  t.teardown(() => server.close());
  const gzipped = zlib.gzipSync(Buffer.alloc(200 * KiB, 'z'));
  const sockets: net.Socket[] = [];
  t.teardown(() => sockets.forEach((s) => s.destroy()));
  for (let i = 0; i < 60; i++) {
    const socket = net.connect(port, '127.0.0.1');
    socket.on('error', () => {});
    sockets.push(socket);
    await new Promise((resolve) => socket.once('connect', resolve));
    if (random(2) === 0) socket.pause(); // a reader that never reads
    for (let k = random(4); k >= 0; k--) {
      const size = [10, 1000, 20 * KiB, 100 * KiB][random(4)]!;
      const path = random(2) === 0 ? '/slow' : '/echo';
      switch (random(5)) {
        case 0:
          socket.write(head(size).replace('/echo', path) + 'b'.repeat(size));
          break;
        case 1:
          socket.write(head(size).replace('/echo', path) + 'b'.repeat(random(size))); // never finished
          break;
        case 2:
          socket.write(Buffer.concat([Buffer.from(head(gzipped.length, 'Content-Encoding: gzip\r\nAccept-Encoding: gzip\r\n')), gzipped]));
          break;
        case 3:
          socket.write(head(64, 'Content-Encoding: gzip\r\n') + 'not gzip at all'.padEnd(64, '!'));
          break;
        default:
          socket.write(`POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${size.toString(16)}\r\n${'c'.repeat(size)}\r\n0\r\n\r\n`);
      }
    }
    if (random(3) === 0) socket.destroy();
  }
  await turns(20);
  t.ok(server.stats().peakBufferedBytes > 0, 'the traffic was held at some point');
  for (const socket of sockets) socket.destroy();
  await pollUntil(() => server.connectionCount === 0, 'every connection to close', 10_000);
  await pollUntil(() => server.stats().bufferedBytes === 0, 'the budget to return to zero (decodes and compressions finishing)', 10_000);
  t.equal(server.stats().bufferedBytes, 0);
});

t.test('on connections that stay open, the budget is back to zero once every answer has been taken', async (t) => {
  let seed = 777;
  const random = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
  const slowEcho = handler(
    (r) => r.path === '/slow',
    async (r) => (await turns(random(3)), { status: 200, body: r.body }),
  );
  const { server, port } = await startServer({ handlers: [slowEcho, echoBody], gzipThreshold: 1024 });
  t.teardown(() => server.close());
  const gzipped = zlib.gzipSync(Buffer.alloc(200 * KiB, 'z'));
  const clients = await Promise.all(Array.from({ length: 12 }, () => RawClient.open(port)));
  t.teardown(() => clients.forEach((c) => c.destroy()));
  const expected = clients.map(() => 0);
  clients.forEach((client, i) => {
    for (let k = random(6); k >= 0; k--, expected[i]!++) {
      const size = [10, 1000, 20 * KiB, 100 * KiB][random(4)]!;
      const path = random(2) === 0 ? '/slow' : '/echo';
      switch (random(4)) {
        case 0:
          client.write(head(size, 'Accept-Encoding: gzip\r\n').replace('/echo', path) + 'b'.repeat(size));
          break;
        case 1:
          client.write(Buffer.concat([Buffer.from(head(gzipped.length, 'Content-Encoding: gzip\r\n').replace('/echo', path)), gzipped]));
          break;
        case 2:
          client.write(head(1).replace('/echo', '/nowhere') + 'x'); // 404, its body discarded
          break;
        default:
          client.write(`POST ${path} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${size.toString(16)}\r\n${'c'.repeat(size)}\r\n0\r\n\r\n`);
      }
    }
  });
  await Promise.all(clients.map((c, i) => c.responsesCount(expected[i]!, 10_000)));
  t.equal(server.connectionCount, clients.length, 'all still open');
  await pollUntil(() => server.stats().bufferedBytes === 0, 'the last write callbacks');
  t.equal(server.stats().bufferedBytes, 0);
  t.ok(server.stats().peakBufferedBytes > 0, 'bodies and answers were held meanwhile');
});
