// The encoder against itself as it was before its fast paths
// (test/reference-encode.ts, the encoder at 598408d): for random values of
// every kind, alone and in documents of every size, `dumps`, `bufferDumps`
// and `encodeValue` must give the same bytes, or throw the same error with the
// same message, as the reference. Seeded, so a failure can be replayed.

import t from 'tap';
import { Fault } from '../lib/errors.js';
import { bufferDumps } from '../lib/xmlrpc/encode.js';
import { DateTime, Double, I8 } from '../lib/xmlrpc/values.js';
import { outcome, sameAsReference } from './encode-compare.js';
import { prng } from './xml-corpus.js';
import { referenceBufferDumps } from './reference-encode.js';

const CHARS = ['a', 'Z', '0', ' ', '&', '<', '>', '\r', '\n', '\t', ']]>', '"', "'", 'é', 'ÿ', '\u0100', '中', '😀', '\uFFFD', '\uE000'];
const BAD_CHARS = ['\uD800', '\uDFFF', '\u0000', '\u0001', '\u001F', '\uFFFE', '\uFFFF', '\u000B'];

function randomString(rnd: () => number, bad: boolean): string {
  const length = rnd() < 0.3 ? Math.floor(rnd() * 4) : Math.floor(rnd() * 40);
  let s = '';
  for (let i = 0; i < length; i++) {
    const r = rnd();
    s += r < 0.6 ? String.fromCharCode(0x20 + Math.floor(rnd() * 95)) : (CHARS[Math.floor(rnd() * CHARS.length)] as string);
  }
  if (bad) {
    const at = Math.floor(rnd() * (s.length + 1));
    s = s.slice(0, at) + (BAD_CHARS[Math.floor(rnd() * BAD_CHARS.length)] as string) + s.slice(at);
  }
  return s;
}

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);

/** Doubles around every boundary a fast path could have: dyadic fractions, powers of ten and two, the extremes. */
function randomDouble(rnd: () => number): number {
  const sign = rnd() < 0.5 ? -1 : 1;
  switch (Math.floor(rnd() * 8)) {
    case 0: {
      // Any bit pattern.
      u32[0] = Math.floor(rnd() * 2 ** 32);
      u32[1] = Math.floor(rnd() * 2 ** 32);
      return f64[0] as number;
    }
    case 1: // k / 2^j, integer parts up to 2^30
      return sign * (Math.floor(rnd() * 2 ** Math.floor(rnd() * 31)) + Math.floor(rnd() * 2 ** 12) / 2 ** Math.floor(rnd() * 13));
    case 2: // near 2^20 .. 2^26, where a dyadic fraction stops being short
      return sign * (2 ** (20 + Math.floor(rnd() * 7)) - Math.floor(rnd() * 4) + Math.floor(rnd() * 256) / 256);
    case 3:
      return sign * 10 ** Math.floor(rnd() * 44 - 22) * (1 + Math.floor(rnd() * 9));
    case 4:
      return sign * 2 ** Math.floor(rnd() * 2098 - 1074);
    case 5:
      return sign * rnd() * 10 ** Math.floor(rnd() * 30 - 10);
    case 6:
      return [0, -0, 0.1, 0.5, 1e21, 1e-7, 1e-6, 5e-324, 1.7976931348623157e308, 2 ** 31, -(2 ** 31) - 1, 2 ** 53, 0.25, 2.25][
        Math.floor(rnd() * 14)
      ] as number;
    default:
      return [NaN, Infinity, -Infinity][Math.floor(rnd() * 3)] as number;
  }
}

function randomInt(rnd: () => number): number {
  const r = rnd();
  if (r < 0.2) return [0, -1, 1, 2147483647, -2147483648, 9, 10, 99, 100, -10][Math.floor(rnd() * 10)] as number;
  return Math.floor((rnd() - 0.5) * 2 ** Math.floor(rnd() * 33));
}

