// What the callgrind benches share (instructions.ts, client-instructions.ts,
// encode-instructions.ts, decode-instructions.ts): opening and closing the
// counted window, and reading a dump's totals per thread.

import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** `callgrind_control -z` (zero the counters) or `-d` (dump them) for process `pid`. */
export function callgrindControl(flag: '-z' | '-d', pid: number): Promise<void> {
  return new Promise((resolve) => spawn('callgrind_control', [flag, String(pid)], { stdio: 'ignore' }).on('exit', () => resolve()));
}

/**
 * The instructions of the first dump in `dir`, one file per thread
 * (--separate-threads): the main thread's (cg.out.1-01) and all threads'.
 */
export function threadTotals(dir: string): { main: number; all: number } {
  const dumps = readdirSync(dir).filter((f) => /\.1-\d+$/.test(f));
  if (dumps.length === 0) throw new Error('no dump');
  let main = 0;
  let all = 0;
  for (const dump of dumps) {
    const totals = /^(?:summary|totals): (\d+)/m.exec(readFileSync(path.join(dir, dump), 'utf8'));
    if (totals === null) throw new Error(`no totals in ${dump}`);
    all += Number(totals[1]);
    if (dump.endsWith('-01')) main += Number(totals[1]);
  }
  return { main, all };
}

/**
 * Runs `script --inside id` under callgrind (the script zeroes the counters
 * after its warm-up and dumps them after `n` operations, with
 * callgrindControl) and gives its main thread's instructions per operation.
 * `keepVar` set in the environment keeps the dump, for callgrind_annotate.
 */
export function measureInside(script: string, id: string, n: number, keepVar: string): number {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'insn-'));
  try {
    const run = spawnSync(
      'valgrind',
      [
        '--tool=callgrind',
        '--smc-check=all-non-file',
        '--separate-threads=yes',
        `--callgrind-out-file=${dir}/cg.out`,
        process.execPath,
        script,
        '--inside',
        id,
      ],
      { stdio: 'ignore', timeout: 1_800_000 },
    );
    if (run.status !== 0) throw new Error(`valgrind failed (${run.status ?? run.signal})`);
    return threadTotals(dir).main / n;
  } finally {
    if (process.env[keepVar] === undefined) rmSync(dir, { recursive: true, force: true });
    else process.stdout.write(`dump kept in ${dir}\n`);
  }
}
