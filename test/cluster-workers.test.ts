// `npm start -- --workers N` (serveWorkers with node:cluster), as real
// processes: the primary is started and signalled by pid, its workers are
// found by asking worker.info, and every pid is checked gone at the end.
// Every wait is for a line the primary prints, a response, or an exit. Signals
// that race start-up and reloads are in cluster-signals.test.ts.

import t from 'tap';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ClusterErrorCode, RemoteObjectErrorCode, type RemoteObjectError } from '../lib/errors.js';
import { ObjectClient } from '../lib/objects/client.js';
import type { ObjectProxy } from '../lib/objects/proxy.js';
import { Server, reusePortSupported } from '../lib/server/server.js';
import { serveWorkers, workerCount } from '../lib/cluster/workers.js';
import { dumps } from '../lib/xmlrpc/encode.js';
import { loads } from '../lib/xmlrpc/decode.js';
import { RawClient, post } from './support.js';
import { CLI, gone, info, launch, startPrimary, type Info } from './cluster-support.js';

t.test('workerCount: N, and 0 or auto for one per core; nonsense refused', async (t) => {
  t.equal(workerCount(3), 3);
  t.equal(workerCount('3'), 3);
  t.ok(workerCount(0) >= 1);
  t.equal(workerCount('auto'), workerCount(0));
  t.equal(workerCount('00'), workerCount(0), "'00' is 0: one per core, not none");
  for (const bad of ['x', '-1', '1.5', 2000]) t.throws(() => workerCount(bad), RangeError);
});

t.test('reusePort is detected at run time: where this Node lacks it, Server#listen and serveWorkers say so clearly', async (t) => {
  t.equal(reusePortSupported('20.19.0', 'linux'), false);
  t.equal(reusePortSupported('22.12.0', 'linux'), true);
  t.equal(reusePortSupported('23.1.0', 'linux'), true);
  t.equal(reusePortSupported('24.0.0', 'darwin'), false);
  if (reusePortSupported()) {
    t.comment(`Node ${process.versions.node} offers reusePort: the error path is checked by the version table above only`);
    return;
  }
  const server = new Server();
  await t.rejects(server.listen(0, '127.0.0.1', { reusePort: true }), { code: ClusterErrorCode.REUSE_PORT_UNSUPPORTED, message: /Node 22\.12\+/ });
  t.equal(server.address, null, 'nothing was bound');
  await t.rejects(serveWorkers({ workers: 1, reusePort: true, setup: () => new Server() }), { code: ClusterErrorCode.REUSE_PORT_UNSUPPORTED });
});

t.test(
  'two workers share the port round-robin; one killed loses its calls in flight and is replaced while the other serves; SIGTERM stops them all',
  async (t) => {
    const p = await startPrimary(t, 2);
    const seen = new Map<number, Info>();
    for (let i = 0; i < 20 && seen.size < 2; i++) {
      const w = await info(p.port);
      seen.set(w.pid, w);
    }
    t.equal(seen.size, 2, 'both workers answered');
    // A keep-alive connection: which worker holds it, then half a call on it, in flight when that worker dies.
    const c = await RawClient.open(p.port);
    t.teardown(() => c.destroy());
    c.write(post('/RPC2', dumps([], 'worker.info')));
    const [first] = await c.responsesCount(1, 20_000);
    const victim = loads(first!.text()).params[0] as unknown as Info;
    const survivor = [...seen.values()].find((w) => w.pid !== victim.pid)!;
    const whole = post('/RPC2', dumps(['lost'], 'echo'), 'Expect: 100-continue\r\n');
    c.write(whole.slice(0, whole.indexOf('\r\n\r\n') + 4));
    await c.until(() => c.informational.length === 1, 20_000, 'the 100 Continue');
    process.kill(victim.pid, 'SIGKILL');
    await c.until(() => c.closed, 20_000, 'the connection closed');
    t.equal(c.responses.length, 1, 'the call in flight on the dead worker is lost with its connection, never answered');
    await p.printed(/exited; replaced in \d+ ms/);
    // The survivor serves while the replacement is on its way, and after.
    for (let i = 0; i < 6; i++) t.not((await info(p.port)).pid, victim.pid);
    await p.printed(/worker \d+ \(pid \d+\) listening/, 3);
    const after = new Set<number>();
    for (let i = 0; i < 20 && after.size < 2; i++) after.add((await info(p.port)).pid);
    t.ok(after.has(survivor.pid), 'the survivor is untouched');
    t.equal(after.size, 2, 'the replacement serves too');
    t.notOk(after.has(victim.pid));
    p.child.kill('SIGTERM');
    t.equal(await p.exited, 0);
    t.ok(await gone([...after, p.child.pid!]), 'every process has exited');
  },
);

