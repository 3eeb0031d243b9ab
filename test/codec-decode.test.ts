// The decoder: one row per malformed document (expected code and fault
// code), then the forms it must accept, then truncation at every offset and
// a deterministic byte-mutation fuzz: loads returns or throws a Fault,
// never anything else.

import t from 'tap';
import { inspect } from 'node:util';
import { DECODE_ERROR_FAULT, DecodeError, Fault } from '../lib/errors.js';
import { loads, parseMethodCall, parseMethodResponse } from '../lib/xmlrpc/decode.js';
import { dumps } from '../lib/xmlrpc/encode.js';
import { Double } from '../lib/xmlrpc/values.js';
import { DECL, LOL, MALFORMED, SAMPLES, call, fault, mutate, nestedArrays, nestedStructs, prng } from './xml-corpus.js';

// ---------------------------------------------------------------------------
// helpers

function decodeValue(valueXml: string): unknown {
  return loads(call(valueXml)).params[0];
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return undefined;
}

function nullProto<T extends object>(o: T): T {
  return Object.assign(Object.create(null) as T, o);
}

// ---------------------------------------------------------------------------
// malformed documents, one row each (the rows are in xml-corpus.ts)

t.test('refuses every malformed document with the right DecodeError code and fault code', async (t) => {
  for (const [name, doc, code] of MALFORMED) {
    const err = thrown(() => loads(doc));
    if (!(err instanceof DecodeError)) {
      t.fail(`${name}: expected DecodeError ${code}, got ${err === undefined ? 'a result' : inspect(err)}`);
      continue;
    }
    t.equal(err.code, code, `${name}: ${err.message}`);
    t.equal(err.faultCode, DECODE_ERROR_FAULT[code], `${name}: faultCode`);
  }
});

t.test('reads arrays of ints in every form the plain path and the general path share', async (t) => {
  const arr = (items: string) => `${DECL}<methodResponse><params><param><value><array><data>${items}</data></array></value></param></params></methodResponse>`;
  // prettier-ignore
  const cases: [string, unknown][] = [
    ['<value><int>1</int></value><value><i4>-2</i4></value><value><int>+3</int></value>', [1, -2, 3]],
    ['<value><int>-0</int></value><value><int>007</int></value>', [0, 7]],
    ['<value><int>2147483647</int></value><value><i4>-2147483648</i4></value>', [2147483647, -2147483648]],
    ['<value><int> 5 </int></value>\n<value><int>6</int></value><!-- c --><value><int>7</int></value>', [5, 6, 7]],
    ['<value><int>1</int></value><value><string>x</string></value><value><int>2</int></value><value>y</value>', [1, 'x', 2, 'y']],
    ['<value><int>00000000000000000001</int></value>', [1]],
  ];
  for (const [items, want] of cases) {
    t.same(loads(arr(items)).params[0], want, items);
    t.same(loads(Buffer.from(arr(items))).params[0], want, `${items} (bytes)`);
  }
  // Every cut of a plain array: the fast path near the end of the bytes.
  const whole = arr('<value><int>-2147483648</int></value><value><i4>12</i4></value>');
  for (let cut = 0; cut < whole.length; cut++) {
    t.throws(() => loads(Buffer.from(whole.slice(0, cut))), DecodeError, `cut at ${cut}`);
  }
  t.same(loads(Buffer.from(whole)).params[0], [-2147483648, 12]);
  const refused = [
    '<value><int>2147483648</int></value>',
    '<value><i4>-2147483649</i4></value>',
    '<value><int>1</i4></value>',
    '<value><int>1</int></valu>',
    '<value><int></int></value>',
    '<value><int>-</int></value>',
    '<value><int>1</int></value><value><int>x</int></value>',
  ];
  for (const items of refused) {
    t.throws(() => loads(arr(items)), DecodeError, items);
    t.throws(() => loads(Buffer.from(arr(items))), DecodeError, `${items} (bytes)`);
  }
});

