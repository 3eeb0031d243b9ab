// Child processes of the server bench: every child is tracked so that one
// call (in a finally block, on SIGINT, on exit) kills them all; every wait is
// bounded in time. Also: CPU pinning with taskset, and RSS from /proc.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as readline from 'node:readline';

const children = new Set<ChildProcess>();

/**
 * A stop for a bench server child that serves until its stdin closes: ends
 * its stdin, then SIGKILLs it if it has not exited within 5 s.
 */
export function stopByStdin(child: ChildProcess): () => Promise<void> {
  return () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      child.stdin!.end();
    });
}

/** Kills every child still running (SIGKILL: nothing of theirs is worth waiting for). */
export function killAll(): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  children.clear();
}

let handlersInstalled = false;

/** On SIGINT or SIGTERM: kill the children, run `cleanup`, exit. On any exit: kill the children. */
export function installExitHandlers(cleanup: () => void): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  const onSignal = (signal: NodeJS.Signals) => {
    process.stderr.write(`\n${signal}: stopping the bench\n`);
    killAll();
    cleanup();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.once('exit', killAll);
}

export function spawnTracked(argv: string[], options: { stdin?: boolean } = {}): ChildProcess {
  const child = spawn(argv[0]!, argv.slice(1), {
    stdio: [options.stdin === true ? 'pipe' : 'ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  child.once('error', () => children.delete(child));
  return child;
}

/** The path of an executable found on PATH, or null. */
export function which(name: string): string | null {
  for (const dir of (process.env['PATH'] ?? '').split(path.delimiter)) {
    if (dir === '') continue;
    const file = path.join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      /* not here */
    }
  }
  return null;
}

export interface Pinning {
  /** Prefixes a command so that it runs on one core, when pinning is possible. */
  on(core: number, argv: string[]): string[];
  /** Why pinning is off, or null when it is on. */
  note: string | null;
}

export function pinning(): Pinning {
  const taskset = which('taskset');
  const cores = os.availableParallelism();
  const note =
    taskset === null
      ? 'taskset not found: servers and the load generator are not pinned to cores (numbers are noisier)'
      : cores < 2
        ? `only ${cores} core: servers and the load generator share it, not pinned`
        : null;
  return {
    note,
    on: (core, argv) => (note === null ? [taskset!, '-c', String(core), ...argv] : argv),
  };
}

/** Runs argv under bash with the open-file limit raised (for thousands of sockets). */
export function withFileLimit(limit: number, argv: string[]): string[] {
  const script = `ulimit -n ${limit} 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$@"`;
  return ['bash', '-c', script, 'bash', ...argv];
}

export interface Rss {
  /** Resident set now, bytes. */
  rss: number;
  /** Peak resident set over the process's life (VmHWM), bytes. */
  peak: number;
}

/** The RSS of a running process, from /proc/<pid>/status; null if it is gone. */
export function readRss(pid: number): Rss | null {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'latin1');
  } catch {
    return null;
  }
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

let clockTicks: number | null = null;

/** CPU time a running process has used (user + system), ms, from /proc/<pid>/stat; null if it is gone. */
export function readCpuMs(pid: number): number | null {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return null;
  }
  // The fields after "(comm)": state is the first, utime and stime the 12th and 13th (proc(5)).
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  clockTicks ??= Number(capture(['getconf', 'CLK_TCK']) ?? 100) || 100;
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicks;
}

export interface Started {
  child: ChildProcess;
  pid: number;
  port: number;
  /** The end of what the process wrote on stderr. */
  stderr(): string;
  /** True while it runs. */
  alive(): boolean;
}

/**
 * Starts a server that prints its bound port as its first stdout line.
 * Rejects if it exits, or prints no port within `timeoutMs`.
 */
export function startServer(argv: string[], timeoutMs = 15_000): Promise<Started> {
  const child = spawnTracked(argv);
  let err = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    err = (err + chunk.toString()).slice(-2000);
  });
  let out = '';
  let found = false;
  return new Promise((resolve, reject) => {
    const fail = (why: string) => {
      if (found) return;
      found = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      const said = errorLine(err);
      reject(new Error(said === '' ? why : `${why}: ${said}`));
    };
    const timer = setTimeout(() => fail(`printed no port within ${timeoutMs} ms`), timeoutMs);
    child.on('error', (e) => fail(e.message));
    child.once('exit', (code, signal) => fail(`exited (${signal ?? code}) before printing its port`));
    child.stdout!.on('data', (chunk: Buffer) => {
      if (found) return;
      out += chunk.toString();
      const line = /^\s*(\d+)\s*\n/.exec(out);
      if (line === null) {
        if (out.length > 1000) fail(`no port on stdout: ${JSON.stringify(out.slice(0, 80))}`);
        return;
      }
      found = true;
      clearTimeout(timer);
      resolve({
        child,
        pid: child.pid!,
        port: Number(line[1]),
        stderr: () => err,
        alive: () => child.exitCode === null && child.signalCode === null,
      });
    });
  });
}

/** The most telling line of a process's stderr: its first error line, else its last line. */
export function errorLine(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  return (lines.find((l) => /error|exception|cannot|denied/i.test(l)) ?? lines.at(-1) ?? '').slice(0, 300);
}

/** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
export async function stop(child: ChildProcess, graceMs = 2000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** Runs a command to completion, killing it after `timeoutMs`. */
export function run(argv: string[], timeoutMs: number): Promise<RunResult> {
  const child = spawnTracked(argv);
  let stdout = '';
  let stderr = '';
  let timedOut = false;
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-10_000)));
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, timeoutMs);
  return new Promise((resolve) => {
    child.once('error', (e) => {
      clearTimeout(timer);
      resolve({ code: null, stdout, stderr: e.message, timedOut });
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, timedOut });
    });
  });
}

/** A short synchronous command's stdout (trimmed), or null if it failed. */
export function capture(argv: string[]): string | null {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: 10_000 });
  return r.status === 0 ? r.stdout.trim() : null;
}

/** Reads a child's stdout line by line, each wait bounded. */
export function lineReader(child: ChildProcess): { next(timeoutMs: number): Promise<string> } {
  const queue: string[] = [];
  let waiting: ((line: string | null) => void) | null = null;
  let ended = false;
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-1000)));
  const rl = readline.createInterface({ input: child.stdout! });
  rl.on('line', (line) => {
    if (waiting !== null) {
      const w = waiting;
      waiting = null;
      w(line);
    } else queue.push(line);
  });
  rl.on('close', () => {
    ended = true;
    waiting?.(null);
  });
  return {
    next: (timeoutMs) =>
      new Promise((resolve, reject) => {
        const queued = queue.shift();
        if (queued !== undefined) return resolve(queued);
        if (ended) return reject(new Error(`the client process ended: ${stderr.trim()}`));
        const timer = setTimeout(() => {
          waiting = null;
          reject(new Error(`no answer from the client process within ${timeoutMs} ms`));
        }, timeoutMs);
        waiting = (line) => {
          clearTimeout(timer);
          if (line === null) reject(new Error(`the client process ended: ${stderr.trim()}`));
          else resolve(line);
        };
      }),
  };
}
