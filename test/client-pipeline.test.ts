// Pipeline: HTTP/1.1 pipelining on one keep-alive connection (RFC 9112
// §9.3.2), shown on the wire with scripted servers, and what each call gets
// when the connection breaks mid-batch.

import t, { type Test } from 'tap';
import type * as net from 'node:net';
import { Transport } from '../lib/client/transport.js';
import { Pipeline } from '../lib/client/pipeline.js';
import { dumps } from '../lib/xmlrpc/encode.js';
import { loads } from '../lib/xmlrpc/decode.js';
import { XmlRpcDispatcher } from '../lib/rpc/dispatcher.js';
import { Server } from '../lib/server/server.js';
import { ResponseError, TransportError, TransportErrorCode } from '../lib/errors.js';
import {
  closedPort,
  demoServer,
  httpResponse,
  resources,
  scriptedServer,
  selfSignedCertificate,
  silentServer,
  pollUntil,
  xmlResult,
  ManualClock,
  type RawRequest,
  oneSecondServer,
} from './support.js';

/** The answer to an `echo(tag)` call: its tag back, as a scripted server writes it. */
function answer(request: RawRequest, headers: Record<string, string> = {}): Buffer {
  const { params } = loads(request.body);
  return httpResponse(xmlResult(`<string>${params[0] as string}</string>`), '200 OK', headers);
}

const echo = (tag: string) => dumps([tag], 'echo');

const certificate = selfSignedCertificate();
const noTls = typeof certificate === 'string' ? `no self-signed certificate: ${certificate}` : false;

/** Settles to the outcome without throwing. */
async function outcome<T>(promise: Promise<T>): Promise<{ value?: T; error?: Error }> {
  try {
    return { value: await promise };
  } catch (error) {
    return { error: error as Error };
  }
}

function lostError(t: Test, o: { error?: Error }, requestSent: boolean, what: string): void {
  t.type(o.error, TransportError, `${what}: a TransportError`);
  const err = o.error as TransportError;
  t.equal(err.code, TransportErrorCode.CONNECTION_LOST, `${what}: CONNECTION_LOST`);
  t.equal(err.requestSent, requestSent, `${what}: requestSent ${requestSent}`);
}

/** A server that answers every request, except on its first connection, which it never reads from. */
async function stallingServer() {
  let stalled: net.Socket | null = null;
  const s = await scriptedServer(
    (request) => request.socket.write(answer(request)),
    (socket) => {
      if (stalled !== null) return;
      stalled = socket;
      socket.pause();
    },
  );
  return Object.assign(s, { stalled: () => stalled });
}

t.test('N requests are written on one connection before the first response is read, and each call gets its own answer', async (t) => {
  const N = 8;
  const held: RawRequest[] = [];
  // The server answers nothing until all N requests have arrived, then all N in one write:
  // a client that waited for a response before writing the next request would never finish.
  const s = await scriptedServer((request) => {
    held.push(request);
    if (held.length === N) held[0]!.socket.write(Buffer.concat(held.map((r) => answer(r))));
  });
  const transport = new Transport({ timeout: 3000 });
  const pipeline = transport.openPipeline(`127.0.0.1:${s.port}`, { waitForKeepAlive: false });
  t.teardown(async () => {
    await pipeline.close();
    await s.close();
  });
  const tags = Array.from({ length: N }, (_, i) => `call ${i}`);
  const results = await Promise.all(tags.map((tag) => pipeline.request('/RPC2', echo(tag))));
  t.same(results, tags, 'every call got the response to its own request, in order');
  t.equal(s.connections, 1, 'one connection');
  t.same(
    s.requests.map((r) => [r.connection, r.index]),
    tags.map((_, i) => [0, i]),
    'all on connection 0, in call order',
  );
});

