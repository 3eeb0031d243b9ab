// The server of the offload bench's server mix, a child process of its own so
// that the clients' work does not run on the loop it measures. Our Server
// with an XmlRpcDispatcher on 127.0.0.1 port 0: `add` (inline, as ever) and
// `hash(iterations)` (pbkdf2Sync, bench/offload-tasks.ts's `work`), registered
// inline with registerFunction (`--pool 0`) or with registerOffloaded on a
// WorkerPool of `--pool N` workers. Its event-loop delay is measured here, by
// perf_hooks.monitorEventLoopDelay.
//
// usage (forked with an IPC channel by bench/offload-mix.ts):
//   node dist/bench/offload-mix-server.js --pool N --iterations I
// IPC, parent -> child: { type: 'start' } resets the histogram; { type: 'stop' }
// answers { type: 'delay', p50, p99, max, samples } (ms); { type: 'close' }
// closes the server and the pool, then the process exits.
// Child -> parent, once listening: { type: 'ready', port, jobMs }.
// The child exits by itself when the IPC channel closes (its parent gone).

import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { WorkerPool } from '../lib/offload/pool.js';
import { XmlRpcDispatcher } from '../lib/rpc/dispatcher.js';
import { Server } from '../lib/server/server.js';
import { work } from './offload-tasks.js';

export type MixMessage = { type: 'start' } | { type: 'stop' } | { type: 'close' };
export type MixReport = { type: 'ready'; port: number; jobMs: number } | { type: 'delay'; p50: number; p99: number; max: number; samples: number };

const TASKS = new URL('./offload-tasks.js', import.meta.url);

const { values } = parseArgs({ options: { pool: { type: 'string' }, iterations: { type: 'string' } } });
const size = Number(values.pool ?? '0');
const iterations = Number(values.iterations);
if (!Number.isSafeInteger(size) || size < 0) throw new Error(`--pool: not a size: ${values.pool}`);
if (!Number.isSafeInteger(iterations) || iterations <= 0) throw new Error(`--iterations: not a positive integer: ${values.iterations}`);
if (process.send === undefined) throw new Error('offload-mix-server runs forked with an IPC channel (bench/offload-mix.ts)');
const send = (message: MixReport) => process.send!(message);

// One job timed on this process's main thread, in CPU time (wall time on a shared machine counts others' work too).
const cpuBefore = process.cpuUsage();
work(iterations);
const cpu = process.cpuUsage(cpuBefore);
const jobMs = (cpu.user + cpu.system) / 1000;

const pool = size === 0 ? null : new WorkerPool({ size });
const rpc = new XmlRpcDispatcher();
rpc.registerFunction((a: number, b: number) => a + b, 'add');
if (pool === null) rpc.registerFunction((n: number) => work(n), 'hash');
else rpc.registerOffloaded('hash', TASKS, 'work', { pool, timeout: 60_000 });
if (pool !== null) await Promise.all(Array.from({ length: size }, () => pool.run(TASKS, 'noop'))); // every worker started before the clock

const server = new Server({ handlers: [rpc], onError: () => {} });
const { port } = await server.listen(0, '127.0.0.1');
const histogram = monitorEventLoopDelay({ resolution: 1 });
histogram.enable();

let closing = false;
async function close(): Promise<void> {
  if (closing) return;
  closing = true;
  histogram.disable();
  process.off('message', onMessage);
  await server.close({ timeout: 2000 });
  await pool?.close({ force: true });
  process.disconnect?.();
}

function onMessage(message: MixMessage): void {
  if (message.type === 'start') histogram.reset();
  else if (message.type === 'stop') {
    const ms = (ns: number) => ns / 1e6;
    send({ type: 'delay', p50: ms(histogram.percentile(50)), p99: ms(histogram.percentile(99)), max: ms(histogram.max), samples: histogram.count });
  } else if (message.type === 'close') void close();
}

process.on('message', onMessage);
process.once('disconnect', () => void close()); // the parent is gone: nothing more to serve
send({ type: 'ready', port, jobMs });
