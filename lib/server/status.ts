// Medusa's status_handler, made current: a page (GET /status) saying what
// the server is doing: uptime, version, connections by state, requests and
// faults served, bytes in and out, per-method counts with latency p50/p99,
// and the limits it has hit. The same as JSON on `Accept: application/json`
// or `?format=json`. The HTML is built with xmlbuilder2, so every method
// name (a client chooses them) is escaped by construction.
//
// It counts from the server's request records (Server#observe): served only
// when added, and costing nothing until it is.

import { readFileSync } from 'node:fs';
import { create } from 'xmlbuilder2';
import { systemClock, type Clock } from '../clock.js';
import type { AccessRecord } from './access-log.js';
import type { ConnectionState } from './traffic.js';
import type { Handler, Request, Response } from './request.js';
import type { Server } from './server.js';

export interface StatusHandlerOptions {
  /** The server whose status this is; the handler counts its requests from now on. */
  server: Server;
  /** Default '/status'. */
  path?: string;
  /** Shown on the page; default: this package's version. */
  version?: string;
  /** Methods counted apart at most (client-chosen names must not grow the table without bound); the rest count as '(other)'. Default 200. */
  maxMethods?: number;
  /** Latencies kept per method for the percentiles: the most recent this many. Default 1024. */
  window?: number;
  /** Uptime is measured on it (default: the system clock). */
  clock?: Clock;
}

/** What the page shows; `GET /status?format=json` answers exactly this. */
export interface StatusSnapshot {
  /** Seconds since the handler was made (with the server, as a rule). */
  uptimeSeconds: number;
  version: string;
  connections: { open: number } & Record<ConnectionState, number>;
  /** Responses written, since the server was made. */
  requests: number;
  /** XML-RPC calls answered with a fault, since the handler was made. */
  faults: number;
  bytesIn: number;
  bytesOut: number;
  /** Per XML-RPC method: calls, faults, latency percentiles (ms) over the most recent `window` calls. */
  methods: { method: string; calls: number; faults: number; p50Ms: number; p99Ms: number }[];
  limits: {
    /** 408: a request head or body too slow. */
    requestTimeouts: number;
    /** 413: a body over maxBodyBytes. */
    bodyTooLarge: number;
    /** 503: a body with no room in the memory budget. */
    memoryRefusals: number;
    /** 503 at accept: the server full, or the peer at its connection limit. */
    connectionRefusals: number;
    /** Requests the HTTP parser refused (400, 413, 414, 431, 501...). */
    parseErrors: number;
  };
}

const OTHER = '(other)';

class MethodStats {
  calls = 0;
  faults = 0;
  private readonly samples: Float64Array;
  private next = 0;
  constructor(window: number) {
    this.samples = new Float64Array(window);
  }
  add(durationUs: number, fault: boolean): void {
    this.calls++;
    if (fault) this.faults++;
    this.samples[this.next++ % this.samples.length] = durationUs;
  }
  /** Nearest-rank percentiles in ms over the samples kept. */
  percentiles(): [number, number] {
    const n = Math.min(this.next, this.samples.length);
    if (n === 0) return [0, 0];
    const sorted = this.samples.slice(0, n).sort();
    const rank = (p: number) => sorted[Math.max(0, Math.ceil(p * n) - 1)]! / 1000;
    return [rank(0.5), rank(0.99)];
  }
}

export class StatusHandler implements Handler {
  readonly path: string;
  readonly version: string;
  private readonly server: Server;
  private readonly clock: Clock;
  private readonly started: number;
  private readonly maxMethods: number;
  private readonly window: number;
  private readonly methods = new Map<string, MethodStats>();
  private faults = 0;
  private readonly stop: () => void;

  constructor(options: StatusHandlerOptions) {
    this.server = options.server;
    this.path = options.path ?? '/status';
    this.version = options.version ?? packageVersion();
    this.clock = options.clock ?? systemClock;
    this.started = this.clock.now();
    this.maxMethods = options.maxMethods ?? 200;
    this.window = options.window ?? 1024;
    if (!Number.isInteger(this.window) || this.window < 1) throw new RangeError(`window must be a positive integer, got ${this.window}`);
    this.stop = this.server.observe((record) => this.count(record));
  }

  /** Stops counting (the server's records no longer come here). */
  close(): void {
    this.stop();
  }

  match(request: Request): boolean {
    return request.path === this.path;
  }

