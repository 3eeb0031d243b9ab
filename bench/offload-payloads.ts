// Large payloads off the event loop (issue 10): `add` latency on one
// connection while 4 clients send 8 MB echoes nonstop on four others, against
// the demo server (`npm start`, a child process) with its default codec
// offload (bodies and results over 256 KiB decoded and encoded on worker
// threads) and with `--inline-codec` (everything on the event loop).
//
// The echo clients run in a worker thread of this process and the `add`
// client alone on its main thread, so that reading 32 MB answers does not
// delay the `add` timings here. Each `add` is sent once the previous one is
// answered; its latency is from the write to the last byte of its answer.
//
// Standalone:        node dist/bench/offload-payloads.js
// From another bench: import { runPayloadOffloadBench } from './offload-payloads.js'; console.log((await runPayloadOffloadBench()).text);
// Environment: BENCH_PAYLOAD_SECONDS (default 10) seconds of load per mode;
// BENCH_PAYLOAD_NODE_ARGS flags for the server's node (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`).
// Every loop is bounded in count and time; the servers and the worker are stopped.

import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import * as net from 'node:net';
import { fileURLToPath } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { dumps } from '../lib/xmlrpc/encode.js';
import { table } from './measure.js';
import { spawnTracked } from './procs.js';

const CLI = fileURLToPath(new URL('../handlers/cli.js', import.meta.url));

export interface PayloadBenchOptions {
  /** Seconds of load per mode (default: BENCH_PAYLOAD_SECONDS or 10). */
  seconds?: number;
  /** Connections sending echoes nonstop (default 4). */
  clients?: number;
  /** Characters of the echoed base64 string (default 8,000,000: a body just under 8 MiB). */
  payloadChars?: number;
}

export interface PayloadBenchRow {
  mode: string;
  /** `add` latency, ms. */
  p50: number;
  p99: number;
  max: number;
  /** `add` calls answered during the load. */
  adds: number;
  /** Echoes answered during the load, per second. */
  echoesPerSecond: number;
}

export interface PayloadBenchResult {
  text: string;
  idleP50: number;
  rows: PayloadBenchRow[];
}

interface LoadData {
  payloadLoad: true;
  port: number;
  clients: number;
  request: Uint8Array;
}

const ADD = request(dumps([40, 2], 'add'));

function request(body: string | Buffer): Buffer {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  return Buffer.concat([Buffer.from(`POST /RPC2 HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/xml\r\nContent-Length: ${bytes.length}\r\n\r\n`), bytes]);
}

/**
 * Reads answers on a keep-alive connection without keeping their bodies:
 * calls `onAnswer(status)` once each answer's last byte is in.
 */
function answers(socket: net.Socket, onAnswer: (status: number) => void): void {
  let head = '';
  let remaining = -1; // body bytes still to come; -1: reading a head
  let status = 0;
  socket.on('data', (chunk: Buffer) => {
    let at = 0;
    while (at < chunk.length) {
      if (remaining < 0) {
        const take = chunk.toString('latin1', at, Math.min(chunk.length, at + 4096));
        const text = head + take;
        const end = text.indexOf('\r\n\r\n');
        if (end < 0) {
          if (text.length > 65536) throw new Error('answer head too long');
          head = text;
          at += take.length;
          continue;
        }
        at += end + 4 - head.length;
        status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
        remaining = Number(/\r\ncontent-length: *(\d+)/i.exec(text.slice(0, end))?.[1] ?? NaN);
        if (!Number.isInteger(remaining)) throw new Error('answer without a Content-Length');
        head = '';
      }
      const n = Math.min(remaining, chunk.length - at);
      at += n;
      remaining -= n;
      if (remaining === 0) {
        remaining = -1;
        onAnswer(status);
      }
    }
  });
}

async function connect(port: number): Promise<net.Socket> {
  const socket = net.connect({ port, host: '127.0.0.1', noDelay: true });
  await once(socket, 'connect');
  return socket;
}

/** The worker thread: `clients` connections each sending the echo again as soon as it is answered, until told to stop. */
async function runLoad(data: LoadData): Promise<void> {
  const body = Buffer.from(data.request.buffer, data.request.byteOffset, data.request.byteLength);
  let answered = 0;
  let failed = 0;
  let stopping = false;
  const sockets: net.Socket[] = [];
  for (let i = 0; i < data.clients; i++) {
    const socket = await connect(data.port);
    socket.on('error', () => failed++);
    answers(socket, (status) => {
      if (status === 200) answered++;
      else failed++;
      if (!stopping) socket.write(body);
    });
    sockets.push(socket);
    socket.write(body);
  }
  parentPort!.postMessage({ started: true });
  parentPort!.once('message', () => {
    stopping = true;
    for (const s of sockets) s.destroy();
    parentPort!.postMessage({ answered, failed });
  });
}

