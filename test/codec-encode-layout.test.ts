// A struct kind's layout (lib/xmlrpc/encode-layout.ts) against the encoder
// as it was before it (test/reference-encode.ts): structs of a few kinds,
// met again and again so that their layouts form, then with a member's type
// changed at every position, members left out, names that need escaping or
// are not ASCII, values XML refuses, containers and getters; then hostile
// structs (Proxies, getters that change their answer, delete a member or
// write other documents meanwhile) whose every read the reference sees too.
// Each must give the reference's bytes or its error, message included. Seeded.

import t, { type Test } from 'tap';
import { bufferDumps, dumps, encodeValue, wireDumps } from '../lib/xmlrpc/encode.js';
import { Double, I8 } from '../lib/xmlrpc/values.js';
import { outcome, sameAsReference } from './encode-compare.js';
import { referenceBufferDumps, referenceDumps, referenceEncodeValue } from './reference-encode.js';
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

// Values a struct's member may hold that are not what its kind's layout
// expects, or not plain data at all: wrappers, buffers, refused values.
const ODD_VALUES: readonly unknown[] = [
  0,
  -1,
  -0,
  0.5,
  NaN,
  2 ** 31,
  'plain',
  '',
  'é',
  'a&b',
  '\r',
  '\uD800',
  true,
  false,
  null,
  undefined,
  [1, 'x'],
  { a: 1, b: 2, c: 3 },
  new Date(0),
  new Date(NaN),
  Buffer.from('hi'),
  new Uint8Array([1, 2, 3]),
  new ArrayBuffer(2),
  5n,
  2n ** 70n,
  new Double(1.5),
  new I8(5n),
  Symbol('s'),
  () => 1,
  new Map([['k', 1]]),
  { toJSON: () => 1 },
  new Number(3),
];

const HOSTILE_KINDS: readonly (readonly string[])[] = [
  ['a', 'b', 'c'],
  ['a', 'c', 'b'],
  ['x'],
  ['é', 'b'],
  ['<', '&'],
  [''],
  ['0', '1', 'a'],
  Array.from({ length: 130 }, (_, i) => `k${i}`),
];

/**
 * A maker of fresh structs of `names` with the same values, each struct
 * `form`: 0 a literal, 1 null-prototype, 2 its first member a getter that
 * answers another value at every other read, 3 a Proxy (every other read
 * another value, when `unstable`), 4 its first member a getter that deletes
 * the last member, 5 its first member a getter that writes other documents
 * (structs of the same kind among them) before it answers. A fresh struct
 * for each encoding: a getter's count starts again.
 */
function hostile(rnd: () => number, names: readonly string[], form: number): () => unknown {
  const pick = (): unknown => ODD_VALUES[Math.floor(rnd() * ODD_VALUES.length)];
  const values = names.map(pick);
  const others = names.map(pick);
  const unstable = rnd() < 0.3;
  const inner = form === 5 ? hostile(rnd, names, 0) : null;
  return () => {
    if (form === 3) {
      const target: Record<string, unknown> = {};
      names.forEach((name, k) => (target[name] = values[k]));
      let reads = 0;
      return new Proxy(target, {
        get: (obj, key) => (!unstable || reads++ % 2 === 0 ? obj[key as string] : others[names.indexOf(key as string)]),
      });
    }
    const obj: Record<string, unknown> = form === 1 ? (Object.create(null) as Record<string, unknown>) : {};
    names.forEach((name, k) => {
      let reads = 0;
      const get =
        k !== 0
          ? null
          : form === 2
            ? () => (reads++ % 2 === 0 ? values[k] : others[k])
            : form === 4
              ? () => (delete obj[names[names.length - 1] as string], values[k])
              : form === 5
                ? () => {
                    try {
                      bufferDumps([[inner!(), inner!()]], { methodResponse: true });
                      dumps([inner!()], 'm');
                    } catch {
                      // only the getter's answer matters
                    }
                    return values[k];
                  }
                : null;
      if (get === null) obj[name] = values[k];
      else Object.defineProperty(obj, name, { get, enumerable: true, configurable: true });
    });
    return obj;
  };
}

