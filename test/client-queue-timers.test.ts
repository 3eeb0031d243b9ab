// Calls waiting for a connection (the pool's waiters at its socket limit, a
// Pipeline's queue) are timed by one timer per queue, armed for the earliest
// deadline, never by a timer per call: against a server that accepts and
// never answers, 50 calls keep a small, constant number of timers armed, and
// advancing the clock times them out in deadline order. Calls a Pipeline
// holds back behind a call on its open connection keep no timer at all until
// that call has timed out.

import t, { type Test } from 'tap';
import * as net from 'node:net';
import { Transport, type OutgoingRequest } from '../lib/client/transport.js';
import { TransportError, TransportErrorCode } from '../lib/errors.js';
import { dumps } from '../lib/xmlrpc/encode.js';
import { ManualClock, pollUntil, turns } from './support.js';

const CALLS = 50;

/** A raw server on 127.0.0.1 port 0 that accepts and never answers; counts the bytes it receives. */
async function silentServer(t: Test): Promise<{ port: number; received: () => number }> {
  const sockets = new Set<net.Socket>();
  let received = 0;
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('data', (chunk: Buffer) => (received += chunk.length));
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { port: (server.address() as net.AddressInfo).port, received: () => received };
}

/**
 * The timeout of call i: call 0 (the one written) outlasts the others; the
 * queued calls' deadlines are 1000..1480 ms, distinct, in an order that is not
 * the order they were made in.
 */
function timeoutOf(i: number): number {
  return i === 0 ? 10_000 : 1000 + ((i * 7) % (CALLS - 1)) * 10;
}

/** Makes the calls; each failure is recorded in the order it arrives. */
function makeCalls(send: (i: number) => Promise<unknown>): { order: number[]; errors: Promise<Error[]> } {
  const order: number[] = [];
  const errors = Promise.all(
    Array.from({ length: CALLS }, (_, i) =>
      send(i).then(
        () => new Error(`call ${i} succeeded`),
        (err: Error) => {
          order.push(i);
          return err;
        },
      ),
    ),
  );
  return { order, errors };
}

/** Advances in steps of 10 ms to 1500, checking the timers armed stay few, then past the last deadline. */
function advanceAll(t: Test, clock: ManualClock, most: number): void {
  let peak = clock.pending;
  for (let ms = 0; ms < 1500; ms += 10) {
    clock.advance(10);
    peak = Math.max(peak, clock.pending);
  }
  t.ok(peak <= most, `at most ${most} timers armed while the queue drains (peak ${peak})`);
  clock.advance(10_000);
}

/** The calls in the order of their timeouts; `first` ahead of them all. */
function byDeadline(first?: number): number[] {
  const rest = Array.from({ length: CALLS }, (_, i) => i).filter((i) => i !== first);
  rest.sort((a, b) => timeoutOf(a) - timeoutOf(b));
  return first === undefined ? rest : [first, ...rest];
}

async function checkOutcome(t: Test, clock: ManualClock, calls: { order: number[]; errors: Promise<Error[]> }, order: number[]): Promise<void> {
  const errors = await calls.errors;
  for (const [i, err] of errors.entries()) {
    t.match(err, { constructor: TransportError, code: TransportErrorCode.TIMEOUT, requestSent: i === 0 }, `call ${i}: TIMEOUT, requestSent ${i === 0}`);
  }
  t.same(calls.order, order, 'the calls timed out in deadline order');
  t.equal(clock.pending, 0, 'nothing left armed');
}

t.test('50 calls waiting for a pool of one socket keep one timer for the queue, and time out in deadline order', async (t) => {
  const s = await silentServer(t);
  const clock = new ManualClock();
  const transport = new Transport({ maxSocketsPerHost: 1, clock });
  t.teardown(() => transport.close());
  const host = `127.0.0.1:${s.port}`;
  const calls = makeCalls((i) => transport.request(host, '/RPC2', dumps([i], 'hang'), { timeout: timeoutOf(i) }));
  await pollUntil(() => s.received() > 0 && transport.stats().waiting === CALLS - 1, 'one call written, the others waiting for the socket');
  t.equal(clock.pending, 2, "two timers: the connection's (the call written) and the waiters' queue");
  advanceAll(t, clock, 2);
  await checkOutcome(t, clock, calls, byDeadline());
  await pollUntil(() => transport.stats().open === 0, 'the socket to close');
  t.same(transport.stats(), { open: 0, idle: 0, waiting: 0 });
});

