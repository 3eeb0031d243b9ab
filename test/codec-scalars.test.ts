// lib/xmlrpc/scalars.ts: the fast paths of the scalar types, fed the text
// of an element directly (from just after its start tag). Each either reads
// the plain form up to the end tag or declines (-1), leaving the element to
// the reader's general path, which is checked by codec-decode.test.ts and
// the differential test.

import t from 'tap';
import { base64, numeral, scanBase64, scanNumeral } from '../lib/xmlrpc/scalars.js';

// [text after the start tag, real?, expected: null (declines) or what it reads]
type NumeralRow = [text: string, real: boolean, read: null | { numeral: string; sign?: '+' | '-'; digits: number; value: number }];

// prettier-ignore
const NUMERALS: NumeralRow[] = [
  ['42</i4>', false, { numeral: '42', digits: 2, value: 42 }],
  ['-7</int>', false, { numeral: '-7', sign: '-', digits: 1, value: 7 }],
  ['+7</int>', false, { numeral: '+7', sign: '+', digits: 1, value: 7 }],
  ['0</boolean>', false, { numeral: '0', digits: 1, value: 0 }],
  [' \t\r\n12 \n</int>', false, { numeral: '12', digits: 2, value: 12 }],
  ['007</int>', false, { numeral: '007', digits: 3, value: 7 }],
  ['2147483648</int>', false, { numeral: '2147483648', digits: 10, value: 2147483648 }],
  ['123456789012345</i8>', false, { numeral: '123456789012345', digits: 15, value: 123456789012345 }],
  ['</int>', false, null],
  ['-</int>', false, null],
  ['+-1</int>', false, null],
  ['1 2</int>', false, null],
  ['1.5</int>', false, null],
  ['1e3</int>', false, null],
  ['&#49;</int>', false, null],
  ['1<!-- c --></int>', false, null],
  ['<![CDATA[1]]></int>', false, null],
  ['1<int>', false, null],
  ['1', false, null],
  ['\u00a01</int>', false, null],
  ['1.5</double>', true, { numeral: '1.5', digits: 1, value: 1 }],
  ['-.5</double>', true, { numeral: '-.5', sign: '-', digits: 0, value: 0 }],
  ['5.</double>', true, { numeral: '5.', digits: 1, value: 5 }],
  ['2e-3</double>', true, { numeral: '2e-3', digits: 1, value: 2 }],
  ['2E+30 </double>', true, { numeral: '2E+30', digits: 1, value: 2 }],
  ['.5e1</double>', true, { numeral: '.5e1', digits: 0, value: 0 }],
  ['.</double>', true, null],
  ['e5</double>', true, null],
  ['.e5</double>', true, null],
  ['1e</double>', true, null],
  ['1e+</double>', true, null],
  ['1.2.3</double>', true, null],
  ['NaN</double>', true, null],
  ['Infinity</double>', true, null],
  ['0x10</double>', true, null],
];

t.test('scanNumeral reads a plain numeral up to the end tag, and declines anything else', async (t) => {
  for (const [text, real, read] of NUMERALS) {
    const s = `<x>${text}`;
    const lt = scanNumeral(s, 3, real);
    const name = `${JSON.stringify(text)}${real ? ' (real)' : ''}`;
    if (read === null) {
      t.equal(lt, -1, `${name}: declined`);
      continue;
    }
    t.same(
      {
        lt,
        numeral: s.slice(numeral.start, numeral.end),
        sign: numeral.sign === 0 ? undefined : String.fromCharCode(numeral.sign),
        digits: numeral.digits,
        value: numeral.value,
      },
      { lt: s.indexOf('</'), ...read, sign: read.sign },
      name,
    );
  }
});

t.test('base64 of every length and padding, with white space, as encoders write it', async (t) => {
  for (const length of [0, 1, 2, 3, 4, 5, 100, 191, 192, 193, 1000]) {
    const bytes = Buffer.from(Array.from({ length }, (_, k) => (k * 37) & 0xff));
    const text = bytes.toString('base64');
    // prettier-ignore
    const forms: Array<[name: string, form: string]> = [
      ['canonical', text],
      ['unpadded', text.replace(/=+$/, '')],
      ['with line breaks every 76 characters', (text.match(/.{1,76}/g) ?? ['']).join('\n') + '\n'],
      ['with CR LF and tabs', (text.match(/.{1,8}/g) ?? ['']).join('\r\n\t')],
    ];
    for (const [name, form] of forms) {
      const s = `<base64>${form}</base64>`;
      const lt = scanBase64(s, 8);
      t.equal(lt, s.indexOf('</'), `${length} bytes, ${name}: read up to the end tag`);
      t.ok(base64.bytes.equals(bytes), `${length} bytes, ${name}: the bytes`);
    }
  }
});

t.test('scanBase64 marks as canonical only long text that re-encodes to itself', async (t) => {
  const long = Buffer.alloc(300, 1).toString('base64');
  // prettier-ignore
  const rows: Array<[name: string, text: string, canonical: boolean]> = [
    ['long and canonical', long, true],
    ['long, with line breaks', long.replace(/(.{76})/g, '$1\n'), true],
    ['long, unpadded', Buffer.alloc(301, 1).toString('base64').replace(/=+$/, ''), false],
    ['short and canonical', 'AQID', false],
    ['long, non-zero trailing bits (base64 still, read character by character)', long.slice(0, -4) + 'AQJ=', false],
  ];
  for (const [name, text, canonical] of rows) {
    const s = `<base64>${text}</base64>`;
    t.ok(scanBase64(s, 8) > 0, `${name}: read`);
    t.equal(base64.canonical, canonical, `${name}: canonical ${canonical}`);
  }
});

t.test('scanBase64 declines what is not plain base64, for the general path to judge', async (t) => {
  const long = Buffer.alloc(300, 1).toString('base64');
  // prettier-ignore
  const rows: Array<[name: string, text: string]> = [
    ['a lone last character', 'AQIDB'],
    ['three pads', 'AQ==='],
    ['a character after the padding', 'AQ==AQ=='],
    ['padding that leaves a partial quantum', 'AQI=A'],
    ['a character outside the alphabet', 'AQ-D'],
    ['a non-ASCII character', 'AQ\u00e9D'],
    ['a reference', 'AQ&#73;D'],
    ['CDATA', '<![CDATA[AQID]]>'],
    ['a comment', 'AQ<!-- c -->ID'],
    ['no end tag', 'AQID'],
    ['long, with a character outside the alphabet', long.slice(0, 100) + '*' + long.slice(100)],
  ];
  for (const [name, text] of rows) {
    const s = name === 'no end tag' ? `<base64>${text}` : `<base64>${text}</base64>`;
    t.equal(scanBase64(s, 8), -1, name);
  }
});
