// spawnProcess (issue 12): a child serving remote objects behind a token,
// used from this process; how it starts, stops and dies, and that nothing it
// starts outlives it. Every child is ended by pid in a teardown.

import net from 'node:net';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';
import {
  Fault,
  ObjectClient,
  ObjectServer,
  Server,
  type Handler,
  ObjectFaultCode,
  ParallelServerProxy,
  ProtocolError,
  RemoteObjectError,
  RemoteObjectErrorCode,
  ServerProxy,
  SpawnError,
  SpawnErrorCode,
  isObjectProxy,
  runJobs,
  spawnProcess,
  type ObjectProxy,
  type SpawnOptions,
  type SpawnedProcess,
} from '../lib/index.js';
import { failure, leftSince, orphansAfterParentKill, pollUntil, processGone, RawClient, turns, type RawResponse } from './support.js';
import type { Store } from './fixtures/spawn-store.js';

type StoreModule = typeof import('./fixtures/spawn-store.js');

const STORE = new URL('./fixtures/spawn-store.js', import.meta.url).href;
const STORE_PATH = fileURLToPath(STORE);
const THROWS = new URL('./fixtures/spawn-throws.js', import.meta.url).href;
const HANGS = new URL('./fixtures/spawn-hangs.js', import.meta.url).href;
const PARENT = fileURLToPath(new URL('./fixtures/spawn-parent.js', import.meta.url));
const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));

const before = process.getActiveResourcesInfo().sort();
/** Every pid a test started: all must be gone at the end. */
const started: number[] = [];

const gone = processGone;

/** A child that the test's teardown kills (by pid) if the test did not end it. */
async function child(t: Test, options: SpawnOptions = {}): Promise<SpawnedProcess> {
  // No loaders of the test runner's: a child starts in a fraction of the time.
  const c = await spawnProcess({ name: 'store', modules: [STORE], logger: null, execArgv: ['--enable-source-maps'], ...options });
  started.push(c.pid);
  t.teardown(async () => {
    c.kill('SIGKILL');
    await c.exited;
  });
  return c;
}

async function storeModule(c: SpawnedProcess): Promise<ObjectProxy<StoreModule>> {
  return c.objects.import<StoreModule>(STORE);
}

t.test("pyacq's example: import a module in the child, create a map there, set and get items, pass a proxy back, get one returned", async (t) => {
  const c = await child(t);
  t.not(c.pid, process.pid);
  t.match(c.url, /^http:\/\/127\.0\.0\.1:\d+\/RPC2$/);
  const m = await storeModule(c);
  t.equal(await m.pid(), c.pid, 'the module runs in the child');
  const store = await m.Store.new();
  await store.set('a', 1);
  await store.set('b', [1, 'two', { three: 3 }]);
  t.equal(await store.get('a'), 1);
  t.same(await store.get('b'), [1, 'two', { three: 3 }]);
  t.equal(await store.size(), 2);
  const sub = (await store.sub()) as unknown as ObjectProxy<Store>;
  t.ok(isObjectProxy(sub), 'a class instance comes back as a proxy');
  await sub.set('c', 'from sub');
  t.equal(await store.merge(sub as never), 3, 'a proxy passed back arrives as the Store itself');
  t.same(await store.keys(), ['a', 'b', 'c']);
  const made = (await m.makeStore()) as unknown as ObjectProxy<Store>;
  t.ok(isObjectProxy(made));
  const again = (await made.set('x', 1)) as unknown as ObjectProxy<Store>;
  t.equal(again.$ref.__ref__, made.$ref.__ref__, 'returning `this` gives the same reference');
  // Every call in flight listens for the child's exit: many at once draw no MaxListeners warning.
  const warnings: Error[] = [];
  const onWarning = (w: Error) => warnings.push(w);
  process.on('warning', onWarning);
  t.teardown(() => void process.off('warning', onWarning));
  t.same(
    await Promise.all(Array.from({ length: 40 }, () => store.size())),
    Array.from({ length: 40 }, () => 3),
  );
  await turns(2);
  t.same(
    warnings.map((w) => w.name),
    [],
  );
  t.same(await c.stop(), { code: 0, signal: null });
  t.ok(gone(c.pid), 'the pid is gone');
});

