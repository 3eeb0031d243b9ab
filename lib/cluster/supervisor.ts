// The primary's bookkeeping for serveWorkers (workers.ts): N slots, each
// holding one worker process. It knows processes only through the `spawn`
// function it is given (node:cluster's fork in workers.ts, a fake in the
// tests) and time only through the clock, so a crash loop, a rolling reload
// and a graceful stop can be driven step by step.
//
// - A worker that exits unasked is replaced after a back-off: `initial` ms,
//   doubled for each further early death of that slot, at most `max`; a
//   worker that lived `resetAfter` ms or more starts its slot's count again.
//   Requests in flight on it are lost with its connections: nothing is
//   resent (a POST is not idempotent).
// - reload() replaces the workers one at a time: the new one is listening
//   before the old one is told to stop (it stops accepting, answers what it
//   holds, then exits), so the port always has a worker taking connections.
// - close() tells every worker to stop gracefully and resolves when all have
//   exited; a worker still running `killAfter` ms after it was told is killed.
// - A worker not listening `readyTimeout` ms after it was started is killed:
//   neither start() nor reload() waits forever on a setup that hangs.

import { systemClock, type Clock, type ClockTimer } from '../clock.js';
import { ClusterError, ClusterErrorCode } from '../errors.js';
import type { ServerStats } from '../server/server.js';

/** What the primary sends a worker. */
export type ToWorker = { type: 'stop'; timeout: number } | { type: 'stats'; seq: number } | { type: 'unlisted' };
/** What a worker sends the primary. */
export type FromWorker =
  | { type: 'ready'; port: number; address: string; urls: string[] }
  | { type: 'stats'; seq: number; stats: ServerStats; rss: number; maxRss: number }
  /** Its listener is closed; it waits for 'unlisted' before it may exit (see onMessage). */
  | { type: 'unlisting' };

/** One worker process as the supervisor sees it. */
export interface WorkerChild {
  /** The cluster worker id: unique for the primary's life, never reused. */
  readonly id: number;
  readonly pid: number | undefined;
  send(message: ToWorker): void;
  /** Stops it at once (SIGKILL). */
  kill(): void;
}

export interface ChildEvents {
  message(message: FromWorker): void;
  exit(code: number | null, signal: string | null): void;
}

/** Starts a worker for `slot` (0 to workers-1); the events are how it reports. */
export type Spawn = (slot: number, events: ChildEvents) => WorkerChild;

export interface BackoffOptions {
  /** The first replacement's delay, ms. Default 100. */
  initial: number;
  /** The longest delay, ms. Default 10,000. */
  max: number;
  /** A worker that ran this long (ms) resets its slot's count. Default 30,000. */
  resetAfter: number;
}

export const DEFAULT_BACKOFF: Readonly<BackoffOptions> = Object.freeze({ initial: 100, max: 10_000, resetAfter: 30_000 });

export interface SupervisorOptions {
  workers: number;
  spawn: Spawn;
  clock?: Clock;
  backoff?: Partial<BackoffOptions>;
  /** How long a stopping worker may answer its calls in flight (ms), passed on to its Server#close. Default 10,000. */
  shutdownTimeout?: number;
  /** Past shutdownTimeout, how much longer a stopping worker is waited for before it is killed (ms). Default 5,000. */
  killAfter?: number;
  /** A worker not listening this long (ms) after it was started is killed, and counts as failed. Default 60,000. */
  readyTimeout?: number;
  /** Told of each replacement and failure (default: nothing). */
  onEvent?: (event: SupervisorEvent) => void;
}

export type SupervisorEvent =
  | { type: 'exit'; slot: number; id: number; pid: number | undefined; code: number | null; signal: string | null; restartIn: number }
  | { type: 'ready'; slot: number; id: number; pid: number | undefined; port: number }
  | { type: 'reloaded'; slot: number; id: number; replaced: number };

/** A worker's row in Supervisor#stats. */
export interface WorkerStats {
  slot: number;
  id: number;
  pid: number | undefined;
  /** Times this slot's worker was replaced after dying unasked. */
  restarts: number;
  /** The worker's Server#stats and memory, or null when it did not answer in time. */
  server: ServerStats | null;
  rss: number | null;
  maxRss: number | null;
}

interface Live {
  child: WorkerChild;
  startedAt: number;
  ready: boolean;
  /** Told to stop: its exit is expected. */
  stopping: boolean;
  onReady: Array<(err: Error | null) => void>;
  onExit: Array<() => void>;
  killTimer: ClockTimer | null;
  readyTimer: ClockTimer | null;
  /** Killed for outstaying readyTimeout. */
  timedOut: boolean;
}

