// Remote objects: what the object layer costs. Method calls per second on a
// remote object (ObjectClient, `await w.add(i, 1)`: one objects.call each)
// beside plain ServerProxy calls of a registered `add` on the same
// ObjectServer, in the same run: one call in flight on one connection, then
// 32 in flight (32 lanes, each awaiting its call before the next, over up to
// 32 keep-alive connections). The server runs in a child process, so on two
// cores the client has one of its own. Goal (issue 11): object calls within
// 1.3x of plain calls.
//
// Standalone:       node dist/bench/objects.js [--rounds 5] [--calls 4000]
// From bench/run.ts: import { runObjectsBench } from './objects.js'; console.log(await runObjectsBench());
// Child (internal): node dist/bench/objects.js --serve

import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ServerProxy } from '../lib/client/proxy.js';
import { Transport } from '../lib/client/transport.js';
import { ObjectClient } from '../lib/objects/client.js';
import { ObjectServer } from '../lib/objects/server.js';
import { Server } from '../lib/server/server.js';
import { formatRate, median, table } from './measure.js';
import { stopByStdin } from './procs.js';

export interface ObjectsBenchOptions {
  /** Timed rounds per cell (after a warm-up round); the median is kept. Default 5. */
  rounds?: number;
  /** Calls per round. Default 4000. */
  calls?: number;
}

export interface ObjectsBenchRow {
  inFlight: number;
  plain: number;
  objects: number;
  /** plain / objects: how many times slower the object layer is. */
  ratio: number;
}

class Adder {
  add(a: number, b: number): number {
    return a + b;
  }
}

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`bench: ${what}`);
}

/** `total` calls over `lanes` lanes, each awaiting its call before the next; calls/s. */
async function lanes(lanes: number, total: number, call: (i: number) => Promise<void>): Promise<number> {
  let next = 0;
  const start = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: lanes }, async () => {
      while (next < total) await call(next++);
    }),
  );
  return (total * 1e9) / Number(process.hrtime.bigint() - start);
}

async function measure(rounds: number, total: number, inFlight: number, call: (i: number) => Promise<void>): Promise<number> {
  await lanes(inFlight, Math.min(total, 1000), call); // warm-up: connections, JIT
  const samples: number[] = [];
  for (let r = 0; r < rounds; r++) samples.push(await lanes(inFlight, total, call));
  return median(samples);
}

/** Starts the ObjectServer in a child process; resolves to its URL and a stop function. */
async function startServer(): Promise<{ url: string; stop(): Promise<void> }> {
  const child: ChildProcess = spawn(process.execPath, [fileURLToPath(import.meta.url), '--serve'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const stop = stopByStdin(child);
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('bench: the server did not start within 15 s')), 15_000);
    child.once('exit', (code) => reject(new Error(`bench: the server process exited (${String(code)})`)));
    createInterface({ input: child.stdout! }).once('line', (line) => {
      clearTimeout(timer);
      resolve(Number(line));
    });
  }).catch(async (err: unknown) => {
    await stop();
    throw err;
  });
  return { url: `http://127.0.0.1:${port}/RPC2`, stop };
}

/** Runs the bench; resolves to the printed table (and the rows, for a caller that wants numbers). */
export async function runObjectsBench(options: ObjectsBenchOptions = {}): Promise<{ text: string; rows: ObjectsBenchRow[] }> {
  const rounds = options.rounds ?? 5;
  const calls = options.calls ?? 4000;
  const server = await startServer();
  const rows: ObjectsBenchRow[] = [];
  try {
    for (const inFlight of [1, 32]) {
      const plainTransport = new Transport({ maxSocketsPerHost: inFlight });
      const plain = new ServerProxy(server.url, { transport: plainTransport });
      const objs = new ObjectClient(server.url, { maxSocketsPerHost: inFlight });
      try {
        const w = await objs.create<Adder>('Adder');
        const plainRate = await measure(rounds, calls, inFlight, async (i) => check((await plain.add(i, 1)) === i + 1, 'plain: wrong sum'));
        const objectRate = await measure(rounds, calls, inFlight, async (i) => check((await w.add(i, 1)) === i + 1, 'object: wrong sum'));
        await w.$release();
        rows.push({ inFlight, plain: plainRate, objects: objectRate, ratio: plainRate / objectRate });
      } finally {
        await plain.close();
        await objs.close();
      }
    }
  } finally {
    await server.stop();
  }
  const text = table(
    ['in flight', 'ServerProxy add', 'ObjectProxy w.add', 'plain / object'],
    rows.map((r) => [String(r.inFlight), formatRate(r.plain), formatRate(r.objects), `${r.ratio.toFixed(2)}x`]),
  );
  return { text, rows };
}

async function serve(): Promise<void> {
  const objects = new ObjectServer({ classes: { Adder } });
  objects.registerFunction((a: number, b: number) => a + b, 'add');
  const server = new Server({ handlers: [objects] });
  const { port } = await server.listen(0, '127.0.0.1');
  process.stdout.write(`${port}\n`);
  process.stdin.resume();
  process.stdin.once('end', () => {
    void server.close().then(() => objects.close());
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { serve: { type: 'boolean' }, rounds: { type: 'string' }, calls: { type: 'string' } } });
  if (values.serve === true) {
    await serve();
  } else {
    const opts: ObjectsBenchOptions = {};
    if (values.rounds !== undefined) opts.rounds = Number(values.rounds);
    if (values.calls !== undefined) opts.calls = Number(values.calls);
    console.log('Remote objects: method calls per second, ObjectProxy beside plain ServerProxy calls to the same server, same run\n');
    console.log((await runObjectsBench(opts)).text);
  }
}
