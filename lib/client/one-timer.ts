// The one timer a client object keeps (a connection, connection.ts; a queue
// of waiting calls, deadlines.ts), armed through the Clock for what the
// object waits for now, never a timer per call. Its owner asks again after
// every change; armed already for the same kind and time, it is left alone.

import type { Clock, ClockTimer } from '../clock.js';

/** The kind of a timer that is not armed. */
export const NOT_ARMED = 0;

export class OneTimer {
  readonly #clock: Clock;
  readonly #onFire: (kind: number) => void;
  #timer: ClockTimer | null = null;
  #kind = NOT_ARMED;
  #at = Infinity;

  /** `onFire` gets the kind the timer was armed for; the timer is then disarmed. */
  constructor(clock: Clock, onFire: (kind: number) => void) {
    this.#clock = clock;
    this.#onFire = onFire;
  }

  /** Fires at clock time `at` (Infinity: disarms) with `kind`; `unref`: keeps no process alive meanwhile. */
  arm(kind: number, at: number, unref = false): void {
    if (at === Infinity) kind = NOT_ARMED;
    if (kind === this.#kind && at === this.#at) return;
    if (this.#timer !== null) this.#clock.clearTimeout(this.#timer);
    this.#timer = null;
    this.#kind = kind;
    this.#at = at;
    if (kind === NOT_ARMED) return;
    this.#timer = this.#clock.setTimeout(this.#fire, Math.max(0, at - this.#clock.now()));
    if (unref) this.#timer.unref();
  }

  readonly #fire = (): void => {
    const kind = this.#kind;
    this.#timer = null;
    this.#kind = NOT_ARMED;
    this.#at = Infinity;
    this.#onFire(kind);
  };
}
