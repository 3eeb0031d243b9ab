// Time is an input. Every deadline the library keeps (server sweeps, client
// connect/idle/response timers, lingers) reads the time and arms its timers
// through a Clock, so a test can drive timeouts by advancing a manual clock
// instead of waiting on the real one, and a loaded machine cannot make such a
// test flaky.

/** An armed timer; `unref` lets the process exit while it is pending. */
export interface ClockTimer {
  unref(): unknown;
}

export interface Clock {
  /** Milliseconds, monotonic within one clock. */
  now(): number;
  /** Milliseconds with a fraction, for durations (the access log's microseconds); `now()` when absent. */
  precise?(): number;
  setTimeout(fn: () => void, ms: number): ClockTimer;
  clearTimeout(timer: ClockTimer): void;
  setInterval(fn: () => void, ms: number): ClockTimer;
  clearInterval(timer: ClockTimer): void;
}

/** The real clock: Node's timers and `Date.now()`. */
export const systemClock: Clock = Object.freeze({
  now: () => Date.now(),
  precise: () => performance.now(),
  setTimeout: (fn: () => void, ms: number): ClockTimer => setTimeout(fn, ms),
  clearTimeout: (timer: ClockTimer): void => clearTimeout(timer as NodeJS.Timeout),
  setInterval: (fn: () => void, ms: number): ClockTimer => setInterval(fn, ms),
  clearInterval: (timer: ClockTimer): void => clearInterval(timer as NodeJS.Timeout),
});