t.test('refuses malformed documents the same way from a string, a Buffer and a plain Uint8Array', async (t) => {
  for (const [name, doc, code] of MALFORMED) {
    if (typeof doc !== 'string' || /[^\x00-\x7f]/.test(doc)) continue;
    const bytes = Buffer.from(doc, 'utf8');
    for (const input of [bytes, new Uint8Array(bytes)]) {
      const err = thrown(() => loads(input));
      t.ok(err instanceof DecodeError && err.code === code, `${name} (${input.constructor.name})`);
    }
  }
});

t.test('stops 1,000,000 nested <value><array><data> at the depth limit without a stack overflow', async (t) => {
  const levels = 1_000_000;
  const doc = `${DECL}<methodCall><methodName>m</methodName><params><param>${nestedArrays(levels)}</param></params></methodCall>`;
  const err = thrown(() => loads(doc));
  t.ok(err instanceof DecodeError, String(err));
  t.equal((err as DecodeError).code, 'ERR_XML_TOO_DEEP');
  t.equal((err as DecodeError).faultCode, -32700);
  const bytesErr = thrown(() => loads(Buffer.from(doc)));
  t.equal((bytesErr as DecodeError).code, 'ERR_XML_TOO_DEEP', 'the same from bytes');
});

t.test('refuses a billion laughs without expanding anything', async (t) => {
  const err = thrown(() => loads(LOL));
  t.equal((err as DecodeError).code, 'ERR_XML_DOCTYPE');
});

t.test('leaves Object.prototype untouched by prototype-ish element and member names', async (t) => {
  const before = Object.getOwnPropertyNames(Object.prototype).sort();
  for (const name of ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', '__defineGetter__']) {
    thrown(() => loads(call(`<value><${name}><polluted>1</polluted></${name}></value>`)));
    thrown(() => loads(`<${name}><polluted>yes</polluted></${name}>`));
    const struct = decodeValue(
      `<value><struct><member><name>${name}</name><value><struct><member><name>polluted</name><value>yes</value></member></struct></value></member></struct></value>`,
    ) as Record<string, unknown>;
    t.equal(Object.getPrototypeOf(struct), null, `${name}: null prototype`);
    t.same(Object.keys(struct), [name], `${name}: an own key`);
  }
  t.same(Object.getOwnPropertyNames(Object.prototype).sort(), before);
  t.equal(({} as Record<string, unknown>)['polluted'], undefined);
  t.equal(typeof {}.toString, 'function');
});

// ---------------------------------------------------------------------------
// accepted forms

t.test('decodes every scalar type', async (t) => {
  t.equal(decodeValue('<value><int>42</int></value>'), 42);
  t.equal(decodeValue('<value><i4>-7</i4></value>'), -7);
  t.equal(decodeValue('<value><int>+5</int></value>'), 5);
  t.equal(decodeValue('<value><int>007</int></value>'), 7);
  t.ok(Object.is(decodeValue('<value><int>-0</int></value>'), 0), 'int -0 is 0');
  t.equal(decodeValue('<value><int>2147483647</int></value>'), 2147483647);
  t.equal(decodeValue('<value><int>-2147483648</int></value>'), -2147483648);
  t.equal(decodeValue('<value><i8>9223372036854775807</i8></value>'), 2n ** 63n - 1n);
  t.equal(decodeValue('<value><i8>-9223372036854775808</i8></value>'), -(2n ** 63n));
  t.equal(decodeValue('<value><i8>5</i8></value>'), 5n);
  t.equal(decodeValue('<value><boolean>1</boolean></value>'), true);
  t.equal(decodeValue('<value><boolean>0</boolean></value>'), false);
  t.equal(decodeValue('<value><double>1.5</double></value>'), 1.5);
  t.equal(decodeValue('<value><double>1e+300</double></value>'), 1e300, 'Python writes exponents');
  t.equal(decodeValue('<value><double>-1.5E-3</double></value>'), -0.0015);
  t.equal(decodeValue('<value><double>.5</double></value>'), 0.5);
  t.equal(decodeValue('<value><double>5.</double></value>'), 5);
  t.equal(decodeValue('<value><double>+2</double></value>'), 2);
  t.ok(Object.is(decodeValue('<value><double>-0.0</double></value>'), -0), 'double -0.0 is -0');
  t.ok(Object.is(decodeValue('<value><double>-0</double></value>'), -0), 'double -0 is -0');
  t.equal(decodeValue(`<value><double>0.${'0'.repeat(323)}5</double></value>`), 5e-324);
  t.equal(decodeValue('<value><string>text</string></value>'), 'text');
  t.equal(decodeValue('<value>untyped</value>'), 'untyped');
  t.same(decodeValue('<value><base64>aGVsbG8=</base64></value>'), Buffer.from('hello'));
  t.ok(Buffer.isBuffer(decodeValue('<value><base64></base64></value>')), 'empty base64 is an empty Buffer');
  t.same(decodeValue('<value><base64>aGk</base64></value>'), Buffer.from('hi'), 'unpadded base64');
  t.equal(decodeValue('<value><nil/></value>'), null);
  t.equal(decodeValue('<value><nil></nil></value>'), null);
});

