// A large body that comes in several reads is joined into a buffer the
// server reuses for a later request, when its handler says it gives the body
// back once its response is ready (Handler.lendsBody). A reused buffer must
// never let one request's bytes show up in another's body or values.

import t, { type Test } from 'tap';
import { randomBytes } from 'node:crypto';
import { BodyBuffer, BodyPool } from '../lib/server/body.js';
import type { Handler, Request } from '../lib/server/request.js';
import { XmlRpcDispatcher } from '../lib/rpc/dispatcher.js';
import { parseMethodResponse } from '../lib/xmlrpc/decode.js';
import { gate, RawClient, startServer, type Gate } from './support.js';

const KiB = 1024;

/** A body of `n` bytes in reads of `step` (the last one shorter), as the socket would give them. */
function fill(body: BodyBuffer, input: Buffer, step: number): void {
  for (let at = 0; at < input.length; at += step) {
    const chunk = input.subarray(at, Math.min(input.length, at + step));
    const growth = body.growth(chunk);
    const before = body.held;
    body.append(chunk);
    if (body.held - before !== growth) throw new Error(`growth() said ${growth}, append() added ${body.held - before}`);
  }
}

t.test('a large body in several reads is joined into a lent buffer, and the next body reuses it with its own bytes', async (t) => {
  const pool = new BodyPool();
  const first = randomBytes(200 * KiB);
  const a = new BodyBuffer(first.length, pool);
  fill(a, first, 64 * KiB);
  t.same(a.take(), first);
  const lent = a.lent;
  t.ok(lent !== null && lent.length >= first.length, 'joined into a buffer to lend');
  pool.give(lent!);
  t.equal(pool.bytes, lent!.length);

  const second = randomBytes(150 * KiB);
  const b = new BodyBuffer(second.length, pool);
  fill(b, second, 10 * KiB + 7);
  t.equal(b.held, second.length, 'holds what came, not the lent capacity');
  const body = b.take();
  t.equal(b.lent, lent, 'the very buffer given back');
  t.equal(pool.bytes, 0, 'lent out of the pool');
  t.same(body, second, 'its own bytes');
  t.equal(body.length, second.length);
});

t.test('bodies not lent: whole in one read, chunked, small, or with no pool', async (t) => {
  const pool = new BodyPool();
  const input = randomBytes(100 * KiB);
  const whole = new BodyBuffer(input.length, pool);
  whole.append(input);
  t.equal(whole.take(), input, 'one read: the very chunk');
  t.equal(whole.lent, null);
  const chunked = new BodyBuffer(-1, pool);
  fill(chunked, input, 20 * KiB);
  t.same(chunked.take(), input);
  t.equal(chunked.lent, null, 'chunked: no declared length to lend for');
  const small = Buffer.from('x'.repeat(40 * KiB));
  const smallBody = new BodyBuffer(small.length, pool);
  fill(smallBody, small, 16 * KiB);
  t.same(smallBody.take(), small);
  t.equal(smallBody.lent, null, 'under 64 KiB');
  const kept = new BodyBuffer(input.length);
  fill(kept, input, 20 * KiB);
  t.same(kept.take(), input);
  t.equal(kept.lent, null, 'no pool: the handler keeps its body');
});

t.test('the pool keeps a few buffers, the largest, none over its limit', async (t) => {
  const pool = new BodyPool(2, 1000);
  pool.give(Buffer.alloc(1001));
  t.equal(pool.bytes, 0, 'over the limit: dropped');
  pool.give(Buffer.alloc(100));
  pool.give(Buffer.alloc(300));
  pool.give(Buffer.alloc(200));
  t.equal(pool.bytes, 500, 'the two largest');
  t.equal(pool.take(250)?.length, 300, 'the smallest that fits');
  t.equal(pool.take(250), null);
  t.equal(pool.take(150)?.length, 200);
});

/**
 * POST /body: `lendsBody` as given; records a copy of each body and the body
 * Buffer itself, and answers the body's length. `headSeen` opens when the
 * server has read a request's head (match() runs then, before the body).
 */
function recorder(lendsBody: boolean): { handler: Handler; copies: string[]; bodies: Buffer[]; requests: Request[]; headSeen: () => Gate } {
  const copies: string[] = [];
  const bodies: Buffer[] = [];
  const requests: Request[] = [];
  let seen = gate();
  const handler: Handler = {
    lendsBody,
    match: (request) => {
      if (request.path !== '/body') return false;
      seen.open();
      return true;
    },
    handle: (request) => {
      copies.push(request.body.toString('latin1'));
      bodies.push(request.body);
      requests.push(request);
      return { status: 200, body: `${request.body.length}\n` };
    },
  };
  return {
    handler,
    copies,
    bodies,
    requests,
    headSeen: () => {
      seen = gate();
      return seen;
    },
  };
}

