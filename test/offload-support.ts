// Helpers shared by the WorkerPool tests (offload-pool, offload-process,
// offload-edges): messages tasks send the test, and waits bounded in time
// (a bound for a failing test, never a measure).

import type { WorkerPool } from '../lib/offload/pool.js';
import { pollUntil, turns } from './support.js';

/** What the tasks of one test have said, and a bounded wait for one message. */
export class Inbox<T> {
  readonly seen: T[] = [];
  private wake: (() => void) | null = null;

  push(...messages: T[]): void {
    this.seen.push(...messages);
    this.wake?.();
  }

  /** Resolves with the first message `match` accepts; rejects after `ms`, naming `what` it waited for. */
  async until(match: (message: T) => boolean, what: string, ms = 20_000): Promise<T> {
    let late = false;
    const bound = setTimeout(() => {
      late = true;
      this.wake?.();
    }, ms);
    try {
      for (;;) {
        const found = this.seen.find(match);
        if (found !== undefined) return found;
        if (late) throw new Error(`no ${what} from a task within ${ms} ms`);
        await new Promise<void>((resolve) => (this.wake = resolve));
      }
    } finally {
      this.wake = null;
      clearTimeout(bound);
    }
  }
}

/** Waits until the pool counts `n` tasks running. */
export function running(p: WorkerPool, n: number): Promise<void> {
  return pollUntil(() => p.stats().busy === n, `the pool to count ${n} running`, 20_000);
}

/** Whether `promise` has settled, after letting the event loop turn. */
export async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  promise.then(
    () => (done = true),
    () => (done = true),
  );
  await turns(3);
  return done;
}

export type Rejected = Error & { code?: unknown; exitCode?: unknown; value?: unknown };

/** The rejection of `promise` (fails the test if it resolves). */
export async function rejection(promise: Promise<unknown>): Promise<Rejected> {
  try {
    await promise;
  } catch (err) {
    return err as Rejected;
  }
  throw new Error('expected a rejection');
}
