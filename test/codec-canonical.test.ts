// lib/xmlrpc/canonical.ts: the fast path of canonically written methodCalls and responses,
// against the strict reader alone (decode.ts's strictDocument). Whatever the
// fast path accepts, the strict reader must accept with the same value
// (-0, Double, Buffer, Date and null-prototype structs compared exactly);
// whatever it gives up on, `loads` must answer as the strict reader does,
// the same value or the same error code. Fed: documents our encoder writes
// from random values, Python's layout, the decoder corpus, mutations and
// truncations of canonical documents, every character of small documents
// replaced in turn, and a table of documents that must fall back.

import t from 'tap';
import { isDeepStrictEqual } from 'node:util';
import { DecodeError, Fault } from '../lib/errors.js';
import { readCanonical } from '../lib/xmlrpc/canonical.js';
import { loads, strictDocument, type DecodeOptions } from '../lib/xmlrpc/decode.js';
import { dumps } from '../lib/xmlrpc/encode.js';
import { documentText } from '../lib/xmlrpc/xml-text.js';
import { Double } from '../lib/xmlrpc/values.js';
import { WORKLOADS, requestBody } from '../bench/workloads.js';
import { ACCEPTED_DOCS, ACCEPTED_VALUES, MALFORMED, SAMPLES, call, mutate, prng, outcome, type Outcome } from './xml-corpus.js';

type Doc = string | Buffer;
function fast(doc: Doc, options: DecodeOptions = {}): unknown {
  const { text, ascii } = documentText(doc);
  return readCanonical(text, ascii, options.maxDepth ?? 64, options.wrapDoubles === true, options.allowNone !== false);
}

function strict(doc: Doc, options: DecodeOptions = {}): Outcome {
  return outcome(() => {
    const { text, ascii } = documentText(doc);
    const read = strictDocument(text, ascii, options.maxDepth ?? 64, options);
    if (read instanceof Fault) throw read; // as loads does
    return read;
  });
}

/** What went wrong with `doc`, or null; counts the documents the fast path took. */
function check(doc: Doc, options: DecodeOptions = {}, counts = { fast: 0, all: 0 }): string | null {
  counts.all++;
  let f: unknown;
  try {
    f = fast(doc, options);
  } catch (err) {
    // documentText refuses some bytes (encodings): then neither path runs.
    if (err instanceof DecodeError && outcome(() => loads(doc, options)).ok === false) return null;
    return `the fast path threw ${String(err)}`;
  }
  const s = strict(doc, options);
  if (f !== null) {
    counts.fast++;
    if (!s.ok) return `the fast path accepted what the strict reader refuses (${s.code})`;
    if (!isDeepStrictEqual(f, s.value)) return 'the fast path and the strict reader give different values';
  }
  const l = outcome(() => loads(doc, options));
  if (l.ok !== s.ok) return `loads ${l.ok ? 'accepts' : 'refuses'}, the strict reader ${s.ok ? 'accepts' : 'refuses'}`;
  if (!l.ok && !s.ok && l.code !== s.code) return `loads refuses with ${l.code}, the strict reader with ${s.code}`;
  if (l.ok && s.ok && !isDeepStrictEqual(l.value, s.value)) return 'loads and the strict reader give different values';
  return null;
}

const show = (doc: Doc) => JSON.stringify(typeof doc === 'string' ? doc : doc.toString('latin1')).slice(0, 300);

/**
 * What differs between the struct the fast path and the strict reader read
 * from `doc`, found in each one's params by `pick`: the prototype (none),
 * or the own keys, their order, values and descriptors. Null when the same.
 */
