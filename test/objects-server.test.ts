// ObjectServer: the objects.* wire methods over a real loopback server
// (through ServerProxy, with and without a session header), and its table
// (sessions, leases on a ManualClock, counted release, dispose, caps) driven
// in process where a test needs many cycles.

import t from 'tap';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Fault, FaultCode } from '../lib/errors.js';
import { ServerProxy } from '../lib/client/proxy.js';
import { Request } from '../lib/server/request.js';
import { Server } from '../lib/server/server.js';
import { ObjectServer, type ObjectServerOptions } from '../lib/objects/server.js';
import { ForeignRef } from '../lib/objects/values.js';
import { ObjectFaultCode, REF, REF_ID, type RefStruct } from '../lib/objects/wire.js';
import { ManualClock, RawClient, post, turns } from './support.js';

// gc() without --expose-gc on the command line: the flag, then a fresh context picks the function up.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const SESSION = 'session-aaaaaaaaaaaaaaaa';
const OTHER = 'session-bbbbbbbbbbbbbbbb';

/** DisPy's doctest class: a constructor argument, a field, a method. */
class ToWrap {
  num: number;
  _secret = 'hidden by name';
  #truly = 'hidden by nature';
  constructor(num: number) {
    this.num = num;
  }
  do_stuff(what: string): string {
    return `${what} ${this.num}`;
  }
  peek(): string {
    return this.#truly;
  }
  /** Its own, and still never served: an Object.prototype name. */
  toString(): string {
    return `ToWrap(${this.num})`;
  }
}

/** A getter-based member: reachable because the class opts in. */
class Temperature {
  static remoteAccessors = true;
  celsius = 20;
  get fahrenheit(): number {
    return (this.celsius * 9) / 5 + 32;
  }
  set fahrenheit(f: number) {
    this.celsius = ((f - 32) * 5) / 9;
  }
}

/** The same getter on a class that does not opt in. */
class Closed {
  celsius = 20;
  get fahrenheit(): number {
    return (this.celsius * 9) / 5 + 32;
  }
}

class Child {
  constructor(readonly n: number) {}
  twice(): number {
    return this.n * 2;
  }
}

class Store {
  child = new Child(21);
  map = new Map([['a', 1]]);
  plain(): unknown {
    return { a: 1, list: [1, 'two', null], when: new Date(0), bytes: Buffer.from('hi') };
  }
  aMap(): Map<string, number> {
    return this.map;
  }
  nested(): unknown {
    return { n: 1, m: this.map, items: [this.child, { deep: new Set([1]) }] };
  }
  same(): Child {
    return this.child;
  }
  echo(x: unknown): unknown {
    return x;
  }
  isChild(x: unknown): boolean {
    return x === this.child;
  }
  kind(x: unknown): string {
    return x instanceof ForeignRef ? `foreign ${x.type} at ${x.url}` : typeof x;
  }
  fn(): () => number {
    return () => 1;
  }
  async later(): Promise<Child> {
    return this.child;
  }
  fail(): never {
    throw new RangeError('bad range');
  }
}

/** Counts its disposals. */
class Resource {
  static disposed = 0;
  [Symbol.dispose](): void {
    Resource.disposed++;
  }
}

class AsyncResource {
  static disposed = 0;
  async [Symbol.asyncDispose](): Promise<void> {
    await Promise.resolve();
    AsyncResource.disposed++;
  }
}

class BadResource {
  [Symbol.dispose](): void {
    throw new Error('dispose failed');
  }
}

let constructed = 0;
class Counted {
  constructor() {
    constructed++;
  }
}

const classes = { ToWrap, Temperature, Closed, Store, Resource, AsyncResource, BadResource, Counted };

async function serve(t: { teardown(fn: () => unknown): void }, options: ObjectServerOptions = {}) {
  const objects = new ObjectServer({ classes, ...options });
  const server = new Server({ handlers: [objects], onError: () => {} });
  const { port } = await server.listen(0, '127.0.0.1');
  const url = `http://127.0.0.1:${port}/RPC2`;
  const plain = new ServerProxy(url);
  const session = (token: string) => plain.withOptions({ headers: { 'X-Object-Session': token } });
  t.teardown(async () => {
    await plain.close();
    await server.close();
    objects.close();
  });
  return { objects, server, port, url, plain, s: session(SESSION), other: session(OTHER) };
}

