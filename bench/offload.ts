// Offload: what WorkerPool costs and what it buys, five tables (three in this
// process, the last two against a server in a child process).
//  1. The overhead of a no-op task, tasks/s: WorkerPool.run beside piscina used
//     directly (same worker count, its defaults) and a bare worker_threads
//     postMessage round trip (one Worker echoing), one task in flight and a
//     batch of 256 at once.
//  2. CPU-bound throughput: tasks/s of a fixed ~20 ms job (pbkdf2Sync,
//     calibrated on the main thread) inline and at pool sizes 1, 2 and
//     os.availableParallelism().
//  3. Event-loop responsiveness while N such jobs run inline on the loop or on
//     the pool: loop delay p50/p99 (perf_hooks.monitorEventLoopDelay), 1 ms
//     timer ticks and setImmediate ticks (each an add(40, 2)-like call) that
//     completed. In process, without the XML-RPC server.
//  4. The server mix (bench/offload-mix.ts, bench/offload-mix-server.ts): our
//     Server in a child process with `hash`, 200 ms of CPU time of pbkdf2Sync
//     (calibrated by process.cpuUsage on the main thread), registered inline or with registerOffloaded on a
//     pool of 1, 2 and availableParallelism() workers; 8 `hash` calls in flight
//     until 16 are answered while 2 connections send `add` back to back. The
//     server's loop delay p50/p99 (measured in the child), add calls/s and
//     p50/p99 latency, hash calls/s; and whether the goal (loop delay p99
//     under 20 ms with offload) held in this run.
//  5. Large payloads (bench/offload-payloads.ts): `add` latency while 4
//     clients send 8 MB echoes nonstop, the CLI server with its codec offload
//     and with --inline-codec.
//
// Standalone:        node dist/bench/offload.js
// From bench/run.ts: import { runOffloadBench } from './offload.js'; console.log(await runOffloadBench());
// Every loop is bounded in count and in time; every pool, worker and child is closed.

import { availableParallelism } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { WorkerPool } from '../lib/offload/pool.js';
import { asyncRate, formatRate, median, table } from './measure.js';
import { runPayloadOffloadBench } from './offload-payloads.js';
import { calibrateCpu, mixTable } from './offload-mix.js';
import { noop, work } from './offload-tasks.js';

const TASKS = new URL('./offload-tasks.js', import.meta.url);
/** Target duration of one CPU-bound job on the main thread, ms. */
const JOB_MS = 20;
/** Tasks in flight in the batched overhead run. */
const BATCH = 256;
/** Jobs of the throughput and responsiveness runs. */
const JOBS = 40;
/** The server mix's CPU-bound call, ms of CPU time on the main thread. */
const MIX_MS = 200;

/** A Worker that posts back every message it gets, in order. */
class EchoWorker {
  private readonly worker = new Worker("const { parentPort } = require('node:worker_threads'); parentPort.on('message', (m) => parentPort.postMessage(m));", {
    eval: true,
  });
  private readonly waiting: ((value: unknown) => void)[] = [];

  constructor() {
    this.worker.on('message', (m: unknown) => this.waiting.shift()?.(m));
  }

  call(value: unknown): Promise<unknown> {
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      this.worker.postMessage(value);
    });
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }
}

interface Subject {
  name: string;
  call(): Promise<unknown>;
  close(): Promise<void>;
}