t.test('classes: a class named by file and export can be created by name; the module allow-list refuses anything else', async (t) => {
  const c = await child(t, { classes: { Store: STORE_PATH, Box: `${STORE}#Store` } });
  const s = await c.objects.create<Store>('Store');
  await s.set('k', 'v');
  t.equal(await s.get('k'), 'v');
  const box = await c.objects.create<Store>('Box');
  t.equal(await box.size(), 0, 'the export named after #');
  // Every alias of the allowed entry: as given, its file URL, its path.
  for (const name of [STORE, STORE_PATH]) t.equal(await (await c.objects.import<StoreModule>(name)).pid(), c.pid);
  const refused = await failure(c.objects.import(THROWS));
  t.ok(refused instanceof Fault && refused.faultCode === ObjectFaultCode.NOT_OFFERED, 'a module not in the list is NOT_OFFERED');
  const noClass = await failure(spawnProcess({ classes: { Nope: `${STORE}#Nope` }, logger: null, execArgv: [] }));
  t.ok(noClass instanceof SpawnError && noClass.code === SpawnErrorCode.START_FAILED);
  t.match(noClass.message, /no class export "Nope"/);
  t.ok(gone((noClass as SpawnError).pid!));
});

t.test('allowAnyModule: any local file by path, file URL or ./ relative to cwd, never a package, data: or node: module', async (t) => {
  const c = await child(t, { modules: [], allowAnyModule: true, cwd: FIXTURES });
  for (const name of [STORE, STORE_PATH, './spawn-store.js']) t.equal(await (await c.objects.import<StoreModule>(name)).pid(), c.pid, name);
  for (const name of ['tap', 'node:fs', 'data:text/javascript,export const x = 1', './no-such-file.js', 'http://127.0.0.1:1/x.js']) {
    const err = await failure(c.objects.import(name));
    t.ok(err instanceof Fault && err.faultCode === ObjectFaultCode.NOT_OFFERED, `${name} is refused`);
  }
  const strict = await child(t);
  const err = await failure(strict.objects.import('./spawn-store.js'));
  t.ok(err instanceof Fault && err.faultCode === ObjectFaultCode.NOT_OFFERED, 'without the option, only the list');
  // The issue's spelling: a relative entry of the list, resolved against cwd, imported by the same string.
  const relative = await child(t, { modules: ['./spawn-store.js'], cwd: FIXTURES });
  const store = await (await relative.objects.import<StoreModule>('./spawn-store.js')).Store.new();
  t.equal(await store.size(), 0);
});