t.test('allowNone: false refuses <nil/> anywhere in the document as invalid XML-RPC (-32600), and changes nothing else', async (t) => {
  const strict = { allowNone: false };
  for (const doc of [
    call('<value><nil/></value>'),
    call('<value><array><data><value><int>1</int></value><value><nil></nil></value></data></array></value>'),
    call('<value><struct><member><name>a</name><value><ex:nil/></value></member></struct></value>'),
    `${DECL}<methodResponse><params><param><value><nil/></value></param></params></methodResponse>`,
  ]) {
    const err = thrown(() => loads(doc, strict));
    t.ok(err instanceof DecodeError, doc);
    t.equal((err as DecodeError).code, 'ERR_XMLRPC_INVALID');
    t.equal((err as DecodeError).faultCode, -32600);
    t.match((err as DecodeError).message, /allowNone/);
    t.doesNotThrow(() => loads(doc), 'accepted by default');
    t.doesNotThrow(() => loads(doc, { allowNone: true }), 'and with allowNone: true');
  }
  t.same(loads(call('<value><string>nil</string></value>'), strict).params, ['nil'], 'the text "nil" is no nil');
  const notWellFormed = thrown(() => loads(call('<value><nil/></value') + '<', strict));
  t.equal((notWellFormed as DecodeError).code, 'ERR_XML_NOT_WELL_FORMED', 'a document not well formed still ranks first');
});

t.test('trims white space around int, i8, boolean, double and dateTime but never in strings', async (t) => {
  t.equal(decodeValue('<value><int> 42\n</int></value>'), 42);
  t.equal(decodeValue('<value><i8>\t5 </i8></value>'), 5n);
  t.equal(decodeValue('<value><boolean>\r\n1\r\n</boolean></value>'), true);
  t.equal(decodeValue('<value><double> 2.5 </double></value>'), 2.5);
  t.same(decodeValue('<value><dateTime.iso8601> 19980717T14:08:55 </dateTime.iso8601></value>'), new Date(Date.UTC(1998, 6, 17, 14, 8, 55)));
  t.equal(decodeValue('<value><string>  two  spaces  </string></value>'), '  two  spaces  ');
  t.equal(decodeValue('<value>\n  untyped \n</value>'), '\n  untyped \n');
  t.ok(thrown(() => decodeValue('<value><int>\u00a042</int></value>')) instanceof DecodeError, 'a no-break space is not XML white space');
});

t.test('reads empty strings from <string/>, <value/> and <value></value>', async (t) => {
  t.equal(decodeValue('<value><string/></value>'), '');
  t.equal(decodeValue('<value><string></string></value>'), '');
  t.equal(decodeValue('<value/>'), '');
  t.equal(decodeValue('<value></value>'), '');
});

t.test('decodes the five predefined entities and character references, nothing else', async (t) => {
  t.equal(decodeValue('<value>&lt;&gt;&amp;&quot;&apos;</value>'), `<>&"'`);
  t.equal(decodeValue('<value>&#65;&#x42;&#x0043;</value>'), 'ABC');
  t.equal(decodeValue('<value>&#x1F600;&#128512;</value>'), '😀😀');
  t.equal(decodeValue('<value>&amp;lt;</value>'), '&lt;', 'decoded once');
  t.equal(decodeValue('<value>&#38;amp;</value>'), '&amp;', 'a reference to & is not decoded again');
  t.equal(decodeValue('<value>a&#13;&#10;b</value>'), 'a\r\nb', 'CR as a reference survives');
});

