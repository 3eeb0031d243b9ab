// Large documents decoded and encoded on a WorkerPool (XmlRpcHandler's
// `offload` option, lib/rpc/codec-offload.ts): what goes to the pool and what
// stays inline (counted by a spy on the pool), the same answers as the inline
// codec for a corpus of documents and values (differential), answers in
// order on a pipelined connection, a full, closed or failing pool, and the
// event loop answering small calls while a large body is being decoded (a
// gate holds it). Then the XML-RPC classes across the clone, both ways, for
// registerOffloaded. Order comes from events and gates, never from sleeps.

import t from 'tap';
import { BroadcastChannel, type TransferListItem } from 'node:worker_threads';
import { FaultCode, OffloadErrorCode, WorkerPoolError } from '../lib/errors.js';
import { WorkerPool } from '../lib/offload/pool.js';
import type { CodecRunner } from '../lib/rpc/codec-offload.js';
import { XmlRpcDispatcher } from '../lib/rpc/dispatcher.js';
import { XmlRpcHandler, type XmlRpcHandlerOptions } from '../lib/rpc/handler.js';
import { encodesLargerThan, markClasses } from '../lib/rpc/marks.js';
import type { Request, Response } from '../lib/server/request.js';
import { loads } from '../lib/xmlrpc/decode.js';
import { dumps } from '../lib/xmlrpc/encode.js';
import { DateTime, Double, I8, type XmlRpcValue } from '../lib/xmlrpc/values.js';
import { ManualClock, RawClient, gate, pollUntil, post, startServer } from './support.js';
import { ACCEPTED_DOCS, LOL, MALFORMED, SAMPLES, call, mutate, nestedArrays, prng } from './xml-corpus.js';

const FIXTURES = new URL('./fixtures/large-payload-tasks.js', import.meta.url);

// One pool for the tests that need a plain working one; closed (and checked empty) at the end.
const shared = new WorkerPool({ size: 2 });
t.teardown(async () => {
  await shared.close({ force: true });
  if (shared.workers() !== 0) throw new Error(`${shared.workers()} worker(s) left`);
});

type Run = CodecRunner['run'];

/** Counts the tasks the handler sends, by export name, and passes them on (or to `through`). */
class Spy implements CodecRunner {
  readonly calls: string[] = [];
  constructor(private readonly through: Run = (m, e, a, o) => shared.run(m, e, a, o)) {}
  run(module: string | URL, exportName: string, args: readonly unknown[], options?: { transfer?: readonly TransferListItem[] }): Promise<unknown> {
    this.calls.push(exportName);
    return this.through(module, exportName, args, options);
  }
  count(name: string): number {
    return this.calls.filter((c) => c === name).length;
  }
}

/** Every detail a value's class and content can differ in: prototypes, Buffer versus Uint8Array, -0, bigint. */
function describe(v: unknown): string {
  if (v === null || typeof v !== 'object') {
    if (typeof v === 'number' && Object.is(v, -0)) return '-0';
    return typeof v === 'bigint' ? `${v}n` : typeof v === 'string' ? JSON.stringify(v) : String(v);
  }
  if (v instanceof Double) return `Double(${describe(v.value)})`;
  if (v instanceof I8) return `I8(${v.value})`;
  if (v instanceof DateTime) return `DateTime(${v.value})`;
  if (v instanceof Date) return `Date(${v.getTime()})`;
  if (Buffer.isBuffer(v)) return `Buffer(${v.toString('hex')})`;
  if (ArrayBuffer.isView(v)) return `${v.constructor.name}(${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex')})`;
  if (Array.isArray(v)) return `[${v.map(describe).join(',')}]`;
  const proto = Object.getPrototypeOf(v) as object | null;
  const name = proto === null ? 'null' : proto === Object.prototype ? 'Object' : 'other';
  return `${name}{${Object.keys(v)
    .map((k) => `${JSON.stringify(k)}:${describe((v as Record<string, unknown>)[k])}`)
    .join(',')}}`;
}

