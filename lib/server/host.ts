// The contract between a server and each connection it accepts: what a
// connection may ask of its server. Apart from connection.ts so that the
// server's side of it reads without the connection's internals.

import type { Clock } from '../clock.js';
import type { ServerLimits } from '../options.js';
import type { BodyPool } from './body.js';
import type { MemoryBudget } from './budget.js';
import type { Handler, Request } from './request.js';
import type { AccessRecord } from './access-log.js';
import type { Traffic } from './traffic.js';

/**
 * What a connection needs from the server that accepted it. The server hands
 * every connection one private object implementing this, so none of it is
 * part of the server's public surface. C is the connection (connection.ts),
 * named by parameter so this contract imports nothing of it.
 */
export interface ConnectionHost<C> {
  readonly options: Readonly<ServerLimits>;
  /** Every deadline is dated by this clock (the server's sweep runs on it too). */
  readonly clock: Clock;
  /** The server is closing: the request being read is the connection's last. */
  closing(): boolean;
  /** The first handler whose match() takes the request; null for none (404 or 501). */
  findHandler(request: Request): Handler | null;
  /** Reports a handler's failure, or ours; never throws. */
  reportError(err: unknown, request: Request | null): void;
  /** The connection has closed: the server stops counting it. */
  forget(connection: C): void;
  /** The server-wide byte budget every connection charges what it holds to. */
  readonly budget: MemoryBudget;
  /** The server's spare buffers for large bodies, lent to handlers that give them back (Handler.lendsBody). */
  readonly bodies: BodyPool;
  /**
   * Room for `bytes` more of a request body that will then hold `total`:
   * true when they fit (the server may refuse larger unfinished bodies
   * elsewhere to make room for a small one); false refuses this request.
   */
  admit(connection: C, bytes: number, total: number): boolean;
  /**
   * Whether the connection may be closed to make room for a newcomer when
   * the server is full: true while it waits for a request (idle, or part of
   * a head come) and owes nothing; reported on each change, so the server
   * can keep them oldest first.
   */
  evictable(connection: C, evictable: boolean): void;
  /** The connection's first request head has arrived: it has shown it is a client, not a held socket. */
  proven(connection: C): void;
  /** Who takes each answered request's record (the access log, the status page); null: no record is made. */
  record: ((record: AccessRecord) => void) | null;
  /** Time for durations: the clock's precise() or now(). */
  precise(): number;
  /** Server-wide counters, bumped without allocating. */
  readonly traffic: Traffic;
}
