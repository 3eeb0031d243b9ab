// The encoder against an independent oracle (xmlbuilder2 builds the same
// document; both are re-parsed by xmlbuilder2 and serialised again before
// comparing), then round trips through loads, then every refusal.

import { spawnSync } from 'node:child_process';
import { inspect } from 'node:util';
import t from 'tap';
import { create } from 'xmlbuilder2';
import type { XMLBuilder } from 'xmlbuilder2/lib/interfaces.js';
import { EncodeError, Fault } from '../lib/errors.js';
import { loads } from '../lib/xmlrpc/decode.js';
import { bufferDumps, dumps, encodeValue } from '../lib/xmlrpc/encode.js';
import { DateTime, Double, I8 } from '../lib/xmlrpc/values.js';

// ---------------------------------------------------------------------------
// helpers

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return undefined;
}

function nested(levels: number, kind: 'array' | 'struct'): unknown {
  let v: unknown = 1;
  for (let i = 0; i < levels; i++) v = kind === 'array' ? [v] : { k: v };
  return v;
}

function roundTrip(value: unknown): unknown {
  const { params } = loads(dumps([value], 'm'));
  return params[0];
}

function nullProto<T extends object>(o: T): T {
  return Object.assign(Object.create(null) as T, o);
}

/** Deterministic bytes (xorshift32). */
function pseudoRandomBytes(n: number, seed: number): Buffer {
  const out = Buffer.alloc(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

// ---------------------------------------------------------------------------
// the oracle: the same mapping, written with xmlbuilder2's builder

/** Marks a number whose double text the oracle is told (the hard cases). */
class Dbl {
  constructor(
    readonly value: number,
    readonly text: string,
  ) {}
}

function oracleValue(parent: XMLBuilder, v: unknown): void {
  const value = parent.ele('value');
  if (v === null || v === undefined) {
    value.ele('nil');
  } else if (v instanceof Dbl) {
    value.ele('double').txt(v.text);
  } else if (typeof v === 'number') {
    // Only int32 and plain decimals reach here; hard doubles come as Dbl.
    if (Number.isInteger(v) && Math.abs(v) < 2 ** 31 + (v < 0 ? 1 : 0) && !Object.is(v, -0)) value.ele('int').txt(String(v));
    else value.ele('double').txt(String(v));
  } else if (typeof v === 'bigint') {
    value.ele('i8').txt(v.toString());
  } else if (typeof v === 'boolean') {
    value.ele('boolean').txt(v ? '1' : '0');
  } else if (typeof v === 'string') {
    value.ele('string').txt(v);
  } else if (v instanceof Date) {
    const iso = v.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ for years 0-9999
    value.ele('dateTime.iso8601').txt(iso.slice(0, 4) + iso.slice(5, 7) + iso.slice(8, 10) + 'T' + iso.slice(11, 19));
  } else if (v instanceof Uint8Array) {
    value.ele('base64').txt(Buffer.from(v).toString('base64'));
  } else if (Array.isArray(v)) {
    const data = value.ele('array').ele('data');
    for (const item of v) oracleValue(data, item);
  } else if (v instanceof Map) {
    const struct = value.ele('struct');
    for (const [k, item] of v) oracleMember(struct, k as string, item);
  } else if (typeof v === 'object') {
    const struct = value.ele('struct');
    for (const [k, item] of Object.entries(v)) if (item !== undefined) oracleMember(struct, k, item);
  } else {
    throw new Error(`oracle: no mapping for ${typeof v}`);
  }
}

function oracleMember(struct: XMLBuilder, name: string, v: unknown): void {
  const member = struct.ele('member');
  member.ele('name').txt(name);
  oracleValue(member, v);
}

function oracleCall(methodName: string, params: unknown[]): string {
  const call = create({ version: '1.0' }).ele('methodCall');
  call.ele('methodName').txt(methodName);
  const ps = call.ele('params');
  for (const p of params) oracleValue(ps.ele('param'), p);
  return call.end({ wellFormed: true });
}

function oracleResponse(value: unknown): string {
  const response = create({ version: '1.0' }).ele('methodResponse');
  oracleValue(response.ele('params').ele('param'), value);
  return response.end({ wellFormed: true });
}

/** Re-parsed and serialised by xmlbuilder2: `<a></a>` and `<a/>`, `&#13;` and CR look alike. */
function canonical(xml: string): string {
  return create(xml).end({ headless: true });
}

/** What our encoder is given for an oracle entry. */
function ours(v: unknown): unknown {
  if (v instanceof Dbl) return v.value;
  if (Array.isArray(v)) return v.map(ours);
  if (v instanceof Map) return new Map([...v].map(([k, x]) => [k, ours(x)]));
  if (v !== null && typeof v === 'object' && !(v instanceof Date) && !(v instanceof Uint8Array)) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, ours(x)]));
  }
  return v;
}

