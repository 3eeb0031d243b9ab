// The access log: one record per answered request, 4xx included, written in
// the common, combined and JSON-lines formats, and handed as is to a
// pino-shaped logger. Time is a ManualClock: durations are exact (0 where the
// clock did not move, 250 ms where the test moved it between head and body),
// and the 408 comes from advancing it.

import t from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import { ManualClock, RawClient, ServerSides, post } from './support.js';
import { Server } from '../lib/server/server.js';
import { errorLine } from '../lib/server/server.js';
import { clfDate, type AccessLogFormat, type AccessRecord } from '../lib/server/access-log.js';
import { DemoHandler } from '../handlers/demo.js';
import { XmlRpcDispatcher } from '../lib/rpc/dispatcher.js';
import { dumps } from '../lib/xmlrpc/encode.js';

/** What the test knows of each request it sent, in the order the server answers them. */
interface Expected {
  status: number;
  method: string;
  target: string;
  rpcMethod: string | null;
  faultCode: number | null;
  connection: number;
  request: number;
  bytesIn: number;
  durationUs: number | [number, number];
  userAgent?: string;
}

interface Run {
  records: AccessRecord[];
  lines: string[];
  expected: Expected[];
  /** Bytes each connection received, by connection number. */
  received: Map<number, number>;
}

/** Sends the known sequence (200 and a fault pipelined, 200 after a pause, 404, 405, 400, 413, 408) to a server logging in `format`. */
async function runSequence(t: { teardown(fn: () => unknown): void }, format: AccessLogFormat): Promise<Run> {
  const clock = new ManualClock();
  const records: AccessRecord[] = [];
  const lines: string[] = [];
  const server = new Server({
    handlers: [new DemoHandler()],
    clock,
    headersTimeout: 1000,
    maxBodyBytes: 4096,
    onError: () => {},
    accessLog: { format, to: (line) => lines.push(line) },
    onRequest: (record) => records.push(record),
  });
  const { port } = await server.listen(0, '127.0.0.1');
  t.teardown(() => server.close({ timeout: 0 }));
  const sides = new ServerSides(server);
  const expected: Expected[] = [];
  const received = new Map<number, number>();
  let connection = 0;
  const open = async () => {
    const c = await RawClient.open(port);
    t.teardown(() => c.destroy());
    const id = ++connection;
    received.set(id, 0);
    c.socket.on('data', (chunk: Buffer) => received.set(id, received.get(id)! + chunk.length));
    return { c, id, side: await sides.of(c.socket) };
  };

  // 1. A 200 and a fault pipelined in one write: one connection, requests 1 and 2.
  {
    const { c, id } = await open();
    const ok = post('/RPC2', dumps([2, 3], 'add'), 'User-Agent: test "agent"\r\n');
    const fault = post('/RPC2', dumps(['a', 1], 'add'));
    c.write(ok + fault);
    await c.responsesCount(2);
    expected.push({
      status: 200,
      method: 'POST',
      target: '/RPC2',
      rpcMethod: 'add',
      faultCode: null,
      connection: id,
      request: 1,
      bytesIn: ok.length,
      durationUs: 0,
      userAgent: 'test "agent"',
    });
    expected.push({
      status: 200,
      method: 'POST',
      target: '/RPC2',
      rpcMethod: 'add',
      faultCode: -32602,
      connection: id,
      request: 2,
      bytesIn: fault.length,
      durationUs: 0,
    });
    // 2. Same connection, request 3: its body comes 250 ms (of the clock) after its head.
    const whole = post('/RPC2', dumps([40, 2], 'add'));
    const headEnd = whole.indexOf('\r\n\r\n') + 4;
    const side = sides.sides[0]!;
    const before = side.bytes;
    c.write(whole.slice(0, headEnd));
    await sides.until(() => side.bytes === before + headEnd, 'the server to read the head');
    clock.advance(250);
    c.write(whole.slice(headEnd));
    await c.responsesCount(3);
    expected.push({
      status: 200,
      method: 'POST',
      target: '/RPC2',
      rpcMethod: 'add',
      faultCode: null,
      connection: id,
      request: 3,
      bytesIn: whole.length,
      durationUs: 250_000,
    });
    c.destroy();
  }
  // 3. 404: no handler for the path.
  {
    const { c, id } = await open();
    const request = 'GET /nowhere?x=1 HTTP/1.1\r\nHost: x\r\nReferer: http://example.test/\r\n\r\n';
    c.write(request);
    await c.responsesCount(1);
    expected.push({
      status: 404,
      method: 'GET',
      target: '/nowhere?x=1',
      rpcMethod: null,
      faultCode: null,
      connection: id,
      request: 1,
      bytesIn: request.length,
      durationUs: 0,
    });
    c.destroy();
  }
  // 4. 405: XML-RPC takes POST.
  {
    const { c, id } = await open();
    const request = 'PUT /RPC2 HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n';
    c.write(request);
    await c.whenClosed();
    expected.push({
      status: 405,
      method: 'PUT',
      target: '/RPC2',
      rpcMethod: null,
      faultCode: null,
      connection: id,
      request: 1,
      bytesIn: request.length,
      durationUs: 0,
    });
  }
  // 5. 400: a header line without a colon; the request line still names the request.
  {
    const { c, id } = await open();
    const good = 'GET /bad HTTP/1.1\r\nNo colon here\r\n';
    c.write(good + '\r\n');
    await c.whenClosed();
    expected.push({
      status: 400,
      method: 'GET',
      target: '/bad',
      rpcMethod: null,
      faultCode: null,
      connection: id,
      request: 1,
      bytesIn: good.length,
      durationUs: 0,
    });
  }
  // 6. 413: a Content-Length over maxBodyBytes is refused at the head.
  {
    const { c, id } = await open();
    const head = 'POST /RPC2 HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n';
    c.write(head);
    await c.whenClosed();
    expected.push({
      status: 413,
      method: 'POST',
      target: '/RPC2',
      rpcMethod: null,
      faultCode: null,
      connection: id,
      request: 1,
      bytesIn: head.length,
      durationUs: 0,
    });
  }
  // 7. 408: half a head, and the clock runs past headersTimeout (the sweep runs every 250 ms).
  {
    const { c, id, side } = await open();
    const partial = 'POST /slow HTTP/1.1\r\nHost: x\r\n';
    c.write(partial);
    await sides.until(() => side.bytes === partial.length, 'the server to read the partial head');
    clock.advance(1250);
    await c.whenClosed();
    expected.push({
      status: 408,
      method: 'POST',
      target: '/slow',
      rpcMethod: null,
      faultCode: null,
      connection: id,
      request: 1,
      bytesIn: partial.length,
      durationUs: [1_000_000, 1_250_000],
    });
  }
  return { records, lines, expected, received };
}

