// Helpers shared by the WorkerPool tests (offload-pool, offload-process,
// offload-edges): messages tasks send the test, and waits bounded in time
// (a bound for a failing test, never a measure).

import { BroadcastChannel } from 'node:worker_threads';
import { WorkerPool, type WorkerPoolOptions } from '../lib/offload/pool.js';
import { pollUntil, turns } from './support.js';

/** The tasks the WorkerPool tests run (test/fixtures/offload-tasks.ts). */
export const TASKS = new URL('./fixtures/offload-tasks.js', import.meta.url);

type Teardown = { teardown(fn: () => unknown): void };

/** A thread pool of one worker (unless told), closed forcefully when the test ends, whatever happened. */
export function threadPool(t: Teardown, options: WorkerPoolOptions = {}): WorkerPool {
  const p = new WorkerPool({ size: 1, ...options });
  t.teardown(() => p.close({ force: true }));
  return p;
}

let channels = 0;

/** The test's end of a BroadcastChannel thread tasks talk on: they say 'started <tag>' and wait for 'open <tag>'. */
export function taskChannel(t: Teardown) {
  const name = `offload-test-${process.pid}-${++channels}`;
  const channel = new BroadcastChannel(name);
  const inbox = new Inbox<unknown>();
  channel.onmessage = (event) => inbox.push((event as { data: unknown }).data);
  t.teardown(() => channel.close());
  return {
    name,
    seen: inbox.seen,
    close: () => channel.close(),
    open: (tag: string) => channel.postMessage(`open ${tag}`),
    /** Resolves once `message` has come. */
    until: (message: string, ms?: number) => inbox.until((m) => m === message, `'${message}'`, ms),
  };
}

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
