// The client side of the idle-connections measurement, run as its own process
// (one process holding 10,000 sockets on each side may hit the fd limit, and
// the server's RSS must not include the clients). Opens COUNT keep-alive
// connections to PORT, makes one add(40, 2) call on each, and keeps them open.
// usage: node dist/bench/idle-clients.js PORT COUNT
// Prints one JSON line when every connection has answered or failed:
//   {"ready": n, "failed": n, "error": "first error" | null, "ms": n}
// then, for each "check" line on stdin, {"open": n}: how many are still open.

import * as net from 'node:net';
import * as readline from 'node:readline';
import { ResponseReader, httpRequest } from './http-check.js';
import { WORKLOADS, requestBody } from './workloads.js';

const port = Number(process.argv[2]);
const count = Number(process.argv[3]);
const PARALLEL = 256; // connections being opened at once, well under the listen backlog
const LIMIT_MS = 120_000;

const request = httpRequest(port, requestBody(WORKLOADS[0]!));
const sockets: net.Socket[] = [];
const start = Date.now();
let started = 0;
let ready = 0;
let failed = 0;
let closedAfterReady = 0;
let firstError: string | null = null;
let reported = false;

function open(): void {
  const socket = net.connect({ port, host: '127.0.0.1' });
  sockets.push(socket);
  const reader = new ResponseReader();
  let answered = false;
  let held = false; // answered 200 and kept open
  const settle = (ok: boolean, why?: string) => {
    if (answered) return;
    answered = true;
    held = ok;
    if (ok) ready++;
    else {
      failed++;
      firstError ??= why ?? 'failed';
      socket.destroy();
    }
    next();
  };
  socket.on('connect', () => socket.write(request));
  socket.on('data', (chunk: Buffer) => {
    try {
      const [response] = reader.push(chunk);
      if (response !== undefined) settle(response.status === 200, `HTTP ${response.status}`);
    } catch (err) {
      settle(false, (err as Error).message);
    }
  });
  socket.on('error', (err) => settle(false, err.message));
  socket.on('close', () => {
    if (held) closedAfterReady++;
    settle(false, 'closed before answering');
  });
}

function next(): void {
  if (started < count) {
    started++;
    open();
  } else if (ready + failed === count) report();
}

function report(): void {
  if (reported) return;
  reported = true;
  process.stdout.write(`${JSON.stringify({ ready, failed, error: firstError, ms: Date.now() - start })}\n`);
}

for (let i = 0; i < Math.min(PARALLEL, count); i++) next();
setTimeout(() => {
  if (!reported) {
    firstError ??= `not all answered within ${LIMIT_MS} ms`;
    failed = count - ready;
    report();
  }
}, LIMIT_MS).unref();

const lines = readline.createInterface({ input: process.stdin });
lines.on('line', (line) => {
  if (line.trim() === 'check') process.stdout.write(`${JSON.stringify({ open: ready - closedAfterReady })}\n`);
});
lines.on('close', () => {
  for (const socket of sockets) socket.destroy();
  process.exit(0);
});
