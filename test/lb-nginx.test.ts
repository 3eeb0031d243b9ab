// Behind a real load balancer: Debian's nginx, run as this test's own
// process with examples/nginx-xmlrpc.conf (ports replaced), in front of three
// backend processes on 127.0.0.2, .3 and .4. The parallel client sends
// through it; one backend is killed with calls in flight on it. Remote
// objects find the process that owns them by a path nginx routes on.
// Skipped, with the reason printed, where nginx is absent.

import t from 'tap';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { ProtocolError, RemoteObjectError, RemoteObjectErrorCode } from '../lib/errors.js';
import { runJobs, type Job } from '../lib/client/parallel.js';
import { ObjectClient } from '../lib/objects/client.js';
import { DEFAULT_SERVER_LIMITS } from '../lib/options.js';

const BACKEND = fileURLToPath(new URL('./fixtures/lb-backend.js', import.meta.url));
const CONF = fileURLToPath(new URL('../../examples/nginx-xmlrpc.conf', import.meta.url));
const HOSTS = ['127.0.0.2', '127.0.0.3', '127.0.0.4'] as const;

const nginxBin = ['nginx', '/usr/sbin/nginx'].find((bin) => spawnSync(bin, ['-v']).status === 0);
const skip = nginxBin === undefined ? 'nginx is not installed (apt-get install nginx-light); .ci/run installs it where it can' : false;
if (skip !== false) t.comment(`skipped: ${skip}`);

/** The blocks `name ... { ... }` of an nginx config (not nested in one another), with their bodies. */
function blocks(conf: string, name: string): Array<{ head: string; body: string }> {
  const found: Array<{ head: string; body: string }> = [];
  for (const m of conf.matchAll(new RegExp(`^\\s*${name}\\b([^{]*)\\{([^}]*)\\}`, 'gm'))) found.push({ head: m[1]!.trim(), body: m[2]! });
  return found;
}

/** nginx's time (`4s`, `500ms`, `1m`, bare seconds) in ms. */
function nginxMs(value: string): number {
  const m = /^(\d+)(ms|s|m)?$/.exec(value);
  if (m === null) throw new Error(`not an nginx time: ${value}`);
  return Number(m[1]) * ({ ms: 1, s: 1000, m: 60_000 } as Record<string, number>)[m[2] ?? 's']!;
}

