// Review of lib/objects (issue 11): each test proves one finding, tagged
// REVIEW-n, and now guards its fix (all eleven are fixed).
// Servers on 127.0.0.1 port 0, closed in teardown; no sleeps.

import t from 'tap';
import { Fault, RemoteObjectErrorCode } from '../lib/errors.js';
import { ServerProxy } from '../lib/client/proxy.js';
import { Server } from '../lib/server/server.js';
import { ObjectClient } from '../lib/objects/client.js';
import { ObjectServer, type ObjectServerOptions } from '../lib/objects/server.js';
import { ObjectFaultCode, REF, type RefStruct } from '../lib/objects/wire.js';
import { PassThrough } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { ManualClock, gate, turns, httpResponse, scriptedServer, xmlResult, type Gate } from './support.js';

// gc() without --expose-gc on the command line: the flag, then a fresh context picks the function up.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const SESSION = 'review-aaaaaaaaaaaaaaaa';

/** A class the server does not offer, with a getter it does not serve and a static flag of its own. */
class Vault {
  static remoteAccessors = false;
  constructor() {
    constructed++;
  }
  get secret(): string {
    return 'the vault secret';
  }
}
let constructed = 0;

/** A resource its owner disposes of when it is done with it. */
class Resource {
  disposed = false;
  [Symbol.dispose](): void {
    this.disposed = true;
  }
}

/** Public fields holding built-ins the README says are never reached (only a fixed list of prototypes is). */
class Sampler {
  samples = new Float64Array([1, 2, 3]);
  stream = new PassThrough();
}

let entered: Gate = gate();
let proceed: Gate = gate();
/** A long call: it waits for the test. */
class Slow {
  disposed = false;
  async work(): Promise<string> {
    entered.open();
    await proceed.promise;
    return this.disposed ? 'ran on a disposed object' : 'done';
  }
  [Symbol.dispose](): void {
    this.disposed = true;
  }
}

/** Takes an object as an argument and uses it after an await. */
class User {
  async take(r: Slow): Promise<string> {
    entered.open();
    await proceed.promise;
    return r.disposed ? 'the argument was disposed under the call' : 'ok';
  }
}

/** Another offered class, with a data field and an `items` of its own. */
class Decoy {
  items = ['forged', 'this'];
  note = 'text';
}

/** One object every Hub hands out. */
class Shared {
  n = 1;
}
const SHARED = new Shared();
/** An offered class whose field is a server-wide object. */
class Hub {
  shared = SHARED;
}

/** An offered class that holds an array, a class as data, and a resource it owns. */
class Holder {
  resource = new Resource();
  inc(): number {
    return this.items.length;
  }
  items = [1, 2, 3];
  kind = Vault;
  vault = new Vault();
}

async function serve(t: { teardown(fn: () => unknown): void }, options: ObjectServerOptions = {}) {
  const objects = new ObjectServer({ classes: { Holder, Sampler, Slow, User, Decoy, Hub }, ...options });
  const server = new Server({ handlers: [objects], onError: () => {} });
  const { port } = await server.listen(0, '127.0.0.1');
  const url = `http://127.0.0.1:${port}/RPC2`;
  const plain = new ServerProxy(url);
  const s = plain.withOptions({ headers: { 'X-Object-Session': SESSION } });
  t.teardown(async () => {
    await plain.close();
    await server.close();
    objects.close();
  });
  return { objects, url, s };
}

function faultCode(err: unknown): number | undefined {
  return err instanceof Fault ? err.faultCode : undefined;
}

t.test('REVIEW-1: objects.set may not write an array length (4294967295 makes every later read of the array loop 2^32 times)', async (t) => {
  const { s } = await serve(t);
  const ref = (await s.call('objects.create', 'Holder', [])) as unknown as RefStruct;
  let code: number | undefined;
  try {
    // Only the write is sent: reading `items` afterwards would pin the server's event loop (auto() walks 2^32 slots).
    await s.call('objects.set', ref, 'items.length', 4294967295);
  } catch (err) {
    code = faultCode(err);
  }
  t.equal(code, ObjectFaultCode.NO_MEMBER, 'the length of an array is not a writable field');
});