t.test('normalises raw line ends as XML requires', async (t) => {
  t.equal(decodeValue('<value>a\r\nb\rc\nd</value>'), 'a\nb\nc\nd');
  t.equal(decodeValue('<value>a\r<?pi?>\nb</value>'), 'a\n\nb', 'a CR before a cut PI stays its own line end');
  t.equal(decodeValue('<value><![CDATA[a\r\nb]]></value>'), 'a\nb');
});

t.test('keeps CDATA verbatim, alone or mixed with text', async (t) => {
  t.equal(decodeValue('<value><string><![CDATA[<&>&amp;]]></string></value>'), '<&>&amp;');
  t.equal(decodeValue('<value><string>a&lt;<![CDATA[<b>]]>&gt;c</string></value>'), 'a<<b>>c');
  t.equal(decodeValue('<value><![CDATA[untyped]]></value>'), 'untyped');
  t.equal(decodeValue('<value><string><![CDATA[]]]]><![CDATA[>]]></string></value>'), ']]>');
  t.equal(decodeValue('<value><string><![CDATA[]]></string></value>'), '');
  t.equal(
    decodeValue('<value><string><![CDATA[<!DOCTYPE x [<!ENTITY e "boom">]>&e;]]></string></value>'),
    '<!DOCTYPE x [<!ENTITY e "boom">]>&e;',
    'a DOCTYPE inside CDATA is text',
  );
  t.equal(decodeValue('<value><int><![CDATA[ 12 ]]></int></value>'), 12);
});

t.test('skips comments and processing instructions wherever XML allows them', async (t) => {
  const doc =
    '<?xml version="1.0"?>\n<!-- before --><?pi before?>\n' +
    '<methodCall><!-- a --><methodName>m<!-- b -->.x</methodName><?pi c?>' +
    "<params><!-- <!DOCTYPE x> in a comment --><param><?pi d?><value><!-- e --><string>a<!-- f -->b<?pi don't?>c</string><!-- g --></value></param></params>" +
    '</methodCall>\n<!-- after --><?pi after?>\n';
  t.same(loads(doc), { methodName: 'm.x', params: ['abc'] });
  t.same(
    loads(call("<value><?pi it's?><struct><member><name>it's</name><value><?pi '?>ok</value></member></struct></value>")).params[0],
    nullProto({ "it's": 'ok' }),
    'an apostrophe in a PI does not swallow what follows',
  );
  t.equal(decodeValue('<value><?xml-stylesheet href="x"?>x</value>'), 'x', 'a PI whose target starts with xml');
  t.equal(decodeValue('<value><!----></value>'), '', 'an empty comment');
});

t.test('matches element names by local name and ignores attributes', async (t) => {
  const apache = 'xmlns:ex="http://ws.apache.org/xmlrpc/namespaces/extensions"';
  t.same(
    loads(
      `${DECL}<methodResponse ${apache}><params><param><value><array><data><value><ex:nil/></value><value><ex:i8>9007199254740993</ex:i8></value></data></array></value></param></params></methodResponse>`,
    ),
    { methodName: null, params: [[null, 9007199254740993n]] },
  );
  t.equal(decodeValue(`<value type="int" id='x&amp;y'><int a="1" b='&#65;'>5</int></value>`), 5);
  t.equal(decodeValue(`<value a="x>y" b='"it&apos;s"' c="it's">text</value>`), 'text', '> and quotes inside attribute values');
  t.same(loads(`<x:methodCall xmlns:x="urn:x"><x:methodName>m</x:methodName></x:methodCall>`), { methodName: 'm', params: [] });
});

