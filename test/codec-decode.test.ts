// The decoder: one row per malformed document (expected code and fault
// code), then the forms it must accept, then truncation at every offset and
// a deterministic byte-mutation fuzz: loads returns or throws a Fault,
// never anything else.

import t from 'tap';
import { DECODE_ERROR_FAULT, DecodeError, Fault, type DecodeErrorCode } from '../lib/errors.js';
import { loads, parseMethodCall, parseMethodResponse } from '../lib/xmlrpc/decode.js';
import { dumps } from '../lib/xmlrpc/encode.js';
import { Double } from '../lib/xmlrpc/values.js';

// ---------------------------------------------------------------------------
// helpers

const DECL = '<?xml version="1.0"?>';

/** A methodCall `m` with one param holding `valueXml` (a whole `<value>`). */
function call(valueXml: string): string {
  return `${DECL}<methodCall><methodName>m</methodName><params><param>${valueXml}</param></params></methodCall>`;
}

/** The one param of a call whose param is `valueXml`. */
function decodeValue(valueXml: string): unknown {
  return loads(call(valueXml)).params[0];
}

function response(inner: string): string {
  return `${DECL}<methodResponse>${inner}</methodResponse>`;
}

function fault(members: string): string {
  return response(`<fault><value><struct>${members}</struct></value></fault>`);
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

function nestedArrays(levels: number, inner = '<value><int>1</int></value>'): string {
  return '<value><array><data>'.repeat(levels) + inner + '</data></array></value>'.repeat(levels);
}

function nestedStructs(levels: number): string {
  return '<value><struct><member><name>k</name>'.repeat(levels) + '<value>x</value>' + '</member></struct></value>'.repeat(levels);
}

const LOL = (() => {
  let dtd = '<!ENTITY lol "lol">';
  for (let i = 1; i <= 9; i++) dtd += `<!ENTITY lol${i} "${`&lol${i === 1 ? '' : i - 1};`.repeat(10)}">`;
  return `${DECL}<!DOCTYPE lolz [${dtd}]><methodCall><methodName>&lol9;</methodName></methodCall>`;
})();

// ---------------------------------------------------------------------------
// malformed documents, one row each

type Row = [name: string, doc: string | Buffer, code: DecodeErrorCode];

const NWF = 'ERR_XML_NOT_WELL_FORMED';
const INVALID = 'ERR_XMLRPC_INVALID';
// -32702 is for bytes the declared encoding cannot read (xmlrpc-epi maps
// only expat's encoding errors to it); a character XML forbids is -32700.
const BAD_CHAR = 'ERR_XML_INVALID_CHARACTER';

const MALFORMED: Row[] = [
  // not well formed
  ['an empty string', '', NWF],
  ['an empty buffer', Buffer.alloc(0), NWF],
  ['only white space', ' \r\n\t', NWF],
  ['only a declaration and a comment', `${DECL}<!-- nothing -->`, NWF],
  ['a BOM and nothing else', Buffer.from([0xef, 0xbb, 0xbf]), NWF],
  ['plain text', 'hello', NWF],
  ['an HTML error page', '<html><body><h1>502 Bad Gateway</h1><hr></body></html>', NWF],
  ['an unclosed root', `${DECL}<methodCall><methodName>m</methodName>`, NWF],
  ['mismatched end tags', `${DECL}<methodCall><methodName>m</methodCall></methodName>`, NWF],
  ['an end tag that closes nothing', `${DECL}</methodCall>`, NWF],
  ['junk after the root', call('<value>x</value>') + 'junk', NWF],
  ['an entity after the root', call('<value>x</value>') + '&amp;', NWF],
  ['a second root element', call('<value>x</value>') + '<methodCall/>', NWF],
  ['a second empty root element', '<methodCall/><methodCall/>', NWF],
  ['text before the root', `x${call('<value/>')}`, NWF],
  ['CDATA outside the root', `<![CDATA[x]]>${call('<value/>')}`, NWF],
  ['an undefined entity &nbsp;', call('<value>a&nbsp;b</value>'), NWF],
  ['an undefined entity &foo;', call('<value>&foo;</value>'), NWF],
  ['an undefined entity in an attribute', call('<value a="&foo;">x</value>'), NWF],
  ['a bare ampersand', call('<value>fish & chips</value>'), NWF],
  ['an empty reference &;', call('<value>&;</value>'), NWF],
  ['a reference without digits &#;', call('<value>&#;</value>'), NWF],
  ['a hex reference without digits &#x;', call('<value>&#x;</value>'), NWF],
  ['a hex reference with an upper-case X', call('<value>&#X41;</value>'), NWF],
  ['an unterminated reference', call('<value>&amp</value>'), NWF],
  ['a < in an attribute value', call('<value a="<">x</value>'), NWF],
  ['an unquoted attribute', call('<value a=1>x</value>'), NWF],
  ['an attribute without a value', call('<value a>x</value>'), NWF],
  ['a repeated attribute', call('<value a="1" a="2">x</value>'), NWF],
  ['attributes run together', call('<value a="1"b="2">x</value>'), NWF],
  ['an unterminated attribute value', `${DECL}<methodCall a="x`, NWF],
  [']]> in text', call('<value>a]]>b</value>'), NWF],
  ['an unterminated comment', call('<value>x</value><!-- x'), NWF],
  ['-- inside a comment', call('<value><!-- a -- b -->x</value>'), NWF],
  ['a comment ending in --->', call('<value><!-- a --->x</value>'), NWF],
  ['an unterminated CDATA section', call('<value><![CDATA[x</value>'), NWF],
  ['a misspelt CDATA section', call('<value><![CDATX[x]]></value>'), NWF],
  ['an unknown <! declaration', call('<value><!ELEMENT x ANY></value>'), NWF],
  ['a DOCTYPE after the root started', call('<value><!DOCTYPE x></value>'), NWF],
  ['an XML declaration not at the start', ` ${DECL}<methodCall><methodName>m</methodName></methodCall>`, NWF],
  ['an XML declaration in the middle', call(`<value>${DECL}</value>`), NWF],
  ['an upper-case XML processing instruction', call('<value><?XML x?></value>'), NWF],
  ['a declaration of XML version 2.0', '<?xml version="2.0"?><methodCall><methodName>m</methodName></methodCall>', NWF],
  ['a declaration without a version', '<?xml encoding="UTF-8"?><methodCall><methodName>m</methodName></methodCall>', NWF],
  ['a declaration with junk', '<?xml version="1.0" junk?><methodCall><methodName>m</methodName></methodCall>', NWF],
  ['an unterminated processing instruction', call('<value><?pi x</value>'), NWF],
  ['a processing instruction without a target', call('<value><? x?></value>'), NWF],
  ['an element name starting with a digit', call('<value><1int>1</1int></value>'), NWF],
  ['a space after <', call('< value>x</value>'), NWF],
  ['an end tag with an attribute', call('<value>x</value a="1">'), NWF],
  ['a malformed empty-element tag', call('<value / >'), NWF],
  ['a document that ends inside a tag', `${DECL}<methodCall`, NWF],
  ['a document that ends inside an end tag', `${DECL}<methodCall></methodCall`, NWF],
  // DOCTYPE
  ['a billion laughs', LOL, 'ERR_XML_DOCTYPE'],
  ['an external entity', `${DECL}<!DOCTYPE m [<!ENTITY x SYSTEM "file:///etc/passwd">]><methodCall><methodName>&x;</methodName></methodCall>`, 'ERR_XML_DOCTYPE'],
  ['an internal entity', `<!DOCTYPE m [<!ENTITY e "add">]><methodCall><methodName>&e;</methodName></methodCall>`, 'ERR_XML_DOCTYPE'],
  ['a bare DOCTYPE', `${DECL}<!DOCTYPE methodCall><methodCall><methodName>m</methodName></methodCall>`, 'ERR_XML_DOCTYPE'],
  ['a DOCTYPE with a public id', `<!DOCTYPE methodCall PUBLIC "-//x//y" "http://example.com/x.dtd"><methodCall/>`, 'ERR_XML_DOCTYPE'],
  // too deep
  ['65 nested arrays', call(nestedArrays(65)), 'ERR_XML_TOO_DEEP'],
  ['65 nested structs', call(nestedStructs(65)), 'ERR_XML_TOO_DEEP'],
  ['an empty array 65 levels down', call(nestedArrays(64, '<value><array><data/></array></value>')), 'ERR_XML_TOO_DEEP'],
  ['an empty struct 65 levels down', call(nestedArrays(64, '<value><struct/></value>')), 'ERR_XML_TOO_DEEP'],
  ['65 nested arrays in a fault', fault(`<member><name>faultCode</name><value><int>1</int></value></member><member><name>x</name>${nestedArrays(64)}</member>`), 'ERR_XML_TOO_DEEP'],
  ['deeply nested unknown elements', `<methodCall>${'<a>'.repeat(1000)}${'</a>'.repeat(1000)}</methodCall>`, 'ERR_XML_TOO_DEEP'],
  // encodings
  ['an unknown encoding', Buffer.from('<?xml version="1.0" encoding="x-klingon"?><methodCall/>'), 'ERR_XML_UNSUPPORTED_ENCODING'],
  ['UTF-32 declared', Buffer.from('<?xml version="1.0" encoding="UTF-32"?><methodCall/>'), 'ERR_XML_UNSUPPORTED_ENCODING'],
  ['EBCDIC declared', Buffer.from("<?xml version='1.0' encoding='EBCDIC-US'?><methodCall/>"), 'ERR_XML_UNSUPPORTED_ENCODING'],
  ['an unknown encoding after a UTF-8 BOM', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('<?xml version="1.0" encoding="x-klingon"?><methodCall/>')]), 'ERR_XML_UNSUPPORTED_ENCODING'],
  ['invalid UTF-8: a lone 0xFF', Buffer.concat([Buffer.from(call('<value>a')), Buffer.from([0xff]), Buffer.from('</value>')]), BAD_CHAR],
  ['invalid UTF-8: an overlong NUL', Buffer.concat([Buffer.from(call('<value>a')), Buffer.from([0xc0, 0x80]), Buffer.from('</value>')]), BAD_CHAR],
  ['invalid UTF-8: an encoded surrogate', Buffer.concat([Buffer.from(call('<value>a')), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('</value>')]), BAD_CHAR],
  ['invalid UTF-8: a truncated sequence', Buffer.concat([Buffer.from(call('<value>a')), Buffer.from([0xe2, 0x82]), Buffer.from('</value>')]), BAD_CHAR],
  ['a non-ASCII byte in declared US-ASCII', Buffer.from(`<?xml version="1.0" encoding="US-ASCII"?><methodCall><methodName>caf\xe9</methodName></methodCall>`, 'latin1'), BAD_CHAR],
  ['UTF-16 declared over ASCII bytes', Buffer.from('<?xml version="1.0" encoding="UTF-16"?><methodCall/>'), BAD_CHAR],
  ['a UTF-8 BOM with ISO-8859-1 declared', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('<?xml version="1.0" encoding="ISO-8859-1"?><methodCall/>')]), BAD_CHAR],
  ['UTF-16 with an odd byte count', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('<methodCall/>', 'utf16le'), Buffer.from([0x41])]), BAD_CHAR],
  // characters XML forbids
  ['&#0;', call('<value>&#0;</value>'), NWF],
  ['&#xD800;', call('<value>&#xD800;</value>'), NWF],
  ['&#xDFFF;', call('<value>&#xDFFF;</value>'), NWF],
  ['&#x110000;', call('<value>&#x110000;</value>'), NWF],
  ['&#xFFFE;', call('<value>&#xFFFE;</value>'), NWF],
  ['&#8; in an attribute', call('<value a="&#8;">x</value>'), NWF],
  ['a reference with 30 digits', call('<value>&#000000000000000000000000000065;&#99999999999999999999999999999;</value>'), NWF],
  ['a raw U+0001', call('<value>\u0001</value>'), NWF],
  ['a raw NUL in a tag', `${DECL}<methodCall\u0000/>`, NWF],
  ['a raw U+FFFF', call('<value>\uFFFF</value>'), NWF],
  ['a lone surrogate in a string document', call('<value>\uD800</value>'), NWF],
  ['a raw U+001F in a comment', call('<value><!-- \u001F -->x</value>'), NWF],
  // well-formed but not XML-RPC
  ['the wrong root', `${DECL}<methodcall><methodName>m</methodName></methodcall>`, INVALID],
  ['a SOAP envelope', `${DECL}<Envelope><Body/></Envelope>`, INVALID],
  ['a methodCall without methodName', `${DECL}<methodCall><params/></methodCall>`, INVALID],
  ['an empty methodCall', '<methodCall/>', INVALID],
  ['an empty methodName', `${DECL}<methodCall><methodName></methodName></methodCall>`, INVALID],
  ['a blank methodName', `${DECL}<methodCall><methodName> \n </methodName></methodCall>`, INVALID],
  ['two methodNames', `${DECL}<methodCall><methodName>a</methodName><methodName>b</methodName></methodCall>`, INVALID],
  ['an element inside methodName', `${DECL}<methodCall><methodName><value/></methodName></methodCall>`, INVALID],
  ['text inside methodCall', `${DECL}<methodCall>x<methodName>m</methodName></methodCall>`, INVALID],
  ['a stray element in methodCall', `${DECL}<methodCall><methodName>m</methodName><value/></methodCall>`, INVALID],
  ['two params elements', `${DECL}<methodCall><methodName>m</methodName><params/><params/></methodCall>`, INVALID],
  ['a param without value', `${DECL}<methodCall><methodName>m</methodName><params><param/></params></methodCall>`, INVALID],
  ['a param with two values', `${DECL}<methodCall><methodName>m</methodName><params><param><value/><value/></param></params></methodCall>`, INVALID],
  ['a value directly in params', `${DECL}<methodCall><methodName>m</methodName><params><value/></params></methodCall>`, INVALID],
  ['an unknown type tag', call('<value><float>1.5</float></value>'), INVALID],
  ['an unknown prefixed type tag', call('<value><ex:serializable>x</ex:serializable></value>'), INVALID],
  ['a <__proto__> element', call('<value><__proto__>1</__proto__></value>'), INVALID],
  ['a <constructor> element', call('<value><constructor/></value>'), INVALID],
  ['a <toString> element', call('<value><toString>x</toString></value>'), INVALID],
  ['a <prototype> root', '<prototype/>', INVALID],
  ['an XML-RPC element used as a type', call('<value><member/></value>'), INVALID],
  ['text mixed with a typed child', call('<value>x<int>1</int></value>'), INVALID],
  ['CDATA mixed with a typed child', call('<value><![CDATA[x]]><int>1</int></value>'), INVALID],
  ['two typed children', call('<value><int>1</int><int>2</int></value>'), INVALID],
  ['an element inside int', call('<value><int><value/></int></value>'), INVALID],
  ['an element inside string', call('<value><string><string>x</string></string></value>'), INVALID],
  ['int: letters', call('<value><int>abc</int></value>'), INVALID],
  ['int: empty', call('<value><int></int></value>'), INVALID],
  ['int: a fraction', call('<value><int>1.5</int></value>'), INVALID],
  ['int: hex', call('<value><int>0x10</int></value>'), INVALID],
  ['int: an inner space', call('<value><int>1 2</int></value>'), INVALID],
  ['int: 2^31', call('<value><int>2147483648</int></value>'), INVALID],
  ['i4: -2^31-1', call('<value><i4>-2147483649</i4></value>'), INVALID],
  ['int: 400 digits', call(`<value><int>${'9'.repeat(400)}</int></value>`), INVALID],
  ['i8: 2^63', call('<value><i8>9223372036854775808</i8></value>'), INVALID],
  ['i8: -2^63-1', call('<value><i8>-9223372036854775809</i8></value>'), INVALID],
  ['i8: a fraction', call('<value><i8>1.0</i8></value>'), INVALID],
  ['boolean: 2', call('<value><boolean>2</boolean></value>'), INVALID],
  ['boolean: true', call('<value><boolean>true</boolean></value>'), INVALID],
  ['boolean: empty', call('<value><boolean/></value>'), INVALID],
  ['double: inf', call('<value><double>inf</double></value>'), INVALID],
  ['double: nan', call('<value><double>nan</double></value>'), INVALID],
  ['double: Infinity', call('<value><double>Infinity</double></value>'), INVALID],
  ['double: 1e400 overflows', call('<value><double>1e400</double></value>'), INVALID],
  ['double: a comma', call('<value><double>1,5</double></value>'), INVALID],
  ['double: empty', call('<value><double></double></value>'), INVALID],
  ['double: hex', call('<value><double>0x1p3</double></value>'), INVALID],
  ['double: a lone point', call('<value><double>.</double></value>'), INVALID],
  ['double: a long run of digits then junk', call(`<value><double>${'1'.repeat(100000)}x</double></value>`), INVALID],
  ['dateTime: words', call('<value><dateTime.iso8601>yesterday</dateTime.iso8601></value>'), INVALID],
  ['dateTime: month 13', call('<value><dateTime.iso8601>19981317T14:08:55</dateTime.iso8601></value>'), INVALID],
  ['dateTime: 30 February', call('<value><dateTime.iso8601>19980230T14:08:55</dateTime.iso8601></value>'), INVALID],
  ['dateTime: 29 February 1900', call('<value><dateTime.iso8601>19000229T00:00:00</dateTime.iso8601></value>'), INVALID],
  ['dateTime: hour 24', call('<value><dateTime.iso8601>19980717T24:00:00</dateTime.iso8601></value>'), INVALID],
  ['dateTime: second 60', call('<value><dateTime.iso8601>19980717T23:59:60</dateTime.iso8601></value>'), INVALID],
  ['dateTime: no time', call('<value><dateTime.iso8601>19980717</dateTime.iso8601></value>'), INVALID],
  ['dateTime: a space for T', call('<value><dateTime.iso8601>1998-07-17 14:08:55</dateTime.iso8601></value>'), INVALID],
  ['dateTime: zone +25:00', call('<value><dateTime.iso8601>19980717T14:08:55+25:00</dateTime.iso8601></value>'), INVALID],
  ['dateTime: empty', call('<value><dateTime.iso8601/></value>'), INVALID],
  ['base64: punctuation', call('<value><base64>aGk!</base64></value>'), INVALID],
  ['base64: URL-safe alphabet', call('<value><base64>-_-_</base64></value>'), INVALID],
  ['base64: padding in the middle', call('<value><base64>QQ==QQ==</base64></value>'), INVALID],
  ['base64: wrong padding length', call('<value><base64>QQ=</base64></value>'), INVALID],
  ['base64: one lone character', call('<value><base64>Q</base64></value>'), INVALID],
  ['base64: a non-ASCII letter', call('<value><base64>aGé=</base64></value>'), INVALID],
  ['nil with content', call('<value><nil>x</nil></value>'), INVALID],
  ['a member without name', call('<value><struct><member><value>1</value></member></struct></value>'), INVALID],
  ['a member without value', call('<value><struct><member><name>a</name></member></struct></value>'), INVALID],
  ['a member with two names', call('<value><struct><member><name>a</name><name>b</name><value/></member></struct></value>'), INVALID],
  ['a member with two values', call('<value><struct><member><name>a</name><value/><value/></member></struct></value>'), INVALID],
  ['a member name holding an element', call('<value><struct><member><name><string>a</string></name><value/></member></struct></value>'), INVALID],
  ['text inside a struct', call('<value><struct>x<member><name>a</name><value/></member></struct></value>'), INVALID],
  ['a value directly in a struct', call('<value><struct><value/></struct></value>'), INVALID],
  ['an array without data', call('<value><array><value/></array></value>'), INVALID],
  ['an empty array element', call('<value><array/></value>'), INVALID],
  ['an array with two data', call('<value><array><data/><data/></array></value>'), INVALID],
  ['a param inside data', call('<value><array><data><param/></data></array></value>'), INVALID],
  ['text inside data', call('<value><array><data>x</data></array></value>'), INVALID],
  ['an empty methodResponse', response(''), INVALID],
  ['a methodResponse with no param', response('<params/>'), INVALID],
  ['a methodResponse with two params', response('<params><param><value/></param><param><value/></param></params>'), INVALID],
  ['a methodResponse with params and fault', response('<params><param><value/></param></params><fault><value/></fault>'), INVALID],
  ['a methodResponse with a methodName', response('<methodName>m</methodName>'), INVALID],
  ['a fault without faultCode', fault('<member><name>faultString</name><value>x</value></member>'), INVALID],
  ['a fault without faultString', fault('<member><name>faultCode</name><value><int>1</int></value></member>'), INVALID],
  ['a fault with a string code', fault('<member><name>faultCode</name><value>1</value></member><member><name>faultString</name><value>x</value></member>'), INVALID],
  ['a fault with a double code', fault('<member><name>faultCode</name><value><double>1.0</double></value></member><member><name>faultString</name><value>x</value></member>'), INVALID],
  ['a fault with an int faultString', fault('<member><name>faultCode</name><value><int>1</int></value></member><member><name>faultString</name><value><int>2</int></value></member>'), INVALID],
  ['a fault holding an array', response('<fault><value><array><data/></array></value></fault>'), INVALID],
  ['a fault with two values', response('<fault><value/><value/></fault>'), INVALID],
];