const zeros = (n: number): string => '0'.repeat(n);

// prettier-ignore
const ORACLE_CORPUS: Array<[string, unknown]> = [
  ['zero', 0],
  ['one', 1],
  ['minus one', -1],
  ['int32 max', 2 ** 31 - 1],
  ['int32 min', -(2 ** 31)],
  ['2^31 as a double', new Dbl(2 ** 31, '2147483648.0')],
  ['-2^31-1 as a double', new Dbl(-(2 ** 31) - 1, '-2147483649.0')],
  ['minus zero', new Dbl(-0, '-0.0')],
  ['0.1', new Dbl(0.1, '0.1')],
  ['1.5', 1.5],
  ['-2.25', -2.25],
  ['1e300', new Dbl(1e300, '1' + zeros(300) + '.0')],
  ['1e21', new Dbl(1e21, '1' + zeros(21) + '.0')],
  ['1.5e-7', new Dbl(1.5e-7, '0.00000015')],
  ['5e-324', new Dbl(5e-324, '0.' + zeros(323) + '5')],
  ['Number.MAX_VALUE', new Dbl(Number.MAX_VALUE, '17976931348623157' + zeros(292) + '.0')],
  ['2^53 + 2', new Dbl(2 ** 53 + 2, '9007199254740994.0')],
  ['i8 max', 2n ** 63n - 1n],
  ['i8 min', -(2n ** 63n)],
  ['true', true],
  ['false', false],
  ['empty string', ''],
  ['plain string', 'hello world'],
  ['markup characters', `&<>"'`],
  ['CDATA terminator', ']]>'],
  ['CR LF', 'line\r\nnext\rlast\n'],
  ['tab and spaces', '\t two  spaces \t'],
  ['unicode with astral characters', 'é 中文 😀 \u{10FFFF}'],
  ['Date', new Date(Date.UTC(1998, 6, 17, 14, 8, 55))],
  ['Date before 1970', new Date(Date.UTC(1901, 0, 2, 3, 4, 5))],
  ['Date in year 9999', new Date(Date.UTC(9999, 11, 31, 23, 59, 59))],
  ['Date in year 5', new Date('0005-03-04T05:06:07Z')],
  ['empty bytes', Buffer.alloc(0)],
  ['bytes', Buffer.from([0, 1, 2, 253, 254, 255])],
  ['null', null],
  ['empty array', []],
  ['mixed array', [1, 'two', [true, null], 2.5]],
  ['empty struct', {}],
  ['struct', { a: 1, 'b & <c>': 'x', '': 'empty name', nested: { list: [1, { deep: 'yes' }] } }],
  ['struct member undefined is left out', { kept: 1, dropped: undefined }],
  ['Map', new Map<string, unknown>([['k', 'v'], ['n', 2]])],
];

t.test('writes the same document as the xmlbuilder2 oracle for every corpus value', async (t) => {
  for (const [name, v] of ORACLE_CORPUS) {
    t.equal(canonical(dumps([ours(v)], { methodResponse: true })), canonical(oracleResponse(v)), name);
  }
});

t.test('writes the same methodCall as the oracle for all the corpus values at once', async (t) => {
  const values = ORACLE_CORPUS.map(([, v]) => v);
  t.equal(canonical(dumps(values.map(ours), 'corpus.all')), canonical(oracleCall('corpus.all', values)));
  t.equal(canonical(dumps([], 'no.params')), canonical(oracleCall('no.params', [])));
  t.equal(canonical(dumps([1], 'a&b<c>')), canonical(oracleCall('a&b<c>', [1])));
});

t.test('writes the same fault response as the oracle', async (t) => {
  const doc = create({ version: '1.0' }).ele('methodResponse').ele('fault');
  oracleValue(doc, { faultCode: 4, faultString: 'Too many <params> & more' });
  t.equal(canonical(dumps(new Fault(4, 'Too many <params> & more'))), canonical(doc.end({ wellFormed: true })));
});

t.test('writes the same bytes with bufferDumps as dumps does as a string, for every corpus value', async (t) => {
  for (const [name, v] of ORACLE_CORPUS) {
    const params = [ours(v)];
    t.ok(bufferDumps(params, { methodResponse: true }).equals(Buffer.from(dumps(params, { methodResponse: true }), 'utf8')), name);
  }
  const values = ORACLE_CORPUS.map(([, v]) => ours(v));
  t.ok(bufferDumps(values, 'corpus.all').equals(Buffer.from(dumps(values, 'corpus.all'), 'utf8')));
  t.ok(bufferDumps(new Fault(4, 'é <x> 😀')).equals(Buffer.from(dumps(new Fault(4, 'é <x> 😀')), 'utf8')));
});