/** In process, without a socket: `request` carries the session header when given. */
function direct(objects: ObjectServer, token?: string) {
  const headers = ['host', 'objects.test'];
  if (token !== undefined) headers.push('x-object-session', token);
  const request = new Request(
    {
      method: 'POST',
      target: '/RPC2',
      status: 0,
      reason: '',
      versionMinor: 1,
      headers,
      contentLength: 0,
      chunked: false,
      keepAlive: true,
      expectContinue: false,
    },
    '127.0.0.1',
    1,
  );
  return (method: string, ...params: unknown[]): Promise<unknown> => Promise.resolve().then(() => objects.call(method, params as never, request));
}

function faultOf(code: number): { name: string; faultCode: number } {
  return { name: 'Fault', faultCode: code };
}

t.test("DisPy's doctest: two instances keep their own state; read, write, call; a getter; the table shows them", async (t) => {
  const { s, objects } = await serve(t);
  const a = (await s.call('objects.create', 'ToWrap', [7])) as unknown as RefStruct;
  const b = (await s.call('objects.create', 'ToWrap', [11])) as unknown as RefStruct;
  t.match(a, { [REF]: REF_ID, type: 'ToWrap', url: /^http:\/\/127\.0\.0\.1:\d+\/RPC2$/ });
  t.not(a[REF], b[REF]);
  t.equal(await s.call('objects.get', a, 'num'), 7);
  t.equal(await s.call('objects.get', b, 'num'), 11);
  t.equal(await s.call('objects.set', a, 'num', 5), true);
  t.equal(await s.call('objects.get', a, 'num'), 5);
  t.equal(await s.call('objects.get', b, 'num'), 11, 'the other instance keeps its state');
  t.equal(await s.call('objects.call', a, 'do_stuff', ['yay']), 'yay 5');
  t.equal(await s.call('objects.call', b, 'peek', []), 'hidden by nature', '#private is used by the class, never reached from outside');

  const temp = (await s.call('objects.create', 'Temperature', [])) as unknown as RefStruct;
  t.equal(await s.call('objects.get', temp, 'fahrenheit'), 68);
  t.equal(await s.call('objects.set', temp, 'fahrenheit', 212), true);
  t.equal(await s.call('objects.get', temp, 'celsius'), 100);
  const closed = (await s.call('objects.create', 'Closed', [])) as unknown as RefStruct;
  await t.rejects(s.call('objects.get', closed, 'fahrenheit'), faultOf(ObjectFaultCode.NO_MEMBER), 'no getter on a class that did not opt in');

  t.same(await s.call('objects.describe', a), { type: 'ToWrap', methods: ['do_stuff', 'peek'], members: ['num'] });
  t.same(await s.call('objects.describe', temp), { type: 'Temperature', methods: [], members: ['celsius', 'fahrenheit'] });

  const rows = (await s.call('objects.list')) as { id: string; type: string; session: string; refs: number }[];
  t.same(
    rows.map((r) => [r.id, r.type, r.session, r.refs]),
    [
      [a[REF], 'ToWrap', SESSION, 1],
      [b[REF], 'ToWrap', SESSION, 1],
      [temp[REF], 'Temperature', SESSION, 1],
      [closed[REF], 'Closed', SESSION, 1],
    ],
  );
  t.match(rows[0], { ageMs: Number, idleMs: Number });
  t.match(objects.stats(), { sessions: 1, objects: 4, refs: 4 });
  t.same(await s.call('objects.ping'), { ok: true, session: SESSION });
});

