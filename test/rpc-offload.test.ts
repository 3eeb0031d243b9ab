// XmlRpcDispatcher.registerOffloaded over a real Server on 127.0.0.1 port 0:
// results, what a task throws, a full queue, a timeout, introspection, and
// the event loop answering other calls while CPU-bound ones run. Tasks are in
// test/fixtures/rpc-offload-tasks.ts; held ones wait on a BroadcastChannel
// gate the test opens, so order comes from events, never from sleeps.
// Timeouts run on a ManualClock.

import t from 'tap';
import { BroadcastChannel } from 'node:worker_threads';
import { Fault, FaultCode } from '../lib/errors.js';
import { ServerProxy } from '../lib/client/proxy.js';
import { WorkerPool, type WorkerPoolOptions } from '../lib/offload/pool.js';
import { XmlRpcDispatcher } from '../lib/rpc/dispatcher.js';
import type { Request } from '../lib/server/request.js';
import type { XmlRpcValue } from '../lib/xmlrpc/values.js';
import { dumps } from '../lib/xmlrpc/encode.js';
import { ManualClock, pollUntil, post, RawClient, startServer } from './support.js';

const TASKS = new URL('./fixtures/rpc-offload-tasks.js', import.meta.url);
let channels = 0;

type Teardown = { teardown(fn: () => unknown): void };

/** A dispatcher that logs, in order, each call it has answered (or failed): the server's side of the story. */
class LoggingDispatcher extends XmlRpcDispatcher {
  readonly completed: string[] = [];
  override call(method: string, params: XmlRpcValue[], request?: Request): unknown {
    const done = () => this.completed.push(method);
    let result: unknown;
    try {
      result = super.call(method, params, request);
    } catch (err) {
      done();
      throw err;
    }
    if (result instanceof Promise) {
      return result.finally(done);
    }
    done();
    return result;
  }
}

/** A pool of 2, a server with `setup`'s methods, and a proxy; all closed in teardown, and no worker left. */
async function serve(t: Teardown, setup: (d: LoggingDispatcher, pool: WorkerPool) => void, options: WorkerPoolOptions = {}) {
  const pool = new WorkerPool({ size: 2, ...options });
  const dispatcher = new LoggingDispatcher();
  setup(dispatcher, pool);
  const { server, port } = await startServer({ handlers: [dispatcher] });
  const url = `http://127.0.0.1:${port}/RPC2`;
  const proxies: ServerProxy[] = [];
  const proxy = () => {
    const p = new ServerProxy(url);
    proxies.push(p);
    return p as unknown as Record<string, (...args: unknown[]) => Promise<unknown>> & { system: Record<string, (...args: unknown[]) => Promise<unknown>> };
  };
  t.teardown(async () => {
    await Promise.all(proxies.map((p) => p.close()));
    await pool.close({ force: true });
    await server.close();
    if (pool.workers() !== 0) throw new Error(`${pool.workers()} worker(s) left`);
  });
  return { pool, dispatcher, proxy, port };
}

/** The test's end of a BroadcastChannel the tasks talk on; `until` is bounded (a failure bound, not a measure). */
function listen(t: Teardown) {
  const name = `rpc-offload-test-${process.pid}-${++channels}`;
  const channel = new BroadcastChannel(name);
  const seen: string[] = [];
  channel.onmessage = (event) => seen.push((event as { data: string }).data);
  t.teardown(() => channel.close());
  return {
    name,
    seen,
    open: () => channel.postMessage('open'),
    until: (count: number) => pollUntil(() => seen.length >= count, `${count} task(s) to start`, 20_000),
  };
}

async function rejection(promise: Promise<unknown>): Promise<Fault> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof Fault) return err;
    throw err;
  }
  throw new Error('resolved; a fault was expected');
}

t.test('an offloaded method answers over XML-RPC with what its task returned', async (t) => {
  const { proxy, pool } = await serve(t, (d, pool) => d.registerOffloaded('multiply', TASKS, 'multiply', { pool }));
  const p = proxy();
  t.equal(await p.multiply!(6, 7), 42);
  t.equal(await p.multiply!(2.5, 2), 5);
  t.equal(pool.stats().completed, 2, 'both ran on the pool');
});

