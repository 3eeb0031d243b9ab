// ClientConnection (lib/client/connection.ts), fed by a raw loopback socket
// the test writes exact bytes to: one exchange at a time (depth 1) and a
// pipelined queue (depth N), responses delivered in order, stray bytes
// closing the connection, the quiet turn a reused connection owes, and the
// one timer re-armed by kind, watched on a ManualClock.

import t, { type Test } from 'tap';
import * as net from 'node:net';
import { ClientConnection, type ConnectionOptions } from '../lib/client/connection.js';
import type { IncomingResponse } from '../lib/client/request.js';
import { TransportError, TransportErrorCode } from '../lib/errors.js';
import { ManualClock, pollUntil } from './support.js';

const REQUEST = Buffer.from('POST /RPC2 HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n', 'latin1');

function response(body: string, headers = ''): string {
  return `HTTP/1.1 200 OK\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${headers}\r\n${body}`;
}

interface Peer {
  /** The server's end: the test writes responses to it. */
  socket: net.Socket;
  /** Requests received so far (each starts with 'POST '). */
  requests(): number;
  closed(): boolean;
}

/** A connected ClientConnection and the server end of its socket. */
async function connected(t: Test, options: Partial<ConnectionOptions> = {}): Promise<{ conn: ClientConnection; peer: Peer; clock: ManualClock }> {
  let received = '';
  let peerClosed = false;
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as net.AddressInfo;
  const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
  const clock = (options.clock as ManualClock | undefined) ?? new ManualClock();
  const conn = new ClientConnection('http://127.0.0.1:0', { depth: 1, waitForKeepAlive: false, maxResponseBytes: 1 << 20, ...options, clock });
  const open = () =>
    new Promise<net.Socket>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => resolve(socket));
    });
  await conn.connect(open, { signal: new AbortController().signal, timeout: 0, url: 'http://127.0.0.1/RPC2' });
  const socket = await accepted;
  server.close();
  socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
  socket.on('error', () => {});
  socket.on('close', () => (peerClosed = true));
  t.teardown(() => {
    conn.destroy();
    socket.destroy();
  });
  return { conn, clock, peer: { socket, requests: () => received.split('POST ').length - 1, closed: () => peerClosed } };
}

/** Sends REQUEST; the promise settles as the connection settles the exchange. */
function send(conn: ClientConnection, signal = new AbortController().signal, deadline: { at: number; expire(): void } | null = null) {
  let exchange!: ReturnType<ClientConnection['send']>;
  const settled = new Promise<IncomingResponse>((resolve, reject) => {
    exchange = conn.send('http://127.0.0.1/RPC2', REQUEST, signal, deadline, (err, res) => (err === null ? resolve(res!) : reject(err)));
  });
  settled.catch(() => {});
  return { exchange, settled };
}

t.test('depth 1: one exchange, its response delivered, and the connection reusable after a keep-alive answer', async (t) => {
  const { conn, peer } = await connected(t);
  t.equal(conn.canWrite(), true, 'a fresh connection takes a request at once');
  const { settled } = send(conn);
  t.equal(conn.canWrite(), false, 'no second request while one is in flight at depth 1');
  await pollUntil(() => peer.requests() === 1, 'the request at the peer');
  peer.socket.write(response('one'));
  const r = await settled;
  t.equal(r.status, 200);
  t.equal(r.body.toString(), 'one');
  t.equal(conn.exchanges, 1);
  t.equal(conn.reusable, true, 'keep-alive: fit for the pool');
});

t.test('depth N: requests are written before any response, and responses are delivered in request order', async (t) => {
  const { conn, peer } = await connected(t, { depth: 3 });
  const calls = [send(conn), send(conn), send(conn)];
  t.equal(conn.size, 3);
  t.equal(conn.canWrite(), false, 'at depth');
  await pollUntil(() => peer.requests() === 3, 'three requests at the peer before any answer');
  peer.socket.write(response('a') + response('bb') + response('ccc'));
  const bodies = (await Promise.all(calls.map((c) => c.settled))).map((r) => r.body.toString());
  t.same(bodies, ['a', 'bb', 'ccc']);
  t.equal(conn.size, 0);
});