const NAMES = ['int0', 'str1', 'dbl2', 'a&b', '<x>', 'cr\r', 'é', '名前', '__proto__', 'constructor', '', ' ', 'x'.repeat(100)];

function randomName(rnd: () => number): string {
  const r = rnd();
  if (r < 0.5) return NAMES[Math.floor(rnd() * NAMES.length)] as string;
  if (r < 0.8) return `m${Math.floor(rnd() * 5000)}`;
  return randomString(rnd, rnd() < 0.03);
}

function randomValue(rnd: () => number, depth: number): unknown {
  const r = Math.floor(rnd() * (depth > 3 ? 16 : 21));
  switch (r) {
    case 0:
    case 1:
    case 2:
      return randomInt(rnd);
    case 3:
    case 4:
      return randomDouble(rnd);
    case 5:
    case 6:
      return randomString(rnd, rnd() < 0.03);
    case 7:
      return rnd() < 0.5;
    case 8:
      return rnd() < 0.5 ? null : undefined;
    case 9:
      return BigInt(Math.floor((rnd() - 0.5) * 2 ** 60)) * (rnd() < 0.05 ? 2n ** 10n : 1n);
    case 10: {
      const d = new Date(Math.floor((rnd() - 0.3) * 4e14));
      return rnd() < 0.03 ? new Date(NaN) : d;
    }
    case 11:
      return rnd() < 0.5 ? Buffer.from(randomString(rnd, false)) : new Uint8Array(Math.floor(rnd() * 10)).buffer;
    case 12: {
      const d = rnd() < 0.5 ? randomDouble(rnd) : randomInt(rnd);
      return new Double(Number.isFinite(d) ? d : 1.5);
    }
    case 13:
      return new I8(BigInt(randomInt(rnd)));
    case 14:
      return new DateTime('20250101T12:34:56');
    case 15:
      return rnd() < 0.5 ? Symbol('x') : () => 1;
    case 16:
    case 17: {
      const items: unknown[] = [];
      const n = Math.floor(rnd() * 12);
      for (let i = 0; i < n; i++) items.push(randomValue(rnd, depth + 1));
      return items;
    }
    case 18: {
      const map = new Map<unknown, unknown>();
      const n = Math.floor(rnd() * 6);
      for (let i = 0; i < n; i++) map.set(rnd() < 0.02 ? 7 : randomName(rnd), randomValue(rnd, depth + 1));
      return map;
    }
    default: {
      const obj: Record<string, unknown> = rnd() < 0.5 ? {} : (Object.create(null) as Record<string, unknown>);
      const n = Math.floor(rnd() * 12);
      for (let i = 0; i < n; i++) {
        const name = randomName(rnd);
        const member = randomValue(rnd, depth + 1);
        if (rnd() < 0.1) Object.defineProperty(obj, name, { get: () => member, enumerable: true, configurable: true });
        else Object.defineProperty(obj, name, { value: member, enumerable: true, writable: true, configurable: true });
      }
      return obj;
    }
  }
}

t.test('gives the reference encoder’s bytes or error for 20,000 random values', async (t) => {
  const rnd = prng(16);
  let differ = 0;
  for (let i = 0; i < 20000 && differ < 5; i++) {
    if (!sameAsReference(t, randomValue(rnd, 0), `value #${i}`)) differ++;
  }
  t.equal(differ, 0);
});

t.test('gives the reference encoder’s bytes for documents of every size, past the buffer’s flush', async (t) => {
  const rnd = prng(1616);
  let differ = 0;
  for (let i = 0; i < 300 && differ < 5; i++) {
    const items: unknown[] = [];
    const n = Math.floor(rnd() * 400);
    for (let k = 0; k < n; k++) items.push(randomValue(rnd, 1));
    if (!sameAsReference(t, items, `document #${i} of ${n} items`)) differ++;
  }
  t.equal(differ, 0);
});