t.test('accepts every dateTime form and converts zones to UTC', async (t) => {
  const utc = Date.UTC(1998, 6, 17, 14, 8, 55);
  // prettier-ignore
  const forms: Array<[string, number]> = [
    ['19980717T14:08:55', utc],
    ['1998-07-17T14:08:55', utc],
    ['19980717T140855', utc],
    ['1998-07-17T140855', utc],
    ['19980717T14:08:55Z', utc],
    ['19980717T14:08:55.123', utc + 123],
    ['19980717T14:08:55.5', utc + 500],
    ['19980717T14:08:55.123456789Z', utc + 123],
    ['19980717T16:08:55+02:00', utc],
    ['19980717T16:08:55+0200', utc],
    ['19980717T09:38:55-04:30', utc],
    ['19980717T14:08:55+00:00', utc],
    ['19980718T00:08:55+10:00', utc],
    ['20000229T00:00:00', Date.UTC(2000, 1, 29)],
  ];
  for (const [text, ms] of forms) {
    const d = decodeValue(`<value><dateTime.iso8601>${text}</dateTime.iso8601></value>`) as Date;
    t.equal(d.getTime(), ms, text);
  }
  const year50 = decodeValue('<value><dateTime.iso8601>00500101T00:00:00</dateTime.iso8601></value>') as Date;
  t.equal(year50.getUTCFullYear(), 50, 'year 50 stays year 50');
});

t.test('reads base64 with white space inside, as Python wraps it', async (t) => {
  const bytes = Buffer.from(Array.from({ length: 200 }, (_, i) => i));
  const wrapped = bytes.toString('base64').replace(/.{76}/g, '$&\n');
  t.same(decodeValue(`<value><base64>\n${wrapped}\n</base64></value>`), bytes);
  t.same(decodeValue('<value><base64> aG Vs\tbG8 =\r\n</base64></value>'), Buffer.from('hello'));
});

t.test('reads structs with last-wins duplicates and any key, into null-prototype objects', async (t) => {
  const s = decodeValue(
    '<value><struct><member><name>a</name><value><int>1</int></value></member>' +
      '<member><value><int>2</int></value><name>b</name></member>' +
      '<member><name>a</name><value><int>3</int></value></member>' +
      '<member><name> spaced </name><value/></member>' +
      '<member><name/><value>empty name</value></member>' +
      '<member><name>04</name><value>validator1 keys stay strings</value></member></struct></value>',
  ) as Record<string, unknown>;
  t.equal(Object.getPrototypeOf(s), null);
  t.same(s, nullProto({ a: 3, b: 2, ' spaced ': '', '': 'empty name', '04': 'validator1 keys stay strings' }));
  t.same(decodeValue('<value><struct/></value>'), nullProto({}));
  t.same(decodeValue('<value><array><data/></array></value>'), []);
});

t.test('decodes doubles as Double wrappers with wrapDoubles, so they go back as doubles', async (t) => {
  const xml = call(
    '<value><array><data><value><double>2.0</double></value><value><double>-0.5</double></value><value><int>2</int></value></data></array></value>',
  );
  const [plain] = loads(xml).params as [unknown[]];
  t.same(plain, [2, -0.5, 2]);
  const [wrapped] = loads(xml, { wrapDoubles: true }).params as [unknown[]];
  t.ok(wrapped[0] instanceof Double);
  t.equal((wrapped[0] as Double).value, 2);
  t.equal((wrapped[1] as Double).valueOf() * 2, -1, 'acts as its number');
  t.equal(wrapped[2], 2, 'ints stay numbers');
  t.match(dumps([wrapped], { methodResponse: true }), '<double>2.0</double>');
});

t.test('accepts nesting up to maxDepth, and maxDepth is an option', async (t) => {
  const deep = decodeValue(nestedArrays(64));
  let v: unknown = deep;
  for (let i = 0; i < 64; i++) v = (v as unknown[])[0];
  t.equal(v, 1, '64 levels of arrays');
  t.doesNotThrow(() => decodeValue(nestedStructs(64)), '64 levels of structs');
  t.doesNotThrow(() => loads(call(nestedArrays(100)), { maxDepth: 100 }));
  t.equal((thrown(() => loads(call(nestedArrays(3)), { maxDepth: 2 })) as DecodeError).code, 'ERR_XML_TOO_DEEP');
  t.doesNotThrow(() => loads(call('<value>x</value>'), { maxDepth: 0 }));
  t.equal((thrown(() => loads(call('<value><array><data/></array></value>'), { maxDepth: 0 })) as DecodeError).code, 'ERR_XML_TOO_DEEP');
  t.ok(thrown(() => loads(call('<value/>'), { maxDepth: -1 })) instanceof RangeError, 'a bad option is a programming error');
  t.ok(thrown(() => loads(call('<value/>'), { maxDepth: 1001 })) instanceof RangeError, 'maxDepth has a ceiling');
});