t.test('writes every digit count and sign of an int32, alone and amid text, in documents of every size', async (t) => {
  const ints = [0, -0 + 0, 1, -1, 9, 10, -10, 99, 100, 12345, 999999999, 1000000000, -1000000000, 2147483647, -2147483648];
  for (let d = 1, p = 10; d <= 9; d++, p *= 10) ints.push(p - 1, -(p - 1), p, -p);
  for (const n of ints) {
    t.equal(
      dumps([n], { methodResponse: true }),
      `<?xml version="1.0"?><methodResponse><params><param><value><int>${n}</int></value></param></params></methodResponse>`,
    );
  }
  // Ints, non-ASCII text and long strings mixed, past the flush size and the first buffer.
  for (const size of [10, 3000, 50000]) {
    const mixed = Array.from({ length: size }, (_, i) => (i % 3 === 0 ? i - size : i % 3 === 1 ? `é${i}<` : { k: i, ü: 'x'.repeat(i % 97) }));
    const xml = dumps(mixed, 'm');
    t.same(
      loads(xml).params,
      mixed.map((v) => (typeof v === 'object' ? Object.assign(Object.create(null) as Record<string, unknown>, v) : v)),
      `${size} values`,
    );
    t.ok(bufferDumps(mixed, 'm').equals(Buffer.from(xml, 'utf8')), `${size} values as bytes`);
  }
});

t.test('writes runs of int32s into the buffer as value() writes each, up to the first item that is not one', async (t) => {
  // bufferDumps writes a run of int32s in one loop once its buffer is there (past the first few KB);
  // each edge value sits in long runs and right after a run, so both paths meet every one.
  const edges = [0, 1, -1, 9, -9, 10, 99, 100, 65535, 65536, 999999999, 1000000000, -1000000000, 2147483647, -2147483648];
  const breakers = [-0, 0.5, 2147483648, -2147483649, Number.MAX_SAFE_INTEGER, 1e21, 'text', true, null, [7, -0, 8], 12n];
  const items: unknown[] = [];
  for (let i = 0; i < 4000; i++) {
    items.push(edges[i % edges.length], i * 7919 - 1e7);
    if (i % 97 === 0) items.push(breakers[(i / 97) % breakers.length]);
  }
  const xml = dumps([items], { methodResponse: true });
  t.ok(bufferDumps([items], { methodResponse: true }).equals(Buffer.from(xml, 'utf8')));
  const back = loads(xml).params[0] as unknown[];
  t.equal(back.length, items.length);
  t.ok(xml.includes('<value><double>-0.0</double></value>') && xml.includes('<value><double>2147483648.0</double></value>'), 'non-int32s as doubles');
  const ints = Array.from({ length: 30000 }, (_, i) => (i % 2 === 0 ? edges[i % edges.length]! : -i * 71993));
  t.ok(bufferDumps([ints], { methodResponse: true }).equals(Buffer.from(dumps([ints], { methodResponse: true }), 'utf8')), 'ints only');
  t.same(loads(bufferDumps([ints], { methodResponse: true })).params[0], ints);
});

t.test('writes a document as UTF-8 whenever any of its text is not ASCII, wherever that text is', async (t) => {
  // An ASCII document goes to bytes as latin1; one non-ASCII character anywhere must bring UTF-8 back.
  const texts = ['é', 'x&é', 'é&x', '&é', 'a<b>é', 'é\r', '😀', 'a&😀', '\u00ff', '\u0080', 'ascii & <only>'];
  for (const text of texts) {
    const docs: [string, unknown[] | Fault, string | { methodResponse: true } | undefined][] = [
      ['a string', [text], { methodResponse: true }],
      ['a member name', [{ [text]: 1 }], { methodResponse: true }],
      ['a Map key', [new Map([[text, 1]])], { methodResponse: true }],
      ['a methodName', [1], text],
      ['a faultString', new Fault(1, text), undefined],
      ['a string past the flush size', ['x'.repeat(9000), text, 'y'.repeat(9000)], { methodResponse: true }],
    ];
    for (const [where, params, options] of docs) {
      const p = Array.isArray(params) && options !== undefined && typeof options !== 'string' ? [params] : params;
      t.ok(bufferDumps(p, options).equals(Buffer.from(dumps(p, options), 'utf8')), `${JSON.stringify(text)} in ${where}`);
    }
  }
  // A document written by a getter meanwhile, ASCII or not, leaves its writer's text as it was.
  const outer = (first: string, inner: string): unknown => ({
    a: first,
    get b(): string {
      return bufferDumps([inner], { methodResponse: true }).toString('utf8');
    },
    c: 'last',
  });
  for (const [first, inner] of [
    ['é', 'x'],
    ['x', 'é'],
    ['é', 'é'],
    ['x', 'x'],
  ] as const) {
    const v = outer(first, inner);
    t.ok(bufferDumps([v], { methodResponse: true }).equals(Buffer.from(dumps([v], { methodResponse: true }), 'utf8')), `outer ${first}, inner ${inner}`);
  }
  const dt = new DateTime('19980717T14:08:55');
  (dt as { value: string }).value = '19980717T14:08:55é';
  t.ok(bufferDumps([dt], { methodResponse: true }).equals(Buffer.from(dumps([dt], { methodResponse: true }), 'utf8')), 'a DateTime whose value was changed');
});