t.test('responses arriving one byte at a time are matched the same', async (t) => {
  const N = 4;
  const held: RawRequest[] = [];
  const s = await scriptedServer((request) => {
    held.push(request);
    if (held.length < N) return;
    const bytes = Buffer.concat(held.map((r) => answer(r)));
    const socket = held[0]!.socket;
    let i = 0;
    const drip = () => {
      if (i < bytes.length && !socket.destroyed) socket.write(bytes.subarray(i, ++i), drip);
    };
    drip();
  });
  const pipeline = new Transport({ timeout: 5000 }).openPipeline(`127.0.0.1:${s.port}`, { waitForKeepAlive: false });
  t.teardown(async () => {
    await pipeline.close();
    await s.close();
  });
  const tags = ['a', 'bb', 'ccc', 'dddd'];
  t.same(await Promise.all(tags.map((tag) => pipeline.request('/RPC2', echo(tag)))), tags);
});

t.test('by default a new connection carries one request until a keep-alive response, then the rest go together', async (t) => {
  const N = 5;
  let beforeFirstAnswer = -1;
  const s = await scriptedServer((request) => {
    if (request.index === 0) {
      // Give a misbehaving client the chance to write more before the first answer: two turns of the event loop,
      // a poll phase between them (a client writes its queue in one go, so anything more would be here by then).
      setImmediate(() =>
        setImmediate(() => {
          beforeFirstAnswer = s.requests.length;
          request.socket.write(answer(request));
        }),
      );
      return;
    }
    if (s.requests.length === N) request.socket.write(Buffer.concat(s.requests.slice(1).map((r) => answer(r))));
  });
  const pipeline = new Transport({ timeout: 3000 }).openPipeline(`127.0.0.1:${s.port}`);
  t.teardown(async () => {
    await pipeline.close();
    await s.close();
  });
  const tags = Array.from({ length: N }, (_, i) => `t${i}`);
  t.same(await Promise.all(tags.map((tag) => pipeline.request('/RPC2', echo(tag)))), tags);
  t.equal(beforeFirstAnswer, 1, 'only the first request was written before its keep-alive answer');
  t.equal(s.connections, 1, 'then the other four were pipelined on the same connection');
});

t.test('a slow call does not hold back the processing of the next ones: the server runs them at once and answers in order', async (t) => {
  // Server-side order, not time: `sleep(tag, ...others)` ends once the calls tagged `others` have ended, so the
  // slow call, which waits for the three behind it, could never end if the server ran them one after another.
  const events: { tag: string; start: number; end: number }[] = [];
  let sequence = 0;
  const ended = new Set<string>();
  let waiters: (() => boolean)[] = [];
  const rpc = new XmlRpcDispatcher();
  rpc.registerFunction(async (tag: string, ...others: string[]) => {
    const event = { tag, start: ++sequence, end: 0 };
    events.push(event);
    await new Promise<void>((resolve) => {
      const check = () => others.every((o) => ended.has(o)) && (resolve(), true);
      if (!check()) waiters.push(check);
    });
    event.end = ++sequence;
    ended.add(tag);
    waiters = waiters.filter((check) => !check());
    return tag;
  }, 'sleep');
  const server = new Server({ handlers: [rpc], onError: () => {} });
  const { port } = await server.listen(0, '127.0.0.1');
  const transport = new Transport({ timeout: 5000 });
  const pipeline = transport.openPipeline(`127.0.0.1:${port}`);
  t.teardown(async () => {
    await pipeline.close();
    await server.close();
  });
  t.equal(await pipeline.request('/RPC2', dumps(['warm-up'], 'sleep')), 'warm-up', 'keep-alive confirmed');
  events.length = 0;
  const settled: string[] = [];
  const calls = [['slow', 'fast-1', 'fast-2', 'fast-3'], ['fast-1'], ['fast-2', 'fast-1'], ['fast-3']];
  await Promise.all(
    calls.map((params) =>
      pipeline.request('/RPC2', dumps(params, 'sleep')).then((value) => {
        settled.push(value as string);
      }),
    ),
  );
  const slow = events.find((e) => e.tag === 'slow')!;
  for (const e of events.filter((e) => e.tag !== 'slow')) {
    t.ok(e.start < slow.end, `${e.tag} started before the slow call ended (server-side order)`);
    t.ok(e.end < slow.end, `${e.tag} finished before the slow call ended`);
  }
  t.same(settled, ['slow', 'fast-1', 'fast-2', 'fast-3'], 'the client got the answers in request order all the same');
  t.equal(server.connectionCount, 1, 'one connection');
});