t.test('with waitForKeepAlive a new connection carries one request until a response shows keep-alive', async (t) => {
  const { conn, peer } = await connected(t, { depth: 4, waitForKeepAlive: true });
  const first = send(conn);
  t.equal(conn.canWrite(), false, 'one request until keep-alive is shown');
  await pollUntil(() => peer.requests() === 1, 'the first request');
  peer.socket.write(response('k'));
  await first.settled;
  t.equal(await conn.whenWritable(), true, 'keep-alive shown (after the quiet turn)');
  send(conn);
  t.equal(conn.canWrite(), true, 'then the others go without waiting for answers');
});

t.test('bytes that arrive with nothing in flight close the connection', async (t) => {
  let closedBy = 0;
  const { conn, peer } = await connected(t, { onClose: () => closedBy++ });
  const { settled } = send(conn);
  await pollUntil(() => peer.requests() === 1, 'the request');
  peer.socket.write(response('answer'));
  t.equal((await settled).body.toString(), 'answer');
  peer.socket.write(response('stray'));
  await pollUntil(() => conn.closed, 'the stray response to close the connection');
  t.equal(closedBy, 1, 'onClose called once');
  t.equal(conn.reusable, false);
});

t.test('a response beyond the ones awaited closes the connection after the awaited one is delivered', async (t) => {
  const { conn, peer } = await connected(t, { depth: 2 });
  const calls = [send(conn), send(conn)];
  await pollUntil(() => peer.requests() === 2, 'two requests');
  peer.socket.write(response('a') + response('b') + response('extra'));
  t.same(
    (await Promise.all(calls.map((c) => c.settled))).map((r) => r.body.toString()),
    ['a', 'b'],
  );
  await pollUntil(() => conn.closed, 'the extra response to close the connection');
});

t.test('the start of a response nobody asked for, in the same chunk as an answer, closes the connection', async (t) => {
  const { conn, peer } = await connected(t);
  const { settled } = send(conn);
  await pollUntil(() => peer.requests() === 1, 'the request');
  peer.socket.write(response('answer') + 'HTTP/1.1 200 OK\r\n');
  t.equal((await settled).body.toString(), 'answer');
  await pollUntil(() => conn.closed, 'the partial stray to close the connection');
});

t.test('a reused connection owes a quiet turn: no write until a poll phase has passed, then onWritable', async (t) => {
  let writable = 0;
  const { conn, peer } = await connected(t, { onWritable: () => writable++ });
  const { settled } = send(conn);
  await pollUntil(() => peer.requests() === 1, 'the request');
  peer.socket.write(response('one'));
  await settled;
  const before = writable;
  t.equal(conn.canWrite(), false, 'not at once after an answer');
  t.equal(await conn.whenWritable(), true, 'after the quiet turn');
  t.ok(writable > before, 'onWritable told the owner');
  t.equal(conn.canWrite(), true);
});

t.test('a stray sent before the quiet turn ends is seen: the connection cannot carry the next request', async (t) => {
  const { conn, peer } = await connected(t);
  const { settled } = send(conn);
  await pollUntil(() => peer.requests() === 1, 'the request');
  peer.socket.write(response('one'));
  await settled;
  await new Promise<void>((resolve) => peer.socket.write(response('stray'), () => resolve()));
  t.equal(await conn.whenWritable(), false, 'the stray closed it first');
  t.equal(peer.requests(), 1, 'no second request was written');
});