t.test('nesting past maxDepth is refused in words of maxDepth (64 levels), not of the element count behind it', async (t) => {
  // The element limit (3 * maxDepth + 5) usually trips before the array/struct
  // check is ranked; either way the client reads the documented limit.
  const cases: Array<[name: string, doc: string, maxDepth: number | undefined]> = [
    ['65 levels of arrays', call(nestedArrays(65)), undefined],
    ['200 levels of arrays', call(nestedArrays(200)), undefined],
    ['65 levels of structs', call(nestedStructs(65)), undefined],
    ['an empty array at level 65', call(nestedArrays(64, '<value><array/></value>')), undefined],
    ['3 levels of arrays with maxDepth 2', call(nestedArrays(3)), 2],
    ['elements that are not XML-RPC, nested past the element limit', call(`<value>${'<x>'.repeat(300)}${'</x>'.repeat(300)}</value>`), undefined],
  ];
  for (const [name, doc, maxDepth] of cases) {
    const err = thrown(() => loads(doc, maxDepth === undefined ? undefined : { maxDepth }));
    t.ok(err instanceof DecodeError, name);
    t.equal((err as DecodeError).code, 'ERR_XML_TOO_DEEP', name);
    t.equal((err as DecodeError).faultCode, -32700, name);
    t.match((err as DecodeError).faultString, new RegExp(`deeper than ${maxDepth ?? 64} levels`), `${name}: ${(err as DecodeError).faultString}`);
    t.match((err as DecodeError).faultString, /maxDepth/, `${name}: names the option`);
    t.notMatch((err as DecodeError).faultString, /197|\b11\b/, `${name}: not the element count`);
  }
});
t.test('refuses a document longer than maxBytes, when that option is set', async (t) => {
  const doc = call('<value>é</value>');
  const size = Buffer.byteLength(doc);
  for (const input of [doc, Buffer.from(doc)]) {
    t.doesNotThrow(() => loads(input, { maxBytes: size }));
    const err = thrown(() => loads(input, { maxBytes: size - 1 }));
    t.ok(err instanceof DecodeError && err.code === 'ERR_XML_TOO_LARGE' && err.faultCode === -32700, String(err));
  }
  t.doesNotThrow(() => loads(doc), 'no limit by default');
});

t.test('reads encodings: UTF-8 BOM, ISO-8859-1, windows-1252, UTF-16 with and without BOM', async (t) => {
  const doc = call('<value>café €</value>');
  const expect = { methodName: 'm', params: ['café €'] };
  t.same(loads(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(doc)])), expect, 'UTF-8 BOM');
  t.same(loads('\ufeff' + doc), expect, 'a BOM in a string');
  const latin1 = `<?xml version="1.0" encoding="ISO-8859-1"?><methodCall><methodName>m</methodName><params><param><value>caf\xe9 \x80</value></param></params></methodCall>`;
  t.same(loads(Buffer.from(latin1, 'latin1')), { methodName: 'm', params: ['café \u0080'] }, 'ISO-8859-1 is not windows-1252');
  t.same(loads(Buffer.from(latin1.replace('ISO-8859-1', 'windows-1252'), 'latin1')), { methodName: 'm', params: ['café €'] }, 'windows-1252');
  t.same(
    loads(Buffer.from(latin1.replace('ISO-8859-1', 'cp1252').replace('\x80', '\x92\x9f\x81'), 'latin1')),
    { methodName: 'm', params: ['café \u2019\u0178\x81'] },
    'cp1252, whatever TextDecoder does',
  );
  t.same(
    loads(Buffer.from(latin1.replace('ISO-8859-1', 'ISO-8859-15').replace('\x80', '\xa4'), 'latin1')),
    { methodName: 'm', params: ['café €'] },
    'ISO-8859-15 through TextDecoder',
  );
  t.same(
    loads(Buffer.from(latin1.replace('ISO-8859-1', 'us-ascii').replace('caf\xe9 \x80', 'cafe'), 'latin1')),
    { methodName: 'm', params: ['cafe'] },
    'US-ASCII',
  );
  const utf16 = doc.replace('?>', ' encoding="UTF-16"?>');
  t.same(loads(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(utf16, 'utf16le')])), expect, 'UTF-16LE with BOM');
  t.same(loads(Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(utf16, 'utf16le').swap16()])), expect, 'UTF-16BE with BOM');
  t.same(loads(Buffer.from(utf16, 'utf16le').swap16()), expect, 'UTF-16BE without BOM');
  t.same(loads(Buffer.from(utf16, 'utf16le')), expect, 'UTF-16LE without BOM');
  t.same(loads(Buffer.from(doc.replace('?>', " encoding='utf8'?>"))), expect, 'a UTF-8 label');
  t.same(
    loads(Buffer.from(doc.replace('?>', ' encoding="ISO-8859-1"?>')).toString('latin1')),
    { methodName: 'm', params: ['cafÃ© â\u0082¬'] },
    'a string is already text: its declaration is not used',
  );
});