function structDiffers(doc: Doc, pick: (params: unknown[]) => object): string | null {
  const problem = check(doc);
  if (problem !== null) return `${problem}: ${show(doc)}`;
  const f = fast(doc) as { params: unknown[] } | null;
  const s = strict(doc);
  if (f === null || !s.ok) return `both paths must take ${show(doc)}`;
  const got = pick(f.params);
  const want = pick((s.value as { params: unknown[] }).params);
  if (Object.getPrototypeOf(got) !== null) return `a struct with a prototype: ${show(doc)}`;
  const describe = (o: object) => Reflect.ownKeys(o).map((k) => [k, Object.getOwnPropertyDescriptor(o, k)]);
  if (!isDeepStrictEqual(describe(got), describe(want)))
    return `keys, order, values or descriptors differ: ${JSON.stringify(describe(got))} against ${JSON.stringify(describe(want))}`;
  return null;
}

// random values, written by our encoder

const CHARS = ['a', 'Z', '0', ' ', '\t', '\n', '\r', '<', '>', '&', '"', "'", ']', ']]>', 'é', '€', '😀', '\u00a0', '\u0085', '\ufffd', '中', '-', '.'];
const KEYS = ['a', 'b', '__proto__', 'constructor', 'toString', '04', '1', '', ' spaced ', 'x<y', 'é', 'a&b'];

function randomValue(r: () => number, depth: number): unknown {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
  switch (Math.floor(r() * (depth >= 4 ? 9 : 11))) {
    case 0:
      return pick([0, 1, -1, 7, 2147483647, -2147483648, Math.floor(r() * 2 ** 32) - 2 ** 31]);
    case 1:
      return new Double(pick([-0, 0, 0.5, -1.25, 1e300, -1e-300, 5e-324, 2 ** 53, 1 / 3, 2.25, (r() - 0.5) * 1e9]));
    case 2:
      return pick([-0.5, 0.1, 1e21, 123.456, 2 ** 60 + 0.5]);
    case 3:
      return r() < 0.5;
    case 4:
    case 5: {
      let s = '';
      for (let n = Math.floor(r() * r() * 24); n > 0; n--) s += pick(CHARS);
      return s;
    }
    case 6:
      return r() < 0.9 ? null : 2n ** 40n;
    case 7:
      return new Date(Math.floor((r() - 0.3) * 2 ** 42));
    case 8:
      return Buffer.from(Array.from({ length: Math.floor(r() * r() * (r() < 0.2 ? 1200 : 120)) }, () => Math.floor(r() * 256)));
    case 9:
      return Array.from({ length: Math.floor(r() * (r() < 0.2 ? 40 : 5)) }, () =>
        r() < 0.5 ? Math.floor(r() * 2 ** 32) - 2 ** 31 : randomValue(r, depth + 1),
      );
    default: {
      const o = Object.create(null) as Record<string, unknown>;
      for (let n = Math.floor(r() * 5); n > 0; n--) o[pick(KEYS)] = randomValue(r, depth + 1);
      return o;
    }
  }
}

function randomCall(r: () => number): string {
  if (r() < 0.2) return dumps([randomValue(r, 0)], { methodResponse: true });
  const params = Array.from({ length: Math.floor(r() * 4) }, () => randomValue(r, 0));
  return dumps(params, r() < 0.9 ? 'm.x_y-1' : 'ns:m/2');
}

t.test('takes the bench workloads and what our encoder writes, with the strict reader values', async (t) => {
  for (const w of WORKLOADS) {
    const body = requestBody(w);
    t.not(fast(body, { wrapDoubles: true }), null, `${w.id} takes the fast path`);
    t.equal(check(body, { wrapDoubles: true }), null, w.id);
  }
  const r = prng(16);
  const counts = { fast: 0, all: 0 };
  for (let k = 0; k < 3000; k++) {
    const doc = randomCall(r);
    const options: DecodeOptions = { wrapDoubles: r() < 0.5, allowNone: r() < 0.8, maxDepth: r() < 0.3 ? Math.floor(r() * 3) : 64 };
    const bytes = r() < 0.5;
    const problem = check(bytes ? Buffer.from(doc) : doc, options, counts);
    if (problem !== null) t.fail(`${problem}: ${show(doc)} ${JSON.stringify(options)}`);
  }
  // Strings with a carriage return, i8, nil refused and nesting past maxDepth fall back; most do not.
  t.ok(counts.fast > counts.all / 3, `the fast path took ${counts.fast} of ${counts.all}`);
});

