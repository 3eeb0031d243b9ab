// lib/server/send.ts: a response the kernel takes at once is written with no
// callback (one would cost a tick of Node's per response); one the socket
// still holds after the write is followed all the same, by an empty write
// queued behind it, so that the connection learns when its bytes have left:
// the budget is released, the deadline and the state move on. A text body
// marked latin1 goes out as one latin1 string, its length its
// Content-Length, whatever its neighbours in a pipelined batch are.

import t, { type Test } from 'tap';
import * as net from 'node:net';
import type { Response } from '../lib/server/request.js';
import type { Server } from '../lib/server/server.js';
import { demoServer, handler, pollUntil, RawClient, ServerSides, startServer, turns } from './support.js';
import { prng } from './xml-corpus.js';

const BODY = Buffer.alloc(16000, 'y');

/**
 * A server answering every request with `response`, and a client that stops
 * reading and sends one request at a time, each answered before the next,
 * until an answer stays in the socket: that one is the first the kernel did
 * not take at once, and the last one written.
 */
async function heldAnswer(t: Test, response: Response) {
  let answered = 0;
  const answer = handler(
    () => true,
    () => (answered++, response),
  );
  const { server, port } = await startServer({ handlers: [answer] });
  t.teardown(() => server.close());
  const sides = new ServerSides(server);
  const client = net.connect(port, '127.0.0.1');
  client.on('error', () => {});
  t.teardown(() => client.destroy());
  await new Promise((resolve) => client.once('connect', resolve));
  client.pause();
  const side = await sides.of(client);
  let sent = 0;
  while (side.socket.writableLength === 0 && sent < 4000) {
    client.write('GET /x HTTP/1.1\r\nHost: x\r\n\r\n');
    sent++;
    await pollUntil(() => answered === sent, 'the request to be answered');
    await turns(1);
  }
  t.ok(side.socket.writableLength > 0, `the socket holds part of the answer to request ${sent}`);
  t.ok(server.stats().bufferedBytes > 0, 'held, and counted');
  return { server, client, side, sent };
}

t.test('a small response the kernel takes only in part is followed until its last byte has left', async (t) => {
  const { server, client, side, sent } = await heldAnswer(t, { status: 200, body: BODY });
  let got = 0;
  client.on('data', (d: Buffer) => (got += d.length));
  client.resume();
  await pollUntil(() => got > sent * BODY.length, 'the client to read every answer', 10_000);
  await pollUntil(() => server.stats().bufferedBytes === 0, 'the server to learn that the socket is empty');
  t.equal(side.socket.writableLength, 0);
});

/** `n` characters: printable ASCII, with `odd` (if any) every 97th. */
function text(n: number, odd = ''): string {
  let s = '';
  for (let i = 0; i < n; i++) s += odd !== '' && i % 97 === 96 ? odd : String.fromCharCode(0x20 + ((i * 7) % 95));
  return s;
}

const FROZEN = Object.freeze({ 'Content-Type': 'text/plain' });

/** What each path answers: /ascii (frozen headers), /open (headers not frozen), /latin (marked latin1, with characters past U+007F and past U+00FF), /utf8, /buf, /none (204). */
function answerFor(path: string): { response: Response; bytes: Buffer | null } {
  const [, kind, size] = path.split('/');
  const n = Number(size ?? 0);
  switch (kind) {
    case 'ascii':
      return { response: { status: 200, headers: FROZEN, body: text(n), latin1: true }, bytes: Buffer.from(text(n), 'latin1') };
    case 'open':
      return { response: { status: 200, headers: { 'Content-Type': 'text/plain' }, body: text(n), latin1: true }, bytes: Buffer.from(text(n), 'latin1') };
    case 'latin':
      // Past ASCII, past latin1 even: each character still one byte (its low byte), so the framing holds.
      return {
        response: { status: 200, headers: FROZEN, body: text(n, n % 2 === 0 ? 'é' : '\u20ac'), latin1: true },
        bytes: Buffer.from(text(n, n % 2 === 0 ? 'é' : '\u20ac'), 'latin1'),
      };
    case 'utf8':
      return { response: { status: 200, headers: FROZEN, body: text(n, 'é中') }, bytes: Buffer.from(text(n, 'é中'), 'utf8') };
    case 'buf':
      return { response: { status: 200, headers: FROZEN, body: Buffer.from(text(n), 'latin1') }, bytes: Buffer.from(text(n), 'latin1') };
    default:
      return { response: { status: 204, headers: FROZEN, body: text(n), latin1: true }, bytes: null };
  }
}