  handle(request: Request): Response {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      return { status: 405, headers: { Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' }, body: 'the status page takes GET\n' };
    }
    const snapshot = this.snapshot();
    const headers = { 'Cache-Control': 'no-store' };
    if (wantsJson(request)) {
      return { status: 200, headers: { ...headers, 'Content-Type': 'application/json' }, body: JSON.stringify(snapshot) + '\n' };
    }
    return { status: 200, headers: { ...headers, 'Content-Type': 'text/html; charset=utf-8' }, body: statusPage(snapshot) };
  }

  snapshot(): StatusSnapshot {
    const stats = this.server.stats();
    const methods = [...this.methods].map(([method, m]) => {
      const [p50Ms, p99Ms] = m.percentiles();
      return { method, calls: m.calls, faults: m.faults, p50Ms, p99Ms };
    });
    methods.sort((a, b) => b.calls - a.calls || (a.method < b.method ? -1 : 1));
    return {
      uptimeSeconds: (this.clock.now() - this.started) / 1000,
      version: this.version,
      connections: { open: stats.connections, ...stats.connectionsByState },
      requests: stats.requests,
      faults: this.faults,
      bytesIn: stats.bytesIn,
      bytesOut: stats.bytesOut,
      methods,
      limits: {
        requestTimeouts: stats.timeouts,
        bodyTooLarge: stats.tooLarge,
        memoryRefusals: stats.unavailable,
        connectionRefusals: stats.refusedConnections,
        parseErrors: stats.parseErrors,
      },
    };
  }

  private count(record: AccessRecord): void {
    const fault = record.faultCode !== null;
    if (fault) this.faults++;
    const name = record.rpcMethod;
    if (name === null) return;
    let stats = this.methods.get(name);
    if (stats === undefined) {
      const key = this.methods.size < this.maxMethods ? name : OTHER;
      stats = this.methods.get(key);
      if (stats === undefined) this.methods.set(key, (stats = new MethodStats(this.window)));
    }
    stats.add(record.durationUs, fault);
  }
}

function wantsJson(request: Request): boolean {
  if (/(?:^|&)format=json(?:&|$)/.test(request.query)) return true;
  return /\bapplication\/json\b/i.test(request.header('accept') ?? '');
}

/** The page, every text node and attribute escaped by xmlbuilder2. */
export function statusPage(s: StatusSnapshot): string {
  const html = create().ele('html', { lang: 'en' });
  const head = html.ele('head');
  head.ele('meta', { charset: 'utf-8' });
  head.ele('title').txt('XML-RPC server status');
  const body = html.ele('body');
  body.ele('h1').txt('XML-RPC server status');
  const table = (title: string, rows: [string, string | number][]) => {
    body.ele('h2').txt(title);
    const t = body.ele('table');
    for (const [name, value] of rows) {
      const tr = t.ele('tr');
      tr.ele('th').txt(name);
      tr.ele('td').txt(String(value));
    }
  };
  table('Server', [
    ['Version', s.version],
    ['Uptime (s)', s.uptimeSeconds.toFixed(1)],
    ['Requests', s.requests],
    ['Faults', s.faults],
    ['Bytes in', s.bytesIn],
    ['Bytes out', s.bytesOut],
  ]);
  table('Connections', [
    ['Open', s.connections.open],
    ['Idle', s.connections.idle],
    ['Reading', s.connections.reading],
    ['Handling', s.connections.handling],
    ['Writing', s.connections.writing],
    ['Closing', s.connections.closing],
  ]);
  table('Limits hit', [
    ['408 request timeouts', s.limits.requestTimeouts],
    ['413 bodies too large', s.limits.bodyTooLarge],
    ['503 memory refusals', s.limits.memoryRefusals],
    ['503 connections refused', s.limits.connectionRefusals],
    ['Parse errors', s.limits.parseErrors],
  ]);
  body.ele('h2').txt('Methods');
  const methods = body.ele('table');
  const header = methods.ele('tr');
  for (const name of ['Method', 'Calls', 'Faults', 'p50 (ms)', 'p99 (ms)']) header.ele('th').txt(name);
  for (const m of s.methods) {
    const tr = methods.ele('tr');
    tr.ele('td').txt(m.method === '' ? '(empty name)' : m.method);
    for (const value of [m.calls, m.faults, m.p50Ms, m.p99Ms]) tr.ele('td').txt(String(value));
  }
  return '<!DOCTYPE html>\n' + html.end({ headless: true, prettyPrint: true }) + '\n';
}

let version: string | undefined;

function packageVersion(): string {
  if (version !== undefined) return version;
  try {
    // dist/lib/server/status.js -> the package root.
    const text = readFileSync(new URL('../../../package.json', import.meta.url), 'utf8');
    const found = (JSON.parse(text) as { version?: unknown }).version;
    version = typeof found === 'string' ? found : 'unknown';
  } catch {
    version = 'unknown';
  }
  return version;
}
