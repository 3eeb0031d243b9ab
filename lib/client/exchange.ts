// One request on a client connection (connection.ts), from its write to its
// response: how far its bytes got, whether its caller still waits, and what
// the call reports as `requestSent` if it gives up now. Pipeline reads it
// too (a queued call's progress, once on the wire).

import type { AbortWatch, Deadline, SendProgress, Settle } from './request.js';

// Exchange states.
export const WRITING = 0; // handed to socket.write, not known to be flushed
export const WRITTEN = 1; // every byte handed to the kernel (or the TLS layer)
export const SETTLED = 2; // answered or failed

/** What an exchange asks of the connection carrying it (ClientConnection). */
export interface ExchangeCarrier {
  /** Whether the connection stays open if `exchange` is abandoned now. */
  staysOpenWithout(exchange: Exchange): boolean;
  /** The caller of `exchange` gave up: settle it with its signal's reason, drop its response. */
  abandon(exchange: Exchange): void;
}

/** One request on a connection, from its write to its response. */
export class Exchange implements SendProgress {
  state = WRITING;
  /** The caller gave up (timeout, abort): the response is read and dropped. */
  abandoned = false;
  /** Written in a batch the kernel did not take at once: it may have left whole, or not. */
  shared = false;

  constructor(
    private readonly conn: ExchangeCarrier,
    readonly url: string,
    /** The call's cancellation (the call itself, or an AbortSignal). */
    readonly signal: AbortWatch,
    readonly deadline: Deadline | null,
    readonly settle: Settle,
  ) {}

  /**
   * What the call reports as `requestSent` when it gives up now. A write in
   * progress completes if the connection stays open, which it does when
   * another caller still waits on it; otherwise the connection is closed and
   * the write never completes.
   */
  get requestWritten(): boolean {
    if (this.state !== WRITING || this.shared) return true;
    return this.conn.staysOpenWithout(this);
  }

  readonly onAbort = (): void => this.conn.abandon(this);
}
