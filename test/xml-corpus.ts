// The decoder's test corpus, shared by codec-decode.test.ts (which checks
// each malformed row's code and each accepted form's value) and
// codec-differential.test.ts (which feeds all of it, and mutations of it, to
// both the pull decoder and the reference decoder).

import type { DecodeErrorCode } from '../lib/errors.js';
import { DecodeError, Fault } from '../lib/errors.js';
import { dumps } from '../lib/xmlrpc/encode.js';

export const DECL = '<?xml version="1.0"?>';

/** A methodCall `m` with one param holding `valueXml` (a whole `<value>`). */
export function call(valueXml: string): string {
  return `${DECL}<methodCall><methodName>m</methodName><params><param>${valueXml}</param></params></methodCall>`;
}

/** The one param of a call whose param is `valueXml`. */
export function response(inner: string): string {
  return `${DECL}<methodResponse>${inner}</methodResponse>`;
}

export function fault(members: string): string {
  return response(`<fault><value><struct>${members}</struct></value></fault>`);
}

export function nestedArrays(levels: number, inner = '<value><int>1</int></value>'): string {
  return '<value><array><data>'.repeat(levels) + inner + '</data></array></value>'.repeat(levels);
}

export function nestedStructs(levels: number): string {
  return '<value><struct><member><name>k</name>'.repeat(levels) + '<value>x</value>' + '</member></struct></value>'.repeat(levels);
}

export const LOL = (() => {
  let dtd = '<!ENTITY lol "lol">';
  for (let i = 1; i <= 9; i++) dtd += `<!ENTITY lol${i} "${`&lol${i === 1 ? '' : i - 1};`.repeat(10)}">`;
  return `${DECL}<!DOCTYPE lolz [${dtd}]><methodCall><methodName>&lol9;</methodName></methodCall>`;
})();

// malformed documents, one row each

export type Row = [name: string, doc: string | Buffer, code: DecodeErrorCode];

export const NWF = 'ERR_XML_NOT_WELL_FORMED';
export const INVALID = 'ERR_XMLRPC_INVALID';
// -32702 is for bytes the declared encoding cannot read (xmlrpc-epi maps
// only expat's encoding errors to it); a character XML forbids is -32700.
export const BAD_CHAR = 'ERR_XML_INVALID_CHARACTER';