t.test('one timer, re-armed by kind: response (the earliest deadline), then idle; none while nothing is due', async (t) => {
  const { conn, peer, clock } = await connected(t, { depth: 2 });
  t.equal(clock.pending, 0, 'connected, nothing in flight: no timer');
  const expired: string[] = [];
  const c1 = new AbortController();
  const c2 = new AbortController();
  const a = send(conn, c1.signal, { at: 50, expire: () => (expired.push('a'), c1.abort(new Error('a timed out'))) });
  const b = send(conn, c2.signal, { at: 30, expire: () => (expired.push('b'), c2.abort(new Error('b timed out'))) });
  t.equal(clock.pending, 1, 'two calls in flight, one timer');
  clock.advance(30);
  t.same(expired, ['b'], 'the earlier deadline first');
  await t.rejects(b.settled, { message: 'b timed out' });
  t.equal(clock.pending, 1, 're-armed for the other deadline');
  await pollUntil(() => peer.requests() === 2, 'both requests');
  peer.socket.write(response('a') + response('dropped'));
  t.equal((await a.settled).body.toString(), 'a', "the abandoned call's response is read and dropped");
  t.equal(clock.pending, 0, 'answered: disarmed');
  conn.park(1000);
  t.equal(clock.pending, 1, 'parked: the idle timer');
  t.equal(conn.take(), true);
  t.equal(clock.pending, 0, 'taken: disarmed');
  conn.park(1000);
  clock.advance(999);
  t.equal(conn.closed, false);
  clock.advance(1);
  await pollUntil(() => conn.closed && peer.closed(), 'the idle timeout to close it');
});

t.test('the connect timer: CONNECT_TIMEOUT when the connect step does not finish in time, and the socket is not kept', async (t) => {
  const clock = new ManualClock();
  const conn = new ClientConnection('k', { depth: 1, waitForKeepAlive: false, maxResponseBytes: 1024, clock });
  let given: AbortSignal | null = null;
  const connecting = conn.connect(
    (signal) => {
      given = signal;
      return new Promise<net.Socket>(() => {}); // never connects
    },
    { signal: new AbortController().signal, timeout: 100, url: 'http://h/RPC2' },
  );
  t.equal(clock.pending, 1, 'connecting: the connect timer');
  clock.advance(100);
  const err = (await connecting.catch((e: unknown) => e)) as TransportError;
  t.type(err, TransportError);
  t.equal(err.code, TransportErrorCode.CONNECT_TIMEOUT);
  t.equal(err.requestSent, false);
  t.equal(given!.aborted, true, 'the connect step was told to give up');
  t.equal(conn.closed, true);
  t.equal(clock.pending, 0);
});

t.test('a call deadline that comes before the connect timeout ends the connect first', async (t) => {
  const clock = new ManualClock();
  const conn = new ClientConnection('k', { depth: 1, waitForKeepAlive: false, maxResponseBytes: 1024, clock });
  const caller = new AbortController();
  const connecting = conn.connect(() => new Promise<net.Socket>(() => {}), {
    signal: caller.signal,
    timeout: 100,
    url: 'http://h/RPC2',
    deadline: { at: 40, expire: () => caller.abort(new Error('call timed out')) },
  });
  clock.advance(40);
  await t.rejects(connecting, { message: 'call timed out' });
});

t.test('a broken connection fails written exchanges with requestSent true, and says so', async (t) => {
  const { conn, peer } = await connected(t, { depth: 2 });
  const calls = [send(conn), send(conn)];
  await pollUntil(() => peer.requests() === 2, 'both requests');
  peer.socket.destroy();
  for (const c of calls) {
    const err = (await c.settled.catch((e: unknown) => e)) as TransportError;
    t.equal(err.code, TransportErrorCode.CONNECTION_LOST);
    t.equal(err.requestSent, true);
    t.match(err.message, /written whole: the call may have run; not retried/);
  }
});

t.test('aborting the only exchange closes the connection; requestSent says whether its write completed', async (t) => {
  const { conn, peer } = await connected(t);
  const controller = new AbortController();
  const { exchange, settled } = send(conn, controller.signal);
  await pollUntil(() => peer.requests() === 1, 'the request');
  t.equal(exchange.requestWritten, true, 'the kernel took it whole');
  controller.abort(new Error('enough'));
  await t.rejects(settled, { message: 'enough' });
  await pollUntil(() => conn.closed, 'nobody waits on it any more: closed');
});
