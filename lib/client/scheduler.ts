// Runs calls on many targets at once, under limits. Used by
// ParallelServerProxy and runJobs (parallel.ts); knows nothing of targets,
// only of tasks:
//
//   - a remote task goes on a *lane*: a Pipeline (pipeline.ts), which holds
//     one socket at a time. A concurrent task takes a lane with nothing on
//     it; a pipelined task joins a lane to its endpoint that has fewer than
//     `pipelineDepth` calls, so calls to one host share as few connections
//     as possible. Lanes are counted per host and in total, so those counts
//     are the sockets open: `maxConnectionsPerHost` and `maxConnections`
//     bound them (an idle lane is closed to make room for another host).
//   - a local task is a function call, bounded only by the run's concurrency.
//
// A *run* is one batch (a ParallelServerProxy call, a runJobs): its
// `concurrency` bounds its calls in flight, its signal aborts it. Among the
// tasks that may start, the oldest starts first; a task whose lane is not
// available does not hold back tasks for other lanes. A remote call is timed
// from its start on a lane (its wait here for one is not counted): by its
// Pipeline's one queue timer while queued there (deadlines.ts), except while
// the Pipeline holds it back behind other calls (pipeline.ts), then by its
// connection's one timer (connection.ts); a local call by a timer of its
// own; all through the Clock. One listener on the caller's signal per run.
//
// Tasks wait in queues by placement key (run, lane key, strategy): tasks of
// one key are interchangeable for placement, so only each queue's oldest is
// looked at. Queues that may start are in a heap by their oldest task;
// a queue that cannot start is parked by what it waits for (its run's
// concurrency, a lane at its endpoint, a socket anywhere) and put back in
// the heap when that changes. Placing a task costs O(log queues), however
// many tasks wait.

import { setMaxListeners } from 'node:events';
import { TransportError, TransportErrorCode } from '../errors.js';
import { asError, type Outcome } from '../async/concurrency.js';
import { systemClock, type Clock, type ClockTimer } from '../clock.js';
import type { Pipeline } from './pipeline.js';
import { KeyQueue, QueueHeap, type Entry } from './queues.js';
import type { Transport } from './transport.js';

export interface RemoteTask {
  readonly kind: 'remote';
  readonly transport: Transport;
  /** `[user:pass@]host[:port]`, as Transport.request takes it. */
  readonly host: string;
  /** Sockets are counted per endpoint (scheme, host, port). */
  readonly endpointKey: string;
  /** The URL, for errors. */
  readonly url: string;
  readonly pipelined: boolean;
  /** Sends the call on `pipeline`, with `signal` (the run's) and the call's own options. */
  run(pipeline: Pipeline, signal: AbortSignal): Promise<unknown>;
}

export interface LocalTask {
  readonly kind: 'local';
  /** Names the target in errors ('local:Calculator'). */
  readonly url: string;
  /** ms; 0: none. */
  readonly timeout: number;
  call(): unknown;
}

export type Task = RemoteTask | LocalTask;

export interface SchedulerLimits {
  maxConnectionsPerHost: number;
  maxConnections: number;
  pipelineDepth: number;
  idleTimeout: number;
  waitForKeepAlive: boolean;
}

export interface RunOptions {
  concurrency: number;
  signal?: AbortSignal;
}

export interface SchedulerStats {
  /** Sockets open or being opened (a lane holds one at most), closing ones included. */
  connections: number;
  /** Lanes with no call on them. */
  idle: number;
  /** Calls waiting to start, and calls started and not settled. */
  queued: number;
  inFlight: number;
}

interface Lane {
  readonly pipeline: Pipeline;
  readonly laneKey: string;
  readonly endpointKey: string;
  /** Calls placed on it and not settled. */
  load: number;
  lastUsed: number;
  /** Taken out of the maps (closing); still counted until its socket is gone. */
  retired: boolean;
  /** Once retired: resolves when its socket is gone. */
  gone: Promise<void> | null;
}

type Queue = KeyQueue<Run, Task>;

/** Calls that share one of a run's abort signals, at most (see Run.callSignal). */
const CALLS_PER_SIGNAL = 32;

