// lib/xmlrpc/canonical.ts's struct layouts: a struct kind read whole on its
// template, holding scalars and arrays of scalars, gets its layout
// (canonical-runs.ts), and the next struct of the kind is read by comparing
// the tags and names between its values as one run each. Whatever that
// reads must be what the strict reader reads (null prototype, keys, order,
// values, descriptors); whatever differs from the layout (a name's
// character, a type, an array's length, white space, a tag, any byte) must
// be read the general way or given up on, as the strict reader decides.
// Each mutant is followed by its kind's unchanged document, so that the
// layout is in place again for the next one.

import t from 'tap';
import { isDeepStrictEqual } from 'node:util';
import { DecodeError, Fault } from '../lib/errors.js';
import { readCanonical } from '../lib/xmlrpc/canonical.js';
import { loads, strictDocument, type DecodeOptions } from '../lib/xmlrpc/decode.js';
import { documentText } from '../lib/xmlrpc/xml-text.js';
import { WORKLOADS, requestBody } from '../bench/workloads.js';
import { call, mutate, prng, outcome } from './xml-corpus.js';

type Doc = string | Buffer;
function fast(doc: Doc, options: DecodeOptions): { params: unknown[] } | null {
  const { text, ascii } = documentText(doc);
  return readCanonical(text, ascii, options.maxDepth ?? 64, options.wrapDoubles === true, options.allowNone !== false);
}

/** Every struct in `v`, described: own keys in order with their descriptors, and whether its prototype is null. */
function described(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(described);
  if (v === null || typeof v !== 'object' || Buffer.isBuffer(v) || v instanceof Date) return v;
  return {
    nullPrototype: Object.getPrototypeOf(v) === null,
    own: Reflect.ownKeys(v).map((k) => {
      const d = Object.getOwnPropertyDescriptor(v, k) as PropertyDescriptor;
      return [k, { ...d, value: described(d.value) }];
    }),
  };
}

/** What differs between the fast path, the strict reader and `loads` on `doc`, or null; counts what the fast path took. */
function differs(doc: Doc, options: DecodeOptions, counts: { fast: number }): string | null {
  let f: { params: unknown[] } | null;
  try {
    f = fast(doc, options);
  } catch (err) {
    if (err instanceof DecodeError && !outcome(() => loads(doc, options)).ok) return null; // bytes documentText refuses
    return `the fast path threw ${String(err)}`;
  }
  const s = outcome(() => {
    const { text, ascii } = documentText(doc);
    const read = strictDocument(text, ascii, options.maxDepth ?? 64, options);
    if (read instanceof Fault) throw read;
    return read;
  });
  if (f !== null) {
    counts.fast++;
    if (!s.ok) return `the fast path accepted what the strict reader refuses (${s.code})`;
    if (!isDeepStrictEqual(described(f.params), described((s.value as { params: unknown[] }).params)))
      return 'the fast path and the strict reader give different values';
  }
  const l = outcome(() => loads(doc, options));
  if (l.ok !== s.ok || (!l.ok && !s.ok && l.code !== s.code)) return 'loads and the strict reader differ';
  return null;
}

const show = (doc: Doc) => JSON.stringify(typeof doc === 'string' ? doc : doc.toString('latin1')).slice(0, 400);

// Kinds of struct: each member a scalar or an array of scalars, as our encoder and others write them.
const SCALARS = [
  '<int>7</int>',
  '<i4>-8</i4>',
  '<string>a &lt;b&gt; &amp; c</string>',
  '<string></string>',
  '<double>-1.25</double>',
  '<boolean>1</boolean>',
  '<dateTime.iso8601>19980717T14:08:55</dateTime.iso8601>',
  '<base64>aGVsbG8=</base64>',
  '<nil/>',
  'plain',
  '',
];
const arrayOf = (values: string[]) => `<array><data>${values.map((v) => `<value>${v}</value>`).join('')}</data></array>`;
const member = (k: string, v: string) => `<member><name>${k}</name><value>${v}</value></member>`;
const struct = (members: string[]) => `<value><struct>${members.join('')}</struct></value>`;

function kinds(): string[][] {
  const r = prng(616);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
  const out: string[][] = [];
  // Every scalar in every position of a small kind, and arrays of 0 to 3 of them.
  const keys = ['first', 'k"1', "k'2", 'k 3', 'long'.repeat(25), 'last'];
  for (let i = 0; i < 12; i++) {
    out.push(
      keys.map((k, j) => {
        const x = (i + j) % (SCALARS.length + 3);
        if (x < SCALARS.length) return member(k, SCALARS[x] as string);
        return member(k, arrayOf(Array.from({ length: x - SCALARS.length }, () => pick(SCALARS))));
      }),
    );
  }
  // Larger kinds of random names and parts, ints and i4s mixed in arrays.
  for (const size of [2, 17, 50, 128]) {
    const names = new Set<string>();
    while (names.size < size) names.add(Array.from({ length: 1 + Math.floor(r() * 10) }, () => String.fromCharCode(0x61 + Math.floor(r() * 26))).join(''));
    out.push(
      [...names].map((k) => {
        if (r() < 0.7) return member(k, pick(SCALARS));
        return member(k, arrayOf(Array.from({ length: Math.floor(r() * 5) }, () => pick(['<int>1</int>', '<i4>2</i4>', ...SCALARS]))));
      }),
    );
  }
  return out;
}

