// ObjectProxy<T> under `tsc --strict`: compiled by the normal build (never
// run: every function here is only type-checked). Each `@ts-expect-error`
// line is a wrong call the types must reject; if one compiled, tsc would
// fail on the unused directive.

/* eslint-disable @typescript-eslint/no-unsafe-call -- the calls on unknown names are the errors those lines prove */

import type { ObjectClient } from '../lib/objects/client.js';
import type { ObjectProxy } from '../lib/objects/proxy.js';

class Child {
  num = 3;
  method(x: number): number {
    return x + this.num;
  }
}

class ToWrap {
  num = 1;
  label = 'w';
  child = new Child();
  _secret = 'hidden';
  do_stuff(s: string): string {
    return s;
  }
  async later(n: number): Promise<number[]> {
    return [n];
  }
  _private(): void {}
}

class Counter {
  constructor(public n: number) {}
  inc(): number {
    return ++this.n;
  }
}

export async function typeChecks(objs: ObjectClient): Promise<void> {
  const w: ObjectProxy<ToWrap> = await objs.create<ToWrap>('ToWrap', 7);

  const s: string = await w.do_stuff('yay');
  const n: number = await w.num;
  const list: number[] = await w.later(2); // Promise<Promise<...>> flattened
  const m: number = await w.child.method(1);
  const cn: number = await w.child.num;
  await w.$set('num', 5);
  await w.$set('label', 'x');
  await w.child.$set('num', 4);
  const copy: { num: number; label: string } = await w.$copy();
  await w.$with({ timeout: 1000 }).do_stuff('x');
  await w.$release();
  void [s, n, list, m, cn, copy];

  // @ts-expect-error -- a wrong argument type
  await w.do_stuff(1);
  // @ts-expect-error -- too many arguments
  await w.do_stuff('a', 'b');
  // @ts-expect-error -- no such method
  await w.nothing();
  // @ts-expect-error -- the result of a method is a string, not a number
  const wrong: number = await w.do_stuff('x');
  // @ts-expect-error -- a field is not callable
  await w.num();
  // @ts-expect-error -- $set of a method
  await w.$set('do_stuff', 'x');
  // @ts-expect-error -- $set with the wrong value type
  await w.$set('num', 'five');
  // @ts-expect-error -- private (`_`) members are unreachable
  await w._secret;
  // @ts-expect-error -- private (`_`) methods too
  await w._private();
  // @ts-expect-error -- a member path has no $release
  await w.child.$release();
  // @ts-expect-error -- an unknown per-call option
  w.$with({ retries: 3 });
  void wrong;

  const mod = await objs.import<{ Counter: typeof Counter }>('counters');
  const c: ObjectProxy<Counter> = await mod.Counter.new(3);
  const next: number = await c.inc();
  void next;
  // @ts-expect-error -- the constructor takes a number
  await mod.Counter.new('3');

  {
    await using scoped = await objs.create<ToWrap>('ToWrap', 1);
    await scoped.do_stuff('x');
  }
}