/** Sends `body` to /body in two writes, the second once the server has read the head and the first part (so in two reads at least). */
async function sendInTwo(c: RawClient, seen: Gate, body: Buffer, n: number): Promise<void> {
  const head = `POST /body HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n`;
  c.write(Buffer.concat([Buffer.from(head, 'latin1'), body.subarray(0, 1000)]));
  await seen.promise;
  c.write(body.subarray(1000));
  await c.responsesCount(n);
}

/** 300 KiB of one letter: bodies that differ in every byte. */
function letters(letter: string): Buffer {
  return Buffer.alloc(300 * KiB, letter);
}

/** Three 300 KiB bodies, each in two reads, to a recorder that lends its body or not. */
async function threeBodies(t: Test, lendsBody: boolean): Promise<{ r: ReturnType<typeof recorder>; c: RawClient; bodies: Buffer[] }> {
  const r = recorder(lendsBody);
  const { server, port } = await startServer({ handlers: [r.handler] });
  t.teardown(() => server.close());
  const c = await RawClient.open(port);
  t.teardown(() => c.destroy());
  const bodies = [letters('a'), letters('b'), letters('c')];
  for (let i = 0; i < bodies.length; i++) await sendInTwo(c, r.headSeen(), bodies[i]!, i + 1);
  return { r, c, bodies };
}

t.test('a handler that lends its body: the next request reuses the buffer, each sees its own bytes, and a kept Request shows no other bytes', async (t) => {
  const { r, c, bodies } = await threeBodies(t, true);
  t.same(
    c.responses.map((x) => x.text()),
    bodies.map((b) => `${b.length}\n`),
  );
  t.same(
    r.copies,
    bodies.map((b) => b.toString('latin1')),
    'each request saw its own bytes',
  );
  t.equal(r.bodies[1]!.buffer, r.bodies[0]!.buffer, 'the second body was joined into the buffer the first one gave back');
  t.equal(r.bodies[2]!.buffer, r.bodies[0]!.buffer, 'and the third');
  t.same(
    r.requests.map((x) => x.body.length),
    [0, 0, 0],
    'once its response is ready, a request’s body is empty: a Request kept past it shows no later request’s bytes',
  );
});

t.test('a handler that keeps its body (the default): no body is reused', async (t) => {
  const { r, bodies } = await threeBodies(t, false);
  t.same(
    r.bodies.map((b) => b.toString('latin1')),
    bodies.map((b) => b.toString('latin1')),
    'every kept body still holds its own bytes after the later requests',
  );
  t.same(
    r.requests.map((x) => x.body.length),
    bodies.map((b) => b.length),
  );
});

t.test('XML-RPC: values decoded from a lent body share no memory with it', async (t) => {
  const kept: Buffer[] = [];
  const strings: string[] = [];
  const rpc = new XmlRpcDispatcher();
  t.equal(rpc.lendsBody, true, 'an XML-RPC handler without offload lends its body');
  t.equal(new XmlRpcDispatcher({ lendsBody: false }).lendsBody, false, 'one told its call() keeps request.body does not');
  rpc.registerFunction((bytes: unknown, text: unknown) => {
    kept.push(bytes as Buffer);
    strings.push(text as string);
    return (bytes as Buffer).length;
  }, 'keep');
  let seen = gate();
  const handler: Handler = {
    lendsBody: true,
    match: (request) => {
      if (!rpc.match(request)) return false;
      seen.open();
      return true;
    },
    handle: (request) => rpc.handle(request),
  };
  const { server, port } = await startServer({ handlers: [handler] });
  t.teardown(() => server.close());
  const c = await RawClient.open(port);
  t.teardown(() => c.destroy());
  const values = [randomBytes(120 * KiB), randomBytes(120 * KiB), randomBytes(120 * KiB)];
  const texts = ['first '.repeat(10000), 'second '.repeat(9000), 'third '.repeat(10000)];
  for (let i = 0; i < values.length; i++) {
    const xml =
      `<?xml version="1.0"?><methodCall><methodName>keep</methodName><params>` +
      `<param><value><base64>${values[i]!.toString('base64')}</base64></value></param>` +
      `<param><value><string>${texts[i]}</string></value></param></params></methodCall>`;
    const body = Buffer.from(xml, 'latin1');
    const head = `POST /RPC2 HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nContent-Length: ${body.length}\r\n\r\n`;
    seen = gate();
    c.write(Buffer.concat([Buffer.from(head, 'latin1'), body.subarray(0, 1000)]));
    await seen.promise;
    c.write(body.subarray(1000));
    const responses = await c.responsesCount(i + 1);
    t.equal(parseMethodResponse(responses[i]!.body), values[i]!.length);
  }
  t.same(kept, values, 'every decoded base64 value still holds its own bytes after the later requests');
  t.same(strings, texts, 'and every string its own text');
});

t.test('a DocHandler lends the body as the handler it wraps does', async (t) => {
  const { DocHandler } = await import('../lib/rpc/doc.js');
  t.equal(new DocHandler(new XmlRpcDispatcher()).lendsBody, true);
  const keeps = Object.assign(new XmlRpcDispatcher(), { lendsBody: false });
  t.equal(new DocHandler(keeps).lendsBody, false);
});
