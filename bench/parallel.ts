// Parallel calls: 1,000 calls of add(i, 1) spread over 1, 10 and 100 servers,
// with each strategy of runJobs, beside sequential calls (one ServerProxy per
// server, awaited one by one) and beside node-xmlrpc's client with
// Promise.all, in one run. The servers (our Server with the demo handler, all
// in one child process) run apart from the clients, so a client is measured
// with a core of its own where there are two.
//
// Standalone:       node dist/bench/parallel.js [--calls 1000] [--rounds 5]
// From bench/run.ts: import { runParallelBench } from './parallel.js'; console.log(await runParallelBench());
// Child (internal): node dist/bench/parallel.js --serve N

import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Server } from '../lib/server/server.js';
import { DemoHandler } from '../handlers/demo.js';
import { nodeXmlrpc, sequential, strategy, type Client } from './add-clients.js';
import { formatRate, table } from './measure.js';
import { stopByStdin } from './procs.js';

export interface ParallelBenchOptions {
  /** Calls per measurement. Default 1000. */
  calls?: number;
  /** Server counts. Default [1, 10, 100]. */
  servers?: number[];
  /** Timed rounds per cell (after three warm-up rounds); the median is kept. Default 5. */
  rounds?: number;
}

export interface ParallelBenchRow {
  client: string;
  /** calls/s per server count, in the order of `servers`. */
  rates: number[];
}

// prettier-ignore
const CLIENTS: [name: string, client: Client][] = [
  ['sequential (ServerProxy, await each)', sequential],
  ["runJobs 'concurrent'", strategy('concurrent')],
  ["runJobs 'pipelined'", strategy('pipelined')],
  ["runJobs 'hybrid' (loopback: pipelined)", strategy('hybrid')],
  ['node-xmlrpc client + Promise.all', nodeXmlrpc],
];

async function measure(client: Client, urls: string[], calls: number, rounds: number): Promise<number> {
  for (let i = 0; i < 3; i++) await client(urls, calls); // warm-up: the JIT, on both sides
  const rates: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const start = process.hrtime.bigint();
    await client(urls, calls);
    rates.push((calls * 1e9) / Number(process.hrtime.bigint() - start));
  }
  rates.sort((a, b) => a - b);
  return rates[Math.floor(rates.length / 2)]!;
}

/** Starts `n` servers in a child process; resolves to their URLs and a stop function. */
async function startServers(n: number): Promise<{ urls: string[]; stop(): Promise<void> }> {
  const child: ChildProcess = spawn(process.execPath, [fileURLToPath(import.meta.url), '--serve', String(n)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const stop = stopByStdin(child);
  const ports = await new Promise<number[]>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('bench: the servers did not start within 15 s')), 15_000);
    child.once('exit', (code) => reject(new Error(`bench: the server process exited (${String(code)})`)));
    createInterface({ input: child.stdout! }).once('line', (line) => {
      clearTimeout(timer);
      resolve(JSON.parse(line) as number[]);
    });
  }).catch(async (err: unknown) => {
    await stop();
    throw err;
  });
  return { urls: ports.map((port) => `http://127.0.0.1:${port}/RPC2`), stop };
}

/** Runs the bench; resolves to the printed table (and the rows, for a caller that wants numbers). */
export async function runParallelBench(options: ParallelBenchOptions = {}): Promise<{ text: string; rows: ParallelBenchRow[] }> {
  const calls = options.calls ?? 1000;
  const counts = options.servers ?? [1, 10, 100];
  const rounds = options.rounds ?? 5;
  const servers = await startServers(Math.max(...counts));
  const rows: ParallelBenchRow[] = [];
  try {
    for (const [name, client] of CLIENTS) {
      const rates: number[] = [];
      for (const n of counts) {
        // Let the sockets of the previous cell finish closing on both sides before timing the next.
        await new Promise((resolve) => setTimeout(resolve, 250));
        rates.push(await measure(client, servers.urls.slice(0, n), calls, rounds));
      }
      rows.push({ client: name, rates });
    }
  } finally {
    await servers.stop();
  }
  const base = rows[0]!.rates;
  const peer = rows[rows.length - 1]!.rates;
  const cell = (rate: number, i: number) => `${formatRate(rate)} (${(rate / base[i]!).toFixed(1)}x)`;
  const body = rows.map((row) => [row.client, ...row.rates.map(cell)]);
  const best = counts.map((_, i) => Math.max(...rows.slice(1, -1).map((r) => r.rates[i]!)));
  body.push(['best strategy / node-xmlrpc', ...best.map((b, i) => `${(b / peer[i]!).toFixed(2)}x`)]);
  const header = ['client', ...counts.map((n) => `${n} server${n === 1 ? '' : 's'}`)];
  const text =
    `Parallel calls: ${calls} x add(i, 1) over N servers (our Server, in a child process); calls/s, median of ${rounds} rounds (x sequential)\n\n` +
    table(header, body);
  return { text, rows };
}

/** The child: `n` servers on 127.0.0.1, ports printed as one JSON line; exits when stdin closes. */
async function serve(n: number): Promise<void> {
  const handler = new DemoHandler();
  const servers: Server[] = [];
  for (let i = 0; i < n; i++) servers.push(new Server({ handlers: [handler] }));
  const ports = await Promise.all(servers.map(async (s) => (await s.listen(0, '127.0.0.1')).port));
  process.stdout.write(`${JSON.stringify(ports)}\n`);
  process.stdin.resume();
  process.stdin.once('end', () => {
    void Promise.all(servers.map((s) => s.close())).then(() => process.exit(0));
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { serve: { type: 'string' }, calls: { type: 'string' }, rounds: { type: 'string' } },
  });
  if (values.serve !== undefined) {
    await serve(Number(values.serve));
    return;
  }
  const { text } = await runParallelBench({
    calls: values.calls === undefined ? undefined : Number(values.calls),
    rounds: values.rounds === undefined ? undefined : Number(values.rounds),
  });
  console.log(text);
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  });
}
