// One call's deadline and cancellation, as Transport.request and
// Pipeline.request make it (transport.ts): a module of its own, so that the
// transport's file stays about its steps.

import type { Clock } from '../clock.js';
import { TransportError, TransportErrorCode } from '../errors.js';
import type { Endpoint } from './endpoint.js';
import type { CallHandle, Deadline, OutgoingRequest, SendProgress } from './request.js';

/**
 * One call's deadline and cancellation: one listener on the caller's
 * signal; the deadline is kept by the one timer of the queue the call waits
 * in (the pool's waiters for its host, a Pipeline's queue), then by the
 * connection carrying it. A Pipeline that holds the call back behind other
 * calls keeps it in no timer meanwhile, and postpones it by that time. Either
 * aborts the call with the TransportError to report. The client's own code
 * listens to the call itself (AbortWatch: a list of at most a few
 * listeners); the AbortSignal the steps see as `req.signal` is built only
 * when one reads it, aborted with the call. dispose() removes the listener on
 * the caller's signal on every outcome.
 */
export class Call implements CallHandle, Deadline {
  #controller: AbortController | null = null;
  #aborted = false;
  #reason: unknown = undefined;
  /** The first listener, then the others (a call has one or two at a time). */
  #listener: (() => void) | null = null;
  #more: (() => void)[] | null = null;
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

  /** The call's AbortSignal, built on first read (aborted at once if the call is). */
  get signal(): AbortSignal {
    if (this.#controller === null) {
      this.#controller = new AbortController();
      if (this.#aborted) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  get aborted(): boolean {
    return this.#aborted;
  }

  get reason(): unknown {
    return this.#reason;
  }

  /** Calls `listener` once when the call aborts (not if it has already, nor twice if added twice, as an AbortSignal does). */
  addEventListener(_type: 'abort', listener: () => void): void {
    if (this.#aborted) return;
    if (this.#listener === null) this.#listener = listener;
    else if (listener !== this.#listener && !(this.#more?.includes(listener) ?? false)) (this.#more ??= []).push(listener);
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    if (this.#listener === listener) {
      this.#listener = this.#more === null || this.#more.length === 0 ? null : this.#more.shift()!;
      return;
    }
    const i = this.#more?.indexOf(listener) ?? -1;
    if (i !== -1) this.#more!.splice(i, 1);
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
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = err;
    // The client's listeners, in the order they were added, then the signal's (a step's). As on an
    // EventTarget, one removed by an earlier one is not called, and one that throws does not stop the
    // others: its error is reported as an EventTarget reports it, uncaught on the next tick.
    const listeners = this.#listener === null ? [] : [this.#listener, ...(this.#more ?? [])];
    for (const listener of listeners) {
      if (this.#listener !== listener && !(this.#more?.includes(listener) ?? false)) continue;
      this.removeEventListener('abort', listener);
      try {
        listener();
      } catch (thrown) {
        process.nextTick(() => {
          throw thrown;
        });
      }
    }
    this.#listener = null;
    this.#more = null;
    this.#controller?.abort(err);
  }
}

/**
 * A call's request when only the transport's own steps see it: `signal` is
 * a getter on the prototype, so the AbortSignal is built only if read (an
 * object literal with a getter would cost a hidden class per call: 0.7 µs,
 * and garbage that outlives the scavenges).
 */
export class LazyRequest implements OutgoingRequest {
  readonly #call: Call;

  constructor(
    readonly endpoint: Endpoint,
    readonly path: string,
    readonly url: string,
    readonly body: Buffer,
    readonly contentEncoding: 'gzip' | null,
    readonly headers: Readonly<Record<string, string>>,
    call: Call,
  ) {
    this.#call = call;
  }

  get signal(): AbortSignal {
    return this.#call.signal;
  }
}
