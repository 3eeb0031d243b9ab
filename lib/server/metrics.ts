// Prometheus metrics through prom-client: requests and their latency by
// XML-RPC method and HTTP status, faults, bytes, open connections by state
// and the limits hit. `ServerMetrics` registers them in a registry the user
// owns (or one of its own); `MetricsHandler` serves a registry at /metrics in
// the text exposition format. Counted from the server's request records
// (Server#observe), so nothing is counted until they are made.

import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { AccessRecord } from './access-log.js';
import type { Handler, Request, Response } from './request.js';
import type { Server, ServerStats } from './server.js';

export interface ServerMetricsOptions {
  /** Where the metrics are registered (default: a registry of their own, `metrics.registry`). */
  registry?: Registry;
  /** Prepended to every metric name (default 'xmlrpc_'). */
  prefix?: string;
  /** Method label values at most (clients choose the names); the rest are labelled '(other)'. Default 200. */
  maxMethods?: number;
  /** Latency histogram buckets, seconds. */
  buckets?: number[];
}

/** The `method` label of a request that named no XML-RPC method (a 404, a 400, a status page). */
export const NO_METHOD = '(none)';
const OTHER = '(other)';
const DEFAULT_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Limit counters read from Server#stats() at each scrape (the server counts them anyway). */
const LIMITS: [string, keyof ServerStats][] = [
  ['request_timeout', 'timeouts'],
  ['body_too_large', 'tooLarge'],
  ['memory_refused', 'unavailable'],
  ['connection_refused', 'refusedConnections'],
  ['connection_evicted', 'evictedConnections'],
  ['parse_error', 'parseErrors'],
];

export class ServerMetrics {
  readonly registry: Registry;
  private readonly requests: Counter<'method' | 'status'>;
  private readonly duration: Histogram<'method' | 'status'>;
  private readonly faults: Counter<'method'>;
  private readonly bytesIn: Counter;
  private readonly bytesOut: Counter;
  private readonly methods = new Set<string>();
  private readonly maxMethods: number;
  private readonly stop: () => void;

  constructor(server: Server, options: ServerMetricsOptions = {}) {
    const registry = (this.registry = options.registry ?? new Registry());
    const p = options.prefix ?? 'xmlrpc_';
    const registers = [registry];
    this.maxMethods = options.maxMethods ?? 200;
    this.requests = new Counter({
      name: `${p}requests_total`,
      help: 'Requests answered, by XML-RPC method and HTTP status.',
      labelNames: ['method', 'status'],
      registers,
    });
    this.duration = new Histogram({
      name: `${p}request_duration_seconds`,
      help: 'From the first byte of a request to its response handed to the socket.',
      labelNames: ['method', 'status'],
      buckets: options.buckets ?? DEFAULT_BUCKETS,
      registers,
    });
    this.faults = new Counter({ name: `${p}faults_total`, help: 'XML-RPC calls answered with a fault, by method.', labelNames: ['method'], registers });
    this.bytesIn = new Counter({ name: `${p}received_bytes_total`, help: 'Request bytes received (heads and bodies of answered requests).', registers });
    this.bytesOut = new Counter({ name: `${p}sent_bytes_total`, help: 'Response bytes written, heads included.', registers });
    new Gauge({
      name: `${p}open_connections`,
      help: 'Open connections by state.',
      labelNames: ['state'],
      registers,
      collect(this: Gauge<'state'>) {
        for (const [state, n] of Object.entries(server.stats().connectionsByState)) this.set({ state }, n);
      },
    });
    // A counter whose value the server keeps: each scrape adds what it has grown by.
    let seen = new Map<string, number>();
    new Counter({
      name: `${p}limits_hit_total`,
      help: 'Requests and connections refused by a limit: 408, 413, 503, parse errors, evictions.',
      labelNames: ['limit'],
      registers,
      collect(this: Counter<'limit'>) {
        const stats = server.stats();
        const now = new Map<string, number>();
        for (const [limit, key] of LIMITS) {
          const value = stats[key] as number;
          now.set(limit, value);
          this.inc({ limit }, value - (seen.get(limit) ?? 0));
        }
        seen = now;
      },
    });
    this.stop = server.observe((record) => this.count(record));
  }

  /** Stops counting requests (the metrics stay registered). */
  close(): void {
    this.stop();
  }

  private count(record: AccessRecord): void {
    const method = this.label(record.rpcMethod);
    const labels = { method, status: record.status };
    this.requests.inc(labels);
    this.duration.observe(labels, record.durationUs / 1e6);
    if (record.faultCode !== null) this.faults.inc({ method });
    this.bytesIn.inc(record.bytesIn);
    this.bytesOut.inc(record.bytesOut);
  }

  private label(name: string | null): string {
    if (name === null) return NO_METHOD;
    if (this.methods.has(name)) return name;
    if (this.methods.size >= this.maxMethods) return OTHER;
    this.methods.add(name);
    return name;
  }
}

export interface MetricsHandlerOptions extends ServerMetricsOptions {
  /** Served at this path (default '/metrics'). */
  path?: string;
  /** Metrics already made (their registry is served); default: new ServerMetrics for `server`. */
  metrics?: ServerMetrics;
  server?: Server;
}

/** Serves a registry at /metrics in Prometheus's text exposition format. */
export class MetricsHandler implements Handler {
  readonly path: string;
  readonly metrics: ServerMetrics;

  constructor(options: MetricsHandlerOptions) {
    const { path, metrics, server, ...rest } = options;
    this.path = path ?? '/metrics';
    if (metrics !== undefined) this.metrics = metrics;
    else if (server !== undefined) this.metrics = new ServerMetrics(server, rest);
    else throw new TypeError('MetricsHandler needs a server or metrics');
  }

  match(request: Request): boolean {
    return request.path === this.path;
  }

  async handle(request: Request): Promise<Response> {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      return { status: 405, headers: { Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' }, body: 'metrics take GET\n' };
    }
    const registry = this.metrics.registry;
    return { status: 200, headers: { 'Content-Type': registry.contentType, 'Cache-Control': 'no-store' }, body: await registry.metrics() };
  }
}
