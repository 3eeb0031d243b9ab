// The engine of isolation: 'process': each worker is a child process
// (child_process.fork of child.js) running one task at a time, for code that
// can crash its process (a native module) or must not share memory with the
// server. WorkerPool's policy sits above it unchanged; here a task is queued
// (FIFO), sent to an idle child over IPC (structured clone, serialization
// 'advanced'), and answered, or failed by how its child died.
//
// What differs from threads: `transfer` cannot move memory to another
// process, so buffers are copied and stay usable on the caller's side; a
// child costs a process start (tens of ms) and its own heap; resourceLimits
// become V8 flags of the child (maxOldGenerationSizeMb: --max-old-space-size,
// maxYoungGenerationSizeMb: --max-semi-space-size, a third of it; the others
// do not apply). A child's stdout is the pool's stdout; its stderr is copied
// to the pool's stderr, and its tail kept to tell an out-of-memory abort
// ("JavaScript heap out of memory", then SIGABRT) from another crash.
// Children are killed with SIGKILL on destroy and when their task is
// stopped, and kill themselves when the pool's process dies (child.ts).

import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { childExecArgv } from '../fork/exec-argv.js';
import { OffloadErrorCode, WorkerPoolError, type OffloadErrorCodeValue } from '../errors.js';
import type { EngineOptions, OffloadEngine } from './engine.js';
import { asDataCloneError, BUILTIN_ERROR_CLASSES, fromWire, type FromChild, type TaskMessage, type TaskReply, type ToChild, type WireFailure } from './wire.js';

const CHILD = fileURLToPath(new URL('./child.js', import.meta.url));
/** Bytes of a child's stderr kept (the V8 fatal-error banner is well under it). */
const STDERR_TAIL = 8192;
// V8's banners: past the heap cap at run time, and too small a heap to start at all.
const OUT_OF_MEMORY = /JavaScript heap out of memory|Fatal JavaScript OOM/i;
const BUILTINS = new Map(BUILTIN_ERROR_CLASSES.map((Class) => [Class.name, Class]));

interface Job {
  readonly task: TaskMessage;
  readonly signal: AbortSignal | undefined;
  readonly resolve: (reply: TaskReply) => void;
  readonly reject: (err: unknown) => void;
  readonly onAbort: () => void;
  /** The child running it; null while queued. */
  child: Child | null;
}

interface Child {
  readonly proc: ChildProcess;
  /** It said 'ready': it takes tasks. */
  ready: boolean;
  job: Job | null;
  /** Killed by the engine (a stopped task, an idle child retired, destroy): no longer counted among the workers. */
  killed: boolean;
  /** Its process has exited (its pipes may still be open). */
  exited: boolean;
  /** Settles once the process has exited and its pipes have closed. */
  readonly closed: Promise<void>;
  stderrTail: string;
  /** What it said killed it (an uncaught exception). */
  crash: WireFailure | null;
  idleTimer: NodeJS.Timeout | null;
}

export class ProcessEngine implements OffloadEngine {
  private readonly options: EngineOptions;
  private readonly execArgv: string[];
  private readonly children = new Set<Child>();
  private readonly queue: Job[] = [];
  /** Why no child can start, once one died before it was ready. */
  private broken: WorkerPoolError | null = null;
  private destroying = false;

  /** `execArgv`: the children's node flags (default: this process's, see childExecArgv). */
  constructor(options: EngineOptions, execArgv?: readonly string[]) {
    this.options = options;
    this.execArgv = childExecArgv(execArgv ?? process.execArgv, options.resourceLimits);
    for (let i = 0; i < options.minSize; i++) this.spawn();
  }

  submit(task: TaskMessage, options: { signal: AbortSignal | undefined }): Promise<TaskReply> {
    if (this.broken !== null) return Promise.reject(this.broken);
    if (this.destroying) return Promise.reject(new WorkerPoolError(OffloadErrorCode.ABORTED, 'the pool was closed'));
    if (options.signal?.aborted === true) return Promise.reject(options.signal.reason);
    return new Promise<TaskReply>((resolve, reject) => {
      const job: Job = { task, signal: options.signal, resolve, reject, onAbort: () => this.abort(job), child: null };
      options.signal?.addEventListener('abort', job.onAbort, { once: true });
      this.queue.push(job);
      this.pump();
    });
  }