t.test('results: data by value, anything else by reference, at any depth; options.return asks for either', async (t) => {
  const { s } = await serve(t);
  const store = (await s.call('objects.create', 'Store', [])) as unknown as RefStruct;
  t.same(await s.call('objects.call', store, 'plain', []), { a: 1, list: [1, 'two', null], when: new Date(0), bytes: Buffer.from('hi') });
  t.match(await s.call('objects.call', store, 'aMap', []), { [REF]: REF_ID, type: 'Map' });
  t.match(await s.call('objects.get', store, 'child'), { [REF]: REF_ID, type: 'Child' });
  t.match(await s.call('objects.call', store, 'fn', []), { [REF]: REF_ID, type: 'Function' });
  t.match(await s.call('objects.call', store, 'later', []), { type: 'Child' }, 'a promise is awaited');
  const nested = (await s.call('objects.call', store, 'nested', [])) as unknown as { n: number; m: RefStruct; items: [RefStruct, { deep: RefStruct }] };
  t.equal(nested.n, 1);
  t.match(nested.m, { [REF]: REF_ID, type: 'Map' }, 'a Map inside a plain object is a reference in that member');
  t.match(nested.items[0], { type: 'Child' });
  t.match(nested.items[1].deep, { type: 'Set' });
  t.same(await s.call('objects.get', store, 'child', { return: 'copy' }), { n: 21 });
  t.same(await s.call('objects.call', store, 'aMap', [], { return: 'copy' }), { a: 1 });
  t.same(await s.call('objects.get', store, '', { return: 'copy' }), { child: { n: 21 }, map: { a: 1 } }, "'' is the object itself");
  t.match(await s.call('objects.call', store, 'plain', [], { return: 'ref' }), { type: 'Object' });
  t.equal(await s.call('objects.call', store, 'child.twice', []), 42, 'a dotted path resolves on the owner in one call');
  const proto = JSON.parse('{"__proto__": "p", "a": [1]}') as object;
  t.same(await s.call('objects.call', store, 'echo', [proto]), proto, 'a struct member named __proto__ goes back as a member');
  t.same(await s.call('objects.call', store, 'echo', [proto], { return: 'copy' }), proto);
  await t.rejects(s.call('objects.get', store, 'child', { return: 'bogus' }), faultOf(FaultCode.INVALID_PARAMS));
  await t.rejects(s.call('objects.call', store, 'fn', [], { return: 'copy' }), faultOf(FaultCode.INVALID_PARAMS));
  await t.rejects(s.call('objects.call', store, 'fail', []), { name: 'Fault', faultCode: FaultCode.APPLICATION_ERROR, faultString: 'RangeError: bad range' });
});

t.test('a reference passed back arrives as the real object; one of another server as a ForeignRef; identity survives', async (t) => {
  const { s } = await serve(t);
  const store = (await s.call('objects.create', 'Store', [])) as unknown as RefStruct;
  const child = (await s.call('objects.get', store, 'child')) as unknown as RefStruct;
  const again = (await s.call('objects.call', store, 'same', [])) as unknown as RefStruct;
  t.equal(again[REF], child[REF], 'the same object in one session is the same reference');
  t.equal(await s.call('objects.call', store, 'isChild', [child]), true);
  t.equal(await s.call('objects.call', store, 'isChild', [{ wrapped: [child] }]), false, 'nested: converted, but not the child itself');
  const foreign = { [REF]: 'A'.repeat(22), type: 'Thing', url: 'http://elsewhere.example:1/RPC2' };
  t.equal(await s.call('objects.call', store, 'kind', [foreign]), 'foreign Thing at http://elsewhere.example:1/RPC2');
  await t.rejects(
    s.call('objects.call', store, 'isChild', [{ ...child, [REF]: 'B'.repeat(22) }]),
    faultOf(ObjectFaultCode.RELEASED),
    'an unknown id under our url',
  );
  const rows = (await s.call('objects.list')) as { id: string; refs: number }[];
  t.equal(rows.find((r) => r.id === child[REF])?.refs, 2, 'handed out twice: counted twice');
});

