// ParallelServerProxy and runJobs: one method on many servers, or a batch of
// different calls, against real servers on loopback (our Server, port 0).
// Overlap and ordering are shown with server-side sequence numbers and gates
// the calls wait on, never with sleeps or wall-clock thresholds; timeouts
// with a manual clock.

import t from 'tap';
import * as os from 'node:os';
import { inspect } from 'node:util';
import { ParallelServerProxy, runJobs, target } from '../lib/client/parallel.js';
import type { Outcome } from '../lib/async/concurrency.js';
import { ServerProxy } from '../lib/client/proxy.js';
import { Transport } from '../lib/client/transport.js';
import type { HeaderList, OutgoingRequest } from '../lib/client/request.js';
import { Server } from '../lib/server/server.js';
import { XmlRpcDispatcher } from '../lib/rpc/dispatcher.js';
import { EncodeError, Fault, ProtocolError, ResponseError, TransportError, TransportErrorCode } from '../lib/errors.js';
import {
  closedPort,
  demoServer,
  httpResponse,
  resources,
  scriptedServer,
  selfSignedCertificate,
  pollUntil,
  ManualClock,
  WatchedClock,
  gate,
  oneSecondServer,
} from './support.js';

interface Event {
  method: string;
  tag: unknown;
  start: number;
  end: number;
}

interface TestServer {
  server: Server;
  port: number;
  url: string;
  /** Every call, with server-side sequence numbers (one counter for the whole process: start and end order). */
  events: Event[];
  /** Calls running now, and the most at once. */
  running: number;
  maxRunning: number;
  /** Distinct client sockets seen. */
  sockets: Set<number>;
  /** Lets every `hang` call return. */
  release(): void;
  close(): Promise<void>;
}

/** Start and end order across every server of this file. */
let sequence = 0;

/**
 * Our Server with `uname` (answers `host-<n>`, once `hold` resolves if
 * given, or the fault 7 when `fault`), `echo(tag)`, `after(tag, ...tags)`
 * (answers once the calls tagged `tags` have ended), `meet(tag, n, total)`
 * (answers once `n` calls run at once here, or once `total` meet calls have
 * arrived), `hang(tag)` (until the test releases it), and `whoami()` (the
 * request's headers of interest).
 */
async function testServer(
  n: number,
  opts: { hold?: Promise<void>; fault?: boolean; onCall?: () => void; tls?: { key: Buffer; cert: Buffer } } = {},
): Promise<TestServer> {
  const events: Event[] = [];
  const hung = new Set<() => void>();
  const self = { running: 0, maxRunning: 0, sockets: new Set<number>() };
  const rpc = new XmlRpcDispatcher();
  const ended = new Set<unknown>();
  let endWaiters: (() => boolean)[] = [];
  const timed = async <T>(method: string, tag: unknown, body: () => Promise<T>): Promise<T> => {
    opts.onCall?.();
    const event: Event = { method, tag, start: ++sequence, end: 0 };
    events.push(event);
    self.running++;
    self.maxRunning = Math.max(self.maxRunning, self.running);
    try {
      return await body();
    } finally {
      self.running--;
      event.end = ++sequence;
      ended.add(tag);
      endWaiters = endWaiters.filter((check) => !check());
    }
  };
  rpc.registerFunction(
    () =>
      timed('uname', n, async () => {
        if (opts.hold) await opts.hold;
        if (opts.fault) throw new Fault(7, `no uname on ${n}`);
        return `host-${n}`;
      }),
    'uname',
  );
  rpc.registerFunction((tag: unknown) => timed('echo', tag, async () => tag), 'echo');
  rpc.registerFunction(
    (tag: unknown, ...tags: unknown[]) =>
      timed('after', tag, () => {
        const { promise, open: resolve } = gate<unknown>();
        const check = () => tags.every((other) => ended.has(other)) && (resolve(tag), true);
        if (!check()) endWaiters.push(check);
        return promise;
      }),
    'after',
  );
  const meeting: (() => void)[] = [];
  let meetArrived = 0;
  rpc.registerFunction(
    (tag: unknown, n: number, total: number) =>
      timed('meet', tag, () => {
        const { promise, open: resolve } = gate<unknown>();
        meeting.push(() => resolve(tag));
        meetArrived++;
        if (self.running >= n || meetArrived >= total) for (const release of meeting.splice(0)) release();
        return promise;
      }),
    'meet',
  );
  rpc.registerFunction((tag: unknown) => timed('hang', tag, () => new Promise((resolve) => hung.add(() => resolve(tag)))), 'hang');
  const logger = {
    match: (request: import('../lib/server/request.js').Request) => {
      if (request.remotePort !== undefined) self.sockets.add(request.remotePort);
      return false;
    },
    handle: () => ({ status: 500 }),
  };
  rpc.registerFunction(() => '', 'noop');
  const headersSeen: Record<string, string>[] = [];
  const headerLog = {
    match: (request: import('../lib/server/request.js').Request) => {
      headersSeen.push({
        authorization: request.header('authorization') ?? '',
        'x-signed': request.header('x-signed') ?? '',
        'x-call': request.header('x-call') ?? '',
      });
      return false;
    },
    handle: () => ({ status: 500 }),
  };
  rpc.registerFunction(() => headersSeen[headersSeen.length - 1]!, 'whoami');
  const server = new Server({ handlers: [logger, headerLog, rpc], onError: () => {}, ...(opts.tls ? { tls: opts.tls } : {}) });
  const { port } = await server.listen(0, '127.0.0.1');
  return Object.assign(self, {
    server,
    port,
    url: `${opts.tls ? 'https' : 'http'}://127.0.0.1:${port}/RPC2`,
    events,
    release: () => {
      for (const release of hung) release();
      hung.clear();
    },
    close: async () => {
      for (const release of hung) release();
      await server.close();
    },
  });
}

