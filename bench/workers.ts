// Workers: `add` and `echo struct` throughput of `npm start -- --workers N`
// (serveWorkers, node:cluster) with 1 worker and with one per core, in one
// run, and each worker's peak RSS (from the primary's stats, SIGUSR2). The
// load generator is this process, runJobs 'concurrent' over 16 connections:
// on a 2-core machine it takes a core of its own, so N workers share what is
// left with it and with the primary (the table says so).
//
// Standalone: node dist/bench/workers.js [--calls 20000]

import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runJobs, type Job } from '../lib/client/parallel.js';
import { formatRate, table } from './measure.js';

const CLI = fileURLToPath(new URL('../handlers/cli.js', import.meta.url));
const CONNECTIONS = 16;
const STRUCT = { name: 'worker bench', id: 12345, ratio: 0.5, tags: ['a', 'b', 'c'], nested: { ok: true, when: 'now' } };

interface Primary {
  port: number;
  stats(): Promise<{ workers: { id: number; maxRss: number | null }[] }>;
  stop(): Promise<void>;
}

async function startPrimary(workers: number): Promise<Primary> {
  const child = spawn(process.execPath, [CLI, '--port', '0', '--workers', String(workers), '--inline-codec', '--no-access-log'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const lines = createInterface({ input: child.stdout! });
  const line = (pattern: RegExp) =>
    new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`workers bench: no line like ${String(pattern)} within 30 s`)), 30_000);
      const on = (l: string) => {
        if (!pattern.test(l)) return;
        lines.off('line', on);
        clearTimeout(timer);
        resolve(l);
      };
      lines.on('line', on);
    });
  let listening: string;
  try {
    listening = await line(/listening on http:\/\/127\.0\.0\.1:\d+\/RPC2 with/);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return {
    port: Number(/:(\d+)\/RPC2/.exec(listening)![1]),
    stats: async () => {
      const next = line(/^\{"workers"/);
      child.kill('SIGUSR2');
      return JSON.parse(await next) as { workers: { id: number; maxRss: number | null }[] };
    },
    stop: async () => {
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      child.kill('SIGTERM');
      await exited;
      clearTimeout(timer);
    },
  };
}

async function rate(url: string, method: string, params: unknown[], calls: number): Promise<number> {
  const jobs: Job[] = Array.from({ length: calls }, () => [url, method, params] as const);
  const run = async () => {
    const out = await runJobs(jobs, { strategy: 'concurrent', maxConnectionsPerHost: CONNECTIONS, timeout: 60_000 });
    const failed = out.find(([, e]) => e !== null);
    if (failed !== undefined) throw new Error(`workers bench: a call failed: ${String(failed[1])}`);
  };
  await run(); // warm-up: the JIT in every worker
  const start = process.hrtime.bigint();
  await run();
  return (calls * 1e9) / Number(process.hrtime.bigint() - start);
}

export async function runWorkersBench(options: { calls?: number } = {}): Promise<string> {
  const calls = options.calls ?? 20_000;
  const cores = availableParallelism();
  const counts = [...new Set([1, cores])];
  const body: string[][] = [];
  for (const n of counts) {
    const primary = await startPrimary(n);
    try {
      const url = `http://127.0.0.1:${primary.port}/RPC2`;
      const add = await rate(url, 'add', [2, 3], calls);
      const echo = await rate(url, 'echo', [STRUCT], calls);
      const { workers } = await primary.stats();
      const rss = workers.map((w) => (w.maxRss === null ? '?' : `${(w.maxRss / 2 ** 20).toFixed(0)}`)).join(', ');
      body.push([`${n} worker${n === 1 ? '' : 's'}`, formatRate(add), formatRate(echo), rss]);
    } finally {
      await primary.stop();
    }
  }
  const note =
    cores <= 2
      ? `${cores} cores: the load generator (this process) takes one, so the workers and the primary share what is left; the N-worker row is not a per-core figure.`
      : `${cores} cores; the load generator (this process) runs on one of them.`;
  return (
    `Workers: ${calls} calls each of add(2, 3) and echo(struct), runJobs 'concurrent' over ${CONNECTIONS} connections, after a warm-up of as many; ${note}\n\n` +
    table(['server', 'add calls/s', 'echo struct calls/s', 'peak RSS per worker, MiB'], body)
  );
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { calls: { type: 'string' } } });
  const calls = values.calls === undefined ? undefined : Number(values.calls);
  if (calls !== undefined && !(Number.isInteger(calls) && calls > 0)) throw new RangeError(`--calls must be a positive integer, not ${values.calls}`);
  console.log(await runWorkersBench({ calls }));
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  });
}