/**
 * Answers `echo` with its first param, `len` with its length, `big` with a
 * string of that many x's, anything else with its params; logs each call's
 * params as decoded.
 */
class Recorder extends XmlRpcHandler {
  readonly seen: string[] = [];
  result: ((method: string, params: XmlRpcValue[]) => unknown) | null = null;
  override call(method: string, params: XmlRpcValue[]): unknown {
    this.seen.push(`${method} ${describe(params)}`);
    if (this.result !== null) return this.result(method, params);
    if (method === 'echo') return params[0];
    if (method === 'len') return (params[0] as string).length;
    if (method === 'big') return 'x'.repeat(params[0] as number);
    return params;
  }
}

function request(body: Buffer): Request {
  return { method: 'POST', path: '/RPC2', body, headers: [] } as unknown as Request;
}

interface Answer {
  body: string;
  error: string;
}

async function answer(handler: XmlRpcHandler, body: Buffer): Promise<Answer> {
  const r: Response = await handler.handle(request(body));
  const error = r.error === undefined ? '' : r.error instanceof Error ? `${r.error.name}: ${r.error.message}` : JSON.stringify(r.error);
  return { body: Buffer.from(r.body ?? '').toString('latin1'), error };
}

/** A copy of `bytes` in an ArrayBuffer of its own (as the server's joined bodies are), which the handler may move. */
function own(bytes: Buffer): Buffer {
  const copy = Buffer.allocUnsafeSlow(bytes.length);
  bytes.copy(copy);
  return copy;
}

function bytesOf(doc: string | Buffer): Buffer {
  return typeof doc === 'string' ? Buffer.from(doc, 'utf8') : doc;
}

function faultOf(body: string): { faultCode: number; faultString: string } {
  try {
    loads(Buffer.from(body, 'latin1'));
  } catch (err) {
    const { faultCode, faultString } = err as { faultCode: number; faultString: string };
    return { faultCode, faultString };
  }
  throw new Error(`not a fault: ${body}`);
}

const big = (n: number) => 'b'.repeat(n);

t.test('a body over the threshold is decoded on the pool and a result over it encoded there; smaller ones stay inline', async (t) => {
  const spy = new Spy();
  const handler = new Recorder({ offload: { pool: spy, threshold: 1000 } });
  t.same(loads((await answer(handler, Buffer.from(dumps([1, 2], 'add')))).body).params, [[1, 2]]);
  t.same(spy.calls, [], 'small body, small result: inline');
  t.same(loads((await answer(handler, Buffer.from(dumps([big(2000)], 'echo')))).body).params, [big(2000)]);
  t.same(spy.calls, ['decodeCall', 'encodeResponse'], 'large body, large result: both on the pool');
  spy.calls.length = 0;
  t.same(loads((await answer(handler, Buffer.from(dumps([5000], 'big')))).body).params, ['x'.repeat(5000)]);
  t.same(spy.calls, ['encodeResponse'], 'small body, large result');
  spy.calls.length = 0;
  t.same(loads((await answer(handler, Buffer.from(dumps([big(2000)], 'len')))).body).params, [2000]);
  t.same(spy.calls, ['decodeCall'], 'large body, small result');
  spy.calls.length = 0;
  const under = Buffer.from(dumps([big(800)], 'len'));
  t.ok(under.length <= 1000);
  t.same(loads((await answer(handler, under)).body).params, [800]);
  t.same(spy.calls, [], 'a body of at most 1000 bytes: inline');
});