  // A task sent to a child counts as running: the child takes it at once (one at a time).
  isRunning(id: number): boolean {
    for (const child of this.children) if (child.job?.task.id === id && !child.killed) return true;
    return false;
  }

  busy(): number {
    let n = 0;
    for (const child of this.children) if (child.job !== null && !child.killed) n++;
    return n;
  }

  requestStop(id: number, reason: WorkerPoolError): void {
    for (const child of this.children) {
      if (child.job?.task.id === id && !child.killed)
        this.send(child, { type: 'stop', id, code: reason.code as OffloadErrorCodeValue, message: reason.message });
    }
  }

  threads(): number {
    let n = 0;
    for (const child of this.children) if (!child.killed) n++;
    return n;
  }

  alive(): number {
    let n = 0;
    for (const child of this.children) if (!child.exited) n++;
    return n;
  }

  async destroy(): Promise<void> {
    this.destroying = true;
    const closing = new WorkerPoolError(OffloadErrorCode.ABORTED, 'the pool was closed');
    for (const job of this.queue.splice(0)) this.settle(job, closing);
    for (const child of this.children) this.kill(child);
    await Promise.all([...this.children].map((child) => child.closed));
    // A child's process handle leaves the loop in the close phase after its
    // 'close' event: two turns cross one, so nothing of theirs is left when this resolves.
    await new Promise<void>((resolve) => setImmediate(() => setImmediate(resolve)));
  }

  private abort(job: Job): void {
    if (job.child === null) {
      const i = this.queue.indexOf(job);
      if (i !== -1) this.queue.splice(i, 1);
      this.settle(job, job.signal!.reason);
    } else {
      // A synchronous loop cannot be stopped otherwise; the job fails when the child has gone.
      this.kill(job.child);
    }
  }

  /** `{ reply }` resolves the job; anything else is what it rejects with. */
  private settle(job: Job, outcome: unknown): void {
    job.signal?.removeEventListener('abort', job.onAbort);
    if (typeof outcome === 'object' && outcome !== null && 'reply' in outcome) job.resolve((outcome as { reply: TaskReply }).reply);
    else job.reject(outcome);
  }

  /** Gives queued tasks to idle children, and starts children for the rest (up to `size`). */
  private pump(): void {
    if (this.destroying || this.broken !== null) return;
    let starting = 0;
    for (const child of this.children) {
      if (child.killed) continue;
      if (!child.ready) starting++;
      // A child that said it crashed is about to exit: it takes nothing more.
      else if (child.job === null && child.crash === null && this.queue.length > 0) this.dispatch(child, this.queue.shift()!);
    }
    for (let live = this.threads(), waiting = this.queue.length - starting; waiting > 0 && live < this.options.size; waiting--, live++) this.spawn();
  }

  private dispatch(child: Child, job: Job): void {
    if (child.idleTimer !== null) clearTimeout(child.idleTimer);
    child.idleTimer = null;
    try {
      child.proc.send({ type: 'task', task: job.task } satisfies ToChild);
    } catch (err) {
      // Arguments that cannot be cloned: the task fails, the child stays idle.
      this.settle(job, asDataCloneError(err));
      this.idle(child);
      return;
    }
    job.child = child;
    child.job = job;
  }

  private send(child: Child, message: ToChild): void {
    try {
      child.proc.send(message);
    } catch {
      // Nothing in a stop message fails to clone; a closed channel means the child is going anyway.
    }
  }

  private spawn(): void {
    const proc = fork(CHILD, [String(process.pid)], {
      serialization: 'advanced',
      execArgv: this.execArgv,
      stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
    });
    let closed!: () => void;
    const child: Child = {
      proc,
      ready: false,
      job: null,
      killed: false,
      exited: false,
      closed: new Promise<void>((resolve) => (closed = resolve)),
      stderrTail: '',
      crash: null,
      idleTimer: null,
    };
    this.children.add(child);
    proc.stderr!.setEncoding('utf8');
    proc.stderr!.on('data', (chunk: string) => {
      process.stderr.write(chunk);
      child.stderrTail = (child.stderrTail + chunk).slice(-STDERR_TAIL);
    });
    proc.on('message', (message: FromChild) => this.onMessage(child, message));
    proc.once('exit', () => (child.exited = true));
    let gone = false;
    const onGone = (code: number | null, signal: NodeJS.Signals | null, err?: Error) => {
      if (gone) return;
      gone = true;
      child.exited = true;
      this.onClose(child, code, signal, err);
      closed();
    };
    // 'close': the process has exited and its stderr and IPC channel are drained (the OOM banner, a crash message).
    proc.once('close', (code, signal) => onGone(code, signal));
    // A process that could not be started at all has no 'close' to come.
    proc.on('error', (err) => {
      if (proc.pid === undefined) onGone(null, null, err);
    });
  }