t.test('release counts: a reference handed out twice needs two releases; [ref, count] pairs; released is RELEASED', async (t) => {
  Resource.disposed = 0;
  const { s, objects } = await serve(t);
  const store = (await s.call('objects.create', 'Store', [])) as unknown as RefStruct;
  const child = (await s.call('objects.get', store, 'child')) as unknown as RefStruct;
  await s.call('objects.get', store, 'child');
  t.equal(await s.call('objects.release', [child]), 1);
  t.equal(await s.call('objects.call', child, 'twice', []), 42, 'still held once');
  t.equal(await s.call('objects.release', [child]), 1);
  await t.rejects(s.call('objects.call', child, 'twice', []), faultOf(ObjectFaultCode.RELEASED));
  t.equal(await s.call('objects.release', [child]), 0, 'releasing again is a no-op');

  const r = (await s.call('objects.create', 'Resource', [])) as unknown as RefStruct;
  await s.call('objects.get', r, '', { return: 'ref' });
  await s.call('objects.get', r, '', { return: 'ref' });
  t.equal(await s.call('objects.release', [[r, 2]]), 2);
  t.equal(Resource.disposed, 0);
  t.equal(await s.call('objects.release', [[r, 5]]), 1, 'at most what it holds');
  t.equal(Resource.disposed, 1, 'disposed at the last release');
  t.equal(await s.call('objects.release', [[r, 1]]), 0);
  t.equal(Resource.disposed, 1, 'and only once');
  await t.rejects(s.call('objects.release', [[store, 0]]), faultOf(FaultCode.INVALID_PARAMS));
  await t.rejects(s.call('objects.release', 'x'), faultOf(FaultCode.INVALID_PARAMS));
  t.equal(await s.call('objects.release', [store]), 1);
  t.match(objects.stats(), { sessions: 0, objects: 0, refs: 0 });
});

/** A resource whose asyncDispose never settles. */
class Stuck {
  [Symbol.asyncDispose](): Promise<void> {
    return new Promise(() => undefined);
  }
}

t.test('a dispose that never settles holds objects.release only until disposeTimeout, and is reported', async (t) => {
  const clock = new ManualClock();
  const errors: unknown[] = [];
  const objects = new ObjectServer({ classes: { Stuck }, clock, disposeTimeout: 5000, onError: (err) => errors.push(err) });
  t.teardown(() => objects.close());
  const s = direct(objects, SESSION);
  const ref = (await s('objects.create', 'Stuck', [])) as RefStruct;
  let answered: unknown = 'pending';
  const release = s('objects.release', [ref]).then((n) => (answered = n));
  await turns(5);
  t.equal(answered, 'pending', 'the release waits for the dispose it started');
  clock.advance(5000);
  await release;
  t.equal(answered, 1, 'then answers');
  t.match(errors, [{ message: /disposeTimeout 5000 ms/ }]);
  t.equal(clock.pending, 0, 'no timer left');
});

t.test('async dispose is awaited by release; a throwing dispose is reported, not thrown at the caller', async (t) => {
  AsyncResource.disposed = 0;
  const errors: unknown[] = [];
  const { s } = await serve(t, { onError: (err) => errors.push(err) });
  const a = (await s.call('objects.create', 'AsyncResource', [])) as unknown as RefStruct;
  t.equal(await s.call('objects.release', [a]), 1);
  t.equal(AsyncResource.disposed, 1);
  const bad = (await s.call('objects.create', 'BadResource', [])) as unknown as RefStruct;
  t.equal(await s.call('objects.release', [bad]), 1);
  t.match(errors, [{ message: 'dispose failed' }]);
  t.same(await s.call('objects.ping'), { ok: true, session: SESSION });
});

t.test('leases: a session idle for sessionTtl is released (its objects disposed), renewed by use and by objects.renew; one timer', async (t) => {
  Resource.disposed = 0;
  const clock = new ManualClock();
  const objects = new ObjectServer({ classes, clock, sessionTtl: 1000 });
  t.teardown(() => objects.close());
  const s = direct(objects, SESSION);
  const plain = direct(objects);
  t.equal(clock.pending, 0, 'no timer while the table is empty');
  const a = (await s('objects.create', 'Resource', [])) as RefStruct;
  await s('objects.create', 'Resource', []);
  const loose = (await plain('objects.create', 'Resource', [])) as RefStruct;
  t.equal(clock.pending, 1, 'one timer for every lease');
  clock.advance(600);
  await s('objects.ping');
  await plain('objects.renew', [loose]);
  clock.advance(600);
  t.equal(objects.stats().refs, 3, 'renewed by a call of the session and by objects.renew');
  // A lease ends within one sweep (a quarter of the TTL here) after sessionTtl.
  clock.advance(650);
  t.match(objects.stats(), { refs: 0, sessions: 0, expired: 2 });
  t.equal(Resource.disposed, 3, 'each disposed at expiry');
  t.equal(clock.pending, 0, 'the timer stops with the table empty');
  await t.rejects(s('objects.get', a, ''), faultOf(ObjectFaultCode.RELEASED));
  t.equal(await plain('objects.renew', [loose]), 0);
});

