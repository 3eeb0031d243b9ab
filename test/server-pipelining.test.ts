// Keep-alive and pipelining: responses in request order, the pipeline limit,
// back-pressure, and clients that half-close with responses still owed.

import t from 'tap';
import * as net from 'node:net';
import { ManualClock, RawClient, ServerSides, big, bigBody, bigGet, echoBody, gate, handler, post, startServer, turns, type Gate } from './support.js';

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
  // Each request names its rank; the test lets the handlers finish in rank order, one at a time.
  const started: number[] = [];
  const finished: number[] = [];
  const gates = new Map<number, Gate>();
  const slow = handler(
    (r) => r.path.startsWith('/rank/'),
    async (r) => {
      const rank = Number(r.path.slice('/rank/'.length));
      started.push(rank);
      const mine = gate();
      gates.set(rank, mine);
      await mine.promise;
      finished.push(rank);
      return { status: 200, body: String(rank) };
    },
  );
  const { server, port } = await startServer({ handlers: [slow] });
  t.teardown(() => server.close());
  const c = await RawClient.open(port);
  t.teardown(() => c.destroy());
  const ranks = [120, 10, 60, 0];
  c.write(ranks.map((rank) => `GET /rank/${rank} HTTP/1.1\r\nHost: x\r\n\r\n`).join(''));
  await c.until(() => started.length === ranks.length, 3000, 'every handler to start');
  for (const rank of [...ranks].sort((a, b) => a - b)) {
    gates.get(rank)!.open();
    await c.until(() => finished.includes(rank), 3000, `handler ${rank} to finish`);
  }
  const responses = await c.responsesCount(4);
  t.same(
    responses.map((r) => r.text()),
    ranks.map(String),
    'responses in request order',
  );
  t.same(started, ranks, 'every handler started before the first finished (processed concurrently)');
  t.same(finished, [0, 10, 60, 120], 'handlers finished out of order');
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

t.test('the pipelining limit stops reading until responses drain', async (t) => {
  let inFlight = 0;
  let peak = 0;
  const slow = handler(
    () => true,
    async () => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await turns(1); // past this turn's I/O: a server ignoring the limit would start every request meanwhile
      inFlight--;
      return { status: 200, body: 'ok' };
    },
  );
  const { server, port } = await startServer({ handlers: [slow], maxPipelinedRequests: 4 });
  t.teardown(() => server.close());
  const c = await RawClient.open(port);
  t.teardown(() => c.destroy());
  c.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(40));
  await c.responsesCount(40);
  t.ok(peak <= 4, `at most 4 handlers in flight (saw ${peak})`);
});

t.test('back-pressure: the server stops reading while the client does not read', async (t) => {
  let calls = 0;
  const first = gate();
  const body = Buffer.alloc(1 << 20, 'x');
  const h = handler(
    () => true,
    () => (calls++, first.open(), { status: 200, body }),
  );
  const { server, port } = await startServer({ handlers: [h], maxPipelinedRequests: 1000 });
  t.teardown(() => server.close());
  const n = 64;
  const socket = net.connect(port, '127.0.0.1');
  t.teardown(() => socket.destroy());
  await new Promise((r) => socket.once('connect', r));
  socket.pause(); // read nothing
  socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(n));
  // All n requests come in one chunk: a server without back-pressure handles
  // them all in the parse that handles the first, and the turns after it.
  await first.promise;
  await turns(10);
  const callsWhileBlocked = calls;
  t.ok(callsWhileBlocked < n, `handled ${callsWhileBlocked} of ${n} while the client read nothing`);
  // Now read everything: every response arrives.
  let received = 0;
  const expected = n * body.length;
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

t.test('a client that half-closes after its request still gets the response', async (t) => {
  const release = gate();
  const slow = handler(
    () => true,
    async (r) => (await release.promise, { status: 200, body: r.body }),
  );
  const { server, port } = await startServer({ handlers: [slow] });
  t.teardown(() => server.close());
  const sides = new ServerSides(server);
  const c = await RawClient.open(port);
  t.teardown(() => c.destroy());
  c.socket.end(post('/x', 'half') + post('/x', 'closed'));
  // The responses are made only once the server has seen the half-close.
  const side = await sides.of(c.socket);
  await sides.until(() => side.ended, "the server to see the client's FIN");
  release.open();
  await c.whenClosed();
  t.same(
    c.responses.map((r) => r.text()),
    ['half', 'closed'],
  );
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
    t.same(
      c.responses.map((r) => r.status),
      [200, 400],
      JSON.stringify(partial),
    );
    t.equal(c.responses[1]!.header('connection'), 'close');
  }
});

