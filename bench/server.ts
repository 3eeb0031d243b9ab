// The server bench: our server beside the XML-RPC peers and two ceilings,
// each a child process pinned to core 0, loaded by wrk pinned to core 1 with
// the same workloads, in one run. One table per workload and concurrency.
//
// Every run starts a fresh server (so idle and peak RSS belong to that run),
// checks its answer to the workload with the same request bytes wrk sends (a
// broken peer is reported, not benchmarked), loads it, reads VmHWM, stops it.
//
// Environment (all optional):
//   BENCH_DURATION=3           seconds per run (big payloads: two thirds of it)
//   BENCH_WARMUP=1             seconds of the same load, unmeasured, before each run (0: none)
//   BENCH_PEERS=ours,python    only these servers (ids: see bench/peers.ts)
//   BENCH_WORKLOADS=add,array  only these workloads (add, struct, array, base64)
//   BENCH_CONNECTIONS=1,32     the concurrencies of the plain runs
//   BENCH_PIPELINE_DEPTH=16    requests per pipelined batch (0: no pipelined run)
//   BENCH_PIPELINE_CONNECTIONS=1
//   BENCH_IDLE_CONNECTIONS=10000  (0: skip the idle keep-alive measurement)
//   BENCH_LOAD_TOOL=autocannon    use autocannon even where wrk is installed

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkResponse, exchange, httpRequest, warmUp } from './http-check.js';
import { IDLE_MS, measureIdleConnections } from './idle.js';
import { findLoadTool, type LoadResult, type LoadTool } from './load.js';
import { table } from './measure.js';
import { OURS, PEERS, type Paths, type Peer } from './peers.js';
import { errorLine, installExitHandlers, killAll, pinning, readRss, startServer, stop, type Pinning } from './procs.js';
import { WORKLOADS, requestBody, type Workload } from './workloads.js';

interface Mode {
  title: string;
  connections: number;
  depth: number;
}

interface Config {
  seconds: number;
  warmSeconds: number;
  peers: readonly Peer[];
  workloads: readonly Workload[];
  modes: Mode[];
  pipelineDepth: number;
  idleConnections: number;
}

interface Ready {
  peer: Peer;
  argv: string[];
  /** Workload id -> why its answer is wrong; absent when correct. */
  broken: Map<string, string>;
  /** Why pipelined requests fail; null when they work. */
  noPipelining: string | null;
}

/** Seconds of a run: measured, and of the same load before it, unmeasured. */
interface RunTime {
  seconds: number;
  warmSeconds: number;
}

interface Measured {
  load: LoadResult | null;
  idleRss: number;
  peakRss: number;
  note: string;
}