t.test('writes a struct member of every scalar kind as value() writes that value', async (t) => {
  // member() writes strings, booleans and numbers with their member's tags in one piece; encodeValue goes through value().
  const scalars: unknown[] = [
    0,
    -0,
    1,
    -1,
    2147483647,
    -2147483648,
    2147483648,
    -2147483649,
    0.25,
    -1e-7,
    1e21,
    123456789012,
    true,
    false,
    '',
    'a & <b>',
    'é\r😀',
  ];
  for (const v of scalars) {
    const want = `<value><struct><member><name>k&amp;</name>${encodeValue(v)}</member></struct></value>`;
    t.equal(encodeValue({ 'k&': v }), want, inspect(v));
    t.equal(encodeValue(new Map([['k&', v]])), want, `${inspect(v)} in a Map`);
    // Past the flush size, where ints go into the buffer as bytes.
    const big = { pad: 'x'.repeat(9000), 'k&': v };
    t.ok(bufferDumps([big], { methodResponse: true }).equals(Buffer.from(dumps([big], { methodResponse: true }), 'utf8')), `${inspect(v)} past the flush`);
  }
  for (const bad of [Number.NaN, Number.POSITIVE_INFINITY]) {
    const err = thrown(() => dumps([{ a: { b: bad } }], { methodResponse: true }));
    t.ok(err instanceof EncodeError && (err as EncodeError).path === 'result.a.b', `${bad} located`);
  }
});

t.test('encodes a value whose getter encodes another document meanwhile', async (t) => {
  const inner = [1, 'two', [3]];
  const outer = {
    a: 1,
    get b(): string {
      return dumps(inner, 'inner') + bufferDumps(inner, 'inner').toString('utf8');
    },
    c: Array.from({ length: 5000 }, (_, i) => i),
  };
  const xml = dumps([outer], { methodResponse: true });
  const back = loads(xml).params[0] as Record<string, unknown>;
  t.equal(back['b'], dumps(inner, 'inner') + dumps(inner, 'inner'));
  t.same(back['c'], outer.c);
  t.ok(bufferDumps([outer], { methodResponse: true }).equals(Buffer.from(xml, 'utf8')));
});

t.test('writes the wrappers as the types they force', async (t) => {
  t.equal(encodeValue(new Double(2)), '<value><double>2.0</double></value>');
  t.equal(encodeValue(new Double(-0)), '<value><double>-0.0</double></value>');
  t.equal(encodeValue(new I8(5)), '<value><i8>5</i8></value>');
  t.equal(encodeValue(new I8('-9223372036854775808')), '<value><i8>-9223372036854775808</i8></value>');
  t.equal(encodeValue(new I8(2n ** 40n)), '<value><i8>1099511627776</i8></value>');
  t.equal(encodeValue(new DateTime('1998-07-17T14:08:55+02:00')), '<value><dateTime.iso8601>1998-07-17T14:08:55+02:00</dateTime.iso8601></value>');
  t.equal(encodeValue(undefined), '<value><nil/></value>');
});

t.test('allowNone: false refuses null and undefined wherever they are, and writes everything else as before', async (t) => {
  const strict = { methodResponse: true, allowNone: false } as const;
  for (const value of [null, undefined, [1, null], { a: { b: [null] } }, new Map([['k', null]])]) {
    const err = thrown(() => bufferDumps([value], strict));
    t.ok(err instanceof EncodeError, inspect(value));
    t.match((err as Error).message, /nil is refused here \(allowNone: false\)/);
    t.doesNotThrow(() => bufferDumps([value], { methodResponse: true }), 'written by default');
  }
  t.throws(() => dumps([null], { methodName: 'm', allowNone: false }), EncodeError, 'in a call as in a response');
  t.throws(() => encodeValue(null, { allowNone: false }), EncodeError, 'and in encodeValue');
  // A struct member whose value is undefined is left out, as ever: there is no nil to refuse.
  t.equal(dumps([{ a: 1, b: undefined }], strict), dumps([{ a: 1 }], { methodResponse: true }));
  const plain = [1, 'two', 3.5, true, [4], { five: 5 }, Buffer.from('6'), new Date(0)];
  t.equal(dumps(plain, { methodName: 'm', allowNone: false }), dumps(plain, 'm'), 'the same bytes for a document with no nil');
});