t.test("takes Python's layout and the common declarations", async (t) => {
  const python =
    "<?xml version='1.0'?>\n<methodCall>\n<methodName>add</methodName>\n<params>\n<param>\n<value><int>40</int></value>\n</param>\n<param>\n<value><struct>\n<member>\n<name>k</name>\n<value><array><data>\n<value><i4>2</i4></value>\n<value><string>x</string></value>\n</data></array></value>\n</member>\n</struct></value>\n</param>\n</params>\n</methodCall>\n";
  t.same(fast(python), { methodName: 'add', params: [40, Object.assign(Object.create(null) as object, { k: [2, 'x'] })] });
  for (const decl of ['<?xml version="1.0" encoding="UTF-8"?>', "<?xml version='1.0' encoding='utf-8'?>", '', ' \r\n']) {
    const doc = `${decl}<methodCall><methodName>m</methodName><params><param><value>é</value></param></params></methodCall>`;
    t.same(fast(Buffer.from(doc)), { methodName: 'm', params: ['é'] }, JSON.stringify(decl));
  }
  t.same(fast('<methodCall><methodName>m</methodName></methodCall>'), { methodName: 'm', params: [] });
  t.same(fast(dumps([[1, 'x']], { methodResponse: true })), { methodName: null, params: [[1, 'x']] });
  t.same(fast(call('<value><string>a &lt;&gt;&amp;&quot;&apos; 😀\tb</string></value>')), { methodName: 'm', params: ['a <>&"\' 😀\tb'] });
  t.same(fast(call('<value>  <int> -0 </int>\n</value>')), { methodName: 'm', params: [0] });
});

// prettier-ignore
const FALL_BACK: Array<[name: string, doc: Doc, options?: DecodeOptions]> = [
  ['a carriage return in a string', call('<value><string>a\rb</string></value>')],
  ['a character reference', call('<value>&#65;</value>')],
  ['an undefined entity', call('<value>&nbsp;</value>')],
  ['a comment between elements', call('<value><!-- c --><int>1</int></value>')],
  ['a comment after the root', `${call('<value>1</value>')}<!-- c -->`],
  ['a processing instruction', call('<value><?pi?>x</value>')],
  ['CDATA', call('<value><![CDATA[x]]></value>')],
  ['an attribute', call('<value a="1"><int>1</int></value>')],
  ['a prefix', call('<ex:value><ex:int>1</ex:int></ex:value>')],
  ['an empty string element', call('<value><string/></value>')],
  ['an empty value element', call('<value/>')],
  ['an empty struct element', call('<value><struct/></value>')],
  ['an i8', call('<value><i8>5</i8></value>')],
  ['a name after its value', call('<value><struct><member><value>1</value><name>k</name></member></struct></value>')],
  ['params before methodName', '<methodCall><params/><methodName>m</methodName></methodCall>'],
  ['a fault response', dumps(new Fault(4, 'Too many params'))],
  ['a response of two params', '<methodResponse><params><param><value>1</value></param><param><value>1</value></param></params></methodResponse>'],
  ['a response of no param', '<methodResponse><params></params></methodResponse>'],
  ['a response with a methodName', '<methodResponse><methodName>m</methodName><params><param><value>1</value></param></params></methodResponse>'],
  ['nesting past maxDepth', call('<value><array><data><value><array><data></data></array></value></data></array></value>'), { maxDepth: 1 }],
  ['nil when refused', call('<value><nil/></value>'), { allowNone: false }],
  ['a lone surrogate', call('<value>\ud800</value>')],
  ['U+FFFE', call('<value>\ufffe</value>')],
  ['a C0 control', call('<value>a\u0001</value>')],
  [']]> in text', call('<value>a]]>b</value>')],
  ['an int past int32', call('<value><int>2147483648</int></value>')],
  ['a double past the finite', call('<value><double>1e999</double></value>')],
  ['a boolean 2', call('<value><boolean>2</boolean></value>')],
  ['a bad dateTime', call('<value><dateTime.iso8601>19981317T14:08:55</dateTime.iso8601></value>')],
  ['bad base64', call('<value><base64>a</base64></value>')],
  ['an empty methodName', '<methodCall><methodName></methodName></methodCall>'],
  ['a methodName with white space', '<methodCall><methodName> m </methodName></methodCall>'],
  ['another declaration', '<?xml version="1.0" encoding="ISO-8859-1"?><methodCall><methodName>m</methodName></methodCall>'],
  ['a second root', '<methodCall><methodName>m</methodName></methodCall><methodCall/>'],
  ['text after the root', '<methodCall><methodName>m</methodName></methodCall>x'],
  ['a mismatched end tag', call('<value><int>1</i4></value>')],
  ['an end tag with white space', call('<value><int>1</int ></value>')],
  ['the end of the document inside a string', call('<value><string>abc').slice(0, -30)],
];

