// The demo CLI (npm start): it prints its URL, serves the demo methods,
// refuses bad flags, and closes gracefully on SIGINT and SIGTERM. Every wait
// is for something the child does (a line it prints, a response, its exit).

import t from 'tap';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dumps } from '../lib/xmlrpc/encode.js';
import { loads } from '../lib/xmlrpc/decode.js';
import { RawClient, post, rpc, startCli, type Running } from './support.js';

const CLI = fileURLToPath(new URL('../handlers/cli.js', import.meta.url));

function start(args: string[]): Promise<Running> {
  return startCli(process.execPath, [CLI, ...args]);
}

t.test('npm start serves the demo methods on the printed URL, and SIGTERM closes it', async (t) => {
  const { child, url, exited } = await start(['--port', '0']);
  t.teardown(() => void child.kill('SIGKILL'));
  t.equal(url.hostname, '127.0.0.1');
  t.equal(url.pathname, '/RPC2');
  const r = await rpc(Number(url.port), dumps([40, 2], 'add'));
  t.same(loads(r.text()).params, [42]);
  child.kill('SIGTERM');
  const { code } = await exited;
  t.equal(code, 0);
});

t.test('SIGINT lets a call in flight finish before the process exits', async (t) => {
  // A shutdown timeout far beyond this test's own bound: the call is not raced against it.
  const { child, url, exited, printed } = await start(['--port', '0', '--path', '/xmlrpc', '--shutdown-timeout', '600']);
  t.teardown(() => void child.kill('SIGKILL'));
  t.equal(url.pathname, '/xmlrpc');
  const c = await RawClient.open(Number(url.port));
  t.teardown(() => c.destroy());
  // Half a request is in flight when the signal arrives: its head, which the
  // server has read (its 100 Continue says so), and not yet its body. It is still answered.
  const whole = post('/xmlrpc', dumps(['still answered'], 'echo'), 'Expect: 100-continue\r\n');
  const headEnd = whole.indexOf('\r\n\r\n') + 4;
  c.write(whole.slice(0, headEnd));
  await c.until(() => c.informational.length === 1, 20_000, 'the 100 Continue');
  child.kill('SIGINT');
  await printed(/SIGINT: closing/); // the server is closing
  c.write(whole.slice(headEnd));
  const [response] = await c.responsesCount(1, 20_000);
  t.same(loads(response!.text()).params, ['still answered']);
  t.equal(response!.header('connection'), 'close');
  const { code } = await exited;
  t.equal(code, 0);
});

t.test('a bad flag is refused with a usage line and exit code 2', async (t) => {
  const bad = [['--bogus'], ['--port', 'x'], ['--path', 'no-slash'], ['--shutdown-timeout', 'x'], ['--shutdown-timeout', '-1'], ['--shutdown-timeout', '']];
  for (const args of bad) {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    t.equal(code, 2, args.join(' '));
    t.match(stderr, /usage: npm start/);
  }
});

/**
 * Sends the head of a call with `Expect: 100-continue` and waits for its 100
 * Continue: the server has the request and waits for a body that never comes.
 */
async function halfSent(t: { teardown(fn: () => unknown): void }, port: number, path = '/RPC2'): Promise<RawClient> {
  const c = await RawClient.open(port);
  t.teardown(() => c.destroy());
  const whole = post(path, dumps(['never sent'], 'echo'), 'Expect: 100-continue\r\n');
  c.write(whole.slice(0, whole.indexOf('\r\n\r\n') + 4));
  await c.until(() => c.informational.length === 1, 20_000, 'the 100 Continue');
  return c;
}

t.test('--shutdown-timeout bounds the graceful close: a request still arriving is dropped, not awaited', async (t) => {
  // 0: nothing is waited for. Without the bound the request timeout (30 s) would answer it 408 first.
  const { child, url, exited, printed } = await start(['--port', '0', '--shutdown-timeout', '0']);
  t.teardown(() => void child.kill('SIGKILL'));
  const c = await halfSent(t, Number(url.port));
  child.kill('SIGTERM');
  await printed(/SIGTERM: closing/);
  await c.whenClosed(20_000);
  t.equal(c.responses.length, 0, 'closed without an answer');
  const { code } = await exited;
  t.equal(code, 0);
});