t.test('HTTPS: requests are pipelined over TLS, all received and running before any is answered', { skip: noTls }, async (t) => {
  const { key, cert } = certificate as { key: Buffer; cert: Buffer };
  const N = 6;
  let started = 0;
  let release!: () => void;
  const allStarted = new Promise<void>((resolve) => (release = resolve));
  const rpc = new XmlRpcDispatcher();
  rpc.registerFunction(async (tag: string) => {
    if (++started === N) release();
    await allStarted; // no answer before all N requests are in
    return tag;
  }, 'latch');
  const server = new Server({ handlers: [rpc], onError: () => {}, tls: { key, cert } });
  const { port } = await server.listen(0, '127.0.0.1');
  const pipeline = new Transport({ secure: true, tls: { ca: cert }, timeout: 5000 }).openPipeline(`127.0.0.1:${port}`, { waitForKeepAlive: false });
  t.teardown(async () => {
    await pipeline.close();
    await server.close();
  });
  const tags = Array.from({ length: N }, (_, i) => `tls ${i}`);
  t.same(await Promise.all(tags.map((tag) => pipeline.request('/RPC2', dumps([tag], 'latch')))), tags);
  t.equal(server.connectionCount, 1, 'one TLS connection');
});

t.test('a connection killed after some answers: the written calls left fail with requestSent true, never re-sent', async (t) => {
  const N = 5;
  const s = await scriptedServer((request) => {
    if (s.requests.length < N) return;
    // Answer the first two, then kill the connection.
    request.socket.write(Buffer.concat(s.requests.slice(0, 2).map((r) => answer(r))), () => request.socket.destroy());
  });
  const pipeline = new Transport({ timeout: 3000 }).openPipeline(`127.0.0.1:${s.port}`, { waitForKeepAlive: false });
  t.teardown(async () => {
    await pipeline.close();
    await s.close();
  });
  const outcomes = await Promise.all(Array.from({ length: N }, (_, i) => outcome(pipeline.request('/RPC2', echo(`k${i}`)))));
  t.same(
    outcomes.slice(0, 2).map((o) => o.value),
    ['k0', 'k1'],
    'the answered calls succeed',
  );
  for (let i = 2; i < N; i++) {
    lostError(t, outcomes[i]!, true, `call ${i}`);
    t.match(outcomes[i]!.error!.message, /written whole: the call may have run; not retried/);
  }
  t.equal(s.requests.length, N, 'the server got every request whole, as requestSent says');
  t.equal(s.connections, 1, 'nothing was re-sent on another connection');
});

t.test('a connection killed while a request is being written: that call did not run, and the calls not yet written go on a new connection', async (t) => {
  // The first connection reads nothing: the client's big write cannot complete.
  const s = await stallingServer();
  const pipeline = new Transport({ timeout: 5000 }).openPipeline(`127.0.0.1:${s.port}`, { waitForKeepAlive: false });
  t.teardown(async () => {
    await pipeline.close();
    await s.close();
  });
  const big = outcome(pipeline.request('/RPC2', echo('x'.repeat(48 * 1024 * 1024))));
  const small = [pipeline.request('/RPC2', echo('s1')), pipeline.request('/RPC2', echo('s2'))];
  await pollUntil(() => pipeline.stats().inFlight === 1 && pipeline.stats().queued === 2, 'the big write to stall with two calls queued');
  s.stalled()!.destroy();
  const bigOutcome = await big;
  lostError(t, bigOutcome, false, 'the call being written');
  t.match(bigOutcome.error!.message, /before this request was written whole: the call did not run/);
  t.same(await Promise.all(small), ['s1', 's2'], 'the queued calls were never written, so they went on a new connection');
  t.equal(s.requests.filter((r) => r.connection === 0).length, 0, 'the server never had the big request whole');
  t.equal(s.connections, 2);
});