t.test('REVIEW-2: objects.set may not write a static field of a class reached as data (it flips remoteAccessors and opens the getters)', async (t) => {
  const { s } = await serve(t);
  const ref = (await s.call('objects.create', 'Holder', [])) as unknown as RefStruct;
  let code: number | undefined;
  try {
    await s.call('objects.set', ref, 'kind.remoteAccessors', true);
  } catch (err) {
    code = faultCode(err);
  }
  t.equal(code, ObjectFaultCode.NO_MEMBER, 'a static of a class is no writable field');
  Vault.remoteAccessors = false;
  // And what it opens when it is let through: the getter of an instance of that class.
  let read: unknown;
  try {
    await s.call('objects.set', ref, 'kind.remoteAccessors', true).catch(() => undefined);
    read = await s.call('objects.get', ref, 'vault.secret');
  } catch (err) {
    read = faultCode(err);
  } finally {
    Vault.remoteAccessors = false;
  }
  t.equal(read, ObjectFaultCode.NO_MEMBER, 'the getter of a class that never opted in stays unreachable');
});

t.test('REVIEW-3: a class the server does not offer cannot be constructed through a member that holds it (`kind.new`)', async (t) => {
  const { s } = await serve(t);
  const ref = (await s.call('objects.create', 'Holder', [])) as unknown as RefStruct;
  const before = constructed;
  let code: number | undefined;
  try {
    await s.call('objects.call', ref, 'kind.new', []);
  } catch (err) {
    code = faultCode(err);
  }
  t.equal(constructed, before, 'the constructor of Vault did not run ("Nothing else can be created")');
  t.ok(code === ObjectFaultCode.NOT_OFFERED || code === ObjectFaultCode.NO_MEMBER, `refused with a fault (got ${String(code)})`);
});

t.test("REVIEW-4: a reference whose url names another host does not receive the client's own headers (Authorization)", async (t) => {
  // The other host: records what it is sent and answers a fault.
  const other = await scriptedServer((request) => {
    const fault =
      '<?xml version="1.0"?><methodResponse><fault><value><struct><member><name>faultCode</name><value><int>1</int></value></member><member><name>faultString</name><value><string>no</string></value></member></struct></value></fault></methodResponse>';
    request.socket.write(httpResponse(fault));
  });
  // The owner the client trusts, answering objects.create with a reference that points at the other host.
  const owner = await scriptedServer((request) => {
    const ref = `<struct><member><name>${REF}</name><value><string>AAAAAAAAAAAAAAAAAAAAAA</string></value></member><member><name>type</name><value><string>Thing</string></value></member><member><name>url</name><value><string>http://127.0.0.1:${other.port}/steal</string></value></member></struct>`;
    request.socket.write(httpResponse(xmlResult(ref)));
  });
  const objs = new ObjectClient(`http://127.0.0.1:${owner.port}/RPC2`, { headers: { Authorization: 'Bearer owner-only-token' } });
  t.teardown(async () => {
    await objs.close();
    await owner.close();
    await other.close();
  });
  const thing = (await objs.create('Thing')) as unknown as { poke(): Promise<unknown> };
  await thing.poke().catch(() => undefined);
  const sent = other.requests.flatMap((r) => r.head.headers.filter((_v, i, all) => i % 2 === 1 && all[i - 1] === 'authorization'));
  t.ok(other.requests.length > 0, 'the call went to the host the reference named');
  t.same(sent, [], 'the token meant for the owner never went to the host the owner named');
});

/** A reference struct naming `url` as its owner. */
function refXml(id: string, url: string): string {
  return `<struct><member><name>${REF}</name><value><string>${id}</string></value></member><member><name>type</name><value><string>Thing</string></value></member><member><name>url</name><value><string>${url}</string></value></member></struct>`;
}

t.test('REVIEW-4 (bound): a result naming more owners than maxPeers fails with TOO_MANY_OWNERS; idle peers are dropped first', async (t) => {
  let owners = 3;
  let first = 2;
  const owner = await scriptedServer((request) => {
    const refs = Array.from({ length: owners }, (_v, i) => `<value>${refXml(`AAAAAAAAAAAAAAAAAAAAA${i}`, `http://127.0.0.${first + i}:9/RPC2`)}</value>`).join(
      '',
    );
    request.socket.write(httpResponse(xmlResult(`<array><data>${refs}</data></array>`)));
  });
  const objs = new ObjectClient(`http://127.0.0.1:${owner.port}/RPC2`, { maxPeers: 2, releaseOnGc: false });
  t.teardown(async () => {
    await objs.close();
    await owner.close();
  });
  await t.rejects(objs.list(), { code: RemoteObjectErrorCode.TOO_MANY_OWNERS }, 'three new owners in one answer, two allowed');
  owners = 2;
  const held = (await objs.list()) as unknown as { $release(): Promise<void> }[];
  t.equal(held.length, 2, 'two owners fit');
  first = 10;
  await t.rejects(objs.list(), { code: RemoteObjectErrorCode.TOO_MANY_OWNERS }, 'two more do not, while the first two hold references');
  // Released here at once (the owners, never listening, answer nothing): their clients are idle.
  await Promise.allSettled(held.map((p) => p.$release()));
  t.equal(((await objs.list()) as unknown[]).length, 2, 'idle owners made room');
});

