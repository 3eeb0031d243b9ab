// Operating the CLI: what it prints on start, the access log it writes by
// default (and to a file, in JSON, or not at all), /status and /metrics
// behind --status, --help naming every flag, and `npm start` stopped by a
// SIGTERM to npm's own pid with the port free afterwards. Every wait is for
// something the child does (a line it prints, a response, its exit).

import t from 'tap';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { dumps } from '../lib/xmlrpc/encode.js';
import { RawClient, rpc, startCli } from './support.js';

const CLI = fileURLToPath(new URL('../handlers/cli.js', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

const start = (args: string[]) => startCli(process.execPath, [CLI, ...args]);

/** Runs the CLI to its exit; its exit code and output. */
async function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  return { code, stdout, stderr };
}

t.test('--help documents every flag', async (t) => {
  const { code, stdout } = await run(['--help']);
  t.equal(code, 0);
  for (const flag of [
    '--host',
    '--port',
    '--path',
    '--shutdown-timeout',
    '--codec-threshold',
    '--inline-codec',
    '--access-log',
    '--no-access-log',
    '--log-format',
    '--status',
    '--help',
  ]) {
    t.match(stdout, new RegExp(`^\\s+(?:-h, )?${flag}\\b.*\\S`, 'm'), `${flag} has a line of its own`);
  }
});

t.test('on start it prints the URL, its pid, the workers, the limits and where the access log goes; requests are logged on stdout', async (t) => {
  const { child, url, stdout, printed, exited } = await start(['--port', '0']);
  t.teardown(() => void child.kill('SIGKILL'));
  await printed(/status and metrics: off/);
  const text = stdout();
  t.match(text, new RegExp(`^pid ${child.pid} `, 'm'));
  t.match(text, /^documents over 262144 bytes decoded and encoded on \d+ worker thread\(s\)$/m);
  t.match(
    text,
    /^limits: 10000 connections \(no limit per address\), bodies up to 8388608 bytes, .*timeouts: head 10000 ms, request 30000 ms, keep-alive 5000 ms$/m,
  );
  t.match(text, /^access log: stdout \(combined\)$/m);
  await rpc(Number(url.port), dumps([1, 2], 'add'));
  const c = await RawClient.open(Number(url.port));
  t.teardown(() => c.destroy());
  c.write('GET /nowhere HTTP/1.1\r\nHost: x\r\nUser-Agent: probe\r\n\r\n');
  await c.responsesCount(1);
  await printed(/"GET \/nowhere HTTP\/1\.1" 404 \d+ "-" "probe"\n/);
  t.match(stdout(), /^127\.0\.0\.1 - - \[[^\]]+\] "POST \/RPC2 HTTP\/1\.1" 200 \d+ "-" "-"$/m);
  child.kill('SIGTERM');
  t.equal((await exited).code, 0);
});

t.test('--access-log <file> --log-format json appends JSON lines to the file; --no-access-log writes none', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xmlrpc-log-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'access.log');
  {
    const { child, url, stdout, printed, exited } = await start(['--port', '0', '--inline-codec', '--access-log', file, '--log-format', 'json']);
    t.teardown(() => void child.kill('SIGKILL'));
    await printed(/status and metrics/);
    t.match(stdout(), new RegExp(`^access log: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(json\\)$`, 'm'));
    await rpc(Number(url.port), dumps(['x', 1], 'add'));
    child.kill('SIGTERM');
    t.equal((await exited).code, 0);
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    t.equal(lines.length, 2, 'one line, ended');
    t.match(JSON.parse(lines[0]!), { method: 'POST', path: '/RPC2', status: 200, rpcMethod: 'add', faultCode: -32602, connection: 1, request: 1 });
  }
  {
    const { child, url, printed, exited } = await start(['--port', '0', '--inline-codec', '--no-access-log']);
    t.teardown(() => void child.kill('SIGKILL'));
    await printed(/^access log: off$/m);
    await rpc(Number(url.port), dumps([1, 1], 'add'));
    child.kill('SIGTERM');
    const { code, stdout } = await exited;
    t.equal(code, 0);
    t.notMatch(stdout, /POST \/RPC2/, 'nothing logged');
  }
  for (const bad of [
    ['--log-format', 'xml'],
    ['--access-log', file, '--no-access-log'],
  ]) {
    const { code, stderr } = await run(bad);
    t.equal(code, 2, bad.join(' '));
    t.match(stderr, /usage: npm start/);
  }
});

t.test('--status serves /status and /metrics on the same listener', async (t) => {
  const { child, url, printed, exited } = await start(['--port', '0', '--inline-codec', '--no-access-log', '--status']);
  t.teardown(() => void child.kill('SIGKILL'));
  await printed(/^status: http:\/\/127\.0\.0\.1:\d+\/status, metrics: http:\/\/127\.0\.0\.1:\d+\/metrics$/m);
  await rpc(Number(url.port), dumps([1, 2], 'add'));
  const c = await RawClient.open(Number(url.port));
  t.teardown(() => c.destroy());
  c.write('GET /status?format=json HTTP/1.1\r\nHost: x\r\n\r\nGET /metrics HTTP/1.1\r\nHost: x\r\n\r\n');
  const [status, metrics] = await c.responsesCount(2);
  t.equal(status!.status, 200);
  t.match(JSON.parse(status!.text()), { requests: 1, methods: [{ method: 'add', calls: 1, faults: 0 }] });
  t.equal(metrics!.status, 200);
  t.match(metrics!.text(), /^xmlrpc_requests_total\{method="add",status="200"\} 1$/m);
  child.kill('SIGTERM');
  t.equal((await exited).code, 0);
});

t.test('npm start builds only the product, and runs the server as the process npm waits on', async (t) => {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  t.equal(pkg.scripts.prestart, 'tsc -p tsconfig.build.json');
  t.match(pkg.scripts.start, /^exec node dist\/handlers\/cli\.js$/, 'exec: no shell stays between npm and node');
  const build = JSON.parse(fs.readFileSync(path.join(ROOT, 'tsconfig.build.json'), 'utf8')) as { include: string[] };
  t.same(build.include, ['lib/**/*.ts', 'handlers/**/*.ts'], 'no tests or benches compiled on start');
});

t.test('SIGTERM to the npm process stops the server; the port is free for the next start', async (t) => {
  // --ignore-scripts skips prestart: the build is the suite's own, already done.
  const {
    child: npm,
    url,
    printed,
    stdout,
    exited,
  } = await startCli('npm', ['start', '--ignore-scripts', '--', '--port', '0', '--inline-codec', '--no-access-log'], { cwd: ROOT });
  t.teardown(() => void npm.kill('SIGKILL'));
  await printed(/^pid \d+ /m);
  const server = Number(/^pid (\d+) /m.exec(stdout())![1]);
  t.not(server, npm.pid, 'the server is npm’s child');
  t.teardown(() => {
    try {
      process.kill(server, 'SIGKILL');
    } catch {
      /* gone, as it should be */
    }
  });
  await rpc(Number(url.port), dumps([1, 2], 'add'));
  npm.kill('SIGTERM');
  const { code } = await exited;
  t.equal(code, 0, 'npm exits with its script');
  t.throws(() => process.kill(server, 0), { code: 'ESRCH' }, 'the server process is gone');
  const listener = net.createServer();
  await new Promise<void>((resolve, reject) => {
    listener.once('error', reject);
    listener.listen(Number(url.port), '127.0.0.1', () => resolve());
  });
  t.pass('the port binds again');
  await new Promise<void>((resolve) => listener.close(() => resolve()));
});
