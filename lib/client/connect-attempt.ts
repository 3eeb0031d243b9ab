// A client connection's connect (connection.ts): the transport's connect
// step run under an AbortController of its own, which the waiting call's
// cancellation, the connect timeout and the connection's destroy() all
// abort. The connection's one timer keeps the timeout, and the waiting
// call's deadline, meanwhile (due, expire). A socket that comes after the
// attempt was given up is destroyed.

import type * as net from 'node:net';
import { TransportError, TransportErrorCode } from '../errors.js';
import type { AbortWatch, Deadline } from './request.js';

export interface ConnectOptions {
  /** Abandons the connect. */
  signal: AbortWatch;
  /** ms; 0: no limit. */
  timeout: number;
  /** For the CONNECT_TIMEOUT error. */
  url: string;
  /** The call waiting for this connection: its deadline is kept meanwhile. */
  deadline?: Deadline | null;
}

/** Called once: with the socket, or with the reason the connect ended with. */
type Finish = (err: unknown, socket: net.Socket | null) => void;

export class ConnectAttempt {
  readonly #controller = new AbortController();
  readonly #signal: AbortWatch;
  /** The clock time the connect times out at (Infinity: never). */
  readonly #at: number;
  readonly #timeout: number;
  readonly #url: string;
  readonly #deadline: Deadline | null;
  #finish: Finish | null = null;

  constructor(options: ConnectOptions, now: number) {
    this.#signal = options.signal;
    this.#timeout = options.timeout;
    this.#at = options.timeout > 0 ? now + options.timeout : Infinity;
    this.#url = options.url;
    this.#deadline = options.deadline ?? null;
  }

  /** When the timer must fire: the connect timeout, or the waiting call's deadline if that comes first. */
  get due(): number {
    return Math.min(this.#at, this.#deadline?.at ?? Infinity);
  }

  /**
   * Watches the cancellation: `finish` gets the outcome. False when the
   * signal was aborted already (finish has then been called, and nothing
   * is to be run).
   */
  watch(finish: Finish): boolean {
    this.#finish = finish;
    this.#controller.signal.addEventListener('abort', this.#onAbort, { once: true });
    if (this.#signal.aborted) {
      this.#onOuterAbort();
      return false;
    }
    this.#signal.addEventListener('abort', this.#onOuterAbort);
    return true;
  }

  /** Runs the connect step; one that throws at once fails the same way as one that rejects. */
  run(open: (signal: AbortSignal) => Promise<net.Socket>): void {
    new Promise<net.Socket>((res) => res(open(this.#controller.signal))).then(
      (socket) => this.#done(null, socket),
      (err: unknown) => this.#done(err, null),
    );
  }

  /** Gives the connect up (the connection is destroyed). */
  abort(cause: unknown): void {
    this.#controller.abort(cause);
  }

  /** The timer fired at `now`: the waiting call's deadline expires, then (past the timeout) the connect. */
  expire(now: number): void {
    if (this.#deadline !== null && this.#deadline.at <= now) this.#deadline.expire();
    if (this.#at <= now && !this.#controller.signal.aborted) {
      this.#controller.abort(
        new TransportError(TransportErrorCode.CONNECT_TIMEOUT, this.#url, `could not connect within ${this.#timeout} ms`, { requestSent: false }),
      );
    }
  }

  #done(err: unknown, socket: net.Socket | null): void {
    const finish = this.#finish;
    if (finish === null) return void socket?.destroy(); // too late: the connect was given up
    this.#finish = null;
    this.#signal.removeEventListener('abort', this.#onOuterAbort);
    this.#controller.signal.removeEventListener('abort', this.#onAbort);
    finish(err, socket);
  }

  readonly #onAbort = (): void => this.#done(this.#controller.signal.reason, null);
  readonly #onOuterAbort = (): void => this.#controller.abort(this.#signal.reason);
}