t.test('decoded params cross to the worker and back: a base64 Buffer arrives as a Buffer (a Uint8Array) and is sent as base64', async (t) => {
  const { proxy } = await serve(t, (d, pool) => d.registerOffloaded('echo', TASKS, 'echo', { pool }));
  const when = new Date(Date.UTC(2026, 0, 2, 3, 4, 5));
  const answer = (await proxy().echo!(Buffer.from('bytes'), when, 2n ** 40n, { a: [1, 'x', true] })) as [string, unknown][];
  t.same(
    answer.map(([type]) => type),
    ['[object Uint8Array]', '[object Date]', '[object BigInt]', '[object Object]'],
  );
  t.ok(Buffer.isBuffer(answer[0]![1]) && (answer[0]![1] as Buffer).toString() === 'bytes', 'base64 back');
  t.equal((answer[1]![1] as Date).getTime(), when.getTime());
  t.equal(answer[2]![1], 2n ** 40n);
  t.same(answer[3]![1], { a: [1, 'x', true] });
});

t.test('a Fault thrown in the worker goes out as that fault', async (t) => {
  const { proxy } = await serve(t, (d, pool) => d.registerOffloaded('refuse', TASKS, 'refuse', { pool }));
  const fault = await rejection(proxy().refuse!());
  t.equal(fault.faultCode, 42);
  t.equal(fault.faultString, 'refused in the worker');
});

t.test('any other error in the worker is -32500 with its name and message only', async (t) => {
  const { proxy } = await serve(t, (d, pool) => d.registerOffloaded('fail', TASKS, 'fail', { pool }));
  const fault = await rejection(proxy().fail!());
  t.equal(fault.faultCode, FaultCode.APPLICATION_ERROR);
  t.equal(fault.faultString, 'RangeError: out of range in the worker');
  t.notMatch(fault.faultString, /secret|at |\.js/, 'no property, no stack');
});

t.test('a full queue answers the server busy fault at once, and the server keeps serving', async (t) => {
  const gate = listen(t);
  const { proxy } = await serve(
    t,
    (d, pool) => {
      d.registerOffloaded('held', TASKS, 'held', { pool, signatures: [['string', 'string', 'string']] });
      d.registerFunction((a: number, b: number) => a + b, 'add');
    },
    { maxQueue: 0 },
  );
  const first = proxy().held!(gate.name, 'a');
  const second = proxy().held!(gate.name, 'b');
  await gate.until(2);
  const busy = await rejection(proxy().held!(gate.name, 'c'));
  t.equal(busy.faultCode, FaultCode.SERVER_BUSY);
  t.equal(busy.faultCode, -32001);
  t.match(busy.faultString, /server busy/);
  t.equal(await proxy().add!(1, 2), 3, 'other methods still answer');
  t.same(gate.seen.sort(), ['started a', 'started b'], 'the refused call never started');
  gate.open();
  t.same(await Promise.all([first, second]), ['a', 'b']);
});

t.test('a timeout answers fault -32002 and the server keeps serving (ManualClock)', async (t) => {
  const clock = new ManualClock();
  const gate = listen(t);
  const { proxy, pool } = await serve(
    t,
    (d, pool) => {
      d.registerOffloaded('held', TASKS, 'held', { pool, timeout: 1000 });
      d.registerOffloaded('multiply', TASKS, 'multiply', { pool });
    },
    { clock },
  );
  const call = rejection(proxy().held!(gate.name, 'slow'));
  await gate.until(1);
  await pollUntil(() => pool.stats().busy === 1, 'the pool to count the task running', 20_000);
  clock.advance(999);
  t.equal(pool.stats().busy, 1, 'not yet');
  clock.advance(1);
  const fault = await call;
  t.equal(fault.faultCode, FaultCode.TIMEOUT);
  t.equal(fault.faultCode, -32002);
  t.match(fault.faultString, /timed out/);
  t.equal(await proxy().multiply!(3, 4), 12, 'the pool and the server go on');
});

