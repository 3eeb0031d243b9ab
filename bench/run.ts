// `npm run bench`: every benchmark, one table each, with the machine it ran on.
// `npm run bench -- codec`, `-- server`, `-- parallel`, `-- offload`, `-- objects`, `-- access-log`, `-- spawn`, `-- fleet`, `-- workers` or `-- client` runs one of them;
// bench/README.md lists the server bench's environment variables.

import { runAccessLogBench } from './access-log.js';
import { runClientBench } from './client.js';
import { runCodecBench } from './codec.js';
import { runFleetBench } from './fleet.js';
import { machine } from './measure.js';
import { runObjectsBench } from './objects.js';
import { runOffloadBench } from './offload.js';
import { runParallelBench } from './parallel.js';
import { runServerBench } from './server.js';
import { runSpawnBench } from './spawn.js';
import { runWorkersBench } from './workers.js';

const BENCHES = ['codec', 'server', 'parallel', 'offload', 'objects', 'access-log', 'spawn', 'fleet', 'workers', 'client'] as const;
type Bench = (typeof BENCHES)[number];

async function main(args: string[]): Promise<void> {
  const unknown = args.filter((a) => !(BENCHES as readonly string[]).includes(a));
  if (unknown.length > 0) {
    process.stderr.write(`unknown bench ${unknown.join(', ')}; usage: npm run bench [-- ${BENCHES.join('|')} ...]\n`);
    process.exitCode = 2;
    return;
  }
  const chosen = new Set<Bench>(args.length === 0 ? BENCHES : (args as Bench[]));
  console.log(`${machine()}\n`);
  if (chosen.has('codec')) {
    console.log('Codec: calls per second, ours beside the peer, same payloads, same run\n');
    console.log(runCodecBench());
    console.log('');
  }
  if (chosen.has('server')) await runServerBench();
  if (chosen.has('parallel')) {
    console.log('\nParallel calls: 1,000 calls of add to 1, 10 and 100 servers, calls/s\n');
    console.log((await runParallelBench()).text);
  }
  if (chosen.has('offload')) {
    console.log('\nOffload: WorkerPool beside piscina and a bare worker, CPU-bound throughput, event-loop responsiveness, the server mix\n');
    console.log(await runOffloadBench());
  }
  if (chosen.has('objects')) {
    console.log('\nRemote objects: method calls per second, ObjectProxy beside plain ServerProxy calls to the same server, same run\n');
    console.log((await runObjectsBench()).text);
  }
  if (chosen.has('access-log')) {
    console.log('\nAccess log: add calls per second, the demo server with the access log off and on, same run\n');
    console.log((await runAccessLogBench()).text);
  }
  if (chosen.has('spawn')) {
    console.log('\nChild processes: spawnProcess start-up and calls to a child, beside a WorkerPool task round trip, same run\n');
    console.log(await runSpawnBench());
  }
  if (chosen.has('fleet')) {
    console.log('\nFleets with latency: hosts behind delaying relays (bench/relay.ts)\n');
    console.log((await runFleetBench()).text);
  }
  if (chosen.has('workers')) {
    console.log('\nWorkers: npm start -- --workers N (node:cluster)\n');
    console.log(await runWorkersBench());
  }
  if (chosen.has('client')) {
    console.log('\nClient: our ServerProxy and Transport beside npm xmlrpc, Python and undici, against our server, same run\n');
    console.log((await runClientBench()).text);
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