async function overheadTable(): Promise<string> {
  const pool = new WorkerPool({ size: 1 });
  const piscina = new Piscina({ filename: TASKS.href, maxThreads: 1, minThreads: 1 });
  // piscina set up as WorkerPool's engine sets it up, so the difference is our layer.
  const piscinaAsOurs = new Piscina({ filename: TASKS.href, maxThreads: 1, minThreads: 1, atomics: 'disabled', stricterFIFO: true, recordTiming: false });
  const echo = new EchoWorker();
  const subjects: Subject[] = [
    { name: 'ours: WorkerPool.run (size 1)', call: () => pool.run(TASKS, 'noop'), close: () => pool.close() },
    { name: 'piscina.run (maxThreads 1, defaults)', call: () => piscina.run(null, { name: 'noop' }) as Promise<unknown>, close: () => piscina.destroy() },
    {
      name: 'piscina.run (maxThreads 1, as WorkerPool sets it)',
      call: () => piscinaAsOurs.run(null, { name: 'noop' }) as Promise<unknown>,
      close: () => piscinaAsOurs.destroy(),
    },
    { name: 'bare Worker, postMessage echo', call: () => echo.call(null), close: () => echo.close() },
  ];
  const rows: [string, number, number][] = [];
  try {
    for (const s of subjects) {
      const single = await asyncRate(() => s.call());
      const batched = await asyncRate(() => Promise.all(Array.from({ length: BATCH }, () => s.call())), { maxOps: 1_000_000, perCall: BATCH });
      rows.push([s.name, single, batched]);
    }
  } finally {
    await Promise.all(subjects.map((s) => s.close()));
  }
  const [, ours1, oursN] = rows[0]!;
  return table(
    ['no-op task, 1 worker', '1 in flight', 'us/task', 'ours/this', `${BATCH} at once`, 'ours/this'],
    rows.map(([name, single, batched], i) => [
      name,
      formatRate(single),
      (1e6 / single).toFixed(1),
      i === 0 ? '' : `${(ours1 / single).toFixed(2)}x`,
      formatRate(batched),
      i === 0 ? '' : `${(oursN / batched).toFixed(2)}x`,
    ]),
  );
}

/** The iteration count that makes work() take about JOB_MS on this thread. */
function calibrate(): number {
  let iterations = 1000;
  for (let i = 0; i < 6; i++) {
    const start = process.hrtime.bigint();
    work(iterations);
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    iterations = Math.max(1000, Math.round((iterations * JOB_MS) / Math.max(ms, 0.1)));
  }
  return iterations;
}

async function throughputTable(iterations: number): Promise<string> {
  const timeJob = () => {
    const start = process.hrtime.bigint();
    work(iterations);
    return Number(process.hrtime.bigint() - start) / 1e6;
  };
  const jobMs = median(Array.from({ length: 5 }, timeJob));
  const rows: string[][] = [];
  const inlineStart = process.hrtime.bigint();
  for (let i = 0; i < JOBS; i++) work(iterations);
  const inline = (JOBS * 1e9) / Number(process.hrtime.bigint() - inlineStart);
  rows.push(['inline on the main thread', formatRate(inline), '1.00x']);
  const cores = availableParallelism();
  const sizes = [...new Set([1, 2, cores])];
  for (const size of sizes) {
    const pool = new WorkerPool({ size });
    try {
      await Promise.all(Array.from({ length: size }, () => pool.run(TASKS, 'work', [iterations]))); // start and warm every worker
      const start = process.hrtime.bigint();
      await Promise.all(Array.from({ length: JOBS }, () => pool.run(TASKS, 'work', [iterations], { timeout: 30_000 })));
      const rate = (JOBS * 1e9) / Number(process.hrtime.bigint() - start);
      rows.push([`WorkerPool size ${size}${size === cores ? ' (availableParallelism)' : ''}`, formatRate(rate), `${(rate / inline).toFixed(2)}x`]);
    } finally {
      await pool.close();
    }
  }
  return `${JOBS} jobs of pbkdf2Sync(${iterations} iterations), ${jobMs.toFixed(1)} ms each on the main thread\n\n${table(['where', 'jobs/s', 'x inline'], rows)}`;
}

interface Responsiveness {
  wallMs: number;
  p50: number;
  p99: number;
  max: number;
  timers: number;
  immediates: number;
}