/**
 * Calls started in one turn of the event loop, at most; the rest start in the
 * next turns. A run of thousands would otherwise hold the loop for tens of
 * milliseconds while each call is prepared, and the connections its first
 * calls opened could neither finish connecting nor send meanwhile: sliced, the
 * first call to each host is on the wire while the others are prepared.
 */
const STARTS_PER_TURN = 64;

class Run {
  readonly controller = new AbortController();
  /** The signals handed to calls, aborted with the run's; the last one takes calls until it has had CALLS_PER_SIGNAL. */
  readonly #callSignals: AbortController[] = [];
  #lastUses = 0;
  readonly results: Outcome[];
  /** Placement key -> its queue, while it has tasks waiting. */
  readonly queues = new Map<string, Queue>();
  /** Its queues parked because the run is at its concurrency. */
  readonly parked = new Set<Queue>();
  inFlight = 0;
  remaining: number;
  finished: (results: Outcome[]) => void = () => {};
  readonly done: Promise<Outcome[]>;

  constructor(
    readonly concurrency: number,
    count: number,
  ) {
    this.results = new Array<Outcome>(count);
    this.remaining = count;
    this.done = new Promise((resolve) => {
      this.finished = resolve;
    });
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /**
   * The signal a call of this run listens to. Not the run's own: an
   * EventTarget walks its listeners on every add and remove, so 1,000 calls
   * on one signal cost a million steps. A signal per CALLS_PER_SIGNAL calls
   * bounds the walk; abort() aborts them all.
   */
  callSignal(): AbortSignal {
    let last = this.#callSignals.at(-1);
    if (last === undefined || this.#lastUses >= CALLS_PER_SIGNAL) {
      last = new AbortController();
      setMaxListeners(0, last.signal); // up to CALLS_PER_SIGNAL calls, on purpose
      if (this.signal.aborted) last.abort(this.signal.reason);
      this.#callSignals.push(last);
      this.#lastUses = 0;
    }
    this.#lastUses++;
    return last.signal;
  }

  abort(reason: unknown): void {
    if (this.signal.aborted) return;
    this.controller.abort(reason);
    for (const c of this.#callSignals) c.abort(reason);
  }
}

export class Scheduler {
  readonly limits: Readonly<SchedulerLimits>;
  readonly #lanes = new Map<string, Lane[]>();
  readonly #perHost = new Map<string, number>();
  /** Every lane whose socket may be open, retired ones included. */
  readonly #all = new Set<Lane>();
  readonly #runs = new Set<Run>();
  readonly #transportIds = new WeakMap<Transport, number>();
  #nextTransportId = 0;
  #seq = 0;
  /** Queues whose oldest task may start. */
  readonly #ready = new QueueHeap<Run, Task>();
  /** Queues waiting for a lane at their endpoint (for either limit), by endpoint. */
  readonly #waitingAt = new Map<string, Set<Queue>>();
  /** Of those, the ones waiting for a socket anywhere (the total limit). */
  readonly #waitingTotal = new Set<Queue>();
  #dispatching = false;
  #again = false;
  /** Idle lanes being closed to make room (in total, and per endpoint), not gone yet. */
  #evicting = 0;
  readonly #evictingFor = new Set<string>();

  readonly #clock: Clock;
  /** Calls started in this turn of the event loop (see STARTS_PER_TURN). */
  #startsThisTurn = 0;

  constructor(limits: SchedulerLimits, clock: Clock = systemClock) {
    this.#clock = clock;
    this.limits = Object.freeze({ ...limits });
  }

  /** Runs `tasks`; resolves to their outcomes in order, never rejects. */
  run(tasks: readonly Task[], options: RunOptions): Promise<Outcome[]> {
    if (tasks.length === 0) return Promise.resolve([]);
    const run = new Run(options.concurrency, tasks.length);
    for (let i = 0; i < tasks.length; i++) {
      const task = tasks[i]!;
      const key = task.kind === 'local' ? 'local' : `${this.#laneKey(task)}|${task.pipelined ? 'p' : 'c'}`;
      let queue = run.queues.get(key);
      if (queue === undefined) {
        queue = new KeyQueue<Run, Task>(run, key, task.kind === 'local' ? null : task.endpointKey);
        run.queues.set(key, queue);
      }
      queue.entries.push({ seq: this.#seq++, task, index: i });
    }
    this.#runs.add(run);
    for (const queue of run.queues.values()) this.#ready.push(queue);
    const userSignal = options.signal;
    if (userSignal !== undefined) {
      const onAbort = () => this.#abort(run, userSignal.reason);
      if (userSignal.aborted) onAbort();
      else {
        userSignal.addEventListener('abort', onAbort, { once: true });
        void run.done.then(() => userSignal.removeEventListener('abort', onAbort));
      }
    }
    this.#dispatch();
    return run.done;
  }

  /**
   * Closes every lane: idle ones now, busy ones when their calls end.
   * Resolves once their sockets are closed. The scheduler stays usable.
   */
  close(): Promise<void> {
    return Promise.all([...this.#all].map((lane) => this.#retire(lane))).then(() => undefined);
  }

  stats(): SchedulerStats {
    let queued = 0;
    let inFlight = 0;
    for (const run of this.#runs) {
      inFlight += run.inFlight;
      for (const queue of run.queues.values()) queued += queue.length;
    }
    let idle = 0;
    for (const lane of this.#all) if (!lane.retired && lane.load === 0) idle++;
    return { connections: this.#all.size, idle, queued, inFlight };
  }

  // ---- placement ----

  #dispatch(): void {
    if (this.#dispatching) {
      this.#again = true;
      return;
    }
    this.#dispatching = true;
    try {
      do {
        this.#again = false;
        this.#placeAll();
      } while (this.#again);
    } finally {
      this.#dispatching = false;
    }
  }

  /** A turn with starts has ended: a slice cut short at STARTS_PER_TURN goes on. */
  readonly #nextTurn = (): void => {
    const cut = this.#startsThisTurn >= STARTS_PER_TURN;
    this.#startsThisTurn = 0;
    if (cut) this.#dispatch();
  };

  /**
   * Starts the oldest task that can start, until none can; then closes idle
   * lanes to make room for the queues waiting for a socket: as many as
   * there are such queues (a lane's close wakes the dispatch again).
   */
  #placeAll(): void {
    const hostsNeedingRoom = new Set<string>();
    for (;;) {
      // The next turn's dispatch starts the rest (scheduled by the slice's first start).
      if (this.#startsThisTurn >= STARTS_PER_TURN) break;
      const queue = this.#ready.pop();
      if (queue === undefined) break;
      const entry = queue.first;
      if (entry === undefined) {
        queue.run.queues.delete(queue.key);
        continue;
      }
      const run = queue.run;
      if (run.inFlight >= run.concurrency) {
        queue.where = 'run';
        run.parked.add(queue);
        continue;
      }
      const started = this.#start(run, entry);
      if (started === true) {
        if (this.#startsThisTurn++ === 0) setImmediate(this.#nextTurn);
        queue.shift();
        if (queue.length > 0) this.#ready.push(queue);
        else run.queues.delete(queue.key);
        continue;
      }
      const endpointKey = queue.endpointKey!;
      let waiting = this.#waitingAt.get(endpointKey);
      if (waiting === undefined) this.#waitingAt.set(endpointKey, (waiting = new Set()));
      waiting.add(queue);
      queue.where = started;
      if (started === 'total') this.#waitingTotal.add(queue);
      else hostsNeedingRoom.add(endpointKey);
    }
    for (const endpointKey of hostsNeedingRoom) {
      // Its sockets are all taken; one may be idle through another transport.
      if (!this.#evictingFor.has(endpointKey)) this.#retireIdle((lane) => lane.endpointKey === endpointKey, endpointKey);
    }
    while (this.#evicting < this.#waitingTotal.size && this.#retireIdle(() => true, null)) {
      /* one idle lane closed per queue waiting for a socket */
    }
  }

  /** The queues waiting for a lane at `endpointKey` may start now (a lane there has room, or a slot came free). */
  #wakeEndpoint(endpointKey: string): void {
    const waiting = this.#waitingAt.get(endpointKey);
    if (waiting === undefined) return;
    this.#waitingAt.delete(endpointKey);
    for (const queue of waiting) {
      this.#waitingTotal.delete(queue);
      this.#ready.push(queue);
    }
  }

  /** A socket is gone: the queues waiting for one may open theirs. */
  #wakeTotal(): void {
    for (const queue of this.#waitingTotal) {
      this.#unwait(queue);
      this.#ready.push(queue);
    }
    this.#waitingTotal.clear();
  }

  /** Out of the per-endpoint wait sets. */
  #unwait(queue: Queue): void {
    const endpointKey = queue.endpointKey!;
    const waiting = this.#waitingAt.get(endpointKey);
    if (waiting === undefined) return;
    waiting.delete(queue);
    if (waiting.size === 0) this.#waitingAt.delete(endpointKey);
  }

  /** The run has room again: its parked queues may start. */
  #wakeRun(run: Run): void {
    for (const queue of run.parked) this.#ready.push(queue);
    run.parked.clear();
  }

  /** Takes a queue out of wherever it waits (its run was aborted). */
  #forget(queue: Queue): void {
    if (queue.where === 'heap') this.#ready.remove(queue);
    else if (queue.where === 'host' || queue.where === 'total') {
      this.#unwait(queue);
      this.#waitingTotal.delete(queue);
    }
    queue.run.parked.delete(queue);
    queue.where = 'none';
  }

  /** true: started; 'host' or 'total': no socket available (the per-host or the total limit). */
  #start(run: Run, entry: Entry<Task>): true | 'host' | 'total' {
    const task = entry.task;
    if (task.kind === 'local') {
      run.inFlight++;
      const ended = (outcome: Outcome) => {
        run.inFlight--;
        this.#wakeRun(run);
        this.#settle(run, entry, outcome);
      };
      // #runLocal resolves to the call's outcome; should it ever reject (a Clock that throws), the call still settles, failed.
      this.#runLocal(run, task).then(ended, (err: unknown) => ended([null, asError(err)]));
      return true;
    }
    const lane = this.#laneFor(task);
    if (typeof lane === 'string') return lane;
    lane.load++;
    lane.lastUsed = this.#clock.now();
    run.inFlight++;
    task.run(lane.pipeline, run.callSignal()).then(
      (value) => this.#ended(run, entry, lane, [value, null]),
      (err: unknown) => this.#ended(run, entry, lane, [null, asError(err)]),
    );
    return true;
  }

  #ended(run: Run, entry: Entry<Task>, lane: Lane, outcome: Outcome): void {
    lane.load--;
    run.inFlight--;
    if (lane.load === 0 && !lane.retired && !lane.pipeline.connected) void this.#retire(lane);
    this.#wakeEndpoint(lane.endpointKey);
    this.#wakeRun(run);
    this.#settle(run, entry, outcome);
  }

  /** A lane for `task`, or which limit makes it wait. */
  #laneFor(task: RemoteTask): Lane | 'host' | 'total' {
    const laneKey = this.#laneKey(task);
    const lanes = this.#lanes.get(laneKey);
    if (lanes !== undefined) {
      for (const lane of lanes) {
        if (task.pipelined ? lane.load < this.limits.pipelineDepth : lane.load === 0) return lane;
      }
    }
    const host = this.#perHost.get(task.endpointKey) ?? 0;
    if (host >= this.limits.maxConnectionsPerHost) return 'host';
    if (this.#all.size >= this.limits.maxConnections) return 'total';
    const lane: Lane = {
      pipeline: task.transport.openPipeline(task.host, {
        depth: this.limits.pipelineDepth,
        waitForKeepAlive: this.limits.waitForKeepAlive,
        idleTimeout: this.limits.idleTimeout,
        onConnectionClose: () => this.#laneSocketClosed(lane),
      }),
      laneKey,
      endpointKey: task.endpointKey,
      load: 0,
      lastUsed: this.#clock.now(),
      retired: false,
      gone: null,
    };
    if (lanes === undefined) this.#lanes.set(laneKey, [lane]);
    else lanes.push(lane);
    this.#perHost.set(task.endpointKey, host + 1);
    this.#all.add(lane);
    return lane;
  }

  /** Lanes are per transport (its steps, TLS options, headers) and endpoint. */
  #laneKey(task: RemoteTask): string {
    let id = this.#transportIds.get(task.transport);
    if (id === undefined) this.#transportIds.set(task.transport, (id = this.#nextTransportId++));
    return `${id} ${task.endpointKey}`;
  }

  /** Closes the least recently used idle lane that `filter` accepts; false if there is none. */
  #retireIdle(filter: (lane: Lane) => boolean, forEndpoint: string | null): boolean {
    let oldest: Lane | null = null;
    for (const lane of this.#all) {
      if (lane.retired || lane.load > 0 || !filter(lane)) continue;
      if (oldest === null || lane.lastUsed < oldest.lastUsed) oldest = lane;
    }
    if (oldest === null) return false;
    this.#evicting++;
    if (forEndpoint !== null) this.#evictingFor.add(forEndpoint);
    void this.#retire(oldest).then(() => {
      this.#evicting--;
      if (forEndpoint !== null) this.#evictingFor.delete(forEndpoint);
    });
    return true;
  }

  /** Out of the maps; counted in #all until its socket is gone (its calls end first). */
  #retire(lane: Lane): Promise<void> {
    if (lane.gone !== null) return lane.gone;
    lane.retired = true;
    const lanes = this.#lanes.get(lane.laneKey);
    if (lanes !== undefined) {
      const i = lanes.indexOf(lane);
      if (i !== -1) lanes.splice(i, 1);
      if (lanes.length === 0) this.#lanes.delete(lane.laneKey);
    }
    const host = (this.#perHost.get(lane.endpointKey) ?? 1) - 1;
    if (host === 0) this.#perHost.delete(lane.endpointKey);
    else this.#perHost.set(lane.endpointKey, host);
    this.#wakeEndpoint(lane.endpointKey);
    lane.gone = lane.pipeline.close().then(() => {
      this.#all.delete(lane);
      this.#wakeTotal();
      this.#wakeEndpoint(lane.endpointKey);
      queueMicrotask(() => this.#dispatch());
    });
    return lane.gone;
  }

  /** A lane's socket closed (idle timeout, the server, a failure): an idle lane goes. */
  #laneSocketClosed(lane: Lane): void {
    if (!lane.retired && lane.load === 0 && !lane.pipeline.connected) void this.#retire(lane);
  }

  // ---- outcomes ----

  #settle(run: Run, entry: Entry<Task>, outcome: Outcome): void {
    run.results[entry.index] = outcome;
    run.remaining--;
    if (run.remaining === 0) {
      this.#runs.delete(run);
      run.finished(run.results);
    }
    this.#dispatch();
  }

  /** Queued calls fail at once (never sent); calls in flight are aborted through the run's signal. */
  #abort(run: Run, reason: unknown): void {
    const queued: Entry<Task>[] = [];
    for (const queue of run.queues.values()) {
      this.#forget(queue);
      queued.push(...queue.entries.slice(queue.head));
    }
    run.queues.clear();
    run.abort(reason);
    for (const entry of queued) {
      this.#settle(run, entry, [
        null,
        new TransportError(TransportErrorCode.ABORTED, entry.task.url, 'the call was aborted before it started', { requestSent: false, cause: reason }),
      ]);
    }
  }

  /** A local call, on a later tick (never inside dispatch), with the run's abort and its own timeout. */
  #runLocal(run: Run, task: LocalTask): Promise<Outcome> {
    const signal = run.callSignal();
    return new Promise<Outcome>((resolve) => {
      let timer: ClockTimer | null = null;
      let settled = false;
      const finish = (outcome: Outcome) => {
        if (settled) return;
        settled = true;
        if (timer !== null) this.#clock.clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        resolve(outcome);
      };
      const onAbort = () =>
        finish([null, new TransportError(TransportErrorCode.ABORTED, task.url, 'the call was aborted', { requestSent: true, cause: signal.reason })]);
      if (signal.aborted) {
        onAbort();
        return;
      }
      signal.addEventListener('abort', onAbort);
      if (task.timeout > 0) {
        timer = this.#clock.setTimeout(() => {
          timer = null;
          finish([null, new TransportError(TransportErrorCode.TIMEOUT, task.url, `no result within ${task.timeout} ms`, { requestSent: true })]);
        }, task.timeout);
      }
      queueMicrotask(() => {
        if (settled) return;
        let value: unknown;
        try {
          value = task.call();
        } catch (err) {
          finish([null, asError(err)]);
          return;
        }
        Promise.resolve(value).then(
          (v) => finish([v, null]),
          (err: unknown) => finish([null, asError(err)]),
        );
      });
    });
  }
}