t.test('falls back on anything else, and loads answers as the strict reader', async (t) => {
  for (const [name, doc, options] of FALL_BACK) {
    t.equal(fast(doc, options), null, name);
    t.equal(check(doc, options), null, name);
  }
});

t.test('agrees with the strict reader on the decoder corpus', async (t) => {
  const docs: Array<[string, Doc, DecodeOptions?]> = [
    ...MALFORMED.map(([name, doc]): [string, Doc] => [name, doc]),
    ...ACCEPTED_DOCS,
    ...ACCEPTED_VALUES.map((v): [string, Doc] => [v, call(v)]),
    ...SAMPLES.map((doc, k): [string, Doc] => [`sample ${k}`, doc]),
  ];
  for (const [name, doc, options] of docs) {
    const problem = check(doc, options);
    if (problem !== null) t.fail(`${name}: ${problem}`);
  }
  t.pass(`${docs.length} documents`);
});

t.test('agrees with the strict reader on mutations and truncations of canonical documents', async (t) => {
  const r = prng(1616);
  const bases = [requestBody(WORKLOADS[0]!), requestBody(WORKLOADS[1]!), ...Array.from({ length: 40 }, () => Buffer.from(randomCall(r)))];
  const counts = { fast: 0, all: 0 };
  for (let k = 0; k < 6000; k++) {
    const doc = mutate(bases[k % bases.length]!, r);
    const problem = check(r() < 0.5 ? doc : doc.toString('latin1'), { wrapDoubles: r() < 0.5 }, counts);
    if (problem !== null) t.fail(`${problem}: ${show(doc)}`);
  }
  t.ok(counts.fast > 0 && counts.fast < counts.all, `the fast path took ${counts.fast} of ${counts.all} mutants`);
  for (const base of bases.slice(0, 12)) {
    for (let end = 0; end < base.length; end++) {
      const problem = check(base.subarray(0, end));
      if (problem !== null) t.fail(`${problem}: ${show(base.subarray(0, end))}`);
    }
  }
});

t.test('agrees with the strict reader with each character of small documents replaced in turn', async (t) => {
  const docs = [
    call('<value><struct><member><name>k&amp;</name><value><double>-1.5e3</double></value></member></struct></value>'),
    call('<value><array><data><value><int>1</int></value><value><boolean>1</boolean></value><value>x</value></data></array></value>'),
    call('<value><dateTime.iso8601>19980717T14:08:55</dateTime.iso8601></value><value><base64>aGVsbG8=</base64></value><value><nil/></value>'),
  ];
  const replacements = [' ', '\r', '\u0000', '\ufffe', '\ud800', '<', '>', '&', ']', '/', 'x', '1', '-', '.', 'e', '=', ':'];
  let n = 0;
  for (const doc of docs) {
    for (let i = 0; i < doc.length; i++) {
      for (const c of replacements) {
        for (const mutant of [doc.slice(0, i) + c + doc.slice(i + 1), doc.slice(0, i) + c + doc.slice(i)]) {
          n++;
          const problem = check(mutant, { allowNone: i % 2 === 0 });
          if (problem !== null) t.fail(`${problem}: ${show(mutant)}`);
        }
      }
    }
  }
  t.pass(`${n} documents`);
});