const COMMON = /^(\S+) - - \[([^\]]+)\] "((?:[^"\\]|\\.)*)" (\d{3}) (\d+)$/;
const COMBINED = /^(\S+) - - \[([^\]]+)\] "((?:[^"\\]|\\.)*)" (\d{3}) (\d+) "((?:[^"\\]|\\.)*)" "((?:[^"\\]|\\.)*)"$/;

for (const format of ['common', 'combined', 'json'] as const) {
  t.test(`every answered request is logged in the ${format} format, 4xx included, field by field`, async (t) => {
    const { records, lines, expected, received } = await runSequence(t, format);
    t.equal(records.length, expected.length, 'one record per answer');
    t.equal(lines.length, expected.length, 'one line per answer');
    const outBy = new Map<number, number>();
    for (const [i, e] of expected.entries()) {
      const r = records[i]!;
      t.match(
        r,
        { status: e.status, method: e.method, target: e.target, rpcMethod: e.rpcMethod, faultCode: e.faultCode, connection: e.connection, request: e.request },
        `record ${i}`,
      );
      t.equal(r.path, e.target.split('?')[0], `record ${i}: path`);
      t.equal(r.bytesIn, e.bytesIn, `record ${i}: bytes in`);
      t.equal(r.peer, '127.0.0.1');
      t.equal(r.httpVersion, 'HTTP/1.1');
      if (typeof e.durationUs === 'number') t.equal(r.durationUs, e.durationUs, `record ${i}: duration`);
      else
        t.ok(r.durationUs >= e.durationUs[0] && r.durationUs <= e.durationUs[1], `record ${i}: duration ${r.durationUs} within the sweep after the deadline`);
      t.equal(r.userAgent, e.userAgent ?? null);
      outBy.set(r.connection, (outBy.get(r.connection) ?? 0) + r.bytesOut);
      const line = lines[i]!;
      t.ok(line.endsWith('\n') && line.indexOf('\n') === line.length - 1, 'one line each');
      if (format === 'json') {
        const parsed = JSON.parse(line) as Record<string, unknown>;
        t.same(parsed, { ...r, time: new Date(r.time).toISOString() }, `line ${i}: every field`);
        t.match(parsed.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      } else {
        const m = (format === 'common' ? COMMON : COMBINED).exec(line.slice(0, -1));
        t.ok(m, `line ${i} parses: ${line}`);
        if (m === null) continue;
        t.equal(m[1], '127.0.0.1', 'host');
        t.equal(m[2], clfDate(r.time), 'date');
        t.match(m[2], /^\d\d\/[A-Z][a-z]{2}\/\d{4}:\d\d:\d\d:\d\d \+0000$/);
        t.equal(m[3], `${e.method} ${e.target} HTTP/1.1`, 'request line');
        t.equal(Number(m[4]), e.status, 'status');
        t.equal(Number(m[5]), r.bytesOut, 'bytes');
        if (format === 'combined') {
          t.equal(m[6], e.target.startsWith('/nowhere') ? 'http://example.test/' : '-', 'referer');
          t.equal(m[7], e.userAgent === undefined ? '-' : 'test \\"agent\\"', 'user agent, quotes escaped');
        }
      }
    }
    // Bytes out are what the client received, connection by connection.
    for (const [id, bytes] of received) t.equal(outBy.get(id), bytes, `connection ${id}: bytes out`);
  });
}

t.test('a request line that cannot be read is logged with "-" for the request', async (t) => {
  const lines: string[] = [];
  const records: AccessRecord[] = [];
  const server = new Server({ onError: () => {}, accessLog: { format: 'common', to: (l) => lines.push(l) }, onRequest: (r) => records.push(r) });
  const { port } = await server.listen(0, '127.0.0.1');
  t.teardown(() => server.close({ timeout: 0 }));
  const c = await RawClient.open(port);
  t.teardown(() => c.destroy());
  c.write('\x01\x02 nonsense\r\n\r\n');
  await c.whenClosed();
  t.equal(records.length, 1);
  t.match(records[0], { status: 400, method: '-', path: '-', target: '-', httpVersion: '-', rpcMethod: null, connection: 1, request: 1 });
  t.match(lines[0], /^127\.0\.0\.1 - - \[[^\]]+\] "-" 400 \d+\n$/);
});