t.test('the body moved to the worker comes back: request.body is whole when the method runs', async (t) => {
  let seen = '';
  const handler = new (class extends XmlRpcHandler {
    override call(_method: string, _params: XmlRpcValue[], req?: Request): unknown {
      seen = req!.body.toString('latin1');
      return 1;
    }
  })({ offload: { pool: new Spy(), threshold: 0 } });
  const doc = dumps([big(5000)], 'm');
  const body = own(Buffer.from(doc));
  const req = request(body);
  await handler.handle(req);
  t.equal(body.byteLength, 0, 'the original view was moved (detached)');
  t.equal(seen, doc, 'the method saw the whole body');
  t.equal(req.body.toString('latin1'), doc);
});

/** Documents beyond the decoder's corpus: bad values, a __proto__ member, a large one, too deep, a response. */
// prettier-ignore
const EXTRA: Array<[string, string | Buffer]> = [
  ['__proto__ and constructor members', call('<value><struct><member><name>__proto__</name><value><int>1</int></value></member><member><name>constructor</name><value>c</value></member></struct></value>')],
  ['a bad int', call('<value><int>x1</int></value>')],
  ['an int out of range', call('<value><int>2147483648</int></value>')],
  ['a double out of range', call('<value><double>1e400</double></value>')],
  ['a boolean 2', call('<value><boolean>2</boolean></value>')],
  ['a bad dateTime', call('<value><dateTime.iso8601>20261301T00:00:00</dateTime.iso8601></value>')],
  ['bad base64', call('<value><base64>!!!</base64></value>')],
  ['an i8 out of range', call('<value><i8>9223372036854775808</i8></value>')],
  ['65 nested arrays', call(nestedArrays(65))],
  ['a billion laughs', LOL],
  ['a methodResponse', dumps([1], { methodResponse: true })],
  ['every type', dumps([1, -0.5, 'é😀<&>\r', true, null, 2n ** 40n, new Date(0), Buffer.from('bytes'), new Double(2), new I8(7), new DateTime('20260102T03:04:05'), new Map([['k', [1, { a: null }]]])], 'every')],
  ['a large document', dumps([Array.from({ length: 3000 }, (_, i) => ({ i, s: `s${i}`, d: i / 7, b: Buffer.from([i & 255]) }))], 'large')],
];

t.test('decoding on the pool gives the same answers as inline: values, faults, codes and messages (differential)', async (t) => {
  const handlers = new Map<string, { inline: Recorder; pooled: Recorder; spy: Spy }>();
  const pair = (options: XmlRpcHandlerOptions = {}) => {
    const key = JSON.stringify(options);
    let found = handlers.get(key);
    if (found === undefined) {
      const spy = new Spy();
      found = { inline: new Recorder(options), pooled: new Recorder({ ...options, offload: { pool: spy, threshold: 0 } }), spy };
      handlers.set(key, found);
    }
    return found;
  };
  const docs: Array<[string, Buffer, XmlRpcHandlerOptions?]> = [
    ...MALFORMED.map(([name, doc]): [string, Buffer] => [name, bytesOf(doc)]),
    ...ACCEPTED_DOCS.map(([name, doc, options]): [string, Buffer, XmlRpcHandlerOptions?] => [name, bytesOf(doc), options]),
    ...EXTRA.map(([name, doc]): [string, Buffer] => [name, bytesOf(doc)]),
    ...EXTRA.map(([name, doc]): [string, Buffer, XmlRpcHandlerOptions] => [`${name} with wrapDoubles`, bytesOf(doc), { wrapDoubles: true }]),
    ...SAMPLES.map((doc, i): [string, Buffer, XmlRpcHandlerOptions] => [`sample ${i} with maxBytes 300`, doc, { maxBytes: 300 }]),
    ['a sample with a bad maxDepth option', SAMPLES[0]!, { maxDepth: -1 }],
  ];
  const rand = prng(10);
  for (let i = 0; i < 300; i++) docs.push([`mutation ${i}`, mutate(SAMPLES[i % SAMPLES.length]!, rand), i % 2 === 0 ? {} : { wrapDoubles: true }]);
  let faults = 0;
  let sent = 0;
  for (const [i, [name, doc, options]] of docs.entries()) {
    const { inline, pooled, spy } = pair(options);
    const before = spy.count('decodeCall');
    const expected = await answer(inline, Buffer.from(doc));
    // Half the bodies own their ArrayBuffer (moved to the worker), half are views of a shared one (copied).
    const got = await answer(pooled, i % 2 === 0 ? own(doc) : Buffer.from(doc));
    if (got.body !== expected.body || got.error !== expected.error) {
      t.fail(name, { got, expected });
      continue;
    }
    t.equal(pooled.seen.at(-1), inline.seen.at(-1), name);
    if (expected.body.includes('<fault>')) faults++;
    if (spy.count('decodeCall') > before) sent++;
  }
  t.ok(faults > 150, `${faults} faults compared`);
  const nonEmpty = docs.filter(([, doc]) => doc.byteLength > 0).length;
  t.equal(sent, nonEmpty, 'every non-empty body went to the pool');
});