t.test('agrees with the strict reader on the edge cases of each scalar, member name, declaration and nesting', async (t) => {
  const values: string[] = [];
  for (const n of [
    '+1',
    '01',
    '0001',
    ' 1 ',
    '\t-0\n',
    '-2147483648',
    '-2147483649',
    '+2147483647',
    '00000000002147483647',
    '0x10',
    '1.0',
    '1e3',
    '',
    '- 1',
    '4294967296',
  ]) {
    for (const tag of ['int', 'i4']) {
      const v = `<value><${tag}>${n}</${tag}></value>`;
      values.push(v, `<value><array><data>${v}<value><${tag}>1</${tag}></value></data></array></value>`);
    }
  }
  for (const n of ['1e400', '-1e400', '.5', '5.', '-0', 'NaN', 'Infinity', '0x10', '1e', '.e1', '+1.5', '1e-400', '1..2', '1.7976931348623159e308']) {
    values.push(`<value><double>${n}</double></value>`);
  }
  for (const n of ['2', '01', '00', '+1', '-0', ' 1 ', 'true', '']) values.push(`<value><boolean>${n}</boolean></value>`);
  for (const n of ['a]]>b', ']]&gt;', 'a\r\nb', '&#x41;', '&AMP;', '&amp', '\u0085', '\u2028', '\ude00x', '\uffff', '😀é']) {
    values.push(
      `<value><string>${n}</string></value>`,
      `<value>${n}</value>`,
      `<value><struct><member><name>${n}</name><value>1</value></member></struct></value>`,
    );
  }
  for (const k of ['__proto__', 'constructor', '', ' a ', '&lt;']) {
    values.push(
      `<value><struct><member><name>${k}</name><value>1</value></member><member><name>${k}</name><value><struct></struct></value></member></struct></value>`,
    );
  }
  for (const b of ['=', 'YQ', 'YQ=', 'YR==', 'a===', 'ab==cd==', 'YW\nJj', 'YWJj'.repeat(70) + 'YR==', 'YWJj'.repeat(100) + 'Y'])
    values.push(`<value><base64>${b}</base64></value>`);
  for (const d of ['1998-07-17T14:08:55', '19980717T14:08:55+01:00', '19980717T14:08', '19980230T00:00:00', '19980717T24:00:00', '19980717t14:08:55']) {
    values.push(`<value><dateTime.iso8601>${d}</dateTime.iso8601></value>`);
  }
  let n = 0;
  const expectAgreement = (doc: Doc, options?: DecodeOptions) => {
    n++;
    const problem = check(doc, options);
    if (problem !== null) t.fail(`${problem}: ${show(doc)} ${JSON.stringify(options)}`);
  };
  for (const v of values) {
    for (const options of [{}, { wrapDoubles: true }, { allowNone: false }]) {
      expectAgreement(call(v), options);
      expectAgreement(Buffer.from(call(v)), options);
      expectAgreement(`<methodResponse><params><param>${v}</param></params></methodResponse>`, options);
    }
  }
  const declarations = [
    '<?xml version="1.0" encoding="Utf-8"?>',
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>',
    '<?xml version="1.1"?>',
    '<?xml version="1.0"  ?>',
    '\ufeff',
  ];
  for (const decl of declarations) for (const v of ['<value>1</value>', '<value>é😀</value>']) expectAgreement(Buffer.from(decl + call(v)));
  for (const tail of ['x', '<x/>', '<?pi?>', '\u0000', '\ufeff', '</methodCall>']) expectAgreement(Buffer.from(call('<value>1</value>') + tail));
  const nest = (depth: number, open: string, close: string) =>
    call(open.repeat(depth) + '<value><int>1</int></value><value><int>2</int></value>' + close.repeat(depth));
  for (const maxDepth of [1, 2, 5]) {
    for (const depth of [maxDepth - 1, maxDepth, maxDepth + 1]) {
      expectAgreement(Buffer.from(nest(depth, '<value><array><data>', '</data></array></value>')), { maxDepth });
      expectAgreement(nest(depth, '<value><struct><member><name>k</name>', '</member></struct></value>').replace('<value><int>2</int></value>', ''), {
        maxDepth,
      });
    }
  }
  t.pass(`${n} documents`);
});