// One worker, so that the port has no one else to serve it: were the old one
// told to stop before the new one listened, calls would be refused.
// Three reloads: a connection handed to the old worker just before its stop, its
// request not yet read, was once closed as idle and reset (about one reload in
// two, unloaded); now it is answered.
t.test('SIGHUP reloads under load: no call fails, the worker is replaced, the port never without a listener', async (t) => {
  const p = await startPrimary(t, 1);
  const before = new Set([(await info(p.port)).pid]);
  let reloaded = false;
  const failures: unknown[] = [];
  const pids = new Map<number, number>();
  let calls = 0;
  // Four callers, one connection per call, until the reload is done and a few calls more (bounded either way).
  const caller = async () => {
    let afterDone = 0;
    for (let i = 0; i < 3000 && afterDone < 20; i++) {
      try {
        const w = await info(p.port);
        pids.set(w.pid, (pids.get(w.pid) ?? 0) + 1);
        calls++;
      } catch (err) {
        failures.push(err);
      }
      if (reloaded) afterDone++;
    }
  };
  const load = Promise.all([caller(), caller(), caller(), caller()]);
  // Under way before the signal.
  while (calls < 20) await new Promise((resolve) => setImmediate(resolve));
  for (let reload = 1; reload <= 3; reload++) {
    p.child.kill('SIGHUP');
    await p.printed(/SIGHUP: done/, reload);
  }
  reloaded = true;
  await load;
  t.same(failures, [], `no call failed of ${calls}`);
  t.comment(`${calls} calls, by pid: ${JSON.stringify([...pids])}`);
  const after = new Set([(await info(p.port)).pid]);
  t.notOk(
    [...after].some((pid) => before.has(pid)),
    'the worker is new',
  );
  t.ok(await gone([...pids.keys()].filter((pid) => !after.has(pid))), 'the old workers have exited');
  t.ok([...before].some((pid) => pids.has(pid)) && [...after].some((pid) => pids.has(pid)), 'the load was served by old and new workers');
  p.child.kill('SIGTERM');
  t.equal(await p.exited, 0);
  t.ok(await gone([...after, p.child.pid!]));
});

t.test('SIGTERM answers a call in flight before the workers and the primary exit', async (t) => {
  const p = await startPrimary(t, 2);
  const workers = new Set<number>();
  for (let i = 0; i < 20 && workers.size < 2; i++) workers.add((await info(p.port)).pid);
  const c = await RawClient.open(p.port);
  t.teardown(() => c.destroy());
  const whole = post('/RPC2', dumps(['still answered'], 'echo'), 'Expect: 100-continue\r\n');
  const headEnd = whole.indexOf('\r\n\r\n') + 4;
  c.write(whole.slice(0, headEnd));
  await c.until(() => c.informational.length === 1, 20_000, 'the 100 Continue');
  p.child.kill('SIGTERM');
  await p.printed(/SIGTERM: received/);
  c.write(whole.slice(headEnd));
  const [response] = await c.responsesCount(1, 20_000);
  t.same(loads(response!.text()).params, ['still answered']);
  t.equal(await p.exited, 0);
  t.ok(await gone([...workers, p.child.pid!]), 'every process has exited');
});