function describe(o: Outcome): string {
  const [value, error] = o;
  if (error === null) return `ok ${inspect(value)}`;
  return `${error.constructor.name}${error instanceof TransportError ? ` ${error.code} sent=${error.requestSent}` : ''}`;
}

const certificate = selfSignedCertificate();
const noTls = typeof certificate === 'string' ? `no self-signed certificate: ${certificate}` : false;

for (const strategy of ['concurrent', 'pipelined', 'hybrid'] as const) {
  t.test(`fan-out to 50 servers (${strategy}): every slot gets its pair, and every call started before any slow one ended`, async (t) => {
    const servers: TestServer[] = [];
    // The slow servers answer only once every call has started: calls made one after another would never get there.
    const { promise: everyoneIn, open: letThemAnswer } = gate<void>();
    let started = 0;
    const onCall = () => {
      if (++started === 49) letThemAnswer();
    };
    for (let i = 0; i < 49; i++) {
      const slow = i % 7 === 3 || i % 11 === 5;
      servers.push(await testServer(i, { hold: slow ? everyoneIn : undefined, fault: i % 5 === 4, onCall }));
    }
    const dead = await closedPort();
    const psp = new ParallelServerProxy([...servers.map((s) => s.url), `http://127.0.0.1:${dead}/RPC2`], { strategy, timeout: 10_000 });
    t.teardown(async () => {
      await psp.close();
      await Promise.all(servers.map((s) => s.close()));
    });
    const pairs = await psp.uname();
    t.equal(pairs.length, 50, 'one pair per target');
    for (let i = 0; i < 49; i++) {
      const [value, error] = pairs[i]!;
      if (i % 5 === 4) {
        t.type(error, Fault, `server ${i}: its fault`);
        t.equal((error as Fault).faultCode, 7);
        t.equal(value, null);
      } else {
        t.same(pairs[i], [`host-${i}`, null], `server ${i}: its answer`);
      }
    }
    const [value, error] = pairs[49]!;
    t.equal(value, null);
    t.type(error, TransportError, 'the server not listening: a TransportError');
    t.equal((error as TransportError).code, TransportErrorCode.CONNECT);
    t.equal((error as TransportError).requestSent, false);
    // Overlap, from the servers' clocks: if calls ran one after another, a call would start after a slow one ended.
    const events = servers.flatMap((s) => s.events);
    t.equal(events.length, 49, 'each live server got exactly one call');
    const lastStart = Math.max(...events.map((e) => e.start));
    const firstSlowEnd = Math.min(...events.filter((e) => (e.tag as number) % 7 === 3).map((e) => e.end));
    t.ok(lastStart < firstSlowEnd, 'every call had started before the first slow call ended: total time is the slowest, not the sum');
  });
}

