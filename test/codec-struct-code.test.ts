// lib/xmlrpc/struct-code.ts: a struct kind's compiled builder makes the
// object that storing the values one by one makes (null prototype once set,
// own keys in order, each an enumerable, writable, configurable data
// property), whatever the names hold; the names it cannot hold as
// themselves get no builder; and where code generation is refused the
// decoder reads a kind's layout with its stores as before.

import t from 'tap';
import { spawnSync } from 'node:child_process';
import { isDeepStrictEqual } from 'node:util';
import { builder } from '../lib/xmlrpc/struct-code.js';
import type { XmlRpcStruct, XmlRpcValue } from '../lib/xmlrpc/values.js';
import { prng } from './xml-corpus.js';

/** Own keys in order with their descriptors, and whether the prototype is null. */
function described(v: object): unknown {
  return {
    nullPrototype: Object.getPrototypeOf(v) === null,
    own: Reflect.ownKeys(v).map((k) => [k, Object.getOwnPropertyDescriptor(v, k)]),
  };
}

/** The struct the builder makes, prototype set to null as fromValues (shapes.ts) does; null if no builder. */
function built(keys: string[], values: XmlRpcValue[]): XmlRpcStruct | null {
  const build = builder(keys);
  return build === null ? null : (Object.setPrototypeOf(build(values), null) as XmlRpcStruct);
}

/** The struct storing each value makes. */
function stored(keys: string[], values: XmlRpcValue[]): XmlRpcStruct {
  const out = Object.create(null) as XmlRpcStruct;
  keys.forEach((k, n) => (out[k] = values[n] as XmlRpcValue));
  return out;
}

const VALUES: XmlRpcValue[] = [1, 'x', -0.5, true, null, [1, 'y'], new Date(0), Buffer.from('ab'), 2 ** 40, ''];
const valuesFor = (keys: string[]) => keys.map((_, n) => VALUES[n % VALUES.length] as XmlRpcValue);

t.test('builds the struct the stores build from hostile names, running none of them', async (t) => {
  const hostile = [
    'a"b',
    "a'b",
    'a\\b',
    '\\',
    '"',
    '*/',
    '/*',
    '//',
    '\u2028',
    '\u2029',
    '${globalThis.pwned=1}',
    '`',
    '</script>',
    '"+(globalThis.pwned=1)+"',
    '\\"};globalThis.pwned=1;({"',
    '\n',
    '\0',
    '\ud800',
    '\udc00x',
    '😀',
    '',
    ' ',
    '-1',
    'constructor',
    'toString',
    'hasOwnProperty',
    '__proto__x',
    '_proto_',
    '__proto',
    'v',
    'v[0]',
  ];
  const sets = [hostile, ...hostile.map((k) => [k]), ...hostile.map((k, i) => [k, `${i}x`.replace(/^\d/, 'k'), 'after'])];
  for (const keys of sets) {
    const values = valuesFor(keys);
    const b = built(keys, values);
    if (b === null) t.fail(`no builder for ${JSON.stringify(keys)}`);
    else if (!isDeepStrictEqual(described(b), described(stored(keys, values)))) t.fail(`a different struct for ${JSON.stringify(keys)}`);
  }
  t.equal((globalThis as Record<string, unknown>)['pwned'], undefined, 'no name ran as code');
});

t.test('gives no builder for __proto__, a name led by a digit, or a repeated name', async (t) => {
  for (const keys of [['__proto__'], ['a', '__proto__'], ['0'], ['a', '12'], ['a', '1x'], ['9', 'b'], ['a', 'b', 'a'], ['x', 'x']]) {
    t.equal(builder(keys), null, JSON.stringify(keys));
  }
  t.not(builder(['a', '__proto__x', 'x1']), null);
});

t.test('builds the struct the stores build for random name sets', async (t) => {
  const r = prng(1616);
  const char = () => {
    const x = r();
    if (x < 0.6) return String.fromCharCode(0x20 + Math.floor(r() * 95));
    if (x < 0.8) return String.fromCharCode(Math.floor(r() * 0x80));
    return String.fromCharCode(Math.floor(r() * 0x10000));
  };
  let checked = 0;
  for (let i = 0; i < 2000; i++) {
    const keys = [...new Set(Array.from({ length: 1 + Math.floor(r() * 40) }, () => Array.from({ length: Math.floor(r() * 8) }, char).join('')))];
    const values = valuesFor(keys);
    const b = built(keys, values);
    const refused = keys.some((k) => k === '__proto__' || /^[0-9]/.test(k));
    if (refused !== (b === null)) t.fail(`builder ${b === null ? 'refused' : 'made'} for ${JSON.stringify(keys)}`);
    if (b !== null) {
      checked++;
      if (!isDeepStrictEqual(described(b), described(stored(keys, values)))) t.fail(`a different struct for ${JSON.stringify(keys)}`);
    }
  }
  t.ok(checked > 500, `${checked} built (a name led by a digit refuses the rest)`);
});

t.test('with code generation from strings refused, a kind has no builder and its layout reads the same structs', async (t) => {
  const lib = new URL('../lib/xmlrpc/', import.meta.url).href;
  const script = `
    import { builder } from '${lib}struct-code.js';
    import { loads } from '${lib}decode.js';
    import { shapeOf } from '${lib}shapes.js';
    const doc = (n) => '<methodCall><methodName>m</methodName><params><param><value><struct>' +
      '<member><name>a</name><value><int>' + n + '</int></value></member>' +
      '<member><name>b</name><value><array><data><value><string>x' + n + '</string></value><value><i4>2</i4></value></data></array></value></member>' +
      '<member><name>c</name><value><double>0.5</double></value></member>' +
      '</struct></value></param></params></methodCall>';
    const out = [];
    for (let n = 0; n < 5; n++) {
      const v = loads(doc(n)).params[0];
      out.push({ proto: Object.getPrototypeOf(v) === null, own: Reflect.ownKeys(v).map((k) => [k, Object.getOwnPropertyDescriptor(v, k)]) });
    }
    const shape = shapeOf('a');
    process.stdout.write(JSON.stringify({ builder: builder(['a', 'b']), layout: shape?.layout != null, build: shape?.build, out }));
  `;
  const run = spawnSync(process.execPath, ['--disallow-code-generation-from-strings', '--input-type=module', '-e', script], { encoding: 'utf8' });
  t.equal(run.status, 0, run.stderr);
  const got = JSON.parse(run.stdout) as { builder: null; layout: boolean; build: null; out: unknown[] };
  t.equal(got.builder, null, 'no builder');
  t.equal(got.layout, true, 'the kind has its layout');
  t.equal(got.build, null, 'and no builder');
  const data = (value: unknown) => ({ value, writable: true, enumerable: true, configurable: true });
  t.same(
    got.out,
    Array.from({ length: 5 }, (_, n) => ({
      proto: true,
      own: [
        ['a', data(n)],
        ['b', data([`x${n}`, 2])],
        ['c', data(0.5)],
      ],
    })),
  );
});
