// The scheduler's queues (scheduler.ts): the tasks of one run that are
// placed alike, oldest first, and a binary min-heap of such queues by their
// oldest task, so that placing a task costs O(log queues).

export interface Entry<T> {
  readonly seq: number;
  readonly task: T;
  readonly index: number;
}

/** The tasks of one run that are placed alike, oldest first. */
export class KeyQueue<R, T> {
  entries: Entry<T>[] = [];
  head = 0;
  /** Where it is: in the heap, parked, or nowhere (empty, or its run ended). */
  where: 'heap' | 'run' | 'host' | 'total' | 'none' = 'none';
  /** Its heap index, while in the heap. */
  slot = -1;

  constructor(
    readonly run: R,
    readonly key: string,
    /** null for local tasks. */
    readonly endpointKey: string | null,
  ) {}

  get first(): Entry<T> | undefined {
    return this.entries[this.head];
  }

  get length(): number {
    return this.entries.length - this.head;
  }

  shift(): void {
    this.head++;
    if (this.head > 64 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
  }
}

/** A binary min-heap of queues by their oldest task. */
export class QueueHeap<R, T> {
  private readonly items: KeyQueue<R, T>[] = [];

  get size(): number {
    return this.items.length;
  }

  push(q: KeyQueue<R, T>): void {
    q.where = 'heap';
    q.slot = this.items.length;
    this.items.push(q);
    this.up(q.slot);
  }

  pop(): KeyQueue<R, T> | undefined {
    const top = this.items[0];
    if (top === undefined) return undefined;
    const last = this.items.pop()!;
    if (last !== top) {
      this.items[0] = last;
      last.slot = 0;
      this.down(0);
    }
    top.where = 'none';
    top.slot = -1;
    return top;
  }

  remove(q: KeyQueue<R, T>): void {
    if (q.where !== 'heap') return;
    const i = q.slot;
    const last = this.items.pop()!;
    if (last !== q) {
      this.items[i] = last;
      last.slot = i;
      this.down(i);
      this.up(last.slot);
    }
    q.where = 'none';
    q.slot = -1;
  }

  private seq(i: number): number {
    return this.items[i]!.first?.seq ?? -1; // an emptied queue comes out first, to be dropped
  }

  private up(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.seq(parent) <= this.seq(i)) return;
      this.swap(i, parent);
      i = parent;
    }
  }

  private down(i: number): void {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let min = i;
      if (l < this.items.length && this.seq(l) < this.seq(min)) min = l;
      if (r < this.items.length && this.seq(r) < this.seq(min)) min = r;
      if (min === i) return;
      this.swap(i, min);
      i = min;
    }
  }

  private swap(a: number, b: number): void {
    const qa = this.items[a]!;
    const qb = this.items[b]!;
    this.items[a] = qb;
    this.items[b] = qa;
    qa.slot = b;
    qb.slot = a;
  }
}
