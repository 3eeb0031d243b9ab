// A spawned child's output in the parent (issue 12): stdout and stderr
// lines, console.*, childLogger records, uncaught exceptions and unhandled
// rejections arrive as records, in order per stream, through `logger` and
// `child.logs`; nothing written before a crash is lost.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import t, { type Test } from 'tap';
import { RemoteObjectError, RemoteObjectErrorCode, spawnProcess, type LogRecord, type SpawnOptions, type SpawnedProcess } from '../lib/index.js';
import { LogQueue, MAX_LINE, parseRecord, readLines, toSink } from '../lib/process/logs.js';
import { failure, leftSince, processGone } from './support.js';

type StoreModule = typeof import('./fixtures/spawn-store.js');
const STORE = new URL('./fixtures/spawn-store.js', import.meta.url).href;

const before = process.getActiveResourcesInfo().sort();
/** Every child started here: all must be gone at the end. */
const started: number[] = [];

const gone = processGone;

async function child(t: Test, options: SpawnOptions = {}): Promise<SpawnedProcess> {
  const c = await spawnProcess({ name: 'logs', modules: [STORE], logger: null, execArgv: [], ...options });
  started.push(c.pid);
  t.teardown(async () => {
    c.kill('SIGKILL');
    await c.exited;
  });
  return c;
}

/** Every record of the child, once it has exited (the iterator ends then). */
async function drain(c: SpawnedProcess): Promise<LogRecord[]> {
  const out: LogRecord[] = [];
  for await (const r of c.logs) out.push(r);
  return out;
}

const msgs = (records: LogRecord[], stream: LogRecord['stream']) => records.filter((r) => r.stream === stream).map((r) => r.msg);

t.test('stdout lines, console.* and childLogger records arrive as records, in order within each stream, to logger and child.logs', async (t) => {
  const seen: LogRecord[] = [];
  const c = await child(t, { name: 'writer', logger: (r) => seen.push(r) });
  const m = await c.objects.import<StoreModule>(STORE);
  t.equal(await m.logLines(50), 50);
  await c.stop();
  const iterated = await drain(c);
  t.same(iterated, seen, 'child.logs yields what the logger got, and ends once the child has exited');
  t.same(
    msgs(seen, 'stdout'),
    Array.from({ length: 50 }, (_, i) => `out ${i}`),
  );
  const log = seen.filter((r) => r.stream === 'log');
  t.same(
    log.map((r) => r.msg),
    Array.from({ length: 50 }, (_, i) => [`console ${i}`, `record ${i}`]).flat(),
    'console and logger share the record channel, in the order written',
  );
  t.ok(
    seen.every((r) => r.source === 'writer' && r.pid === c.pid && typeof r.time === 'number'),
    'each names its source and pid',
  );
  t.same(log[1], { time: log[1]!.time, level: 'info', source: 'writer', pid: c.pid, msg: 'record 0', stream: 'log', fields: { part: 'store', i: 0 } });
  t.equal(seen.find((r) => r.stream === 'stdout')!.level, 'info');
});

t.test('the last lines before a crash arrive: the child writes on every stream and then aborts', async (t) => {
  // process.abort() may leave a core file in the cwd.
  const dir = mkdtempSync(join(tmpdir(), 'spawn-abort-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const c = await child(t, { cwd: dir });
  const m = await c.objects.import<StoreModule>(STORE);
  const call = failure(m.writeThenAbort('last'));
  const records = await drain(c);
  t.same(await c.exited, { code: null, signal: 'SIGABRT' });
  t.equal(((await call) as RemoteObjectError).code, RemoteObjectErrorCode.OWNER_GONE);
  t.same(msgs(records, 'stdout'), ['stdout last 1', 'stdout last 2']);
  // Node's own abort banner (a native stack) follows on stderr: that arrives too.
  t.equal(msgs(records, 'stderr')[0], 'stderr last');
  const log = records.filter((r) => r.stream === 'log');
  t.same(
    log.map((r) => [r.level, r.msg]),
    [
      ['warn', 'console last'],
      ['error', 'logger last'],
    ],
  );
  t.same(log[1]!.fields, { part: 'store', tag: 'last' });
  t.equal(records.find((r) => r.stream === 'stderr')!.level, 'error');
});

t.test('an uncaught exception and an unhandled rejection arrive as error records with their stacks; the child exits 1', async (t) => {
  for (const [fn, what, name] of [
    ['throwLater', 'uncaught exception', 'RangeError'],
    ['rejectLater', 'unhandled rejection', 'TypeError'],
  ] as const) {
    const c = await child(t, { execArgv: ['--enable-source-maps'] });
    const m = await c.objects.import<StoreModule>(STORE);
    const pending = failure(m.never());
    await m[fn](`boom from ${fn}`);
    const records = await drain(c);
    t.same(await c.exited, { code: 1, signal: null });
    const crash = records.find((r) => r.level === 'error' && r.stream === 'log');
    t.ok(crash, what);
    t.equal(crash!.msg, `${what}: ${name}: boom from ${fn}`);
    t.match(crash!.stack, new RegExp(`^${name}: boom from ${fn}\\n\\s+at .*spawn-store\\.[jt]s`), 'its stack, in the child');
    const err = await pending;
    t.ok(err instanceof RemoteObjectError && err.code === RemoteObjectErrorCode.OWNER_GONE, 'calls in flight fail with OWNER_GONE');
  }
});

t.test('the default sink is this process’s stderr, each line prefixed [name pid]', async (t) => {
  const written: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string | Uint8Array) => (written.push(String(chunk)), true)) as typeof process.stderr.write;
  t.teardown(() => void (process.stderr.write = write));
  const c = await child(t, { name: 'chatty', logger: undefined });
  const m = await c.objects.import<StoreModule>(STORE);
  await m.logLines(1);
  await c.stop();
  await drain(c);
  process.stderr.write = write;
  const text = written.join('');
  for (const msg of ['out 0', 'console 0', 'record 0']) t.ok(text.includes(`[chatty ${c.pid}] ${msg}\n`), msg);
});