const DIST = path.dirname(fileURLToPath(import.meta.url));
/** Issue 16's memory targets: peak RSS on any workload at 32 connections, and with 10,000 idle keep-alive connections. */
const PEAK_TARGET = 80e6;
const IDLE_TARGET = 150e6;
const ROOT = path.resolve(DIST, '..', '..');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function config(): Config {
  const env = process.env;
  const int = (name: string, fallback: number) => {
    const v = env[name];
    const n = v === undefined || v === '' ? fallback : Number(v);
    if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a whole number, not ${v}`);
    return n;
  };
  const list = (name: string) =>
    (env[name] ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
  const pick = <T extends { id: string }>(name: string, all: readonly T[]): T[] => {
    const ids = list(name);
    for (const id of ids) {
      if (!all.some((x) => x.id === id)) throw new Error(`${name}: unknown ${id} (known: ${all.map((x) => x.id).join(', ')})`);
    }
    return ids.length === 0 ? [...all] : all.filter((x) => ids.includes(x.id));
  };
  const connections = list('BENCH_CONNECTIONS').map(Number);
  const pipelineDepth = int('BENCH_PIPELINE_DEPTH', 16);
  const pipelineConnections = int('BENCH_PIPELINE_CONNECTIONS', 1);
  const modes: Mode[] = (connections.length === 0 ? [1, 32] : connections).map((c) => ({
    title: c === 1 ? '1 connection' : `${c} connections`,
    connections: c,
    depth: 1,
  }));
  if (pipelineDepth > 1) {
    modes.push({
      title: `${pipelineConnections} connection${pipelineConnections === 1 ? '' : 's'}, pipelined ${pipelineDepth} deep`,
      connections: pipelineConnections,
      depth: pipelineDepth,
    });
  }
  return {
    seconds: Math.max(1, int('BENCH_DURATION', 3)),
    warmSeconds: int('BENCH_WARMUP', 1),
    peers: pick('BENCH_PEERS', PEERS),
    workloads: pick('BENCH_WORKLOADS', WORKLOADS),
    modes,
    pipelineDepth,
    idleConnections: int('BENCH_IDLE_CONNECTIONS', 10_000),
  };
}

/** Runs the whole server bench, printing as it goes. */
export async function runServerBench(): Promise<void> {
  const cfg = config();
  const pin = pinning();
  const tool = findLoadTool(pin, path.join(ROOT, 'bench', 'wrk'), ROOT, process.env['BENCH_LOAD_TOOL']);
  if (tool === null) {
    console.log('Server bench skipped: wrk is required (apt-get install wrk); autocannon is used instead where installed.');
    return;
  }
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'medusa-bench-'));
  const cleanup = () => rmSync(tmp, { recursive: true, force: true });
  installExitHandlers(cleanup);
  try {
    await bench(cfg, pin, tool, { root: ROOT, dist: DIST, tmp });
  } finally {
    killAll();
    cleanup();
  }
}

async function bench(cfg: Config, pin: Pinning, tool: LoadTool, paths: Paths): Promise<void> {
  console.log(
    `Servers: each pinned to core 0, loaded by ${tool.name} on core 1, keep-alive, ` +
      `${cfg.seconds} s per run (${Math.max(1, Math.round((cfg.seconds * 2) / 3))} s for payloads over 100 KB), ` +
      `after ${cfg.warmSeconds} s of the same load unmeasured`,
  );
  if (pin.note !== null) console.log(`note: ${pin.note}`);
  const notes: string[] = [];

  const bodyFiles = new Map<string, string>();
  for (const w of cfg.workloads) {
    const file = path.join(paths.tmp, `${w.id}.xml`);
    writeFileSync(file, requestBody(w));
    bodyFiles.set(w.id, file);
  }

  // Find, build and probe every server once: which workloads it answers
  // correctly, and whether it answers pipelined requests.
  const ready: Ready[] = [];
  for (const peer of cfg.peers) {
    try {
      const prepared = await peer.prepare(paths);
      if ('skip' in prepared) notes.push(`${peer.label}: skipped, ${prepared.skip}`);
      else ready.push(await probe(peer, prepared.argv, pin, cfg));
    } catch (err) {
      notes.push(`${peer.label}: skipped, ${(err as Error).message}`);
    }
  }
  for (const r of ready) {
    for (const [id, why] of r.broken) notes.push(`${r.peer.label}: not benchmarked on ${id}, its answer is wrong (${why})`);
  }
  console.log('');

  const oursByRun = new Map<string, Measured>();
  for (const w of cfg.workloads) {
    for (const mode of cfg.modes) {
      if (mode.depth > 1 && w.big) continue;
      const seconds = w.big ? Math.max(1, Math.round((cfg.seconds * 2) / 3)) : cfg.seconds;
      const results: [Ready, Measured][] = [];
      for (const r of ready) {
        const measured = await measure(r, w, mode, { seconds, warmSeconds: cfg.warmSeconds }, bodyFiles.get(w.id)!, pin, tool);
        results.push([r, measured]);
        if (r.peer === OURS) oursByRun.set(`${w.id}/${mode.connections}/${mode.depth}`, measured);
      }
      const title = `${w.title}, ${mode.title}, ${seconds} s`;
      console.log(`${title} (request ${kib(requestBody(w).length)})`);
      console.log(resultTable(results, mode.depth > 1));
      for (const [r, m] of results) {
        if (m.note.length > NOTE_WIDTH) notes.push(`${r.peer.label}, ${title}: ${m.note}`);
      }
      if (mode.depth > 1) console.log(PIPELINED_LATENCY);
      console.log('');
    }
  }

  const lines = summary(cfg, ready, oursByRun);
  if (lines.length > 0) console.log(lines.join('\n'));
  if (cfg.idleConnections > 0 && cfg.peers.includes(OURS)) {
    console.log(await idleLine(paths, pin, cfg.idleConnections));
  }
  if (notes.length > 0) console.log(`${lines.length > 0 ? '\n' : ''}Notes:\n${notes.map((n) => `- ${n}`).join('\n')}`);
}

/** Starts a server once: checks each workload's answer and pipelining. */
async function probe(peer: Peer, argv: string[], pin: Pinning, cfg: Config): Promise<Ready> {
  const server = await startServer(pin.on(0, argv));
  try {
    const broken = new Map<string, string>();
    for (const w of cfg.workloads) {
      const why = await checkOnce(server.port, w, 1);
      if (why !== null) broken.set(w.id, why);
    }
    let noPipelining: string | null = null;
    if (cfg.pipelineDepth > 1) {
      const add = WORKLOADS[0]!;
      noPipelining = broken.has(add.id) ? 'add is broken' : await checkOnce(server.port, add, cfg.pipelineDepth);
    }
    if (!server.alive()) throw new Error(`exited during the probe: ${errorLine(server.stderr())}`);
    return { peer, argv, broken, noPipelining };
  } finally {
    await stop(server.child);
  }
}

/** Sends `depth` requests of the workload in one write; null if every answer is right. */
async function checkOnce(port: number, w: Workload, depth: number): Promise<string | null> {
  const one = httpRequest(port, requestBody(w));
  const request = depth === 1 ? one : Buffer.concat(Array.from({ length: depth }, () => one));
  const { responses, error } = await exchange(port, request, depth, w.big ? 30_000 : 5_000);
  for (const response of responses) {
    const why = checkResponse(response, w);
    if (why !== null) return why;
  }
  return error;
}

/** One run: a fresh server, its idle RSS, a checked warm-up call, the load, its peak RSS. */
async function measure(r: Ready, w: Workload, mode: Mode, time: RunTime, bodyFile: string, pin: Pinning, tool: LoadTool): Promise<Measured> {
  const none = (note: string): Measured => ({ load: null, idleRss: NaN, peakRss: NaN, note });
  const broken = r.broken.get(w.id);
  if (broken !== undefined) return none(`wrong answer: ${broken}`);
  if (mode.depth > 1 && r.noPipelining !== null) return none(`no pipelining: ${r.noPipelining}`);
  let server;
  try {
    server = await startServer(pin.on(0, r.argv));
  } catch (err) {
    return none(`failed to start: ${(err as Error).message}`);
  }
  try {
    await sleep(300);
    const idle = readRss(server.pid);
    const warm = await checkOnce(server.port, w, mode.depth);
    if (warm !== null) return none(`warm-up: ${warm}`);
    // Unmeasured calls first, so that a JIT's warm-up is not in the figures:
    // some on one connection, then the run's own load. Half a second on one
    // connection left a fresh V8 server compiling into the measured run (ours
    // echoed the struct at about 2.5k/s in its first second of wrk's load and
    // 11k/s from its third), and each new connection's stream code is
    // compiled again (see INSN_SETTLE in instructions.ts).
    await warmUp(server.port, httpRequest(server.port, requestBody(w)), w.big ? 50 : 5000, 500);
    const spec = { url: `http://127.0.0.1:${server.port}/RPC2`, bodyFile, connections: mode.connections, depth: mode.depth };
    let load: LoadResult;
    try {
      if (time.warmSeconds > 0) await tool.run({ ...spec, seconds: time.warmSeconds });
      load = await tool.run({ ...spec, seconds: time.seconds });
    } catch (err) {
      return none((err as Error).message.split('\n')[0]!);
    }
    const after = readRss(server.pid);
    const notes = [load.errors];
    if (!server.alive() || after === null) notes.push(`exited during the run: ${errorLine(server.stderr())}`);
    return { load, idleRss: idle?.rss ?? NaN, peakRss: after?.peak ?? NaN, note: notes.filter((n) => n !== '').join('; ') };
  } finally {
    await stop(server.child);
  }
}