t.test('without the bearer token every request is answered 401 and nothing else, whatever the path', async (t) => {
  const c = await child(t);
  const port = Number(new URL(c.url).port);
  const raw = await RawClient.open(port);
  t.teardown(() => raw.destroy());
  const body =
    "<?xml version='1.0'?><methodCall><methodName>objects.import</methodName><params><param><value><string>x</string></value></param></params></methodCall>";
  raw.write(`POST /RPC2 HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
  const [r] = (await raw.responsesCount(1, 20_000)) as [RawResponse];
  t.equal(r.status, 401);
  t.equal(r.body.length, 0, 'no body');
  t.equal(r.header('www-authenticate'), 'Bearer');
  for (const [path, auth] of [
    ['/nowhere', ''],
    ['/RPC2', 'Authorization: Bearer wrong-token-wrong-token-wrong\r\n'],
    ['/RPC2', `Authorization: Basic ${Buffer.from(`u:${c.token}`).toString('base64')}\r\n`],
  ] as const) {
    const other = await RawClient.open(port);
    t.teardown(() => other.destroy());
    other.write(`GET ${path} HTTP/1.1\r\nHost: x\r\n${auth}\r\n`);
    const [res] = (await other.responsesCount(1, 20_000)) as [RawResponse];
    t.equal(res.status, 401, `${path} ${auth.split(' ')[1] ?? 'no header'}: 401`);
    t.equal(res.body.length, 0);
  }
  const proxy = new ServerProxy(c.url);
  t.teardown(() => proxy.close());
  const err = await failure(proxy.objects.ping());
  t.ok(err instanceof ProtocolError && err.status === 401, 'a ServerProxy without the token: 401');
  const withToken = new ServerProxy(c.url, { headers: { Authorization: `Bearer ${c.token}` } });
  t.teardown(() => withToken.close());
  t.same(await withToken.objects.ping(), { ok: true }, 'the token opens it');
});

t.test('the token goes to the child only: a reference of another server handed back through the child is called without it', async (t) => {
  const c = await child(t);
  const seen: (string | undefined)[] = [];
  // shareRefs: the peer client the proxy comes back on has a session of its own.
  const objects = new ObjectServer({ classes: { Store: (await import('./fixtures/spawn-store.js')).Store }, shareRefs: true });
  const recorder: Handler = {
    match: (r) => objects.match(r),
    handle: (r) => (seen.push(r.header('authorization')), objects.handle(r)),
  };
  const server = new Server({ handlers: [recorder] });
  const { port } = await server.listen(0);
  const local = new ObjectClient(`http://127.0.0.1:${port}/RPC2`);
  t.teardown(async () => {
    await local.close();
    await server.close();
    objects.close();
  });
  const mine = await local.create<Store>('Store');
  await mine.set('here', 'local');
  const store = await (await storeModule(c)).Store.new();
  await store.set('peer', mine); // the child keeps it as a ForeignRef
  const back = (await store.get('peer')) as unknown as ObjectProxy<Store>;
  seen.length = 0;
  t.equal(await back.get('here'), 'local', 'the reference reaches its owner');
  t.same(seen, [undefined], "the child's token is not sent to another server");
});

t.test("a reference of one child handed back through another is called on its owner with that child's token", async (t) => {
  const [a, b] = await Promise.all([child(t, { name: 'a' }), child(t, { name: 'b' })]);
  const inA = await (await storeModule(a)).Store.new();
  await inA.set('k', 'in a');
  const inB = await (await storeModule(b)).Store.new();
  await inB.set('held', inA);
  const back = (await inB.get('held')) as unknown as ObjectProxy<Store>;
  t.ok(isObjectProxy(back), "b holds a's store as a reference and hands it back");
  t.equal(back.$ref.url, a.url, 'owned by a');
  t.equal(await back.get('k'), 'in a', "called on a, with a's token and session");
  t.equal(await inA.size(), 1);
});

t.test('bad options reject before anything is forked: a module that is not a local file, a bad port, a bad logger', async (t) => {
  const err = await failure(spawnProcess({ modules: ['https://example.com/x.js'] }));
  t.ok(err instanceof TypeError);
  t.match(err.message, /not a local file/);
  t.ok((await failure(spawnProcess({ port: 70000 }))) instanceof RangeError);
  t.ok((await failure(spawnProcess({ logger: { info() {} } as never }))) instanceof TypeError);
  t.ok((await failure(spawnProcess({ classes: { X: `${STORE}#` } }))) instanceof TypeError);
});

t.test('start-up failure: a module that throws rejects with the child’s error and stack, and the child is gone', async (t) => {
  const err = await failure(spawnProcess({ name: 'broken', modules: [THROWS], logger: null, execArgv: ['--enable-source-maps'] }));
  t.ok(err instanceof SpawnError);
  const e = err as SpawnError;
  t.equal(e.code, SpawnErrorCode.START_FAILED);
  t.match(e.message, /broken: the child failed to start: SyntaxError: spawn-throws refuses to load/);
  const cause = e.cause as Error;
  t.equal(cause.name, 'SyntaxError');
  t.match(cause.stack, /spawn-throws\.[jt]s/, "the child's stack, naming the module");
  t.ok(e.pid !== undefined && e.pid > 0 && e.pid !== process.pid);
  t.same(e.exit, { code: 1, signal: null });
  t.ok(gone(e.pid!), 'the child is gone');
  started.push(e.pid!);
});

t.test('start-up failure: a port that cannot be bound rejects with EADDRINUSE from the child', async (t) => {
  const taken = net.createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => taken.close(() => resolve())));
  const port = (taken.address() as net.AddressInfo).port;
  const err = (await failure(spawnProcess({ port, logger: null, execArgv: [] }))) as SpawnError;
  t.equal(err.code, SpawnErrorCode.START_FAILED);
  t.equal((err.cause as NodeJS.ErrnoException).code, 'EADDRINUSE');
  t.match((err.cause as Error).stack, /EADDRINUSE/);
  t.ok(gone(err.pid!));
  started.push(err.pid!);
});