t.test('refuses every malformed document with the right DecodeError code and fault code', async (t) => {
  for (const [name, doc, code] of MALFORMED) {
    const err = thrown(() => loads(doc));
    if (!(err instanceof DecodeError)) {
      t.fail(`${name}: expected DecodeError ${code}, got ${err === undefined ? 'a result' : String(err)}`);
      continue;
    }
    t.equal(err.code, code, `${name}: ${err.message}`);
    t.equal(err.faultCode, DECODE_ERROR_FAULT[code], `${name}: faultCode`);
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
    const struct = decodeValue(`<value><struct><member><name>${name}</name><value><struct><member><name>polluted</name><value>yes</value></member></struct></value></member></struct></value>`) as Record<string, unknown>;
    t.equal(Object.getPrototypeOf(struct), null, `${name}: null prototype`);
    t.same(Object.keys(struct), [name], `${name}: an own key`);
  }
  t.same(Object.getOwnPropertyNames(Object.prototype).sort(), before);
  t.equal(({} as Record<string, unknown>)['polluted'], undefined);
  t.equal(typeof ({}).toString, 'function');
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
  t.equal(decodeValue('<value><string><![CDATA[<!DOCTYPE x [<!ENTITY e "boom">]>&e;]]></string></value>'), '<!DOCTYPE x [<!ENTITY e "boom">]>&e;', 'a DOCTYPE inside CDATA is text');
  t.equal(decodeValue('<value><int><![CDATA[ 12 ]]></int></value>'), 12);
});

