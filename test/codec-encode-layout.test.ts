// A struct kind's layout (lib/xmlrpc/encode-layout.ts) against the encoder
// as it was before it (test/reference-encode.ts): structs of a few kinds,
// met again and again so that their layouts form, then with a member's type
// changed at every position, members left out, names that need escaping or
// are not ASCII, values XML refuses, containers and getters. Each must give
// the reference's bytes or its error, message included. Seeded.

import t from 'tap';
import { bufferDumps } from '../lib/xmlrpc/encode.js';
import { outcome, sameAsReference } from './encode-compare.js';
import { referenceBufferDumps, referenceDumps } from './reference-encode.js';
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

/** `names` as an object of kind `how`, values from `values`, each met again and again (the layout and its reader serve from the third). */
function objectOf(names: readonly string[], values: readonly unknown[], how: 'null' | 'literal' | 'dictionary'): Record<string, unknown> {
  const obj: Record<string, unknown> = how === 'literal' ? {} : (Object.create(null) as Record<string, unknown>);
  names.forEach((name, k) => Object.defineProperty(obj, name, { value: values[k], enumerable: true, writable: true, configurable: true }));
  if (how === 'dictionary') {
    // Deleting a member turns an object into a dictionary in V8; the same keys come back in the same order.
    obj['extra'] = 1;
    delete obj['extra'];
  }
  return obj;
}

t.test('gives the reference encoder’s bytes for names that are code in a reader: quotes, backslashes, line ends, indices', async (t) => {
  const names = ['"', "'", '\\', '`${x}`', '*/', '\u2028', '\u2029', 'a\nb', '__proto__', 'constructor', 'toString', 'é'];
  // A name that is valid code when pasted between quotes, among names that are too.
  const injected = ['ok', 'x"] + (globalThis.pwned = 1) + o["x', "y'] + (globalThis.pwned = 1) + o['y"];
  const indices = ['7', '0', 'k', '1'];
  for (const keys of [names, injected, indices, ['only']]) {
    for (const how of ['null', 'literal', 'dictionary'] as const) {
      for (let i = 0; i < 6; i++) {
        const values = keys.map((_, k) => [k + i, `s${i} <&>`, k + i + 0.5, true, [k, `x${i}`]][k % 5]);
        t.ok(sameAsReference(t, objectOf(keys, values, how), `${keys[0]} ${how} #${i}`));
      }
    }
  }
  t.equal((globalThis as Record<string, unknown>)['pwned'], undefined, 'no name ran as code');
});

t.test('gives the reference encoder’s bytes for structs of one kind read in turn as fast, dictionary and literal objects', async (t) => {
  const rnd = prng(2028);
  const names = KINDS[4] as readonly string[];
  const types = names.map((_, k) => k % 5);
  let differ = 0;
  for (let i = 0; i < 300 && differ < 5; i++) {
    const how = (['null', 'literal', 'dictionary'] as const)[Math.floor(rnd() * 3)] as 'null' | 'literal' | 'dictionary';
    const values = names.map((_, k) => valueOf(rnd, rnd() < 0.02 ? Math.floor(rnd() * 7) : (types[k] as number), 1));
    if (!sameAsReference(t, objectOf(names, values, how), `#${i} ${how}`)) differ++;
  }
  t.equal(differ, 0);
});

t.test('gives the reference encoder’s bytes when a getter deletes, adds or changes members while the struct is written', async (t) => {
  const names = ['a', 'b', 'c', 'd'];
  const make = (act: (obj: Record<string, unknown>) => void): Record<string, unknown> => {
    const obj = objectOf(names, [1, 'two', 3.5, [4]], 'null');
    Object.defineProperty(obj, 'b', {
      get: () => {
        act(obj);
        return 'two';
      },
      enumerable: true,
      configurable: true,
    });
    return obj;
  };
  const acts: [string, (obj: Record<string, unknown>) => void][] = [
    ['deletes a later member', (obj) => delete obj['c']],
    ['deletes an earlier member', (obj) => delete obj['a']],
    ['adds a member', (obj) => (obj['e'] = 5)],
    ['changes a later member’s type', (obj) => (obj['d'] = 'four')],
    ['deletes and adds back a later member', (obj) => (delete obj['c'], (obj['c'] = 3.5))],
  ];
  for (const [what, act] of acts) {
    for (let i = 0; i < 4; i++) {
      // The kind's layout forms from plain structs first, then the getter's struct comes.
      t.ok(sameAsReference(t, objectOf(names, [1, 'two', 3.5, [4]], 'null'), `${what}: plain #${i}`));
      // A struct each: the getter changes the one it is on.
      t.equal(
        outcome(() => bufferDumps([make(act)], { methodResponse: true })),
        outcome(() => referenceBufferDumps([make(act)], { methodResponse: true })),
        `${what} #${i}`,
      );
    }
  }
});

t.test('gives the reference encoder’s bytes with Object.prototype holding an enumerable key, and with symbol keys', async (t) => {
  const names = ['p', 'q', 'r'];
  const proto = Object.prototype as Record<string, unknown>;
  try {
    proto['r'] = 'inherited';
    proto['z'] = 'inherited';
    for (let i = 0; i < 4; i++) {
      t.ok(sameAsReference(t, objectOf(names, [1, 'x', 2.5], 'literal'), `polluted #${i}`));
      // `r` left out: the inherited one must not be read.
      t.ok(sameAsReference(t, objectOf(['p', 'q'], [1, 'x'], 'literal'), `polluted, r left out #${i}`));
    }
  } finally {
    delete proto['r'];
    delete proto['z'];
  }
  for (let i = 0; i < 4; i++) {
    const obj = objectOf(names, [1, 'x', 2.5], 'null');
    (obj as Record<symbol, unknown>)[Symbol('s')] = 'ignored';
    t.ok(sameAsReference(t, obj, `symbol #${i}`));
  }
});

t.test('gives the reference encoder’s bytes where code generation from strings is refused (no reader: loads by name)', async (t) => {
  const { spawnSync } = await import('node:child_process');
  const encoder = new URL('../lib/xmlrpc/encode.js', import.meta.url).href;
  const script = `import { dumps } from ${JSON.stringify(encoder)};
const out = [];
for (let i = 0; i < 5; i++) out.push(dumps([{ a: i, b: 'x <' + i, c: i + 0.5, d: true, e: [i] }], { methodResponse: true }));
process.stdout.write(JSON.stringify(out));`;
  const child = spawnSync(process.execPath, ['--disallow-code-generation-from-strings', '--input-type=module', '-e', script], { encoding: 'utf8' });
  t.equal(child.stderr, '');
  t.equal(child.status, 0);
  const want = [0, 1, 2, 3, 4].map((i) => referenceDumps([{ a: i, b: 'x <' + i, c: i + 0.5, d: true, e: [i] }], { methodResponse: true }));
  t.same(JSON.parse(child.stdout) as unknown, want);
});
