// Child processes (issue 12): what a spawned child costs, beside the
// worker pool of the offload layer (lib/offload) in the same run.
//  1. Start-up: ms from spawnProcess() to the answer of the first call (an
//     objects.import of the task module, then a call of its no-op export),
//     beside ms from `new WorkerPool({ isolation: 'process' })` and from a
//     thread pool to the answer of their first no-op task. Median of `starts`
//     starts each; every child and pool is closed before the next.
//  2. Calls/s to one child: `await m.noop()` on an ObjectProxy (an HTTP
//     request on loopback, XML-RPC both ways), one in flight and 32 in
//     flight, beside a no-op WorkerPool task round trip (process and thread
//     isolation, size 1): what a child's object costs against a pool's task.
//     Each subject gets WARM_UP calls first, then the median of 5 rounds.
//
// Standalone:        node dist/bench/spawn.js [--starts 5]
// From bench/run.ts: import { runSpawnBench } from './spawn.js'; console.log(await runSpawnBench());
// Every loop is bounded in count and in time; every child and pool is closed.

import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { WorkerPool } from '../lib/offload/pool.js';
import { spawnProcess } from '../lib/process/spawn.js';
import { asyncRate, formatRate, median, table } from './measure.js';

type Tasks = typeof import('./offload-tasks.js');
const TASKS = new URL('./offload-tasks.js', import.meta.url);
const IN_FLIGHT = 32;
/** Calls each subject gets before it is timed. */
const WARM_UP = 2000;

export interface SpawnBenchOptions {
  /** Starts timed per subject (the median is kept). Default 5. */
  starts?: number;
}

function ms(since: bigint): number {
  return Number(process.hrtime.bigint() - since) / 1e6;
}

async function startTable(starts: number): Promise<string> {
  const subjects: [string, () => Promise<void>][] = [
    [
      'ours: spawnProcess, first objects.import + call',
      async () => {
        const child = await spawnProcess({ name: 'bench', modules: [TASKS], logger: null, execArgv: [] });
        try {
          await (await child.objects.import<Tasks>(TASKS.href)).noop();
        } finally {
          await child.stop();
        }
      },
    ],
    [
      "WorkerPool { isolation: 'process' }, first task",
      async () => {
        const pool = new WorkerPool({ size: 1, isolation: 'process' });
        try {
          await pool.run(TASKS, 'noop');
        } finally {
          await pool.close();
        }
      },
    ],
    [
      'WorkerPool (threads), first task',
      async () => {
        const pool = new WorkerPool({ size: 1 });
        try {
          await pool.run(TASKS, 'noop');
        } finally {
          await pool.close();
        }
      },
    ],
  ];
  const rows: [string, number][] = [];
  for (const [name, once] of subjects) {
    await once(); // warm the module cache of this process
    const samples: number[] = [];
    for (let i = 0; i < starts; i++) {
      const start = process.hrtime.bigint();
      await once();
      samples.push(ms(start));
    }
    rows.push([name, median(samples)]);
  }
  const ours = rows[0]![1];
  return table(
    ['start to first answer (then closed)', 'ms, median', 'ours/this'],
    rows.map(([name, value], i) => [name, value.toFixed(1), i === 0 ? '' : `${(ours / value).toFixed(2)}x`]),
  );
}

async function callTable(): Promise<string> {
  const child = await spawnProcess({ name: 'bench', modules: [TASKS], logger: null, execArgv: [] });
  const processPool = new WorkerPool({ size: 1, isolation: 'process' });
  const threadPool = new WorkerPool({ size: 1 });
  const rows: [string, number, number][] = [];
  try {
    const m = await child.objects.import<Tasks>(TASKS.href);
    const subjects: [string, () => Promise<unknown>][] = [
      ['ours: ObjectProxy call to a spawned child', () => m.noop()],
      ["WorkerPool.run { isolation: 'process' }, size 1", () => processPool.run(TASKS, 'noop')],
      ['WorkerPool.run (threads), size 1', () => threadPool.run(TASKS, 'noop')],
    ];
    for (const [name, call] of subjects) {
      // Both ends warm (the child's JIT too) before the clock starts.
      for (let i = 0; i < WARM_UP; i++) await call();
      const one = await asyncRate(call, { maxOps: 100_000 });
      const many = await asyncRate(() => Promise.all(Array.from({ length: IN_FLIGHT }, call)), { maxOps: 100_000, perCall: IN_FLIGHT });
      rows.push([name, one, many]);
    }
  } finally {
    await Promise.all([child.stop(), processPool.close(), threadPool.close()]);
  }
  const [, ours1, oursN] = rows[0]!;
  return table(
    ['no-op round trip', '1 in flight', 'us/call', 'ours/this', `${IN_FLIGHT} in flight`, 'ours/this'],
    rows.map(([name, one, many], i) => [
      name,
      formatRate(one),
      (1e6 / one).toFixed(1),
      i === 0 ? '' : `${(ours1 / one).toFixed(2)}x`,
      formatRate(many),
      i === 0 ? '' : `${(oursN / many).toFixed(2)}x`,
    ]),
  );
}

export async function runSpawnBench(options: SpawnBenchOptions = {}): Promise<string> {
  const starts = options.starts ?? 5;
  return `${await startTable(starts)}\n\n${await callTable()}`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { starts: { type: 'string' } } });
  const starts = values.starts === undefined ? undefined : Number(values.starts);
  console.log(await runSpawnBench({ starts }));
}
