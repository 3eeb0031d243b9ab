// The offload bench's server mix: a real XML-RPC server (bench/offload-mix-server.ts,
// a child process) with a CPU-bound method `hash` of ~200 ms, inline or
// offloaded with registerOffloaded; this process keeps 8 `hash` calls in flight
// until 16 are answered while 2 other connections send `add` calls, each as soon
// as the last is answered. The server's loop delay comes from the child, the
// `add` figures from here. A first row, `add` alone for 1 s, is the baseline.
// Every loop is bounded in count and in time; every child is stopped by pid.

import { fork, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { ServerProxy } from '../lib/client/proxy.js';
import { formatRate, table } from './measure.js';
import type { MixMessage, MixReport } from './offload-mix-server.js';
import { work } from './offload-tasks.js';

const SERVER = fileURLToPath(new URL('./offload-mix-server.js', import.meta.url));
/** `hash` calls in flight at once, and how many in all. */
const IN_FLIGHT = 8;
const HASH_CALLS = 16;
/** Connections sending `add`, one call at a time each. */
const ADD_CONNECTIONS = 2;
/** At most this many `add` calls a row (a bound, not a target). */
const MAX_ADDS = 1_000_000;
/** How long the baseline row sends `add` alone. */
const BASELINE_MS = 1000;
/** The warm-up of each row, before the clock: at most this many `add` calls a connection, for at most this long. */
const WARM_UP_ADDS = 2000;
const WARM_UP_MS = 500;
/** Every row's load must end within this long. */
const ROW_GUARD_MS = 60_000;

type Delay = Extract<MixReport, { type: 'delay' }>;

/** The server child: its port, the length of one job on its main thread, and the way to ask it things. */
interface MixServer {
  port: number;
  jobMs: number;
  send(message: MixMessage): void;
  delay(): Promise<Delay>;
  stop(): Promise<void>;
}

function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const guard = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`offload mix: ${what} not done in ${ms} ms`)), ms)));
  return Promise.race([promise, guard]).finally(() => clearTimeout(timer));
}

async function startMixServer(poolSize: number, iterations: number): Promise<MixServer> {
  const child: ChildProcess = fork(SERVER, ['--pool', String(poolSize), '--iterations', String(iterations)], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  const pid = child.pid!;
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) process.kill(pid, 'SIGKILL');
  };
  process.once('exit', kill); // a bench that dies takes its server with it
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const next = <T extends MixReport['type']>(type: T) =>
    new Promise<Extract<MixReport, { type: T }>>((resolve, reject) => {
      const onMessage = (m: MixReport) => {
        if (m.type !== type) return;
        child.off('message', onMessage);
        resolve(m as Extract<MixReport, { type: T }>);
      };
      child.on('message', onMessage);
      void exited.then(() => {
        child.off('message', onMessage);
        reject(new Error(`offload mix server exited: ${stderr.trim().split('\n').at(-1) ?? ''}`));
      });
    });
  const stop = async () => {
    if (child.connected) child.send({ type: 'close' } satisfies MixMessage);
    const timer = setTimeout(kill, 5000); // closing takes ms; past this, by force
    await exited;
    clearTimeout(timer);
    process.off('exit', kill);
  };
  try {
    const ready = await within(30_000, 'server start', next('ready'));
    return {
      port: ready.port,
      jobMs: ready.jobMs,
      send: (message) => child.send(message),
      delay: () => {
        child.send({ type: 'stop' } satisfies MixMessage);
        return within(10_000, 'loop delay report', next('delay'));
      },
      stop,
    };
  } catch (err) {
    kill();
    await stop();
    throw err;
  }
}

interface MixRow {
  name: string;
  jobMs: number;
  wallMs: number;
  delay: Delay;
  adds: number[];
  addWallMs: number;
  hashes: number;
}

function percentile(sorted: number[], p: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!;
}

const ms = (from: bigint) => Number(process.hrtime.bigint() - from) / 1e6;