t.test('caps: maxRefsPerSession, maxSessions and maxRefs answer LIMIT and create nothing', async (t) => {
  const objects = new ObjectServer({ classes, maxRefsPerSession: 2, maxSessions: 3, maxRefs: 7 });
  t.teardown(() => objects.close());
  const s = direct(objects, SESSION);
  constructed = 0;
  await s('objects.create', 'Counted', []);
  await s('objects.create', 'Counted', []);
  await t.rejects(s('objects.create', 'Counted', []), faultOf(ObjectFaultCode.LIMIT));
  t.equal(constructed, 2, 'the constructor never ran for the refused one');
  const store = direct(objects, OTHER);
  const ref = (await store('objects.create', 'Store', [])) as RefStruct;
  await t.rejects(
    store('objects.call', ref, 'nested', []),
    faultOf(ObjectFaultCode.LIMIT),
    'a result needing three new references in a session with room for one',
  );
  t.equal(objects.stats().refs, 3, 'and none of them was added');
  // Header-less references: each its own session, together held to one session's cap, taking no session slot.
  await direct(objects)('objects.create', 'Counted', []);
  await direct(objects)('objects.create', 'Counted', []);
  await t.rejects(direct(objects)('objects.create', 'Counted', []), faultOf(ObjectFaultCode.LIMIT), 'a third header-less reference');
  await direct(objects, 'session-cccccccccccccccc')('objects.create', 'Counted', []);
  await t.rejects(direct(objects, 'session-dddddddddddddddd')('objects.create', 'Counted', []), faultOf(ObjectFaultCode.LIMIT), 'a fourth session');
  await direct(objects, 'session-cccccccccccccccc')('objects.create', 'Counted', []);
  t.equal(objects.stats().refs, 7);
  await t.rejects(store('objects.create', 'Counted', []), faultOf(ObjectFaultCode.LIMIT), 'an eighth reference in the table');
  t.match(objects.stats(), { sessions: 5, refs: 7 });
});