// ---------------------------------------------------------------------------
// the document frame

t.test('starts with the XML declaration and a bare root element, with no white space', async (t) => {
  t.equal(
    dumps([1], { methodResponse: true }),
    '<?xml version="1.0"?><methodResponse><params><param><value><int>1</int></value></param></params></methodResponse>',
  );
  t.equal(
    dumps([40, 2], 'add'),
    '<?xml version="1.0"?><methodCall><methodName>add</methodName><params><param><value><int>40</int></value></param>' +
      '<param><value><int>2</int></value></param></params></methodCall>',
  );
  t.equal(dumps([], { methodName: 'ping' }), '<?xml version="1.0"?><methodCall><methodName>ping</methodName><params></params></methodCall>');
  t.ok(dumps(new Fault(1, 'x')).startsWith('<?xml version="1.0"?><methodResponse><fault><value><struct>'));
});

t.test('escapes &, <, > and CR in text and member names, and nothing else', async (t) => {
  t.equal(encodeValue(`a&b<c>d"e'f\r\ng`), `<value><string>a&amp;b&lt;c&gt;d"e'f&#13;\ng</string></value>`);
  t.equal(encodeValue({ '<k&>': 1 }), '<value><struct><member><name>&lt;k&amp;&gt;</name><value><int>1</int></value></member></struct></value>');
  t.equal(encodeValue(']]>'), '<value><string>]]&gt;</string></value>');
});

t.test('writes a DecodeError as the fault it is', async (t) => {
  const { DecodeError } = await import('../lib/errors.js');
  const xml = dumps(new DecodeError('ERR_XML_NOT_WELL_FORMED', 'bad'));
  const err = thrown(() => loads(xml));
  t.ok(err instanceof Fault);
  t.match(err, { faultCode: -32700, faultString: 'bad' });
});

// ---------------------------------------------------------------------------
// round trips

t.test('round-trips int32 bounds as int and one past them as double', async (t) => {
  for (const n of [0, 1, -1, 2 ** 31 - 1, -(2 ** 31)]) {
    t.match(encodeValue(n), /<int>/, `${n} is an int`);
    t.equal(roundTrip(n), n);
  }
  for (const n of [2 ** 31, -(2 ** 31) - 1, 2 ** 53, -(2 ** 60)]) {
    t.match(encodeValue(n), /<double>/, `${n} is a double`);
    t.equal(roundTrip(n), n);
  }
});

t.test('round-trips i8 bounds as bigint', async (t) => {
  for (const n of [0n, 1n, -1n, 2n ** 31n, 2n ** 63n - 1n, -(2n ** 63n)]) t.equal(roundTrip(n), n);
  t.equal(roundTrip(new I8(42)), 42n);
});

t.test('round-trips doubles exactly: -0, 1e300, 5e-324, 0.1 and friends', async (t) => {
  t.ok(Object.is(roundTrip(-0), -0), '-0 stays -0');
  for (const n of [
    1e300,
    -1e300,
    5e-324,
    -5e-324,
    0.1,
    1 / 3,
    Math.PI,
    Number.MAX_VALUE,
    Number.MIN_VALUE,
    2.2250738585072014e-308,
    1e21,
    1e-7,
    123456789.125,
  ]) {
    t.equal(roundTrip(n), n, String(n));
  }
  t.equal(roundTrip(new Double(2)), 2);
  for (let k = 0; k < 2000; k++) {
    // deterministic spread over the exponent range
    const n = Math.sin(k) * 10 ** ((k % 600) - 300);
    if (roundTrip(n) !== n) t.fail(`${n} does not round-trip`);
  }
});

t.test('writes doubles in decimal notation only, with a point', async (t) => {
  for (const n of [1e300, 5e-324, 1e21, 1e-7, -0, 2 ** 31, 0.5]) {
    t.match(encodeValue(n), /^<value><double>-?[0-9]+\.[0-9]+<\/double><\/value>$/, String(n));
  }
});

t.test('round-trips strings exactly: markup, CDATA terminator, CR LF, astral characters', async (t) => {
  for (const s of [
    '',
    ' ',
    `&<>"'`,
    ']]>',
    ']]]]>><<',
    '\r\n',
    '\r',
    'a\r\nb\rc\nd',
    '\t\n',
    'é中文😀\u{10FFFF}',
    '\uFFFD\uE000\uD7FF',
    '&amp; is not decoded twice',
  ]) {
    t.equal(roundTrip(s), s, JSON.stringify(s));
  }
});

