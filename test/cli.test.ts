// The demo CLI (npm start): it prints its URL, serves the demo methods,
// refuses bad flags, and closes gracefully on SIGINT and SIGTERM. Every wait
// is for something the child does (a line it prints, a response, its exit).

import t from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dumps } from '../lib/xmlrpc/encode.js';
import { loads } from '../lib/xmlrpc/decode.js';
import { RawClient, post, rpc } from './support.js';

const CLI = fileURLToPath(new URL('../handlers/cli.js', import.meta.url));

interface Running {
  child: ChildProcess;
  url: URL;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string }>;
  /** Resolves once the child has printed a line matching `pattern`; rejects if it exits first. */
  printed: (pattern: RegExp) => Promise<void>;
}

function start(args: string[]): Promise<Running> {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string }>((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal, stdout }));
  });
  // A bound on a child that hangs, not a measure of anything.
  const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  void exited.then(() => clearTimeout(killer));
  const printed = (pattern: RegExp) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (!pattern.test(stdout)) return;
        child.stdout!.off('data', check);
        resolve();
      };
      child.stdout!.on('data', check);
      check();
      void exited.then(() => reject(new Error(`the CLI exited before printing ${String(pattern)}: ${stdout}`)));
    });
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  return printed(/listening on (\S+)/).then(() => ({ child, url: new URL(/listening on (\S+)/.exec(stdout)![1]!), exited, printed }));
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
  const { child, url, exited, printed } = await start(['--port', '0', '--path', '/xmlrpc']);
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
  for (const args of [['--bogus'], ['--port', 'x'], ['--path', 'no-slash']]) {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    t.equal(code, 2, args.join(' '));
    t.match(stderr, /usage: npm start/);
  }
});