t.test('REVIEW-4 (options): peerOptions chooses what a client of another owner sends; the same origin keeps the headers', async (t) => {
  const seen: { path: string; auth: string | undefined }[] = [];
  let port = 0;
  const owner = await scriptedServer((request) => {
    const auth = request.head.headers.find((_v, i, all) => i % 2 === 1 && all[i - 1] === 'authorization');
    seen.push({ path: request.head.target, auth });
    // First objects.create, then a call on the same origin under another path.
    request.socket.write(httpResponse(xmlResult(seen.length === 1 ? refXml('BBBBBBBBBBBBBBBBBBBBBB', `http://127.0.0.1:${port}/other`) : '<int>1</int>')));
  });
  port = owner.port;
  const objs = new ObjectClient(`http://127.0.0.1:${port}/RPC2`, { headers: { Authorization: 'Bearer same-origin' } });
  t.teardown(async () => {
    await objs.close();
    await owner.close();
  });
  const thing = (await objs.create('Thing')) as unknown as { poke(): Promise<unknown> };
  t.equal(await thing.poke(), 1);
  t.same(seen, [
    { path: '/RPC2', auth: 'Bearer same-origin' },
    { path: '/other', auth: 'Bearer same-origin' },
  ]);
  const picked: string[] = [];
  const custom = new ObjectClient(`http://127.0.0.1:${port}/RPC2`, {
    headers: { Authorization: 'Bearer mine' },
    peerOptions: (url) => {
      picked.push(url);
      return { headers: { Authorization: 'Bearer chosen' } };
    },
  });
  t.teardown(() => custom.close());
  seen.length = 0;
  const other = (await custom.create('Thing')) as unknown as { poke(): Promise<unknown> };
  await other.poke();
  t.same(picked, [`http://127.0.0.1:${port}/other`]);
  t.equal(seen[1]?.auth, 'Bearer chosen', "the peer sent what peerOptions gave, not the client's own header");
});

t.test('REVIEW-5: an ObjectClient whose URL has a query string can use the references it creates', async (t) => {
  const { url } = await serve(t);
  const objs = new ObjectClient(`${url}?tenant=1`);
  t.teardown(() => objs.close());
  const holder = (await objs.create('Holder')) as unknown as { inc(): Promise<number> };
  let got: unknown;
  try {
    got = await holder.inc();
  } catch (err) {
    got = err instanceof Error ? err.message : err;
  }
  t.equal(got, 3, 'the call on the new reference is answered (it went out under a fresh session: OTHER_SESSION)');
});

t.test('REVIEW-6: releasing a reference to a member does not dispose an object its parent still holds', async (t) => {
  const { objects, s } = await serve(t);
  const ref = (await s.call('objects.create', 'Holder', [])) as unknown as RefStruct;
  const member = (await s.call('objects.get', ref, 'resource')) as unknown as RefStruct;
  t.equal(typeof member[REF], 'string', 'the member came by reference');
  await s.call('objects.release', [member]);
  const holder = objects.list().find((row) => row.id === ref[REF]);
  t.ok(holder !== undefined, 'the holder is still held');
  t.equal(await s.call('objects.get', ref, 'resource.disposed'), false, "the Holder's resource was not disposed by a client's release of a reference to it");
});