/** A server answering each path as `answerFor` says; its port. */
async function answering(t: Test): Promise<number> {
  const { server, port } = await startServer({
    handlers: [
      handler(
        () => true,
        (r) => answerFor(r.path).response,
      ),
    ],
  });
  t.teardown(() => server.close());
  return port;
}

t.test(
  'text bodies marked latin1 go out as their characters with their length as Content-Length, alone and in pipelined batches with other bodies',
  async (t) => {
    const port = await answering(t);
    const c = await RawClient.open(port);
    t.teardown(() => c.destroy());
    const r = prng(1606);
    const kinds = ['ascii', 'ascii', 'ascii', 'open', 'latin', 'utf8', 'buf', 'none'];
    const sizes = [1, 9, 10, 100, 4535, 8191, 16384 - 120, 16384, 16385, 40000];
    const expected: Array<{ path: string; head: boolean }> = [];
    while (expected.length < 600) {
      // A batch of one (answered before the next is sent) or of up to 24, pipelined in one write.
      const batch = r() < 0.4 ? 1 : 2 + Math.floor(r() * 23);
      let bytes = '';
      for (let i = 0; i < batch; i++) {
        const path = `/${kinds[Math.floor(r() * kinds.length)]!}/${r() < 0.7 ? sizes[Math.floor(r() * sizes.length)]! : Math.floor(r() * 20000)}`;
        // The client reads the next response as a HEAD's: so a HEAD goes alone.
        const head = batch === 1 && r() < 0.25;
        if (head) c.headResponses++;
        expected.push({ path, head });
        bytes += `${head ? 'HEAD' : 'GET'} ${path} HTTP/1.1\r\nHost: x\r\n\r\n`;
      }
      c.write(bytes);
      await c.responsesCount(expected.length, 10_000);
    }
    t.equal(c.parseError, null);
    let wrong = 0;
    expected.forEach(({ path, head }, i) => {
      const got = c.responses[i]!;
      const want = answerFor(path).bytes;
      const length = got.header('content-length');
      const ok =
        want === null
          ? got.status === 204 && length === undefined && got.body.length === 0
          : got.status === 200 && length === String(want.length) && (head ? got.body.length === 0 : got.body.equals(want));
      if (!ok && wrong++ < 5) t.fail(`${head ? 'HEAD' : 'GET'} ${path}: ${got.status}, Content-Length ${length}, ${got.body.length} bytes`);
    });
    t.equal(wrong, 0, `${expected.length} responses`);
  },
);

t.test('a text response marked latin1 the kernel takes only in part is followed until its last byte has left', async (t) => {
  const body = text(16000);
  const { server, client, side, sent } = await heldAnswer(t, { status: 200, headers: FROZEN, body, latin1: true });
  const chunks: Buffer[] = [];
  client.on('data', (d: Buffer) => chunks.push(d));
  client.resume();
  const one = `HTTP/1.1 200 OK\r\nDate: *\r\nContent-Type: text/plain\r\nContent-Length: 16000\r\n\r\n${body}`;
  await pollUntil(() => chunks.reduce((n, c) => n + c.length, 0) >= sent * (one.length + 2), 'the client to read every answer', 10_000);
  await pollUntil(() => server.stats().bufferedBytes === 0, 'the server to learn that the socket is empty');
  t.equal(side.socket.writableLength, 0);
  const all = Buffer.concat(chunks)
    .toString('latin1')
    .replace(/\r\nDate: [^\r]*\r\n/g, '\r\nDate: *\r\n');
  t.equal(all, one.repeat(sent), 'every answer whole, byte for byte');
});

t.test('text responses gathered from a pipelined read leave before the connection closes, and before a 100 Continue', async (t) => {
  const port = await answering(t);
  const closing = await RawClient.open(port);
  t.teardown(() => closing.destroy());
  closing.write(
    'GET /ascii/5 HTTP/1.1\r\nHost: x\r\n\r\nGET /ascii/6 HTTP/1.1\r\nHost: x\r\n\r\nGET /ascii/7 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
  );
  await closing.whenClosed();
  t.same(
    closing.responses.map((r) => r.body.toString('latin1')),
    [text(5), text(6), text(7)],
    'every response, then the close',
  );
  const continued = await RawClient.open(port);
  t.teardown(() => continued.destroy());
  const raw: Buffer[] = [];
  continued.socket.on('data', (d: Buffer) => raw.push(d));
  continued.write('GET /ascii/5 HTTP/1.1\r\nHost: x\r\n\r\nPOST /ascii/6 HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n');
  await continued.until(() => continued.informational.length === 1, 3000, 'the 100 Continue');
  continued.write('abc');
  await continued.responsesCount(2);
  const all = Buffer.concat(raw).toString('latin1');
  t.ok(all.indexOf('HTTP/1.1 200 OK') >= 0 && all.indexOf('HTTP/1.1 200 OK') < all.indexOf('HTTP/1.1 100 Continue'), 'the first response before the 100');
  t.same(
    continued.responses.map((r) => r.body.toString('latin1')),
    [text(5), text(6)],
  );
});