t.test('Connection: close after an answer: calls written after it fail with requestSent true; calls not yet written go on a new connection', async (t) => {
  const s = await scriptedServer((request) => {
    if (request.connection > 0) {
      request.socket.write(answer(request));
      return;
    }
    if (s.requests.length < 4) return;
    // The first two answers in one write, the second saying close; the other two are never answered.
    const [a, b] = s.requests;
    request.socket.end(Buffer.concat([answer(a!), answer(b!, { Connection: 'close' })]));
  });
  const pipeline = new Transport({ timeout: 3000 }).openPipeline(`127.0.0.1:${s.port}`, { waitForKeepAlive: false, depth: 4 });
  t.teardown(async () => {
    await pipeline.close();
    await s.close();
  });
  const outcomes = await Promise.all(Array.from({ length: 6 }, (_, i) => outcome(pipeline.request('/RPC2', echo(`c${i}`)))));
  t.same(
    outcomes.slice(0, 2).map((o) => o.value),
    ['c0', 'c1'],
  );
  for (const i of [2, 3]) {
    lostError(t, outcomes[i]!, true, `call ${i}, written after the close`);
    t.match(outcomes[i]!.error!.message, /Connection: close/);
  }
  t.same(
    outcomes.slice(4).map((o) => o.value),
    ['c4', 'c5'],
    'calls beyond the depth were not written yet: they went on a new connection',
  );
  t.equal(s.connections, 2);
});

t.test('a server that closes after every response (HTTP/1.0) costs one connection per call, and every call succeeds', async (t) => {
  const s = await scriptedServer((request) => {
    const { params } = loads(request.body);
    request.socket.end(`HTTP/1.0 200 OK\r\nContent-Type: text/xml\r\n\r\n${xmlResult(`<string>${params[0] as string}</string>`)}`);
  });
  const pipeline = new Transport({ timeout: 3000 }).openPipeline(`127.0.0.1:${s.port}`);
  t.teardown(async () => {
    await pipeline.close();
    await s.close();
  });
  const tags = ['a', 'b', 'c', 'd'];
  t.same(await Promise.all(tags.map((tag) => pipeline.request('/RPC2', echo(tag)))), tags);
  t.equal(s.connections, 4, 'one request per connection: nothing was written behind a response that closed');
});

t.test('a call that times out is dropped: its response is read and discarded, the calls behind it get their own', async (t) => {
  const s = await scriptedServer((request) => {
    if (request.index >= 3) request.socket.write(answer(request)); // the first three are answered by the test
  });
  const clock = new ManualClock();
  const pipeline = new Transport({ clock }).openPipeline(`127.0.0.1:${s.port}`, { waitForKeepAlive: false });
  t.teardown(async () => {
    await pipeline.close();
    await s.close();
  });
  const slow = outcome(pipeline.request('/RPC2', echo('slow'), { timeout: 20 }));
  const next = [pipeline.request('/RPC2', echo('n1')), pipeline.request('/RPC2', echo('n2'))];
  await pollUntil(() => s.requests.length === 3, 'three requests at the server');
  clock.advance(20);
  const timedOut = await slow;
  t.type(timedOut.error, TransportError);
  t.equal((timedOut.error as TransportError).code, TransportErrorCode.TIMEOUT);
  t.equal((timedOut.error as TransportError).requestSent, true, 'it was written: it may have run');
  await pollUntil(() => s.requests.length === 3, 'three requests at the server');
  s.requests[0]!.socket.write(Buffer.concat(s.requests.map((r) => answer(r))));
  t.same(await Promise.all(next), ['n1', 'n2']);
  t.equal(await pipeline.request('/RPC2', echo('after')), 'after', 'the connection is still good');
  t.equal(s.connections, 1);
});

t.test('a call waiting for a slot under depth is timed from its write: 4 one-second calls at depth 2 with a 1.5 s timeout all answer', async (t) => {
  const clock = new ManualClock();
  const { server, port, received } = await oneSecondServer(clock);
  const pipeline = new Transport({ clock, timeout: 1500 }).openPipeline(`127.0.0.1:${port}`, { depth: 2, waitForKeepAlive: false });
  t.teardown(async () => {
    await pipeline.close();
    await server.close();
  });
  const tags = ['a', 'b', 'c', 'd'];
  const calls = Promise.all(tags.map((tag) => outcome(pipeline.request('/RPC2', dumps([tag], 'second')))));
  await pollUntil(() => received() === 2, 'two calls running at the server');
  t.same(pipeline.stats(), { queued: 2, inFlight: 2, connected: true }, 'the other two wait for a slot');
  clock.advance(1000);
  await pollUntil(() => received() === 4, 'the other two written once the first two were answered');
  // They end at 2 s of the clock, past a deadline counted from the call's start (1.5 s).
  clock.advance(1000);
  t.same(
    (await calls).map((o) => o.value ?? o.error),
    tags,
    'every call answered',
  );
  t.equal(server.connectionCount, 1, 'one connection');
});

