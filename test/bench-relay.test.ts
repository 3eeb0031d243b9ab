// The delaying relay the fleet bench puts in front of each server
// (bench/relay.ts): it holds each chunk for its delay in each direction and a
// new connection for a round trip, by the clock it is given; and the
// pipelined strategy crosses it with one connection per host. Time is a
// manual clock here; every other wait is for an event.

import t from 'tap';
import { DelayRelay } from '../bench/relay.js';
import { runJobs, type Job } from '../lib/client/parallel.js';
import { Server } from '../lib/server/server.js';
import { DemoHandler } from '../handlers/demo.js';
import { dumps } from '../lib/xmlrpc/encode.js';
import { loads } from '../lib/xmlrpc/decode.js';
import { ManualClock, RawClient, post } from './support.js';

/** Waits (bounded) for `cond`, turn by turn: for socket events, not for time. */
async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 20_000 && !cond(); i++) await new Promise((resolve) => setImmediate(resolve));
  if (!cond()) throw new Error(`never happened: ${what}`);
}

t.test('the relay holds a new connection for a round trip and each chunk for its delay, each way', async (t) => {
  const server = new Server({ handlers: [new DemoHandler()] });
  const { port } = await server.listen(0, '127.0.0.1');
  t.teardown(() => server.close({ timeout: 0 }));
  const clock = new ManualClock();
  const relay = new DelayRelay({ target: { host: '127.0.0.1', port }, host: '127.0.0.5', delay: 10, clock });
  const at = await relay.listen();
  t.teardown(() => relay.close());
  const c = await RawClient.open(at.port, '127.0.0.5');
  t.teardown(() => c.destroy());
  c.write(post('/RPC2', dumps([2, 3], 'add')));
  await until(() => relay.held === 1, 'the request held');
  clock.advance(10);
  t.ok(relay.bytes.up > 0, 'the request is through its delay');
  t.equal(server.connectionCount, 0, 'but the connection is not made before a round trip');
  clock.advance(10);
  await until(() => relay.held === 1 && server.connectionCount === 1, 'the response held');
  t.equal(c.responses.length, 0, 'the answer waits for its delay');
  clock.advance(9);
  t.equal(relay.bytes.down, 0);
  clock.advance(1);
  const [r] = await c.responsesCount(1, 20_000);
  t.same(loads(r!.text()).params, [5]);
  t.equal(relay.accepted, 1);
});

t.test('pipelined calls through ten relays use one connection per host', async (t) => {
  const server = new Server({ handlers: [new DemoHandler()] });
  const { port } = await server.listen(0, '127.0.0.1');
  t.teardown(() => server.close({ timeout: 0 }));
  const relays: DelayRelay[] = [];
  const urls: string[] = [];
  for (let i = 0; i < 10; i++) {
    // No delay: this counts connections, it does not time anything.
    const relay = new DelayRelay({ target: { host: '127.0.0.1', port }, host: `127.0.3.${i + 1}`, delay: 0 });
    const at = await relay.listen();
    relays.push(relay);
    urls.push(`http://127.0.3.${i + 1}:${at.port}/RPC2`);
  }
  t.teardown(() => Promise.all(relays.map((r) => r.close())));
  const jobs: Job[] = Array.from({ length: 200 }, (_, i) => [urls[i % urls.length]!, 'add', [i, 1]] as const);
  const outcomes = await runJobs(jobs, { strategy: 'pipelined', timeout: 30_000 });
  t.ok(
    outcomes.every(([v, e], i) => e === null && v === i + 1),
    'every call answered, in order',
  );
  t.same(
    relays.map((r) => r.accepted),
    Array(10).fill(1),
    'one connection per host',
  );
  // The same through 'concurrent' opens more: the count above is the strategy's, not the relay's.
  const before = relays.map((r) => r.accepted);
  await runJobs(jobs, { strategy: 'concurrent', timeout: 30_000 });
  t.ok(
    relays.some((r, i) => r.accepted - before[i]! > 1),
    'concurrent opens several per host',
  );
});