t.test('pipelined on one connection: a slow call does not hold back the others (server-side order), answers in job order', async (t) => {
  const s = await testServer(0);
  t.teardown(() => s.close());
  // The slow call ends only after the three behind it on the same connection: run one after another, it never would.
  const jobs = [
    [s.url, 'after', ['slow', 'fast-1', 'fast-2', 'fast-3']],
    [s.url, 'echo', ['fast-1']],
    [s.url, 'after', ['fast-2', 'fast-1']],
    [s.url, 'echo', ['fast-3']],
  ] as const;
  const pairs = await runJobs(jobs, { strategy: 'pipelined', waitForKeepAlive: false, timeout: 5000 });
  t.same(pairs, [
    ['slow', null],
    ['fast-1', null],
    ['fast-2', null],
    ['fast-3', null],
  ]);
  t.equal(s.sockets.size, 1, 'all four on one connection');
  const slow = s.events.find((e) => e.tag === 'slow')!;
  for (const e of s.events.filter((e) => e.tag !== 'slow')) {
    t.ok(e.start < slow.end && e.end < slow.end, `${String(e.tag)} ran and finished while the slow call was still running`);
  }
});

t.test('strategies on the wire: concurrent opens a connection per call, pipelined and hybrid (loopback) share one, a target may differ', async (t) => {
  const s = await testServer(0);
  t.teardown(() => s.close());
  const counts: Record<string, number> = {};
  for (const strategy of ['concurrent', 'pipelined', 'hybrid'] as const) {
    s.sockets.clear();
    const psp = new ParallelServerProxy(Array(6).fill(s.url), { strategy, waitForKeepAlive: false });
    t.same((await psp.uname()).map(describe), Array(6).fill("ok 'host-0'"));
    counts[strategy] = s.sockets.size;
    await psp.close();
  }
  t.same(counts, { concurrent: 6, pipelined: 1, hybrid: 1 });
  s.sockets.clear();
  const mixed = new ParallelServerProxy([...Array<string>(5).fill(s.url), target(s.url, { strategy: 'concurrent' })], {
    strategy: 'pipelined',
    waitForKeepAlive: false,
  });
  t.same((await mixed.uname()).map(describe), Array(6).fill("ok 'host-0'"));
  t.equal(s.sockets.size, 2, 'the five pipelined calls on one connection, the concurrent one on its own');
  await mixed.close();
});

const externalAddress = Object.values(os.networkInterfaces())
  .flat()
  .find((a) => a !== undefined && a.family === 'IPv4' && !a.internal)?.address;

t.test(
  'hybrid is concurrent for a target that is not loopback',
  { skip: externalAddress === undefined ? 'no non-loopback IPv4 address here' : false },
  async (t) => {
    const address = externalAddress!;
    const rpc = new XmlRpcDispatcher();
    const seen = new Set<number>();
    rpc.registerFunction(async () => 'x', 'uname');
    const server = new Server({
      handlers: [{ match: (r) => (seen.add(r.remotePort!), false), handle: () => ({ status: 500 }) }, rpc],
      onError: () => {},
    });
    const { port } = await server.listen(0, address);
    const psp = new ParallelServerProxy(Array(4).fill(`http://${address}:${port}/RPC2`));
    t.teardown(async () => {
      await psp.close();
      await server.close();
    });
    t.same((await psp.uname()).map(describe), Array(4).fill("ok 'x'"));
    t.equal(seen.size, 4, `${address}: one connection per call`);
  },
);

