// Instructions per request: a deterministic figure for A/B decisions on a
// shared, noisy machine. The server runs under `valgrind --tool=callgrind`;
// after a warm-up its counters are zeroed (callgrind_control -z), N requests
// are sent, and the count is dumped (callgrind_control -d): what start-up and
// the JIT's warm-up cost falls outside the window. Threads are counted apart:
// the main thread is the figure to compare; the others (GC helpers, and the
// compiler, still finishing jobs queued before the window) are shown beside.
// usage: node dist/bench/instructions.js [server.js] [workload:mode ...]
//   workload: add, struct, array; mode: seq (one request at a time on one
//   connection) or pipeN (N in one write, waiting for the N answers).
//   e.g. node dist/bench/instructions.js dist/bench/servers/ours.js add:seq add:pipe16 struct:seq
// Environment: INSN_WARMUP (requests, default 12000: under valgrind V8 has
// optimised what it will by about 9000), INSN_N (default 2000), INSN_KEEP=1 (keep the dump),
// INSN_SETTLE (default 0): that many more connections of 2000 requests each
// after the warm-up's, before the counted one. The warm-up connection's close
// and the next socket's fresh maps deoptimise part of Node's stream code and
// ours ('wrong map'), so a counted window on the second connection holds the
// re-optimisation (baseline code, IC misses): 94k instructions per `add` with
// 0, 62k with 1, 55k with 2 (b8459fe+). INSN_SETTLE=2 is the steady state of
// a long-lived connection, what wrk's connections spend most of a run in.

import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { ResponseReader, httpRequest } from './http-check.js';
import { capture, startServer, stop } from './procs.js';
import { threadTotals } from './callgrind.js';
import { WORKLOADS, requestBody } from './workloads.js';

const WARMUP = Number(process.env['INSN_WARMUP'] ?? 12000);
const N = Number(process.env['INSN_N'] ?? 2000);
const SETTLE = Number(process.env['INSN_SETTLE'] ?? 0);

/** Sends `total` requests, `depth` per write, each batch after the previous one's answers. */
function drive(port: number, request: Buffer, depth: number, total: number): Promise<void> {
  const batch = depth === 1 ? request : Buffer.concat(Array.from({ length: depth }, () => request));
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1', noDelay: true });
    const reader = new ResponseReader();
    let sent = 0;
    let got = 0;
    const timer = setTimeout(() => done(new Error(`only ${got} of ${total} responses in 600 s`)), 600_000);
    const done = (err?: Error) => {
      clearTimeout(timer);
      socket.destroy();
      if (err === undefined) resolve();
      else reject(err);
    };
    const next = () => {
      sent += depth;
      socket.write(batch);
    };
    socket.on('connect', next);
    socket.on('data', (chunk: Buffer) => {
      for (const r of reader.push(chunk)) {
        if (r.status !== 200) return done(new Error(`HTTP ${r.status}`));
        got++;
      }
      if (got === total) done();
      else if (got === sent) next();
    });
    socket.on('error', (err) => done(err));
    socket.on('end', () => done(new Error('closed')));
  });
}

async function measureOne(server: string, spec: string): Promise<{ main: number; all: number }> {
  const [id, mode = 'seq'] = spec.split(':');
  const w = WORKLOADS.find((x) => x.id === id);
  if (w === undefined) throw new Error(`no workload ${id}`);
  const depth = mode === 'seq' ? 1 : Number(mode.replace('pipe', ''));
  const dir = mkdtempSync(path.join(os.tmpdir(), 'insn-'));
  const started = await startServer(
    ['valgrind', '--tool=callgrind', '--smc-check=all-non-file', '--separate-threads=yes', `--callgrind-out-file=${dir}/cg.out`, process.execPath, server, '0'],
    600_000,
  );
  try {
    const request = httpRequest(started.port, requestBody(w));
    const n = Math.ceil(N / depth) * depth;
    await drive(started.port, request, depth, Math.ceil(WARMUP / depth) * depth);
    for (let i = 0; i < SETTLE; i++) await drive(started.port, request, depth, Math.ceil(2000 / depth) * depth);
    if (capture(['callgrind_control', '-z', String(started.pid)]) === null) throw new Error('callgrind_control -z failed');
    await drive(started.port, request, depth, n);
    if (capture(['callgrind_control', '-d', String(started.pid)]) === null) throw new Error('callgrind_control -d failed');
    const { main, all } = threadTotals(dir);
    return { main: main / n, all: all / n };
  } finally {
    await stop(started.child, 10_000);
    // INSN_KEEP=1 keeps the dump, for callgrind_annotate.
    if (process.env['INSN_KEEP'] === undefined) rmSync(dir, { recursive: true, force: true });
    else process.stdout.write(`dump kept in ${dir}\n`);
  }
}

const [server = 'dist/bench/servers/ours.js', ...specs] = process.argv.slice(2);
for (const spec of specs.length === 0 ? ['add:seq'] : specs) {
  const { main, all } = await measureOne(server, spec);
  const k = (x: number) => Math.round(x).toLocaleString('en');
  process.stdout.write(
    `${path.basename(server)} ${spec}: ${k(main)} instructions per request on the main thread, ${k(all)} in all threads (warm-up ${WARMUP}, settle ${SETTLE}, N ${N})\n`,
  );
}
