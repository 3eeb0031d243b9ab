// `npm start`: the demo server on http://127.0.0.1:8182/RPC2 (the Medusa
// recipe's port). Flags: see USAGE (`--help`). Request bodies and results
// above the threshold are decoded and encoded on a WorkerPool, off the event
// loop. GET on the path shows the methods (DocHandler) unless --no-doc. Every
// request is logged (combined format, stdout) unless told not to; `--status`
// adds /status and /metrics on the same listener.
// SIGINT/SIGTERM close it gracefully: in-flight calls are answered first, for
// at most the shutdown timeout; a second signal stops it at once. `npm start`
// runs this as the process npm waits on (no shell in between), so npm
// passes a SIGTERM on to it.
// --workers N|0|auto: N processes share the port (lib/cluster); SIGHUP
// reloads them one at a time, SIGUSR2 prints each worker's stats.

import { availableParallelism, constants } from 'node:os';
import { parseArgs } from 'node:util';
import { WorkerPool } from '../lib/offload/pool.js';
import { timeoutMs } from '../lib/options.js';
import { DEFAULT_CODEC_THRESHOLD } from '../lib/rpc/codec-offload.js';
import { DocHandler } from '../lib/rpc/doc.js';
import { Server } from '../lib/server/server.js';
import type { AccessLogFormat } from '../lib/server/access-log.js';
import { MetricsHandler } from '../lib/server/metrics.js';
import { Registry } from 'prom-client';
import { StatusHandler } from '../lib/server/status.js';
import { serveWorkers, workerCount } from '../lib/cluster/workers.js';
import { DemoHandler } from './demo.js';
import type { XmlRpcHandlerOptions } from '../lib/rpc/handler.js';

/** Seconds a graceful close may take before what is left is dropped. */
const DEFAULT_SHUTDOWN_TIMEOUT = 10;

/** Large documents waiting for a codec worker at most; past it a large request is answered "server busy" (-32001). */
const CODEC_MAX_QUEUE = 64;

const USAGE = `usage: npm start -- [--host 127.0.0.1] [--port 8182] [--path /RPC2] [--shutdown-timeout ${DEFAULT_SHUTDOWN_TIMEOUT}]
                    [--codec-threshold ${DEFAULT_CODEC_THRESHOLD}] [--inline-codec] [--no-doc] [--workers N|0|auto]
                    [--access-log - | --access-log <file> | --no-access-log] [--log-format combined]
                    [--status] [--help]

  --host <address>              the address to listen on (default 127.0.0.1)
  --port <port>                 the port (default 8182; 0 picks a free one)
  --path <path>                 the XML-RPC endpoint's path (default /RPC2)
  --shutdown-timeout <seconds>  on SIGINT/SIGTERM, how long calls in flight may take
                                before the rest is dropped (0: at once); a second
                                signal stops at once
  --codec-threshold <bytes>     request bodies and results larger than this are
                                decoded and encoded on worker threads, off the
                                event loop
  --inline-codec                decode and encode everything on the event loop
                                (no worker threads)
  --no-doc                      GET on the path is 405, not the page listing the
                                methods
  --access-log <file|->         where the access log goes: a file (appended to)
                                or - for stdout (the default)
  --no-access-log               no access log
  --log-format <format>         common, combined (the default) or json (one
                                object a line: time, peer, method, path, status,
                                bytes in and out, duration in µs, XML-RPC method,
                                fault code, connection and request numbers)
  --status                      serve /status (HTML, or JSON with ?format=json)
                                and /metrics (Prometheus) on the same listener
  --workers <N|0|auto>          N processes share the port (0 or auto: one per
                                core); SIGHUP reloads them one at a time, SIGUSR2
                                prints their stats; worker.info() says which answered
  -h, --help                    this text`;

const LOG_FORMATS: readonly string[] = ['common', 'combined', 'json'];

