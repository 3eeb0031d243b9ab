// lib/xmlrpc/struct-code.ts: a struct kind's compiled builder makes the
// object that storing the values one by one makes (null prototype once set,
// own keys in order, each an enumerable, writable, configurable data
// property), whatever the names hold; the names it cannot hold as
// themselves get no builder; and where code generation is refused (V8's
// flag, or a hardened runtime whose Function constructor throws) the
// decoder and the encoder read and write a kind's structs by name as before.

import t from 'tap';
import { spawnSync } from 'node:child_process';
import { isDeepStrictEqual } from 'node:util';
import { builder, reader } from '../lib/xmlrpc/struct-code.js';
import { loads, strictDocument } from '../lib/xmlrpc/decode.js';
import { dumps } from '../lib/xmlrpc/encode.js';
import { documentText } from '../lib/xmlrpc/xml-text.js';
import { referenceDumps } from './reference-encode.js';
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

t.test('gives a reader for any names, hostile ones included, that reads what a load by name reads', async (t) => {
  const names = [
    'a"b',
    'a\\b',
    '\u2028',
    '${globalThis.pwned=1}',
    '"+(globalThis.pwned=1)+"',
    '\ud800',
    '',
    '0',
    '01',
    '4294967295',
    '-1',
    '1e3',
    ' 1',
    '__proto__',
    'constructor',
    'toString',
    'o',
    'k',
  ];
  const read = reader(names);
  if (read === null) return t.fail('no reader');
  const obj = Object.create(null) as Record<string, unknown>;
  names.forEach((name, k) => Object.defineProperty(obj, name, { value: k, enumerable: true, writable: true, configurable: true }));
  const literal: Record<string, unknown> = { toString: 'own' };
  t.same(
    names.map((_, k) => read(obj, k)),
    names.map((name) => obj[name]),
    'a null-prototype object',
  );
  t.same(
    names.map((_, k) => read(literal, k)),
    names.map((name) => literal[name]),
    'an object with Object.prototype: its inherited names and __proto__ read as by name',
  );
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

/** What `fn` gives, or the class and message of what it throws. */
function attempt(fn: () => unknown): unknown {
  try {
    return fn();
  } catch (err) {
    return `${(err as Error).constructor.name}: ${(err as Error).message}`;
  }
}

t.test('with a Function constructor that throws a TypeError (SES lockdown, evalTaming no-eval), the codec reads and writes structs by name', async (t) => {
  const global = globalThis as unknown as { Function: unknown };
  const original = global.Function;
  // What SES puts in place of the Function constructor: it throws a TypeError, not V8's EvalError.
  global.Function = function refused() {
    throw new TypeError('Cannot eval with evalTaming set to "no-eval" (SES_NO_EVAL)');
  };
  try {
    t.equal(
      attempt(() => builder(['a', 'b'])),
      null,
      'no builder',
    );
    t.equal(
      attempt(() => reader(['a', 'b'])),
      null,
      'no reader',
    );
    // Kinds of their own (the codec keeps kinds between documents), each met until its layout forms and serves.
    for (let i = 0; i < 5; i++) {
      const value = { sesInt: i, sesText: `x <${i}`, sesDouble: i + 0.5, sesBool: true, sesList: [i] };
      t.equal(
        attempt(() => dumps([value], { methodResponse: true })),
        referenceDumps([value], { methodResponse: true }),
        `encoded #${i}`,
      );
    }
    for (let i = 0; i < 6; i++) {
      const doc =
        '<?xml version="1.0"?><methodCall><methodName>m</methodName><params><param><value><struct>' +
        `<member><name>sesA</name><value><int>${i}</int></value></member>` +
        `<member><name>sesB</name><value><string>x${i}</string></value></member>` +
        '</struct></value></param></params></methodCall>';
      const { text, ascii } = documentText(doc);
      const strict = strictDocument(text, ascii, 64, undefined) as { params: object[] };
      t.same(
        attempt(() => described(loads(doc).params[0] as object)),
        described(strict.params[0] as object),
        `decoded #${i}`,
      );
    }
  } finally {
    global.Function = original;
  }
});