t.test('skips comments and processing instructions wherever XML allows them', async (t) => {
  const doc =
    '<?xml version="1.0"?>\n<!-- before --><?pi before?>\n' +
    '<methodCall><!-- a --><methodName>m<!-- b -->.x</methodName><?pi c?>' +
    '<params><!-- <!DOCTYPE x> in a comment --><param><?pi d?><value><!-- e --><string>a<!-- f -->b<?pi don\'t?>c</string><!-- g --></value></param></params>' +
    '</methodCall>\n<!-- after --><?pi after?>\n';
  t.same(loads(doc), { methodName: 'm.x', params: ['abc'] });
  t.same(
    loads(call("<value><?pi it's?><struct><member><name>it's</name><value><?pi '?>ok</value></member></struct></value>")).params[0],
    nullProto({ "it's": 'ok' }),
    "an apostrophe in a PI does not swallow what follows",
  );
  t.equal(decodeValue('<value><?xml-stylesheet href="x"?>x</value>'), 'x', 'a PI whose target starts with xml');
  t.equal(decodeValue('<value><!----></value>'), '', 'an empty comment');
});

t.test('matches element names by local name and ignores attributes', async (t) => {
  const apache = 'xmlns:ex="http://ws.apache.org/xmlrpc/namespaces/extensions"';
  t.same(
    loads(`${DECL}<methodResponse ${apache}><params><param><value><array><data><value><ex:nil/></value><value><ex:i8>9007199254740993</ex:i8></value></data></array></value></param></params></methodResponse>`),
    { methodName: null, params: [[null, 9007199254740993n]] },
  );
  t.equal(decodeValue(`<value type="int" id='x&amp;y'><int a="1" b='&#65;'>5</int></value>`), 5);
  t.equal(decodeValue(`<value a="x>y" b='"it&apos;s"' c="it's">text</value>`), 'text', '> and quotes inside attribute values');
  t.same(loads(`<x:methodCall xmlns:x="urn:x"><x:methodName>m</x:methodName></x:methodCall>`), { methodName: 'm', params: [] });
});