t.test('text responses gathered from a pipelined read still leave when onRequest closes the server in the middle of it', async (t) => {
  let server: Server | null = null;
  const recorded: string[] = [];
  const started = await startServer({
    handlers: [
      handler(
        () => true,
        (r) => answerFor(r.path).response,
      ),
    ],
    // A logger that closes the server after the first answer: the connection owes what it gathered.
    onRequest: (record) => {
      recorded.push(`${record.status} ${record.path}`);
      if (recorded.length === 1) void server?.close();
    },
  });
  server = started.server;
  const c = await RawClient.open(started.port);
  t.teardown(() => c.destroy());
  c.write('GET /ascii/5 HTTP/1.1\r\nHost: x\r\n\r\nGET /ascii/6 HTTP/1.1\r\nHost: x\r\n\r\n');
  await c.whenClosed();
  t.equal(c.parseError, null);
  t.same(
    c.responses.map((r) => r.body.toString('latin1')),
    [text(5), text(6)].slice(0, recorded.length),
    `each response recorded (${recorded.join(', ')}) reached the client`,
  );
  t.ok(recorded.length >= 1);
});

/** A response off `data` at `at`: its status, head (its lines each with their CRLF) and body (none for a HEAD's, a 1xx's or a 204's); null while incomplete. */
function responseAt(data: Buffer, at: number, head: boolean): { status: number; head: string; body: Buffer; end: number } | null {
  const end = data.indexOf('\r\n\r\n', at);
  if (end < 0) return null;
  const text = data.subarray(at, end + 2).toString('latin1'); // each line with its CRLF
  const status = Number(text.slice(9, 12));
  const length = status < 200 || status === 204 || head ? 0 : Number(/\r\nContent-Length: (\d+)/.exec(text)?.[1] ?? 0);
  if (end + 4 + length > data.length) return null;
  return { status, head: text, body: data.subarray(end + 4, end + 4 + length), end: end + 4 + length };
}