t.test('requests held back by the pipeline limit are still answered after the client half-closes', async (t) => {
  let n = 0;
  const gates = [gate(), gate(), gate(), gate()];
  const slow = handler(
    () => true,
    async () => {
      const mine = n++;
      await gates[mine]!.promise;
      return { status: 200, body: String(mine) };
    },
  );
  const { server, port } = await startServer({ handlers: [slow], maxPipelinedRequests: 2 });
  t.teardown(() => server.close());
  const sides = new ServerSides(server);
  const c = await RawClient.open(port);
  t.teardown(() => c.destroy());
  c.socket.end('GET / HTTP/1.1\r\nHost: a\r\n\r\n'.repeat(4));
  const side = await sides.of(c.socket);
  await sides.until(() => side.ended && n === 2, 'the FIN, with two requests dispatched and two held back');
  // In each pair the second finishes first.
  gates[1]!.open();
  await turns(1);
  gates[0]!.open();
  await sides.until(() => n === 4, 'the held-back requests to be dispatched');
  gates[3]!.open();
  await turns(1);
  gates[2]!.open();
  await c.whenClosed(5000);
  t.same(
    c.responses.map((r) => r.text()),
    ['0', '1', '2', '3'],
  );
  t.equal(c.responses[3]!.header('connection'), 'close', 'the last one closes');
});

t.test('a client that half-closes while its response is still going out gets all of it', async (t) => {
  // A clock that never moves: no timeout of the server's can cut this response, only a wrong close.
  const { server, port } = await startServer({ handlers: [bigBody], clock: new ManualClock() });
  t.teardown(() => server.close());
  const got = await bigGet(port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', {
    onFirstBytes: (socket) => socket.end(),
  });
  t.ok(got > big.length, `read ${got} bytes of a ${big.length}-byte body`);
});

t.test('the responses to the requests of one read leave in one write, and a lone response is written at once', async (t) => {
  const { server, port } = await startServer({ handlers: [echoBody] });
  t.teardown(() => server.close());
  const sides = new ServerSides(server);
  const c = await RawClient.open(port);
  t.teardown(() => c.destroy());
  const side = await sides.of(c.socket);
  // Counted on the server's socket: each _write or _writev is one write to the handle.
  let writes = 0;
  const socket = side.socket as net.Socket & { _write: (...args: unknown[]) => void; _writev?: (...args: unknown[]) => void };
  const write = socket._write.bind(socket);
  const writev = socket._writev?.bind(socket);
  socket._write = (...args: unknown[]) => {
    writes++;
    write(...args);
  };
  if (writev !== undefined) {
    socket._writev = (...args: unknown[]) => {
      writes++;
      writev(...args);
    };
  }
  c.write(post('/echo', 'alone'));
  await c.responsesCount(1);
  t.equal(writes, 1, 'one request, one write');
  const readsBefore = side.reads;
  c.write(Array.from({ length: 6 }, (_, i) => post('/echo', `batch ${i}`)).join(''));
  await c.responsesCount(7);
  t.same(
    c.responses.map((r) => r.text()),
    ['alone', ...Array.from({ length: 6 }, (_, i) => `batch ${i}`)],
  );
  // Loopback usually brings the six in one read; however they came, no read gave more than one write.
  t.ok(writes - 1 <= side.reads - readsBefore, `${writes - 1} writes for ${side.reads - readsBefore} reads`);
});
