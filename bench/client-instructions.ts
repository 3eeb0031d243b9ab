// Instructions per client call: a deterministic figure for A/B decisions on
// a shared, noisy machine, the client's twin of instructions.ts. Our server
// runs outside valgrind (it answers in a fraction of the client's time
// there); the client (client-calls.ts) runs under `valgrind --tool=callgrind
// --instr-atstart=no`, makes CINSN_WARMUP calls, then its counters are
// zeroed and turned on, CINSN_N calls are counted, and the counters are
// dumped before its transport closes. Threads are counted apart: the main
// thread is the figure to compare; the others (GC helpers, the compiler)
// are shown beside.
// usage: node dist/bench/client-instructions.js [par|seq ...]
//   par: 32 in flight through one Transport (the bench's 32-in-flight row);
//   seq: one ServerProxy.add at a time.
// Environment: CINSN_WARMUP (calls, default 12000), CINSN_N (default 4000),
// CINSN_SERVER (default dist/bench/servers/ours.js), CINSN_CLIENT (default
// this build's client-calls.js: point it at another build for an A/B against
// the same server), CINSN_KEEP=1 (keep the dump, for callgrind_annotate),
// CINSN_NODE_FLAGS (node's flags for the client: --perf-basic-prof names JIT
// code, --trace-opt --trace-deopt show the compiles in the window).
// The `par` figure moves by a few per cent between runs (how many responses
// one read brings, and so how many calls share a turn, depends on timing);
// run it two or three times.

import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { mkdtempSync, rmSync } from 'node:fs';
import { threadTotals } from './callgrind.js';
import { capture, lineReader, spawnTracked, startServer, stop } from './procs.js';

const DIST = path.dirname(fileURLToPath(import.meta.url));
const WARMUP = Number(process.env['CINSN_WARMUP'] ?? 12000);
const N = Number(process.env['CINSN_N'] ?? 4000);
const SERVER = process.env['CINSN_SERVER'] ?? path.join(DIST, 'servers', 'ours.js');
const CLIENT = process.env['CINSN_CLIENT'] ?? path.join(DIST, 'client-calls.js');
const NODE_FLAGS = (process.env['CINSN_NODE_FLAGS'] ?? '').split(' ').filter((f) => f !== '');

async function measureOne(url: string, mode: string): Promise<{ main: number; all: number }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cinsn-'));
  process.env['CALLS_WARMUP'] = String(WARMUP); // inherited by the client
  const child = spawnTracked([
    'valgrind',
    '--tool=callgrind',
    '--smc-check=all-non-file',
    '--separate-threads=yes',
    '--instr-atstart=no',
    `--callgrind-out-file=${dir}/cg.out`,
    process.execPath,
    ...NODE_FLAGS,
    CLIENT,
    url,
    mode,
    String(N),
  ]);
  const lines = lineReader(child);
  try {
    const control = (arg: string) => {
      if (capture(['callgrind_control', arg, String(child.pid)]) === null) throw new Error(`callgrind_control ${arg} failed`);
    };
    // Lines before each word are the client's own (a --trace flag's, say): printed, not read.
    const until = async (word: string) => {
      for (let line = await lines.next(1_200_000); line !== word; line = await lines.next(1_200_000)) process.stdout.write(`${line}\n`);
      if (NODE_FLAGS.length > 0) process.stdout.write(`--- ${word}\n`);
    };
    await until('warm');
    control('-z');
    control('--instr=on');
    child.kill('SIGUSR2');
    await until('done');
    control('-d');
    child.kill('SIGUSR2');
    await new Promise<void>((resolve) => (child.exitCode !== null ? resolve() : child.once('exit', () => resolve())));
    const { main, all } = threadTotals(dir);
    return { main: main / N, all: all / N };
  } finally {
    await stop(child, 10_000);
    if (process.env['CINSN_KEEP'] === undefined) rmSync(dir, { recursive: true, force: true });
    else process.stdout.write(`dump kept in ${dir}\n`);
  }
}

const server = await startServer([process.execPath, SERVER, '0', '--keep-alive-ms', '600000']);
try {
  const url = `http://127.0.0.1:${server.port}/RPC2`;
  const modes = process.argv.slice(2);
  for (const mode of modes.length === 0 ? ['par'] : modes) {
    if (mode !== 'par' && mode !== 'seq') throw new Error(`no mode ${mode}: par or seq`);
    const { main, all } = await measureOne(url, mode);
    const k = (x: number) => Math.round(x).toLocaleString('en');
    process.stdout.write(
      `${path.relative(process.cwd(), CLIENT)} ${mode}: ${k(main)} instructions per call on the main thread, ${k(all)} in all threads (warm-up ${WARMUP}, N ${N})\n`,
    );
  }
} finally {
  await stop(server.child);
}
