// Keep-alive connections per endpoint, with a limit. Per key: the idle
// connections (most recently used last, taken first: the freshest is the
// least likely to have been closed by the server), how many sockets are
// open or being opened, and the calls waiting for one, first come first
// served, their deadlines kept by one timer per host (deadlines.ts). A
// parked connection destroys itself on any sign of life from the server
// (see connection.ts); its 'close' frees its slot here.

import type { Clock } from '../clock.js';
import type { ClientConnection } from './connection.js';
import { DeadlineTimer } from './deadlines.js';
import type { AbortWatch, Deadline } from './request.js';

/** Resolved with a connection handed over, or null: the waiter may open one (its slot is reserved). */
type Waiter = (conn: ClientConnection | null) => void;

interface HostEntry {
  idle: ClientConnection[];
  /** Sockets open or being opened, idle ones included. */
  open: number;
  waiters: Waiter[];
  /** The one timer for the waiters' deadlines. */
  deadlines: DeadlineTimer;
}

export interface PoolStats {
  /** Sockets open or being opened. */
  open: number;
  /** Of those, parked and ready for reuse. */
  idle: number;
  /** Calls waiting for a socket. */
  waiting: number;
}

export class Pool {
  private readonly hosts = new Map<string, HostEntry>();
  private readonly all = new Set<ClientConnection>();
  /** Bumped by closeIdle(): connections of an earlier generation are not parked again. */
  private generation = 0;

  constructor(
    private readonly maxSocketsPerHost: number,
    readonly idleTimeout: number,
    private readonly clock: Clock,
  ) {}