t.test('round-trips base64: empty, odd lengths, 1 MB, and every view of bytes', async (t) => {
  t.same(roundTrip(Buffer.alloc(0)), Buffer.alloc(0));
  for (let n = 1; n <= 5; n++) t.ok((roundTrip(pseudoRandomBytes(n, n)) as Buffer).equals(pseudoRandomBytes(n, n)), `${n} bytes`);
  const big = pseudoRandomBytes(1 << 20, 7);
  const back = roundTrip(big);
  t.ok(Buffer.isBuffer(back) && back.equals(big), '1 MB');
  const bytes = new Uint8Array([9, 8, 7, 6, 5, 4]);
  t.ok((roundTrip(bytes.subarray(2, 5)) as Buffer).equals(Buffer.from([7, 6, 5])), 'a Uint8Array view with an offset');
  t.ok((roundTrip(bytes.buffer) as Buffer).equals(Buffer.from(bytes)), 'an ArrayBuffer');
  t.ok((roundTrip(new DataView(bytes.buffer, 1, 2)) as Buffer).equals(Buffer.from([8, 7])), 'a DataView');
  t.ok((roundTrip(new Uint16Array([0x0102])) as Buffer).equals(Buffer.from(new Uint16Array([0x0102]).buffer)), 'a Uint16Array');
});

t.test('writes base64 into the buffer a slice at a time, the same bytes as one base64 string', async (t) => {
  // bufferDumps encodes long base64 in slices of 49,152 bytes; every length around the flush size and the slices.
  const big = pseudoRandomBytes(3 * 49152 + 16, 11);
  for (const n of [6141, 6142, 6143, 6144, 6145, 49151, 49152, 49153, 98304, 98305, 3 * 49152 + 7]) {
    for (const value of [big.subarray(0, n), new Uint8Array(big.buffer, big.byteOffset + 5, n), [`é${n}`, big.subarray(1, n + 1), n]]) {
      const xml = dumps([value], { methodResponse: true });
      t.ok(bufferDumps([value], { methodResponse: true }).equals(Buffer.from(xml, 'utf8')), `${n} bytes`);
    }
  }
  const xml = bufferDumps([big], { methodResponse: true }).toString('latin1');
  t.ok(xml.includes(`<value><base64>${big.toString('base64')}</base64></value>`));
});

t.test('round-trips dates in UTC, dropping milliseconds, from year 0 to 9999', async (t) => {
  t.same(roundTrip(new Date(Date.UTC(2024, 1, 29, 23, 59, 59, 999))), new Date(Date.UTC(2024, 1, 29, 23, 59, 59)));
  t.same(roundTrip(new Date(Date.UTC(1969, 6, 20, 20, 17, 40))), new Date(Date.UTC(1969, 6, 20, 20, 17, 40)));
  t.same(roundTrip(new Date('9999-12-31T23:59:59.500Z')), new Date('9999-12-31T23:59:59Z'));
  t.same(roundTrip(new Date('0000-01-01T00:00:00Z')), new Date('0000-01-01T00:00:00Z'));
  t.same(roundTrip(new Date('0050-06-01T12:00:00Z')), new Date('0050-06-01T12:00:00Z'), 'year 50 is not 1950');
  t.equal(encodeValue(new Date(Date.UTC(1998, 6, 17, 14, 8, 55, 321))), '<value><dateTime.iso8601>19980717T14:08:55</dateTime.iso8601></value>');
  t.same(roundTrip(new DateTime('19980717T14:08:55+0130')), new Date(Date.UTC(1998, 6, 17, 12, 38, 55)));
});

t.test('round-trips booleans, null and undefined', async (t) => {
  t.equal(roundTrip(true), true);
  t.equal(roundTrip(false), false);
  t.equal(roundTrip(null), null);
  t.equal(roundTrip(undefined), null);
  t.same(roundTrip([undefined, null]), [null, null], 'undefined in an array is nil');
});

t.test('round-trips structs as null-prototype objects, from objects and Maps', async (t) => {
  const back = roundTrip({ a: 1, b: 'two', c: [true], skip: undefined }) as Record<string, unknown>;
  t.equal(Object.getPrototypeOf(back), null);
  t.same(back, nullProto({ a: 1, b: 'two', c: [true] }));
  t.notOk('skip' in back, 'an undefined member is left out');
  t.same(
    roundTrip(
      new Map([
        ['x', 1],
        ['y', undefined],
      ]),
    ),
    nullProto({ x: 1 }),
  );
  t.same(roundTrip(nullProto({ n: null })), nullProto({ n: null }), 'a null-prototype object is a struct');
  const tricky = JSON.parse('{"__proto__": 1, "constructor": 2, "toString": 3}') as object;
  const trickyBack = roundTrip(tricky) as Record<string, unknown>;
  t.same(Object.keys(trickyBack), ['__proto__', 'constructor', 'toString']);
  t.equal(Object.getPrototypeOf(trickyBack), null);
  t.equal(({} as Record<string, unknown>)['__proto__'], Object.prototype, 'Object.prototype untouched');
  const symbolKeyed = { [Symbol('s')]: 1, visible: 2 };
  t.same(roundTrip(symbolKeyed), nullProto({ visible: 2 }), 'symbol keys are not members');
});