/** Longer notes are cut in the table and given whole at the end. */
const NOTE_WIDTH = 60;

const PIPELINED_LATENCY =
  '(no latency for pipelined runs: wrk corrects for coordinated omission as if each connection had one\n' +
  ' request in flight, which leaves its percentiles empty when it pipelines, wg/wrk#236; the mean time\n' +
  ' per batch is connections x depth / req/s)';

function resultTable(results: [Ready, Measured][], pipelined: boolean): string {
  const ours = results.find(([r]) => r.peer === OURS)?.[1].load ?? null;
  const rows = results.map(([r, m]) => {
    const l = m.load;
    const ratio = ours === null || l === null || r.peer === OURS ? '' : `${(ours.perSec / l.perSec).toFixed(2)}x`;
    return [
      r.peer.label,
      l === null ? '-' : count(l.perSec),
      l === null || pipelined ? '-' : latency(l.p50),
      l === null || pipelined ? '-' : latency(l.p99),
      mb(m.idleRss),
      mb(m.peakRss),
      ratio,
      m.note.length > NOTE_WIDTH ? `${m.note.slice(0, NOTE_WIDTH - 14)}... (see notes)` : m.note,
    ];
  });
  return table(['server', 'req/s', 'p50', 'p99', 'idle RSS', 'peak RSS', 'ours/this', 'notes'], rows)
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n');
}