t.test('the onRequest record goes to a pino-shaped logger as is, with the stack of a failing method', async (t) => {
  // pino's surface: level methods taking (object, message); the object is serialised with JSON.stringify.
  const written: string[] = [];
  const logger = {
    info: (obj: object, msg?: string) => void written.push(JSON.stringify({ level: 30, time: 0, ...obj, msg })),
    error: (obj: object, msg?: string) => void written.push(JSON.stringify({ level: 50, time: 0, ...obj, msg })),
  };
  const errors: string[] = [];
  const rpc = new XmlRpcDispatcher();
  rpc.registerFunction(() => {
    throw new TypeError('boom');
  }, 'explode');
  const server = new Server({
    handlers: [rpc],
    onError: (err, request) => errors.push(errorLine(err, request)),
    onRequest: (record) => (record.status >= 500 || record.err !== undefined ? logger.error(record, 'request failed') : logger.info(record, 'request')),
  });
  const { port } = await server.listen(0, '127.0.0.1');
  t.teardown(() => server.close({ timeout: 0 }));
  const c = await RawClient.open(port);
  t.teardown(() => c.destroy());
  c.write(post('/RPC2', dumps([], 'explode')) + post('/RPC2', dumps([], 'system.listMethods')));
  await c.responsesCount(2);
  t.equal(written.length, 2);
  const failed = JSON.parse(written[0]!) as Record<string, unknown> & { err: { type: string; message: string; stack: string } };
  t.match(failed, { level: 50, msg: 'request failed', rpcMethod: 'explode', faultCode: -32500, status: 200, connection: 1, request: 1 });
  t.equal(failed.err.type, 'TypeError');
  t.equal(failed.err.message, 'boom');
  t.match(failed.err.stack, /^TypeError: boom\n\s+at /, 'the stack is in the record');
  const ok = JSON.parse(written[1]!) as Record<string, unknown>;
  t.match(ok, { level: 30, msg: 'request', rpcMethod: 'system.listMethods', faultCode: null, request: 2 });
  t.notOk('err' in ok);
  // The onError line: one line, name, message, method and peer; no stack.
  t.equal(errors.length, 1);
  t.match(errors[0], /^xmlrpc server: handler error: TypeError: boom \(method explode peer 127\.0\.0\.1:\d+\)\n$/);
  t.equal(errors[0]!.split('\n').length, 2, 'one line');
});