t.test('accepts every dateTime form and converts zones to UTC', async (t) => {
  const utc = Date.UTC(1998, 6, 17, 14, 8, 55);
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
  const xml = call('<value><array><data><value><double>2.0</double></value><value><double>-0.5</double></value><value><int>2</int></value></data></array></value>');
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
  t.same(loads(Buffer.from(latin1.replace('ISO-8859-1', 'cp1252').replace('\x80', '\x92\x9f\x81'), 'latin1')), { methodName: 'm', params: ['café \u2019\u0178\x81'] }, 'cp1252, whatever TextDecoder does');
  t.same(loads(Buffer.from(latin1.replace('ISO-8859-1', 'ISO-8859-15').replace('\x80', '\xa4'), 'latin1')), { methodName: 'm', params: ['café €'] }, 'ISO-8859-15 through TextDecoder');
  t.same(loads(Buffer.from(latin1.replace('ISO-8859-1', 'us-ascii').replace('caf\xe9 \x80', 'cafe'), 'latin1')), { methodName: 'm', params: ['cafe'] }, 'US-ASCII');
  const utf16 = doc.replace('?>', ' encoding="UTF-16"?>');
  t.same(loads(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(utf16, 'utf16le')])), expect, 'UTF-16LE with BOM');
  t.same(loads(Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(utf16, 'utf16le').swap16()])), expect, 'UTF-16BE with BOM');
  t.same(loads(Buffer.from(utf16, 'utf16le').swap16()), expect, 'UTF-16BE without BOM');
  t.same(loads(Buffer.from(utf16, 'utf16le')), expect, 'UTF-16LE without BOM');
  t.same(loads(Buffer.from(doc.replace('?>', " encoding='utf8'?>"))), expect, 'a UTF-8 label');
  t.same(loads(Buffer.from(doc.replace('?>', ' encoding="ISO-8859-1"?>')).toString('latin1')), { methodName: 'm', params: ['cafÃ© â\u0082¬'] }, 'a string is already text: its declaration is not used');
});