class Shape {
  constructor(readonly x: number) {}
}

t.test('encoding on the pool gives the same bytes as inline, and the same -32603 answer for what cannot be encoded', async (t) => {
  const cyclic: unknown[] = [1];
  cyclic.push(cyclic);
  const deep = JSON.parse('['.repeat(65) + ']'.repeat(65)) as unknown;
  const throwing = {
    get boom(): unknown {
      throw new RangeError('a getter threw');
    },
  };
  const wrapped = new Double(3);
  // prettier-ignore
  const values: Array<[string, () => unknown, 'pool' | 'inline']> = [
    ['a Double', () => new Double(2), 'pool'],
    ['an I8', () => new I8(-5), 'pool'],
    ['a DateTime', () => new DateTime('2026-01-02T03:04:05Z'), 'pool'],
    ['the same Double twice', () => [wrapped, { d: wrapped }], 'pool'],
    ['wrappers in a Map', () => new Map<string, unknown>([['d', new Double(1)], ['i', new I8(2n)]]), 'pool'],
    ['a Buffer, a Uint8Array, a Float64Array, an ArrayBuffer', () => [Buffer.from('hi'), new Uint8Array([1, 2]), new Float64Array([1.5]), new Uint8Array([9]).buffer], 'pool'],
    ['numbers', () => [0, -0, 2 ** 31, -(2 ** 31), 1e300, 5e-324, 0.1], 'pool'],
    ['a bigint, a Date, a string with escapes', () => [2n ** 62n, new Date(1e12), 'é😀<&>\r\n'], 'pool'],
    ['a null-prototype struct with undefined members', () => Object.assign(Object.create(null) as object, { a: 1, u: undefined, n: null }), 'pool'],
    ['a large array of structs', () => Array.from({ length: 2000 }, (_, i) => ({ i, d: new Double(i) })), 'pool'],
    ['NaN', () => NaN, 'pool'],
    ['a bigint out of range', () => [2n ** 64n], 'pool'],
    ['a lone surrogate', () => ({ s: '\ud800' }), 'pool'],
    ['a Map with a number key', () => new Map([[1, 'x']]), 'inline'],
    ['a function in an array', () => [1, () => 2], 'inline'],
    ['a symbol in a struct', () => ({ s: Symbol('s') }), 'inline'],
    ['a class instance', () => ({ shape: new Shape(1) }), 'inline'],
    ['a cycle', () => cyclic, 'inline'],
    ['65 levels', () => deep, 'inline'],
    ['a getter that throws', () => throwing, 'inline'],
  ];
  const body = Buffer.from(dumps([], 'value'));
  for (const [name, make, where] of values) {
    const inline = new Recorder();
    const spy = new Spy();
    const pooled = new Recorder({ offload: { pool: spy, threshold: 0 } });
    inline.result = pooled.result = make;
    const expected = await answer(inline, body);
    const got = await answer(pooled, body);
    t.same(got, expected, name);
    t.equal(spy.count('encodeResponse'), where === 'pool' ? 1 : 0, `${name}: encoded ${where}`);
  }
});

