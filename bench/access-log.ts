// The access log's cost on the hot path: `add` calls per second on the demo
// server with the access log off, with only a no-op onRequest (what making
// the record costs) and on (combined format, appended to a file), in the
// same run. Each server runs in a child process of its own;
// the rounds alternate off, on, off, on... so that drift in the machine's
// load falls on both alike, and the median of each is kept. The load is a
// raw closed loop: 32 keep-alive connections, one request in flight each.
// Throughput on a shared machine swings with whatever else runs, so the
// server's own CPU time per request (process.cpuUsage() in the child, over
// the same rounds) is reported beside it: that is the cost logging adds.
// The figure kept is the median of each pair's ratio (round i on, over round
// i off), which a load that drifts over the run moves least.
// Goal (issue 13): on within 10% of off (CPU per request, on / off <= 1.10).
//
// Standalone:       node dist/bench/access-log.js [--rounds 7] [--seconds 1]
// From bench/run.ts: import { runAccessLogBench } from './access-log.js';
// Child (internal): node dist/bench/access-log.js --serve off|noop|<format>:<file>

import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Server } from '../lib/server/server.js';
import { accessRecord, combinedLine, type AccessLogFormat } from '../lib/server/access-log.js';
import { Request } from '../lib/server/request.js';
import type { MessageHead } from '../lib/http/parser.js';
import { DemoHandler } from '../handlers/demo.js';
import { dumps } from '../lib/xmlrpc/encode.js';
import { formatRate, median, rate, table } from './measure.js';
import { stopByStdin } from './procs.js';

export interface AccessLogBenchOptions {
  /** Timed rounds per server (after a warm-up round each); the median is kept. Default 7. */
  rounds?: number;
  /** Seconds per round. Default 1. */
  seconds?: number;
}

const CONNECTIONS = 32;
const BODY = dumps([1, 2], 'add');
const REQUEST = Buffer.from(
  `POST /RPC2 HTTP/1.1\r\nHost: bench\r\nUser-Agent: bench\r\nContent-Type: text/xml\r\nContent-Length: ${Buffer.byteLength(BODY)}\r\n\r\n${BODY}`,
  'latin1',
);

/** Starts a server in a child process; resolves to its port and a stop function. */
interface Child {
  port: number;
  /** The child's CPU time (µs, user + system) and requests answered so far. */
  usage(): Promise<{ cpuUs: number; requests: number }>;
  stop(): Promise<void>;
}

async function startServer(log: string): Promise<Child> {
  const child: ChildProcess = spawn(process.execPath, [fileURLToPath(import.meta.url), '--serve', log], { stdio: ['pipe', 'pipe', 'inherit'] });
  const stop = stopByStdin(child);
  const lines = createInterface({ input: child.stdout! });
  const next = () => new Promise<string>((resolve) => lines.once('line', resolve));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('bench: the server did not start within 15 s')), 15_000);
    child.once('exit', (code) => reject(new Error(`bench: the server process exited (${String(code)})`)));
    void next().then((line) => {
      clearTimeout(timer);
      resolve(Number(line));
    });
  }).catch(async (err: unknown) => {
    await stop();
    throw err;
  });
  const usage = async () => {
    const answer = next();
    child.stdin!.write('usage\n');
    return JSON.parse(await answer) as { cpuUs: number; requests: number };
  };
  return { port, usage, stop };
}

/** The length of one response to REQUEST (every one is the same bytes). */
async function responseLength(port: number): Promise<number> {
  const socket = net.connect(port, '127.0.0.1');
  let got = Buffer.alloc(0);
  try {
    return await new Promise<number>((resolve, reject) => {
      socket.on('error', reject);
      socket.on('data', (chunk: Buffer) => {
        got = Buffer.concat([got, chunk]);
        const headEnd = got.indexOf('\r\n\r\n');
        if (headEnd < 0) return;
        const length = Number(/\r\ncontent-length: *(\d+)/i.exec(got.subarray(0, headEnd).toString('latin1'))?.[1]);
        if (got.length >= headEnd + 4 + length) resolve(headEnd + 4 + length);
      });
      socket.write(REQUEST);
    });
  } finally {
    socket.destroy();
  }
}

/** Requests per second over `ms`: CONNECTIONS closed loops, each sending the next request when a whole response is in. */
async function round(port: number, size: number, ms: number): Promise<number> {
  let responses = 0;
  let running = true;
  const sockets = await Promise.all(
    Array.from(
      { length: CONNECTIONS },
      () =>
        new Promise<net.Socket>((resolve, reject) => {
          const socket = net.connect(port, '127.0.0.1', () => resolve(socket));
          socket.setNoDelay(true);
          socket.once('error', reject);
        }),
    ),
  );
  const start = process.hrtime.bigint();
  for (const socket of sockets) {
    let pending = 0;
    socket.on('data', (chunk: Buffer) => {
      pending += chunk.length;
      while (pending >= size) {
        pending -= size;
        responses++;
        if (running) socket.write(REQUEST);
      }
    });
    socket.write(REQUEST);
  }
  await new Promise((resolve) => setTimeout(resolve, ms));
  running = false;
  const counted = responses;
  const elapsed = Number(process.hrtime.bigint() - start);
  for (const socket of sockets) socket.destroy();
  return (counted * 1e9) / elapsed;
}

export interface AccessLogBenchRow {
  name: string;
  /** add calls/s, median. */
  rate: number;
  /** Server CPU µs per request, median. */
  cpuUs: number;
  /** The median over rounds of this row's CPU per request over the same round's 'off': what it multiplies a request's cost by. */
  ratio: number;
  samples: number[];
}