/** Runs `jobs` while a 1 ms timer and a setImmediate chain tick; stops them when it settles (at most 60 s). */
async function underLoad(jobs: () => Promise<unknown>): Promise<Responsiveness> {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  let timers = 0;
  let immediates = 0;
  let running = true;
  let sink = 0;
  const add = (a: number, b: number) => a + b;
  const tick = () => {
    timers++;
    if (running) timer = setTimeout(tick, 1);
  };
  const spin = () => {
    immediates++;
    sink = add(sink & 0xffff, 42);
    if (running && immediates < 50_000_000) setImmediate(spin);
  };
  histogram.enable();
  let timer = setTimeout(tick, 1);
  setImmediate(spin);
  const start = process.hrtime.bigint();
  let guard: NodeJS.Timeout | null = null;
  try {
    await Promise.race([jobs(), new Promise((_, reject) => (guard = setTimeout(() => reject(new Error('offload bench: jobs not done in 60 s')), 60_000)))]);
  } finally {
    running = false;
    if (guard !== null) clearTimeout(guard);
    clearTimeout(timer);
    histogram.disable();
  }
  const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
  if (sink < 0) console.log(sink); // keeps the add calls
  const ms = (ns: number) => ns / 1e6;
  return { wallMs, p50: ms(histogram.percentile(50)), p99: ms(histogram.percentile(99)), max: ms(histogram.max), timers, immediates };
}

async function responsivenessTable(iterations: number): Promise<string> {
  const cores = availableParallelism();
  const rows: string[][] = [];
  const line = (name: string, r: Responsiveness) => [
    name,
    `${r.wallMs.toFixed(0)} ms`,
    `${r.p50.toFixed(1)} ms`,
    `${r.p99.toFixed(1)} ms`,
    `${r.max.toFixed(1)} ms`,
    String(r.timers),
    formatRate((r.timers * 1000) / r.wallMs),
    String(r.immediates),
    formatRate((r.immediates * 1000) / r.wallMs),
  ];
  // (a) Inline: each job in its own macrotask, as a handler that computes in place would run.
  const inline = await underLoad(async () => {
    for (let i = 0; i < JOBS; i++) {
      await new Promise<void>((resolve) =>
        setImmediate(() => {
          work(iterations);
          resolve();
        }),
      );
    }
  });
  rows.push(line('inline on the loop', inline));
  // (b) On the pool: all jobs submitted at once.
  const pool = new WorkerPool({ size: cores });
  try {
    await Promise.all(Array.from({ length: cores }, () => pool.run(TASKS, 'noop'))); // workers started before the clock
    const offloaded = await underLoad(() => Promise.all(Array.from({ length: JOBS }, () => pool.run(TASKS, 'work', [iterations], { timeout: 30_000 }))));
    rows.push(line(`WorkerPool size ${cores}`, offloaded));
  } finally {
    await pool.close();
  }
  return table(['jobs run', 'wall', 'delay p50', 'delay p99', 'max', '1 ms timers', 'timers/s', 'setImmediate adds', 'adds/s'], rows);
}

export async function runOffloadBench(): Promise<string> {
  noop();
  const iterations = calibrate();
  const mixIterations = calibrateCpu(iterations, MIX_MS);
  const parts = [
    'No-op task overhead, tasks/s (median of 5 rounds of 200 ms; ours/this above 1x: ours is faster)',
    await overheadTable(),
    "(piscina's defaults: an idle worker waits in Atomics.wait; WorkerPool sets atomics 'disabled' (a task's leftover timers and abort messages run), stricterFIFO and recordTiming false; the second piscina row uses the same. 1 in flight measures a thread's wake-up, which is noisy on a shared machine)",
    '',
    'CPU-bound throughput',
    await throughputTable(iterations),
    '',
    `Event-loop responsiveness while ${JOBS} jobs of ~${JOB_MS} ms run (in process, no XML-RPC server)`,
    await responsivenessTable(iterations),
    '',
    await mixTable(mixIterations, MIX_MS),
    '',
    (await runPayloadOffloadBench()).text,
  ];
  return parts.join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  runOffloadBench().then(
    (text) => console.log(text),
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