t.test('when every call on a connection has given up, the connection is closed', async (t) => {
  const s = await scriptedServer(() => {});
  const pipeline = new Transport().openPipeline(`127.0.0.1:${s.port}`, { waitForKeepAlive: false });
  t.teardown(async () => {
    await pipeline.close();
    await s.close();
  });
  const controller = new AbortController();
  const calls = [1, 2].map((i) => outcome(pipeline.request('/RPC2', echo(`g${i}`), { signal: controller.signal })));
  await pollUntil(() => s.requests.length === 2, 'both requests at the server');
  controller.abort(new Error('enough'));
  for (const o of await Promise.all(calls)) {
    t.equal((o.error as TransportError).code, TransportErrorCode.ABORTED);
    t.equal((o.error as TransportError).requestSent, true);
  }
  await pollUntil(() => s.closed === 1, 'the server to see the close');
  t.equal(pipeline.stats().connected, false);
});

t.test('aborting a call that is queued (not written yet) takes it out: it never reaches the server', async (t) => {
  const s = await scriptedServer(() => {});
  const pipeline = new Transport().openPipeline(`127.0.0.1:${s.port}`); // waits for keep-alive: the second call is queued
  t.teardown(async () => {
    await pipeline.close();
    await s.close();
  });
  const controller = new AbortController();
  const first = pipeline.request('/RPC2', echo('first'));
  const second = outcome(pipeline.request('/RPC2', echo('second'), { signal: controller.signal }));
  await pollUntil(() => s.requests.length === 1 && pipeline.stats().queued === 1, 'one written, one queued');
  controller.abort();
  const o = await second;
  t.equal((o.error as TransportError).code, TransportErrorCode.ABORTED);
  t.equal((o.error as TransportError).requestSent, false, 'never written');
  s.requests[0]!.socket.write(answer(s.requests[0]!));
  t.equal(await first, 'first');
  t.equal(s.requests.length, 1, 'the aborted call never reached the server');
});

t.test('a malformed response fails its call with ResponseError and the calls behind it with CONNECTION_LOST', async (t) => {
  const s = await scriptedServer((request) => {
    if (s.requests.length < 3) return;
    const [a] = s.requests;
    request.socket.write(Buffer.concat([answer(a!), Buffer.from('HTTP/1.1 2x0 Nope\r\n\r\n')]));
  });
  const pipeline = new Transport({ timeout: 3000 }).openPipeline(`127.0.0.1:${s.port}`, { waitForKeepAlive: false });
  t.teardown(async () => {
    await pipeline.close();
    await s.close();
  });
  const [a, b, c] = await Promise.all(['m0', 'm1', 'm2'].map((tag) => outcome(pipeline.request('/RPC2', echo(tag)))));
  t.equal(a!.value, 'm0');
  t.type(b!.error, ResponseError, 'the call whose response is malformed');
  lostError(t, c!, true, 'the call behind it');
});

t.test('bytes nobody asked for close an idle connection, and the next call opens a new one', async (t) => {
  const s = await scriptedServer((request) => request.socket.write(answer(request)));
  const pipeline = new Transport({ timeout: 3000 }).openPipeline(`127.0.0.1:${s.port}`);
  t.teardown(async () => {
    await pipeline.close();
    await s.close();
  });
  t.equal(await pipeline.request('/RPC2', echo('one')), 'one');
  // Once the call has its answer, the server speaks up on the idle connection.
  s.requests[0]!.socket.write('HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\n\r\n');
  await pollUntil(() => s.closed === 1, 'the unsolicited 408 to close the connection');
  t.equal(await pipeline.request('/RPC2', echo('two')), 'two');
  t.equal(s.connections, 2);
});