t.test("reads Python xmlrpc.client.dumps output", async (t) => {
  const pythonCall =
    "<?xml version='1.0'?>\n<methodCall>\n<methodName>example.test</methodName>\n<params>\n<param>\n<value><int>42</int></value>\n</param>\n<param>\n<value><string>héllo &lt;&amp;&gt;</string></value>\n</param>\n<param>\n<value><double>1.5</double></value>\n</param>\n<param>\n<value><boolean>1</boolean></value>\n</param>\n<param>\n<value><array><data>\n<value><int>1</int></value>\n<value><string>two</string></value>\n</data></array></value>\n</param>\n<param>\n<value><struct>\n<member>\n<name>a</name>\n<value><int>1</int></value>\n</member>\n<member>\n<name>b</name>\n<value><array><data>\n<value><nil/></value></data></array></value>\n</member>\n</struct></value>\n</param>\n<param>\n<value><dateTime.iso8601>19980717T14:08:55</dateTime.iso8601></value>\n</param>\n<param>\n<value><base64>\nAAFoZWxsbyB3b3JsZAABaGVsbG8gd29ybGQAAWhlbGxvIHdvcmxkAAFoZWxsbyB3b3JsZAABaGVs\nbG8gd29ybGQAAWhlbGxvIHdvcmxkAAFoZWxsbyB3b3JsZAABaGVsbG8gd29ybGQ=\n</base64></value>\n</param>\n</params>\n</methodCall>\n";
  t.same(loads(Buffer.from(pythonCall)), {
    methodName: 'example.test',
    params: [42, 'héllo <&>', 1.5, true, [1, 'two'], nullProto({ a: 1, b: [null] }), new Date(Date.UTC(1998, 6, 17, 14, 8, 55)), Buffer.from('\x00\x01hello world'.repeat(8), 'latin1')],
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
  const doc = fault('<member><name>faultString</name><value>boom</value></member><member><name>faultCode</name><value><i4>-32601</i4></value></member><member><name>extra</name><value>ignored</value></member>');
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

const SAMPLES: Buffer[] = [
  Buffer.from(dumps([42, -1.5, 'hé😀 <&>\r\n', true, null, 2n ** 40n, new Date(Date.UTC(1998, 6, 17, 14, 8, 55)), Buffer.from('bytes'), [1, [2, { k: 'v' }]], { a: { b: [] } }], 'sample.call')),
  Buffer.from(dumps([{ result: ['x', 1, 2.5] }], { methodResponse: true })),
  Buffer.from(dumps(new Fault(4, 'Too many params'))),
  Buffer.from(
    '<?xml version="1.0" encoding="UTF-8"?>\n<!-- c --><methodCall>\n  <methodName>x.y</methodName>\n  <params><param><value><struct>\n' +
      '<member><name>a</name><value><![CDATA[<raw>]]></value></member>\n<member><name>n</name><value><ex:nil xmlns:ex="urn:x"/></value></member>\n' +
      '</struct></value></param><param><value><base64>aGVs\nbG8=</base64></value></param></params><?pi x?>\n</methodCall>',
  ),
];

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
          t.fail(`prefix of ${n} bytes: ${err === undefined ? 'decoded' : String(err)}`);
        } else if (err.code !== 'ERR_XML_NOT_WELL_FORMED' && err.code !== 'ERR_XML_INVALID_CHARACTER') {
          t.fail(`prefix of ${n} bytes: ${err.code} ${err.message}`);
        }
        checked++;
      }
    }
  }
  t.pass(`${checked} truncations`);
});