/** An XML-RPC call of add(a, b) (a fault for a string b). */
function addCall(a: number, b: number | string): string {
  const value = typeof b === 'number' ? `<int>${b}</int>` : `<string>${b}</string>`;
  const body = `<?xml version="1.0"?><methodCall><methodName>add</methodName><params><param><value><int>${a}</int></value></param><param><value>${value}</value></param></params></methodCall>`;
  return `POST /RPC2 HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
}

// Requests the HTTP layer refuses, ending a batch: each answered after the responses owed, then the close.
const REFUSED: Array<[string, number]> = [
  ['BLAH\r\n\r\n', 400],
  ['GET / HTTP/2.0\r\nHost: x\r\n\r\n', 505],
  [`GET / HTTP/1.1\r\nHost: x\r\nX: ${'a'.repeat(20000)}\r\n\r\n`, 431],
  ['POST /ascii/3 HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999\r\n\r\n', 413],
];

t.test(
  'pipelined batches mixing text gathered while corked with XML-RPC answers, Buffers, late answers, HEADs, 100 Continues, closes and refused requests come back whole and in order',
  async (t) => {
    const wait = async (turnsLeft: number) => turns(turnsLeft);
    const demo = await demoServer({}, [
      handler(
        (r) => r.path !== '/RPC2',
        (r) => {
          // /later/<turns>/<kind>/<size>: answered as /<kind>/<size> after that many turns of the loop.
          const [, kind, turnsLeft, ...rest] = r.path.split('/');
          if (kind !== 'later') return answerFor(r.path).response;
          return wait(Number(turnsLeft)).then(() => answerFor(`/${rest.join('/')}`).response);
        },
      ),
    ]);
    t.teardown(() => demo.close());
    const r = prng(1607);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
    let wrong = 0;
    const met = { head: 0, late: 0, add: 0, continue: 0, close: 0, refused: 0 };
    for (let round = 0; round < 120 && wrong < 3; round++) {
      const want: Array<{ label: string; head: boolean; ok: (status: number, head: string, body: Buffer) => boolean }> = [];
      let bytes = '';
      let withheld = ''; // a body sent once its 100 Continue has come
      let closes = false;
      const n = 1 + Math.floor(r() * 10);
      for (let i = 0; i < n; i++) {
        const last = i === n - 1;
        if (r() < 0.3) {
          const a = Math.floor((r() - 0.5) * 2 ** 31);
          const b = r() < 0.2 ? 'x' : Math.floor(r() * 1000);
          bytes += addCall(a, b);
          met.add++;
          const expect = typeof b === 'string' ? '<fault>' : `<int>${a + b}</int>`;
          want.push({ label: `add(${a}, ${b})`, head: false, ok: (status, _, body) => status === 200 && body.includes(expect) });
          continue;
        }
        const plain = `/${pick(['ascii', 'ascii', 'latin', 'buf', 'utf8', 'none'])}/${pick([0, 5, 100, 8000, 16000, 16300, 17000, 40000])}`;
        const path = r() < 0.4 ? `/later/${Math.floor(r() * 4)}${plain}` : plain;
        const body = answerFor(plain).bytes;
        const head = body !== null && r() < 0.15;
        if (head) met.head++;
        if (path !== plain) met.late++;
        const form = last && !head ? pick(['get', 'get', 'close', 'continue', 'continued']) : pick(['get', 'get', 'get', 'continued']);
        if (form === 'continue') {
          bytes += `POST ${path} HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n`;
          withheld = 'abc';
          met.continue++;
        } else if (form === 'continued' && !head) {
          bytes += `POST ${path} HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc`;
        } else {
          bytes += `${head ? 'HEAD' : 'GET'} ${path} HTTP/1.1\r\nHost: x\r\n${form === 'close' ? 'Connection: close\r\n' : ''}\r\n`;
          closes = form === 'close';
          if (closes) met.close++;
        }
        want.push({
          label: `${head ? 'HEAD' : form === 'get' || form === 'close' ? 'GET' : 'POST'} ${path}`,
          head,
          ok: (status, text, got) =>
            body === null
              ? status === 204 && got.length === 0
              : status === 200 && text.includes(`\r\nContent-Length: ${body.length}\r\n`) && (head ? got.length === 0 : got.equals(body)),
        });
      }
      if (!closes && withheld === '' && r() < 0.3) {
        const [refused, status] = pick(REFUSED);
        bytes += refused;
        closes = true;
        met.refused++;
        want.push({ label: `refused ${status}`, head: false, ok: (got, text) => got === status && text.includes('\r\nConnection: close\r\n') });
      }
      // Read responses (and the 100) as they come; the batch is done once all have come, and the close if one is due.
      const socket = net.connect(demo.port, '127.0.0.1');
      socket.on('error', () => {});
      await new Promise((resolve) => socket.once('connect', resolve));
      const got: Array<{ status: number; head: string; body: Buffer }> = [];
      const continues: number[] = [];
      let data = Buffer.alloc(0);
      let at = 0;
      const done = new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`round ${round}: ${got.length} of ${want.length} responses`)), 10_000);
        const finish = () => (clearTimeout(timer), resolve());
        socket.on('data', (chunk: Buffer) => {
          data = Buffer.concat([data, chunk]);
          for (let one; (one = responseAt(data, at, want[got.length]?.head === true)) !== null; at = one.end) {
            if (one.status < 200) {
              continues.push(got.length);
              if (withheld !== '') socket.write(withheld);
            } else {
              got.push(one);
            }
          }
          if (got.length >= want.length && !closes) finish();
        });
        socket.on('close', finish);
      });
      socket.write(Buffer.from(bytes, 'latin1'));
      await done;
      socket.destroy();
      const firstWrong = want.findIndex((w, i) => got[i] === undefined || !w.ok(got[i]!.status, got[i]!.head, got[i]!.body));
      // One 100, after the responses before its request, when the body waits for it; none when the body came along.
      const continueWrong = withheld !== '' ? continues.length !== 1 || continues[0] !== want.length - 1 : continues.length !== 0;
      if (firstWrong >= 0 || got.length !== want.length || at !== data.length || continueWrong) {
        wrong++;
        t.fail(
          `round ${round}: ${want.map((w) => w.label).join(', ')}: ${got.map((g) => g.status).join(',')} (first wrong: ${firstWrong}, 100 before ${continues.join(',')})`,
        );
      }
    }
    t.equal(wrong, 0);
    t.ok(
      Object.values(met).every((k) => k >= 10),
      `every kind met: ${JSON.stringify(met)}`,
    );
  },
);