// prettier-ignore
export const MALFORMED: Row[] = [
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
  ['misspelt predefined entities', call('<value>&quo;&gx;&ap;&lt</value>'), NWF],
  ['a misspelt &quot; in an attribute', call('<value a="&quott;">x</value>'), NWF],
  ['a < in an attribute value', call('<value a="<">x</value>'), NWF],
  ['an unquoted attribute', call('<value a=1>x</value>'), NWF],
  ['an attribute without a value', call('<value a>x</value>'), NWF],
  ['a repeated attribute', call('<value a="1" a="2">x</value>'), NWF],
  ['a repeated attribute after others', call('<value a="1" b="2" c="3" b="4">x</value>'), NWF],
  ['a repeated attribute among thousands', call(`<value${Array.from({ length: 5000 }, (_, i) => ` a${i}="${i}"`).join('')} a4999="">x</value>`), NWF],
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
  ['UTF-16 declared over UTF-8 bytes', Buffer.from('<?xml version="1.0" encoding="UTF-16"?><methodCall><methodName>é</methodName></methodCall>'), BAD_CHAR],
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
  ['an empty-element methodResponse', `${DECL}<methodResponse/>`, INVALID],
  ['an empty-element member', call('<value><struct><member/></struct></value>'), INVALID],
  ['double: an exponent without digits', call('<value><double>1e</double></value>'), INVALID],
  ['double: a signed exponent without digits', call('<value><double>1.5E+</double></value>'), INVALID],
  ['base64: three = signs', call('<value><base64>QQ===</base64></value>'), INVALID],
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

// prettier-ignore
export const SAMPLES: Buffer[] = [
  Buffer.from(dumps([42, -1.5, 'hé😀 <&>\r\n', true, null, 2n ** 40n, new Date(Date.UTC(1998, 6, 17, 14, 8, 55)), Buffer.from('bytes'), [1, [2, { k: 'v' }]], { a: { b: [] } }], 'sample.call')),
  Buffer.from(dumps([{ result: ['x', 1, 2.5] }], { methodResponse: true })),
  Buffer.from(dumps(new Fault(4, 'Too many params'))),
  Buffer.from(
    '<?xml version="1.0" encoding="UTF-8"?>\n<!-- c --><methodCall>\n  <methodName>x.y</methodName>\n  <params><param><value><struct>\n' +
      '<member><name>a</name><value><![CDATA[<raw>]]></value></member>\n<member><name>n</name><value><ex:nil xmlns:ex="urn:x"/></value></member>\n' +
      '</struct></value></param><param><value><base64>aGVs\nbG8=</base64></value></param></params><?pi x?>\n</methodCall>',
  ),
];

/** mulberry32: a small deterministic PRNG. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

export const TOKENS = [
  '<',
  '>',
  '&',
  ';',
  '/',
  '"',
  "'",
  '=',
  ']]>',
  '<![CDATA[',
  '<!--',
  '-->',
  '<?',
  '?>',
  '</value>',
  '<value>',
  '<array><data>',
  '<struct>',
  '&#0;',
  '&#x1F600;',
  '&lt;',
  '<!DOCTYPE x>',
  '\u0000',
  '\r',
  '\xff',
  '\xc3',
];

export function mutate(doc: Buffer, rand: () => number): Buffer {
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
      case 4: {
        // duplicate a slice
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

// ---------------------------------------------------------------------------
// accepted documents (the forms codec-decode.test.ts checks value by value)

/** `<value>` elements that must decode, each inside a call's one param. */
// prettier-ignore
export const ACCEPTED_VALUES: string[] = [
  '<value><int>42</int></value>', '<value><i4>-7</i4></value>', '<value><int>+5</int></value>', '<value><int>007</int></value>',
  '<value><int>-0</int></value>', '<value><int>2147483647</int></value>', '<value><int>-2147483648</int></value>',
  '<value><i8>9223372036854775807</i8></value>', '<value><i8>-9223372036854775808</i8></value>', '<value><i8>5</i8></value>',
  '<value><i8>-0</i8></value>', '<value><i8>000000000000000000000000000000007</i8></value>', '<value><i8>123456789012345</i8></value>',
  '<value><i8>-1234567890123456</i8></value>', '<value><boolean>1</boolean></value>', '<value><boolean>0</boolean></value>',
  '<value><double>1.5</double></value>', '<value><double>1e+300</double></value>', '<value><double>-1.5E-3</double></value>',
  '<value><double>.5</double></value>', '<value><double>5.</double></value>', '<value><double>+2</double></value>',
  '<value><double>-0.0</double></value>', '<value><double>-0</double></value>', `<value><double>0.${'0'.repeat(323)}5</double></value>`,
  '<value><double>1.7976931348623157e308</double></value>', '<value><double>0.1</double></value>', '<value><double>123456789012345678901234567890</double></value>',
  '<value><string>text</string></value>', '<value>untyped</value>', '<value><base64>aGVsbG8=</base64></value>',
  '<value><base64></base64></value>', '<value><base64>aGk</base64></value>', '<value><nil/></value>', '<value><nil></nil></value>',
  '<value><int> 42\n</int></value>', '<value><i8>\t5 </i8></value>', '<value><boolean>\r\n1\r\n</boolean></value>',
  '<value><double> 2.5 </double></value>', '<value><dateTime.iso8601> 19980717T14:08:55 </dateTime.iso8601></value>',
  '<value><string>  two  spaces  </string></value>', '<value>\n  untyped \n</value>',
  '<value><string/></value>', '<value><string></string></value>', '<value/>', '<value></value>',
  '<value>&lt;&gt;&amp;&quot;&apos;</value>', '<value>&#65;&#x42;&#x0043;</value>', '<value>&#x1F600;&#128512;</value>',
  '<value>&amp;lt;</value>', '<value>&#38;amp;</value>', '<value>a&#13;&#10;b</value>',
  '<value>a\r\nb\rc\nd</value>', '<value>a\r<?pi?>\nb</value>', '<value><![CDATA[a\r\nb]]></value>', '<value>a\r<!-- c -->\nb\r</value>',
  '<value><string><![CDATA[<&>&amp;]]></string></value>', '<value><string>a&lt;<![CDATA[<b>]]>&gt;c</string></value>',
  '<value><![CDATA[untyped]]></value>', '<value><string><![CDATA[]]]]><![CDATA[>]]></string></value>',
  '<value><string><![CDATA[]]></string></value>', '<value><string><![CDATA[<!DOCTYPE x [<!ENTITY e "boom">]>&e;]]></string></value>',
  '<value><int><![CDATA[ 12 ]]></int></value>', '<value><int>&#49;2</int></value>', '<value><int>1<!-- c -->2</int></value>',
  '<value><int>-<!-- c -->0</int></value>', '<value><int>&#45;0</int></value>', '<value><i8>-<!-- c -->0</i8></value>',
  '<value><double>1<?pi?>.5</double></value>', '<value><boolean><![CDATA[1]]></boolean></value>', '<value><base64>aG<!-- c -->Vs&#10;bG8=</base64></value>',
  '<value><nil>&#32;<![CDATA[ ]]></nil></value>', '<value> <!-- c --> <int>1</int> <?pi?> </value>', '<value>&#32;<int>1</int>&#9;</value>',
  "<value><?pi it's?><struct><member><name>it's</name><value><?pi '?>ok</value></member></struct></value>",
  '<value><?xml-stylesheet href="x"?>x</value>', '<value><!----></value>',
  `<value type="int" id='x&amp;y'><int a="1" b='&#65;'>5</int></value>`, `<value a="x>y" b='"it&apos;s"' c="it's">text</value>`,
  '<value ><int\n>1</int ></value\t>', '<ex:value><ex:int>3</ex:int></ex:value>', '<value><:int>4</:int></value>',
  '<value><base64>\n aG Vs\tbG8 =\r\n</base64></value>', '<value><base64>QQ=\n=</base64></value>', '<value><base64>Q Q = =</base64></value>',
  '<value><struct><member><name>a</name><value><int>1</int></value></member><member><value><int>2</int></value><name>b</name></member>' +
    '<member><name>a</name><value><int>3</int></value></member><member><name> spaced </name><value/></member>' +
    '<member><name/><value>empty name</value></member><member><name>04</name><value>validator1 keys stay strings</value></member></struct></value>',
  '<value><struct><member><name>__proto__</name><value><struct><member><name>polluted</name><value>yes</value></member></struct></value></member>' +
    '<member><name>constructor</name><value/></member><member><name>1</name><value/></member><member><name>0</name><value/></member></struct></value>',
  '<value><struct/></value>', '<value><array><data/></array></value>', '<value><array><data></data></array></value>',
  '<value><array>\n<data>\n</data>\n</array></value>', '<value><struct>\n</struct></value>',
  '<value><array><data><value><double>2.0</double></value><value><double>-0.5</double></value><value><int>2</int></value></data></array></value>',
  '<value><dateTime.iso8601>19980717T14:08:55</dateTime.iso8601></value>', '<value><dateTime.iso8601>1998-07-17T14:08:55</dateTime.iso8601></value>',
  '<value><dateTime.iso8601>19980717T140855</dateTime.iso8601></value>', '<value><dateTime.iso8601>1998-07-17T140855</dateTime.iso8601></value>',
  '<value><dateTime.iso8601>19980717T14:08:55Z</dateTime.iso8601></value>', '<value><dateTime.iso8601>19980717T14:08:55.123</dateTime.iso8601></value>',
  '<value><dateTime.iso8601>19980717T14:08:55.5</dateTime.iso8601></value>', '<value><dateTime.iso8601>19980717T14:08:55.123456789Z</dateTime.iso8601></value>',
  '<value><dateTime.iso8601>19980717T16:08:55+02:00</dateTime.iso8601></value>', '<value><dateTime.iso8601>19980717T16:08:55+0200</dateTime.iso8601></value>',
  '<value><dateTime.iso8601>19980717T09:38:55-04:30</dateTime.iso8601></value>', '<value><dateTime.iso8601>20000229T00:00:00</dateTime.iso8601></value>',
  '<value><dateTime.iso8601>00500101T00:00:00</dateTime.iso8601></value>',
];

/** Whole documents that must decode (or be a fault response), with the options to decode them with. */
// prettier-ignore
export const ACCEPTED_DOCS: Array<[name: string, doc: string | Buffer, options?: { maxDepth?: number; wrapDoubles?: boolean }]> = [
  ['64 nested arrays', call(nestedArrays(64))],
  ['64 nested structs', call(nestedStructs(64))],
  ['100 nested arrays with maxDepth 100', call(nestedArrays(100)), { maxDepth: 100 }],
  ['a string with maxDepth 0', call('<value>x</value>'), { maxDepth: 0 }],
  ['doubles with wrapDoubles', call('<value><array><data><value><double>2.0</double></value><value><double>-0.5</double></value><value><int>2</int></value></data></array></value>'), { wrapDoubles: true }],
  ['comments and PIs everywhere',
    '<?xml version="1.0"?>\n<!-- before --><?pi before?>\n' +
    '<methodCall><!-- a --><methodName>m<!-- b -->.x</methodName><?pi c?>' +
    '<params><!-- <!DOCTYPE x> in a comment --><param><?pi d?><value><!-- e --><string>a<!-- f -->b<?pi don\'t?>c</string><!-- g --></value></param></params>' +
    '</methodCall>\n<!-- after --><?pi after?>\n'],
  ['Apache extensions',
    `${DECL}<methodResponse xmlns:ex="http://ws.apache.org/xmlrpc/namespaces/extensions"><params><param><value><array><data><value><ex:nil/></value><value><ex:i8>9007199254740993</ex:i8></value></data></array></value></param></params></methodResponse>`],
  ['a prefixed root', `<x:methodCall xmlns:x="urn:x"><x:methodName>m</x:methodName></x:methodCall>`],
  ['no params, trimmed name', `<methodCall><methodName>\n  ping\n</methodName></methodCall>`],
  ['empty params', `<methodCall><methodName>ping</methodName><params/></methodCall>`],
  ['params before methodName', `<methodCall><params><param><value>x</value></param></params><methodName>m</methodName></methodCall>`],
  ['a standalone declaration', `<?xml version='1.1' encoding='utf-8' standalone='yes' ?><methodCall><methodName>m</methodName></methodCall>`],
  ['a UTF-8 BOM', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(call('<value>café €</value>'))])],
  ['a BOM in a string', '\ufeff' + call('<value>café €</value>')],
  ['ISO-8859-1', Buffer.from(`<?xml version="1.0" encoding="ISO-8859-1"?><methodCall><methodName>m</methodName><params><param><value>caf\xe9 \x80</value></param></params></methodCall>`, 'latin1')],
  ['windows-1252', Buffer.from(`<?xml version="1.0" encoding="windows-1252"?><methodCall><methodName>m</methodName><params><param><value>caf\xe9 \x80\x92\x9f\x81</value></param></params></methodCall>`, 'latin1')],
  ['ISO-8859-15', Buffer.from(`<?xml version="1.0" encoding="ISO-8859-15"?><methodCall><methodName>m</methodName><params><param><value>caf\xe9 \xa4</value></param></params></methodCall>`, 'latin1')],
  ['US-ASCII', Buffer.from(`<?xml version="1.0" encoding="us-ascii"?><methodCall><methodName>m</methodName><params><param><value>cafe</value></param></params></methodCall>`, 'latin1')],
  ['ASCII bytes declaring ISO-8859-15', Buffer.from(`<?xml version="1.0" encoding="ISO-8859-15"?><methodCall><methodName>m</methodName></methodCall>`)],
  ['ASCII bytes declaring Shift_JIS', Buffer.from(`<?xml version="1.0" encoding="Shift_JIS"?><methodCall><methodName>m</methodName></methodCall>`)],
  ['UTF-16LE with BOM', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(call('<value>café €</value>').replace('?>', ' encoding="UTF-16"?>'), 'utf16le')])],
  ['UTF-16BE with BOM', Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(call('<value>café €</value>').replace('?>', ' encoding="UTF-16"?>'), 'utf16le').swap16()])],
  ['UTF-16BE without BOM', Buffer.from(call('<value>café €</value>').replace('?>', ' encoding="UTF-16"?>'), 'utf16le').swap16()],
  ['UTF-16LE without BOM', Buffer.from(call('<value>café €</value>').replace('?>', ' encoding="UTF-16"?>'), 'utf16le')],
  ['a utf8 label', Buffer.from(call('<value>café €</value>').replace('?>', " encoding='utf8'?>"))],
  ['a string whose declaration is not used', Buffer.from(call('<value>café €</value>').replace('?>', ' encoding="ISO-8859-1"?>')).toString('latin1')],
  ['Python call',
    "<?xml version='1.0'?>\n<methodCall>\n<methodName>example.test</methodName>\n<params>\n<param>\n<value><int>42</int></value>\n</param>\n<param>\n<value><string>héllo &lt;&amp;&gt;</string></value>\n</param>\n<param>\n<value><double>1.5</double></value>\n</param>\n<param>\n<value><boolean>1</boolean></value>\n</param>\n<param>\n<value><array><data>\n<value><int>1</int></value>\n<value><string>two</string></value>\n</data></array></value>\n</param>\n<param>\n<value><struct>\n<member>\n<name>a</name>\n<value><int>1</int></value>\n</member>\n<member>\n<name>b</name>\n<value><array><data>\n<value><nil/></value></data></array></value>\n</member>\n</struct></value>\n</param>\n<param>\n<value><dateTime.iso8601>19980717T14:08:55</dateTime.iso8601></value>\n</param>\n<param>\n<value><base64>\nAAFoZWxsbyB3b3JsZAABaGVsbG8gd29ybGQAAWhlbGxvIHdvcmxkAAFoZWxsbyB3b3JsZAABaGVs\nbG8gd29ybGQAAWhlbGxvIHdvcmxkAAFoZWxsbyB3b3JsZAABaGVsbG8gd29ybGQ=\n</base64></value>\n</param>\n</params>\n</methodCall>\n"],
  ['Python response',
    "<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n<value><struct>\n<member>\n<name>x</name>\n<value><double>1e+300</double></value>\n</member>\n<member>\n<name>y</name>\n<value><double>-0.0</double></value>\n</member>\n</struct></value>\n</param>\n</params>\n</methodResponse>\n"],
  ['Python fault',
    "<?xml version='1.0'?>\n<methodResponse>\n<fault>\n<value><struct>\n<member>\n<name>faultCode</name>\n<value><int>4</int></value>\n</member>\n<member>\n<name>faultString</name>\n<value><string>Too many &lt;params&gt;</string></value>\n</member>\n</struct></value>\n</fault>\n</methodResponse>\n"],
  ['a fault with members in any order and extras',
    fault('<member><name>faultString</name><value>boom</value></member><member><name>faultCode</name><value><i4>-32601</i4></value></member><member><name>extra</name><value>ignored</value></member>')],
  ['a fault whose last faultCode wins',
    fault('<member><name>faultCode</name><value>x</value></member><member><name>faultCode</name><value><ex:int>7</ex:int></value></member><member><name>faultString</name><value/></member>')],
  ['a fault with nested faultCode members',
    fault('<member><name>faultCode</name><value><int>7</int></value></member><member><name>x</name><value><struct><member><name>faultCode</name><value>s</value></member></struct></value></member><member><name>faultString</name><value><![CDATA[s]]></value></member>')],
  ['our own large document', dumps([{ list: Array.from({ length: 2000 }, (_, i) => ({ i, s: `item ${i} <&>`, d: i / 3 })) }, Buffer.alloc(1 << 16, 7)], 'bulk')],
  ['our own fault', dumps(new Fault(4, 'Too many params'))],
];

