// A fixed number of client calls and nothing else, for instruction counts:
// run it under callgrind twice with two counts against the same server and
// divide the difference by the difference of the counts (start-up cancels).
//
//   node dist/bench/servers/ours.js &        # prints its port
//   valgrind --tool=callgrind --smc-check=all-non-file --callgrind-out-file=/dev/null \
//     node dist/bench/client-calls.js http://127.0.0.1:PORT/RPC2 seq 1000    # then 4000
//
// Modes: `seq` awaits each ServerProxy.add before the next; `par` keeps 32 in
// flight through one Transport (under callgrind its count is less repeatable).
//
// The first few thousand calls still pay for V8's compiles (the counts then
// move by ±8k a call between runs): with CALLS_WARMUP=N, N calls go first,
// uncounted, under `valgrind --tool=callgrind --instr-atstart=no`, and the
// counting starts after them (callgrind_control --instr=on).

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ServerProxy } from '../lib/client/proxy.js';
import { Transport } from '../lib/client/transport.js';

export async function clientCalls(url: string, mode: 'seq' | 'par', calls: number): Promise<void> {
  const transport = new Transport({ maxSocketsPerHost: 32 });
  const proxy = new ServerProxy(url, { transport });
  const one = async (i: number) => {
    if ((await proxy.add(i, 1)) !== i + 1) throw new Error('client-calls: wrong sum');
  };
  try {
    if (mode === 'seq') {
      for (let i = 0; i < calls; i++) await one(i);
    } else {
      let next = 0;
      await Promise.all(
        Array.from({ length: 32 }, async () => {
          while (next < calls) await one(next++);
        }),
      );
    }
  } finally {
    await transport.close();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [url, mode = 'seq', count = '1000'] = process.argv.slice(2);
  if (url === undefined || (mode !== 'seq' && mode !== 'par') || !(Number(count) > 0)) {
    process.stderr.write('usage: node dist/bench/client-calls.js URL [seq|par] [calls]\n');
    process.exitCode = 2;
  } else {
    const warmup = Number(process.env['CALLS_WARMUP'] ?? 0);
    if (warmup > 0) {
      await clientCalls(url, mode, warmup);
      await callgrindControl('--instr=on');
    }
    await clientCalls(url, mode, Number(count));
  }
}

/** Runs callgrind_control on this process; the event loop stays free meanwhile (callgrind answers between its turns). */
function callgrindControl(arg: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('callgrind_control', [arg, String(process.pid)], { stdio: 'ignore' });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`callgrind_control ${arg} exited with ${code}`))));
  });
}