// These need no nginx: they read the file a user copies, against the server's own defaults.
t.test(
  'the example config fits the server: upstream keep-alive over HTTP/1.1, idle upstream connections dropped before the server drops them, bodies as large as the server takes',
  async (t) => {
    const conf = readFileSync(CONF, 'utf8').replace(/#.*$/gm, '');
    const upstreams = blocks(conf, 'upstream');
    t.ok(upstreams.length >= 1);
    for (const { head, body } of upstreams) {
      t.match(body, /^\s*keepalive \d+;/m, `${head}: keeps connections to its backends`);
      const idle = /^\s*keepalive_timeout (\S+);/m.exec(body);
      // nginx's default is 60 s: a connection the backend closes as nginx sends a call on it fails that call (502).
      t.ok(idle !== null && nginxMs(idle[1]!) < DEFAULT_SERVER_LIMITS.keepAliveTimeout, `${head}: keepalive_timeout under the server's keepAliveTimeout`);
    }
    t.match(conf, /^\s*proxy_http_version 1\.1;/m);
    t.match(conf, /^\s*proxy_set_header Connection "";/m);
    const next = /^\s*proxy_next_upstream ([^;]*);/m.exec(conf);
    t.ok(next !== null && !next[1]!.includes('non_idempotent'), 'a POST that went out is never sent to another backend');
    const body = /^\s*client_max_body_size (\d+)([km]?);/m.exec(conf);
    t.ok(body !== null);
    t.equal(
      Number(body![1]) * ({ '': 1, k: 1024, m: 1024 * 1024 } as Record<string, number>)[body![2]!]!,
      DEFAULT_SERVER_LIMITS.maxBodyBytes,
      "client_max_body_size is the server's maxBodyBytes",
    );
  },
);

t.test('the example config routes to one owner only its endpoint, and answers "owner gone" only when the owner is gone', async (t) => {
  const conf = readFileSync(CONF, 'utf8').replace(/#.*$/gm, '');
  const owners = blocks(conf, 'location').filter(({ body }) => /proxy_pass http:\/\/b\d/.test(body));
  t.equal(owners.length, 3);
  for (const { head, body } of owners) {
    t.match(head, /^= \/b\/\d\/RPC2$/, `${head}: an exact match, so /b/<n>/status or /metrics is not published`);
    const pages = /^\s*error_page ([^=]*)= @gone;/m.exec(body);
    t.same(pages?.[1]?.trim().split(/\s+/), ['502'], `${head}: a 504 (a slow owner, maybe still holding the object) is not reported as released`);
  }
});

interface Backend {
  name: string;
  host: string;
  port: number;
  child: ChildProcess;
  /** "parked <name>" lines so far. */
  parked: number;
  exited: Promise<void>;
  /** Resolves once `parked` reaches n; rejects if the backend exits first. */
  parkedAt(n: number): Promise<void>;
}

function startBackend(host: string, name: string, url: string): Promise<Backend> {
  const child = spawn(process.execPath, [BACKEND, host, name, url], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const killer = setTimeout(() => child.kill('SIGKILL'), 120_000);
  void exited.then(() => clearTimeout(killer));
  const waiters: Array<() => void> = [];
  return new Promise((resolve, reject) => {
    const backend: Backend = {
      name,
      host,
      port: 0,
      child,
      parked: 0,
      exited,
      parkedAt: (n) =>
        new Promise<void>((ok, fail) => {
          const check = () => (backend.parked >= n ? ok() : waiters.push(check));
          check();
          void exited.then(() => fail(new Error(`${name} exited with ${backend.parked} parked, waiting for ${n}`)));
        }),
    };
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const port = /^port (\d+)$/.exec(line);
      if (port !== null) {
        backend.port = Number(port[1]);
        resolve(backend);
      } else if (line.startsWith('parked ')) {
        backend.parked++;
        for (const w of waiters.splice(0)) w();
      }
    });
    void exited.then(() => reject(new Error(`backend ${name} exited before listening`)));
  });
}

/** A port free a moment ago (nginx binds it itself; a clash is retried). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** Resolves once a TCP connect to the port succeeds (bounded). */
async function accepting(port: number): Promise<boolean> {
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}

interface Nginx {
  port: number;
  child: ChildProcess;
  exited: Promise<void>;
  dir: string;
}

/** Starts nginx in the foreground with the example config, the backends' ports put in. */
async function startNginx(backends: Backend[], port: number): Promise<Nginx> {
  const dir = mkdtempSync(join(tmpdir(), 'xmlrpc-nginx-'));
  mkdirSync(join(dir, 'logs'));
  mkdirSync(join(dir, 'tmp'));
  let conf = readFileSync(CONF, 'utf8').replace('listen 127.0.0.1:8080;', `listen 127.0.0.1:${port};`);
  for (const b of backends) conf = conf.replaceAll(`${b.host}:8182`, `${b.host}:${b.port}`);
  writeFileSync(join(dir, 'nginx.conf'), conf);
  const child = spawn(nginxBin!, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'logs', 'error.log'), '-g', 'daemon off;'], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const killer = setTimeout(() => child.kill('SIGKILL'), 120_000);
  void exited.then(() => clearTimeout(killer));
  const up = await Promise.race([accepting(port), exited.then(() => false)]);
  if (!up) {
    child.kill('SIGKILL');
    await exited;
    throw new Error(`nginx did not start on ${port}: ${readFileSync(join(dir, 'logs', 'error.log'), 'utf8').slice(-500)}`);
  }
  return { port, child, exited, dir };
}

interface Rig {
  backends: Backend[];
  nginx: Nginx;
  url: string;
}

async function rig(t: { teardown(fn: () => unknown): void }): Promise<Rig> {
  let nginx: Nginx | undefined;
  let backends: Backend[] = [];
  // A port picked by binding port 0 can be taken again before nginx binds it: try again, three times.
  for (let attempt = 0; attempt < 3 && nginx === undefined; attempt++) {
    const port = await freePort();
    backends = await Promise.all(HOSTS.map((host, i) => startBackend(host, `b${i + 1}`, `http://127.0.0.1:${port}/b/${i + 1}/RPC2`)));
    try {
      nginx = await startNginx(backends, port);
    } catch (err) {
      for (const b of backends) b.child.kill('SIGKILL');
      if (attempt === 2) throw err;
    }
  }
  const started = nginx!;
  t.teardown(async () => {
    started.child.kill('SIGTERM');
    for (const b of backends) b.child.kill('SIGKILL');
    await Promise.all([started.exited, ...backends.map((b) => b.exited)]);
    rmSync(started.dir, { recursive: true, force: true });
  });
  return { backends, nginx: started, url: `http://127.0.0.1:${started.port}/RPC2` };
}