t.test('gives each member name its own characters however full the cache of names is', async (t) => {
  // Names of one length and hash neighbourhood (one character apart), at
  // and past the cache's 32 characters, then enough more to evict them all,
  // each struct decoded twice: a name from the cache must be the very name.
  const r = prng(16);
  const printable = (n: number) => Array.from({ length: n }, () => String.fromCharCode(0x20 + Math.floor(r() * 95))).join('');
  const names: string[] = ['__proto__', 'constructor', 'a', 'b', 'ab', 'ba', 'x'.repeat(32), 'x'.repeat(31) + 'y', 'x'.repeat(33), 'x'.repeat(32) + 'y'];
  for (let i = 0; i < 100; i++) names.push(`dbl${i}`, `int${i}`, `dbl${i}7`);
  for (let i = 0; i < 3000; i++) names.push(printable(1 + Math.floor(r() * 40)));
  let n = 0;
  for (let round = 0; round < 2; round++) {
    for (let i = 0; i < names.length; i += 20) {
      const struct: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
      for (const [k, name] of names.slice(i, i + 20).entries()) struct[name] = k;
      for (const doc of [dumps([struct], 'm'), Buffer.from(dumps([struct], 'm'))]) {
        n++;
        const problem = check(doc, { wrapDoubles: true });
        if (problem !== null) t.fail(`${problem}: ${show(doc)}`);
        const value = (fast(doc) as { params: unknown[] } | null)?.params[0];
        if (!isDeepStrictEqual(value, struct)) t.fail(`the fast path did not give the struct back: ${show(doc)}`);
      }
    }
  }
  t.pass(`${n} documents`);
});

t.test(
  'a struct of a kind seen before is the same object as the strict reader makes: null prototype, same keys in the same order, plain data properties',
  async (t) => {
    // A kind gets a template on its second sighting; then every struct that
    // starts like it (the same first name) is built from the template until it
    // turns out otherwise: at each member, or by being shorter or longer.
    const base = ['alpha', 'beta', 'gamma', 'delta', 'epsilon'];
    const variants: string[][] = [base, base, base];
    for (let i = 1; i < base.length; i++) {
      variants.push(
        base.map((k, j) => (j === i ? 'other' : k)),
        base,
        base,
      );
      variants.push(base.slice(0, i), base, [...base.slice(0, i), 'beta'], base);
    }
    variants.push([...base, 'zeta'], base, [...base, '__proto__'], [...base, '__proto__'], ['alpha', 'beta', 'alpha'], ['alpha', 'beta', 'alpha']);
    variants.push(['alpha', '1', 'beta'], ['alpha', '1', 'beta'], ['alpha', '1', 'beta'], ['alpha', 'beta', 'constructor'], ['alpha', 'beta', 'constructor']);
    variants.push(['alpha'], ['alpha'], base, ['alpha', 'beta', 'gamma', 'delta', 'epsilon ']);
    // A name the shape expects, but longer, shorter, or written with a reference.
    variants.push(['alpha', 'beta', 'gammax', 'delta', 'epsilon'], base, ['alpha', 'beta', 'gamm', 'delta', 'epsilon'], base, [
      'alpha',
      'beta',
      'gam&amp;ma',
      'delta',
      'epsilon',
    ]);
    let n = 0;
    for (const [i, names] of variants.entries()) {
      const members = names.map((k, j) => `<member><name>${k}</name><value><int>${i * 10 + j}</int></value></member>`).join('');
      for (const nested of [false, true]) {
        const struct = `<value><struct>${members}</struct></value>`;
        const doc = call(nested ? `<value><array><data>${struct}${struct}</data></array></value>` : struct);
        n++;
        const differs = structDiffers(doc, (params) => (nested ? (params[0] as unknown[])[1] : params[0]) as object);
        if (differs !== null) t.fail(differs);
      }
    }
    t.pass(`${n} documents`);
  },
);