/** mulberry32: a small deterministic PRNG. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const TOKENS = ['<', '>', '&', ';', '/', '"', "'", '=', ']]>', '<![CDATA[', '<!--', '-->', '<?', '?>', '</value>', '<value>', '<array><data>', '<struct>', '&#0;', '&#x1F600;', '&lt;', '<!DOCTYPE x>', '\u0000', '\r', '\xff', '\xc3'];

function mutate(doc: Buffer, rand: () => number): Buffer {
  const bytes = [...doc];
  const edits = 1 + Math.floor(rand() * 4);
  for (let e = 0; e < edits; e++) {
    const at = Math.floor(rand() * (bytes.length + 1));
    switch (Math.floor(rand() * 6)) {
      case 0: // flip a bit
        if (at < bytes.length) bytes[at] = (bytes[at] as number) ^ (1 << Math.floor(rand() * 8));
        break;
      case 1: // random byte
        bytes.splice(at, 0, Math.floor(rand() * 256));
        break;
      case 2: // delete a run
        bytes.splice(at, 1 + Math.floor(rand() * 8));
        break;
      case 3: // insert a token
        bytes.splice(at, 0, ...Buffer.from(TOKENS[Math.floor(rand() * TOKENS.length)] as string, 'latin1'));
        break;
      case 4: { // duplicate a slice
        const len = Math.floor(rand() * 40);
        bytes.splice(at, 0, ...bytes.slice(at, at + len));
        break;
      }
      default: // swap two bytes
        if (at < bytes.length) {
          const other = Math.floor(rand() * bytes.length);
          [bytes[at], bytes[other]] = [bytes[other] as number, bytes[at] as number];
        }
    }
  }
  return Buffer.from(bytes);
}

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
