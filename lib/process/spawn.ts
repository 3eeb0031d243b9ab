// spawnProcess (issue 12): a Node child (child_process.fork of
// child-main.js) serving an ObjectServer on 127.0.0.1 behind a random bearer
// token, and, in the parent, an ObjectClient bound to it, its logs as
// records, and its lifetime as promises. pyacq's process spawner without its
// weak points: a child that dies fails every pending call at once
// (OWNER_GONE, through ObjectClient#ownerGone), a parent that dies takes its
// children with it (the child's IPC 'disconnect' and watchdog), and only the
// modules the parent names can be imported.

import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { isAbsolute, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { systemClock, type Clock, type ClockTimer } from '../clock.js';
import { ServerProxy } from '../client/proxy.js';
import { Transport } from '../client/transport.js';
import { SpawnError, SpawnErrorCode } from '../errors.js';
import { childExecArgv } from '../fork/exec-argv.js';
import { ObjectClient } from '../objects/client.js';
import { timeoutMs } from '../options.js';
import { LogQueue, parseRecord, readLines, safeSink, toSink, type LogRecord, type LogSink } from './logs.js';
import { fromWireError, type FromChild, type StartMessage, type ToChild, type WireError } from './wire.js';

const CHILD_MAIN = fileURLToPath(new URL('./child-main.js', import.meta.url));
/** The child's record pipe (child-log.ts): stdio[4], after the IPC channel on fd 3. */
const RECORD_FD = 4;
/** Characters of the child's last output kept to explain an exit during start-up. */
const TAIL = 4096;

export interface SpawnObjectOptions {
  sessionTtl?: number;
  maxRefsPerSession?: number;
  maxSessions?: number;
  maxRefs?: number;
  shareRefs?: boolean;
}

export interface SpawnOptions {
  /** Names the child in its log records (`source`) and the default sink's prefix. Default 'child'. */
  name?: string;
  /**
   * What `child.objects.import(name)` may load, and nothing else: absolute
   * paths or file: URLs (a relative path is resolved against `cwd`), each
   * importable by the string given, its file URL and its absolute path; or
   * name -> path/URL. Loaded at start-up: one that throws fails the start.
   */
  modules?: readonly (string | URL)[] | Readonly<Record<string, string | URL>>;
  /**
   * Classes `child.objects.create(name)` may build: name ->
   * `'<path or file URL>#<export>'` (without `#`, the export named as the key).
   */
  classes?: Readonly<Record<string, string | URL>>;
  /**
   * Let `objects.import` load any local file too (an absolute path, a file:
   * URL, or ./ ../ relative to the child's cwd); never a package name or
   * another scheme. Only the token holder (this parent) can ask. Default false.
   */
  allowAnyModule?: boolean;
  /** Added to this process's environment for the child. */
  env?: Readonly<Record<string, string | undefined>>;
  /** The child's node flags. Default: this process's, less those that run code or wait for a debugger. */
  execArgv?: readonly string[];
  cwd?: string;
  /** Where the child's log records go: a function, a pino-style logger (info, warn, error), or null. Default: this process's stderr, `[name pid] ` before each line. */
  logger?: LogSink;
  /** ms to wait for the child to report its address; past it, it is killed and spawnProcess rejects. Default 30000. */
  startTimeout?: number;
  /** Port on 127.0.0.1. Default 0 (any free port). */
  port?: number;
  /** The child's ObjectServer limits. */
  objectOptions?: SpawnObjectOptions;
  /** Records `child.logs` keeps for a reader that has not caught up; past it the oldest go. Default 10000. */
  logBuffer?: number;
  /** Times startTimeout and stop's timeout (tests pass a manual clock). */
  clock?: Clock;
}

export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Live children of this process, so that a child stopping stops its own first. */
const live = new Set<SpawnedProcess>();

/** Stops every child this process has spawned (a stopping child does this first). */
export function stopAllChildren(options?: { timeout?: number }): Promise<unknown> {
  return Promise.all([...live].map((child) => child.stop(options)));
}

/** The live child of this process serving `url` (query and fragment aside), if any. */
function childAt(url: string): SpawnedProcess | undefined {
  const end = url.search(/[?#]/);
  const owner = end === -1 ? url : url.slice(0, end);
  for (const child of live) if (child.url === owner) return child;
  return undefined;
}

function peerOptionsOf(child: SpawnedProcess | undefined): { transport: Transport; session: string } | undefined {
  return child === undefined ? undefined : SpawnedProcess.peerOptions(child);
}

export class SpawnedProcess {
  readonly name: string;
  readonly pid: number;
  /** The child's ObjectServer: `http://127.0.0.1:<port>/RPC2`. */
  readonly url: string;
  /** An ObjectClient bound to the child (it sends the token). */
  readonly objects: ObjectClient;
  /** A ServerProxy of the child sending the token: a target for ParallelServerProxy and runJobs, or plain calls. */
  readonly server: ServerProxy;
  /** Resolves once the child has exited and its output is drained: `{ code, signal }`. */
  readonly exited: Promise<ChildExit>;
  /** The child's log records, as an async iterator (also given to `logger`). */
  readonly logs: LogQueue;
  readonly #proc: ChildProcess;
  readonly #token: string;
  readonly #clock: Clock;
  readonly #transport: Transport;
  #exit: ChildExit | null = null;
  #stopping: Promise<ChildExit> | null = null;

  /** Made by spawnProcess. */
  constructor(internal: { name: string; proc: ChildProcess; url: string; token: string; exited: Promise<ChildExit>; logs: LogQueue; clock: Clock }) {
    this.name = internal.name;
    this.#proc = internal.proc;
    this.pid = internal.proc.pid!;
    this.url = internal.url;
    this.#token = internal.token;
    this.#clock = internal.clock;
    this.logs = internal.logs;
    const transport = new Transport({ headers: { Authorization: `Bearer ${this.#token}` } });
    // A reference of another child of this process (handed back through this one) is called with
    // that child's token and session; any other owner gets no token (ObjectClient's default).
    this.objects = new ObjectClient(this.url, { transport, peerOptions: (url) => peerOptionsOf(childAt(url)) });
    this.server = new ServerProxy(this.url, { transport });
    this.#transport = transport;
    this.exited = internal.exited;
  }

  /** What a client of another child needs to call this one's references: its token, and the session they were made in. */
  static peerOptions(child: SpawnedProcess): { transport: Transport; session: string } {
    return { transport: child.#transport, session: child.objects.session };
  }

  /** The bearer token: give it to another client of this child (a Python one) as `Authorization: Bearer <token>`. */
  get token(): string {
    return this.#token;
  }

  /** The child has exited (`exited` may still wait for its last output). */
  get alive(): boolean {
    return this.#exit === null;
  }

  /** @internal spawnProcess's: the process has exited. */
  onExit(exit: ChildExit): void {
    this.#exit = exit;
    this.objects.ownerGone(
      exit.signal !== null ? `the child process ${this.pid} was killed by ${exit.signal}` : `the child process ${this.pid} exited with code ${exit.code}`,
    );
  }

  /**
   * Stops the child: calls in flight are answered, the server closes, the
   * child's own children are stopped, then it exits. Past `timeout` ms
   * (default 10000) it gets SIGTERM, and SIGKILL after as long again.
   */
  stop(options: { timeout?: number } = {}): Promise<ChildExit> {
    const timeout = options.timeout === undefined ? 10_000 : timeoutMs('timeout', options.timeout);
    if (this.#stopping !== null) return this.#stopping;
    if (this.#exit !== null) return (this.#stopping = this.exited);
    let timer: ClockTimer | null = this.#clock.setTimeout(() => {
      this.#proc.kill('SIGTERM');
      timer = this.#clock.setTimeout(() => this.#proc.kill('SIGKILL'), timeout);
    }, timeout);
    try {
      this.#proc.send({ type: 'stop' } satisfies ToChild);
    } catch {
      // The channel is closed: the child is going already.
    }
    this.#stopping = this.exited.finally(() => {
      if (timer !== null) this.#clock.clearTimeout(timer);
      timer = null;
    });
    return this.#stopping;
  }

  /** Sends `signal` to the child (default SIGKILL); `exited` says when it has gone. */
  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.#exit === null) this.#proc.kill(signal);
  }
}

/**
 * Forks a child serving an ObjectServer on 127.0.0.1 (port 0) behind a
 * random bearer token, and resolves once it is listening. Rejects with a
 * SpawnError (the child's error, with its stack, as `cause`) when it cannot
 * start; the child is gone by then.
 */
export function spawnProcess(options: SpawnOptions = {}): Promise<SpawnedProcess> {
  try {
    return launch(options);
  } catch (err) {
    // A bad option rejects too, before anything is forked.
    return Promise.reject(err);
  }
}

function launch(options: SpawnOptions): Promise<SpawnedProcess> {
  const name = options.name ?? 'child';
  if (typeof name !== 'string' || name === '' || /[\r\n]/.test(name)) throw new TypeError('name must be a one-line string');
  const cwd = options.cwd ?? process.cwd();
  const start: StartMessage = {
    type: 'start',
    name,
    token: randomBytes(32).toString('base64url'),
    port: options.port ?? 0,
    modules: moduleList(options.modules, cwd),
    classes: classList(options.classes, cwd),
    allowAnyModule: options.allowAnyModule === true,
    objectOptions: { ...(options.objectOptions ?? {}) } as Record<string, number | boolean>,
  };
  if (!Number.isInteger(start.port) || start.port < 0 || start.port > 65535) throw new RangeError('port must be an integer from 0 to 65535');
  const startTimeout = options.startTimeout === undefined ? 30_000 : timeoutMs('startTimeout', options.startTimeout);
  const logBuffer = options.logBuffer ?? 10_000;
  if (!Number.isInteger(logBuffer) || logBuffer < 0) throw new RangeError('logBuffer must be a non-negative integer');
  const sink = safeSink(toSink(options.logger));
  const clock = options.clock ?? systemClock;

  const proc = fork(CHILD_MAIN, [String(process.pid), String(RECORD_FD)], {
    cwd,
    env: options.env === undefined ? process.env : { ...process.env, ...options.env },
    execArgv: options.execArgv === undefined ? childExecArgv(process.execArgv, undefined) : [...options.execArgv],
    stdio: ['ignore', 'pipe', 'pipe', 'ipc', 'pipe'],
    serialization: 'json',
  });
  const pid = proc.pid ?? 0;
  const logs = new LogQueue(logBuffer);
  let tail = '';
  const deliver = (record: LogRecord) => {
    if (record.level === 'error' || record.stream !== 'stdout') tail = (tail + record.msg + '\n').slice(-TAIL);
    sink(record);
    logs.push(record);
  };
  const line = (stream: 'stdout' | 'stderr') => (msg: string) =>
    deliver({ time: Date.now(), level: stream === 'stdout' ? 'info' : 'error', source: name, pid, msg, stream });
  const drained = Promise.all([
    readLines(proc.stdout!, line('stdout')),
    readLines(proc.stderr!, line('stderr')),
    readLines(proc.stdio[RECORD_FD] as Readable, (text) => deliver(parseRecord(text, name, pid))),
  ]);

  let child: SpawnedProcess | null = null;
  let exit: ChildExit | null = null;
  /** Start-up's view of the end: called once the child has exited and its IPC channel and pipes are drained. */
  let onClosed: (exit: ChildExit) => void = () => {};
  const exited = new Promise<ChildExit>((resolveExit) => {
    let done = false;
    // At once: calls in flight fail now (OWNER_GONE), not when the output is drained.
    proc.once('exit', (code, signal) => {
      exit = { code, signal };
      child?.onExit(exit);
    });
    // 'close': exited, and its pipes and IPC channel have ended (a last 'failed' message has been read).
    proc.once('close', (code, signal) => finish({ code, signal }));
    // A process that could not be started at all has no 'close' to come.
    proc.on('error', (err) => {
      if (proc.pid === undefined) {
        exit = { code: null, signal: null };
        startError = err;
        finish(exit);
      }
    });
    function finish(result: ChildExit): void {
      if (done) return;
      done = true;
      void drained.then(() => {
        logs.end();
        if (child !== null) live.delete(child);
        onClosed(result);
        resolveExit(result);
      });
    }
  });
  let startError: Error | null = null;

  return new Promise<SpawnedProcess>((resolveStart, rejectStart) => {
    let settled = false;
    // Rejected once the child is gone (its pid reaped), never before.
    const fail = (err: SpawnError) => {
      if (settled) return;
      settled = true;
      clock.clearTimeout(timer);
      if (exit === null) proc.kill('SIGKILL');
      void exited.then(() => rejectStart(err));
    };
    const timer = clock.setTimeout(
      () =>
        fail(new SpawnError(SpawnErrorCode.START_TIMEOUT, `${name}: the child did not report its address within ${startTimeout} ms; it was killed`, { pid })),
      startTimeout,
    );
    let reported: WireError | null = null;
    onClosed = (how) => {
      if (settled) return;
      const ended = how.signal !== null ? `was killed by ${how.signal}` : `exited with code ${how.code}`;
      if (startError !== null) {
        fail(new SpawnError(SpawnErrorCode.START_FAILED, `${name}: the child could not be started: ${startError.message}`, { cause: startError }));
      } else if (reported !== null) {
        const cause = fromWireError(reported);
        fail(new SpawnError(SpawnErrorCode.START_FAILED, `${name}: the child failed to start: ${cause.name}: ${cause.message}`, { cause, pid, exit: how }));
      } else {
        const last = tail.trimEnd();
        fail(
          new SpawnError(SpawnErrorCode.START_FAILED, `${name}: the child ${ended} before it was ready${last === '' ? '' : `; its last output:\n${last}`}`, {
            pid,
            exit: how,
          }),
        );
      }
    };
    proc.on('message', (message: FromChild) => {
      if (settled) return;
      if (message.type === 'failed') {
        // It exits after saying so; the rejection waits for that (onClosed).
        reported = message.error;
      } else if (message.type === 'ready' && exit === null) {
        settled = true;
        clock.clearTimeout(timer);
        child = new SpawnedProcess({ name, proc, url: message.url, token: start.token, exited, logs, clock });
        live.add(child);
        // Once it has gone: no socket of its client stays open here.
        void exited.then(() => child!.objects.close());
        resolveStart(child);
      }
    });
    try {
      proc.send(start satisfies ToChild);
    } catch {
      // A child that could not start has no channel: its 'error' or 'exit' says why.
    }
  });
}

/** Every alias of each allowed module -> its file URL. */
function moduleList(modules: SpawnOptions['modules'], cwd: string): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  if (modules === undefined) return out;
  if (Array.isArray(modules)) {
    for (const entry of modules as readonly (string | URL)[]) {
      const url = fileUrl(entry, cwd, 'modules');
      out[String(entry)] = url;
      out[url] = url;
      out[fileURLToPath(url)] = url;
    }
    return out;
  }
  if (typeof modules !== 'object' || modules === null) throw new TypeError('modules must be a list of paths or URLs, or name -> path/URL');
  for (const [key, entry] of Object.entries(modules)) out[key] = fileUrl(entry, cwd, `modules.${key}`);
  return out;
}

