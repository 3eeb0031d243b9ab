// The `xmlrpc` command line, run as a user runs it: the built binary
// (`node dist/handlers/xmlrpc.js`) as a child process, against our demo
// server and Python's xmlrpc.server. The argument grammar and the result
// printing are also tested in-process (lib/cli/values.ts).

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { getHeader } from '../lib/http/headers.js';
import { parseArg, show, toJson, UsageError } from '../lib/cli/values.js';
import { DateTime, Double, I8 } from '../lib/xmlrpc/values.js';
import { progressBar } from '../handlers/xmlrpc.js';
import { closedPort, demoServer, runCommand, selfSignedCertificate, silentServer, spawnListening, type Ran } from './support.js';

const BIN = fileURLToPath(new URL('../handlers/xmlrpc.js', import.meta.url));

/** Runs the binary with `args`; resolves when it exits (killed after 60 s). */
export function xmlrpc(args: string[], bin = BIN, env: NodeJS.ProcessEnv = process.env): Promise<Ran> {
  return runCommand(process.execPath, [bin, ...args], { env, timeout: 60_000 });
}

t.test('the argument grammar', async (t) => {
  t.equal(parseArg('i/42'), 42);
  t.equal(parseArg('int/-7'), -7);
  t.same(parseArg('i8/9007199254740993'), new I8('9007199254740993'));
  t.same(parseArg('d/1.5'), new Double(1.5));
  t.same(parseArg('d/2'), new Double(2), 'd/2 stays a double');
  t.equal(parseArg('b/true'), true);
  t.equal(parseArg('b/0'), false);
  t.equal(parseArg('s/42'), '42', 's/ forces a string');
  t.equal(parseArg('s/'), '');
  t.equal(parseArg('n/'), null);
  t.same(parseArg('dt/20260102T03:04:05'), new DateTime('20260102T03:04:05'));
  t.same(parseArg('b64/aGk='), Buffer.from('hi'));
  t.same(parseArg('[1, 2.5, "a", null, {"k": [true]}]'), [1, new Double(2.5), 'a', null, { k: [true] }]);
  t.same(parseArg('[4294967296]'), [new I8('4294967296')], 'an integer past 32 bits is an i8');
  t.equal(parseArg('42'), 42, 'a bare integer is an int');
  t.same(parseArg('1.5'), new Double(1.5));
  t.equal(parseArg('true'), true);
  t.equal(parseArg('hello world'), 'hello world', 'anything else is a string');
  t.equal(parseArg('http://x/y'), 'http://x/y', 'an unknown prefix is part of a string');
  for (const bad of ['i/x', 'i/4294967296', 'd/NaN', 'b/yes', 'n/x', 'dt/yesterday', 'b64/!!', '[1,', '{"a":}']) {
    t.throws(() => parseArg(bad), UsageError, `${bad} is a usage error`);
  }
});

t.test('results are shown with their XML-RPC types, or as JSON', async (t) => {
  const value = {
    n: 1,
    d: new Double(2),
    big: 9007199254740993n,
    s: 'x',
    ok: true,
    none: null,
    list: [Buffer.from('hi')],
    when: new Date(Date.UTC(2026, 0, 2)),
  };
  t.equal(
    show(value),
    [
      'struct {',
      '  "n": int 1',
      '  "d": double 2',
      '  "big": i8 9007199254740993',
      '  "s": string "x"',
      '  "ok": boolean true',
      '  "none": nil',
      '  "list": array [',
      '    base64 aGk= (2 bytes)',
      '  ]',
      '  "when": dateTime.iso8601 2026-01-02T00:00:00.000Z',
      '}',
    ].join('\n'),
  );
  t.same(toJson(value), { n: 1, d: 2, big: '9007199254740993', s: 'x', ok: true, none: null, list: ['aGk='], when: '2026-01-02T00:00:00.000Z' });
});