/** Bytes that tell a reader's checks apart: white space, quotes, markup, digits, signs, controls, non-ASCII. */
const EDIT_BYTES = [
  0x00, 0x09, 0x0a, 0x0d, 0x20, 0x22, 0x26, 0x27, 0x2b, 0x2d, 0x2f, 0x30, 0x31, 0x35, 0x39, 0x3c, 0x3e, 0x3f, 0x5d, 0x61, 0x7f, 0x80, 0xc3, 0xff,
];

/** Every one-byte edit of `seed`: each byte replaced by each of EDIT_BYTES and each of them inserted before it, each truncation, each byte removed. */
export function* byteEdits(seed: Buffer): Generator<Buffer> {
  for (let i = 0; i < seed.length; i++) {
    for (const b of EDIT_BYTES) {
      if (seed[i] === b) continue;
      const replaced = Buffer.from(seed);
      replaced[i] = b;
      yield replaced;
      yield Buffer.concat([seed.subarray(0, i), Buffer.from([b]), seed.subarray(i)]);
    }
    yield seed.subarray(0, i);
    yield Buffer.concat([seed.subarray(0, i), seed.subarray(i + 1)]);
  }
}

/** A document as a test failure shows it. */
export const show = (doc: Buffer): string => JSON.stringify(doc.toString('latin1')).slice(0, 300);

