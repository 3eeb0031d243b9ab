// One timer for a queue of waiting calls (the pool's waiters for a host, a
// Pipeline's calls not yet written): armed for the earliest deadline among
// them, re-armed when that call leaves or a sooner one arrives, as a
// connection keeps one timer for the calls on its wire. Never a timer per
// call. The deadlines are in a binary min-heap (ties: first come first), so
// a call joins or leaves in O(log calls), however many wait.

import type { Clock } from '../clock.js';
import { OneTimer } from './one-timer.js';
import type { Deadline } from './request.js';

/** The one kind this timer is armed for: the earliest deadline. */
const DUE = 1;

interface Slot {
  readonly deadline: Deadline;
  readonly seq: number;
  index: number;
}

export class DeadlineTimer {
  readonly #clock: Clock;
  readonly #heap: Slot[] = [];
  readonly #slots = new Map<Deadline, Slot>();
  #seq = 0;
  readonly #timer: OneTimer;

  constructor(clock: Clock) {
    this.#clock = clock;
    this.#timer = new OneTimer(clock, () => this.#onTimer());
  }

  /** Deadlines kept. */
  get size(): number {
    return this.#heap.length;
  }

  /** Keeps `deadline` (null: the call has none) until delete(), or expires it once the clock reaches it. */
  add(deadline: Deadline | null): void {
    if (deadline === null || this.#slots.has(deadline)) return;
    const slot: Slot = { deadline, seq: this.#seq++, index: this.#heap.length };
    this.#heap.push(slot);
    this.#slots.set(deadline, slot);
    this.#up(slot.index);
    this.#arm();
  }

  /** The call left the queue: its deadline is no longer kept here. */
  delete(deadline: Deadline | null): void {
    if (deadline === null) return;
    const slot = this.#slots.get(deadline);
    if (slot === undefined) return;
    this.#remove(slot);
    this.#arm();
  }

  #remove(slot: Slot): void {
    this.#slots.delete(slot.deadline);
    const last = this.#heap.pop()!;
    if (last !== slot) {
      this.#heap[slot.index] = last;
      last.index = slot.index;
      this.#up(last.index);
      this.#down(last.index);
    }
  }

  #arm(): void {
    this.#timer.arm(DUE, this.#heap[0]?.deadline.at ?? Infinity);
  }

  #onTimer(): void {
    const now = this.#clock.now();
    // Each leaves before it expires: what expire() sets off finds it gone.
    while (this.#heap.length > 0 && this.#heap[0]!.deadline.at <= now) {
      const slot = this.#heap[0]!;
      this.#remove(slot);
      slot.deadline.expire();
    }
    this.#arm();
  }

  #less(a: Slot, b: Slot): boolean {
    return a.deadline.at < b.deadline.at || (a.deadline.at === b.deadline.at && a.seq < b.seq);
  }

  #swap(i: number, j: number): void {
    const a = this.#heap[i]!;
    const b = this.#heap[j]!;
    this.#heap[i] = b;
    this.#heap[j] = a;
    a.index = j;
    b.index = i;
  }

  #up(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.#less(this.#heap[i]!, this.#heap[parent]!)) return;
      this.#swap(i, parent);
      i = parent;
    }
  }

  #down(i: number): void {
    const n = this.#heap.length;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let least = i;
      if (left < n && this.#less(this.#heap[left]!, this.#heap[least]!)) least = left;
      if (right < n && this.#less(this.#heap[right]!, this.#heap[least]!)) least = right;
      if (least === i) return;
      this.#swap(i, least);
      i = least;
    }
  }
}