/** Sequential `add` calls for `ms` (at most `maxCalls`); each latency in ms. */
async function addLatencies(port: number, ms: number, maxCalls: number): Promise<number[]> {
  const socket = await connect(port);
  const latencies: number[] = [];
  try {
    const deadline = performance.now() + ms;
    await new Promise<void>((resolve, reject) => {
      let sent = 0;
      const send = () => {
        sent = performance.now();
        socket.write(ADD);
      };
      socket.on('error', reject);
      answers(socket, (status) => {
        if (status !== 200) return reject(new Error(`add answered ${status}`));
        const now = performance.now();
        latencies.push(now - sent);
        if (now >= deadline || latencies.length >= maxCalls) return resolve();
        send();
      });
      send();
    });
  } finally {
    socket.destroy();
  }
  return latencies;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

/** The demo server (the CLI) with `args`; resolves to its port and a stop function. */
async function startCli(args: string[]): Promise<{ port: number; stop: () => Promise<void> }> {
  const nodeArgs = (process.env.BENCH_PAYLOAD_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
  const child = spawnTracked([process.execPath, ...nodeArgs, CLI, '--port', '0', ...args]);
  const exited = once(child, 'exit');
  child.stderr!.resume();
  let out = '';
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server did not start: ${out}`)), 30_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on http:\/\/[^:]+:(\d+)\//.exec(out);
      if (m !== null) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once('exit', () => reject(new Error(`the server exited: ${out}`)));
  });
  return {
    port,
    stop: async () => {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

async function measureMode(mode: string, args: string[], echo: Buffer, seconds: number, clients: number): Promise<{ row: PayloadBenchRow; idle: number[] }> {
  const server = await startCli(args);
  try {
    const idle = await addLatencies(server.port, 2000, 500);
    const data: LoadData = { payloadLoad: true, port: server.port, clients, request: echo };
    const worker = new Worker(new URL(import.meta.url), { workerData: data });
    try {
      await once(worker, 'message');
      // The first echoes are on their way: the load is on from here.
      const latencies = await addLatencies(server.port, seconds * 1000, 1_000_000);
      worker.postMessage('stop');
      const [{ answered, failed }] = (await once(worker, 'message')) as [{ answered: number; failed: number }];
      if (failed > 0) throw new Error(`${mode}: ${failed} echo(es) failed`);
      latencies.sort((a, b) => a - b);
      return {
        idle,
        row: {
          mode,
          p50: percentile(latencies, 50),
          p99: percentile(latencies, 99),
          max: latencies.at(-1) ?? NaN,
          adds: latencies.length,
          echoesPerSecond: answered / seconds,
        },
      };
    } finally {
      await worker.terminate();
    }
  } finally {
    await server.stop();
  }
}

export async function runPayloadOffloadBench(options: PayloadBenchOptions = {}): Promise<PayloadBenchResult> {
  const seconds = options.seconds ?? Number(process.env.BENCH_PAYLOAD_SECONDS ?? 10);
  const clients = options.clients ?? 4;
  const chars = options.payloadChars ?? 8_000_000;
  const echo = request(
    dumps(
      [
        randomBytes(Math.ceil((chars * 3) / 4))
          .toString('base64')
          .slice(0, chars),
      ],
      'echo',
    ),
  );
  const withOffload = await measureMode('codec offload on (CLI default)', [], echo, seconds, clients);
  const inline = await measureMode('--inline-codec', ['--inline-codec'], echo, seconds, clients);
  const rows = [withOffload.row, inline.row];
  const idle = [...withOffload.idle, ...inline.idle].sort((a, b) => a - b);
  const idleP50 = percentile(idle, 50);
  const ms = (x: number) => x.toFixed(x < 10 ? 2 : 1);
  const ratio = (f: (r: PayloadBenchRow) => number) => `${(f(inline.row) / f(withOffload.row)).toFixed(1)}x`;
  const text =
    `add latency (ms) on one connection while ${clients} clients send ${(echo.length / 1e6).toFixed(1)} MB echoes nonstop, ${seconds} s per mode; idle add p50 ${ms(idleP50)} ms\n` +
    table(
      ['server', 'add p50', 'add p99', 'add max', 'adds', 'echoes/s'],
      [
        ...rows.map((r) => [r.mode, ms(r.p50), ms(r.p99), ms(r.max), String(r.adds), r.echoesPerSecond.toFixed(2)]),
        ['ratio (inline / offload)', ratio((r) => r.p50), ratio((r) => r.p99), ratio((r) => r.max), '', ''],
      ],
    );
  return { text, idleP50, rows };
}

if (!isMainThread && (workerData as Partial<LoadData> | null)?.payloadLoad === true) {
  void runLoad(workerData as LoadData);
} else if (isMainThread && process.argv[1] === fileURLToPath(import.meta.url)) {
  runPayloadOffloadBench().then(
    (r) => console.log(r.text),
    (err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
