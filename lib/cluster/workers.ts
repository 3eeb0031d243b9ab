// serveWorkers: one port served by N processes with node:cluster. The same
// script runs as the primary and as every worker (cluster forks it again):
// in the primary serveWorkers starts and supervises the workers (supervisor.ts),
// in a worker it calls `setup` to build the Server and listens.
//
// The primary accepts and hands connections round-robin (cluster.SCHED_RR);
// with `reusePort` each worker binds the port itself and the kernel spreads
// them (Node 22.12+ on Linux; elsewhere a ClusterError at once).
//
// Signals, in the primary: SIGHUP reloads (one worker at a time, the new one
// listening first), SIGTERM and SIGINT close every worker gracefully, then
// the primary exits. They are handled from the moment the workers are
// started: a SIGHUP then (logrotate's, say) must not kill a starting primary. A worker ignores SIGINT and SIGTERM (a Ctrl-C reaches
// the whole process group) and waits for the primary's word; if the primary
// is gone (its IPC channel closes), it closes gracefully on its own (calls it
// holds answered; it gets no new ones).

import cluster from 'node:cluster';
import { availableParallelism } from 'node:os';
import type { Clock } from '../clock.js';
import { ClusterError, ClusterErrorCode } from '../errors.js';
import { reusePortSupported, type Server } from '../server/server.js';
import { Supervisor, type BackoffOptions, type FromWorker, type SupervisorEvent, type ToWorker, type WorkerStats } from './supervisor.js';

/** What `setup` learns about the worker it runs in. */
export interface WorkerContext {
  /** The slot (0 to workers-1): a replacement takes the slot of the worker it replaces. */
  readonly slot: number;
  /** The cluster worker id: unique for the primary's life, never reused. */
  readonly id: number;
}

/**
 * What `setup` returns: the Server to listen on the shared port, or that and
 * more Servers it already started (a per-worker port, say); those are closed
 * with it.
 */
export type WorkerSetupResult = Server | { server: Server; also?: Server[]; urls?: string[] };

export interface ServeWorkersOptions {
  /** Worker processes: a positive integer, or 0 / 'auto' for os.availableParallelism(). */
  workers: number | 'auto';
  /** Builds the Server in each worker (not listening yet). */
  setup: (context: WorkerContext) => WorkerSetupResult | Promise<WorkerSetupResult>;
  port?: number;
  host?: string;
  /** Each worker binds the port with SO_REUSEPORT instead of the primary accepting. */
  reusePort?: boolean;
  /** How long a stopping worker may answer its calls in flight, ms (default 10,000). */
  shutdownTimeout?: number;
  /** A worker not listening this long after it was started is killed and counts as failed, ms (default 60,000). */
  readyTimeout?: number;
  backoff?: Partial<BackoffOptions>;
  /** Handle SIGHUP, SIGTERM and SIGINT in the primary (default true). */
  signals?: boolean;
  /** Replacements, exits, reloads and signals, as they happen (default: a line on stderr for each unasked exit and each signal's outcome). */
  onEvent?: (event: FleetEvent) => void;
  clock?: Clock;
}

/** A signal the primary handles, when it arrives and when what it asked for is done. */
export type FleetEvent = SupervisorEvent | { type: 'signal'; signal: 'SIGHUP' | 'SIGTERM' | 'SIGINT'; phase: 'received' | 'done' | 'failed'; error?: Error };

/** What serveWorkers gives the primary. */
export interface WorkerFleet {
  readonly role: 'primary';
  readonly workers: number;
  /** The shared port (the one given, or the one the first worker was handed for port 0). */
  readonly port: number;
  reload(): Promise<void>;
  close(): Promise<void>;
  stats(timeout?: number): Promise<{ workers: WorkerStats[]; total: import('../server/server.js').ServerStats | null }>;
  list(): { slot: number; id: number; pid: number | undefined; ready: boolean }[];
  readonly restarts: number;
}

/** What serveWorkers gives a worker: its Server, listening. */
export interface WorkerSide {
  readonly role: 'worker';
  readonly context: WorkerContext;
  readonly server: Server;
}