t.test('hostile calls are each a fault, and the server keeps serving', async (t) => {
  const { s, other, plain, port } = await serve(t);
  const w = (await s.call('objects.create', 'ToWrap', [1])) as unknown as RefStruct;
  const cases: [string, () => Promise<unknown>, number][] = [
    ['unknown ref', () => s.call('objects.get', { [REF]: 'x'.repeat(22), type: 'ToWrap', url: w.url }, 'num'), ObjectFaultCode.RELEASED],
    ['forged short id', () => s.call('objects.get', { ...w, [REF]: 'abc' }, 'num'), ObjectFaultCode.RELEASED],
    ['a non-string id', () => s.call('objects.get', { ...w, [REF]: 5 }, 'num'), FaultCode.INVALID_PARAMS],
    ['a non-string id in an argument', () => s.call('objects.call', w, 'do_stuff', [{ [REF]: [] }]), FaultCode.INVALID_PARAMS],
    ['not a ref at all', () => s.call('objects.get', 'num', 'num'), ObjectFaultCode.RELEASED],
    ['__proto__', () => s.call('objects.get', w, '__proto__'), ObjectFaultCode.NO_MEMBER],
    ['constructor', () => s.call('objects.get', w, 'constructor'), ObjectFaultCode.NO_MEMBER],
    ['constructor.constructor', () => s.call('objects.call', w, 'constructor.constructor', ['return process']), ObjectFaultCode.NO_MEMBER],
    ['prototype', () => s.call('objects.get', w, 'do_stuff.prototype'), ObjectFaultCode.NO_MEMBER],
    ['toString', () => s.call('objects.call', w, 'toString', []), ObjectFaultCode.NO_MEMBER],
    ['hasOwnProperty', () => s.call('objects.call', w, 'hasOwnProperty', ['num']), ObjectFaultCode.NO_MEMBER],
    ['a _name', () => s.call('objects.get', w, '_secret'), ObjectFaultCode.NO_MEMBER],
    ['#private', () => s.call('objects.get', w, '#truly'), ObjectFaultCode.NO_MEMBER],
    ['a method bind', () => s.call('objects.call', w, 'do_stuff.bind', []), ObjectFaultCode.NO_MEMBER],
    ['a missing member', () => s.call('objects.get', w, 'nope'), ObjectFaultCode.NO_MEMBER],
    ['a path through a number', () => s.call('objects.get', w, 'num.x'), ObjectFaultCode.NO_MEMBER],
    ['set a method', () => s.call('objects.set', w, 'do_stuff', 1), ObjectFaultCode.NO_MEMBER],
    ['set a new field', () => s.call('objects.set', w, 'added', 1), ObjectFaultCode.NO_MEMBER],
    ['set __proto__', () => s.call('objects.set', w, '__proto__', {}), ObjectFaultCode.NO_MEMBER],
    ['another session', () => other.call('objects.get', w, 'num'), ObjectFaultCode.OTHER_SESSION],
    ['no session', () => plain.call('objects.get', w, 'num'), ObjectFaultCode.OTHER_SESSION],
    ["another session's release", () => other.call('objects.release', [w]), ObjectFaultCode.OTHER_SESSION],
    ['a class not offered', () => s.call('objects.create', 'Function', ['return 1']), ObjectFaultCode.NOT_OFFERED],
    ['__proto__ as a class name', () => s.call('objects.create', '__proto__', []), ObjectFaultCode.NOT_OFFERED],
    ['a module not offered', () => s.call('objects.import', 'node:child_process'), ObjectFaultCode.NOT_OFFERED],
    ['args not an array', () => s.call('objects.call', w, 'do_stuff', 'x'), FaultCode.INVALID_PARAMS],
  ];
  for (const [name, run, code] of cases) await t.rejects(run(), faultOf(code), name);
  const bad = plain.withOptions({ headers: { 'X-Object-Session': 'short' } });
  await t.rejects(bad.call('objects.ping'), faultOf(FaultCode.INVALID_PARAMS), 'a malformed session token');

  let deep: unknown = 1;
  for (let i = 0; i < 200; i++) deep = [deep];
  const c = await RawClient.open(port);
  const body = `<?xml version="1.0"?><methodCall><methodName>objects.call</methodName><params><param><value>${'<array><data><value>'.repeat(5000)}1${'</value></data></array>'.repeat(5000)}</value></param></params></methodCall>`;
  c.write(post('/RPC2', body));
  const [r] = await c.responsesCount(1);
  c.destroy();
  t.match(r!.text(), /faultCode/, 'deeply nested arguments: a fault');
  t.equal(await s.call('objects.get', w, 'num'), 1, 'still serving');
});

t.test('objects.import loads allow-listed modules only; a class in one is constructed with ".new"', async (t) => {
  const { s } = await serve(t, { modules: { counter: new URL('./fixtures/objects-module.js', import.meta.url).href } });
  const m = (await s.call('objects.import', 'counter')) as unknown as RefStruct;
  t.match(m, { [REF]: REF_ID, type: 'counter' });
  t.equal(await s.call('objects.call', m, 'greet', ['you']), 'hello, you');
  t.equal(await s.call('objects.get', m, 'answer'), 42);
  const c = (await s.call('objects.call', m, 'Counter.new', [3])) as unknown as RefStruct;
  t.match(c, { type: 'Counter' });
  t.equal(await s.call('objects.call', c, 'increment', [2]), 5);
  await t.rejects(s.call('objects.call', m, 'Counter', [3]), faultOf(ObjectFaultCode.NO_MEMBER), 'a class is constructed, never called');
  await t.rejects(s.call('objects.get', m, 'Counter.prototype'), faultOf(ObjectFaultCode.NO_MEMBER), "a class's prototype");
  await t.rejects(s.call('objects.get', m, 'greet.caller'), faultOf(ObjectFaultCode.NO_MEMBER));
  t.equal(await s.call('objects.get', m, 'Counter.name'), 'Counter', "a function's own name is a plain field");
  const again = (await s.call('objects.import', 'counter')) as unknown as RefStruct;
  t.equal(again[REF], m[REF], 'one namespace, one reference');
});