t.test('the binary against our demo server', async (t) => {
  const demo = await demoServer();
  t.teardown(() => demo.close());
  const url = `http://127.0.0.1:${demo.port}/RPC2`;

  let r = await xmlrpc(['call', url, 'add', 'i/40', '2']);
  t.same([r.code, r.stdout, r.stderr], [0, 'int 42\n', ''], 'call: typed result, exit 0');

  r = await xmlrpc(['call', '--json', url, 'echo', '{"a": [1, 2.5, "x"], "b": null}']);
  t.equal(r.code, 0);
  t.same(JSON.parse(r.stdout), { a: [1, 2.5, 'x'], b: null }, '--json');

  r = await xmlrpc(['call', url, 'echo', 'd/2']);
  t.equal(r.stdout, 'double 2\n', 'a double keeps its type on the way back');

  r = await xmlrpc(['call', url, 'add', 's/a', 'i/1']);
  t.equal(r.code, 1, 'a fault: exit 1');
  t.match(r.stderr, /^xmlrpc: fault -32602: add takes two numbers/);
  t.equal(r.stderr.trimEnd().split('\n').length, 1, 'one line');

  r = await xmlrpc(['list', url]);
  t.equal(r.code, 0);
  t.ok(r.stdout.split('\n').includes('add'), 'list: one name a line');

  r = await xmlrpc(['help', url, 'add']);
  t.equal(r.code, 0);
  t.match(r.stdout, /^add\(int, int\) -> int$/m);

  const dir = mkdtempSync(join(tmpdir(), 'xmlrpc-cli-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const calls = join(dir, 'calls.json');
  writeFileSync(calls, JSON.stringify([['add', 1, 2], { methodName: 'add', params: ['a', 1] }]));
  r = await xmlrpc(['multicall', url, calls]);
  t.equal(r.code, 1, 'multicall with a faulting slot: exit 1');
  t.equal(r.stdout, '[0] add: int 3\n[1] add: fault -32602: add takes two numbers, two i8s or two strings\n');

  r = await xmlrpc(['call', '--verbose', '--header', 'X-Trace: abc', url, 'add', '1', '2']);
  t.equal(r.stdout, 'int 3\n', '--verbose: results still on stdout');
  t.match(r.stderr, /^> http:\/\/127\.0\.0\.1:\d+\/RPC2\nPOST \/RPC2 HTTP\/1\.1\r\n/, 'the request bytes on stderr');
  t.match(r.stderr, /X-Trace: abc\r\n/, '--header is sent');
  t.match(r.stderr, /<methodName>add<\/methodName>/);
  t.match(r.stderr, /\n< http:\/\/127\.0\.0\.1:\d+\/RPC2\nHTTP\/1\.1 200 OK\r\n[\s\S]*<int>3<\/int>/, 'the response bytes on stderr');

  const dead = `http://127.0.0.1:${await closedPort()}/RPC2`;
  const targets = join(dir, 'targets.txt');
  writeFileSync(targets, `# two live, one dead\n${url}\n\n${url}\n${dead}\n`);
  r = await xmlrpc(['call', '--targets', targets, 'add', '1', '2']);
  t.equal(r.code, 2, 'a dead target: exit 2');
  const lines = r.stdout.trimEnd().split('\n');
  t.equal(lines.length, 4, 'a header and one row per target, no progress bar when piped');
  t.match(lines[0], /^target\s+status\s+time\s+value or fault$/);
  t.match(lines[1], new RegExp(`^${url.replace(/\./g, '\\.')}\\s+ok\\s+\\d+ ms\\s+3$`));
  t.match(lines[3], /ERR_XMLRPC_CONNECT\s+\d+ ms\s+.*ECONNREFUSED/);
  t.equal(r.stderr, '', 'nothing on stderr when piped');

  r = await xmlrpc(['call', '--all', url, url, '--', 'add', 's/a', '1']);
  t.equal(r.code, 1, 'every target faults: exit 1');
  t.match(r.stdout, /fault -32602\s+\d+ ms\s+add takes two numbers/);

  r = await xmlrpc(['call', '--all', '--json', url, 'add', '2', '3']);
  t.same(
    (JSON.parse(r.stdout) as { status: string; value: unknown }[]).map((row) => [row.status, row.value]),
    [['ok', 5]],
  );

  r = await xmlrpc(['call', '--user', 'ann:secret', url, 'echo', 's/x']);
  t.equal(r.code, 0);
  t.equal(getHeader(demo.requests.at(-1)!.headers, 'authorization'), `Basic ${Buffer.from('ann:secret').toString('base64')}`, '--user: basic credentials');
});

t.test('usage and transport errors: exit 64 and 2, one line each', async (t) => {
  const dead = `http://127.0.0.1:${await closedPort()}/RPC2`;
  const cases: [string[], number, RegExp][] = [
    [['call', dead], 64, /^xmlrpc: call needs a URL and a METHOD$/],
    [['call', dead, 'add', 'i/x'], 64, /^xmlrpc: bad argument "i\/x": not an integer$/],
    [['call', '--timeout', 'soon', dead, 'add'], 64, /^xmlrpc: bad --timeout/],
    [['call', '--nope', dead, 'add'], 64, /^xmlrpc: Unknown option '--nope'/],
    [['frobnicate', dead], 64, /^xmlrpc: unknown command "frobnicate"/],
    [['call', 'ftp://x/', 'add'], 64, /^xmlrpc: bad URL "ftp:\/\/x\/": http: or https: only$/],
    [['call', dead, 'add', '1', '2'], 2, /^xmlrpc: http:\/\/127\.0\.0\.1:\d+\/RPC2: cannot connect to .*ECONNREFUSED/],
  ];
  for (const [args, code, message] of cases) {
    const r = await xmlrpc(args);
    t.equal(r.code, code, `${args.join(' ')}: exit ${code}`);
    t.match(r.stderr.split('\n')[0], message, `${args.join(' ')}: ${JSON.stringify(r.stderr.split('\n')[0])}`);
    t.equal(r.stdout, '', 'nothing on stdout');
  }
  const r = await xmlrpc([]);
  t.equal(r.code, 64, 'no command: usage, 64');
  t.match(r.stdout, /^usage: xmlrpc call/);
});

const probe = spawnSync('python3', ['-c', 'import xmlrpc.server'], { encoding: 'utf8' });
const noPython = probe.error !== undefined || probe.status !== 0 ? 'python3 with xmlrpc.server is not available on this machine' : false;

// Python's SimpleXMLRPCServer with introspection and multicall; prints its port.
const PYTHON_SERVER = `
import sys
from xmlrpc.server import SimpleXMLRPCServer
server = SimpleXMLRPCServer(('127.0.0.1', 0), logRequests=False, allow_none=True, use_builtin_types=True)
server.register_introspection_functions()
server.register_multicall_functions()
def add(a, b):
    """add(a, b): the sum."""
    return a + b
def types(*args):
    return [type(a).__name__ for a in args]
def fail():
    raise ValueError('no\\nway')
server.register_function(add)
server.register_function(types)
server.register_function(fail)
print(server.server_address[1], flush=True)
server.serve_forever()
`;

t.test('the binary against Python xmlrpc.server', { skip: noPython }, async (t) => {
  const port = await spawnListening(t, 'python3', ['-u', '-c', PYTHON_SERVER]);
  const url = `http://127.0.0.1:${port}/RPC2`;
  let r = await xmlrpc(['call', '--json', url, 'types', 'i/1', 'i8/5', 'd/1', 'b/true', 's/x', 'n/', 'dt/20260102T03:04:05', 'b64/aGk=', '[1]', '{"k": 1}']);
  t.equal(r.code, 0, r.stderr);
  t.same(
    JSON.parse(r.stdout),
    ['int', 'int', 'float', 'bool', 'str', 'NoneType', 'datetime', 'bytes', 'list', 'dict'],
    'Python reads each typed argument as its type',
  );
  r = await xmlrpc(['call', url, 'add', 'd/1.5', 'd/1']);
  t.equal(r.stdout, 'double 2.5\n');
  r = await xmlrpc(['call', url, 'fail']);
  t.equal(r.code, 1);
  t.match(r.stderr, /^xmlrpc: fault 1: <class 'ValueError'>:no way\n$/, 'a fault string with a newline stays one line');
  r = await xmlrpc(['list', url]);
  t.ok(r.stdout.split('\n').includes('system.multicall'));
  r = await xmlrpc(['help', url, 'add']);
  t.match(r.stdout, /add\(a, b\): the sum\./);
  r = await xmlrpc(['call', url, 'nope']);
  t.equal(r.code, 1, 'an unknown method is a fault');
  r = await xmlrpc(['call', `http://127.0.0.1:${port}/wrong`, 'add', '1', '2']);
  t.equal(r.code, 2, 'HTTP 404 is a protocol error: exit 2');
  t.match(r.stderr, /^xmlrpc: http:\/\/127\.0\.0\.1:\d+\/wrong: HTTP 404 /);
  t.equal(r.stderr.trimEnd().split('\n').length, 1);
});

t.test('https: --ca trusts a CA, --insecure skips the check, neither fails with exit 2', async (t) => {
  const cert = selfSignedCertificate();
  if (typeof cert === 'string') {
    t.comment(`skipped: ${cert}`);
    return;
  }
  const demo = await demoServer({ tls: { key: cert.key, cert: cert.cert } });
  t.teardown(() => demo.close());
  const url = `https://127.0.0.1:${demo.port}/RPC2`;
  const dir = mkdtempSync(join(tmpdir(), 'xmlrpc-cli-ca-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const ca = join(dir, 'ca.pem');
  writeFileSync(ca, cert.cert);
  let r = await xmlrpc(['call', '--ca', ca, url, 'add', '1', '2']);
  t.same([r.code, r.stdout], [0, 'int 3\n'], `--ca ${r.stderr}`);
  r = await xmlrpc(['call', '--insecure', url, 'add', '1', '2']);
  t.same([r.code, r.stdout], [0, 'int 3\n'], `--insecure ${r.stderr}`);
  r = await xmlrpc(['call', url, 'add', '1', '2']);
  t.equal(r.code, 2, 'an unknown certificate: exit 2');
  t.equal(r.stderr.trimEnd().split('\n').length, 1, `one line: ${r.stderr}`);
});

t.test('--timeout: a server that never answers is a transport error, exit 2', async (t) => {
  const silent = await silentServer();
  t.teardown(() => silent.close());
  const r = await xmlrpc(['call', '--timeout', '0.2', `http://127.0.0.1:${silent.port}/RPC2`, 'add', '1', '2']);
  t.equal(r.code, 2);
  t.match(r.stderr, /^xmlrpc: http:\/\/127\.0\.0\.1:\d+\/RPC2: no response within 200 ms\n$/);
});

t.test('the progress bar draws on a terminal only', async (t) => {
  const written: string[] = [];
  const answered = new Map<string, number>();
  const tty = Object.assign(new (await import('node:stream')).PassThrough(), { isTTY: true });
  tty.on('data', (d: Buffer) => written.push(d.toString()));
  const bar = progressBar({ err: tty, options: { json: false, verbose: false, timeout: undefined, headers: {}, user: undefined, tls: undefined } }, 4, [
    { answeredAt: answered },
  ]);
  answered.set('a', 1);
  bar.stop();
  await new Promise((resolve) => setImmediate(resolve));
  t.match(written.join(''), /^\r\[\.{30}\] 0\/4/, 'drawn at the start');
  t.match(written.join(''), /\r\x1b\[K$/, 'erased at the end');
  const piped = Object.assign(new (await import('node:stream')).PassThrough(), { isTTY: false });
  let pipedBytes = 0;
  piped.on('data', (d: Buffer) => (pipedBytes += d.length));
  progressBar({ err: piped, options: { json: false, verbose: false, timeout: undefined, headers: {}, user: undefined, tls: undefined } }, 4, []).stop();
  await new Promise((resolve) => setImmediate(resolve));
  t.equal(pipedBytes, 0, 'nothing when piped');
});