/** Edits of a kind's document that keep it canonical-looking: one name's character, a type, an array's length, white space, a tag. */
function edits(members: string[], r: () => number): string[] {
  const out: string[] = [];
  for (let m = 0; m < members.length; m++) {
    const one = (text: string) => {
      const changed = members.slice();
      changed[m] = text;
      out.push(call(struct(changed)));
    };
    const text = members[m] as string;
    const name = /<name>(.*?)<\/name>/.exec(text)?.[1] as string;
    const j = Math.floor(r() * name.length);
    one(text.replace(`<name>${name}</name>`, `<name>${name.slice(0, j)}${name[j] === 'X' ? 'Y' : 'X'}${name.slice(j + 1)}</name>`));
    one(text.replace('<int>', '<i4>').replace('</int>', '</i4>'));
    one(text.replace('<i4>', '<int>').replace('</i4>', '</int>'));
    one(text.replace('<string>', '').replace('</string>', ''));
    one(text.replace(/<value>(?!<)([^<]*)<\/value>/, '<value><string>$1</string></value>'));
    one(text.replace('<data>', '<data><value><int>1</int></value>'));
    one(text.replace(/<data><value>.*?<\/value>/, '<data>'));
    one(text.replace('</data>', '<value><i4>3</i4></value></data>'));
    one(text.replace('<boolean>1', '<boolean>2'));
    one(text.replace('7</int>', '7x</int>'));
    one(text.replace('</value></member>', '</value> </member>'));
    // One tag renamed, white space inserted, a character dropped: anywhere in the member.
    const at = Math.floor(r() * (text.length + 1));
    one(`${text.slice(0, at)}${['\n', ' ', '\t'][Math.floor(r() * 3)] as string}${text.slice(at)}`);
    one(`${text.slice(0, at)}${text.slice(at + 1)}`);
    one(text.replace('member>', 'membre>'));
  }
  // Members dropped, repeated, added at the end.
  out.push(call(struct(members.slice(0, -1))), call(struct([...members, members[0] as string])), call(struct([...members, member('extra', '<int>1</int>')])));
  return [...new Set(out)];
}

t.test('a struct read by its layout is the strict reader struct, whatever changed since the layout was made', async (t) => {
  const r = prng(1606);
  const counts = { fast: 0 };
  let n = 0;
  for (const members of kinds()) {
    const base = call(struct(members));
    for (const text of [base, base, base, ...edits(members, r).flatMap((e) => [e, base])]) {
      for (const doc of [Buffer.from(text), text]) {
        n++;
        const options: DecodeOptions = { wrapDoubles: n % 3 === 0, allowNone: n % 11 !== 0 };
        const problem = differs(doc, options, counts);
        if (problem !== null) t.fail(`${problem}: ${show(doc)}`);
      }
    }
  }
  t.ok(counts.fast > n / 2, `the fast path took ${counts.fast} of ${n}`);
});

t.test('random byte edits of a struct of a known layout, the bench struct among them, read as the strict reader reads them', async (t) => {
  const r = prng(2616);
  const bench = requestBody(WORKLOADS.find((w) => w.id === 'struct') as (typeof WORKLOADS)[number]);
  const docs = [bench, ...kinds().map((members) => Buffer.from(call(struct(members))))];
  const counts = { fast: 0 };
  let n = 0;
  for (const base of docs) {
    for (let k = 0; k < 300; k++) {
      for (const doc of [base, base, mutate(base, r)]) {
        n++;
        const problem = differs(doc, { wrapDoubles: true }, counts);
        if (problem !== null) t.fail(`${problem}: ${show(doc)}`);
      }
    }
  }
  t.ok(counts.fast > n / 2, `the fast path took ${counts.fast} of ${n}`);
});

t.test('a layout nested in arrays and structs, and at the depth limit, is read as the strict reader reads it', async (t) => {
  const members = [member('a', '<int>1</int>'), member('b', arrayOf(['<string>x</string>', '<int>2</int>'])), member('c', '<double>0.5</double>')];
  const inner = `<struct>${members.join('')}</struct>`;
  const docs = [
    call(`<value>${inner}</value>`),
    call(`<value>${arrayOf([inner, inner, inner])}</value>`),
    call(struct([member('outer', inner), member('again', inner)])),
    call(struct([member('outer', inner), member('again', inner)])),
    call(struct([member('outer', inner), member('again', inner)])),
    call(struct([member('outer', inner), member('again', inner.replace('<int>2', '<int>3'))])),
    call(struct([member('outer', inner), member('again', inner.replace('<double>', '<double> '))])),
  ];
  const counts = { fast: 0 };
  let n = 0;
  for (let round = 0; round < 3; round++) {
    for (const text of docs) {
      for (const maxDepth of [0, 1, 2, 3, 4, 64]) {
        n++;
        const problem = differs(Buffer.from(text), { maxDepth }, counts);
        if (problem !== null) t.fail(`${problem}: maxDepth ${maxDepth} ${show(text)}`);
      }
    }
  }
  t.ok(counts.fast > n / 2, `the fast path took ${counts.fast} of ${n}`);
});
