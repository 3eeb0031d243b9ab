// The carrier of Transport.request: one exchange at a time on a keep-alive
// connection of the transport's Pool (pool.ts). A call takes a parked
// connection, or waits for one at the host's limit, or opens one in the slot
// the pool reserved; a reused connection that the server closed while it was
// parked is given back unused (nothing was written) and another is taken;
// once the exchange ends the connection goes back to the pool, reusable or
// not. A request is never re-sent.

import { NOT_WRITTEN, type ClientConnection } from './connection.js';
import { connectError } from './failures.js';
import type { Pool } from './pool.js';
import type { CallHandle, Carrier, IncomingResponse, OutgoingRequest } from './request.js';

/** What the pooled carrier uses of its Transport: built privately by the transport. */
export interface PooledHost {
  readonly keepAlive: boolean;
  /** Transport.getConnection is not overridden: the carrier may take a parked connection itself. */
  readonly plainConnection: boolean;
  /** Transport.getConnection, overridden or not. */
  getConnection(req: OutgoingRequest, call: CallHandle): Promise<ClientConnection>;
  /** A new connection to `req.endpoint` through the connect step, timed by `call`'s deadline. */
  openConnection(req: OutgoingRequest, call: CallHandle | undefined): Promise<ClientConnection>;
}

export class PooledCarrier implements Carrier {
  readonly #pool: Pool;
  readonly #host: PooledHost;

  constructor(pool: Pool, host: PooledHost) {
    this.#pool = pool;
    this.#host = host;
  }

  async carry(req: OutgoingRequest, bytes: Buffer, call: CallHandle): Promise<IncomingResponse> {
    const pool = this.#pool;
    // getConnection's own work when it is not overridden: an idle connection taken in this turn, else
    // the pool's wait awaited here (no async step around it), else a new connection.
    let conn = this.#host.plainConnection
      ? (pool.takeIdle(req.endpoint.key, call) ?? (await pool.acquire(req.endpoint.key, call, call.deadline)) ?? (await this.newConnection(req, call)))
      : await this.#host.getConnection(req, call);
    for (;;) {
      let response: IncomingResponse | typeof NOT_WRITTEN;
      try {
        response = await conn.requestOrNot(req, bytes, call);
      } catch (err) {
        pool.release(conn, false);
        throw err;
      }
      if (response !== NOT_WRITTEN) {
        pool.release(conn, this.#host.keepAlive);
        return response;
      }
      // A reused connection closed by what the server sent while it was idle: nothing was written, take another.
      pool.release(conn, false);
      conn = await this.#host.getConnection(req, call);
    }
  }

  /** A new connection in the slot the pool reserved for `req` (acquire() gave null). */
  async newConnection(req: OutgoingRequest, call: CallHandle | undefined): Promise<ClientConnection> {
    let conn: ClientConnection;
    try {
      conn = await this.#host.openConnection(req, call);
    } catch (err) {
      this.#pool.unreserve(req.endpoint.key);
      throw connectError(req, err);
    }
    this.#pool.adopt(conn);
    return conn;
  }
}