t.test('a pino-style logger gets (mergeObject, msg) on the method of each level', async (t) => {
  const calls: [string, Record<string, unknown>, string | undefined][] = [];
  const at = (level: string) => (obj: object, msg?: string) => calls.push([level, obj as Record<string, unknown>, msg]);
  const sink = toSink({ info: at('info'), warn: at('warn'), error: at('error') });
  const base = { time: 1, source: 's', pid: 2, stream: 'log' as const };
  sink({ ...base, level: 'warn', msg: 'w' });
  sink({ ...base, level: 'debug', msg: 'd', fields: { a: 1 } });
  sink({ ...base, level: 'error', msg: 'e', stack: 'Error: e' });
  t.same(calls, [
    ['warn', { ...base }, 'w'],
    ['info', { ...base, fields: { a: 1 } }, 'd'],
    ['error', { ...base, stack: 'Error: e' }, 'e'],
  ]);
  t.throws(() => toSink({ info() {} } as never), TypeError);
  const c = await child(t, { logger: { info: at('info'), warn: at('warn'), error: at('error'), debug: at('debug') } });
  await (await c.objects.import<StoreModule>(STORE)).logLines(1);
  await c.stop();
  t.ok(calls.some(([level, obj, msg]) => level === 'info' && msg === 'record 0' && (obj.fields as { i: number }).i === 0));
});

t.test('record lines: what does not parse is kept as text; the child cannot claim another source or pid', async (t) => {
  t.same(parseRecord('not json', 'n', 7), { time: parseRecord('not json', 'n', 7).time, level: 'info', source: 'n', pid: 7, msg: 'not json', stream: 'log' });
  const r = parseRecord(JSON.stringify({ time: 5, level: 'fatal', source: 'evil', pid: 1, msg: 'm', stack: 's', fields: [1] }), 'n', 7);
  t.same(r, { time: 5, level: 'info', source: 'n', pid: 7, msg: 'm', stack: 's', stream: 'log' });
});

t.test('readLines splits at newlines, keeps a last line without one, and cuts an endless line', async (t) => {
  const s = new PassThrough();
  const lines: string[] = [];
  const done = readLines(s, (l) => lines.push(l));
  s.write('a\nb');
  s.write('c\n\nd');
  s.end();
  await done;
  t.same(lines, ['a', 'bc', '', 'd']);
  const long = new PassThrough();
  const pieces: number[] = [];
  const read = readLines(long, (l) => pieces.push(l.length));
  long.end('x'.repeat(MAX_LINE + 5));
  await read;
  t.same(pieces, [MAX_LINE, 5]);
});

t.test('child.logs keeps at most logBuffer records for a reader that has not caught up, oldest dropped', async (t) => {
  const q = new LogQueue(2);
  const rec = (msg: string): LogRecord => ({ time: 0, level: 'info', source: 's', pid: 1, msg, stream: 'stdout' });
  for (const m of ['1', '2', '3']) q.push(rec(m));
  q.end();
  const got: string[] = [];
  for await (const r of q) got.push(r.msg);
  t.same(got, ['2', '3']);
  t.equal(q.dropped, 1);
});

t.test('after these tests no child process and no handle is left', async (t) => {
  t.ok(started.length >= 6);
  t.ok(started.every(gone), 'every child pid is gone (each was awaited)');
  // A child's process handle leaves the loop in the close phase after its 'close' event.
  await new Promise<void>((resolve) => setImmediate(() => setImmediate(resolve)));
  t.same(leftSince(before), [], 'no handle left');
});