t.test('remote objects with workers: a reference reaches the worker that owns it; once that worker is gone, OWNER_GONE', async (t) => {
  const fixture = fileURLToPath(new URL('./fixtures/objects-workers.js', import.meta.url));
  const child = spawn(process.execPath, [fixture], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const killer = setTimeout(() => child.kill('SIGKILL'), 90_000);
  void exited.then(() => clearTimeout(killer));
  t.teardown(() => void child.kill('SIGKILL'));
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /port (\d+)/.exec(out);
      if (m !== null) resolve(Number(m[1]));
    });
    void exited.then(() => reject(new Error('the primary exited before listening')));
  });
  const session = 'objects-workers-session-01';
  type Counter = { next(): Promise<number>; owner(): Promise<number> };
  const clients: ObjectClient[] = [];
  t.teardown(() => Promise.all(clients.map((c) => c.close())));
  const counters: ObjectProxy<Counter>[] = [];
  // One client (one connection) per create, so that the round-robin spreads them.
  for (let i = 0; i < 4; i++) {
    const client = new ObjectClient(`http://127.0.0.1:${port}/RPC2`, { session, peerOptions: () => ({ session }) });
    clients.push(client);
    counters.push(await client.create<Counter>('Counter'));
  }
  const owners = await Promise.all(counters.map((c) => c.owner()));
  t.equal(new Set(owners).size, 2, 'the objects live in both workers');
  for (let round = 1; round <= 3; round++) t.same(await Promise.all(counters.map((c) => c.next())), [round, round, round, round]);
  const victim = owners[0]!;
  process.kill(victim, 'SIGKILL');
  t.ok(await gone([victim]));
  for (const [i, counter] of counters.entries()) {
    if (owners[i] === victim) {
      const err = await counter.next().then(
        () => null,
        (e: unknown) => e,
      );
      t.equal((err as RemoteObjectError).code, RemoteObjectErrorCode.OWNER_GONE, "its reference is OWNER_GONE, not another worker's object");
    } else {
      t.equal(await counter.next(), 4);
    }
  }
  child.kill('SIGTERM');
  t.equal(await exited, 0);
  t.ok(await gone([...new Set(owners), child.pid!]));
});

t.test('--workers with a bad value is refused with a usage line and exit code 2', async (t) => {
  for (const bad of ['x', '-1', '1.5']) {
    const child = spawn(process.execPath, [CLI, '--port', '0', `--workers=${bad}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    t.equal(code, 2, bad);
    t.match(stderr, /bad --workers[\s\S]*usage: npm start/);
  }
});

t.test('--workers --status: each worker\'s /metrics series carry worker="<slot>", so a scrape says which worker answered', async (t) => {
  const p = launch(t, [CLI, '--port', '0', '--workers', '2', '--inline-codec', '--no-access-log', '--status']);
  await p.printed(/listening on http:\/\/127\.0\.0\.1:\d+\/RPC2 with/);
  const port = Number(/127\.0\.0\.1:(\d+)\/RPC2 with/.exec(p.output())![1]);
  const seen = new Set<string>();
  // A connection per scrape: the round-robin hands them to both workers.
  for (let i = 0; i < 20 && seen.size < 2; i++) {
    const c = await RawClient.open(port);
    try {
      c.write('GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      const [response] = await c.responsesCount(1, 20_000);
      const samples = response!
        .text()
        .split('\n')
        .filter((line) => line !== '' && !line.startsWith('#'));
      t.ok(samples.length > 0);
      const labelled = samples.filter((line) => /[{,]worker="[01]"[,}]/.test(line));
      t.equal(labelled.length, samples.length, 'every sample names its worker');
      for (const line of labelled) seen.add(/worker="(\d)"/.exec(line)![1]!);
    } finally {
      c.destroy();
    }
  }
  t.same([...seen].sort(), ['0', '1'], 'both workers answered scrapes, each under its own label');
  p.child.kill('SIGTERM');
  t.equal(await p.exited, 0);
});