t.test('round-trips a 10,000-member struct and an array of 10,000 ints', async (t) => {
  const struct: Record<string, number> = {};
  for (let i = 0; i < 10000; i++) struct[`m${i}`] = i;
  const back = roundTrip(struct) as Record<string, number>;
  t.equal(Object.keys(back).length, 10000);
  t.equal(back['m9999'], 9999);
  const ints = Array.from({ length: 10000 }, (_, i) => i - 5000);
  t.same(roundTrip(ints), ints);
});

t.test('encodes nesting up to maxDepth and refuses one level more', async (t) => {
  for (const kind of ['array', 'struct'] as const) {
    t.doesNotThrow(() => encodeValue(nested(64, kind)), `64 levels of ${kind}`);
    t.same(roundTrip(nested(64, kind)), JSON.parse(JSON.stringify(nested(64, kind))));
    const err = thrown(() => encodeValue(nested(65, kind)));
    t.ok(err instanceof EncodeError, `65 levels of ${kind}`);
    t.match((err as Error).message, /maxDepth/);
  }
  t.doesNotThrow(() => dumps([nested(100, 'array')], { methodName: 'm', maxDepth: 100 }), 'maxDepth is an option');
  t.ok(thrown(() => dumps([nested(3, 'array')], { methodName: 'm', maxDepth: 2 })) instanceof EncodeError);
  t.doesNotThrow(() => encodeValue(1, { maxDepth: 0 }), 'maxDepth 0 still takes scalars');
  t.ok(thrown(() => encodeValue([], { maxDepth: 0 })) instanceof EncodeError);
  t.ok(thrown(() => encodeValue([], { maxDepth: 1001 })) instanceof RangeError, 'maxDepth has a ceiling');
});

t.test('encodes shared (acyclic) references twice', async (t) => {
  const shared = [1, 2];
  t.same(
    roundTrip({ a: shared, b: shared, c: [shared, shared] }),
    nullProto({
      a: [1, 2],
      b: [1, 2],
      c: [
        [1, 2],
        [1, 2],
      ],
    }),
  );
});

// ---------------------------------------------------------------------------
// refusals

class Widget {}

// prettier-ignore
const REFUSALS: Array<[string, () => unknown, RegExp]> = [
  ['NaN', () => encodeValue(NaN), /NaN/],
  ['Infinity', () => encodeValue(Infinity), /Infinity/],
  ['-Infinity', () => encodeValue(-Infinity), /Infinity/],
  ['NaN inside a struct', () => encodeValue({ a: [NaN] }), /NaN/],
  ['bigint above int64', () => encodeValue(2n ** 63n), /int64/],
  ['bigint below int64', () => encodeValue(-(2n ** 63n) - 1n), /int64/],
  ['I8 above int64', () => new I8('9223372036854775808'), /int64/],
  ['I8 of a fraction', () => new I8(1.5), /integer/],
  ['I8 of a non-decimal string', () => new I8('0x10'), /decimal/],
  ['I8 of a padded string', () => new I8(' 1'), /decimal/],
  ['Double of NaN', () => new Double(NaN), /finite/],
  ['DateTime of junk', () => new DateTime('yesterday'), /dateTime/],
  ['DateTime of a month 13', () => new DateTime('19981317T00:00:00'), /dateTime/],
  ['a function', () => encodeValue(function myHandler() {}), /function myHandler/],
  ['an arrow function in a struct', () => encodeValue({ f: () => 1 }), /function/],
  ['a symbol', () => encodeValue(Symbol('tag')), /Symbol\(tag\)/],
  ['a class instance', () => encodeValue(new Widget()), /Widget/],
  ['a Set', () => encodeValue(new Set([1])), /Set/],
  ['a RegExp', () => encodeValue(/x/), /RegExp/],
  ['an Error', () => encodeValue(new Error('x')), /Error/],
  ['a boxed string', () => encodeValue(new String('x')), /String/],
  ['a Promise', () => encodeValue(Promise.resolve(1)), /Promise/],
  ['an invalid Date', () => encodeValue(new Date(NaN)), /invalid Date/],
  ['a Date after year 9999', () => encodeValue(new Date('+010000-01-01T00:00:00Z')), /year 10000/],
  ['a Date before year 0', () => encodeValue(new Date('-000001-01-01T00:00:00Z')), /year -1/],
  ['U+0000 in a string', () => encodeValue('a\u0000b'), /U\+0000/],
  ['U+0008 in a string', () => encodeValue('\u0008'), /U\+0008/],
  ['U+000B in a string', () => encodeValue('\u000B'), /U\+000B/],
  ['U+000C in a string', () => encodeValue('\u000C'), /U\+000C/],
  ['U+001F in a string', () => encodeValue('\u001F'), /U\+001F/],
  ['U+FFFE in a string', () => encodeValue('\uFFFE'), /U\+FFFE/],
  ['U+FFFF in a string', () => encodeValue('\uFFFF'), /U\+FFFF/],
  ['a lone high surrogate', () => encodeValue('a\uD800b'), /U\+D800/],
  ['a lone low surrogate', () => encodeValue('\uDC00'), /U\+DC00/],
  ['a bad character in a member name', () => encodeValue({ 'a\u0001': 1 }), /member name/],
  ['a bad character in a method name', () => dumps([], 'm\u0000'), /methodName/],
  ['a bad character in a faultString', () => dumps(new Fault(1, '\uFFFF')), /faultString/],
  ['a Map with a number key', () => encodeValue(new Map([[1, 'x']])), /Map key/],
  ['an array containing itself', () => { const a: unknown[] = []; a.push(a); return encodeValue(a); }, /cyclic/],
  ['an object containing itself', () => { const o: Record<string, unknown> = {}; o['self'] = { o }; return encodeValue(o); }, /cyclic/],
  ['a Map containing itself', () => { const m = new Map<string, unknown>(); m.set('m', [m]); return encodeValue(m); }, /cyclic/],
  ['a methodResponse with no param', () => dumps([], { methodResponse: true }), /exactly one/],
  ['a methodResponse with two params', () => dumps([1, 2], { methodResponse: true }), /exactly one/],
  ['a methodResponse with a methodName', () => dumps([1], { methodResponse: true, methodName: 'm' }), /methodName/],
  ['no methodName and no methodResponse', () => dumps([1]), /methodName/],
  ['an empty methodName', () => dumps([1], ''), /methodName/],
  ['params that are not an array', () => dumps('x' as unknown as unknown[], 'm'), /array/],
  ['a fault code that is not an integer', () => dumps(new Fault(1.5, 'x')), /faultCode/],
  ['a fault code out of int32', () => dumps(new Fault(2 ** 31, 'x')), /faultCode/],
];

