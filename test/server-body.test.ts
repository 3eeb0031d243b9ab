// A request body's memory follows the bytes that have arrived, never the
// length the client declared, and a body sent a byte at a time costs a
// buffer per 64 KiB, not an object per byte.

import t from 'tap';
import { randomBytes } from 'node:crypto';
import { BodyBuffer } from '../lib/server/body.js';

const KiB = 1024;
const MiB = 1024 * KiB;

t.test('one byte of a body declared at 8 MiB holds one byte, not 8 MiB', async (t) => {
  const body = new BodyBuffer(8 * MiB);
  t.equal(body.growth(Buffer.from('x')), 1);
  body.append(Buffer.from('x'));
  t.equal(body.held, 1);
  t.equal(body.length, 1);
});

t.test('a body read in every size holds at most twice what has arrived, and growth() foretells each step', async (t) => {
  const declared = 2 * MiB + 123;
  const input = randomBytes(declared);
  const body = new BodyBuffer(declared);
  let worst = 0;
  for (let at = 0, i = 0; at < declared; i++) {
    // 1, 3, 9, ... 59049 bytes, then again: small reads gathered, large ones kept.
    const chunk = input.subarray(at, Math.min(declared, at + 3 ** (i % 11)));
    const growth = body.growth(chunk);
    const before = body.held;
    body.append(chunk);
    at += chunk.length;
    if (body.held - before !== growth) t.fail(`growth() said ${growth}, append() added ${body.held - before}`);
    worst = Math.max(worst, body.held / at);
  }
  t.ok(worst <= 2, `held / received at worst ${worst.toFixed(2)}`);
  t.same(body.take(), input);
  t.equal(body.held, 0, 'nothing held once taken');
});

t.test('a body trickled a byte at a time is gathered into a buffer per 64 KiB', async (t) => {
  const body = new BodyBuffer(-1);
  const input = randomBytes(200 * KiB);
  for (let i = 0; i < input.length; i++) body.append(input.subarray(i, i + 1));
  t.equal(body.parts, 4, '200 KiB in 64 + 64 + 64 + 8');
  t.ok(body.held <= 2 * input.length);
  t.same(body.take(), input);
});

t.test('a whole body in one read, or a large read, is kept as it is, never copied', async (t) => {
  const one = Buffer.from('<methodCall/>');
  const whole = new BodyBuffer(one.length);
  whole.append(one);
  t.equal(whole.take(), one, 'the very chunk');
  const large = randomBytes(64 * KiB);
  const body = new BodyBuffer(-1);
  body.append(large);
  t.equal(body.take(), large, 'the very chunk');
  const parts = [randomBytes(32 * KiB), Buffer.from('abc'), randomBytes(20 * KiB)];
  const mixed = new BodyBuffer(-1);
  for (const part of parts) mixed.append(part);
  t.equal(mixed.parts, 3);
  t.same(mixed.take(), Buffer.concat(parts));
});
