// Fleets with latency: calls of add(i, 1) over 1, 10 and 50 "hosts", each a
// server on its own loopback address (127.0.1.N) behind a delaying relay on
// another (127.0.2.N, bench/relay.ts) that holds every chunk `delay` ms each
// way (a round trip of 2 x delay) and a new connection for one round trip.
// Sequential calls, runJobs' three strategies and node-xmlrpc with
// Promise.all, in one run. The servers and relays run in a child process,
// apart from the clients.
//
// The goal it checks: 1,000 calls over 50 hosts at a 20 ms round trip finish
// within 1.5x the time of the slowest host's share (its 20 calls alone, the
// same strategy), with 'pipelined' using at most one connection per host.
//
// Standalone:        node dist/bench/fleet.js [--calls 1000] [--rounds 3] [--delay 10]
// Child (internal):  node dist/bench/fleet.js --serve N --delay D

import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Server } from '../lib/server/server.js';
import { DemoHandler } from '../handlers/demo.js';
import { DelayRelay } from './relay.js';
import { nodeXmlrpc, sequential, strategy, type Client } from './add-clients.js';
import { formatRate, table } from './measure.js';
import { stopByStdin } from './procs.js';

export interface FleetBenchOptions {
  calls?: number;
  hosts?: number[];
  rounds?: number;
  /** ms each way (default 10: a 20 ms round trip). */
  delay?: number;
  /** Sequential calls per cell (default 100: 1,000 at 20 ms would be 20 s a round). */
  sequentialCalls?: number;
}

/** Median seconds of `rounds` timed runs, after one warm-up. */
async function seconds(client: Client, urls: string[], calls: number, rounds: number): Promise<number> {
  await client(urls, calls);
  const times: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const start = process.hrtime.bigint();
    await client(urls, calls);
    times.push(Number(process.hrtime.bigint() - start) / 1e9);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

interface Fleet {
  urls: string[];
  /** Connections each relay accepted since the last call. */
  accepted(): Promise<number[]>;
  stop(): Promise<void>;
}

async function startFleet(n: number, delay: number): Promise<Fleet> {
  const child: ChildProcess = spawn(process.execPath, [fileURLToPath(import.meta.url), '--serve', String(n), '--delay', String(delay)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! });
  const next = () =>
    new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('fleet bench: the fleet did not answer within 15 s')), 15_000);
      lines.once('line', (line) => {
        clearTimeout(timer);
        resolve(line);
      });
    });
  const stop = stopByStdin(child);
  const ports = JSON.parse(await next()) as number[];
  return {
    urls: ports.map((port, i) => `http://127.0.2.${i + 1}:${port}/RPC2`),
    accepted: async () => {
      child.stdin!.write('accepted\n');
      return JSON.parse(await next()) as number[];
    },
    stop,
  };
}

export async function runFleetBench(options: FleetBenchOptions = {}): Promise<{ text: string; ratio: number; pipelinedConnections: number }> {
  const calls = options.calls ?? 1000;
  const hosts = options.hosts ?? [1, 10, 50];
  const rounds = options.rounds ?? 3;
  const delay = options.delay ?? 10;
  const seqCalls = options.sequentialCalls ?? 100;
  const fleet = await startFleet(Math.max(...hosts), delay);
  const clients: [string, Client, number][] = [
    [`sequential (ServerProxy, await each; ${seqCalls} calls)`, sequential, seqCalls],
    ["runJobs 'concurrent'", strategy('concurrent', 60_000), calls],
    ["runJobs 'pipelined'", strategy('pipelined', 60_000), calls],
    ["runJobs 'hybrid'", strategy('hybrid', 60_000), calls],
    ['node-xmlrpc client + Promise.all', nodeXmlrpc, calls],
  ];
  const body: string[][] = [];
  let ratio = NaN;
  let pipelinedConnections = NaN;
  let share = NaN;
  let whole = NaN;
  try {
    for (const [name, client, n] of clients) {
      const cells: string[] = [];
      for (const h of hosts) {
        const urls = fleet.urls.slice(0, h);
        await fleet.accepted();
        const s = await seconds(client, urls, n, rounds);
        const perHost = await fleet.accepted();
        cells.push(`${formatRate(n / s)} (${(s * 1000).toFixed(0)} ms)`);
        if (name.includes("'pipelined'") && h === Math.max(...hosts)) {
          // Warm-up and timed rounds each start with no connection: per round, per host.
          pipelinedConnections = Math.max(...perHost) / (rounds + 1);
          whole = s;
          // The slowest host's share: its calls alone, the same strategy, to one host.
          share = await seconds(client, fleet.urls.slice(0, 1), Math.ceil(n / h), rounds);
          ratio = whole / share;
        }
      }
      body.push([name, ...cells]);
    }
  } finally {
    await fleet.stop();
  }
  const header = ['client', ...hosts.map((h) => `${h} host${h === 1 ? '' : 's'}`)];
  const max = Math.max(...hosts);
  const text =
    `Fleet: ${calls} x add(i, 1) over N hosts, each behind a relay adding ${delay} ms each way (${2 * delay} ms round trip); calls/s (median round time), median of ${rounds} rounds\n\n` +
    table(header, body) +
    `\n\ngoal: ${calls} calls over ${max} hosts within 1.5x the slowest host's share (${Math.ceil(calls / max)} calls to one host, same strategy):\n` +
    `  pipelined: ${(whole * 1000).toFixed(0)} ms for all, ${(share * 1000).toFixed(0)} ms for one host's share: ${ratio.toFixed(2)}x (${ratio <= 1.5 ? 'met' : 'NOT met'}); ` +
    `connections per host per round, most: ${pipelinedConnections.toFixed(2)} (${pipelinedConnections <= 1 ? 'met' : 'NOT met'})`;
  return { text, ratio, pipelinedConnections };
}

/** The child: `n` servers on 127.0.1.N and their relays on 127.0.2.N; relay ports printed as one JSON line. */
async function serve(n: number, delay: number): Promise<void> {
  const handler = new DemoHandler();
  const servers: Server[] = [];
  const relays: DelayRelay[] = [];
  const ports: number[] = [];
  for (let i = 0; i < n; i++) {
    const server = new Server({ handlers: [handler] });
    const { port } = await server.listen(0, `127.0.1.${i + 1}`);
    const relay = new DelayRelay({ target: { host: `127.0.1.${i + 1}`, port }, host: `127.0.2.${i + 1}`, delay });
    ports.push((await relay.listen()).port);
    servers.push(server);
    relays.push(relay);
  }
  process.stdout.write(`${JSON.stringify(ports)}\n`);
  let last = relays.map(() => 0);
  createInterface({ input: process.stdin }).on('line', () => {
    const now = relays.map((r) => r.accepted);
    process.stdout.write(`${JSON.stringify(now.map((a, i) => a - last[i]!))}\n`);
    last = now;
  });
  process.stdin.once('end', () => {
    void Promise.all([...relays.map((r) => r.close()), ...servers.map((s) => s.close({ timeout: 0 }))]).then(() => process.exit(0));
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { serve: { type: 'string' }, delay: { type: 'string' }, calls: { type: 'string' }, rounds: { type: 'string' } },
  });
  const delay = values.delay === undefined ? 10 : Number(values.delay);
  if (values.serve !== undefined) {
    await serve(Number(values.serve), delay);
    return;
  }
  const { text } = await runFleetBench({
    delay,
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
