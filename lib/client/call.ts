// One call's deadline and cancellation, as Transport.request and
// Pipeline.request make it (transport.ts): a module of its own, so that the
// transport's file stays about its steps.

import type { Clock } from '../clock.js';
import { TransportError, TransportErrorCode } from '../errors.js';
import type { CallHandle, Deadline, SendProgress } from './request.js';

/**
 * One call's deadline and cancellation: one listener on the caller's
 * signal; the deadline is kept by the one timer of the queue the call waits
 * in (the pool's waiters for its host, a Pipeline's queue), then by the
 * connection carrying it. A Pipeline that holds the call back behind other
 * calls keeps it in no timer meanwhile, and postpones it by that time. Either
 * aborts the call's own signal with the TransportError to report; every step
 * listens to that signal. dispose() removes the listener on every outcome.
 */
export class Call implements CallHandle, Deadline {
  private readonly controller = new AbortController();
  /** The clock time the call times out at (Infinity: no timeout); later by the time a Pipeline held it back. */
  #at: number;
  /** How far the request got, once it is on a connection. */
  progress: SendProgress | null = null;

  constructor(
    private readonly url: string,
    private readonly timeout: number,
    private readonly userSignal: AbortSignal | undefined,
    private readonly clock: Clock,
  ) {
    this.#at = timeout > 0 ? clock.now() + timeout : Infinity;
    if (userSignal !== undefined) {
      if (userSignal.aborted) {
        this.onUserAbort();
        return;
      }
      userSignal.addEventListener('abort', this.onUserAbort);
    }
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get at(): number {
    return this.#at;
  }

  get deadline(): Deadline | null {
    return this.timeout > 0 ? this : null;
  }

  postpone(ms: number): void {
    this.#at += ms;
  }

  /** Times the call out now if its deadline has passed (after a step no timer watched). */
  checkDeadline(): void {
    if (this.at <= this.clock.now()) this.expire();
  }

  expire(): void {
    this.abort(new TransportError(TransportErrorCode.TIMEOUT, this.url, `no response within ${this.timeout} ms`, { requestSent: this.requestSent }));
  }

  dispose(): void {
    this.userSignal?.removeEventListener('abort', this.onUserAbort);
  }

  private get requestSent(): boolean {
    return this.progress?.requestWritten ?? false;
  }

  private readonly onUserAbort = (): void => {
    this.abort(
      new TransportError(TransportErrorCode.ABORTED, this.url, 'the call was aborted', {
        requestSent: this.requestSent,
        cause: this.userSignal?.reason,
      }),
    );
  };

  private abort(err: TransportError): void {
    this.dispose();
    if (!this.controller.signal.aborted) this.controller.abort(err);
  }
}