t.test('local objects are called directly: sync, async, a throw, a missing method, dotted names, and this', async (t) => {
  class Calculator {
    base = 100;
    add(a: number, b: number) {
      return this.base + a + b;
    }
  }
  const targets = [
    new Calculator(),
    { add: async (a: number, b: number) => a * b },
    {
      add() {
        throw new Fault(3, 'local fault');
      },
    },
    {
      add() {
        // eslint-disable-next-line @typescript-eslint/only-throw-error
        throw 'a string';
      },
    },
    { sub: () => 0 },
    {
      math: {
        factor: 10,
        add(a: number, b: number) {
          return this.factor * (a + b);
        },
      },
    },
  ];
  const psp = new ParallelServerProxy(targets);
  const pairs = await psp.add(2, 3);
  t.same(pairs[0], [105, null], 'a class instance, with its this');
  t.same(pairs[1], [6, null], 'an async function');
  t.type(pairs[2]![1], Fault, 'a thrown Fault is the error of the pair');
  t.type(pairs[3]![1], Error, 'a thrown non-Error is wrapped');
  t.equal((pairs[3]![1] as Error).cause, 'a string');
  t.type(pairs[4]![1], Fault, 'no such method: a Fault');
  t.equal((pairs[4]![1] as Fault).faultCode, -32601);
  t.same((await psp.math.add(1, 2))[5], [30, null], 'a dotted name walks the object, this is the holder');
  const names = await psp.call('constructor');
  t.ok(
    names.every(([, e]) => e instanceof Fault),
    "Object.prototype's names are never methods",
  );
  t.same(psp.targets, ['local:Calculator', 'local:Object', 'local:Object', 'local:Object', 'local:Object', 'local:Object']);
});

t.test('targets of every kind in one proxy: URL, ServerProxy with credentials and options, target() with a Transport subclass, local', async (t) => {
  const s = await testServer(1);
  t.teardown(() => s.close());
  class Signed extends Transport {
    protected override requestHeaders(req: OutgoingRequest): HeaderList {
      return [...super.requestHeaders(req), ['X-Signed', `sig-${req.body.length}`]];
    }
  }
  const proxy = new ServerProxy(`http://al%40ice:s3cret@127.0.0.1:${s.port}/RPC2`).withOptions({ headers: { 'X-Call': 'from-proxy' } });
  for (const strategy of ['concurrent', 'pipelined'] as const) {
    const psp = new ParallelServerProxy([s.url, proxy, target(s.url, { transport: new Signed() }), { whoami: () => 'local' }], { strategy });
    const [plain, viaProxy, signed, local] = await psp.whoami();
    t.same(plain, [{ authorization: '', 'x-signed': '', 'x-call': '' }, null], `${strategy}: a URL`);
    t.same(
      viaProxy,
      [{ authorization: `Basic ${Buffer.from('al@ice:s3cret').toString('base64')}`, 'x-signed': '', 'x-call': 'from-proxy' }, null],
      `${strategy}: a ServerProxy brings its credentials and its withOptions headers`,
    );
    t.match(signed, [{ 'x-signed': /^sig-\d+$/ }, null], `${strategy}: target(url, { transport }) runs that transport's steps`);
    t.same(local, ['local', null]);
    await psp.close();
  }
  await proxy.close();
});

t.test('malformed targets and options are refused before any call', async (t) => {
  t.throws(() => new ParallelServerProxy([new Transport()]), TypeError, 'a Transport alone has no URL');
  t.throws(() => new ParallelServerProxy([42] as never), TypeError);
  t.throws(() => new ParallelServerProxy(['ftp://x/RPC2']), TypeError);
  t.throws(() => new ParallelServerProxy([target('https://127.0.0.1:1/RPC2', { transport: new Transport() })]), TypeError, 'secure must match');
  t.throws(() => target(target('http://x/RPC2')), TypeError);
  t.throws(() => new ParallelServerProxy([], { strategy: 'fast' as 'hybrid' }), TypeError);
  t.throws(() => new ParallelServerProxy([], { concurrency: 0 }), RangeError);
  t.throws(() => new ParallelServerProxy([], { maxConnections: 0 }), RangeError);
  t.throws(() => new ParallelServerProxy([], { maxConnectionsPerHost: 1.5 }), RangeError);
  t.throws(() => new ParallelServerProxy([], { pipelineDepth: 0 }), RangeError);
  t.throws(() => new ParallelServerProxy([], { timeout: -1 }), RangeError);
  await t.rejects(runJobs([['http://x/RPC2']] as never), TypeError);
  await t.rejects(runJobs([['http://x/RPC2', 'm', 'not-an-array']] as never), TypeError);
  await t.rejects(runJobs([[null, 'm', []]] as never), TypeError);
  t.same(await runJobs([]), [], 'no jobs: no calls');
  t.same(await new ParallelServerProxy([]).anything(), [], 'no targets: no calls');
});