t.test("structs of many known kinds, up to and past the largest that gets a template, interleaved, are each the strict reader's object", async (t) => {
  // Known kinds of many sizes, around the largest that gets a template,
  // read in turn, so that every kind's template and leads meet the others'.
  const r = prng(2026);
  const name = (len: number) => Array.from({ length: len }, () => String.fromCharCode(0x61 + Math.floor(r() * 26))).join('');
  const kinds: string[][] = [];
  for (const size of [2, 3, 17, 50, 64, 100, 127, 128, 129, 140]) {
    const names = new Set<string>();
    while (names.size < size) names.add(name(1 + Math.floor(r() * 12)));
    kinds.push([...names]);
  }
  let n = 0;
  for (let round = 0; round < 4; round++) {
    for (const [i, names] of kinds.entries()) {
      const members = names
        .map((k, j) => {
          const x = (round * 7 + i * 13 + j) % 4;
          const v =
            x === 0 ? `<int>${j}</int>` : x === 1 ? `<string>${k}${round}</string>` : x === 2 ? `<boolean>${j % 2}</boolean>` : `<double>${j}.5</double>`;
          return `<member><name>${k}</name><value>${v}</value></member>`;
        })
        .join('');
      const doc = call(`<value><struct>${members}</struct></value>`);
      n++;
      const differs = structDiffers(doc, (params) => params[0] as object);
      if (differs !== null) t.fail(`kind of ${names.length}, round ${round}: ${differs}`);
    }
  }
  t.pass(`${n} documents`);
});

t.test('reads a double as Number() does, whatever its digits', async (t) => {
  // The fast path divides the digits by a power of ten when that is exact
  // (no exponent, at most 15 digits): every double must still be Number()'s.
  const r = prng(1616);
  const digits = (n: number) => Array.from({ length: n }, () => String(Math.floor(r() * 10))).join('');
  const texts = [
    '0.1',
    '0.2',
    '0.3',
    '-0.0',
    '+0.5',
    '.5',
    '5.',
    '9007199254740993',
    '900719925474099.3',
    '0.000000000000001',
    '123456789012345',
    '1234567890123456',
    '0.1234567890123456',
    '99999999999999.9',
    '-00000000000000000001.5',
    '1.5e1',
    '4.35',
    '2.675',
    '1.005',
    '8.41',
  ];
  for (let i = 0; i < 3000; i++) {
    const int = digits(Math.floor(r() * 10));
    const frac = digits(Math.floor(r() * 12));
    texts.push(`${r() < 0.3 ? '-' : ''}${int}${r() < 0.9 ? '.' : ''}${frac}`);
  }
  let n = 0;
  for (const text of texts) {
    const doc = call(`<value><double>${text}</double></value>`);
    const f = fast(doc) as { params: unknown[] } | null;
    const want = Number(text);
    if (!Number.isFinite(want) || !/\d/.test(text)) continue;
    n++;
    if (f === null) {
      t.fail(`the fast path gave up on ${text}`);
      continue;
    }
    if (!Object.is(f.params[0], want)) t.fail(`${text}: ${String(f.params[0])}, Number() gives ${want}`);
    const problem = check(doc, { wrapDoubles: true });
    if (problem !== null) t.fail(`${problem}: ${text}`);
  }
  t.pass(`${n} doubles`);
});