t.test('a refused connection fails every queued call with CONNECT, requestSent false', async (t) => {
  const port = await closedPort();
  const pipeline = new Transport().openPipeline(`127.0.0.1:${port}`);
  const outcomes = await Promise.all(['a', 'b'].map((tag) => outcome(pipeline.request('/RPC2', echo(tag)))));
  for (const o of outcomes) {
    t.equal((o.error as TransportError).code, TransportErrorCode.CONNECT);
    t.equal((o.error as TransportError).requestSent, false);
  }
  await pipeline.close();
});

t.test('without keep-alive each call gets its own connection', async (t) => {
  const s = await demoServer();
  const pipeline = new Transport({ keepAlive: false }).openPipeline(`127.0.0.1:${s.port}`);
  t.teardown(async () => {
    await pipeline.close();
    await s.close();
  });
  t.equal(pipeline.depth, 1);
  t.same(await Promise.all([1, 2, 3].map((n) => pipeline.request('/RPC2', dumps([n, n], 'add')))), [2, 4, 6]);
  t.equal(s.sockets(), 3);
  t.ok(s.requests.every((r) => r.header('connection') === 'close'));
});

t.test('close() lets the calls accepted finish, refuses new ones, and leaves no socket or timer', async (t) => {
  const s = await demoServer();
  t.teardown(() => s.close());
  const sockets = resources('TCPSocketWrap');
  const timers = resources('Timeout');
  const pipeline = new Transport({ timeout: 3000 }).openPipeline(`127.0.0.1:${s.port}`);
  const calls = [1, 2, 3].map((n) => pipeline.request('/RPC2', dumps([n, 1], 'add')));
  const closed = pipeline.close();
  const refused = await outcome(pipeline.request('/RPC2', dumps([1, 1], 'add')));
  t.equal((refused.error as TransportError).requestSent, false, 'a call after close() is refused, not sent');
  t.same(await Promise.all(calls), [2, 3, 4]);
  await closed;
  t.same(pipeline.stats(), { queued: 0, inFlight: 0, connected: false });
  await pollUntil(() => resources('TCPSocketWrap') <= sockets && resources('Timeout') <= timers, 'sockets and timers to be gone');
  t.pass('no socket and no timer left');
});

t.test('destroy() fails the calls on the wire as a lost connection and the queued ones as not sent', async (t) => {
  const s = await scriptedServer(() => {});
  const pipeline = new Transport().openPipeline(`127.0.0.1:${s.port}`);
  t.teardown(() => s.close());
  const written = outcome(pipeline.request('/RPC2', echo('w')));
  const queued = outcome(pipeline.request('/RPC2', echo('q')));
  await pollUntil(() => s.requests.length === 1, 'the first request at the server');
  await pipeline.destroy();
  lostError(t, await written, true, 'written');
  lostError(t, await queued, false, 'queued');
  t.type(pipeline, Pipeline);
});

t.test('a response cut short by the server fails its call as incomplete (requestSent true); one over maxResponseBytes is a ResponseError', async (t) => {
  const s = await scriptedServer((request) => {
    const full = answer(request);
    if (request.index === 0) request.socket.write(full.subarray(0, full.length - 10), () => request.socket.destroy());
  });
  const pipeline = new Transport({ timeout: 3000 }).openPipeline(`127.0.0.1:${s.port}`);
  const cut = await outcome(pipeline.request('/RPC2', echo('cut')));
  lostError(t, cut, true, 'the call whose response was cut');
  t.match(cut.error!.message, /before the whole response arrived/);
  await pipeline.close();
  await s.close();

  const big = await scriptedServer((request) => request.socket.write(answer(request)));
  const small = new Transport({ maxResponseBytes: 100 }).openPipeline(`127.0.0.1:${big.port}`);
  const tooLarge = await outcome(small.request('/RPC2', echo('y'.repeat(500))));
  t.type(tooLarge.error, ResponseError);
  t.match(tooLarge.error!.message, /too large/);
  await small.close();
  await big.close();
});