t.test('an access log file gets its lines in batches, all of them written by close(); a Writable too', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xmlrpc-access-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'access.log');
  fs.writeFileSync(file, 'an earlier line\n');
  const chunks: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  const toFile = new Server({ handlers: [new DemoHandler()], onError: () => {}, accessLog: { format: 'common', to: file } });
  const toStream = new Server({ handlers: [new DemoHandler()], onError: () => {}, accessLog: { format: 'json', to: sink } });
  for (const server of [toFile, toStream]) {
    const { port } = await server.listen(0, '127.0.0.1');
    const c = await RawClient.open(port);
    c.write(post('/RPC2', dumps([1, 2], 'add')).repeat(5));
    await c.responsesCount(5);
    c.destroy();
    await server.close();
  }
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  t.equal(lines[0], 'an earlier line', 'appended to');
  t.equal(lines.length, 7, 'five lines, then the last newline');
  for (const line of lines.slice(1, 6)) t.match(line, /^127\.0\.0\.1 - - \[[^\]]+\] "POST \/RPC2 HTTP\/1\.1" 200 \d+$/);
  const written = chunks.join('').split('\n');
  t.equal(written.length, 6);
  t.same(
    written.slice(0, 5).map((l) => (JSON.parse(l) as AccessRecord).request),
    [1, 2, 3, 4, 5],
  );
  t.ok(chunks.length < 5, `batched: ${chunks.length} write(s) for 5 lines`);
});

t.test('a throwing onRequest, alone, costs nothing but its record', async (t) => {
  const server = new Server({
    handlers: [new DemoHandler()],
    onError: () => {},
    onRequest: () => {
      throw new Error('a broken logger');
    },
  });
  const { port } = await server.listen(0, '127.0.0.1');
  t.teardown(() => server.close({ timeout: 0 }));
  const c = await RawClient.open(port);
  t.teardown(() => c.destroy());
  c.write(post('/RPC2', dumps([1, 2], 'add')) + post('/RPC2', dumps([3, 4], 'add')));
  const [a, b] = await c.responsesCount(2);
  t.equal(a!.status, 200);
  t.equal(b!.status, 200);
  t.notOk(c.closed, 'the connection stays open');
});

t.test('a result that cannot be encoded is logged with the fault it became', async (t) => {
  const records: AccessRecord[] = [];
  const rpc = new XmlRpcDispatcher();
  rpc.registerFunction(() => Symbol('not a value'), 'unsendable');
  const server = new Server({ handlers: [rpc], onError: () => {}, onRequest: (r) => records.push(r) });
  const { port } = await server.listen(0, '127.0.0.1');
  t.teardown(() => server.close({ timeout: 0 }));
  const c = await RawClient.open(port);
  t.teardown(() => c.destroy());
  c.write(post('/RPC2', dumps([], 'unsendable')));
  await c.responsesCount(1);
  t.match(records[0], { status: 200, rpcMethod: 'unsendable', faultCode: -32603, err: { type: 'EncodeError' } });
});

t.test('the default onError line: no request, a non-Error, and a message with line breaks', async (t) => {
  t.equal(errorLine(new RangeError('bad\nforged line'), null), 'xmlrpc server: handler error: RangeError: bad forged line (no request)\n');
  t.equal(errorLine('text', null), 'xmlrpc server: handler error: thrown string: text (no request)\n');
});

t.test('observe() listens from then on and stops when told; no listener, no record', async (t) => {
  const server = new Server({ handlers: [new DemoHandler()], onError: () => {} });
  const { port } = await server.listen(0, '127.0.0.1');
  t.teardown(() => server.close({ timeout: 0 }));
  const host = (server as unknown as { host: { record: unknown } }).host;
  t.equal(host.record, null, 'off: the connection makes no record');
  const seen: AccessRecord[] = [];
  const stop = server.observe((r) => seen.push(r));
  const stopThrowing = server.observe(() => {
    throw new Error('a broken listener');
  });
  const c = await RawClient.open(port);
  t.teardown(() => c.destroy());
  c.write(post('/RPC2', dumps([1, 2], 'add')));
  await c.responsesCount(1);
  t.equal(seen.length, 1, 'a throwing listener does not stop the others');
  stop();
  stopThrowing();
  t.equal(host.record, null, 'off again');
  c.write(post('/RPC2', dumps([1, 2], 'add')));
  await c.responsesCount(2);
  t.equal(seen.length, 1);
});
