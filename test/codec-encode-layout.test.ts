// A struct kind's layout (lib/xmlrpc/encode-layout.ts) against the encoder
// as it was before it (test/reference-encode.ts): structs of a few kinds,
// met again and again so that their layouts form, then with a member's type
// changed at every position, members left out, names that need escaping or
// are not ASCII, values XML refuses, containers and getters. Each must give
// the reference's bytes or its error, message included. Seeded.

import t from 'tap';
import { sameAsReference } from './encode-compare.js';
import { prng } from './xml-corpus.js';

const KINDS: readonly (readonly string[])[] = [
  ['int0', 'str1', 'dbl2', 'bool3', 'arr4', 'int5', 'str6'],
  ['a', 'b'],
  ['<&>', 'é', 'x y', '__proto__', 'a]]>b', '😀'],
  ['solo'],
  Array.from({ length: 60 }, (_, i) => `m${i}`),
  ['n'.repeat(70), 'short', 'z'.repeat(64)],
];

const STRINGS = ['', 'plain', 'value <1> & more', 'é à', '中文', '\r\n\t', 'a]]>b', '\uD800', '\u0000', '😀'];
const DOUBLES = [0.5, -0, -2.25, 1e21, 1e-7, 123456789.125, NaN, Infinity, 0.1];
const INTS = [0, 1, -1, 2147483647, -2147483648, 42];

/** A value of type `type` (0 int, 1 string, 2 double, 3 and 4 booleans, 5 something else, 6 undefined). */
function valueOf(rnd: () => number, type: number, depth: number): unknown {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  switch (type) {
    case 0:
      return pick(INTS);
    case 1:
      return rnd() < 0.97 ? pick(STRINGS.slice(0, 7)) : pick(STRINGS);
    case 2:
      return rnd() < 0.97 ? pick(DOUBLES.slice(0, 6)) : pick(DOUBLES);
    case 3:
      return true;
    case 4:
      return false;
    case 5: {
      const r = rnd();
      if (r < 0.3) return [pick(INTS), pick(STRINGS.slice(0, 7))];
      if (r < 0.5 && depth < 3) return struct(rnd, pick(KINDS), null, depth + 1);
      if (r < 0.65) return null;
      if (r < 0.8) return new Date(Date.UTC(2026, 11, 5, 14, 0, Math.floor(rnd() * 60)));
      if (r < 0.9) return 12345678901234n;
      return new Map([['k', pick(INTS)]]);
    }
    default:
      return undefined;
  }
}

/** A struct of `names`, its types `types` (random if null), as a null-prototype object, a literal-like one, or with a getter. */
function struct(rnd: () => number, names: readonly string[], types: readonly number[] | null, depth: number): Record<string, unknown> {
  const r = rnd();
  const obj: Record<string, unknown> = r < 0.5 ? (Object.create(null) as Record<string, unknown>) : {};
  names.forEach((name, k) => {
    const value = valueOf(rnd, types === null ? Math.floor(rnd() * 6) : (types[k] as number), depth);
    if (r > 0.9 && k === 0) Object.defineProperty(obj, name, { get: () => value, enumerable: true, configurable: true });
    else Object.defineProperty(obj, name, { value, enumerable: true, writable: true, configurable: true });
  });
  return obj;
}

t.test('gives the reference encoder’s bytes or error for structs of kinds met again, each member’s type changed in turn', async (t) => {
  const rnd = prng(7);
  let differ = 0;
  let cases = 0;
  for (const names of KINDS) {
    for (let round = 0; round < 40 && differ < 5; round++) {
      const types = names.map(() => Math.floor(rnd() * 6));
      // The same types three times: the layout forms and serves.
      for (let i = 0; i < 3; i++) if (!sameAsReference(t, struct(rnd, names, types, 0), `${names[0]} round ${round} #${i}`)) differ++;
      // Then one member of another type (or left out), at every position, each met twice.
      for (let k = 0; k < names.length; k++) {
        const changed = types.slice();
        changed[k] = rnd() < 0.15 ? 6 : ((types[k] as number) + 1 + Math.floor(rnd() * 5)) % 6;
        for (let i = 0; i < 2; i++) if (!sameAsReference(t, struct(rnd, names, changed, 0), `${names[0]} round ${round}, member ${k} changed #${i}`)) differ++;
        cases += 2;
      }
    }
  }
  t.ok(cases > 1000);
  t.equal(differ, 0);
});

t.test('gives the reference encoder’s bytes for random structs of a few kinds, interleaved, past the buffer’s flush', async (t) => {
  const rnd = prng(1607);
  let differ = 0;
  for (let i = 0; i < 3000 && differ < 5; i++) {
    const names = KINDS[Math.floor(rnd() * KINDS.length)] as readonly string[];
    const value = rnd() < 0.1 ? Array.from({ length: 40 }, () => struct(rnd, names, null, 1)) : struct(rnd, names, null, 0);
    if (!sameAsReference(t, value, `struct #${i}`)) differ++;
  }
  t.equal(differ, 0);
});

t.test('gives the reference encoder’s bytes for the same struct written again and again', async (t) => {
  const value = { int0: 1000, str1: 'value <1> & more', dbl2: 2.25, bool3: true, arr4: [4, 'x4'], nil: null };
  for (let i = 0; i < 5; i++) t.ok(sameAsReference(t, value, `#${i}`));
  const nested = { outer: 1, inner: { int0: 1, str1: 'é' } };
  for (let i = 0; i < 5; i++) t.ok(sameAsReference(t, nested, `nested #${i}`));
});
