// Instructions per encoded response, the encoder alone: what a server's
// `bufferDumps([result], { methodResponse: true })` costs for a workload's
// value as the server has it (decoded from the request by `loads`, as the
// echo method returns it). Runs itself under `valgrind --tool=callgrind`;
// after a warm-up the counters are zeroed (callgrind_control -z), N documents
// are encoded and the count is dumped (-d): the main thread's count / N.
// usage: node dist/bench/encode-instructions.js [workload ...]   (add, struct, array, base64)
// Environment: ENC_WARMUP (documents, default 5000), ENC_N (default 2000),
// ENC_KEEP=1 keeps the dump, for callgrind_annotate; ENC_FIRST=1 encodes the
// value of the first decode (a struct then is a dictionary-mode object).

import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loads } from '../lib/xmlrpc/decode.js';
import { bufferDumps } from '../lib/xmlrpc/encode.js';
import { WORKLOADS, requestBody } from './workloads.js';

const WARMUP = Number(process.env['ENC_WARMUP'] ?? 5000);
const N = Number(process.env['ENC_N'] ?? 2000);

function control(flag: string): Promise<void> {
  return new Promise((resolve) => spawn('callgrind_control', [flag, String(process.pid)], { stdio: 'ignore' }).on('exit', () => resolve()));
}

/** Under valgrind: encode, with the counters zeroed after the warm-up and dumped after N. */
async function encodeLoop(id: string): Promise<void> {
  const w = WORKLOADS.find((x) => x.id === id);
  if (w === undefined) throw new Error(`no workload ${id}`);
  // Decoded three times, the last one kept: a struct of a kind the decoder
  // has met before is a fast-properties copy of a template (shapes.ts), as
  // the server's echo returns it; the first is a dictionary-mode object.
  const body = requestBody(w);
  let value = loads(body).params[0];
  if (process.env['ENC_FIRST'] === undefined) for (let i = 0; i < 2; i++) value = loads(body).params[0];
  const options = { methodResponse: true };
  let bytes = 0;
  for (let i = 0; i < WARMUP; i++) bytes += bufferDumps([value], options).length;
  await control('-z');
  for (let i = 0; i < N; i++) bytes += bufferDumps([value], options).length;
  await control('-d');
  if (bytes === 0) throw new Error('nothing encoded');
}

function measure(id: string): number {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'enc-insn-'));
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
    if (process.env['ENC_KEEP'] === undefined) rmSync(dir, { recursive: true, force: true });
    else process.stdout.write(`dump kept in ${dir}\n`);
  }
}

const args = process.argv.slice(2);
if (args[0] === '--inside') {
  await encodeLoop(args[1] as string);
} else {
  for (const id of args.length === 0 ? ['struct'] : args) {
    process.stdout.write(`${id}: ${Math.round(measure(id)).toLocaleString('en')} instructions per response, main thread (warm-up ${WARMUP}, N ${N})\n`);
  }
}