t.test('a client that leaves (a reset) cancels its offloaded call: the running task has its worker stopped, the queued one never starts', async (t) => {
  const gate = listen(t);
  const { pool, proxy, port } = await serve(
    t,
    (d, pool) => {
      d.registerOffloaded('held', TASKS, 'held', { pool });
      d.registerOffloaded('multiply', TASKS, 'multiply', { pool });
    },
    { size: 1 },
  );
  const running = await RawClient.open(port);
  running.write(post('/RPC2', dumps([gate.name, 'a'], 'held')));
  await gate.until(1);
  const queued = await RawClient.open(port);
  queued.write(post('/RPC2', dumps([gate.name, 'b'], 'held')));
  await pollUntil(() => pool.stats().queued === 1, 'the second call to wait in the queue', 20_000);

  // Gone for good (a reset): a FIN alone is a half-close, and the server still owes the answer.
  running.socket.resetAndDestroy();
  queued.socket.resetAndDestroy();
  t.teardown(() => gate.open());
  await pollUntil(() => pool.stats().failed === 2, 'both calls to be cancelled', 20_000);
  t.same(pool.stats().completed, 0);
  t.equal(await proxy().multiply!(6, 7), 42, 'the pool goes on, on a replaced worker');
  t.same(gate.seen, ['started a'], 'the queued call never started');
});

t.test('system.methodHelp and system.methodSignature describe an offloaded method; signatures are checked here', async (t) => {
  const { proxy, pool } = await serve(t, (d, pool) =>
    d.registerOffloaded('multiply', TASKS, 'multiply', { pool, help: 'Multiplies two numbers in a worker.', signatures: [['double', 'double', 'double']] }),
  );
  const p = proxy();
  t.equal(await p.system.methodHelp!('multiply'), 'Multiplies two numbers in a worker.');
  t.same(await p.system.methodSignature!('multiply'), [['double', 'double', 'double']]);
  t.ok(((await p.system.listMethods!()) as string[]).includes('multiply'));
  const fault = await rejection(p.multiply!(1));
  t.equal(fault.faultCode, FaultCode.INVALID_PARAMS);
  t.equal(pool.stats().completed + pool.stats().failed, 0, 'a call with the wrong arity never reaches the pool');
});

t.test('registerOffloaded refuses a missing pool, a missing name, a bad signature and a bad timeout', async (t) => {
  const d = new XmlRpcDispatcher();
  t.throws(() => d.registerOffloaded('x', TASKS, 'multiply', {} as never), TypeError);
  t.throws(() => d.registerOffloaded('', TASKS, 'multiply', { pool: { run: () => Promise.resolve(1) } }), TypeError);
  t.throws(() => d.registerOffloaded('x', TASKS, 'multiply', { pool: { run: () => Promise.resolve(1) }, signatures: [['any']] }), TypeError);
  t.throws(() => d.registerOffloaded('x', TASKS, 'multiply', { pool: { run: () => Promise.resolve(1) }, timeout: -1 }), RangeError);
  t.doesNotThrow(() => d.registerOffloaded('x', TASKS, 'multiply', { pool: { run: () => Promise.resolve(1) }, timeout: Infinity }));
});

t.test('8 CPU-bound calls at once on a pool of 2: all 1,000 add calls on another connection are answered while they run', async (t) => {
  const gate = listen(t);
  const { proxy, dispatcher, pool } = await serve(t, (d, pool) => {
    d.registerOffloaded('crunch', TASKS, 'crunch', { pool });
    d.registerFunction((a: number, b: number) => a + b, 'add');
  });
  const crunches = Array.from({ length: 8 }, (_, i) => proxy().crunch!(gate.name, i));
  // Two spin on the two workers; six wait in the pool's queue.
  await gate.until(2);
  await pollUntil(() => pool.stats().busy === 2 && pool.stats().queued === 6, 'two running and six queued', 20_000);

  const adder = proxy();
  const wrong: number[] = [];
  for (let i = 0; i < 1000; i++) if ((await adder.add!(i, 1)) !== i + 1) wrong.push(i);
  t.same(wrong, [], 'every add answered right');
  t.same(dispatcher.completed, Array<string>(1000).fill('add'), 'every add answered, no crunch finished');
  t.equal(pool.stats().busy, 2, 'both workers still spinning');

  gate.open();
  const results = (await Promise.all(crunches)) as { tag: number; spins: number }[];
  t.same(
    results.map((r) => r.tag),
    [0, 1, 2, 3, 4, 5, 6, 7],
  );
  t.same(dispatcher.completed.slice(1000), Array<string>(8).fill('crunch'), 'the 8 finished after the 1,000 adds');
  t.equal(dispatcher.completed.length, 1008);
});
