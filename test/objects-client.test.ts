// ObjectClient and ObjectProxy against an object server on 127.0.0.1 port 0
// (a stand-in over a Map until the real ObjectServer lands): calls, reads,
// writes, chains in one round trip, pass-by-proxy both ways, release
// (explicit, `await using`, and by the FinalizationRegistry in batches, never
// while a call is pending), RELEASED and OWNER_GONE.

import t from 'tap';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { ObjectClient } from '../lib/objects/client.js';
import { isObjectProxy, type ObjectProxy } from '../lib/objects/proxy.js';
import { Fault, RemoteObjectError, RemoteObjectErrorCode, TransportError, TransportErrorCode } from '../lib/errors.js';
import { REF, SESSION_TOKEN } from '../lib/objects/wire.js';
import { closedPort, gate, pollUntil, turns, ManualClock, type Gate, failure } from './support.js';
import { realOwner, standIn, type StandIn } from './objects-client-standin.js';
import type { Counter } from './objects-client-counters.js';

// gc() without --expose-gc on the command line: the flag, then a fresh context picks the function up.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

let held: Gate<string> = gate<string>();

class Child {
  num = 3;
  method(x: number): number {
    return x + this.num;
  }
}

class ToWrap {
  num: number;
  child = new Child();
  _secret = 'hidden';
  constructor(n: number) {
    this.num = n;
  }
  do_stuff(s: string): string {
    return `${s}:${this.num}`;
  }
  same(other: unknown): boolean {
    return other === this;
  }
  numOf(other: ToWrap): number {
    return other.num;
  }
  sizeOf(m: Map<string, number>): number {
    return m.size;
  }
  makeMap(): Map<string, number> {
    return new Map([['a', 1]]);
  }
  makeChild(): Child {
    return new Child();
  }
  plain(): { a: number; b: number[] } {
    return { a: 1, b: [1, 2] };
  }
  echo(x: unknown): unknown {
    return x;
  }
  hold(): Promise<string> {
    return held.promise;
  }
}

const MODULES = { counters: new URL('./objects-client-counters.js', import.meta.url).href };