const SMALL_INTS = [0, 1, -1, 7, 42, -42, 2147483647, -2147483648, 1000000000, -999999999, 123456789];
const SMALL_STRINGS = ['', 'a', 'hello world', 'x.y', ' spaced ', '0', '-', '"quoted"', "it's", 'a]]b', '~!@#$%^*()_+=-`{}[]|\\:;?/.,', 'x'.repeat(40)];

/** A random value of the kinds the small readers take (small-document.ts): an int32, a boolean or a plain string. */
export function smallScalar(r: () => number): unknown {
  switch (Math.floor(r() * 3)) {
    case 0:
      return r() < 0.5 ? SMALL_INTS[Math.floor(r() * SMALL_INTS.length)] : Math.floor((r() - 0.5) * 2 ** 32) | 0;
    case 1:
      return r() < 0.5;
    default:
      return SMALL_STRINGS[Math.floor(r() * SMALL_STRINGS.length)];
  }
}

/**
 * A small reader's differential run: every byte edit of each seed, 4,000
 * documents of `random` mutated, then `corpus`, each through `check` (null
 * when the reader and the strict reader agree). The first ten problems go to
 * `fail`; returns how many there were.
 */
export function differential(
  seeds: Buffer[],
  random: (r: () => number) => Buffer,
  corpus: Buffer[],
  check: (doc: Buffer) => string | null,
  fail: (message: string) => void,
): number {
  let failures = 0;
  const report = (doc: Buffer) => {
    const problem = check(doc);
    if (problem !== null && failures++ < 10) fail(`${problem}: ${show(doc)}`);
  };
  for (const seed of seeds) for (const doc of byteEdits(seed)) report(doc);
  const r = prng(16016);
  for (let i = 0; i < 4000; i++) report(mutate(random(r), r));
  for (const doc of corpus) report(doc);
  return failures;
}

/** What a decode gives: its value, or its error's code (a Fault's code and string). */
export type Outcome = { ok: true; value: unknown } | { ok: false; code: string };

export function outcome(fn: () => unknown): Outcome {
  try {
    return { ok: true, value: fn() };
  } catch (err) {
    if (err instanceof DecodeError) return { ok: false, code: err.code };
    if (err instanceof Fault) return { ok: false, code: `fault ${err.faultCode} ${err.faultString}` };
    return { ok: false, code: `other: ${String(err)}` };
  }
}
