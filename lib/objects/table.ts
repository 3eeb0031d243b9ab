// The reference table: which objects clients hold, in which session, how
// many times, and until when. One Map of sessions kept in lease order
// (touching one moves it to the end), so the one sweep timer stops at the
// first session still alive; the timer runs only while the table holds
// something. An object is dropped, and disposed, when its last reference
// goes, whether by release, by expiry or by close().

import { randomBytes } from 'node:crypto';
import type { Clock, ClockTimer } from '../clock.js';
import { ObjectFaultCode, objectFault } from './wire.js';

export interface TableLimits {
  sessionTtl: number;
  maxRefsPerSession: number;
  maxSessions: number;
  maxRefs: number;
}

export interface Session {
  /** The X-Object-Session token, or null: a reference that is its own session. */
  readonly token: string | null;
  readonly key: string;
  readonly entries: Map<string, Entry>;
  /** Identity: the same object handed out twice in one session is one entry. */
  readonly byObject: Map<object, Entry>;
  lastUsed: number;
  /** Calls of this session in flight: its lease does not run out under them. */
  busy: number;
}

export interface Entry {
  readonly id: string;
  readonly object: object;
  readonly type: string;
  readonly session: Session;
  readonly created: number;
  /** How many times this reference was handed out and not yet released. */
  count: number;
}

/** A row of objects.list / ObjectServer#list. */
export interface TableRow {
  id: string;
  type: string;
  /** The session token; '' for a reference that is its own session. */
  session: string;
  ageMs: number;
  idleMs: number;
  refs: number;
}

export interface TableStats {
  /** Sessions holding references (a reference without a session header counts as one). */
  sessions: number;
  /** Distinct objects held. */
  objects: number;
  /** Reference ids in the table. */
  refs: number;
  /** Objects dropped since the start (released, expired or closed). */
  dropped: number;
  /** Sessions whose lease ran out. */
  expired: number;
}

export class ObjectTable {
  private readonly entries = new Map<string, Entry>();
  /** Every session, least recently used first. */
  private readonly sessions = new Map<string, Session>();
  /** How many entries (across sessions) hold each object. */
  private readonly holders = new Map<object, number>();
  /** References made without a session header: each its own session, counted together against maxRefsPerSession. */
  private loose = 0;
  private timer: ClockTimer | null = null;
  private dropped = 0;
  private expired = 0;

  constructor(
    private readonly limits: TableLimits,
    private readonly clock: Clock,
    /** Called with each object whose last reference went. */
    private readonly drop: (object: object) => void,
  ) {}

  get(id: string): Entry | undefined {
    return this.entries.get(id);
  }

  session(token: string): Session | undefined {
    return this.sessions.get(`t:${token}`);
  }

  /** Renews the lease of a session (or of a session-less reference) still in the table. */
  touch(session: Session): void {
    session.lastUsed = this.clock.now();
    // Re-inserted at the end: the Map stays in lease order. (A session that ended and was
    // made again under the same token is another object: the old one is not put back.)
    if (this.sessions.get(session.key) !== session) return;
    this.sessions.delete(session.key);
    this.sessions.set(session.key, session);
  }

  /**
   * Keeps these sessions from expiring until `call` settles, then renews
   * them: a method that runs longer than the lease does not find its own
   * object released and disposed under it.
   */
  hold<T>(sessions: readonly Session[], call: Promise<T>): Promise<T> {
    if (sessions.length === 0) return call;
    for (const session of sessions) session.busy++;
    const done = (): void => {
      for (const session of sessions) {
        session.busy--;
        this.touch(session);
      }
    };
    call.then(done, done);
    return call;
  }

  /**
   * Fails with LIMIT unless `fresh` new references fit for a caller with
   * session `token` (null: each new reference its own session; together,
   * header-less references are held to one session's cap and take no
   * session slot, so header-less callers cannot crowd out sessions).
   * Checked before anything is created: a refused call leaves nothing behind.
   */
  reserve(token: string | null, fresh: number): void {
    if (fresh === 0) return;
    const { maxRefs, maxSessions, maxRefsPerSession } = this.limits;
    if (this.entries.size + fresh > maxRefs) throw objectFault(ObjectFaultCode.LIMIT, `the server holds its maximum of ${maxRefs} references`);
    if (token === null) {
      if (this.loose + fresh > maxRefsPerSession) {
        throw objectFault(ObjectFaultCode.LIMIT, `the server holds its maximum of ${maxRefsPerSession} references made without a session header`);
      }
      return;
    }
    const session = this.session(token);
    if (session === undefined && this.sessions.size - this.loose >= maxSessions) {
      throw objectFault(ObjectFaultCode.LIMIT, `the server holds its maximum of ${maxSessions} sessions`);
    }
    if ((session?.entries.size ?? 0) + fresh > maxRefsPerSession) {
      throw objectFault(ObjectFaultCode.LIMIT, `the session holds its maximum of ${maxRefsPerSession} references`);
    }
  }

