// Instructions per decoded request, the decoder alone: what a server's
// `parseMethodCall(body, { wrapDoubles: true })` costs for a workload's
// request body (the demo handler's options). Runs itself under `valgrind
// --tool=callgrind`; after a warm-up the counters are zeroed
// (callgrind_control -z), N bodies are decoded and the count is dumped (-d):
// the main thread's count / N.
// usage: node dist/bench/decode-instructions.js [workload ...]   (add, struct, array, base64)
// Environment: DEC_WARMUP (documents, default 8000), DEC_N (default 2000),
// DEC_KEEP=1 keeps the dump, for callgrind_annotate.

import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseMethodCall } from '../lib/xmlrpc/decode.js';
import { WORKLOADS, requestBody } from './workloads.js';

const WARMUP = Number(process.env['DEC_WARMUP'] ?? 8000);
const N = Number(process.env['DEC_N'] ?? 2000);

function control(flag: string): Promise<void> {
  return new Promise((resolve) => spawn('callgrind_control', [flag, String(process.pid)], { stdio: 'ignore' }).on('exit', () => resolve()));
}

/** Under valgrind: decode, with the counters zeroed after the warm-up and dumped after N. */
async function decodeLoop(id: string): Promise<void> {
  const w = WORKLOADS.find((x) => x.id === id);
  if (w === undefined) throw new Error(`no workload ${id}`);
  // A fresh Buffer per request, as the server's body is; the same bytes.
  const body = requestBody(w);
  const options = { wrapDoubles: true };
  let params = 0;
  for (let i = 0; i < WARMUP; i++) params += parseMethodCall(Buffer.from(body), options).params.length;
  await control('-z');
  for (let i = 0; i < N; i++) params += parseMethodCall(Buffer.from(body), options).params.length;
  await control('-d');
  if (params === 0) throw new Error('nothing decoded');
}

function measure(id: string): number {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dec-insn-'));
  try {
    const run = spawnSync(
      'valgrind',
      [
        '--tool=callgrind',
        '--smc-check=all-non-file',
        '--separate-threads=yes',
        `--callgrind-out-file=${dir}/cg.out`,
        process.execPath,
        fileURLToPath(import.meta.url),
        '--inside',
        id,
      ],
      { stdio: 'ignore', timeout: 1_800_000 },
    );
    if (run.status !== 0) throw new Error(`valgrind failed (${run.status ?? run.signal})`);
    // One file per thread; the dump after -d is part 1, cg.out.1-01 its main thread.
    const totals = /^(?:summary|totals): (\d+)/m.exec(readFileSync(path.join(dir, 'cg.out.1-01'), 'utf8'));
    if (totals === null) throw new Error('no totals');
    return Number(totals[1]) / N;
  } finally {
    if (process.env['DEC_KEEP'] === undefined) rmSync(dir, { recursive: true, force: true });
    else process.stdout.write(`dump kept in ${dir}\n`);
  }
}

const args = process.argv.slice(2);
if (args[0] === '--inside') {
  await decodeLoop(args[1] as string);
} else {
  for (const id of args.length === 0 ? ['struct'] : args) {
    process.stdout.write(`${id}: ${Math.round(measure(id)).toLocaleString('en')} instructions per request, main thread (warm-up ${WARMUP}, N ${N})\n`);
  }
}