async function main(argv: string[]): Promise<void> {
  let values: {
    host?: string;
    port?: string;
    path?: string;
    'shutdown-timeout'?: string;
    'codec-threshold'?: string;
    'inline-codec'?: boolean;
    'no-doc'?: boolean;
    'access-log'?: string;
    'no-access-log'?: boolean;
    'log-format'?: string;
    status?: boolean;
    workers?: string;
    help?: boolean;
  };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        host: { type: 'string' },
        port: { type: 'string' },
        path: { type: 'string' },
        'shutdown-timeout': { type: 'string' },
        'codec-threshold': { type: 'string' },
        'inline-codec': { type: 'boolean' },
        'no-doc': { type: 'boolean' },
        'access-log': { type: 'string' },
        'no-access-log': { type: 'boolean' },
        'log-format': { type: 'string' },
        status: { type: 'boolean' },
        workers: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
    process.exitCode = 2;
    return;
  }
  if (values.help === true) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const host = values.host ?? '127.0.0.1';
  const port = Number(values.port ?? 8182);
  const path = values.path ?? '/RPC2';
  if (!Number.isInteger(port) || port < 0 || port > 65535 || !path.startsWith('/')) {
    process.stderr.write(`bad --port or --path\n${USAGE}\n`);
    process.exitCode = 2;
    return;
  }
  const shutdownTimeout = shutdownMs(values['shutdown-timeout']);
  if (typeof shutdownTimeout === 'string') {
    process.stderr.write(`${shutdownTimeout}\n${USAGE}\n`);
    process.exitCode = 2;
    return;
  }
  const thresholdText = values['codec-threshold'];
  const threshold = thresholdText === undefined ? DEFAULT_CODEC_THRESHOLD : Number(thresholdText);
  if (thresholdText !== undefined && !/^[0-9]+$/.test(thresholdText)) {
    process.stderr.write(`bad --codec-threshold: ${JSON.stringify(thresholdText)} is not a number of bytes\n${USAGE}\n`);
    process.exitCode = 2;
    return;
  }
  const format = values['log-format'] ?? 'combined';
  if (!LOG_FORMATS.includes(format) || (values['no-access-log'] === true && values['access-log'] !== undefined)) {
    process.stderr.write(`bad --log-format, or both --access-log and --no-access-log\n${USAGE}\n`);
    process.exitCode = 2;
    return;
  }
  const logTo = values['no-access-log'] === true ? null : (values['access-log'] ?? '-');
  const accessLog = logTo === null ? undefined : { format: format as AccessLogFormat, to: logTo };
  /** The demo server as every process runs it: the doc page, the access log, and /status with /metrics when asked. */
  const demoServer = (offload: XmlRpcHandlerOptions['offload'], slot?: number): { server: Server; demo: DemoHandler } => {
    const demo = new DemoHandler({ path, offload });
    const server = new Server({ handlers: [values['no-doc'] === true ? demo : new DocHandler(demo, { name: 'medusa-xmlrpc demo server' })], accessLog });
    if (values.status === true) {
      // With --workers each scrape reaches one worker: its series carry worker="<slot>", or the
      // counters of different workers would pass for one counter jumping up and down.
      const registry = new Registry();
      if (slot !== undefined) registry.setDefaultLabels({ worker: String(slot) });
      server.addHandler(new StatusHandler({ server })).addHandler(new MetricsHandler({ server, registry }));
    }
    return { server, demo };
  };
  if (values.workers !== undefined) {
    let workers: number;
    try {
      workers = workerCount(values.workers);
    } catch (err) {
      process.stderr.write(`bad --workers: ${(err as Error).message}\n${USAGE}\n`);
      process.exitCode = 2;
      return;
    }
    const fleet = await serveWorkers({
      workers,
      port,
      host,
      shutdownTimeout,
      // Said on stdout, as the single-process server says it: the tests and operators wait for these lines.
      onEvent: (event) => {
        if (event.type === 'signal') process.stdout.write(`${event.signal}: ${event.phase}${event.error === undefined ? '' : `: ${event.error.message}`}\n`);
        if (event.type === 'exit' && event.restartIn >= 0)
          process.stdout.write(`worker ${event.id} (pid ${String(event.pid)}) exited; replaced in ${event.restartIn} ms\n`);
        if (event.type === 'ready') process.stdout.write(`worker ${event.id} (pid ${String(event.pid)}) listening\n`);
      },
      setup: ({ slot, id }) => {
        const offload = values['inline-codec'] === true ? undefined : { pool: new WorkerPool({ size: 1, maxQueue: CODEC_MAX_QUEUE }), threshold };
        const { server, demo } = demoServer(offload, slot);
        demo.registerFunction(() => ({ id, slot, pid: process.pid }), 'worker.info', {
          help: 'worker.info(): which worker process answered: {id, slot, pid}.',
        });
        return server;
      },
    });
    if (fleet.role === 'primary') {
      // An IPv6 address in a URL goes in brackets, as the one-process line has it.
      const shown = host.includes(':') ? `[${host}]` : host;
      process.stdout.write(`XML-RPC server listening on http://${shown}:${fleet.port}${path} with ${fleet.workers} worker process(es)\n`);
      process.on('SIGUSR2', () => void fleet.stats().then((s) => process.stdout.write(`${JSON.stringify(s)}\n`)));
    }
    return;
  }
  // One worker fewer than the cores: the event loop keeps one.
  const pool = values['inline-codec'] === true ? null : new WorkerPool({ size: Math.max(1, availableParallelism() - 1), maxQueue: CODEC_MAX_QUEUE });
  const offload = pool === null ? undefined : { pool, threshold };
  const { server } = demoServer(offload);
  const address = await server.listen(port, host);
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const base = `http://${shown}:${address.port}`;
  const o = server.options;
  process.stdout.write(
    [
      `XML-RPC server listening on ${base}${path}`,
      `pid ${process.pid} (SIGTERM or SIGINT closes it gracefully)`,
      pool === null
        ? 'documents decoded and encoded on the event loop'
        : `documents over ${threshold} bytes decoded and encoded on ${pool.stats().size} worker thread(s)`,
      `limits: ${o.maxConnections} connections (${o.maxConnectionsPerAddress === Infinity ? 'no limit' : o.maxConnectionsPerAddress} per address), bodies up to ${o.maxBodyBytes} bytes, ` +
        `heads up to ${o.maxHeaderBytes} bytes, ${o.maxBufferedBytes} bytes buffered, ${o.maxPipelinedRequests} pipelined requests; ` +
        `timeouts: head ${o.headersTimeout} ms, request ${o.requestTimeout} ms, keep-alive ${o.keepAliveTimeout} ms`,
      logTo === null ? 'access log: off' : `access log: ${logTo === '-' ? 'stdout' : logTo} (${format})`,
      values.status === true ? `status: ${base}/status, metrics: ${base}/metrics` : 'status and metrics: off (--status serves them)',
    ].join('\n') + '\n',
  );
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      // The operator will not wait: drop what is left, and say so in the exit status.
      process.stdout.write(`${signal}: stopping now\n`);
      void server.close({ timeout: 0 });
      process.exit(128 + constants.signals[signal]);
    }
    stopping = true;
    process.stdout.write(`${signal}: closing (calls in flight get ${shutdownTimeout / 1000} s; a second signal stops at once)\n`);
    server
      .close({ timeout: shutdownTimeout })
      .then(() => pool?.close())
      .then(
        () => process.exit(0),
        () => process.exit(1),
      );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

/** `--shutdown-timeout` in ms, or what is wrong with it. */
function shutdownMs(seconds: string | undefined): number | string {
  if (seconds === undefined) return DEFAULT_SHUTDOWN_TIMEOUT * 1000;
  if (!/^[0-9]+(\.[0-9]+)?$/.test(seconds)) return `bad --shutdown-timeout: ${JSON.stringify(seconds)} is not a number of seconds`;
  try {
    return timeoutMs('--shutdown-timeout', Math.round(Number(seconds) * 1000));
  } catch (err) {
    return (err as Error).message;
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