t.test('reads Python xmlrpc.client.dumps output', async (t) => {
  const pythonCall =
    "<?xml version='1.0'?>\n<methodCall>\n<methodName>example.test</methodName>\n<params>\n<param>\n<value><int>42</int></value>\n</param>\n<param>\n<value><string>héllo &lt;&amp;&gt;</string></value>\n</param>\n<param>\n<value><double>1.5</double></value>\n</param>\n<param>\n<value><boolean>1</boolean></value>\n</param>\n<param>\n<value><array><data>\n<value><int>1</int></value>\n<value><string>two</string></value>\n</data></array></value>\n</param>\n<param>\n<value><struct>\n<member>\n<name>a</name>\n<value><int>1</int></value>\n</member>\n<member>\n<name>b</name>\n<value><array><data>\n<value><nil/></value></data></array></value>\n</member>\n</struct></value>\n</param>\n<param>\n<value><dateTime.iso8601>19980717T14:08:55</dateTime.iso8601></value>\n</param>\n<param>\n<value><base64>\nAAFoZWxsbyB3b3JsZAABaGVsbG8gd29ybGQAAWhlbGxvIHdvcmxkAAFoZWxsbyB3b3JsZAABaGVs\nbG8gd29ybGQAAWhlbGxvIHdvcmxkAAFoZWxsbyB3b3JsZAABaGVsbG8gd29ybGQ=\n</base64></value>\n</param>\n</params>\n</methodCall>\n";
  t.same(loads(Buffer.from(pythonCall)), {
    methodName: 'example.test',
    params: [
      42,
      'héllo <&>',
      1.5,
      true,
      [1, 'two'],
      nullProto({ a: 1, b: [null] }),
      new Date(Date.UTC(1998, 6, 17, 14, 8, 55)),
      Buffer.from('\x00\x01hello world'.repeat(8), 'latin1'),
    ],
  });
  const pythonResponse =
    "<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n<value><struct>\n<member>\n<name>x</name>\n<value><double>1e+300</double></value>\n</member>\n<member>\n<name>y</name>\n<value><double>-0.0</double></value>\n</member>\n</struct></value>\n</param>\n</params>\n</methodResponse>\n";
  const r = parseMethodResponse(pythonResponse) as Record<string, number>;
  t.equal(r['x'], 1e300);
  t.ok(Object.is(r['y'], -0));
  const pythonFault =
    "<?xml version='1.0'?>\n<methodResponse>\n<fault>\n<value><struct>\n<member>\n<name>faultCode</name>\n<value><int>4</int></value>\n</member>\n<member>\n<name>faultString</name>\n<value><string>Too many &lt;params&gt;</string></value>\n</member>\n</struct></value>\n</fault>\n</methodResponse>\n";
  const err = thrown(() => loads(pythonFault));
  t.ok(err instanceof Fault && !(err instanceof DecodeError), 'a Fault, not a DecodeError');
  t.match(err, { faultCode: 4, faultString: 'Too many <params>' });
});