t.test('each failure is its own pair: Fault, ProtocolError, ResponseError, TransportError; an EncodeError spares local targets', async (t) => {
  const demo = await demoServer();
  const notXml = await scriptedServer((r) => r.socket.write(httpResponse('<html>hello</html>')));
  const dead = await closedPort();
  t.teardown(async () => {
    await demo.close();
    await notXml.close();
  });
  const psp = new ParallelServerProxy([
    `http://127.0.0.1:${demo.port}/RPC2`,
    `http://127.0.0.1:${demo.port}/nowhere`,
    `http://127.0.0.1:${notXml.port}/RPC2`,
    `http://127.0.0.1:${dead}/RPC2`,
    { add: (a: unknown, b: unknown) => `${String(a)}+${String(b)}` },
  ]);
  t.teardown(() => psp.close());
  const pairs = await psp.add('x', 1);
  t.type(pairs[0]![1], Fault, 'the server refused the parameters');
  t.type(pairs[1]![1], ProtocolError, 'a 404');
  t.equal((pairs[1]![1] as ProtocolError).status, 404);
  t.type(pairs[2]![1], ResponseError, 'not XML-RPC');
  t.type(pairs[3]![1], TransportError, 'nobody listening');
  t.same(pairs[4], ['x+1', null], 'the local object');
  const nan = await psp.add(NaN, 1);
  for (let i = 0; i < 4; i++) t.type(nan[i]![1], EncodeError, `remote target ${i}: NaN cannot be sent`);
  t.same(nan[4], ['NaN+1', null], 'a local object gets the values as they are');
});

t.test('maxConnectionsPerHost bounds the sockets to one host', async (t) => {
  let sample: () => number = () => 0;
  let maxOpen = 0;
  const s = await testServer(0, { onCall: () => (maxOpen = Math.max(maxOpen, sample())) });
  t.teardown(() => s.close());
  const psp = new ParallelServerProxy(Array(12).fill(s.url), { strategy: 'concurrent', maxConnectionsPerHost: 3 });
  t.teardown(() => psp.close());
  sample = () => psp.stats().connections;
  t.same((await psp.meet('z', 3, 12)).map(describe), Array(12).fill("ok 'z'"));
  t.equal(s.sockets.size, 3, 'three connections, reused');
  t.equal(s.maxRunning, 3, 'three calls at once');
  t.ok(maxOpen <= 3, `never more than three sockets (saw ${maxOpen})`);
});

t.test('maxConnections bounds the sockets in total: idle connections are closed to make room for other hosts', async (t) => {
  const servers: TestServer[] = [];
  let maxOpen = 0;
  let sample: () => number = () => 0;
  for (let i = 0; i < 6; i++) servers.push(await testServer(i, { onCall: () => (maxOpen = Math.max(maxOpen, sample())) }));
  t.teardown(() => Promise.all(servers.map((s) => s.close())));
  const psp = new ParallelServerProxy(
    servers.flatMap((s) => [s.url, s.url]),
    { strategy: 'concurrent', maxConnections: 4 },
  );
  t.teardown(() => psp.close());
  sample = () => psp.stats().connections;
  const pairs = await psp.withOptions({}).echo('z');
  t.ok(
    pairs.every(([v, e]) => v === 'z' && e === null),
    'every call answered',
  );
  t.ok(maxOpen <= 4, `at most 4 sockets at any call's start (saw ${maxOpen})`);
  t.equal(
    servers.reduce((n, s) => n + s.events.length, 0),
    12,
  );
  const stats = psp.stats();
  t.ok(stats.connections <= 4, 'and after');
});

