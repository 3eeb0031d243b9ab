// The client bench (issue 16): our client against our own server, beside
// the peers' clients against the same server, in one run. The server
// (bench/servers/ours.ts) runs in a child process pinned to core 0; this
// process, Python's client and wrk are pinned to core 1 (where taskset
// exists), so each client has a core of its own and the server another.
//
//   sequential: one call in flight, each awaited before the next:
//     ours       ServerProxy.add(i, 1) over one keep-alive connection
//     xmlrpc     npm `xmlrpc`'s client, keep-alive http.Agent
//     python     Python's xmlrpc.client.ServerProxy, a subprocess loop that prints its rate
//     undici     undici's Client.request, sending the same bytes (our dumps), the
//                response decoded by our parseMethodResponse: the HTTP floor for Node
//   32 in flight: 32 lanes, each awaiting its call before the next, through
//     one Transport (32 keep-alive sockets), beside what the server serves
//     wrk at 32 connections (the server's ceiling for this client to reach),
//     and undici's Pool of 32 for reference.
//
// Targets: sequential >= 1.5x xmlrpc, >= python, within 1.3x of undici;
// 32 in flight >= 0.8 of wrk.
//
// Standalone: node dist/bench/client.js [--round-ms 500] [--rounds 5] [--seconds 4]

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Client, Pool } from 'undici';
import xmlrpc from 'xmlrpc';
import { ServerProxy } from '../lib/client/proxy.js';
import { Transport } from '../lib/client/transport.js';
import { parseMethodResponse } from '../lib/xmlrpc/decode.js';
import { dumps } from '../lib/xmlrpc/encode.js';
import { findLoadTool } from './load.js';
import { formatRate, median, table } from './measure.js';
import { pinning, run, startServer, stop, which } from './procs.js';

const DIST = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(DIST, '..', '..');

export interface ClientBenchOptions {
  /** Timed rounds per client (median kept). Default 5. */
  rounds?: number;
  /** ms per round. Default 500. */
  roundMs?: number;
  /** wrk's run, seconds. Default 4. */
  seconds?: number;
}

export interface ClientBenchResult {
  text: string;
  /** This client's CPU time per call, µs (the sequential rows), by row: ours, xmlrpc, undici, python. */
  cpu: Record<string, number>;
  /** calls/s; NaN where a peer is missing. */
  ours: number;
  xmlrpc: number;
  python: number;
  undici: number;
  ours32: number;
  undici32: number;
  wrk32: number;
}

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`client bench: ${what}`);
}

const PYTHON_LOOP = `
import sys, time, xmlrpc.client
url, rounds, round_s = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
p = xmlrpc.client.ServerProxy(url)
for i in range(50):
    assert p.add(i, 1) == i + 1
rates = []
calls = 0
c0 = time.process_time()
for r in range(rounds):
    n = 0
    t0 = time.perf_counter()
    while n < 200000:
        assert p.add(n, 1) == n + 1
        n += 1
        if n % 50 == 0 and time.perf_counter() - t0 >= round_s:
            break
    rates.append(n / (time.perf_counter() - t0))
    calls += n
rates.sort()
print(rates[len(rates) // 2], (time.process_time() - c0) / calls * 1e6)
`;

/** Awaits `once` in rounds of `roundMs` after 50 warm-up calls: the median calls/s, and this process's CPU time per call (µs). */
async function sequential(once: () => Promise<void>, rounds: number, roundMs: number): Promise<{ rate: number; cpu: number }> {
  for (let i = 0; i < 50; i++) await once();
  const rates: number[] = [];
  let calls = 0;
  const c0 = process.cpuUsage();
  for (let r = 0; r < rounds; r++) {
    const start = process.hrtime.bigint();
    const end = start + BigInt(roundMs) * 1_000_000n;
    let n = 0;
    let now = start;
    while (n < 200_000 && now < end) {
      await once();
      n++;
      now = process.hrtime.bigint();
    }
    rates.push((n * 1e9) / Number(now - start));
    calls += n;
  }
  const c = process.cpuUsage(c0);
  return { rate: median(rates), cpu: (c.user + c.system) / calls };
}