  /**
   * A parked connection for `key`, or null when the caller may open one (a
   * slot is then reserved for it: adopt() or unreserve() must follow). At the
   * limit, waits in FIFO order, `deadline` (the waiting call's) kept by the
   * host's one timer meanwhile; an abort of `signal` (the call's: its
   * deadline aborts it) removes the wait and rejects with `signal.reason`.
   */
  acquire(key: string, signal: AbortWatch, deadline: Deadline | null = null): Promise<ClientConnection | null> {
    if (signal.aborted) return Promise.reject(signal.reason);
    const entry = this.entry(key);
    const idle = this.#takeIdle(entry);
    if (idle !== null) return Promise.resolve(idle);
    if (entry.open < this.maxSocketsPerHost) {
      entry.open++;
      return Promise.resolve(null);
    }
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        signal.removeEventListener('abort', onAbort);
        const i = entry.waiters.indexOf(waiter);
        if (i !== -1) entry.waiters.splice(i, 1);
        entry.deadlines.delete(deadline);
        this.forgetIfEmpty(key, entry);
        reject(signal.reason);
      };
      const waiter: Waiter = (conn) => {
        signal.removeEventListener('abort', onAbort);
        entry.deadlines.delete(deadline);
        resolve(conn);
      };
      signal.addEventListener('abort', onAbort);
      entry.waiters.push(waiter);
      entry.deadlines.add(deadline);
    });
  }

  /** What acquire() resolves to when a parked connection is ready, now; null when it would wait or open one. */
  takeIdle(key: string, signal: AbortWatch): ClientConnection | null {
    if (signal.aborted) return null;
    const entry = this.hosts.get(key);
    if (entry === undefined) return null;
    return this.#takeIdle(entry);
  }

  /** A connection opened in a slot acquire() reserved: tracked until its socket closes. */
  adopt(conn: ClientConnection): void {
    conn.generation = this.generation;
    this.all.add(conn);
    conn.onceClosed(() => this.closed(conn));
  }

  /** A reserved slot that will not be used (the connect failed). */
  unreserve(key: string): void {
    const entry = this.hosts.get(key);
    if (entry === undefined) return;
    entry.open--;
    this.wake(key, entry);
  }

  /**
   * The call is done with `conn`: hand it to the next waiter or park it when
   * `reusable`, destroy it otherwise (its close frees the slot).
   */
  release(conn: ClientConnection, reusable: boolean): void {
    if (!reusable || !conn.reusable || conn.generation !== this.generation) {
      conn.destroy();
      return;
    }
    const entry = this.hosts.get(conn.key);
    if (entry === undefined) {
      conn.destroy();
      return;
    }
    const waiter = entry.waiters.shift();
    if (waiter !== undefined) {
      waiter(conn);
      return;
    }
    // Parked once this turn's microtasks are done, unless taken again first: a caller that makes its
    // next call as soon as this one resolves takes it back in the same turn, and its idle timer would
    // be armed and cleared for nothing (a Timeout made and dropped, and the socket unref'd and ref'd).
    conn.pooledIdle = true;
    entry.idle.push(conn);
    if (this.#toPark.push(conn) === 1) process.nextTick(this.#parkReleased);
  }

  /** Connections released in this turn, to park unless taken again (release()). */
  #toPark: ClientConnection[] = [];

  readonly #parkReleased = (): void => {
    const released = this.#toPark;
    this.#toPark = [];
    for (let i = 0; i < released.length; i++) {
      const conn = released[i]!;
      if (conn.pooledIdle) conn.park(this.idleTimeout); // park() leaves a closed one alone
    }
  };

  /** The most recently used idle connection of `entry` that can carry a call now, or null. */
  #takeIdle(entry: HostEntry): ClientConnection | null {
    while (entry.idle.length > 0) {
      const conn = entry.idle.pop()!;
      conn.pooledIdle = false;
      // Not parked yet (released in this turn): it is still open and clean unless something happened to it since.
      if (conn.take() && conn.reusable) return conn;
      conn.destroy();
    }
    return null;
  }

  /**
   * Destroys the parked connections now; those in use are destroyed when
   * their call ends. Resolves once every socket open now has closed. The
   * pool stays usable: later calls open new connections.
   */
  closeIdle(): Promise<void> {
    this.generation++;
    const open = [...this.all];
    for (const entry of this.hosts.values()) {
      for (const conn of entry.idle.splice(0)) {
        conn.pooledIdle = false;
        conn.destroy();
      }
    }
    return Promise.all(open.map((conn) => new Promise<void>((resolve) => conn.onceClosed(resolve)))).then(() => undefined);
  }

  stats(key?: string): PoolStats {
    const stats: PoolStats = { open: 0, idle: 0, waiting: 0 };
    for (const [k, entry] of this.hosts) {
      if (key !== undefined && k !== key) continue;
      stats.open += entry.open;
      stats.idle += entry.idle.length;
      stats.waiting += entry.waiters.length;
    }
    return stats;
  }

  private closed(conn: ClientConnection): void {
    this.all.delete(conn);
    const entry = this.hosts.get(conn.key);
    if (entry === undefined) return;
    const i = entry.idle.indexOf(conn);
    if (i !== -1) entry.idle.splice(i, 1);
    conn.pooledIdle = false;
    entry.open--;
    this.wake(conn.key, entry);
  }

  /** A slot came free: the first waiter may open a connection. */
  private wake(key: string, entry: HostEntry): void {
    if (entry.waiters.length > 0 && entry.open < this.maxSocketsPerHost) {
      entry.open++;
      entry.waiters.shift()!(null);
      return;
    }
    this.forgetIfEmpty(key, entry);
  }

  private entry(key: string): HostEntry {
    let entry = this.hosts.get(key);
    if (entry === undefined) {
      entry = { idle: [], open: 0, waiters: [], deadlines: new DeadlineTimer(this.clock) };
      this.hosts.set(key, entry);
    }
    return entry;
  }

  private forgetIfEmpty(key: string, entry: HostEntry): void {
    if (entry.open === 0 && entry.waiters.length === 0 && this.hosts.get(key) === entry) this.hosts.delete(key);
  }
}