function summary(cfg: Config, ready: Ready[], oursByRun: Map<string, Measured>): string[] {
  const lines: string[] = [];
  const pipelined = ready.filter((r) => r.noPipelining === null).map((r) => r.peer.label);
  if (cfg.pipelineDepth > 1) {
    lines.push(`Pipelining (${cfg.pipelineDepth} add calls in one write, all answered correctly and in order):`);
    lines.push(`  yes: ${pipelined.join(', ') || 'none'}`);
    for (const r of ready) if (r.noPipelining !== null) lines.push(`  no:  ${r.peer.label} (${r.noPipelining})`);
  }
  for (const c of cfg.modes.filter((m) => m.depth === 1)) {
    const m = oursByRun.get(`array/${c.connections}/1`);
    if (m === undefined || m.load === null) continue;
    const ratio = m.peakRss / m.idleRss;
    lines.push(
      `Memory, ours under the 10,000-int array load (${c.title}): idle ${mb(m.idleRss)}, peak ${mb(m.peakRss)}, ` +
        `${ratio.toFixed(2)}x idle (target < 2x: ${ratio < 2 ? 'met' : 'NOT met'})`,
    );
  }
  // Issue 16: peak RSS at most 80 MB on every workload at 32 connections.
  const peaks = cfg.workloads.flatMap((w) => {
    const m = oursByRun.get(`${w.id}/32/1`);
    return m === undefined || m.load === null ? [] : [{ id: w.id, peak: m.peakRss }];
  });
  if (peaks.length > 0) {
    const over = peaks.filter((p) => !(p.peak <= PEAK_TARGET));
    lines.push(
      `Peak RSS, ours at 32 connections: ${peaks.map((p) => `${p.id} ${mb(p.peak)}`).join(', ')} ` +
        `(target <= ${mb(PEAK_TARGET)} on every workload: ${over.length === 0 ? 'met' : `NOT met: ${over.map((p) => p.id).join(', ')}`})`,
    );
  }
  return lines;
}

async function idleLine(paths: Paths, pin: Pinning, n: number): Promise<string> {
  try {
    const r = await measureIdleConnections(paths.dist, pin, n);
    const perConnection = (r.rss - r.idleRss) / Math.max(1, r.ready);
    const held = r.ready === n && r.open === n;
    return (
      `${n} idle keep-alive connections to ours (one add call each, then ${IDLE_MS / 1000} s idle; ` +
      `opened in ${(r.ms / 1000).toFixed(1)} s${r.error === null ? '' : `; first error: ${r.error}`}):\n` +
      `  ${r.open} of ${n} held; server RSS ${mb(r.rss)} (${mb(r.idleRss)} before, about ` +
      `${(perConnection / 1024).toFixed(1)} KiB per connection), peak ${mb(r.peak)}; ` +
      `target <= ${mb(IDLE_TARGET)}: ${held && r.rss <= IDLE_TARGET ? 'met' : 'NOT met'}`
    );
  } catch (err) {
    return `Idle keep-alive connections: not measured, ${(err as Error).message}`;
  }
}

function count(perSec: number): string {
  if (perSec >= 1e4) return `${(perSec / 1e3).toFixed(1)}k`;
  if (perSec >= 100) return perSec.toFixed(0);
  return perSec.toFixed(1);
}

function latency(ms: number): string {
  if (!Number.isFinite(ms)) return '-';
  if (ms < 1) return `${(ms * 1000).toFixed(0)} us`;
  if (ms < 100) return `${ms.toFixed(2)} ms`;
  if (ms < 10_000) return `${ms.toFixed(0)} ms`;
  return `${(ms / 1000).toFixed(1)} s`;
}

function mb(bytes: number): string {
  return Number.isFinite(bytes) ? `${(bytes / 1e6).toFixed(1)} MB` : '-';
}

function kib(bytes: number): string {
  return bytes >= 1 << 20 ? `${(bytes / (1 << 20)).toFixed(2)} MiB` : `${(bytes / 1024).toFixed(1)} KiB`;
}