interface Slot {
  index: number;
  current: Live | null;
  /** Early deaths in a row (the back-off exponent). */
  failures: number;
  restarts: number;
  restartTimer: ClockTimer | null;
}

export class Supervisor {
  private readonly clock: Clock;
  private readonly spawnChild: Spawn;
  private readonly backoff: BackoffOptions;
  private readonly shutdownTimeout: number;
  private readonly killAfter: number;
  private readonly readyTimeout: number;
  private readonly onEvent: (event: SupervisorEvent) => void;
  private readonly slots: Slot[];
  /** Every process not yet exited, the outgoing ones of a reload included. */
  private readonly alive = new Set<Live>();
  private reloading: Promise<void> | null = null;
  private reloadAgain = false;
  private closing: Promise<void> | null = null;
  private statsSeq = 0;
  /** Questions out, by seq: the worker asked, and what its answer resolves. */
  private readonly statsWaiters = new Map<number, { live: Live; done: (reply: Extract<FromWorker, { type: 'stats' }>) => void }>();

  constructor(options: SupervisorOptions) {
    if (!Number.isInteger(options.workers) || options.workers < 1) throw new RangeError(`workers must be a positive integer, not ${String(options.workers)}`);
    this.clock = options.clock ?? systemClock;
    this.spawnChild = options.spawn;
    this.backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
    this.shutdownTimeout = options.shutdownTimeout ?? 10_000;
    this.killAfter = options.killAfter ?? 5_000;
    this.readyTimeout = options.readyTimeout ?? 60_000;
    this.onEvent = options.onEvent ?? (() => {});
    this.slots = Array.from({ length: options.workers }, (_, index) => ({ index, current: null, failures: 0, restarts: 0, restartTimer: null }));
  }

  /**
   * Starts every slot's worker; resolves when all are listening. When one
   * exits first (or outstays readyTimeout), the others are stopped and no
   * slot is replaced (the supervisor is closed), then it rejects with WORKER_FAILED.
   */
  start(): Promise<void> {
    return Promise.all(this.slots.map((slot) => this.whenReady(this.launch(slot)))).then(
      () => undefined,
      // A fleet that cannot start must not linger half up, replacing the failed slot forever.
      async (err: unknown) => {
        await this.close();
        throw err;
      },
    );
  }

  /** The workers now serving, by slot. */
  workers(): { slot: number; id: number; pid: number | undefined; ready: boolean }[] {
    const rows: { slot: number; id: number; pid: number | undefined; ready: boolean }[] = [];
    for (const slot of this.slots)
      if (slot.current !== null) rows.push({ slot: slot.index, id: slot.current.child.id, pid: slot.current.child.pid, ready: slot.current.ready });
    return rows;
  }

  /** Restarts so far, over every slot. */
  get restarts(): number {
    return this.slots.reduce((n, slot) => n + slot.restarts, 0);
  }

  /**
   * Rolling reload: each slot's worker replaced in turn, the new one
   * listening before the old one is told to stop. A reload asked for during
   * one runs once more after it. Rejects (WORKER_FAILED) when a new worker
   * dies before listening; the old one of that slot then keeps serving.
   */
  reload(): Promise<void> {
    if (this.closing !== null) return Promise.reject(new ClusterError(ClusterErrorCode.CLOSED, 'reload after close'));
    if (this.reloading !== null) {
      this.reloadAgain = true;
      return this.reloading;
    }
    const run = async (): Promise<void> => {
      do {
        this.reloadAgain = false;
        for (const slot of this.slots) {
          if (this.closing !== null) return;
          const old = slot.current;
          const next = this.launch(slot, old);
          await this.whenReady(next);
          if (old !== null) {
            this.onEvent({ type: 'reloaded', slot: slot.index, id: next.child.id, replaced: old.child.id });
            await this.stopOne(old);
          }
        }
      } while (this.reloadAgain);
    };
    this.reloading = run().finally(() => (this.reloading = null));
    return this.reloading;
  }

  /** Stops every worker gracefully (calls in flight answered); resolves when all have exited. */
  close(): Promise<void> {
    if (this.closing === null) {
      for (const slot of this.slots) {
        if (slot.restartTimer !== null) this.clock.clearTimeout(slot.restartTimer);
        slot.restartTimer = null;
      }
      this.closing = Promise.all([...this.alive].map((live) => this.stopOne(live))).then(() => undefined);
    }
    return this.closing;
  }