t.test('aborting a call whose request is still being written: not sent if the connection closes with it, sent if another call keeps it open', async (t) => {
  const s = await scriptedServer(
    () => {},
    (socket) => socket.pause(), // reads nothing: a big write cannot complete
  );
  t.teardown(() => s.close());
  const huge = echo('z'.repeat(48 * 1024 * 1024));

  // Alone on its connection: the abort closes the connection, so the write never completes.
  const alone = new Transport().openPipeline(`127.0.0.1:${s.port}`, { waitForKeepAlive: false });
  const controller = new AbortController();
  const aloneCall = outcome(alone.request('/RPC2', huge, { signal: controller.signal }));
  await pollUntil(() => alone.stats().inFlight === 1 && s.connections === 1, 'the big write to be under way');
  controller.abort();
  const a = await aloneCall;
  t.equal((a.error as TransportError).code, TransportErrorCode.ABORTED);
  t.equal((a.error as TransportError).requestSent, false, 'the connection closed with it: it never arrived whole');
  await pollUntil(() => !alone.stats().connected, 'the connection to close');

  // Behind a written call that still waits: the connection stays, and so does the write.
  const shared = new Transport().openPipeline(`127.0.0.1:${s.port}`, { waitForKeepAlive: false });
  const first = outcome(shared.request('/RPC2', echo('small')));
  const second = new AbortController();
  const secondCall = outcome(shared.request('/RPC2', huge, { signal: second.signal }));
  await pollUntil(() => shared.stats().inFlight === 2, 'both on the wire');
  second.abort();
  const b = await secondCall;
  t.equal((b.error as TransportError).requestSent, true, 'the write goes on: it may arrive and run');
  t.equal(shared.stats().connected, true, 'the connection stays for the first call');
  await shared.destroy();
  lostError(t, await first, true, 'the first call, when the pipeline is destroyed');
});

t.test('aborting the only call while the connection is being made abandons the connect: no socket left', async (t) => {
  const silent = await silentServer(); // accepts, never completes a TLS handshake
  t.teardown(() => silent.close());
  const pipeline = new Transport({ secure: true, connectTimeout: 0 }).openPipeline(`127.0.0.1:${silent.port}`);
  const controller = new AbortController();
  const call = outcome(pipeline.request('/RPC2', echo('x'), { signal: controller.signal }));
  await pollUntil(() => silent.connections() === 1, 'the TCP connection');
  t.equal(pipeline.stats().connected, true, 'connecting');
  controller.abort();
  t.equal(((await call).error as TransportError).requestSent, false);
  await pollUntil(() => silent.closed() === 1, 'the abandoned socket to close');
  t.equal(pipeline.stats().connected, false);
  await pipeline.close();
});

t.test('an idle pipelined connection is closed after idleTimeout', async (t) => {
  const s = await demoServer();
  t.teardown(() => s.close());
  const clock = new ManualClock();
  const pipeline = new Transport({ clock }).openPipeline(`127.0.0.1:${s.port}`, { idleTimeout: 20 });
  t.equal(await pipeline.request('/RPC2', dumps([1, 2], 'add')), 3);
  await pollUntil(() => clock.pending === 1, 'the idle timer armed (the connection parked)');
  clock.advance(19);
  t.equal(pipeline.stats().connected, true, 'still open 1 ms before idleTimeout');
  clock.advance(1);
  await pollUntil(() => !pipeline.stats().connected, 'the idle connection to close');
  t.equal(await pipeline.request('/RPC2', dumps([2, 2], 'add')), 4, 'the next call opens a new one');
  t.equal(s.sockets(), 2);
  await pipeline.close();
});

t.test('openPipeline refuses a bad depth or idleTimeout with a RangeError naming it', async (t) => {
  const transport = new Transport();
  for (const depth of [0, -1, 1.5, NaN, Infinity]) {
    t.throws(() => transport.openPipeline('127.0.0.1:1', { depth }), { name: 'RangeError', message: /^depth must be a positive integer/ }, String(depth));
  }
  for (const idleTimeout of [-1, NaN, Infinity, 3e9]) {
    t.throws(() => transport.openPipeline('127.0.0.1:1', { idleTimeout }), { name: 'RangeError', message: /^idleTimeout must be/ }, String(idleTimeout));
  }
  t.equal(transport.openPipeline('127.0.0.1:1', { depth: undefined, idleTimeout: undefined }).depth, 32, 'undefined: the defaults');
});