t.test('concurrency bounds the calls of a batch in flight', async (t) => {
  const s = await testServer(0);
  t.teardown(() => s.close());
  const pairs = await runJobs(
    Array.from({ length: 10 }, (_, i) => [s.url, 'meet', [i, 3, 10]] as const),
    { strategy: 'concurrent', concurrency: 3 },
  );
  t.same(
    pairs.map(([v]) => v),
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    'results in job order',
  );
  t.equal(s.maxRunning, 3, 'never more than three at the server, and three at times');
  const local = { running: 0, max: 0, arrived: 0 };
  // Each local call waits until two run at once (or all eight have started).
  const meeting: (() => void)[] = [];
  const counter = {
    async work(i: number) {
      local.running++;
      local.max = Math.max(local.max, local.running);
      const { promise, open: resolve } = gate<void>();
      meeting.push(resolve);
      local.arrived++;
      if (local.running >= 2 || local.arrived >= 8) for (const release of meeting.splice(0)) release();
      await promise;
      local.running--;
      return i;
    },
  };
  const localPairs = await runJobs(
    Array.from({ length: 8 }, (_, i) => [counter, 'work', [i]] as const),
    { concurrency: 2 },
  );
  t.same(
    localPairs.map(([v]) => v),
    [0, 1, 2, 3, 4, 5, 6, 7],
  );
  t.equal(local.max, 2, 'local calls too');
});

t.test('runJobs: different methods and targets in one batch, results in job order', async (t) => {
  const a = await testServer(1);
  const b = await testServer(2, { fault: true });
  t.teardown(async () => {
    await a.close();
    await b.close();
  });
  const local = { twice: (x: number) => 2 * x };
  const pairs = await runJobs([
    [a.url, 'uname'],
    [b.url, 'uname'],
    [local, 'twice', [21]],
    [a.url, 'echo', ['s']],
    [`http://127.0.0.1:${a.port}/RPC2`, 'nope', []],
  ]);
  t.same(pairs.map(describe), ["ok 'host-1'", 'Fault', 'ok 42', "ok 's'", 'Fault']);
});

t.test('a per-call timeout fails only the slow call, leaves its neighbours alone, and no timer behind', async (t) => {
  const fast = await testServer(0);
  const hung = await testServer(1);
  t.teardown(async () => {
    await fast.close();
    await hung.close();
  });
  const timers = resources('Timeout');
  const clock = new WatchedClock();
  const running = runJobs(
    [
      [fast.url, 'uname'],
      [hung.url, 'hang', ['h']],
      [fast.url, 'echo', ['f']],
      [{ slow: () => new Promise(() => {}) }, 'slow'],
    ],
    { timeout: 50, clock },
  );
  // The fast calls answered (their deadlines disarmed); the hung one and the local one are the two timers due at 50 ms.
  await pollUntil(() => fast.events.length === 2 && hung.running === 1 && clock.dueBy(50) === 2, 'the fast calls answered, the others waiting');
  clock.advance(50);
  const pairs = await running;
  t.same(pairs[0], ['host-0', null]);
  t.equal((pairs[1]![1] as TransportError).code, TransportErrorCode.TIMEOUT);
  t.equal((pairs[1]![1] as TransportError).requestSent, true);
  t.same(pairs[2], ['f', null]);
  t.equal((pairs[3]![1] as TransportError).code, TransportErrorCode.TIMEOUT, 'a local call that never returns times out too');
  t.ok(resources('Timeout') <= timers, 'no timer left when runJobs resolves');
  // With no timeout of its own, a batch leaves each transport's default: a ServerProxy target keeps its timeout.
  const proxy = new ServerProxy(hung.url, { timeout: 30, clock });
  const psp = new ParallelServerProxy([proxy]);
  const viaProxyRun = psp.hang('p');
  await pollUntil(() => hung.running === 2 && clock.dueBy(clock.now() + 30) === 1, 'the call on the wire, its deadline armed');
  clock.advance(30);
  const [viaProxy] = await viaProxyRun;
  t.equal((viaProxy![1] as TransportError).code, TransportErrorCode.TIMEOUT, "the ServerProxy's own timeout applies");
  await psp.close();
  await proxy.close();
});