t.test('refuses what XML-RPC cannot carry with an EncodeError that says why', async (t) => {
  for (const [name, fn, message] of REFUSALS) {
    const err = thrown(fn);
    t.ok(err instanceof EncodeError, `${name}: EncodeError`);
    t.equal((err as EncodeError).code, 'ERR_XMLRPC_ENCODE', `${name}: code`);
    t.match((err as Error).message, message, `${name}: message`);
  }
});

// ---------------------------------------------------------------------------
// a real peer

const HAS_PYTHON = spawnSync('python3', ['-c', 'import xmlrpc.client'], { encoding: 'utf8' }).status === 0;

t.test('is read by Python xmlrpc.client, and reads what it writes', { skip: HAS_PYTHON ? false : 'python3 is not available' }, (t) => {
  const xml = dumps(
    [2 ** 31 - 1, 1e300, 5e-324, -0, 0.1, 2n ** 62n, 'é😀<&>\r\n', null, Buffer.from('hi'), new Date(Date.UTC(1998, 6, 17, 14, 8, 55)), { k: [true] }],
    'interop.check',
  );
  // prettier-ignore
  const script = [
    'import sys, xmlrpc.client, math',
    'params, method = xmlrpc.client.loads(sys.stdin.buffer.read(), use_builtin_types=True)',
    'assert method == "interop.check", method',
    'assert params[0] == 2**31 - 1',
    'assert params[1] == 1e300 and params[2] == 5e-324',
    'assert params[3] == 0 and math.copysign(1, params[3]) == -1',
    'assert params[4] == 0.1 and params[5] == 2**62',
    'assert params[6] == "é😀<&>\\r\\n", repr(params[6])',
    'assert params[7] is None and params[8] == b"hi"',
    'assert params[9].isoformat() == "1998-07-17T14:08:55", params[9]',
    'assert params[10] == {"k": [True]}',
    'sys.stdout.write(xmlrpc.client.dumps((params[1], params[6], {"x": params[2]}), "echo"))',
  ].join('\n');
  const run = spawnSync('python3', ['-c', script], { input: Buffer.from(xml, 'utf8'), encoding: 'utf8' });
  t.equal(run.status, 0, run.stderr);
  const back = loads(run.stdout);
  t.equal(back.methodName, 'echo');
  // Python writes 1e300 as `1e+300` and CR raw (so XML turns CR LF into LF).
  t.same(back.params, [1e300, 'é😀<&>\n', nullProto({ x: 5e-324 })]);
  t.end();
});