t.test('REVIEW-7: methods of built-in prototypes outside the fixed list (TypedArray, streams) are not reachable', async (t) => {
  const { s } = await serve(t);
  const ref = (await s.call('objects.create', 'Sampler', [])) as unknown as RefStruct;
  const refused = async (path: string): Promise<number | string | undefined> => {
    try {
      await s.call('objects.call', ref, path, [0]);
      return 'called';
    } catch (err) {
      return faultCode(err);
    }
  };
  t.equal(await refused('samples.fill'), ObjectFaultCode.NO_MEMBER, "a Float64Array's fill (%TypedArray%.prototype)");
  t.equal(await refused('stream.destroy'), ObjectFaultCode.NO_MEMBER, "a stream's destroy (Readable.prototype)");
  t.same(await s.call('objects.get', ref, 'samples', { return: 'copy' }), { 0: 1, 1: 2, 2: 3 }, 'the samples were not overwritten');
});

t.test('REVIEW-8: a session does not expire, nor its object get disposed, while a call of it is in flight', async (t) => {
  entered = gate();
  proceed = gate();
  const clock = new ManualClock();
  const { s } = await serve(t, { clock, sessionTtl: 1000 });
  const ref = (await s.call('objects.create', 'Slow', [])) as unknown as RefStruct;
  const pending = s.call('objects.call', ref, 'work', []);
  await entered.promise;
  clock.advance(2000);
  proceed.open();
  t.equal(await pending, 'done', 'the method did not see its object disposed under it');
});

/** Makes a proxy and passes it to a call, keeping nothing of it here. */
async function passAndForget(objs: ObjectClient, user: { take(r: unknown): Promise<string> }): Promise<{ pending: Promise<string> }> {
  const arg = await objs.create('Slow');
  // Boxed: an async function returning a promise would wait for it.
  return { pending: user.take(arg) };
}

t.test('REVIEW-9: a proxy passed only as an argument is not released by the FinalizationRegistry while that call is in flight', async (t) => {
  entered = gate();
  proceed = gate();
  const { url } = await serve(t);
  const objs = new ObjectClient(url);
  t.teardown(() => objs.close());
  const user = (await objs.create('User')) as unknown as { take(r: unknown): Promise<string> };
  const { pending } = await passAndForget(objs, user);
  await entered.promise;
  for (let i = 0; i < 5; i++) {
    gc();
    await turns(3);
  }
  await objs.flushReleases();
  proceed.open();
  t.equal(await pending, 'ok', 'the argument outlived the call that received it');
  t.equal(objs.stats().gcReleased, 0, 'nothing was released by the collector during the call');
});

t.test("REVIEW-10: objects.set may not store a function in a field (it becomes a method run with another object's `this`)", async (t) => {
  const { s } = await serve(t);
  const holder = (await s.call('objects.create', 'Holder', [])) as unknown as RefStruct;
  const decoy = (await s.call('objects.create', 'Decoy', [])) as unknown as RefStruct;
  const method = (await s.call('objects.get', holder, 'inc')) as unknown as RefStruct;
  t.equal(method.type, 'Function', "Holder's method came by reference");
  let code: number | undefined;
  try {
    await s.call('objects.set', decoy, 'note', method);
  } catch (err) {
    code = faultCode(err);
  }
  t.ok(code !== undefined, 'storing a function in a data field is refused ("never replaces methods")');
  let ran: unknown;
  try {
    ran = await s.call('objects.call', decoy, 'note', []);
  } catch (err) {
    ran = faultCode(err);
  }
  t.not(ran, 2, 'Holder.prototype.inc did not run with a Decoy as `this`');
});

t.test("REVIEW-11: a client without a session header cannot release another header-less client's reference", async (t) => {
  const { url } = await serve(t);
  const alice = new ServerProxy(url);
  const mallory = new ServerProxy(url);
  t.teardown(async () => {
    await alice.close();
    await mallory.close();
  });
  const aliceHub = (await alice.call('objects.create', 'Hub', [])) as unknown as RefStruct;
  const aliceShared = (await alice.call('objects.get', aliceHub, 'shared')) as unknown as RefStruct;
  const malloryHub = (await mallory.call('objects.create', 'Hub', [])) as unknown as RefStruct;
  const malloryShared = (await mallory.call('objects.get', malloryHub, 'shared')) as unknown as RefStruct;
  // Today both get the same id, one entry with a shared count: the loose map is by object, for every header-less caller.
  await mallory.call('objects.release', [[malloryShared, 1000]]);
  let n: unknown;
  try {
    n = await alice.call('objects.get', aliceShared, 'n');
  } catch (err) {
    n = faultCode(err);
  }
  t.equal(n, 1, "alice's reference still works after mallory released hers");
});