/** Whether ours and the reference give the same bytes or error for a fresh value from `make` in each document, wireDumps' included. */
function sameForFresh(t: Test, make: () => unknown, label: string): boolean {
  const wire = (v: unknown): Buffer => {
    const doc = wireDumps([v], { methodResponse: true });
    return typeof doc === 'string' ? Buffer.from(doc, 'latin1') : doc;
  };
  const cases: [string, (v: unknown) => string | Buffer, (v: unknown) => string | Buffer][] = [
    ['bufferDumps response', (v) => bufferDumps([v], { methodResponse: true }), (v) => referenceBufferDumps([v], { methodResponse: true })],
    ['wireDumps response', wire, (v) => referenceBufferDumps([v], { methodResponse: true })],
    ['dumps call', (v) => dumps([v, 1], 'm'), (v) => referenceDumps([v, 1], 'm')],
    ['encodeValue, maxDepth 2', (v) => encodeValue(v, { maxDepth: 2 }), (v) => referenceEncodeValue(v, { maxDepth: 2 })],
  ];
  for (const [what, ours, reference] of cases) {
    const got = outcome(() => ours(make()));
    const want = outcome(() => reference(make()));
    if (got !== want) {
      t.equal(got, want, `${label}: ${what}`);
      return false;
    }
  }
  return true;
}

t.test(
  'gives the reference encoder’s bytes or error for hostile structs: Proxies, getters that change their answer, delete a member or encode meanwhile, odd values, 130 members, kinds flooding past 64, on the wire too',
  async (t) => {
    const rnd = prng(1608);
    let differ = 0;
    const forms = [0, 0, 0, 0, 1, 2, 3, 4, 5];
    for (let i = 0; i < 1500 && differ < 5; i++) {
      const names = HOSTILE_KINDS[Math.floor(rnd() * HOSTILE_KINDS.length)] as readonly string[];
      const form = forms[Math.floor(rnd() * forms.length)] as number;
      const make = hostile(rnd, names, form);
      // Written three times (each case writes it twice): the kind's layout forms, then serves.
      for (let again = 0; again < 3; again++) if (!sameForFresh(t, make, `#${i} (${names.length} members, form ${form}) #${again}`)) differ++;
      if (rnd() < 0.05) {
        // More kinds than are kept: the table starts again, the layouts form again.
        for (let k = 0; k < 70; k++) if (!sameForFresh(t, () => ({ [`flood${k}`]: k, g: 'x' }), `flood ${k}`)) differ++;
      }
      if (rnd() < 0.05) {
        // A long document (past the sink's flush) of structs of one kind, some with getters that write documents meanwhile.
        const makers = [0, 1, 2, 3].map(() => hostile(rnd, names, rnd() < 0.5 ? 0 : 5));
        if (!sameForFresh(t, () => Array.from({ length: 300 }, (_, j) => makers[j % 4]!()), `#${i} long`)) differ++;
      }
    }
    t.equal(differ, 0);
  },
);

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

// Arrays of scalars a layout holds (encode-layout.ts ARRAY): their items'
// types are the layout's too, so every way an array can leave them is met
// after the layout formed: an item of another type at each position (a
// value refused among them, for the error's path), fewer or more items,
// holes, no array at all, the array an enclosing container, and Proxies
// whose every read is logged, the reference's log compared.
const ITEM_VALUES: readonly unknown[] = [
  0,
  7,
  -1,
  2147483647,
  -0,
  0.5,
  NaN,
  2 ** 31,
  '',
  'x1',
  'a <&> b',
  '\r',
  '\uD800',
  'é',
  true,
  false,
  null,
  undefined,
  [1],
  [],
  { a: 1 },
  5n,
  new Date(0),
];
const ITEMS_OF_TYPE: readonly (readonly unknown[])[] = [[0, 5, -3, 2147483647], ['x4', '', 'a <&> b', 'é', '\t'], [0.5, -2.25, 1e21, 1e-7], [true], [false]];

function arrayOfTypes(rnd: () => number, itemTypes: readonly number[]): unknown[] {
  return itemTypes.map((type) => {
    const pool = ITEMS_OF_TYPE[type] as readonly unknown[];
    return pool[Math.floor(rnd() * pool.length)];
  });
}

/** A Proxy of `items` that logs each read (its key) into `log`; with `unstable`, every other read of `length` answers one more. */
function logged(items: unknown[], log: string[], unstable: boolean): unknown[] {
  let lengths = 0;
  return new Proxy(items, {
    get: (target, key, receiver) => {
      log.push(String(key));
      if (key === 'length' && unstable && lengths++ % 2 === 1) return target.length + 1;
      return Reflect.get(target, key, receiver) as unknown;
    },
  });
}

