// The connections a full server may close for a newcomer, the one that has
// waited longest first (server.ts, evictOne). A connection moves to the back
// each time it has served a request, once per read: as a list threaded
// through the connections themselves that is a few links, where a Set's
// delete and add cost two hash lookups and, as deletions leave holes in its
// table, a rehash now and then (about 600 instructions per `add` request).

/** What the list threads through its members. */
export interface Evictable<T> {
  evictPrev: T | null;
  evictNext: T | null;
  evictListed: boolean;
}

export class EvictableList<T extends Evictable<T>> {
  private head: T | null = null;
  private tail: T | null = null;
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** The member that has been in the list longest, or null. */
  first(): T | null {
    return this.head;
  }

  /** `item` at the back: added, or moved there if already in. */
  add(item: T): void {
    if (item.evictListed) {
      if (this.tail === item) return;
      this.delete(item);
    }
    item.evictPrev = this.tail;
    item.evictNext = null;
    if (this.tail === null) this.head = item;
    else this.tail.evictNext = item;
    this.tail = item;
    item.evictListed = true;
    this.count++;
  }

  delete(item: T): void {
    if (!item.evictListed) return;
    const prev = item.evictPrev;
    const next = item.evictNext;
    if (prev === null) this.head = next;
    else prev.evictNext = next;
    if (next === null) this.tail = prev;
    else next.evictPrev = prev;
    item.evictPrev = null;
    item.evictNext = null;
    item.evictListed = false;
    this.count--;
  }
}