  private onMessage(child: Child, message: FromChild): void {
    switch (message.type) {
      case 'ready':
        child.ready = true;
        this.idle(child);
        this.pump();
        break;
      case 'reply': {
        const job = child.job;
        if (job === null || job.task.id !== message.id) return;
        job.child = null;
        child.job = null;
        this.settle(job, { reply: message.reply });
        if (child.killed) return;
        this.idle(child);
        this.pump();
        break;
      }
      case 'crash':
        child.crash = message.error;
        break;
    }
  }

  /** A child with no task: above minSize, it leaves after idleTimeout. */
  private idle(child: Child): void {
    if (child.job !== null || child.killed || this.options.idleTimeout === Infinity || child.idleTimer !== null) return;
    child.idleTimer = setTimeout(() => {
      child.idleTimer = null;
      if (child.job === null && this.threads() > this.options.minSize) this.kill(child);
    }, this.options.idleTimeout);
    child.idleTimer.unref();
  }

  private kill(child: Child): void {
    if (child.idleTimer !== null) clearTimeout(child.idleTimer);
    child.idleTimer = null;
    child.killed = true;
    if (!child.exited) child.proc.kill('SIGKILL');
  }

  private onClose(child: Child, code: number | null, signal: NodeJS.Signals | null, err: Error | undefined): void {
    this.children.delete(child);
    if (child.idleTimer !== null) clearTimeout(child.idleTimer);
    child.idleTimer = null;
    const job = child.job;
    if (job !== null) {
      job.child = null;
      child.job = null;
      this.settle(job, this.failure(child, code, signal));
    }
    if (this.destroying) return;
    if (!child.ready && !child.killed) {
      // Died before it could take a task (a heap cap too small to start, a bad
      // execArgv): another would too. Fail what waits, and refuse from now on.
      const oom = OUT_OF_MEMORY.test(child.stderrTail);
      const why = err?.message ?? (signal !== null ? `killed by ${signal}` : `exit code ${code}`);
      this.broken = new WorkerPoolError(
        oom ? OffloadErrorCode.WORKER_OUT_OF_MEMORY : OffloadErrorCode.WORKER_CRASHED,
        `no child process can start (${oom ? 'out of memory' : why})`,
        err === undefined ? undefined : { cause: err },
      );
      for (const waiting of this.queue.splice(0)) this.settle(waiting, this.broken);
      return;
    }
    for (let live = this.threads(); live < this.options.minSize; live++) this.spawn();
    this.pump();
  }

  /** Why a child's task failed, from how the child ended. */
  private failure(child: Child, code: number | null, signal: NodeJS.Signals | null): WorkerPoolError {
    if (this.destroying) return new WorkerPoolError(OffloadErrorCode.ABORTED, 'the pool was closed');
    // The caller's promise has already failed (abort, timeout); this is only for the engine.
    if (child.killed) return new WorkerPoolError(OffloadErrorCode.ABORTED, 'the task was stopped');
    // V8 then aborts the child (SIGABRT, or SIGTRAP on some paths; 134 through a shell).
    if ((signal !== null || code === 134) && OUT_OF_MEMORY.test(child.stderrTail)) {
      return new WorkerPoolError(OffloadErrorCode.WORKER_OUT_OF_MEMORY, 'the child process ran out of memory (resourceLimits: --max-old-space-size)');
    }
    if (child.crash !== null) {
      const cause = fromWire(child.crash, BUILTINS, '');
      return new WorkerPoolError(OffloadErrorCode.WORKER_CRASHED, `the child process crashed: ${cause.message}`, { cause });
    }
    if (signal !== null) return new WorkerPoolError(OffloadErrorCode.WORKER_CRASHED, `the child process was killed by ${signal} while running the task`);
    return new WorkerPoolError(OffloadErrorCode.WORKER_EXITED, `the child process exited with code ${code} while running the task`, {
      exitCode: code ?? undefined,
    });
  }
}

export { childExecArgv };
