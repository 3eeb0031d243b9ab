// A request body's memory follows the bytes that have arrived, never the
// length the client declared.

import t from 'tap';
import { randomBytes } from 'node:crypto';
import { BodyBuffer, LARGE_BODY } from '../lib/server/body.js';

const MiB = 1024 * 1024;

t.test('one byte of a body declared at 8 MiB holds one byte, not 8 MiB', async (t) => {
  const body = new BodyBuffer(8 * MiB);
  t.equal(body.growth(Buffer.from('x')), 1);
  body.append(Buffer.from('x'));
  t.equal(body.held, 1);
  t.equal(body.length, 1);
});

t.test('a large body grows by doubling: never more than twice what has arrived, exactly its length when complete', async (t) => {
  const declared = 8 * MiB + 123;
  const input = randomBytes(declared);
  const body = new BodyBuffer(declared);
  let copiedCapacity = 0;
  for (let at = 0, step = 1; at < declared; step = Math.min(step * 3, 64 * 1024)) {
    const chunk = input.subarray(at, Math.min(declared, at + step));
    const growth = body.growth(chunk);
    const before = body.held;
    body.append(chunk);
    at += chunk.length;
    t.equal(body.held - before, growth, 'growth() foretells what append() adds');
    if (growth > 0) copiedCapacity += before;
    if (body.held > Math.max(2 * at, 1)) t.fail(`held ${body.held} after ${at} bytes`);
  }
  t.equal(body.held, declared, 'the last growth lands on the declared length');
  t.ok(copiedCapacity < 2 * declared, `copying stays linear: ${copiedCapacity} bytes re-copied for ${declared}`);
  t.same(body.take(), input);
  t.equal(body.held, 0, 'nothing held once taken');
});

t.test('a small or chunked body keeps the socket chunks as they are, and a single chunk is not copied', async (t) => {
  const one = Buffer.from('<methodCall/>');
  const small = new BodyBuffer(one.length);
  small.append(one);
  t.equal(small.take(), one, 'the very chunk');
  const chunked = new BodyBuffer(-1);
  const parts = [randomBytes(LARGE_BODY), randomBytes(LARGE_BODY), Buffer.from('end')];
  for (const part of parts) {
    t.equal(chunked.growth(part), part.length);
    chunked.append(part);
  }
  t.equal(chunked.held, 2 * LARGE_BODY + 3);
  t.same(chunked.take(), Buffer.concat(parts));
});