function classList(classes: SpawnOptions['classes'], cwd: string): Record<string, [string, string]> {
  const out: Record<string, [string, string]> = Object.create(null) as Record<string, [string, string]>;
  if (classes === undefined) return out;
  if (typeof classes !== 'object' || classes === null) throw new TypeError("classes must be name -> '<path or file URL>#<export>'");
  for (const [key, entry] of Object.entries(classes)) {
    const text = String(entry);
    const hash = text.lastIndexOf('#');
    const where = hash === -1 ? text : text.slice(0, hash);
    const exportName = hash === -1 ? key : text.slice(hash + 1);
    if (exportName === '') throw new TypeError(`classes.${key}: an empty export name after #`);
    out[key] = [fileUrl(where, cwd, `classes.${key}`), exportName];
  }
  return out;
}

/** A local module's file URL: an absolute or relative path (against cwd), or a file: URL; nothing else. */
function fileUrl(entry: string | URL, cwd: string, what: string): string {
  const text = String(entry);
  if (text.startsWith('file:')) return new URL(text).href;
  if (/^[a-z][a-z0-9+.-]*:/i.test(text) && !/^[a-z]:[\\/]/i.test(text)) throw new TypeError(`${what}: ${text} is not a local file (a path or a file: URL)`);
  return pathToFileURL(isAbsolute(text) ? text : resolve(cwd, text)).href;
}