t.test('allowNone: false holds on the pool as inline: a nil in a large body is -32600, a nil in a large result -32603', async (t) => {
  const spy = new Spy();
  const pooled = new Recorder({ allowNone: false, offload: { pool: spy, threshold: 0 } });
  const inline = new Recorder({ allowNone: false });
  const body = Buffer.from(dumps([[big(100), null]], 'echo'));
  const refused = await answer(pooled, own(body));
  t.same(refused, await answer(inline, own(body)), 'the same answer');
  t.equal(faultOf(refused.body).faultCode, -32600);
  t.equal(spy.count('decodeCall'), 1, 'decoded on the pool');
  pooled.result = inline.result = () => [big(100), null];
  const call = Buffer.from(dumps([], 'result'));
  const unsent = await answer(pooled, own(call));
  t.same(unsent, await answer(inline, own(call)), 'the same answer');
  t.equal(faultOf(unsent.body).faultCode, -32603);
  t.equal(spy.count('encodeResponse'), 1, 'encoded on the pool');
  t.equal(pooled.seen.length, 1, 'the method ran once: for the call without nil');
});

t.test('one pipelined connection: a large call first, small ones after, answers in order', async (t) => {
  const spy = new Spy();
  const dispatcher = new XmlRpcDispatcher({ offload: { pool: spy, threshold: 1024 } });
  dispatcher.registerFunction((a: number, b: number) => a + b, 'add');
  dispatcher.registerFunction((x: unknown) => x, 'echo');
  const { server, port } = await startServer({ handlers: [dispatcher] });
  const client = await RawClient.open(port);
  t.teardown(async () => {
    client.destroy();
    await server.close();
  });
  const payload = big(200_000);
  const requests = [post('/RPC2', dumps([payload], 'echo'))];
  for (let i = 0; i < 5; i++) requests.push(post('/RPC2', dumps([i, 1], 'add')));
  requests.push(post('/RPC2', dumps([`${payload}2`], 'echo')), post('/RPC2', dumps([10, 1], 'add')));
  client.write(requests.join(''));
  const responses = await client.responsesCount(requests.length, 30_000);
  t.same(
    responses.map((r) => loads(r.body).params[0]),
    [payload, 1, 2, 3, 4, 5, `${payload}2`, 11],
  );
  t.equal(spy.count('decodeCall'), 2);
  t.equal(spy.count('encodeResponse'), 2);
});

t.test('while a large body is held in decoding on the pool, 200 add calls on another connection are answered', async (t) => {
  const held = gate();
  const spy = new Spy(async (m, e, a, o) => {
    if (e === 'decodeCall') await held.promise;
    return shared.run(m, e, a, o);
  });
  const completed: string[] = [];
  const dispatcher = new XmlRpcDispatcher({ offload: { pool: spy, threshold: 64 * 1024 } });
  dispatcher.registerFunction((a: number, b: number) => (completed.push('add'), a + b), 'add');
  dispatcher.registerFunction((x: string) => (completed.push('echo'), x.length), 'echo');
  const { server, port } = await startServer({ handlers: [dispatcher] });
  const large = await RawClient.open(port);
  const small = await RawClient.open(port);
  t.teardown(async () => {
    held.open();
    large.destroy();
    small.destroy();
    await server.close();
  });
  large.write(post('/RPC2', dumps([big(4 << 20)], 'echo')));
  await pollUntil(() => spy.count('decodeCall') === 1, 'the large body to reach the pool', 30_000);
  const adds: string[] = [];
  for (let i = 0; i < 200; i++) adds.push(post('/RPC2', dumps([i, 1], 'add')));
  small.write(adds.join(''));
  const answers = await small.responsesCount(200, 30_000);
  t.same(
    answers.map((r) => loads(r.body).params[0]),
    Array.from({ length: 200 }, (_, i) => i + 1),
    'every add answered',
  );
  t.same(completed, Array(200).fill('add'), 'the large call has not run yet: its body is still in decoding');
  t.equal(large.responses.length, 0);
  held.open();
  const [echo] = await large.responsesCount(1, 30_000);
  t.same(loads(echo!.body).params, [4 << 20]);
  t.equal(completed.at(-1), 'echo');
});

