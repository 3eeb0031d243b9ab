// Signals and failures that race the primary's start-up and its reloads, as
// real processes (`npm start -- --workers N`, and serveWorkers in a fixture
// whose worker waits at a gate): the supervisor's side of each is in
// cluster-supervisor.test.ts, against fakes and a manual clock. Every wait is
// for a line, a response or an exit, and bounded.

import t from 'tap';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dumps } from '../lib/xmlrpc/encode.js';
import { loads } from '../lib/xmlrpc/decode.js';
import { RawClient, post, runCommand } from './support.js';
import { CLI, alive, gone, info, launch, startPrimary } from './cluster-support.js';

t.test('workers that cannot listen (the port is taken): the primary says why, stops the rest, and exits 1 instead of replacing them forever', async (t) => {
  const taken = net.createServer();
  await new Promise<void>((resolve) => taken.listen({ port: 0, host: '127.0.0.1', exclusive: true }, resolve));
  t.teardown(() => new Promise((resolve) => taken.close(resolve)));
  const { port } = taken.address() as net.AddressInfo;
  // The bound is for a primary that never exits (the defect this guards), not a measure.
  const ran = await runCommand(process.execPath, [CLI, '--port', String(port), '--workers', '2', '--inline-codec', '--no-access-log'], { timeout: 90_000 });
  t.equal(ran.code, 1, 'the primary exits 1');
  t.match(ran.stderr, /EADDRINUSE/, 'and says why');
  t.notMatch(ran.stdout, /listening on/);
});

t.test('SIGHUP then SIGTERM at once: the worker the reload was starting is stopped too, and the primary exits without waiting for the kill', async (t) => {
  // A long shutdownTimeout: a worker whose stop went unheard would hold the primary for 600 s + 5 s, past this test's bound.
  const p = await startPrimary(t, 1, '600');
  const first = (await info(p.port)).pid;
  p.child.kill('SIGHUP');
  p.child.kill('SIGTERM');
  t.equal(await p.exited, 0);
  t.match(p.output(), /SIGTERM: done/);
  t.ok(await gone([first, p.child.pid!]), 'every process has exited');
});

t.test('SIGHUP while the workers are still starting does not kill the primary: it reloads once they are up', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'xmlrpc-workers-gate-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const gateFile = join(dir, 'go');
  const p = launch(t, [fileURLToPath(new URL('./fixtures/workers-gated.js', import.meta.url)), gateFile]);
  await p.printed(/setup 0/);
  p.child.kill('SIGHUP');
  await p.printed(/SIGHUP: received/);
  t.notOk(existsSync(gateFile));
  writeFileSync(gateFile, '');
  await p.printed(/port \d+/);
  await p.printed(/SIGHUP: done/);
  t.match(p.output(), /setup 0[\s\S]*setup 0/, 'a second worker was started for the reload');
  p.child.kill('SIGTERM');
  t.equal(await p.exited, 0);
});

t.test('the primary killed (SIGKILL): a worker answers the call it holds, then exits by itself', async (t) => {
  const p = await startPrimary(t, 1);
  const worker = (await info(p.port)).pid;
  t.teardown(() => {
    if (alive(worker)) process.kill(worker, 'SIGKILL');
  });
  const c = await RawClient.open(p.port);
  t.teardown(() => c.destroy());
  const whole = post('/RPC2', dumps(['answered after all'], 'echo'), 'Expect: 100-continue\r\n');
  const headEnd = whole.indexOf('\r\n\r\n') + 4;
  c.write(whole.slice(0, headEnd));
  await c.until(() => c.informational.length === 1, 20_000, 'the 100 Continue');
  p.child.kill('SIGKILL');
  await p.exited;
  c.write(whole.slice(headEnd));
  await c.until(() => c.responses.length > 0 || c.closed, 20_000, 'a response or the close');
  t.equal(c.responses.length, 1, 'the call in flight was answered, not dropped with the primary');
  if (c.responses.length === 1) t.same(loads(c.responses[0]!.text()).params, ['answered after all']);
  t.ok(await gone([worker]), 'and the worker is gone');
});

t.test('--workers on an IPv6 address prints a URL a client can use (the address in brackets)', async (t) => {
  const p = launch(t, [CLI, '--host', '::1', '--port', '0', '--workers', '1', '--inline-codec', '--no-access-log']);
  await p.printed(/listening on \S+ with/);
  const url = /listening on (\S+) with/.exec(p.output())![1]!;
  t.match(url, /^http:\/\/\[::1\]:\d+\/RPC2$/);
  t.doesNotThrow(() => new URL(url));
  p.child.kill('SIGTERM');
  t.equal(await p.exited, 0);
});
