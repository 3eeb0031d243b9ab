// A fixed number of client calls and nothing else, for instruction counts:
// bench/client-instructions.ts runs it under callgrind against a server that
// runs outside valgrind (node dist/bench/client-instructions.js par).
// Standalone (wall clock, --cpu-prof):
//
//   node dist/bench/servers/ours.js 0 --keep-alive-ms 600000 &      # prints its port
//   node dist/bench/client-calls.js http://127.0.0.1:PORT/RPC2 par 300000
//
// Modes: `seq` awaits each ServerProxy.add before the next; `par` keeps 32 in
// flight through one Transport (32 keep-alive sockets; the bench's
// "32 in flight" row).
//
// With CALLS_WARMUP=N, N calls go first (V8's compiles and the first
// connections), on the same transport and sockets as the counted ones: a new
// socket's maps would deoptimise Node's stream code and ours again. Then the
// process says "warm" on stdout and waits for a SIGUSR2 (the driver
// zeroes callgrind's counters meanwhile), makes the counted calls, says
// "done" and waits for another SIGUSR2 (the driver dumps the counters) before
// the transport closes: nothing but the calls is in the window, and the
// event loop only waits in epoll around it. The word goes out with
// writeSync and the answer is a SIGUSR2: a stream of stdin or stdout would
// run Node's stream code with other maps than the sockets' and deoptimise it.

import { writeSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ServerProxy } from '../lib/client/proxy.js';
import { Transport } from '../lib/client/transport.js';

export async function clientCalls(proxy: ServerProxy, mode: 'seq' | 'par', calls: number): Promise<void> {
  const one = async (i: number) => {
    if ((await proxy.add(i, 1)) !== i + 1) throw new Error('client-calls: wrong sum');
  };
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
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [url, mode = 'seq', count = '1000'] = process.argv.slice(2);
  if (url === undefined || (mode !== 'seq' && mode !== 'par') || !(Number(count) > 0)) {
    process.stderr.write('usage: node dist/bench/client-calls.js URL [seq|par] [calls]\n');
    process.exitCode = 2;
  } else {
    // Idle sockets outlive the driver's pause (the same timer work per call whatever the value).
    const transport = new Transport({ maxSocketsPerHost: 32, idleTimeout: 600_000 });
    const proxy = new ServerProxy(url, { transport });
    try {
      const warmup = Number(process.env['CALLS_WARMUP'] ?? 0);
      if (warmup > 0) {
        await clientCalls(proxy, mode, warmup);
        await say('warm');
      }
      await clientCalls(proxy, mode, Number(count));
      if (warmup > 0) await say('done');
    } finally {
      await transport.close();
    }
  }
}

/** Says `word` on stdout and resolves at the next SIGUSR2. */
function say(word: string): Promise<void> {
  return new Promise((resolve) => {
    const alive = setInterval(() => {}, 1 << 30); // a signal's handle keeps no loop alive
    process.once('SIGUSR2', () => {
      clearInterval(alive);
      resolve();
    });
    writeSync(1, `${word}\n`);
  });
}