t.test('start-up failure: past startTimeout the child is killed and the promise rejects', async (t) => {
  // The module never finishes loading, so any timeout passes first.
  const err = (await failure(spawnProcess({ modules: [HANGS], startTimeout: 100, logger: null, execArgv: [] }))) as SpawnError;
  t.equal(err.code, SpawnErrorCode.START_TIMEOUT);
  t.ok(gone(err.pid!), 'killed and reaped');
  started.push(err.pid!);
});

t.test('the child crashing mid-call: the pending call fails with OWNER_GONE at once, later calls too, exited resolves', async (t) => {
  const c = await child(t);
  const m = await storeModule(c);
  const pending = failure(m.never());
  for (let i = 0; i < 1000 && (await m.neverCalls()) < 1; i++);
  await m.exitNow(3);
  const err = await pending;
  t.ok(err instanceof RemoteObjectError && err.code === RemoteObjectErrorCode.OWNER_GONE, `pending: ${err.message}`);
  t.same(await c.exited, { code: 3, signal: null });
  const later = await failure(m.pid());
  t.ok(later instanceof RemoteObjectError && later.code === RemoteObjectErrorCode.OWNER_GONE);
  t.match(later.message, /exited with code 3/, 'known from the exit, not from a failed connect');
  t.notOk(c.alive);
});

t.test('the child killed from outside (SIGKILL): pending calls fail with OWNER_GONE, exited says how', async (t) => {
  const c = await child(t);
  const m = await storeModule(c);
  const store = await m.Store.new();
  const pending = [m.never(), m.$with({ timeout: 0 }).never()].map(failure);
  // Both are in flight in the child, on two connections.
  for (let i = 0; i < 1000 && (await m.neverCalls()) < 2; i++);
  process.kill(c.pid, 'SIGKILL');
  for (const p of pending) {
    const err = await p;
    t.ok(err instanceof RemoteObjectError && err.code === RemoteObjectErrorCode.OWNER_GONE);
  }
  t.same(await c.exited, { code: null, signal: 'SIGKILL' });
  const later = await failure(store.size());
  t.match(later.message, /killed by SIGKILL/);
  t.ok(gone(c.pid));
});

t.test('stop(): calls in flight are answered, then the server closes and the child exits 0', async (t) => {
  const c = await child(t);
  const m = await storeModule(c);
  const inFlight = [m.untilStopped('one'), m.untilStopped('two')];
  // Both have reached the child before the stop is sent (bounded: a few calls at most).
  for (let i = 0; i < 1000 && (await m.stopWaiters()) < 2; i++);
  const stopped = c.stop({ timeout: 60_000 });
  t.same(await Promise.all(inFlight), ['one after stop', 'two after stop']);
  t.same(await stopped, { code: 0, signal: null });
  t.equal(c.stop(), c.stop(), 'stop is idempotent');
  const after = await failure(m.pid());
  t.ok(after instanceof RemoteObjectError && after.code === RemoteObjectErrorCode.OWNER_GONE);
});