t.test('default strategy: a call held back on a new connection is timed from its write (5 one-second calls per host, 2 s timeout)', async (t) => {
  const HOSTS = 2;
  const CALLS = 5;
  const clock = new ManualClock();
  const servers: { server: Server; url: string; received: () => number }[] = [];
  for (let h = 0; h < HOSTS; h++) {
    const { server, port, received } = await oneSecondServer(clock);
    servers.push({ server, url: `http://127.0.0.1:${port}/RPC2`, received });
  }
  t.teardown(() => Promise.all(servers.map((s) => s.server.close())));
  const jobs = servers.flatMap((s, h) => Array.from({ length: CALLS }, (_, i) => [s.url, 'second', [`${h}.${i}`]] as const));
  const running = runJobs(jobs, { timeout: 2000, clock });
  // hybrid pipelines to loopback, and a new connection carries one call until its answer shows keep-alive.
  await pollUntil(() => servers.every((s) => s.received() === 1), 'the first call on each host running');
  clock.advance(1000);
  await pollUntil(() => servers.every((s) => s.received() === CALLS), 'the other four on each host written after the first answer');
  // Their second ends at 2 s of the clock, when a timer started at the call's start would fire.
  clock.advance(1000);
  const pairs = await running;
  t.same(
    pairs.map(describe),
    jobs.map(([, , [tag]]) => `ok '${tag}'`),
    'every call answered, none timed out',
  );
  t.equal(clock.pending, 0, 'no timer left');
});

t.test('an abort cancels the queued calls (not sent) and those in flight (sent), and leaves no socket or timer', async (t) => {
  const servers = [await testServer(0), await testServer(1)];
  t.teardown(() => Promise.all(servers.map((s) => s.close())));
  const sockets = resources('TCPSocketWrap');
  const timers = resources('Timeout');
  const controller = new AbortController();
  const jobs = Array.from({ length: 6 }, (_, i) => [servers[i % 2]!.url, 'hang', [i]] as const);
  const run = runJobs(jobs, { concurrency: 2, signal: controller.signal, strategy: 'concurrent' });
  await pollUntil(() => servers.every((s) => s.running === 1), 'two calls running');
  controller.abort(new Error('stop'));
  const pairs = await run;
  for (const i of [0, 1]) {
    const err = pairs[i]![1] as TransportError;
    t.equal(err.code, TransportErrorCode.ABORTED, `call ${i} in flight: ABORTED`);
    t.equal(err.requestSent, true, `call ${i}: it was sent`);
    t.equal((err.cause as Error).message, 'stop');
  }
  for (const i of [2, 3, 4, 5]) {
    const err = pairs[i]![1] as TransportError;
    t.equal(err.code, TransportErrorCode.ABORTED, `call ${i} queued: ABORTED`);
    t.equal(err.requestSent, false, `call ${i}: never sent`);
  }
  t.ok(resources('Timeout') <= timers, 'no timer left');
  // The server keeps its (half-open) side until its handlers return; then both ends are gone.
  for (const s of servers) s.release();
  await pollUntil(() => resources('TCPSocketWrap') <= sockets, 'every socket to be closed, both ends');
  t.equal(
    servers.reduce((n, s) => n + s.events.length, 0),
    2,
    'the queued calls never reached a server',
  );
});

t.test('a ParallelServerProxy call is aborted through withOptions({ signal }); the proxy stays usable', async (t) => {
  const s = await testServer(0);
  t.teardown(() => s.close());
  const psp = new ParallelServerProxy([s.url, s.url, { hang: () => new Promise(() => {}) }], { strategy: 'concurrent' });
  t.teardown(() => psp.close());
  const controller = new AbortController();
  const pending = psp.withOptions({ signal: controller.signal }).hang('x');
  await pollUntil(() => s.running === 2, 'both remote calls running');
  controller.abort();
  const pairs = await pending;
  t.same(pairs.map(describe), Array(3).fill('TransportError ERR_XMLRPC_ABORTED sent=true'));
  t.same((await psp.withOptions({ timeout: 5000 }).uname()).slice(0, 2), [
    ['host-0', null],
    ['host-0', null],
  ]);
});

