// lib/server/evictable.ts: the list of connections a full server may close,
// the one that has waited longest first.

import t from 'tap';
import { EvictableList, type Evictable } from '../lib/server/evictable.js';

class Item implements Evictable<Item> {
  evictPrev: Item | null = null;
  evictNext: Item | null = null;
  evictListed = false;
  constructor(readonly name: string) {}
}

function order(list: EvictableList<Item>): string {
  const names: string[] = [];
  for (let item = list.first(); item !== null; item = item.evictNext) names.push(item.name);
  return names.join('');
}

t.test('keeps members in the order they were last added, once each', async (t) => {
  const list = new EvictableList<Item>();
  const [a, b, c] = [new Item('a'), new Item('b'), new Item('c')];
  t.equal(list.first(), null);
  list.add(a);
  list.add(b);
  list.add(c);
  t.equal(order(list), 'abc');
  list.add(a);
  t.equal(order(list), 'bca', 'added again: moved to the back');
  list.add(a);
  t.equal(order(list), 'bca', 'already at the back: stays');
  list.delete(c);
  t.equal(order(list), 'ba');
  list.delete(c);
  t.equal(list.size, 2, 'deleting a non-member changes nothing');
  list.delete(b);
  list.delete(a);
  t.equal(list.first(), null);
  t.equal(list.size, 0);
  list.add(c);
  t.equal(order(list), 'c');
});

t.test('agrees with a Set used the same way (delete, then add to go to the back)', async (t) => {
  const items = Array.from({ length: 8 }, (_, i) => new Item(String(i)));
  const list = new EvictableList<Item>();
  const set = new Set<Item>();
  let x = 12345;
  for (let step = 0; step < 5000; step++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    const item = items[x % items.length]!;
    set.delete(item);
    if ((x >>> 8) % 3 !== 0) {
      set.add(item);
      list.add(item);
    } else {
      list.delete(item);
    }
    if (order(list) !== [...set].map((i) => i.name).join('')) {
      t.fail(`differs at step ${step}`);
      return;
    }
  }
  t.equal(list.size, set.size);
});