for (const [kind, owner] of [
  ['stand-in', standIn],
  ['ObjectServer', realOwner],
] as const) {
  async function setup(
    t: { teardown(fn: () => unknown): void },
    options: ConstructorParameters<typeof ObjectClient>[1] = {},
  ): Promise<{ s: StandIn; objs: ObjectClient }> {
    const s = await owner({ ToWrap, Child }, MODULES);
    const objs = new ObjectClient(s.url, options);
    t.teardown(async () => {
      await objs.close();
      await s.close();
    });
    return { s, objs };
  }

  t.test(`${kind}: create, call, read, write, copy and release; every request carries the same session header`, async (t) => {
    const { s, objs } = await setup(t);
    const w = await objs.create<ToWrap>('ToWrap', 7);
    t.ok(isObjectProxy(w));
    t.equal(w.$ref.type, 'ToWrap');
    t.equal(w.$ref.url, s.url);
    t.equal(await w.do_stuff('yay'), 'yay:7');
    t.equal(await w.num, 7, 'a member read is a thenable');
    await w.$set('num', 5);
    t.equal(await w.num, 5);
    const copy = (await w.$copy()) as Record<string, unknown>;
    t.match(copy, { num: 5 }, 'a copy of the public data');
    t.notOk('_secret' in copy, 'without the private members');
    t.notOk(isObjectProxy(copy));
    t.same(s.calls.get('objects.get'), 3, '$copy is one objects.get (empty path, return copy)');
    t.equal(s.objects(), 1);
    await w.$release();
    t.equal(s.objects(), 0, 'released on the owner');
    t.same(s.releases, [[w.$ref]]);
    t.ok(w.$released);
    t.equal(new Set(s.sessions).size, 1, 'one session for all the calls');
    t.match(s.sessions[0], SESSION_TOKEN);
    t.equal(s.sessions[0], objs.session);
  });

  t.test(`${kind}: a chain is one round trip: w.child.method(1) is one objects.call, w.child.num one objects.get`, async (t) => {
    const { s, objs } = await setup(t);
    const w = await objs.create<ToWrap>('ToWrap', 1);
    const before = s.calls.size === 0 ? 0 : [...s.calls.values()].reduce((a, b) => a + b, 0);
    t.equal(await w.child.method(1), 4);
    t.equal(await w.child.num, 3);
    const after = [...s.calls.values()].reduce((a, b) => a + b, 0);
    t.equal(after - before, 2, 'two awaits, two requests');
    t.equal(s.count('objects.call'), 1);
    t.equal(s.count('objects.get'), 1);
    await w.child.$set('num', 10);
    t.equal(await w.child.method(1), 11, 'a write through a member path');
  });

  t.test(`${kind}: the root proxy is not thenable, JSON gives its reference, a member path cannot be an argument`, async (t) => {
    const { s, objs } = await setup(t);
    const w = await objs.create<ToWrap>('ToWrap', 1);
    const calls = s.count('objects.get');
    t.equal(await (w as unknown), w, 'await proxy resolves to the proxy itself');
    t.same(JSON.parse(JSON.stringify(w)), w.$ref);
    t.equal(s.count('objects.get'), calls, 'none of that made a request');
    t.throws(() => w.echo(w.child as never), TypeError);
  });

  t.test(
    `${kind}: pass-by-proxy both ways: a proxy argument is the real object on its owner; a Map or class instance comes back as a proxy, a plain object as a copy`,
    async (t) => {
      const { objs } = await setup(t);
      const w = await objs.create<ToWrap>('ToWrap', 1);
      const v = await objs.create<ToWrap>('ToWrap', 9);
      t.equal(await w.same(w), true, 'the proxy arrived as the very object');
      t.equal(await w.same(v), false);
      t.equal(await w.numOf(v as never), 9, 'another proxy arrives as its object');
      const map = (await w.makeMap()) as unknown as ObjectProxy<Map<string, number>>;
      t.ok(isObjectProxy(map), 'a Map travels by reference');
      t.equal(map.$ref.type, 'Map');
      t.equal(await w.sizeOf(map as never), 1, 'and goes back as the Map itself');
      const child = (await w.makeChild()) as unknown as ObjectProxy<Child>;
      t.ok(isObjectProxy(child));
      t.equal(await child.method(2), 5);
      const plain = await w.plain();
      t.notOk(isObjectProxy(plain));
      t.same(plain, { a: 1, b: [1, 2] }, 'a plain object is a copy');
      const echoed = (await w.echo([w, { inner: v }])) as [ObjectProxy<ToWrap>, { inner: ObjectProxy<ToWrap> }];
      t.ok(Array.isArray(echoed), 'the array is a copy');
      t.ok(isObjectProxy(echoed[0]) && isObjectProxy(echoed[1].inner), 'references nested in arrays and structs both ways');
      t.equal(echoed[0].$ref[REF], w.$ref[REF]);
      t.equal(await echoed[1].inner.num, 9);
    },
  );

  t.test(`${kind}: a reference owned elsewhere gets the client of its url, one per url, with its own session`, async (t) => {
    const { objs } = await setup(t);
    const other = await standIn({ ToWrap });
    t.teardown(() => other.close());
    const foreign = other.refTo(new ToWrap(42));
    const w = await objs.create<ToWrap>('ToWrap', 1);
    const p1 = (await w.echo(foreign)) as ObjectProxy<ToWrap>;
    const p2 = (await w.echo(foreign)) as ObjectProxy<ToWrap>;
    t.equal(await p1.num, 42);
    t.equal(await p2.do_stuff('x'), 'x:42');
    t.equal(other.count('objects.get') + other.count('objects.call'), 2, 'the calls went to the owner');
    t.equal(new Set(other.sessions).size, 1, 'one client for that url');
    t.not(other.sessions[0], objs.session);
  });

  t.test(`${kind}: describe, renew and ping go to the owner of each reference`, async (t) => {
    const { s, objs } = await setup(t);
    const other = await standIn({ ToWrap });
    t.teardown(() => other.close());
    const w = await objs.create<ToWrap>('ToWrap', 1);
    const foreign = (await w.echo(other.refTo(new ToWrap(2)))) as ObjectProxy<ToWrap>;
    t.match(await objs.describe(w), { type: 'ToWrap' });
    t.match(await objs.describe(foreign), { type: 'ToWrap' });
    t.equal(other.count('objects.describe'), 1, "the foreign reference's owner was asked");
    t.equal(await objs.renew(w, foreign), 2);
    t.equal(s.count('objects.renew'), 1);
    t.equal(other.count('objects.renew'), 1);
    t.match(await objs.ping(), { ok: true });
  });

  t.test(`${kind}: await using releases at the end of the scope`, async (t) => {
    const { s, objs } = await setup(t);
    {
      await using w = await objs.create<ToWrap>('ToWrap', 2);
      t.equal(await w.num, 2);
      t.equal(s.objects(), 1);
    }
    t.equal(s.objects(), 0);
    t.equal(s.count('objects.release'), 1);
  });

  t.test(`${kind}: objs.import gives a module namespace; m.Counter.new(3) builds an instance on the owner`, async (t) => {
    const { s, objs } = await setup(t);
    const m = await objs.import<{ Counter: typeof Counter }>('counters');
    const c = await m.Counter.new(3);
    t.ok(isObjectProxy(c));
    t.equal(await c.inc(), 4);
    t.equal(await c.n, 4);
    t.equal(s.count('objects.call'), 2);
    const err = await failure(objs.import('fs'));
    t.match(err, { constructor: Fault, faultCode: -32013 });
  });

  t.test(`${kind}: $with carries per-call options: an aborted call rejects with TransportError ABORTED, the proxy stays usable`, async (t) => {
    const { objs } = await setup(t);
    held = gate<string>();
    const w = await objs.create<ToWrap>('ToWrap', 1);
    const ac = new AbortController();
    const pending = w.$with({ signal: ac.signal }).hold();
    await turns(2);
    ac.abort();
    const err = await failure(pending);
    t.match(err, { constructor: TransportError, code: TransportErrorCode.ABORTED });
    held.open('done');
    t.equal(await w.hold(), 'done');
    t.equal(await w.$with({ timeout: 60_000 }).do_stuff('a'), 'a:1');
  });

  t.test(`${kind}: $with({ timeout }) times a call out on the transport's clock; the session header stays on it`, async (t) => {
    const clock = new ManualClock();
    const { s, objs } = await setup(t, { clock });
    held = gate<string>();
    const w = await objs.create<ToWrap>('ToWrap', 1);
    const timingOut = failure(w.$with({ timeout: 50 }).hold());
    await pollUntil(() => s.count('objects.call') === 1, 'the held call to reach the owner');
    clock.advance(50);
    t.match(await timingOut, { constructor: TransportError, code: TransportErrorCode.TIMEOUT });
    held.open('late');
    t.equal(await w.do_stuff('x'), 'x:1', 'the proxy stays usable');
    t.equal(new Set(s.sessions).size, 1);
  });

  t.test(
    `${kind}: RELEASED: a call after $release fails here without a request; a reference the owner no longer knows fails with the fault as cause`,
    async (t) => {
      const { s, objs } = await setup(t);
      const w = await objs.create<ToWrap>('ToWrap', 1);
      await w.$release();
      const calls = s.count('objects.call');
      const local = await failure(w.do_stuff('x'));
      t.match(local, { constructor: RemoteObjectError, code: RemoteObjectErrorCode.RELEASED, ref: w.$ref[REF] });
      t.equal(s.count('objects.call'), calls, 'nothing sent');
      await failure(w.num as unknown as Promise<number>);
      await w.$release(); // twice: nothing more to do
      t.equal(s.count('objects.release'), 1);

      const v = await objs.create<ToWrap>('ToWrap', 1);
      s.dropAll(); // the owner dropped it (a lease that passed, say)
      const remote = await failure(v.do_stuff('x'));
      t.match(remote, { constructor: RemoteObjectError, code: RemoteObjectErrorCode.RELEASED, ref: v.$ref[REF] });
      t.match((remote as RemoteObjectError).cause, { constructor: Fault, faultCode: -32010 });
    },
  );

  t.test(`${kind}: OWNER_GONE once an owner that answered stops; a first call that cannot connect stays a TransportError`, async (t) => {
    const s = await owner({ ToWrap });
    const objs = new ObjectClient(s.url);
    t.teardown(() => objs.close());
    const w = await objs.create<ToWrap>('ToWrap', 1);
    t.equal(await w.num, 1);
    await s.close();
    const err = await failure(w.do_stuff('x'));
    t.match(err, { constructor: RemoteObjectError, code: RemoteObjectErrorCode.OWNER_GONE, ref: w.$ref[REF] });
    t.ok((err as RemoteObjectError).cause instanceof TransportError);
    const v = objs.proxy<ToWrap>({ ...w.$ref });
    await t.resolves(v[Symbol.asyncDispose](), 'the end of a scope does not throw for an owner that is gone');
    t.match(await failure(w.$release()), { code: RemoteObjectErrorCode.OWNER_GONE }, 'an explicit release says so');

    const never = new ObjectClient(`http://127.0.0.1:${await closedPort()}/RPC2`);
    t.teardown(() => never.close());
    t.match(await failure(never.create('ToWrap', 1)), { constructor: TransportError, code: TransportErrorCode.CONNECT });
  });

  /** Makes `n` proxies and drops them: only the stand-in's table and the client's registry know them after. */
  async function forgotten(objs: ObjectClient, n: number): Promise<void> {
    for (let i = 0; i < n; i++) await objs.create('ToWrap', i);
  }

  t.test(`${kind}: forgotten proxies are released by the FinalizationRegistry, many in one objects.release`, async (t) => {
    const { s, objs } = await setup(t);
    await forgotten(objs, 20);
    t.equal(s.objects(), 20);
    await pollUntil(
      () => {
        gc();
        return s.objects() === 0;
      },
      'the batch release of 20 forgotten proxies',
      10_000,
    );
    const refs = s.releases.reduce((n, batch) => n + batch.length, 0);
    t.equal(refs, 20);
    t.ok(s.releases.length < 20, `batched: ${s.releases.length} objects.release call(s) for 20 references`);
    t.equal(objs.stats().gcReleased, 20);
    t.equal(objs.stats().live, 0);
  });

  t.test(`${kind}: a proxy whose only holder is a pending call is not released before the call is answered`, async (t) => {
    const { s, objs } = await setup(t);
    held = gate<string>();
    const started = gate();
    // Nothing but the pending call refers to the proxy after this function returns.
    const pending = (async () => {
      const w = await objs.create<ToWrap>('ToWrap', 1);
      const p = w.hold();
      started.open();
      return p;
    })();
    await started.promise;
    await pollUntil(() => s.count('objects.call') === 1, 'the call to reach the owner');
    // Collect (several rounds, each with turns for the registry's callbacks and the batch).
    for (let i = 0; i < 20; i++) {
      gc();
      await turns(3);
    }
    t.equal(s.count('objects.release'), 0, 'no release while the call is pending');
    t.equal(objs.stats().pending, 1);
    held.open('answered');
    t.equal(await pending, 'answered');
    await pollUntil(
      () => {
        gc();
        return s.objects() === 0;
      },
      'the release once the call was answered',
      10_000,
    );
    t.equal(s.count('objects.release'), 1);
  });
}