const SLOT_ENV = 'XMLRPC_WORKER_SLOT';
const TAG = 'xmlrpc-cluster';

/** `--workers` as the CLI takes it: N, 0 or 'auto' (0 and 'auto' mean one per core). */
export function workerCount(value: number | string): number {
  if (value === 'auto') return availableParallelism();
  const n = typeof value === 'number' ? value : /^[0-9]+$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < 0 || n > 1024) throw new RangeError(`workers must be 0, 'auto' or a positive integer, not ${JSON.stringify(value)}`);
  // '00' is 0 too: one per core, not a fleet of none.
  return n === 0 ? availableParallelism() : n;
}

export async function serveWorkers(options: ServeWorkersOptions): Promise<WorkerFleet | WorkerSide> {
  if (options.reusePort === true && !reusePortSupported())
    throw new ClusterError(
      ClusterErrorCode.REUSE_PORT_UNSUPPORTED,
      `reusePort needs Node 22.12+ or 23.1+ on Linux or FreeBSD; this is Node ${process.versions.node} on ${process.platform}`,
    );
  return cluster.isPrimary ? runPrimary(options) : runWorker(options);
}

async function runPrimary(options: ServeWorkersOptions): Promise<WorkerFleet> {
  const count = workerCount(options.workers);
  cluster.schedulingPolicy = cluster.SCHED_RR;
  let port = options.port ?? 0;
  const onEvent =
    options.onEvent ??
    ((event: FleetEvent) => {
      if (event.type === 'exit' && event.restartIn >= 0)
        process.stderr.write(
          `worker ${event.id} (pid ${String(event.pid)}) exited (code ${String(event.code)}, signal ${String(event.signal)}); replaced in ${event.restartIn} ms\n`,
        );
      if (event.type === 'signal' && event.phase !== 'received')
        process.stderr.write(`${event.signal}: ${event.phase}${event.error === undefined ? '' : `: ${event.error.message}`}\n`);
    });
  const supervisor = new Supervisor({
    workers: count,
    clock: options.clock,
    backoff: options.backoff,
    shutdownTimeout: options.shutdownTimeout,
    readyTimeout: options.readyTimeout,
    onEvent: (event) => {
      // Port 0: the first worker's port is everyone's while one of them holds it.
      if (event.type === 'ready' && port === 0) port = event.port;
      onEvent(event);
    },
    spawn: (slot, events) => {
      const worker = cluster.fork({ [SLOT_ENV]: String(slot) });
      worker.on('message', (message: unknown) => {
        if (typeof message === 'object' && message !== null && (message as { tag?: unknown }).tag === TAG)
          events.message((message as { body: FromWorker }).body);
      });
      worker.on('exit', (code, signal) => events.exit(code, signal));
      // A worker dying mid-send is reported by 'exit'; the error itself says nothing more.
      worker.on('error', () => {});
      return {
        id: worker.id,
        pid: worker.process.pid,
        send: (body: ToWorker) => void worker.send({ tag: TAG, body }),
        kill: () => worker.process.kill('SIGKILL'),
      };
    },
  });
  const started = supervisor.start();
  const fleet: WorkerFleet = {
    role: 'primary',
    workers: count,
    get port() {
      return port;
    },
    reload: () => supervisor.reload(),
    close: () => supervisor.close(),
    stats: (timeout) => supervisor.stats(timeout),
    list: () => supervisor.workers(),
    get restarts() {
      return supervisor.restarts;
    },
  };
  const handlers: Array<['SIGHUP' | 'SIGTERM' | 'SIGINT', () => void]> = [];
  if (options.signals !== false) {
    const reload = () => {
      onEvent({ type: 'signal', signal: 'SIGHUP', phase: 'received' });
      // During start-up: the workers starting may hold the code as it was; reload once they are up.
      started
        .then(() => fleet.reload())
        .then(
          () => onEvent({ type: 'signal', signal: 'SIGHUP', phase: 'done' }),
          (err: unknown) => onEvent({ type: 'signal', signal: 'SIGHUP', phase: 'failed', error: err as Error }),
        );
    };
    let stopping = false;
    const stop = (signal: 'SIGTERM' | 'SIGINT') => {
      if (stopping) return;
      stopping = true;
      onEvent({ type: 'signal', signal, phase: 'received' });
      void fleet.close().then(() => {
        onEvent({ type: 'signal', signal, phase: 'done' });
        process.exit(0);
      });
    };
    handlers.push(['SIGHUP', reload], ['SIGTERM', () => stop('SIGTERM')], ['SIGINT', () => stop('SIGINT')]);
    for (const [signal, handler] of handlers) process.on(signal, handler);
  }
  try {
    await started;
  } catch (err) {
    // Nothing is left to signal (start() closed the supervisor): the caller decides what next.
    for (const [signal, handler] of handlers) process.off(signal, handler);
    throw err;
  }
  return fleet;
}