t.test('a full pool answers -32001 for a large body; a closed one decodes and encodes inline; a body lost in a worker answers -32603', async (t) => {
  const doc = Buffer.from(dumps([big(3000)], 'echo'));
  const expected = await answer(new Recorder(), doc);

  const full = new Spy(() => Promise.reject(new WorkerPoolError(OffloadErrorCode.QUEUE_FULL, 'the pool is busy and its queue is full (maxQueue 0)')));
  const busy = faultOf((await answer(new Recorder({ offload: { pool: full, threshold: 1000 } }), own(doc))).body);
  t.same(busy, { faultCode: FaultCode.SERVER_BUSY, faultString: 'server busy: try again later' });
  t.equal(busy.faultCode, -32001);
  const fullEncode = await answer(new Recorder({ offload: { pool: full, threshold: 1000 } }), Buffer.from(dumps([4000], 'big')));
  t.same(loads(fullEncode.body).params, ['x'.repeat(4000)], 'a result is never lost: encoded inline');
  t.same(full.calls, ['decodeCall', 'encodeResponse']);

  const pool = new WorkerPool({ size: 1 });
  await pool.close();
  const closed = new Spy((m, e, a, o) => pool.run(m, e, a, o));
  t.same(await answer(new Recorder({ offload: { pool: closed, threshold: 1000 } }), own(doc)), expected, 'closed: the same answer, inline');
  t.same(closed.calls, ['decodeCall', 'encodeResponse'], 'both were tried on the pool first');

  const lost = new Spy((_m, _e, args, options) => {
    structuredClone(args, { transfer: options?.transfer as ArrayBuffer[] }); // the body leaves, as to a worker
    return Promise.reject(new WorkerPoolError(OffloadErrorCode.WORKER_EXITED, 'the worker exited (code 1) while running the task', { exitCode: 1 }));
  });
  const gone = faultOf((await answer(new Recorder({ offload: { pool: lost, threshold: 1000 } }), own(doc))).body);
  t.equal(gone.faultCode, FaultCode.INTERNAL_ERROR);
  t.equal(gone.faultString, 'the request could not be decoded: the worker exited (code 1) while running the task');
});

t.test('the offload option refuses a missing pool and a bad threshold', async (t) => {
  t.throws(() => new XmlRpcHandler({ offload: {} as never }), TypeError);
  t.throws(() => new XmlRpcHandler({ offload: { pool: shared, threshold: -1 } }), RangeError);
  t.throws(() => new XmlRpcHandler({ offload: { pool: shared, threshold: NaN } }), RangeError);
});

t.test('the size estimate stops reading once past the threshold', async (t) => {
  let reads = 0;
  const members: Record<string, unknown> = {};
  for (let i = 0; i < 1000; i++) {
    Object.defineProperty(members, `m${i}`, {
      enumerable: true,
      get: () => {
        reads++;
        return 'x'.repeat(1000);
      },
    });
  }
  t.equal(encodesLargerThan(members, 5000), true);
  t.ok(reads <= 6, `${reads} members read of 1000`);
  t.equal(encodesLargerThan(new Array(1e6).fill(0), 1000), true, 'a long array is large by its length alone');
  t.equal(encodesLargerThan({ a: [1, 2, { b: 'c' }] }, 1000), false);
  t.equal(encodesLargerThan('x'.repeat(2000), 1000), true);
  t.equal(encodesLargerThan(Buffer.alloc(800), 1000), true, 'base64 is 4/3 of the bytes');
  t.equal(markClasses([() => 1]), null);
  t.same(markClasses([new Double(1), Buffer.alloc(1), Object.create(null)])?.kinds, 'DBS');
});