t.test('throws a fault response as a Fault from loads and parseMethodResponse', async (t) => {
  const doc = fault(
    '<member><name>faultString</name><value>boom</value></member><member><name>faultCode</name><value><i4>-32601</i4></value></member><member><name>extra</name><value>ignored</value></member>',
  );
  for (const fn of [() => loads(doc), () => parseMethodResponse(Buffer.from(doc))]) {
    const err = thrown(fn);
    t.ok(err instanceof Fault && !(err instanceof DecodeError));
    t.match(err, { faultCode: -32601, faultString: 'boom', message: 'boom' });
  }
  t.equal((thrown(() => parseMethodCall(doc)) as DecodeError).code, 'ERR_XMLRPC_INVALID', 'parseMethodCall refuses any response');
});

t.test('parseMethodCall and parseMethodResponse take only their kind of document', async (t) => {
  t.same(parseMethodCall(dumps([40, 2], 'add')), { methodName: 'add', params: [40, 2] });
  t.same(parseMethodCall(`<methodCall><methodName>\n  ping\n</methodName></methodCall>`), { methodName: 'ping', params: [] }, 'no params, trimmed name');
  t.same(parseMethodCall(`<methodCall><methodName>ping</methodName><params/></methodCall>`), { methodName: 'ping', params: [] });
  t.equal(parseMethodResponse(dumps(['ok'], { methodResponse: true })), 'ok');
  t.same(loads(dumps([[1]], { methodResponse: true })), { methodName: null, params: [[1]] });
  const notCall = thrown(() => parseMethodCall(dumps(['ok'], { methodResponse: true })));
  t.equal((notCall as DecodeError).code, 'ERR_XMLRPC_INVALID');
  const notResponse = thrown(() => parseMethodResponse(dumps([], 'm')));
  t.equal((notResponse as DecodeError).code, 'ERR_XMLRPC_INVALID');
});

t.test('reads its own output back for a large document', async (t) => {
  const big = { list: Array.from({ length: 10000 }, (_, i) => ({ i, s: `item ${i} <&>`, d: i / 3 })) };
  const xml = dumps([big, Buffer.alloc(1 << 20, 7)], 'bulk');
  const { params } = loads(Buffer.from(xml));
  t.equal(((params[0] as Record<string, unknown[]>)['list'] as unknown[]).length, 10000);
  t.equal((params[1] as Buffer).length, 1 << 20);
});

// ---------------------------------------------------------------------------
// truncation and fuzz

t.test('throws a DecodeError for every truncation of valid documents, never anything else', async (t) => {
  let checked = 0;
  for (const sample of SAMPLES) {
    const whole = thrown(() => loads(sample));
    t.ok(whole === undefined || (whole instanceof Fault && !(whole instanceof DecodeError)), 'the whole sample decodes');
    const end = sample.lastIndexOf('>') + 1;
    for (let n = 0; n < end; n++) {
      for (const input of [sample.subarray(0, n), sample.subarray(0, n).toString('latin1')]) {
        const err = thrown(() => loads(input));
        if (!(err instanceof DecodeError)) {
          t.fail(`prefix of ${n} bytes: ${err === undefined ? 'decoded' : inspect(err)}`);
        } else if (err.code !== 'ERR_XML_NOT_WELL_FORMED' && err.code !== 'ERR_XML_INVALID_CHARACTER') {
          t.fail(`prefix of ${n} bytes: ${err.code} ${err.message}`);
        }
        checked++;
      }
    }
  }
  t.pass(`${checked} truncations`);
});

t.test('returns or throws a Fault for 4,000 random mutations of valid documents', async (t) => {
  const rand = prng(0x5eed);
  const outcomes = new Map<string, number>();
  for (let k = 0; k < 4000; k++) {
    const doc = mutate(SAMPLES[k % SAMPLES.length] as Buffer, rand);
    let outcome: string;
    try {
      loads(doc);
      outcome = 'decoded';
    } catch (err) {
      if (!(err instanceof Fault)) {
        t.fail(`mutation ${k} threw ${String(err)}: ${JSON.stringify(doc.toString('latin1'))}`);
        outcome = 'other';
      } else {
        outcome = err instanceof DecodeError ? err.code : 'fault';
      }
    }
    outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
  }
  t.notOk(outcomes.has('other'), 'nothing but Faults');
  t.comment([...outcomes].map(([o, n]) => `${o}: ${n}`).join(', '));
});
