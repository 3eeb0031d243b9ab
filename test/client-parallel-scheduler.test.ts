// The scheduler behind ParallelServerProxy and runJobs, with no socket: fake
// transports hand out fake pipelines, tasks are deferreds the test settles,
// so start order, lane placement and the limits are checked step by step.

import { getEventListeners } from 'node:events';
import t from 'tap';
import { Scheduler, type RemoteTask, type SchedulerLimits, type Task } from '../lib/client/scheduler.js';
import type { Pipeline, PipelineOptions } from '../lib/client/pipeline.js';
import type { Transport } from '../lib/client/transport.js';
import { systemClock, type Clock } from '../lib/clock.js';

interface FakePipeline {
  id: number;
  host: string;
  connected: boolean;
  closed: boolean;
  options: PipelineOptions;
  close(): Promise<void>;
}

/** A transport whose pipelines are plain objects; `opened` lists them in order. */
function fakeTransport(): { transport: Transport; opened: FakePipeline[] } {
  const opened: FakePipeline[] = [];
  const transport = {
    openPipeline(host: string, options: PipelineOptions): FakePipeline {
      const pipeline: FakePipeline = {
        id: opened.length,
        host,
        connected: true,
        closed: false,
        options,
        close: async () => {
          pipeline.closed = true;
          pipeline.connected = false;
        },
      };
      opened.push(pipeline);
      return pipeline;
    },
  };
  return { transport: transport as unknown as Transport, opened };
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

interface Probe {
  /** Task names, in the order they started, with the pipeline each got. */
  started: { name: string; pipeline: number }[];
  /** Ends the task called `name` with `value`. */
  finish(name: string, value?: unknown): void;
}

function probe(): Probe & { task(transport: Transport, name: string, host: string, pipelined: boolean): RemoteTask } {
  const started: { name: string; pipeline: number }[] = [];
  const finishers = new Map<string, (value: unknown) => void>();
  return {
    started,
    finish(name, value = name) {
      const f = finishers.get(name);
      if (f === undefined) throw new Error(`${name} has not started`);
      finishers.delete(name);
      f(value);
    },
    task: (transport, name, host, pipelined) => ({
      kind: 'remote',
      transport,
      host,
      endpointKey: `http://${host}`,
      url: `http://${host}/RPC2`,
      pipelined,
      run: (pipeline: Pipeline) =>
        new Promise((resolve) => {
          started.push({ name, pipeline: (pipeline as unknown as FakePipeline).id });
          finishers.set(name, resolve);
        }),
    }),
  };
}

const LIMITS: SchedulerLimits = { maxConnectionsPerHost: 8, maxConnections: 256, pipelineDepth: 32, idleTimeout: 1000, waitForKeepAlive: true };

t.test('the oldest task starts first; one blocked at a busy host does not hold back tasks for other hosts', async (t) => {
  const { transport, opened } = fakeTransport();
  const p = probe();
  const scheduler = new Scheduler({ ...LIMITS, maxConnectionsPerHost: 1 });
  const tasks: Task[] = [
    p.task(transport, 'a1', 'a:1', false),
    p.task(transport, 'a2', 'a:1', false),
    p.task(transport, 'b1', 'b:1', false),
    p.task(transport, 'a3', 'a:1', false),
    p.task(transport, 'b2', 'b:1', false),
  ];
  const done = scheduler.run(tasks, { concurrency: Infinity });
  t.same(
    p.started.map((s) => s.name),
    ['a1', 'b1'],
    'a2 waits for host a; b1 goes past it',
  );
  p.finish('a1');
  await tick();
  t.same(
    p.started.map((s) => s.name),
    ['a1', 'b1', 'a2'],
    "a1's connection goes to a2",
  );
  p.finish('b1');
  p.finish('a2');
  await tick();
  p.finish('a3');
  p.finish('b2');
  t.same(await done, [
    ['a1', null],
    ['a2', null],
    ['b1', null],
    ['a3', null],
    ['b2', null],
  ]);
  t.equal(opened.length, 2, 'one connection per host, reused');
  t.same(scheduler.stats(), { connections: 2, idle: 2, queued: 0, inFlight: 0 });
  await scheduler.close();
  t.ok(
    opened.every((o) => o.closed),
    'close() closes them',
  );
  t.equal(scheduler.stats().connections, 0);
});

t.test('pipelined tasks fill a connection up to pipelineDepth before another is opened; a concurrent task takes an empty one', async (t) => {
  const { transport, opened } = fakeTransport();
  const p = probe();
  const scheduler = new Scheduler({ ...LIMITS, pipelineDepth: 3 });
  const names = ['p0', 'p1', 'p2', 'p3', 'p4', 'p5', 'p6'];
  const done = scheduler.run([...names.map((n) => p.task(transport, n, 'a:1', true)), p.task(transport, 'c', 'a:1', false)], { concurrency: Infinity });
  t.same(
    p.started.map((s) => s.pipeline),
    [0, 0, 0, 1, 1, 1, 2, 3],
    'three per connection, and the concurrent task on a fourth of its own',
  );
  t.equal(opened[0]!.options.depth, 3, 'the pipeline gets the depth');
  for (const n of [...names, 'c']) p.finish(n);
  await done;
  await scheduler.close();
});

t.test('at the total limit, the least recently used idle connection is closed to make room', async (t) => {
  const { transport, opened } = fakeTransport();
  const p = probe();
  const scheduler = new Scheduler({ ...LIMITS, maxConnections: 2 });
  const first = scheduler.run([p.task(transport, 'a', 'a:1', false), p.task(transport, 'b', 'b:1', false)], { concurrency: Infinity });
  p.finish('a');
  await tick();
  p.finish('b');
  await first;
  t.same(scheduler.stats(), { connections: 2, idle: 2, queued: 0, inFlight: 0 });
  const second = scheduler.run([p.task(transport, 'c', 'c:1', false)], { concurrency: Infinity });
  t.equal(opened[0]!.closed, true, "a's connection, idle the longest, is closed");
  t.equal(opened[1]!.closed, false, "b's stays");
  await tick();
  t.same(
    p.started.map((s) => s.name),
    ['a', 'b', 'c'],
    'c started once the socket was gone',
  );
  t.ok(scheduler.stats().connections <= 2);
  p.finish('c');
  await second;
  await scheduler.close();
});

t.test('concurrency is per run: two runs share the connections, not their limits', async (t) => {
  const { transport } = fakeTransport();
  const p = probe();
  const scheduler = new Scheduler(LIMITS);
  const one = scheduler.run(
    ['x1', 'x2', 'x3'].map((n) => p.task(transport, n, 'a:1', true)),
    { concurrency: 1 },
  );
  const two = scheduler.run(
    ['y1', 'y2', 'y3'].map((n) => p.task(transport, n, 'a:1', true)),
    { concurrency: 2 },
  );
  t.same(
    p.started.map((s) => s.name),
    ['x1', 'y1', 'y2'],
  );
  t.same(new Set(p.started.map((s) => s.pipeline)), new Set([0]), 'all on one pipelined connection');
  p.finish('y1');
  await tick();
  t.same(
    p.started.map((s) => s.name),
    ['x1', 'y1', 'y2', 'y3'],
    "y's room goes to y, not to x",
  );
  for (const n of ['x1', 'y2', 'y3']) p.finish(n);
  await tick();
  p.finish('x2');
  await tick();
  p.finish('x3');
  t.equal((await one).length, 3);
  t.equal((await two).length, 3);
  await scheduler.close();
});

t.test('an idle connection that closes on its own frees its slot', async (t) => {
  const { transport, opened } = fakeTransport();
  const p = probe();
  const scheduler = new Scheduler({ ...LIMITS, maxConnections: 1 });
  const first = scheduler.run([p.task(transport, 'a', 'a:1', false)], { concurrency: Infinity });
  p.finish('a');
  await first;
  // The server closed the idle socket: the pipeline says so.
  opened[0]!.connected = false;
  opened[0]!.options.onConnectionClose!();
  await tick();
  t.equal(scheduler.stats().connections, 0);
  const second = scheduler.run([p.task(transport, 'b', 'b:1', false)], { concurrency: Infinity });
  t.same(
    p.started.map((s) => s.name),
    ['a', 'b'],
    'b starts at once',
  );
  p.finish('b');
  await second;
});

t.test('ten thousand tasks over five hundred hosts all start and settle, in order', async (t) => {
  const { transport } = fakeTransport();
  const scheduler = new Scheduler({ ...LIMITS, maxConnections: 64 });
  const tasks: Task[] = Array.from({ length: 10_000 }, (_, i) => ({
    kind: 'remote' as const,
    transport,
    host: `h${i % 500}:1`,
    endpointKey: `http://h${i % 500}:1`,
    url: `http://h${i % 500}:1/RPC2`,
    pipelined: i % 2 === 0,
    run: () => new Promise((resolve) => setImmediate(() => resolve(i))),
  }));
  const pairs = await scheduler.run(tasks, { concurrency: 1000 });
  t.ok(
    pairs.every(([v, e], i) => v === i && e === null),
    'every pair [i, null]',
  );
  t.ok(scheduler.stats().connections <= 64);
  await scheduler.close();
});

t.test('a local call whose timer cannot be set fails with that error, and the run still settles', async (t) => {
  // #runLocal rejects when the clock throws: the call must end failed, not be dropped.
  const clock: Clock = {
    ...systemClock,
    setTimeout: () => {
      throw new Error('no timers');
    },
  };
  const scheduler = new Scheduler(LIMITS, clock);
  const pairs = await scheduler.run(
    [
      { kind: 'local', url: 'local:timed', timeout: 1000, call: () => 1 },
      { kind: 'local', url: 'local:untimed', timeout: 0, call: () => 2 },
    ],
    { concurrency: 2 },
  );
  t.equal(pairs[0]![0], null);
  t.match(pairs[0]![1], { message: 'no timers' });
  t.same(pairs[1], [2, null]);
  t.match(scheduler.stats(), { queued: 0, inFlight: 0 }, 'nothing queued or in flight');
});

t.test('calls of a run listen to signals of at most 32 calls each, and aborting the run aborts every one', async (t) => {
  // An EventTarget walks its listeners on every add and remove: 1,000 calls on one signal cost a million steps.
  const { transport } = fakeTransport();
  const signals: AbortSignal[] = [];
  const task = (i: number): RemoteTask => ({
    kind: 'remote',
    transport,
    host: `h${i % 2}:1`,
    endpointKey: `http://h${i % 2}:1`,
    url: `http://h${i % 2}:1/RPC2`,
    pipelined: true,
    run: (_pipeline, signal) =>
      new Promise((_resolve, reject) => {
        signals.push(signal);
        signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
      }),
  });
  const scheduler = new Scheduler({ ...LIMITS, pipelineDepth: 1000 });
  const user = new AbortController();
  const done = scheduler.run(
    Array.from({ length: 200 }, (_, i) => task(i)),
    { concurrency: Infinity, signal: user.signal },
  );
  // Started in slices of 64 a turn (see the next test).
  for (let turn = 0; turn < 10 && signals.length < 200; turn++) await new Promise((resolve) => setImmediate(resolve));
  t.equal(signals.length, 200, 'every call started');
  const most = Math.max(...signals.map((s) => getEventListeners(s, 'abort').length));
  t.ok(most <= 32, `at most 32 listeners on a signal (${most})`);
  user.abort(new Error('stop'));
  const outcomes = await done;
  t.ok(
    signals.every((s) => s.aborted),
    'every call signal aborted',
  );
  t.ok(
    outcomes.every(([, e]) => e instanceof Error && e.message === 'stop'),
    'every call failed with the reason',
  );
  await scheduler.close();
});

t.test('a run of many calls starts at most 64 in one turn of the event loop, the rest in the next turns, oldest first', async (t) => {
  // Preparing a thousand calls in one turn held the loop for tens of ms: the first calls' connections could not connect meanwhile.
  const { transport } = fakeTransport();
  const started: number[] = [];
  const task = (i: number): RemoteTask => ({
    kind: 'remote',
    transport,
    host: `h${i % 50}:1`,
    endpointKey: `http://h${i % 50}:1`,
    url: `http://h${i % 50}:1/RPC2`,
    pipelined: true,
    run: () => (started.push(i), Promise.resolve(i)),
  });
  const scheduler = new Scheduler({ ...LIMITS, pipelineDepth: 1000 });
  const done = scheduler.run(
    Array.from({ length: 1000 }, (_, i) => task(i)),
    { concurrency: Infinity },
  );
  t.equal(started.length, 64, 'the first slice, in the caller turn');
  t.same(
    started.slice(0, 50),
    Array.from({ length: 50 }, (_, i) => i),
    'the first call to each of the 50 hosts among them',
  );
  await new Promise((resolve) => setImmediate(resolve));
  t.equal(started.length, 128, 'the next slice, a turn later');
  const outcomes = await done;
  t.equal(started.length, 1000);
  t.ok(
    outcomes.every(([v, e], i) => e === null && v === i),
    'every call answered, in order',
  );
  await scheduler.close();
});
