// The load generator: wrk in its own process, pinned to its own core, driven
// by the Lua scripts in bench/wrk/; autocannon where wrk is absent and
// autocannon is installed. Both reduce to one LoadResult.

import * as path from 'node:path';
import { run, which, type Pinning } from './procs.js';

export interface LoadResult {
  requests: number;
  perSec: number;
  /** Milliseconds. With pipelining, wrk times a whole batch. */
  p50: number;
  p99: number;
  /** Socket errors, timeouts and non-2xx responses, as text ('' when none). */
  errors: string;
}

export interface LoadSpec {
  url: string;
  bodyFile: string;
  connections: number;
  /** Requests per batch on each connection (1: no pipelining). */
  depth: number;
  seconds: number;
}

export interface LoadTool {
  name: string;
  run(spec: LoadSpec): Promise<LoadResult>;
}

/**
 * wrk if installed, else autocannon if installed, else null.
 * `prefer: 'autocannon'` (BENCH_LOAD_TOOL=autocannon) skips wrk.
 */
export function findLoadTool(pin: Pinning, scriptsDir: string, root: string, prefer = 'wrk'): LoadTool | null {
  const wrk = prefer === 'autocannon' ? null : which('wrk');
  if (wrk !== null) return { name: 'wrk', run: (spec) => runWrk(wrk, pin, scriptsDir, spec) };
  const local = path.join(root, 'node_modules', '.bin', 'autocannon');
  const autocannon = which('autocannon') ?? (which(local) === null ? null : local);
  if (autocannon !== null) return { name: 'autocannon', run: (spec) => runAutocannon(autocannon, pin, spec) };
  return null;
}

async function runWrk(wrk: string, pin: Pinning, scriptsDir: string, spec: LoadSpec): Promise<LoadResult> {
  const script = path.join(scriptsDir, spec.depth > 1 ? 'pipeline.lua' : 'post.lua');
  const argv = pin.on(1, [
    wrk,
    '-t1',
    `-c${spec.connections}`,
    `-d${spec.seconds}s`,
    '--timeout',
    '10s',
    '--latency',
    '-s',
    script,
    spec.url,
    '--',
    spec.bodyFile,
    String(spec.depth),
  ]);
  const r = await run(argv, (spec.seconds + 30) * 1000);
  if (r.timedOut) throw new Error('wrk did not finish in time');
  if (r.code !== 0) throw new Error(`wrk failed (${r.code}): ${r.stderr.trim() || r.stdout.trim()}`);
  return parseWrk(r.stdout);
}

/** Reads wrk's --latency report. */
export function parseWrk(out: string): LoadResult {
  const number = (re: RegExp) => {
    const m = re.exec(out);
    if (m === null) throw new Error(`wrk output without ${re.source}:\n${out}`);
    return Number(m[1]);
  };
  const latency = (percent: number) => {
    const m = new RegExp(`^\\s*${percent}(?:\\.0+)?%\\s+([\\d.]+)(us|ms|s|m|h)\\s*$`, 'm').exec(out);
    if (m === null) return NaN; // no response at all: wrk prints no distribution
    const unit = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'us' | 'ms' | 's' | 'm' | 'h'];
    return Number(m[1]) * unit;
  };
  const errors: string[] = [];
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  if (socket !== null) {
    ['connect', 'read', 'write', 'timeout'].forEach((kind, i) => {
      if (socket[i + 1] !== '0') errors.push(`${kind} errors ${socket[i + 1]}`);
    });
  }
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  if (non2xx !== null) errors.push(`non-2xx ${non2xx[1]}`);
  return {
    requests: number(/(\d+) requests in/),
    perSec: number(/Requests\/sec:\s+([\d.]+)/),
    p50: latency(50),
    p99: latency(99),
    errors: errors.join(', '),
  };
}

async function runAutocannon(bin: string, pin: Pinning, spec: LoadSpec): Promise<LoadResult> {
  const argv = pin.on(1, [
    bin,
    '--json',
    '-c',
    String(spec.connections),
    '-p',
    String(spec.depth),
    '-d',
    String(spec.seconds),
    '-t',
    '10',
    '-m',
    'POST',
    '-H',
    'Content-Type=text/xml',
    '-i',
    spec.bodyFile,
    spec.url,
  ]);
  const r = await run(argv, (spec.seconds + 30) * 1000);
  if (r.timedOut) throw new Error('autocannon did not finish in time');
  const json = r.stdout.slice(r.stdout.indexOf('{'));
  if (r.code !== 0 || json === '') throw new Error(`autocannon failed (${r.code}): ${r.stderr.trim()}`);
  const report = JSON.parse(json) as {
    requests: { total: number; average: number };
    latency: { p50: number; p99: number };
    errors: number;
    timeouts: number;
    non2xx: number;
  };
  const errors = [
    report.errors > 0 ? `errors ${report.errors}` : '',
    report.timeouts > 0 ? `timeouts ${report.timeouts}` : '',
    report.non2xx > 0 ? `non-2xx ${report.non2xx}` : '',
  ].filter((e) => e !== '');
  return {
    requests: report.requests.total,
    perSec: report.requests.average,
    p50: report.latency.p50,
    p99: report.latency.p99,
    errors: errors.join(', '),
  };
}