/** One row: a fresh server, the load, its figures. `hashCalls` 0: `add` alone for BASELINE_MS. */
async function mixRow(name: string, poolSize: number, iterations: number, hashCalls: number): Promise<MixRow> {
  const server = await startMixServer(poolSize, iterations);
  const url = `http://127.0.0.1:${server.port}/RPC2`;
  const hasher = new ServerProxy(url, { maxSocketsPerHost: IN_FLIGHT, timeout: ROW_GUARD_MS });
  const adders = Array.from({ length: ADD_CONNECTIONS }, () => new ServerProxy(url, { maxSocketsPerHost: 1, timeout: ROW_GUARD_MS }));
  try {
    // Connections open and both sides' JIT warm: up to WARM_UP_ADDS calls a connection, for at most WARM_UP_MS.
    const warmUntil = process.hrtime.bigint() + BigInt(WARM_UP_MS) * 1_000_000n;
    await Promise.all(
      adders.map(async (adder) => {
        for (let i = 0; i < WARM_UP_ADDS && (i === 0 || process.hrtime.bigint() < warmUntil); i++) await adder.call('add', i, 2);
      }),
    );
    server.send({ type: 'start' });
    const start = process.hrtime.bigint();
    let done = false;
    let sent = 0;
    let hashes = 0;
    let wallMs = 0;
    const hashLane = async () => {
      while (sent < hashCalls) {
        sent++;
        await hasher.call('hash', iterations);
        hashes++;
      }
    };
    const hashing = (
      hashCalls === 0 ? new Promise((resolve) => setTimeout(resolve, BASELINE_MS)) : Promise.all(Array.from({ length: IN_FLIGHT }, hashLane))
    ).then(() => {
      wallMs = ms(start);
      done = true;
    });
    const adds: number[] = [];
    const addLane = async (adder: ServerProxy) => {
      for (let i = 0; !done && adds.length < MAX_ADDS; i++) {
        const sentAt = process.hrtime.bigint();
        await adder.call('add', i, 2);
        adds.push(ms(sentAt));
      }
    };
    await within(ROW_GUARD_MS, name, Promise.all([hashing, ...adders.map(addLane)]));
    const addWallMs = ms(start);
    const delay = await server.delay();
    adds.sort((a, b) => a - b);
    return { name, jobMs: server.jobMs, wallMs, delay, adds, addWallMs, hashes };
  } finally {
    await Promise.all([hasher, ...adders].map((p) => p.close()));
    await server.stop();
  }
}

/**
 * The pbkdf2Sync iteration count of `targetMs` of CPU time on this thread, scaled from `seed` (a
 * count calibrated by wall time to a short job), median of 5. CPU time: on a shared machine wall
 * time counts the time this thread waited for a core too, and 10 times a count calibrated by it
 * once came out at 86 ms instead of 200.
 */
export function calibrateCpu(seed: number, targetMs: number): number {
  const samples = Array.from({ length: 5 }, () => {
    const before = process.cpuUsage();
    work(seed);
    const used = process.cpuUsage(before);
    return (used.user + used.system) / 1000;
  }).sort((a, b) => a - b);
  return Math.max(1000, Math.round((seed * targetMs) / Math.max(samples[2]!, 0.1)));
}

/** The server mix: a heading and the table; `iterations` makes one `hash` call `hashMs` of CPU on the main thread. */
export async function mixTable(iterations: number, hashMs: number): Promise<string> {
  const cores = availableParallelism();
  const sizes = [...new Set([1, 2, cores])];
  // Each row has a fresh server, but this process's client code stays: in 3 runs of 3 baseline rows,
  // the first row's add rate was a quarter to a half of the later rows'. So a first one is thrown away.
  await mixRow('warm-up', 0, iterations, 0);
  const rows: MixRow[] = [];
  rows.push(await mixRow('add alone (no hash calls, 1 s)', 0, iterations, 0));
  rows.push(await mixRow('hash inline (registerFunction)', 0, iterations, HASH_CALLS));
  for (const size of sizes) {
    rows.push(await mixRow(`hash offloaded, pool size ${size}${size === cores ? ' (availableParallelism)' : ''}`, size, iterations, HASH_CALLS));
  }
  const f = (n: number) => `${n.toFixed(1)} ms`;
  const body = table(
    ['server mix', 'hash cpu ms', 'wall', 'delay p50', 'delay p99', 'max', 'add calls', 'add/s', 'add p50', 'add p99', 'hash/s'],
    rows.map((r) => [
      r.name,
      r.hashes === 0 ? '' : r.jobMs.toFixed(0),
      `${r.wallMs.toFixed(0)} ms`,
      f(r.delay.p50),
      f(r.delay.p99),
      f(r.delay.max),
      String(r.adds.length),
      formatRate((r.adds.length * 1000) / r.addWallMs),
      f(percentile(r.adds, 50)),
      f(percentile(r.adds, 99)),
      r.hashes === 0 ? '' : formatRate((r.hashes * 1000) / r.wallMs),
    ]),
  );
  const inline = rows[1]!;
  const offloaded = rows.slice(2);
  const held = offloaded.every((r) => r.delay.p99 < 20);
  const goal = [
    `Goal: loop delay p99 under 20 ms with offload while ${IN_FLIGHT} calls of ~${hashMs} ms run (without offload at least ${hashMs} ms).`,
    `This run: ${held ? 'held' : 'NOT held'} with offload (p99 ${offloaded.map((r) => f(r.delay.p99)).join(', ')} at pool sizes ${sizes.join(', ')}); inline p99 ${f(inline.delay.p99)} (${inline.delay.p99 >= hashMs ? `at least ${hashMs} ms, as expected` : `under ${hashMs} ms`}).`,
  ];
  const heading = `Server mix: ${HASH_CALLS} calls of hash(${iterations}) (${hashMs} ms of CPU for pbkdf2Sync on the main thread, calibrated by process.cpuUsage; 'hash cpu ms': one job timed so in the server), ${IN_FLIGHT} in flight, while ${ADD_CONNECTIONS} connections send add; the server is a child process, its loop delay measured there`;
  return `${heading}\n${body}\n${goal.join('\n')}`;
}