t.test('gives the reference encoder’s bytes, error and reads for array members a layout holds, each item changed in turn', async (t) => {
  const rnd = prng(1609);
  const kinds: readonly (readonly string[])[] = [
    ['int0', 'arr1', 'str2', 'arr3'],
    ['arr'],
    Array.from({ length: 12 }, (_, i) => (i % 3 === 0 ? `a${i}` : `v${i}`)),
  ];
  let differ = 0;
  let cases = 0;
  const check = (value: unknown, label: string): void => {
    cases++;
    if (!sameAsReference(t, value, label)) differ++;
  };
  for (let round = 0; round < 60 && differ < 5; round++) {
    const names = kinds[round % kinds.length] as readonly string[];
    const arrays = names.map((name) => (name.startsWith('a') ? Array.from({ length: Math.floor(rnd() * 10) }, () => Math.floor(rnd() * 5)) : null));
    // Each case a kind of its own (the names tagged): its layout forms from the plain struct
    // (written four times by sameAsReference), then the changed one meets it.
    let tag = 0;
    const make = (k: number, items: (base: unknown[]) => unknown): Record<string, unknown> => {
      const obj: Record<string, unknown> = rnd() < 0.5 ? (Object.create(null) as Record<string, unknown>) : {};
      names.forEach((name, j) => {
        const itemTypes = arrays[j];
        const key = `${name}_${tag}`;
        if (itemTypes === null) obj[key] = name.startsWith('s') ? 'value <1> & more' : j * 1000;
        else obj[key] = j === k ? items(arrayOfTypes(rnd, itemTypes)) : arrayOfTypes(rnd, itemTypes);
      });
      return obj;
    };
    const same = (base: unknown[]): unknown => base;
    const changed = (k: number, items: (base: unknown[]) => unknown, label: string): void => {
      tag++;
      check(make(-1, same), `round ${round}, ${label}: plain`);
      check(make(k, items), `round ${round}, ${label}`);
    };
    for (let k = 0; k < names.length; k++) {
      if (arrays[k] === null) continue;
      const n = (arrays[k] as number[]).length;
      for (let i = 0; i <= n; i++) {
        const odd = ITEM_VALUES[Math.floor(rnd() * ITEM_VALUES.length)];
        changed(k, (base) => ((base[i] = odd), base), `${names[k]}[${i}] ${typeof odd}`);
      }
      changed(k, (base) => base.slice(0, -1), `${names[k]} one shorter`);
      changed(k, (base) => base.slice(0, 0), `${names[k]} empty`);
      changed(k, (base) => (Reflect.deleteProperty(base, '0'), base), `${names[k]} a hole`);
      changed(k, (base) => [base], `${names[k]} nested`);
      changed(k, (base) => base[0] ?? 'none', `${names[k]} not an array`);
      for (const form of ['', ' whose length changes', ' with an item of another type']) {
        const unstable = form === ' whose length changes';
        const logs: string[][] = [[], []];
        tag++;
        const template = make(-1, same);
        check(template, `round ${round}, ${names[k]} before a Proxy`);
        const odd = Math.floor(rnd() * 1000);
        const docs = [0, 1].map((side) => {
          const key = `${names[k] as string}_${tag}`;
          const items = [...(template[key] as unknown[])];
          if (form === ' with an item of another type') items[odd % (items.length + 1)] = ITEM_VALUES[odd % ITEM_VALUES.length];
          const value = { ...template, [key]: logged(items, logs[side] as string[], unstable) };
          return outcome(() => (side === 0 ? dumps([value], { methodResponse: true }) : referenceDumps([value], { methodResponse: true })));
        });
        cases++;
        if (docs[0] !== docs[1] || logs[0]!.join() !== logs[1]!.join()) {
          differ++;
          t.same([docs[0], logs[0]], [docs[1], logs[1]], `round ${round}, ${names[k]} a Proxy${form}`);
        }
      }
    }
  }
  t.ok(cases > 1000, `${cases} cases`);
  t.equal(differ, 0);
});

t.test('gives the reference encoder’s error for an array member a layout holds that is a container enclosing it, or nests too deep', async (t) => {
  for (let i = 0; i < 3; i++) t.ok(sameAsReference(t, { x: 1, arr: [1, 'x'] }, `plain #${i}`));
  const outer: unknown[] = [];
  outer.push({ x: 1, arr: outer });
  t.ok(sameAsReference(t, outer, 'the array encloses its struct'));
  t.ok(sameAsReference(t, [[{ x: 1, arr: [1, 'x'] }]], 'deeper than maxDepth 2'));
});