  /**
   * The entry a caller would reuse for `object`, if any (no new reference
   * needed). Only within a session: a header-less caller gets a reference of
   * its own each time, so no other header-less caller can count it down.
   */
  existing(token: string | null, object: object): Entry | undefined {
    return token === null ? undefined : this.session(token)?.byObject.get(object);
  }

  /** Hands out a reference to `object` in the caller's session: the same id again (count + 1) if it holds one already. Call reserve() first. */
  add(token: string | null, object: object, type: string): Entry {
    const found = this.existing(token, object);
    if (found !== undefined) {
      found.count++;
      this.touch(found.session);
      return found;
    }
    const now = this.clock.now();
    const id = newId(this.entries);
    let session = token === null ? undefined : this.session(token);
    if (session === undefined) {
      if (token === null) this.loose++;
      const key = token === null ? `r:${id}` : `t:${token}`;
      session = { token, key, entries: new Map(), byObject: new Map(), lastUsed: now, busy: 0 };
      this.sessions.set(key, session);
    }
    const entry: Entry = { id, object, type, session, created: now, count: 1 };
    this.entries.set(id, entry);
    session.entries.set(id, entry);
    session.byObject.set(object, entry);
    this.holders.set(object, (this.holders.get(object) ?? 0) + 1);
    this.touch(session);
    this.arm();
    return entry;
  }

  /** Takes `count` (at most what it holds) off a reference; the number taken. */
  release(entry: Entry, count: number): number {
    if (this.entries.get(entry.id) !== entry) return 0;
    const taken = Math.min(count, entry.count);
    entry.count -= taken;
    if (entry.count === 0) this.remove(entry);
    return taken;
  }

  private remove(entry: Entry): void {
    const { session, object } = entry;
    this.entries.delete(entry.id);
    session.entries.delete(entry.id);
    session.byObject.delete(object);
    if (session.entries.size === 0) {
      this.sessions.delete(session.key);
      if (session.token === null) this.loose--;
    }
    const left = (this.holders.get(object) ?? 1) - 1;
    if (left > 0) {
      this.holders.set(object, left);
    } else {
      this.holders.delete(object);
      this.dropped++;
      this.drop(object);
    }
    if (this.sessions.size === 0) this.disarm();
  }

  /** Releases every reference of a session. */
  private removeSession(session: Session): void {
    for (const entry of [...session.entries.values()]) this.remove(entry);
  }

  /** The lease sweep: sessions idle for sessionTtl go, oldest first; one with a call in flight stays. */
  sweep(): void {
    const deadline = this.clock.now() - this.limits.sessionTtl;
    for (const session of [...this.sessions.values()]) {
      if (session.lastUsed > deadline) break;
      if (session.busy > 0) continue;
      this.expired++;
      this.removeSession(session);
    }
  }

  /** Drops everything (ObjectServer#close). */
  clear(): void {
    for (const session of [...this.sessions.values()]) this.removeSession(session);
    this.disarm();
  }

  rows(filter?: (entry: Entry) => boolean): TableRow[] {
    const now = this.clock.now();
    const rows: TableRow[] = [];
    for (const entry of this.entries.values()) {
      if (filter !== undefined && !filter(entry)) continue;
      const { id, type, session, created, count } = entry;
      rows.push({ id, type, session: session.token ?? '', ageMs: now - created, idleMs: now - session.lastUsed, refs: count });
    }
    return rows;
  }

  stats(): TableStats {
    return { sessions: this.sessions.size, objects: this.holders.size, refs: this.entries.size, dropped: this.dropped, expired: this.expired };
  }

  /** One timer for every lease, as often as a quarter of the TTL (at most once a second). */
  private arm(): void {
    if (this.timer !== null) return;
    const every = Math.max(1, Math.min(1000, Math.floor(this.limits.sessionTtl / 4)));
    this.timer = this.clock.setInterval(() => this.sweep(), every);
    this.timer.unref();
  }

  private disarm(): void {
    if (this.timer !== null) this.clock.clearInterval(this.timer);
    this.timer = null;
  }
}

/** 128 random bits, base64url (22 characters), unique in the table. */
function newId(taken: ReadonlyMap<string, unknown>): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!taken.has(id)) return id;
  }
}