/** `total` calls over `lanes` lanes, each awaiting its call before the next; calls/s, median of `rounds`. */
async function inFlight(lanes: number, total: number, rounds: number, call: (i: number) => Promise<void>): Promise<number> {
  const once = async (n: number) => {
    let next = 0;
    const start = process.hrtime.bigint();
    await Promise.all(
      Array.from({ length: lanes }, async () => {
        while (next < n) await call(next++);
      }),
    );
    return (n * 1e9) / Number(process.hrtime.bigint() - start);
  };
  await once(Math.min(total, 2000)); // warm-up: sockets, JIT
  const samples: number[] = [];
  for (let r = 0; r < rounds; r++) samples.push(await once(total));
  return median(samples);
}

/** This process's CPU affinity as taskset prints it, or null; pins it (all threads) to `core`. */
function pinSelf(core: number): string | null {
  const taskset = which('taskset');
  if (taskset === null || os.availableParallelism() < 2) return null;
  const now = spawnSync(taskset, ['-p', String(process.pid)], { encoding: 'utf8' });
  const mask = /:\s*([0-9a-f]+)\s*$/i.exec(now.stdout ?? '')?.[1] ?? null;
  if (mask === null) return null;
  spawnSync(taskset, ['-a', '-p', '-c', String(core), String(process.pid)], { stdio: 'ignore' });
  return mask;
}

function unpinSelf(mask: string | null): void {
  if (mask !== null) spawnSync(which('taskset')!, ['-a', '-p', mask, String(process.pid)], { stdio: 'ignore' });
}