  /** Every serving worker's Server#stats and memory, asked over IPC; a worker silent for `timeout` ms gets nulls. */
  async stats(timeout = 2000): Promise<{ workers: WorkerStats[]; total: ServerStats | null }> {
    const rows = await Promise.all(
      this.slots.map(async (slot): Promise<WorkerStats | null> => {
        const live = slot.current;
        if (live === null) return null;
        const reply = await this.ask(live, timeout);
        return {
          slot: slot.index,
          id: live.child.id,
          pid: live.child.pid,
          restarts: slot.restarts,
          server: reply?.stats ?? null,
          rss: reply?.rss ?? null,
          maxRss: reply?.maxRss ?? null,
        };
      }),
    );
    const workers = rows.filter((row): row is WorkerStats => row !== null);
    let total: ServerStats | null = null;
    for (const row of workers)
      if (row.server !== null)
        total = total === null ? { ...row.server, connectionsByState: { ...row.server.connectionsByState } } : addStats(total, row.server);
    return { workers, total };
  }

  private ask(live: Live, timeout: number): Promise<Extract<FromWorker, { type: 'stats' }> | null> {
    const seq = ++this.statsSeq;
    if (!this.alive.has(live)) return Promise.resolve(null);
    return new Promise((resolve) => {
      const onExit = () => done(null);
      const done = (reply: Extract<FromWorker, { type: 'stats' }> | null) => {
        if (!this.statsWaiters.delete(seq)) return;
        this.clock.clearTimeout(timer);
        // Asked every few seconds for months: nothing may stay behind per question.
        const at = live.onExit.indexOf(onExit);
        if (at >= 0) live.onExit.splice(at, 1);
        resolve(reply);
      };
      const timer = this.clock.setTimeout(() => done(null), timeout);
      timer.unref();
      this.statsWaiters.set(seq, { live, done });
      live.onExit.push(onExit);
      // A closed channel: it is exiting, and its exit answers for it.
      this.tell(live, { type: 'stats', seq });
    });
  }

  /** Spawns the worker of `slot`; it becomes the slot's current one when it is listening (at once when the slot is empty). */
  private launch(slot: Slot, replacing: Live | null = null): Live {
    const live: Live = {
      child: null as unknown as WorkerChild,
      startedAt: this.clock.now(),
      ready: false,
      stopping: false,
      onReady: [],
      onExit: [],
      killTimer: null,
      readyTimer: null,
      timedOut: false,
    };
    // Alive before it is spawned: an exit reported at once (inside spawn) takes it off again.
    this.alive.add(live);
    try {
      live.child = this.spawnChild(slot.index, {
        message: (message) => this.onMessage(slot, live, message),
        exit: (code, signal) => this.onExit(slot, live, code, signal),
      });
    } catch (err) {
      this.alive.delete(live);
      throw err;
    }
    if (replacing === null) slot.current = live;
    if (this.alive.has(live)) {
      live.readyTimer = this.clock.setTimeout(() => {
        live.readyTimer = null;
        live.timedOut = true;
        live.child.kill();
      }, this.readyTimeout);
      live.readyTimer.unref();
    }
    return live;
  }

  private whenReady(live: Live): Promise<void> {
    if (live.ready) return Promise.resolve();
    return new Promise((resolve, reject) => live.onReady.push((err) => (err === null ? resolve() : reject(err))));
  }

  private onMessage(slot: Slot, live: Live, message: FromWorker): void {
    // Whatever a worker's code sends, a bad message must not throw in the primary, which serves them all.
    if (!wellFormed(message) || !this.alive.has(live)) return;
    if (message.type === 'ready') {
      if (live.ready) return;
      if (live.readyTimer !== null) this.clock.clearTimeout(live.readyTimer);
      live.readyTimer = null;
      if (live.stopping) {
        // Told to stop while starting: a worker reads its messages only once it listens, so
        // that word may be lost. It never serves for the supervisor: its exit fails its waiters.
        this.tell(live, { type: 'stop', timeout: this.shutdownTimeout });
        return;
      }
      live.ready = true;
      slot.current = live;
      this.onEvent({ type: 'ready', slot: slot.index, id: live.child.id, pid: live.child.pid, port: message.port });
      for (const fn of live.onReady.splice(0)) fn(null);
    } else if (message.type === 'unlisting') {
      // node:cluster hands each connection to a worker and forgets it until the worker
      // answers; a worker that exits with one on its way leaves that client hanging.
      // The channel is ordered: by the time this message is read, the cluster's own
      // 'close' before it has taken the worker off the round-robin, and every
      // connection handed to it so far is on the wire ahead of this answer.
      this.tell(live, { type: 'unlisted' }); // false: gone already
    } else if (message.type === 'stats') {
      const waiter = this.statsWaiters.get(message.seq);
      // Only the worker asked answers: another's reply to that seq would put its figures in the wrong row.
      if (waiter?.live === live) waiter.done(message);
    }
  }

