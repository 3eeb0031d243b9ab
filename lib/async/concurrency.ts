// Bounded concurrency for any promises, not only XML-RPC calls.
//
// waitFor(inFlight, { concurrency }) is `waitfor(in_flight, concurrency_factor)`
// of the process-parallelism library inparallel (alexforster/inparallel),
// made an async iterator: no busy-wait, no sleep; it wakes when a promise
// settles. The contract, exactly:
//
//   1. `inFlight` is the caller's array of promises (plain values count as
//      resolved). The caller adds to it; waitFor removes from it: a settled
//      promise is taken out of the array just before it is yielded.
//   2. Each step yields, in this order of preference:
//      a. a settled promise, as `{ status, value | reason, promise }` (the
//         shape of Promise.allSettled's entries), oldest settlement first;
//         a rejection is yielded, never thrown;
//      b. MORE, when `concurrency` is given and fewer than `concurrency`
//         promises are in `inFlight`: a request for one more. Push at most
//         one promise per MORE (or none: there is no more work);
//      c. the end, when `inFlight` is empty (with `concurrency`: after one
//         last MORE that added nothing, so work can still be added at the end).
//   3. MORE is asked again right away after the caller pushed one (the ramp
//      up to `concurrency`); after a MORE that added nothing, it is asked again
//      only once another promise has settled. waitFor never spins.
//   4. Promises pushed in the loop body are seen at the next step; a promise
//      pushed while waitFor waits (from elsewhere) is seen at the next
//      settlement. Without `concurrency`, MORE is never yielded.
//   5. Leaving the loop early (break, throw) leaves the unsettled promises in
//      `inFlight`, still running (waitFor cannot cancel them); their
//      rejections are handled, so none is reported as unhandled.
//
// mapConcurrent(items, fn, { concurrency }) is the common case on top of it.

/** One outcome: `[result, null]`, or `[null, error]` when it failed. */
export type Outcome<T = unknown> = [result: T, error: null] | [result: null, error: Error];

/** A settled promise, as waitFor yields it. */
export type Settled<T> =
  | { readonly status: 'fulfilled'; readonly value: T; readonly promise: T | PromiseLike<T> }
  | { readonly status: 'rejected'; readonly reason: unknown; readonly promise: T | PromiseLike<T> };

/** Yielded by waitFor: there is room for one more promise in `inFlight`. */
export const MORE: unique symbol = Symbol('waitFor.MORE');

export interface WaitForOptions {
  /** Keep this many in flight: waitFor yields MORE while fewer are. Default: never ask. */
  concurrency?: number;
}

/**
 * Yields each promise of `inFlight` as it settles (removing it from the
 * array), and, while fewer than `concurrency` are in flight, MORE: a
 * request for one more. See the contract at the top of concurrency.ts.
 *
 * ```ts
 * const inFlight: Promise<string>[] = [];
 * for await (const done of waitFor(inFlight, { concurrency: 3 })) {
 *   if (done === MORE) {
 *     if (hosts.length > 0) inFlight.push(uname(hosts.shift()!));
 *   } else if (done.status === 'fulfilled') console.log(done.value);
 *   else console.error(done.reason);
 * }
 * ```
 */
export async function* waitFor<T>(inFlight: (T | PromiseLike<T>)[], options: WaitForOptions = {}): AsyncGenerator<Settled<T> | typeof MORE, void, undefined> {
  if (!Array.isArray(inFlight)) throw new TypeError('waitFor needs an array of promises (it removes the settled ones)');
  const { concurrency } = options;
  if (concurrency !== undefined) checkConcurrency(concurrency);
  /** Each element seen, until it leaves the array. */
  const tracked = new Set<unknown>();
  /** Settled elements, oldest settlement first, with their outcome. */
  const settled: [item: unknown, outcome: Settled<T>][] = [];
  let wake: (() => void) | null = null;
  let declined = false; // the last MORE added nothing: do not ask again before a settlement

  const record = (item: unknown, outcome: Settled<T>) => {
    settled.push([item, outcome]);
    wake?.();
  };
  /** Watches the elements not seen yet; true if there were any. */
  const track = (): boolean => {
    let added = false;
    for (const item of inFlight) {
      if (tracked.has(item)) continue;
      tracked.add(item);
      added = true;
      const promise = item as T | PromiseLike<T>;
      Promise.resolve(promise).then(
        (value) => record(item, { status: 'fulfilled', value, promise }),
        (reason: unknown) => record(item, { status: 'rejected', reason, promise }),
      );
    }
    return added;
  };
  /** The oldest settled element still in the array, taken out of it. */
  const takeSettled = (): Settled<T> | null => {
    while (settled.length > 0) {
      const [item, outcome] = settled[0]!;
      const i = inFlight.indexOf(item as T | PromiseLike<T>);
      if (i !== -1) inFlight.splice(i, 1);
      if (i === -1 || !inFlight.includes(item as T | PromiseLike<T>)) {
        // Gone from the array (a copy is yielded once per occurrence).
        settled.shift();
        tracked.delete(item);
      }
      if (i !== -1) return outcome;
    }
    return null;
  };

  for (;;) {
    if (track()) declined = false;
    const outcome = takeSettled();
    if (outcome !== null) {
      yield outcome;
      continue;
    }
    if (concurrency !== undefined && inFlight.length < concurrency && !declined) {
      yield MORE;
      declined = !track();
      continue;
    }
    if (inFlight.length === 0) return;
    await new Promise<void>((resolve) => {
      wake = resolve;
    });
    wake = null;
    declined = false;
  }
}

export interface MapConcurrentOptions {
  /** Calls of `fn` in flight at most (a positive integer, or Infinity). */
  concurrency: number;
  /** Stops starting new items; those not started get `[null, reason]`. Items started run to their end. */
  signal?: AbortSignal;
}

/**
 * `fn(item, index)` for every item, at most `concurrency` at a time, in item
 * order. Resolves to one `[result, error]` pair per item, in item order: a
 * failure (throw or rejection) is its item's pair, never the whole map's.
 * Built on waitFor.
 */
export async function mapConcurrent<I, R>(
  items: Iterable<I>,
  fn: (item: I, index: number) => R | PromiseLike<R>,
  options: MapConcurrentOptions,
): Promise<Outcome<Awaited<R>>[]> {
  if (typeof fn !== 'function') throw new TypeError('mapConcurrent needs a function');
  checkConcurrency(options?.concurrency);
  const { signal } = options;
  const list = Array.from(items);
  const results = new Array<Outcome<Awaited<R>>>(list.length);
  const inFlight: Promise<void>[] = [];
  let next = 0;
  for await (const done of waitFor(inFlight, { concurrency: options.concurrency })) {
    if (done !== MORE || next >= list.length || signal?.aborted === true) continue;
    const i = next++;
    inFlight.push(
      Promise.resolve()
        .then(() => fn(list[i]!, i))
        .then(
          (value) => {
            results[i] = [value as Awaited<R>, null];
          },
          (err: unknown) => {
            results[i] = [null, asError(err)];
          },
        ),
    );
  }
  for (let i = next; i < list.length; i++) results[i] = [null, asError(signal?.reason)];
  return results;
}

function checkConcurrency(concurrency: unknown): void {
  if (typeof concurrency !== 'number' || !(concurrency === Infinity || (Number.isInteger(concurrency) && concurrency >= 1))) {
    throw new RangeError(`concurrency must be a positive integer or Infinity, got ${String(concurrency)}`);
  }
}

/** A thrown non-Error becomes an Error whose cause is the value. */
export function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(`non-Error thrown: ${String(err)}`, { cause: err });
}