t.test('a second SIGTERM or SIGINT stops the process at once, dropping what is in flight', async (t) => {
  for (const [first, second, code] of [
    ['SIGTERM', 'SIGINT', 130],
    ['SIGINT', 'SIGTERM', 143],
    ['SIGTERM', 'SIGTERM', 143],
  ] as const) {
    // A shutdown timeout longer than this test's bound: only the second signal can end it early.
    const { child, url, exited, printed } = await start(['--port', '0', '--shutdown-timeout', '600']);
    t.teardown(() => void child.kill('SIGKILL'));
    const c = await halfSent(t, Number(url.port));
    child.kill(first);
    await printed(new RegExp(`${first}: closing`));
    child.kill(second);
    await printed(new RegExp(`${second}: stopping now`));
    await c.whenClosed(20_000);
    t.equal(c.responses.length, 0, `${first} then ${second}: closed without an answer`);
    const exit = await exited;
    t.equal(exit.code, code, `${first} then ${second}: exit status 128 + the signal's number`);
  }
});

t.test('--help shows --shutdown-timeout and its default', async (t) => {
  const child = spawn(process.execPath, [CLI, '--help'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  t.equal(code, 0);
  t.match(stdout, /--shutdown-timeout 10\b/);
});

t.test('the codec offload is on by default (a large echo is answered), --inline-codec turns it off, a bad --codec-threshold is refused', async (t) => {
  const payload = 'b'.repeat(300_000);
  for (const [args, line] of [
    [[], /documents over 262144 bytes decoded and encoded on \d+ worker thread\(s\)/],
    [['--codec-threshold', '1000'], /documents over 1000 bytes decoded and encoded on \d+ worker thread\(s\)/],
    [['--inline-codec'], /documents decoded and encoded on the event loop/],
  ] as const) {
    const { child, url, exited, printed } = await start(['--port', '0', ...args]);
    t.teardown(() => void child.kill('SIGKILL'));
    await printed(line);
    const r = await rpc(Number(url.port), dumps([payload], 'echo'));
    t.same(loads(r.text()).params, [payload], `${args.join(' ') || 'default'}: the large echo is answered`);
    child.kill('SIGTERM');
    t.equal((await exited).code, 0, 'the pool is closed with the server');
  }
  const child = spawn(process.execPath, [CLI, '--codec-threshold', 'lots'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  t.equal(code, 2);
  t.match(stderr, /bad --codec-threshold/);
});

t.test('GET on the path shows the documentation page (DocHandler); --no-doc makes it 405 again', async (t) => {
  const get = async (port: number) => {
    const c = await RawClient.open(port);
    try {
      c.write('GET /RPC2 HTTP/1.1\r\nHost: x\r\n\r\n');
      const [r] = await c.responsesCount(1);
      return r!;
    } finally {
      c.destroy();
    }
  };
  for (const [args, status] of [
    [[], 200],
    [['--no-doc'], 405],
  ] as const) {
    const { child, url, exited } = await start(['--port', '0', ...args]);
    t.teardown(() => void child.kill('SIGKILL'));
    const r = await get(Number(url.port));
    t.equal(r.status, status, args.join(' ') || 'by default');
    if (status === 200) {
      t.equal(r.header('content-type'), 'text/html; charset=utf-8');
      t.match(r.text(), '<title>medusa-xmlrpc demo server</title>');
      t.match(r.text(), '<code>int add(int, int)</code>');
    }
    t.same(loads((await rpc(Number(url.port), dumps([40, 2], 'add'))).text()).params, [42], 'POST as before');
    child.kill('SIGTERM');
    t.equal((await exited).code, 0);
  }
});