t.test("50 calls held back in a pipeline's queue keep no timer while the call ahead may be answered, then time out in deadline order", async (t) => {
  const s = await silentServer(t);
  const clock = new ManualClock();
  const transport = new Transport({ clock });
  const pipeline = transport.openPipeline(`127.0.0.1:${s.port}`);
  t.teardown(() => pipeline.destroy());
  // A new connection carries one request until a response shows keep-alive: the other 49 stay queued.
  const calls = makeCalls((i) => pipeline.request('/RPC2', dumps([i], 'hang'), { timeout: timeoutOf(i) }));
  await pollUntil(() => s.received() > 0 && pipeline.stats().queued === CALLS - 1, 'one call written, the others queued');
  t.same(pipeline.stats(), { queued: CALLS - 1, inFlight: 1, connected: true });
  t.equal(clock.pending, 1, "one timer: the connection's (the call written); the calls held back behind it keep none");
  let peak = clock.pending;
  for (let ms = 0; ms < 1500; ms += 10) {
    clock.advance(10);
    peak = Math.max(peak, clock.pending);
  }
  await turns();
  t.equal(peak, 1, 'still one timer');
  t.same(calls.order, [], "past every queued call's timeout, none has timed out: the time held back does not count");
  // From here on the clock only moves synchronously: no new connection can take call 1 meanwhile.
  clock.advance(10_000 - 1500);
  advanceAll(t, clock, 2);
  await checkOutcome(t, clock, calls, byDeadline(0));
  await pollUntil(() => !pipeline.connected, 'the socket to close');
  t.same(pipeline.stats(), { queued: 0, inFlight: 0, connected: false });
  await pipeline.close();
});

t.test("a pipeline's connect that hangs is given up once its queued calls have timed out, each at its own deadline", async (t) => {
  const clock = new ManualClock();
  const aborted: unknown[] = [];
  class Hanging extends Transport {
    protected override connect(req: OutgoingRequest): Promise<net.Socket> {
      return new Promise((_resolve, reject) =>
        req.signal.addEventListener('abort', () => {
          aborted.push(req.signal.reason);
          reject(req.signal.reason as Error);
        }),
      );
    }
  }
  const transport = new Hanging({ clock, connectTimeout: 10_000 });
  const pipeline = transport.openPipeline('127.0.0.1:9'); // never dialled: the connect step hangs
  t.teardown(() => pipeline.destroy());
  const calls = makeCalls((i) => pipeline.request('/RPC2', dumps([i], 'x'), { timeout: i === 0 ? 300 : 100 * i }));
  await pollUntil(() => pipeline.stats().queued === CALLS, 'every call queued');
  t.same(pipeline.stats(), { queued: CALLS, inFlight: 0, connected: true });
  t.equal(clock.pending, 2, "two timers: the queue's, and the connection's connect timeout");
  clock.advance(299);
  t.same(pipeline.stats(), { queued: CALLS - 2, inFlight: 0, connected: true }, 'calls 1 and 2 timed out; the connect goes on while others wait');
  t.equal(aborted.length, 0);
  t.equal(clock.pending, 2);
  clock.advance(100 * CALLS);
  t.equal(aborted.length, 1, 'the last call gone: the connect is given up, before the connect timeout');
  const errors = await calls.errors;
  for (const [i, err] of errors.entries()) t.match(err, { constructor: TransportError, code: TransportErrorCode.TIMEOUT, requestSent: false }, `call ${i}`);
  t.same(calls.order.slice(0, 3), [1, 2, 0], 'in deadline order');
  t.equal(pipeline.connected, false);
  t.equal(clock.pending, 0, 'nothing left armed');
});