  private onExit(slot: Slot, live: Live, code: number | null, signal: string | null): void {
    if (!this.alive.delete(live)) return; // reported twice
    if (live.killTimer !== null) this.clock.clearTimeout(live.killTimer);
    if (live.readyTimer !== null) this.clock.clearTimeout(live.readyTimer);
    live.readyTimer = null;
    if (!live.ready) {
      const err = new ClusterError(
        live.stopping && this.closing !== null ? ClusterErrorCode.CLOSED : ClusterErrorCode.WORKER_FAILED,
        live.stopping
          ? `worker ${live.child.id} (slot ${slot.index}) was stopped before it served`
          : live.timedOut
            ? `worker ${live.child.id} (slot ${slot.index}) did not listen within ${this.readyTimeout} ms and was killed`
            : `worker ${live.child.id} (slot ${slot.index}) exited before listening (code ${String(code)}, signal ${String(signal)})`,
      );
      for (const fn of live.onReady.splice(0)) fn(err);
    }
    for (const fn of live.onExit.splice(0)) fn();
    const unasked = !live.stopping && this.closing === null && slot.current === live;
    // An exited worker is nobody's current one, asked to stop or not (stats and workers() list the living).
    if (slot.current === live) slot.current = null;
    let restartIn = -1;
    if (unasked) {
      // A long life is not part of a crash loop: the count starts again.
      if (this.clock.now() - live.startedAt >= this.backoff.resetAfter) slot.failures = 0;
      restartIn = Math.min(this.backoff.max, this.backoff.initial * 2 ** slot.failures);
      slot.failures++;
      slot.restartTimer = this.clock.setTimeout(() => {
        slot.restartTimer = null;
        if (this.closing !== null || slot.current !== null) return;
        slot.restarts++;
        // A replacement that fails before listening is itself an unasked exit: the back-off grows.
        this.whenReady(this.launch(slot)).catch(() => {});
      }, restartIn);
    }
    this.onEvent({ type: 'exit', slot: slot.index, id: live.child.id, pid: live.child.pid, code, signal, restartIn });
  }

  /** Sends to a worker; false when its channel is closed (it is exiting). */
  private tell(live: Live, message: ToWorker): boolean {
    try {
      live.child.send(message);
      return true;
    } catch {
      return false;
    }
  }

  /** Tells one worker to stop; resolves at its exit (it is killed past shutdownTimeout + killAfter). */
  private stopOne(live: Live): Promise<void> {
    if (!this.alive.has(live)) return Promise.resolve();
    const exited = new Promise<void>((resolve) => live.onExit.push(resolve));
    if (!live.stopping) {
      live.stopping = true;
      if (!this.tell(live, { type: 'stop', timeout: this.shutdownTimeout })) live.child.kill();
      live.killTimer = this.clock.setTimeout(() => live.child.kill(), this.shutdownTimeout + this.killAfter);
      live.killTimer.unref();
    }
    return exited;
  }
}

/** A message of the shape FromWorker says (a worker runs the user's code: anything may come). */
function wellFormed(message: unknown): message is FromWorker {
  if (typeof message !== 'object' || message === null) return false;
  const m = message as Record<string, unknown>;
  switch (m.type) {
    case 'ready':
      return typeof m.port === 'number';
    case 'unlisting':
      return true;
    case 'stats':
      return (
        typeof m.seq === 'number' &&
        typeof m.stats === 'object' &&
        m.stats !== null &&
        typeof (m.stats as { connectionsByState?: unknown }).connectionsByState === 'object' &&
        (m.stats as { connectionsByState?: unknown }).connectionsByState !== null
      );
    default:
      return false;
  }
}

/** `into` plus `more`, field by field (counts, and connections by state). */
function addStats(into: ServerStats, more: ServerStats): ServerStats {
  for (const key of Object.keys(into) as (keyof ServerStats)[]) {
    const value = more[key];
    if (typeof value === 'number') (into[key] as number) += value;
  }
  for (const state of Object.keys(into.connectionsByState) as (keyof ServerStats['connectionsByState'])[]) {
    into.connectionsByState[state] += more.connectionsByState[state] ?? 0;
  }
  return into;
}