export interface AccessLogBenchResult {
  rows: AccessLogBenchRow[];
  /** µs per request of the logging work alone, in a loop in this process: the record, its combined line, appending it to a batch. */
  loggingUs: number;
  text: string;
}

/** The access log's own work for one request, timed in a loop here, where the load of the machine moves it least. */
function loggingWork(): number {
  const head = {
    method: 'POST',
    target: '/RPC2',
    versionMinor: 1,
    headers: ['host', 'bench', 'user-agent', 'bench', 'content-type', 'text/xml', 'content-length', '150'],
  };
  const request = new Request(head as unknown as MessageHead, '127.0.0.1', 50000);
  request.rpcMethod = 'add';
  const socket = new net.Socket();
  let batch = '';
  const once = () => {
    batch += combinedLine(accessRecord(request, socket, 1, 1, 200, 300, 250, 17));
    if (batch.length >= 16 * 1024) batch = '';
  };
  return rate(once, { rounds: 7, roundMs: 200 }).usPerOp;
}

/** A round on `server`: calls/s seen by the client, and the server's CPU µs per request over it. */
async function measured(server: Child, size: number, ms: number): Promise<[number, number]> {
  const before = await server.usage();
  const perSec = await round(server.port, size, ms);
  const after = await server.usage();
  return [perSec, (after.cpuUs - before.cpuUs) / Math.max(1, after.requests - before.requests)];
}

export async function runAccessLogBench(options: AccessLogBenchOptions = {}): Promise<AccessLogBenchResult> {
  const rounds = options.rounds ?? 7;
  const ms = (options.seconds ?? 1) * 1000;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xmlrpc-bench-log-'));
  // BENCH_ACCESS_LOG=/dev/null, say, to leave the file system out of it.
  const file = process.env.BENCH_ACCESS_LOG ?? path.join(dir, 'access.log');
  const configs = [
    { name: 'off', serve: 'off' },
    { name: 'onRequest: a no-op (the record alone)', serve: 'noop' },
    { name: 'on (combined, to a file)', serve: `combined:${file}` },
  ];
  const servers: Child[] = [];
  const rates = configs.map(() => [] as number[]);
  const cpu = configs.map(() => [] as number[]);
  try {
    for (const config of configs) servers.push(await startServer(config.serve));
    const size = await responseLength(servers[0]!.port);
    for (const server of servers) {
      if ((await responseLength(server.port)) !== size) throw new Error('bench: the servers answer differently');
      await round(server.port, size, 300); // warm-up: JIT, sockets
    }
    for (let r = 0; r < rounds; r++) {
      // Which goes first turns round by round.
      for (let k = 0; k < servers.length; k++) {
        const at = (k + r) % servers.length;
        const [rate, us] = await measured(servers[at]!, size, ms);
        rates[at]![r] = rate;
        cpu[at]![r] = us;
      }
    }
  } finally {
    for (const server of servers) await server.stop();
  }
  const lines = process.env.BENCH_ACCESS_LOG === undefined ? fs.readFileSync(file, 'latin1').split('\n').length - 1 : NaN;
  fs.rmSync(dir, { recursive: true, force: true });
  const rows = configs.map((config, i) => ({
    name: config.name,
    rate: median(rates[i]!),
    cpuUs: median(cpu[i]!),
    ratio: median(cpu[i]!.map((us, r) => us / cpu[0]![r]!)),
    samples: cpu[i]!,
  }));
  const loggingUs = loggingWork();
  const us = (s: number) => s.toFixed(1);
  const text =
    table(
      ['server', 'add calls/s', 'CPU µs/request', 'CPU / off', 'CPU µs/request, each round'],
      rows.map((row) => [row.name, formatRate(row.rate), us(row.cpuUs), `${row.ratio.toFixed(3)}x`, row.samples.map(us).join(' ')]),
    ) +
    `\n\nmedians of ${rounds} rounds of ${ms / 1000} s each; CPU / off: the median of the rounds' ratios (goal for the access log: at most 1.10x); ` +
    `${lines} lines logged; load average ${os.loadavg()[0]!.toFixed(1)} on ${os.availableParallelism()} cores\n` +
    `the logging work alone (record, combined line, batch), in a loop: ${loggingUs.toFixed(2)} µs per request, ` +
    `${((100 * loggingUs) / rows[0]!.cpuUs).toFixed(1)}% of the off server's CPU per request`;
  return { rows, loggingUs, text };
}

async function serve(log: string): Promise<void> {
  let accessLog: { format: AccessLogFormat; to: string } | undefined;
  if (log !== 'off' && log !== 'noop') {
    const colon = log.indexOf(':');
    accessLog = { format: log.slice(0, colon) as AccessLogFormat, to: log.slice(colon + 1) };
  }
  const server = new Server({ handlers: [new DemoHandler()], accessLog, onRequest: log === 'noop' ? () => {} : undefined });
  const { port } = await server.listen(0, '127.0.0.1');
  process.stdout.write(`${port}\n`);
  createInterface({ input: process.stdin }).on('line', () => {
    const { user, system } = process.cpuUsage();
    process.stdout.write(JSON.stringify({ cpuUs: user + system, requests: server.stats().requests }) + '\n');
  });
  process.stdin.once('end', () => void server.close({ timeout: 0 }));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { serve: { type: 'string' }, rounds: { type: 'string' }, seconds: { type: 'string' } } });
  if (values.serve !== undefined) {
    await serve(values.serve);
  } else {
    const opts: AccessLogBenchOptions = {};
    if (values.rounds !== undefined) opts.rounds = Number(values.rounds);
    if (values.seconds !== undefined) opts.seconds = Number(values.seconds);
    console.log('Access log: add calls per second, the demo server with the access log off and on, same run\n');
    console.log((await runAccessLogBench(opts)).text);
  }
}