t.test("a call on a pipeline with no connection starts connecting in the caller's turn, before the next call is prepared", async (t) => {
  // runJobs prepares a batch's calls one after another: a connect left for a later turn would wait for all of them.
  const s = await demoServer();
  const order: string[] = [];
  class Recording extends Transport {
    protected override connect(req: Parameters<Transport['connect']>[0]): Promise<net.Socket> {
      order.push('connect');
      return super.connect(req);
    }
  }
  const transport = new Recording({ timeout: 3000 });
  const pipeline = transport.openPipeline(`127.0.0.1:${s.port}`);
  t.teardown(async () => {
    await pipeline.close();
    await s.close();
  });
  const first = pipeline.request('/RPC2', dumps([1, 2], 'add'));
  order.push('returned');
  t.same(order, ['connect', 'returned'], 'the connect step ran before request() returned');
  t.equal(await first, 3);
});

t.test('calls queued together are written together: one socket write for the batch, each call still answered in order', async (t) => {
  const s = await demoServer();
  const writes: number[] = [];
  class Counting extends Transport {
    protected override async connect(req: Parameters<Transport['connect']>[0]): Promise<net.Socket> {
      const socket = await super.connect(req);
      // Writable's own hooks: one call per write that reaches the socket, with how many requests it carries.
      const write = socket._write.bind(socket);
      const writev = socket._writev!.bind(socket);
      socket._write = (chunk, encoding, callback) => {
        writes.push(1);
        write(chunk, encoding, callback);
      };
      socket._writev = (chunks, callback) => {
        writes.push(chunks.length);
        writev(chunks, callback);
      };
      return socket;
    }
  }
  const pipeline = new Counting({ timeout: 3000 }).openPipeline(`127.0.0.1:${s.port}`, { waitForKeepAlive: false });
  t.teardown(async () => {
    await pipeline.close();
    await s.close();
  });
  const sums = await Promise.all(Array.from({ length: 8 }, (_, i) => pipeline.request('/RPC2', dumps([i, 1], 'add'))));
  t.same(
    sums,
    Array.from({ length: 8 }, (_, i) => i + 1),
    'each call got its own answer',
  );
  t.same(writes, [8], 'the 8 requests left in one write');
});

t.test('a connection killed while a batch of requests is being written: each request of the batch may have run, so each says requestSent true', async (t) => {
  // Which requests of a write the kernel took only in part left whole is not known: none may claim it did not run.
  // The first connection reads nothing: the kernel's buffers fill, then a batch stays half written.
  const s = await stallingServer();
  const pipeline = new Transport({ timeout: 20_000 }).openPipeline(`127.0.0.1:${s.port}`, { waitForKeepAlive: false, depth: 100_000 });
  t.teardown(async () => {
    await pipeline.close();
    await s.close();
  });
  // About 5 KiB each: three to a batch. 6,000 of them (30 MiB) are more than loopback's buffers hold.
  const calls = Array.from({ length: 6000 }, (_, i) => outcome(pipeline.request('/RPC2', echo(`${i} ${'x'.repeat(5000)}`))));
  await pollUntil(() => pipeline.stats().queued > 0 && pipeline.stats().inFlight > 0, 'the writes to stall with calls still queued', 10_000);
  s.stalled()!.destroy();
  const outcomes = await Promise.all(calls);
  const failed = outcomes.filter((o) => o.error !== undefined);
  t.ok(failed.length > 0, `the calls on the killed connection failed (${failed.length})`);
  t.ok(
    failed.every((o) => o.error instanceof TransportError && o.error.code === TransportErrorCode.CONNECTION_LOST && o.error.requestSent),
    'each with CONNECTION_LOST and requestSent true',
  );
  t.ok(
    outcomes.slice(failed.length).every((o) => o.value !== undefined),
    'the calls never written went on a new connection and were answered',
  );
  t.equal(s.connections, 2);
});