t.test('close() closes every connection and the proxy stays usable; its own members are not remote methods', async (t) => {
  const s = await testServer(0);
  t.teardown(() => s.close());
  const psp = new ParallelServerProxy([s.url, s.url], { strategy: 'concurrent' });
  t.same((await psp.uname()).map(describe), ["ok 'host-0'", "ok 'host-0'"]);
  t.equal(psp.stats().connections, 2);
  await psp.close();
  t.same(psp.stats(), { connections: 0, idle: 0, queued: 0, inFlight: 0 });
  t.same((await psp.uname()).map(describe), ["ok 'host-0'", "ok 'host-0'"], 'usable after close');
  await psp.close();
  t.equal(String(psp), '<ParallelServerProxy for 2 targets>');
  t.equal(inspect(psp), '<ParallelServerProxy for 2 targets>');
  t.equal(JSON.stringify(psp), JSON.stringify({ targets: [s.url, s.url] }));
  t.equal((psp as unknown as { then?: unknown }).then, undefined, 'await psp makes no call');
  const before = s.events.length;
  t.same((await psp.call('noop', 'x')).map(describe), ["ok ''", "ok ''"], 'call(name) reaches any name');
  t.equal(s.events.length, before, '(noop is not timed)');
  await psp.close();
});

t.test('HTTPS targets, pipelined and concurrent, with the transport options of the proxy', { skip: noTls }, async (t) => {
  const { key, cert } = certificate as { key: Buffer; cert: Buffer };
  const s = await testServer(5, { tls: { key, cert } });
  t.teardown(() => s.close());
  for (const strategy of ['pipelined', 'concurrent'] as const) {
    const psp = new ParallelServerProxy([s.url, s.url, s.url], { strategy, tls: { ca: cert }, waitForKeepAlive: false });
    t.same((await psp.uname()).map(describe), Array(3).fill("ok 'host-5'"), strategy);
    await psp.close();
  }
  const refused = new ParallelServerProxy([s.url]);
  const [[, error]] = (await refused.uname()) as [Outcome];
  t.type(error, TransportError, 'an unknown certificate is refused');
  await refused.close();
});

t.test('gzip request bodies go through the pipelined path too', async (t) => {
  const s = await demoServer();
  t.teardown(() => s.close());
  const psp = new ParallelServerProxy([`http://127.0.0.1:${s.port}/RPC2`, `http://127.0.0.1:${s.port}/RPC2`], {
    strategy: 'pipelined',
    gzipRequests: true,
  });
  t.teardown(() => psp.close());
  const big = 'y'.repeat(10_000);
  t.same(await psp.echo(big), [
    [big, null],
    [big, null],
  ]);
  t.ok(
    s.requests.every((r) => r.header('content-encoding') === 'gzip'),
    'both requests were gzipped',
  );
});

t.test('an abort also reaches the calls waiting for a socket (per host and in total): not sent', async (t) => {
  const a = await testServer(0);
  const b = await testServer(1);
  t.teardown(async () => {
    await a.close();
    await b.close();
  });
  const controller = new AbortController();
  const psp = new ParallelServerProxy([a.url, a.url, a.url, b.url], { strategy: 'concurrent', maxConnectionsPerHost: 1, maxConnections: 1 });
  t.teardown(() => psp.close());
  const pending = psp.withOptions({ signal: controller.signal }).hang('w');
  await pollUntil(() => a.running === 1, 'the first call running');
  t.equal(psp.stats().queued, 3, 'three calls wait: two for the host, one for a socket at all');
  controller.abort();
  const pairs = await pending;
  t.same(pairs.map(describe), [
    'TransportError ERR_XMLRPC_ABORTED sent=true',
    'TransportError ERR_XMLRPC_ABORTED sent=false',
    'TransportError ERR_XMLRPC_ABORTED sent=false',
    'TransportError ERR_XMLRPC_ABORTED sent=false',
  ]);
  t.equal(a.events.length + b.events.length, 1, 'only the first call reached a server');
  a.release();
  t.same((await psp.uname()).map(describe), ["ok 'host-0'", "ok 'host-0'", "ok 'host-0'", "ok 'host-1'"], 'the limits still hold and the proxy still works');
});

t.test('a thousand calls to one server through runJobs: every answer in job order over a few pipelined connections', async (t) => {
  const s = await testServer(0);
  t.teardown(() => s.close());
  const pairs = await runJobs(
    Array.from({ length: 1000 }, (_, i) => [s.url, 'echo', [i]] as const),
    { strategy: 'pipelined' },
  );
  t.ok(
    pairs.every(([v, e], i) => v === i && e === null),
    'every pair is [i, null]',
  );
  t.ok(s.sockets.size <= 8, `at most maxConnectionsPerHost connections (${s.sockets.size})`);
});