t.test('gives the reference encoder’s bytes for every double of a dense sweep of dyadic fractions and powers', async (t) => {
  let differ = 0;
  const doubles: number[] = [];
  for (const ip of [0, 1, 2, 9, 10, 99, 12345, 2 ** 20 - 1, 2 ** 20, 2 ** 21 - 1, 2 ** 23, 2 ** 24 - 1, 2 ** 24, 2 ** 25 + 3, 2 ** 30, 2 ** 31, 2 ** 52]) {
    for (let f = 0; f < 4096; f += ip > 2 ** 20 ? 1 : 3) doubles.push(ip + f / 4096, -(ip + f / 4096));
  }
  for (let e = -1074; e <= 1023; e++) doubles.push(2 ** e, -(2 ** e), 2 ** e * 3, 2 ** e + 2 ** (e - 1));
  for (let e = -330; e <= 310; e++) doubles.push(Number(`1e${e}`), Number(`9.5e${e}`), Number(`-1.25e${e}`));
  for (const d of doubles) {
    const got = outcome(() => bufferDumps([d], { methodResponse: true }));
    const want = outcome(() => referenceBufferDumps([d], { methodResponse: true }));
    if (got !== want && differ++ < 5) t.equal(got, want, `double ${d}`);
  }
  t.equal(differ, 0, `${doubles.length} doubles`);
});

t.test('gives the reference encoder’s bytes for the same member names met again and again, and for more names than any cache holds', async (t) => {
  let differ = 0;
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < 12000; i += 7) {
      const obj: Record<string, unknown> = { [`n${i}`]: i, [`n${i}&<>`]: 'x', [`é${i}`]: 2.5, [NAMES[i % NAMES.length] as string]: [i, 's'] };
      if (!sameAsReference(t, obj, `round ${round}, names from ${i}`) && differ++ > 5) break;
    }
  }
  t.equal(differ, 0);
});

t.test('gives the reference encoder’s bytes for a fault and for the bench’s struct', async (t) => {
  const struct: Record<string, unknown> = {};
  for (let i = 0; i < 50; i++) struct[`m${i}`] = [i * 1000, `value <${i}> & more`, i + 0.25, i % 2 === 0, [i, `x${i}`]][i % 5];
  for (let i = 0; i < 3; i++) sameAsReference(t, struct, 'struct');
  t.equal(
    outcome(() => bufferDumps(new Fault(4, 'a <b> & é'))),
    outcome(() => referenceBufferDumps(new Fault(4, 'a <b> & é'))),
  );
});

t.test('gives the reference encoder’s error or bytes for structures holding cycles and shared containers at every depth', async (t) => {
  const rnd = prng(160);
  let differ = 0;
  for (let i = 0; i < 3000 && differ < 5; i++) {
    // A chain of containers, each a random mix of array, struct and Map; then one of them gets a reference to another (an ancestor: a cycle; a descendant: shared).
    const chain: (unknown[] | Record<string, unknown> | Map<unknown, unknown>)[] = [];
    const depth = 1 + Math.floor(rnd() * 8);
    for (let d = 0; d < depth; d++) {
      const kind = Math.floor(rnd() * 3);
      const c = kind === 0 ? [randomValue(rnd, 4)] : kind === 1 ? { a: randomValue(rnd, 4) } : new Map([['a', randomValue(rnd, 4)]]);
      const parent = chain[d - 1];
      if (Array.isArray(parent)) parent.push(c);
      else if (parent instanceof Map) parent.set(`k${d}`, c);
      else if (parent !== undefined) parent[`k${d}`] = c;
      chain.push(c);
    }
    const from = chain[Math.floor(rnd() * depth)]!;
    const to = chain[Math.floor(rnd() * depth)]!;
    if (Array.isArray(from)) from.splice(Math.floor(rnd() * (from.length + 1)), 0, to);
    else if (from instanceof Map) from.set('back', to);
    else from.back = to;
    if (!sameAsReference(t, rnd() < 0.5 ? chain[0] : [1, chain[0], 'x'], `chain #${i} of ${depth}`)) differ++;
  }
  t.equal(differ, 0);
});