t.test(
  'a member of a known kind, compared with its lead (its tags, name and last type as one run), is read as the strict reader reads it whatever changed since',
  async (t) => {
    // A kind's members get leads (`<member><name>KEY</name><value><TYPE>`) on
    // its second sighting; a member that no longer matches its lead (another
    // type, name, layout or content) is read the general way, and a new type
    // becomes its lead. Each document is decoded twice, as bytes (compared as
    // words) and as a string.
    const contents: Array<[type: string, xml: string]> = [
      ['int', '<int>7</int>'],
      ['i4', '<i4>-8</i4>'],
      ['string', '<string>a &lt;b&gt; &amp; c</string>'],
      ['string', '<string></string>'],
      ['double', '<double>-1.25</double>'],
      ['boolean', '<boolean>1</boolean>'],
      ['array', '<array><data><value><int>1</int></value><value><string>x</string></value></data></array>'],
      ['struct', '<struct><member><name>in</name><value><int>2</int></value></member></struct>'],
      ['dateTime', '<dateTime.iso8601>19980717T14:08:55</dateTime.iso8601>'],
      ['base64', '<base64>aGVsbG8=</base64>'],
      ['nil', '<nil/>'],
      ['untyped', 'plain'],
      ['empty', ''],
      ['bad int', '<int>1x</int>'],
      ['mismatched end', '<int>1</i4>'],
      ['spaced end', '<int>1</int> '],
      ['i8', '<i8>1</i8>'],
    ];
    const keys = ['first', 'k"1', "k'2", 'k 3', 'long'.repeat(25), 'last'];
    const member = (k: string, v: string, gap = '') => `<member>${gap}<name>${k}</name>${gap}<value>${v}</value>${gap}</member>`;
    const doc = (members: string[]) => call(`<value><struct>${members.join('')}</struct></value>`);
    const base = keys.map((k, i) => member(k, (contents[i] as [string, string])[1]));
    const docs: string[] = [doc(base), doc(base), doc(base)];
    for (let m = 1; m < keys.length; m++) {
      for (const [, xml] of contents) {
        const changed = base.slice();
        changed[m] = member(keys[m] as string, xml);
        docs.push(doc(changed), doc(changed), doc(base));
      }
      for (const gap of [' ', '\n']) {
        const changed = base.slice();
        changed[m] = member(keys[m] as string, (contents[m] as [string, string])[1], gap);
        docs.push(doc(changed), doc(base));
      }
      const key = keys[m] as string;
      for (let j = 0; j < key.length; j++) {
        // The name changed in one character, each in turn.
        const renamed = base.slice();
        renamed[m] = member(`${key.slice(0, j)}${key[j] === 'X' ? 'Y' : 'X'}${key.slice(j + 1)}`, (contents[m] as [string, string])[1]);
        docs.push(doc(renamed), doc(base));
      }
    }
    let n = 0;
    for (const text of docs) {
      for (const d of [Buffer.from(text), text]) {
        n++;
        const problem = check(d, { allowNone: n % 7 !== 0 });
        if (problem !== null) t.fail(`${problem}: ${show(d)}`);
      }
    }
    t.ok(fast(Buffer.from(docs[0] as string)) !== null, 'the fast path takes the kind');
    t.pass(`${n} documents`);
  },
);

t.test('reads text from an ASCII document bytes as from its string: entities, ]]>, controls', async (t) => {
  const texts = [
    '&lt;',
    '&gt;',
    '&amp;',
    '&apos;',
    '&quot;',
    '&amp',
    '&ap;',
    '&apo;',
    '&quo;',
    '&qout;',
    '&lt',
    '&LT;',
    ']]>',
    ']>',
    'a]]&gt;',
    ']]',
    '\t\n',
    '\r',
    '\u0001',
    '\u007f',
    '~',
  ];
  let n = 0;
  for (const a of texts) {
    for (const b of ['', 'x', '&apos;', '&quot;&amp;']) {
      for (const v of [
        `<value><string>${a}${b}</string></value>`,
        `<value>${b}${a}</value>`,
        `<value><struct><member><name>${a}${b}</name><value>1</value></member></struct></value>`,
      ]) {
        for (const d of [Buffer.from(call(v)), call(v), Buffer.from(`<methodResponse><params><param>${v}</param></params></methodResponse>`)]) {
          n++;
          const problem = check(d);
          if (problem !== null) t.fail(`${problem}: ${show(d)}`);
        }
      }
    }
  }
  t.pass(`${n} documents`);
});