t.test('objects.* sit beside the user methods and system.* on one path', async (t) => {
  const { objects, s } = await serve(t);
  objects.registerFunction((a: number, b: number) => a + b, 'add');
  t.equal(await s.call('add', 1, 2), 3);
  const names = (await s.call('system.listMethods')) as string[];
  t.ok(names.includes('objects.create') && names.includes('add') && names.includes('system.multicall'));
  t.match(await s.call('system.methodHelp', 'objects.call'), /objects\.call\(ref, path, args/);
  const results = (await s.call('system.multicall', [
    { methodName: 'objects.create', params: ['ToWrap', [3]] },
    { methodName: 'objects.ping', params: [] },
  ])) as unknown[][];
  t.match(results, [[{ type: 'ToWrap' }], [{ ok: true, session: SESSION }]], 'multicall keeps the session');
});

t.test('headerless references are each their own session: usable by whoever holds them', async (t) => {
  const { plain, s, objects } = await serve(t);
  const w = (await plain.call('objects.create', 'ToWrap', [4])) as unknown as RefStruct;
  t.equal(await plain.call('objects.get', w, 'num'), 4);
  t.equal(await s.call('objects.get', w, 'num'), 4, 'the reference is the capability');
  await plain.call('objects.create', 'ToWrap', [5]);
  t.match(objects.stats(), { sessions: 2, refs: 2 });
  t.same(await plain.call('objects.list'), [], 'a caller without a session sees no rows');
  t.equal(objects.list().length, 2, 'the owner sees every row');
});

t.test('an ObjectServer refuses a non-loopback address unless allowRemote', async (t) => {
  const server = new Server({ handlers: [new ObjectServer({ classes })] });
  await t.rejects(server.listen(0, '0.0.0.0'), /non-loopback/);
  t.equal(server.address, null, 'nothing was bound');
  await server.close();
  t.doesNotThrow(() => new ObjectServer({ allowRemote: true }).checkListen({ host: '0.0.0.0', port: 0 }));
  t.doesNotThrow(() => new ObjectServer().checkListen({ host: '::1', port: 0 }));
  const { server: running } = await serve(t);
  t.doesNotThrow(() => running.addHandler(new ObjectServer()), 'addHandler on a server listening on loopback');
});

t.test('10,000 create/release cycles leave the table empty, and 10,000 more leave the heap where it was', async (t) => {
  Resource.disposed = 0;
  const clock = new ManualClock();
  const objects = new ObjectServer({ classes, clock });
  t.teardown(() => objects.close());
  const s = direct(objects, SESSION);
  const plain = direct(objects);
  let released = 0;
  const cycles = async () => {
    for (let i = 0; i < 10_000; i++) {
      const call = i % 2 === 0 ? s : plain;
      const ref = (await call('objects.create', 'Resource', [])) as RefStruct;
      released += (await call('objects.release', [ref])) as number;
    }
  };
  await cycles();
  t.equal(released, 10_000);
  t.match(objects.stats(), { sessions: 0, objects: 0, refs: 0, dropped: 10_000 });
  t.equal(Resource.disposed, 10_000);
  t.equal(clock.pending, 0);
  // Memory flat: after a collection, a second 10,000 leave the heap within 1 MB of the first's
  // (256 KiB: a leak of 26 bytes a cycle; a collected heap moves by far less). Collected
  // twice, a few turns apart: tap's async hooks keep a record of each promise until its destroy
  // hook has run, which is after the collection that found it dead.
  const settle = async (): Promise<void> => {
    gc();
    await turns(5);
    gc();
  };
  await settle();
  const before = process.memoryUsage().heapUsed;
  await cycles();
  await settle();
  const grown = process.memoryUsage().heapUsed - before;
  t.ok(grown < 256 << 10, `the heap grew by ${grown} bytes over 10,000 more cycles`);
  t.match(objects.stats(), { sessions: 0, objects: 0, refs: 0, dropped: 20_000 });
});

t.test('a fault code is a Fault instance for in-process callers too', async (t) => {
  const objects = new ObjectServer({ classes });
  t.teardown(() => objects.close());
  t.throws(() => objects.call('objects.create', [5] as never), Fault);
});