async function runWorker(options: ServeWorkersOptions): Promise<WorkerSide> {
  const worker = cluster.worker;
  const slot = Number(process.env[SLOT_ENV] ?? 0);
  const context: WorkerContext = { slot, id: worker?.id ?? 0 };
  const send = (body: FromWorker) => {
    if (process.connected) process.send?.({ tag: TAG, body });
  };
  // The primary decides when this worker stops; a Ctrl-C sent to the process group is its business.
  process.on('SIGINT', () => {});
  process.on('SIGTERM', () => {});
  let server: Server;
  let also: Server[] = [];
  let urls: string[] = [];
  let address: { port: number; address: string };
  try {
    const built = await options.setup(context);
    server = 'server' in built ? built.server : built;
    if ('server' in built) ({ also = [], urls = [] } = built);
    // Every worker asks for the port as given (0 included): node:cluster shares one handle per (host, port) as asked.
    address = await server.listen(options.port ?? 0, options.host ?? '127.0.0.1', options.reusePort === true ? { reusePort: true } : {});
  } catch (err) {
    // A worker that cannot serve says why and goes: the primary's back-off decides what next.
    process.stderr.write(`worker ${context.id} (slot ${slot}): ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
  let stopping: Promise<void> | null = null;
  let unlisted: () => void = () => {};
  const stop = (timeout: number) => {
    if (stopping !== null) return stopping;
    const closed = Promise.all([server, ...also].map((s) => s.close({ timeout })));
    // Not before the primary has taken this worker off its round-robin (see Supervisor's 'unlisting').
    const offTheList = process.connected ? new Promise<void>((resolve) => (unlisted = resolve)) : Promise.resolve();
    send({ type: 'unlisting' });
    process.once('disconnect', () => unlisted());
    // Exit on our own once everything is answered: the primary counts on the exit.
    stopping = Promise.all([closed, offTheList]).then(() => process.exit(0));
    return stopping;
  };
  process.on('message', (message: unknown) => {
    if (typeof message !== 'object' || message === null || (message as { tag?: unknown }).tag !== TAG) return;
    const body = (message as { body: ToWorker }).body;
    if (body.type === 'stop') void stop(body.timeout);
    else if (body.type === 'unlisted') unlisted();
    else if (body.type === 'stats')
      send({ type: 'stats', seq: body.seq, stats: server.stats(), rss: process.memoryUsage.rss(), maxRss: process.resourceUsage().maxRSS * 1024 });
  });
  // The primary is gone: nobody will tell this worker to stop, so it does so itself. node:cluster's
  // own listener would exit at once, dropping the calls held here, unless the disconnect is
  // marked as asked for (its documented exitedAfterDisconnect): marked first, then answered.
  // Only once listening: a worker still starting has nothing to answer and goes at once.
  process.prependListener('disconnect', () => {
    if (worker !== undefined) worker.exitedAfterDisconnect = true;
  });
  process.on('disconnect', () => void stop(options.shutdownTimeout ?? 10_000));
  send({ type: 'ready', port: address.port, address: address.address, urls });
  return { role: 'worker', context, server };
}