function tally(names: unknown[]): Record<string, number> {
  const count: Record<string, number> = {};
  for (const n of names) count[String(n)] = (count[String(n)] ?? 0) + 1;
  return count;
}

t.test('calls through nginx spread over three backends; one killed mid-run fails only its own calls, clearly, and nothing hangs', { skip }, async (t) => {
  const { backends, url } = await rig(t);
  const whoami = (n: number): Job[] => Array.from({ length: n }, () => [url, 'whoami', []] as const);
  // Every wait has a bound: the parallel client's timeout.
  const options = { strategy: 'concurrent' as const, timeout: 30_000, maxConnectionsPerHost: 6 };

  const first = await runJobs(whoami(60), options);
  t.same(
    first.filter(([, e]) => e !== null),
    [],
    'every call answered',
  );
  const spread = tally(first.map(([v]) => v));
  t.comment(`60 calls by backend: ${JSON.stringify(spread)}`);
  t.same(Object.keys(spread).sort(), ['b1', 'b2', 'b3'], 'all three backends served');

  // Six calls held in flight: nginx's round-robin puts two on each backend.
  const [b1, b2, b3] = backends as [Backend, Backend, Backend];
  const held = runJobs(
    Array.from({ length: 6 }, () => [url, 'park', []] as const),
    options,
  );
  await Promise.all([b1.parkedAt(1), b2.parkedAt(1), b3.parkedAt(1)]);
  for (let i = 0; i < 1000 && b1.parked + b2.parked + b3.parked < 6; i++) await new Promise((resolve) => setTimeout(resolve, 20));
  t.equal(b1.parked + b2.parked + b3.parked, 6, 'all six calls are held');
  const onVictim = b2.parked;
  b2.child.kill('SIGKILL');
  await b2.exited;
  // The others answer what they hold.
  for (const b of [b1, b3]) b.child.stdin!.write('go\n');
  const outcomes = await held;
  const failed = outcomes.filter(([, e]) => e !== null).map(([, e]) => e);
  t.equal(failed.length, onVictim, `the ${onVictim} call(s) held by the killed backend failed, no more`);
  for (const err of failed) {
    t.type(err, ProtocolError, 'a clear error: the balancer says its backend failed');
    t.equal((err as ProtocolError).status, 502);
  }
  t.same(tally(outcomes.filter(([, e]) => e === null).map(([v]) => v)), { b1: b1.parked, b3: b3.parked });
  t.equal(b1.parked + b3.parked + onVictim, 6, 'no call was sent again to another backend (nginx resends no POST)');

  const later = await runJobs(whoami(60), options);
  t.same(
    later.filter(([, e]) => e !== null).map(([, e]) => String(e)),
    [],
    'every later call succeeds',
  );
  t.same(Object.keys(tally(later.map(([v]) => v))).sort(), ['b1', 'b3'], 'on the two left');
});

t.test(
  'remote objects behind nginx: a reference reaches the process that owns it; one whose owner is gone is RELEASED, never another object',
  { skip },
  async (t) => {
    const { backends, url } = await rig(t);
    // Peers (the /b/<n>/ URLs the references carry) share this client's session: the objects were made in it.
    const session = 'lb-nginx-test-session-0001';
    const client = new ObjectClient(url, { session, peerOptions: () => ({ session }) });
    t.teardown(() => client.close());
    const counters = [];
    for (let i = 0; i < 6; i++) counters.push(await client.create<{ next(): Promise<number>; owner(): Promise<string> }>('Counter'));
    const owners = await Promise.all(counters.map((c) => c.owner()));
    t.same(Object.keys(tally(owners)).sort(), ['b1', 'b2', 'b3'], 'the creates were spread, each object stays with its owner');
    // Three calls each: 1, 2, 3 only if every call reached the object's own process.
    for (let round = 1; round <= 3; round++) t.same(await Promise.all(counters.map((c) => c.next())), [round, round, round, round, round, round]);

    const victim = backends[1]!;
    victim.child.kill('SIGKILL');
    await victim.exited;
    for (const [i, counter] of counters.entries()) {
      if (owners[i] === victim.name) {
        const err = await counter.next().then(
          () => null,
          (e: unknown) => e,
        );
        t.type(err, RemoteObjectError, `a reference owned by ${victim.name} fails`);
        t.equal((err as RemoteObjectError).code, RemoteObjectErrorCode.RELEASED);
      } else {
        t.equal(await counter.next(), 4, `${owners[i]}'s object still answers`);
      }
    }
  },
);