t.test('registerOffloaded: Double, I8, DateTime, Buffer and null-prototype structs reach the task as they were decoded', async (t) => {
  const dispatcher = new XmlRpcDispatcher({ wrapDoubles: true });
  dispatcher.registerOffloaded('classes', FIXTURES, 'classes', { pool: shared });
  const struct = Object.assign(Object.create(null) as object, { d: new Double(1.5) });
  const direct = (await dispatcher.call('classes', [
    new Double(2),
    new I8(5) as unknown as XmlRpcValue,
    new DateTime('20260102T03:04:05') as unknown as XmlRpcValue,
    Buffer.from('hi'),
    struct as XmlRpcValue,
    new Date(0),
  ])) as string[];
  t.same(direct, ['Double 2', 'I8 5', 'DateTime 20260102T03:04:05', 'Buffer hi', 'null-prototype {d: Double 1.5}', 'Date 1970-01-01T00:00:00.000Z']);
  // Through the wire: what the decoder makes of <double>, <base64> and <struct>.
  const doc = dumps([new Double(2), Buffer.from('hi'), { d: new Double(0.5) }], 'classes');
  const wire = await answer(dispatcher, Buffer.from(doc));
  t.same(loads(wire.body).params, [['Double 2', 'Buffer hi', 'null-prototype {d: Double 0.5}']]);
});

t.test('registerOffloaded: a Double, I8 or DateTime the task returns comes back as that class, and is sent as its wire type', async (t) => {
  const dispatcher = new XmlRpcDispatcher();
  dispatcher.registerOffloaded('wrappers', FIXTURES, 'wrappers', { pool: shared });
  const [d, i, dt, struct] = (await dispatcher.call('wrappers', [])) as [Double, I8, DateTime, { d: Double; i: I8 }];
  t.ok(d instanceof Double && d.value === 2, 'Double');
  t.ok(i instanceof I8 && i.value === 3n, 'I8');
  t.ok(dt instanceof DateTime && dt.value === '20260102T03:04:05', 'DateTime');
  t.equal(struct.d, d, 'one object twice stays one object');
  t.ok(struct.i instanceof I8);
  const wire = await answer(dispatcher, Buffer.from(dumps([], 'wrappers')));
  t.match(wire.body, '<value><double>2.0</double></value><value><i8>3</i8></value><value><dateTime.iso8601>20260102T03:04:05</dateTime.iso8601></value>');
  t.match(wire.body, '<member><name>i</name><value><i8>-1</i8></value></member>');
});

t.test('registerOffloaded: taskSignal() in the user export is the task signal (a timeout aborts it; ManualClock)', async (t) => {
  const clock = new ManualClock();
  const pool = new WorkerPool({ size: 1, clock, abortGrace: 60_000 });
  const name = `large-payloads-${process.pid}`;
  const channel = new BroadcastChannel(name);
  const said: string[] = [];
  channel.onmessage = (event) => said.push((event as { data: string }).data);
  t.teardown(async () => {
    channel.close();
    await pool.close({ force: true });
  });
  const dispatcher = new XmlRpcDispatcher();
  dispatcher.registerOffloaded('watch', FIXTURES, 'watchSignal', { pool, timeout: 100 });
  const call = (dispatcher.call('watch', [name]) as Promise<unknown>).then(
    () => null,
    (err: { faultCode?: number }) => err,
  );
  await pollUntil(() => said.includes('started'), 'the task to start', 20_000);
  await pollUntil(() => pool.stats().busy === 1, 'the pool to count it running', 20_000);
  clock.advance(100);
  t.equal((await call)?.faultCode, FaultCode.TIMEOUT);
  await pollUntil(() => said.length >= 2, 'the task to see its signal abort', 20_000);
  t.same(said, ['started', 'aborted ERR_OFFLOAD_TIMEOUT']);
});