t.test('stop({ timeout }): a call that never ends gets SIGTERM past it, and SIGKILL when SIGTERM is ignored', async (t) => {
  const c = await child(t);
  const m = await storeModule(c);
  const pending = failure(m.never());
  // It has reached the child: a request still on the wire when the server closes is not in flight there.
  for (let i = 0; i < 1000 && (await m.neverCalls()) < 1; i++);
  t.same(await c.stop({ timeout: 50 }), { code: null, signal: 'SIGTERM' });
  t.equal(((await pending) as RemoteObjectError).code, RemoteObjectErrorCode.OWNER_GONE);
  const stubborn = await child(t);
  const s = await storeModule(stubborn);
  await s.ignoreSigterm();
  const hanging = failure(s.never());
  for (let i = 0; i < 1000 && (await s.neverCalls()) < 1; i++);
  t.same(await stubborn.stop({ timeout: 50 }), { code: null, signal: 'SIGKILL' });
  t.equal(((await hanging) as RemoteObjectError).code, RemoteObjectErrorCode.OWNER_GONE);
});

t.test("a child's own child follows the same rules: stopped with it, and gone when it is killed", async (t) => {
  const c = await child(t);
  const m = await storeModule(c);
  const grandchild = await m.spawnGrandchild();
  started.push(grandchild);
  t.not(grandchild, c.pid);
  t.notOk(gone(grandchild));
  await c.stop();
  t.ok(gone(grandchild), 'stopping the child stopped its child first');

  const k = await child(t);
  const km = await storeModule(k);
  const orphan = await km.spawnGrandchild();
  started.push(orphan);
  k.kill('SIGKILL');
  await k.exited;
  await pollUntil(() => gone(orphan), 'the killed child’s own child to exit', 20_000);
  t.pass('the grandchild exited by itself');
});

t.test('the parent killed with SIGKILL: its child (stuck in a synchronous loop) and grandchild exit by themselves', async (t) => {
  started.push(...(await orphansAfterParentKill(t, PARENT, 2, 'a child and a grandchild')));
  t.pass('both have exited');
});

t.test('a fleet of children: ParallelServerProxy and runJobs reach each through child.server, and one dying fails only its own pairs', async (t) => {
  const fleet = await Promise.all([0, 1, 2].map((i) => child(t, { name: `fleet${i}` })));
  const all = new ParallelServerProxy(fleet.map((c) => c.server));
  const pings = await all.objects.ping();
  t.same(
    pings.map(([result, error]) => [result, error]),
    fleet.map(() => [{ ok: true }, null]),
  );
  const outcomes = await runJobs(fleet.map((c) => [c.server, 'objects.import', [STORE]] as const));
  const modules = outcomes.map(([ref, error], i) => {
    t.equal(error, null);
    return fleet[i]!.objects.proxy<StoreModule>(ref as never);
  });
  t.same(
    await Promise.all(modules.map((m) => m.pid())),
    fleet.map((c) => c.pid),
    'each ref used through its own child',
  );
  const stores = await Promise.all(modules.map((m) => m.Store.new()));
  await Promise.all(stores.map((s, i) => s.set('i', i)));
  // A local target's method is called with .apply, which a proxy would send as a path: wrap the proxies.
  const local = stores.map((s) => ({ get: (k: string) => s.get(k), size: () => s.size() }));
  const gets = await new ParallelServerProxy(local).get('i');
  t.same(
    gets.map(([v]) => v),
    [0, 1, 2],
    'each store in its own child',
  );
  // One child dies: its pair carries OWNER_GONE, the others answer.
  fleet[1]!.kill('SIGKILL');
  await fleet[1]!.exited;
  const after = await new ParallelServerProxy(local).size();
  t.equal(after[0][0], 1);
  t.equal((after[1][1] as RemoteObjectError).code, RemoteObjectErrorCode.OWNER_GONE);
  t.equal(after[2][0], 1);
  await Promise.all(fleet.map((c) => c.stop()));
});

t.test('after the suite no child process and no handle is left', async (t) => {
  t.ok(started.length > 10);
  await pollUntil(() => started.every(gone), 'every pid started here to be gone', 20_000);
  t.ok(started.every(gone), 'every pid is gone');
  // A child's process handle leaves the loop in the close phase after its 'close' event.
  await new Promise<void>((resolve) => setImmediate(() => setImmediate(resolve)));
  t.same(leftSince(before), [], 'no handle left');
});
