// The well-behaved client of bench/attack.ts, run as its own process so that
// neither the server nor the attacker shares its event loop: add(1, 2) calls
// one at a time on a keep-alive connection (reconnecting when the server
// closes it), one every INTERVAL_MS at most, each with a time limit.
// usage: node dist/bench/good-client.js PORT DURATION_MS
// Makes a few warm-up calls and prints {"ready": true, "warm": n}; then, on a
// "go" line on stdin, calls for DURATION_MS (or MAX_CALLS calls) and prints
// one JSON line: the counts by outcome and the latencies of the answered calls.
// A "stop" line ends the measurement early.

import * as net from 'node:net';
import * as readline from 'node:readline';
import { parseMethodResponse } from '../lib/xmlrpc/decode.js';
import { ResponseReader, httpRequest, type RawResponse } from './http-check.js';
import { dumps } from '../lib/xmlrpc/encode.js';

const port = Number(process.argv[2]);
const durationMs = Number(process.argv[3]);
/** Start to start: a client calling 100 times a second, not one hammering the server. */
const INTERVAL_MS = 10;
const CALL_TIMEOUT_MS = 2000;
const MAX_CALLS = 5000;
const WARM_CALLS = 50;

export interface GoodClientResult {
  calls: number;
  ok: number;
  /** Answered 503. */
  busy: number;
  /** Another status, a wrong answer, a refused connection, a reset. */
  failed: number;
  timedOut: number;
  /** Latencies of the calls answered correctly, ms, sorted. */
  p50: number | null;
  p99: number | null;
  max: number | null;
  firstError: string | null;
}

type Outcome = { kind: 'ok' } | { kind: 'busy' } | { kind: 'failed'; why: string } | { kind: 'timeout' };

const request = httpRequest(port, Buffer.from(dumps([1, 2], 'add')));

/** One keep-alive connection; null between a close and the next call. */
let socket: net.Socket | null = null;
let reader = new ResponseReader();
let waiting: ((r: RawResponse | Error) => void) | null = null;

function connection(): net.Socket {
  if (socket !== null && !socket.destroyed) return socket;
  const s = net.connect({ port, host: '127.0.0.1', noDelay: true });
  reader = new ResponseReader();
  // A socket already dropped (after a timeout) must not answer the next call.
  s.on('data', (chunk: Buffer) => {
    if (socket !== s) return;
    let responses: RawResponse[];
    try {
      responses = reader.push(chunk);
    } catch (err) {
      return deliver(err as Error);
    }
    for (const r of responses) deliver(r);
  });
  s.on('error', (err) => {
    if (socket === s) deliver(err);
  });
  s.on('close', () => {
    if (socket !== s) return;
    socket = null;
    deliver(new Error('connection closed before the answer'));
  });
  socket = s;
  return s;
}

function deliver(r: RawResponse | Error): void {
  const w = waiting;
  waiting = null;
  w?.(r);
}

function drop(): void {
  const s = socket;
  socket = null;
  s?.destroy();
}

function call(): Promise<Outcome> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      waiting = null;
      drop();
      resolve({ kind: 'timeout' });
    }, CALL_TIMEOUT_MS);
    waiting = (r) => {
      clearTimeout(timer);
      if (r instanceof Error) {
        drop();
        return resolve({ kind: 'failed', why: r.message });
      }
      if (/close/i.test(r.headers.get('connection') ?? '')) drop();
      if (r.status === 503) return resolve({ kind: 'busy' });
      if (r.status !== 200) return resolve({ kind: 'failed', why: `HTTP ${r.status}` });
      let value: unknown;
      try {
        value = parseMethodResponse(r.body);
      } catch (err) {
        return resolve({ kind: 'failed', why: (err as Error).message });
      }
      resolve(value === 3 ? { kind: 'ok' } : { kind: 'failed', why: `add(1, 2) answered ${String(value)}` });
    };
    connection().write(request);
  });
}

/** Set by a "stop" line: the measurement ends after the call in flight. */
let stopped = false;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function warmUp(): Promise<number> {
  let ok = 0;
  for (let i = 0; i < WARM_CALLS; i++) if ((await call()).kind === 'ok') ok++;
  return ok;
}

async function measure(): Promise<GoodClientResult> {
  const latencies: number[] = [];
  const result: GoodClientResult = { calls: 0, ok: 0, busy: 0, failed: 0, timedOut: 0, p50: null, p99: null, max: null, firstError: null };
  const end = performance.now() + durationMs;
  while (result.calls < MAX_CALLS) {
    const start = performance.now();
    if (start >= end || stopped) break;
    const outcome = await call();
    const ms = performance.now() - start;
    result.calls++;
    if (outcome.kind === 'ok') {
      result.ok++;
      latencies.push(ms);
    } else if (outcome.kind === 'busy') {
      result.busy++;
      result.firstError ??= 'HTTP 503';
    } else if (outcome.kind === 'timeout') {
      result.timedOut++;
      result.firstError ??= `no answer within ${CALL_TIMEOUT_MS} ms`;
    } else {
      result.failed++;
      result.firstError ??= outcome.why;
    }
    const wait = start + INTERVAL_MS - performance.now();
    if (wait > 0) await sleep(wait);
  }
  latencies.sort((a, b) => a - b);
  if (latencies.length > 0) {
    result.p50 = percentile(latencies, 0.5);
    result.p99 = percentile(latencies, 0.99);
    result.max = latencies.at(-1)!;
  }
  return result;
}

/** The value at rank ceil(q * n) (nearest rank). */
function percentile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

const lines = readline.createInterface({ input: process.stdin });
let started = false;
lines.on('line', (line) => {
  // "stop": the server has gone (killed or crashed), calling on is pointless.
  if (line.trim() === 'stop') stopped = true;
  if (line.trim() !== 'go' || started) return;
  started = true;
  measure().then(
    (result) => {
      process.stdout.write(`${JSON.stringify(result)}\n`);
      drop();
      process.exit(0);
    },
    (err: unknown) => {
      process.stderr.write(`good client: ${(err as Error).message}\n`);
      process.exit(1);
    },
  );
});
lines.on('close', () => process.exit(0));

process.stdout.write(`${JSON.stringify({ ready: true, warm: await warmUp() })}\n`);