export async function runClientBench(options: ClientBenchOptions = {}): Promise<ClientBenchResult> {
  const rounds = options.rounds ?? 5;
  const roundMs = options.roundMs ?? 500;
  const seconds = options.seconds ?? 4;
  const pin = pinning();
  const server = await startServer(pin.on(0, [process.execPath, path.join(DIST, 'servers', 'ours.js')]));
  const mask = pinSelf(1);
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'medusa-client-bench-'));
  const origin = `http://127.0.0.1:${server.port}`;
  const url = `${origin}/RPC2`;
  const r: ClientBenchResult = { text: '', cpu: {}, ours: NaN, xmlrpc: NaN, python: NaN, undici: NaN, ours32: NaN, undici32: NaN, wrk32: NaN };
  const notes: string[] = [];
  const measure = async (key: 'ours' | 'xmlrpc' | 'undici', once: () => Promise<void>) => {
    const m = await sequential(once, rounds, roundMs);
    r[key] = m.rate;
    r.cpu[key] = m.cpu;
  };
  if (pin.note !== null) notes.push(pin.note);
  try {
    // Ours: ServerProxy over its own keep-alive connection.
    {
      const proxy = new ServerProxy(url);
      let i = 0;
      await measure('ours', async () => {
        const n = i++;
        check((await proxy.add(n, 1)) === n + 1, 'ours: wrong sum');
      });
      await proxy.close();
    }
    // npm xmlrpc: its client over a keep-alive agent (its default agent would open a socket per call).
    {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      const client = xmlrpc.createClient({ host: '127.0.0.1', port: server.port, path: '/RPC2', agent } as Parameters<typeof xmlrpc.createClient>[0]);
      let i = 0;
      await measure(
        'xmlrpc',
        () =>
          new Promise<void>((resolve, reject) => {
            const n = i++;
            client.methodCall('add', [n, 1], (err: unknown, value: unknown) =>
              err ? reject(err as Error) : (check(value === n + 1, 'xmlrpc: wrong sum'), resolve()),
            );
          }),
      );
      agent.destroy();
    }
    // undici: the same bytes our ServerProxy sends, our decoder on the answer.
    {
      const client = new Client(origin, { pipelining: 1 });
      let i = 0;
      await measure('undici', async () => {
        const n = i++;
        const res = await client.request({ path: '/RPC2', method: 'POST', headers: { 'content-type': 'text/xml' }, body: dumps([n, 1], 'add') });
        check(res.statusCode === 200, `undici: status ${res.statusCode}`);
        check(parseMethodResponse(Buffer.from(await res.body.arrayBuffer())) === n + 1, 'undici: wrong sum');
      });
      await client.close();
    }
    // Python's xmlrpc.client, in a subprocess on the client's core.
    const python = which('python3');
    if (python === null) notes.push('python3 not found: no Python row');
    else {
      const out = await run(pin.on(1, [python, '-c', PYTHON_LOOP, url, String(rounds), String(roundMs / 1000)]), 120_000);
      const [rate, cpu] = out.stdout.trim().split(/\s+/).map(Number);
      if (out.code === 0 && Number.isFinite(rate)) [r.python, r.cpu['python']] = [rate!, cpu!];
      else notes.push(`python: ${out.timedOut ? 'timed out' : out.stderr.trim().split('\n').at(-1)}`);
    }
    // 32 in flight through one Transport.
    const total = Math.max(2000, Math.round((roundMs / 1000) * 20_000));
    {
      const transport = new Transport({ maxSocketsPerHost: 32 });
      const proxy = new ServerProxy(url, { transport });
      r.ours32 = await inFlight(32, total, rounds, async (n) => check((await proxy.add(n, 1)) === n + 1, 'ours 32: wrong sum'));
      await transport.close();
    }
    {
      const pool = new Pool(origin, { connections: 32, pipelining: 1 });
      r.undici32 = await inFlight(32, total, rounds, async (n) => {
        const res = await pool.request({ path: '/RPC2', method: 'POST', headers: { 'content-type': 'text/xml' }, body: dumps([n, 1], 'add') });
        check(parseMethodResponse(Buffer.from(await res.body.arrayBuffer())) === n + 1, 'undici 32: wrong sum');
      });
      await pool.close();
    }
    // What the server serves wrk (on the client's core) at 32 connections.
    const tool = findLoadTool(pin, path.join(ROOT, 'bench', 'wrk'), ROOT, process.env['BENCH_LOAD_TOOL']);
    if (tool === null) notes.push('wrk not found: no ceiling for the 32-in-flight row');
    else {
      const bodyFile = path.join(tmp, 'add.xml');
      writeFileSync(bodyFile, dumps([40, 2], 'add'));
      const load = await tool.run({ url, bodyFile, connections: 32, depth: 1, seconds });
      r.wrk32 = load.perSec;
      if (load.errors !== '') notes.push(`${tool.name}: ${load.errors}`);
    }
  } finally {
    unpinSelf(mask);
    await stop(server.child);
    rmSync(tmp, { recursive: true, force: true });
  }
  const ratio = (a: number, b: number) => (Number.isFinite(a) && Number.isFinite(b) ? `${(a / b).toFixed(2)}x` : '-');
  const rate = (x: number) => (Number.isFinite(x) ? formatRate(x) : '-');
  const us = (x: number) => (Number.isFinite(x) ? `${(1e6 / x).toFixed(0)} µs` : '-');
  const cpu = (k: string) => (Number.isFinite(r.cpu[k]) ? `${r.cpu[k]!.toFixed(1)} µs` : '-');
  const seq = table(
    ['sequential add(i, 1), one in flight', 'calls/s', 'per call', 'client CPU/call', 'ours / it', 'target'],
    [
      ['ours: ServerProxy (one keep-alive socket)', rate(r.ours), us(r.ours), cpu('ours'), '', ''],
      ['npm xmlrpc client (keep-alive agent)', rate(r.xmlrpc), us(r.xmlrpc), cpu('xmlrpc'), ratio(r.ours, r.xmlrpc), '>= 1.50x'],
      ["Python's xmlrpc.client (subprocess)", rate(r.python), us(r.python), cpu('python'), ratio(r.ours, r.python), '>= 1.00x'],
      ['undici Client.request, same bytes, our codec', rate(r.undici), us(r.undici), cpu('undici'), ratio(r.ours, r.undici), '>= 0.77x (within 1.3x)'],
    ],
  );
  const par = table(
    ['add(i, 1), 32 in flight', 'calls/s', 'ours / it', 'target'],
    [
      ['ours: one Transport, 32 sockets', rate(r.ours32), '', ''],
      ['wrk, 32 connections (the server alone)', rate(r.wrk32), ratio(r.ours32, r.wrk32), '>= 0.80x'],
      ['undici Pool of 32, same bytes, our codec', rate(r.undici32), ratio(r.ours32, r.undici32), ''],
    ],
  );
  r.text =
    `Clients against our server (pinned to core 0), each client on core 1; median of ${rounds} rounds of ${roundMs} ms (wrk: ${seconds} s)\n\n` +
    `${seq}\n\n${par}` +
    (notes.length > 0 ? `\n\n${notes.map((n) => `note: ${n}`).join('\n')}` : '');
  return r;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { rounds: { type: 'string' }, 'round-ms': { type: 'string' }, seconds: { type: 'string' } } });
  const opts: ClientBenchOptions = {};
  if (values.rounds !== undefined) opts.rounds = Number(values.rounds);
  if (values['round-ms'] !== undefined) opts.roundMs = Number(values['round-ms']);
  if (values.seconds !== undefined) opts.seconds = Number(values.seconds);
  console.log((await runClientBench(opts)).text);
}
