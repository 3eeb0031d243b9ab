// lib/http/chars.ts: every byte class checked over all 256 bytes against the
// grammar it comes from, written here a second way (from the RFC's ABNF as
// strings and ranges) so that a slip in a table cannot hide in both.

import t from 'tap';
import * as chars from '../lib/http/chars.js';
import { FIELD_CHAR, HEX, HOST_CHAR, QDTEXT, SCHEME_CHAR, TARGET_CHAR, TCHAR, equalsIgnoreCase, isBlank } from '../lib/http/chars.js';

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const codes = (s: string): number[] => [...s].map((c) => c.charCodeAt(0));
const DIGIT = range(0x30, 0x39);
const UPPER = range(0x41, 0x5a);
const LOWER = range(0x61, 0x7a);
const ALPHA = [...UPPER, ...LOWER];
const VCHAR = range(0x21, 0x7e);
const OBS_TEXT = range(0x80, 0xff);

/** The bytes a table marks (any non-zero entry). */
function marked(table: Uint8Array): number[] {
  return range(0, 255).filter((c) => table[c] !== 0);
}

const sorted = (list: number[]): number[] => [...new Set(list)].sort((a, b) => a - b);

t.test('each byte class holds exactly the bytes of its grammar rule', async (t) => {
  // prettier-ignore
  const rows: Array<[string, Uint8Array, number[]]> = [
    ['tchar (RFC 9110 §5.6.2)', TCHAR, [...codes("!#$%&'*+-.^_`|~"), ...DIGIT, ...ALPHA]],
    ['field-vchar, SP and HTAB (RFC 9110 §5.5)', FIELD_CHAR, [0x09, 0x20, ...VCHAR, ...OBS_TEXT]],
    ['request-target bytes: VCHAR', TARGET_CHAR, VCHAR],
    ['scheme after its first byte (RFC 3986 §3.1)', SCHEME_CHAR, [...ALPHA, ...DIGIT, ...codes('+-.')]],
    ['uri-host [":" port] (RFC 3986 §3.2.2)', HOST_CHAR, [...ALPHA, ...DIGIT, ...codes("-._~!$&'()*+,;=:[]%")]],
    ['qdtext (RFC 9110 §5.6.4)', QDTEXT, [0x09, 0x20, 0x21, ...range(0x23, 0x5b), ...range(0x5d, 0x7e), ...OBS_TEXT]],
  ];
  for (const [name, table, expected] of rows) {
    t.equal(table.length, 256, `${name}: 256 entries`);
    t.same(marked(table), sorted(expected), name);
  }
});

t.test('TCHAR marks upper-case letters apart, so a field name needs lower-casing only when it holds one', async (t) => {
  t.same(
    range(0, 255).filter((c) => TCHAR[c] === 3),
    UPPER,
  );
  t.same(
    range(0, 255).filter((c) => TCHAR[c] === 1),
    sorted([...codes("!#$%&'*+-.^_`|~"), ...DIGIT, ...LOWER]),
  );
});

t.test('HEX gives the value of each hex digit and -1 for every other byte', async (t) => {
  const expected = range(0, 255).map((c) => (/^[0-9a-fA-F]$/.test(String.fromCharCode(c)) ? parseInt(String.fromCharCode(c), 16) : -1));
  t.same([...HEX], expected);
});

t.test('the named bytes are their ASCII codes', async (t) => {
  // prettier-ignore
  const rows: Array<[keyof typeof chars, string]> = [
    ['CR', '\r'],
    ['LF', '\n'],
    ['SP', ' '],
    ['HTAB', '\t'],
    ['DQUOTE', '"'],
    ['COMMA', ','],
    ['COLON', ':'],
    ['SEMICOLON', ';'],
    ['EQUALS', '='],
    ['BACKSLASH', '\\'],
    ['HASH', '#'],
    ['ASTERISK', '*'],
    ['SLASH', '/'],
    ['QUESTION', '?'],
  ];
  for (const [name, ch] of rows) t.equal(chars[name], ch.charCodeAt(0), name);
});

t.test('equalsIgnoreCase compares a byte range with a lower-case literal, ASCII letters only folded', async (t) => {
  // prettier-ignore
  const rows: Array<[string, string, boolean]> = [
    ['chunked', 'chunked', true],
    ['CHUNKED', 'chunked', true],
    ['ChUnKeD', 'chunked', true],
    ['chunke', 'chunked', false],
    ['chunkedx', 'chunked', false],
    ['', '', true],
    ['100-Continue', '100-continue', true],
    ['KEEP-ALIVE', 'keep-alive', true],
    ['close\xe9', 'close\xe9', true],
    ['CLOSE\xc9', 'close\xe9', false],
    ['[', '{', false],
    ['@', '`', false],
  ];
  for (const [text, lower, equal] of rows) {
    const buf = Buffer.from(`xx${text}yy`, 'latin1');
    t.equal(equalsIgnoreCase(buf, 2, 2 + text.length, lower), equal, `${JSON.stringify(text)} vs ${JSON.stringify(lower)}`);
  }
});

t.test('isBlank is SP and HTAB only', async (t) => {
  t.same(range(0, 255).filter(isBlank), [0x09, 0x20]);
});

t.test('latin1Text gives the same string as toString latin1 for every range, whatever was met before', async (t) => {
  // A fixed pseudo-random source (xorshift), so that a failure replays.
  let seed = 0x9e3779b9;
  const next = (): number => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return seed >>> 0;
  };
  // Few distinct bytes, so that strings and their slots meet often.
  const buf = Buffer.from(Array.from({ length: 4096 }, () => [0x41, 0x42, 0xe9, 0x20, 0x7f, 0x00][next() % 6]!));
  let mismatches = 0;
  for (let k = 0; k < 20000; k++) {
    const start = next() % 4000;
    const end = Math.min(buf.length, start + (next() % 80));
    if (chars.latin1Text(buf, start, end) !== buf.toString('latin1', start, end)) mismatches++;
  }
  t.equal(mismatches, 0, 'no range differs');
  // Same length, same first, middle and last bytes: the same slot, told apart by the bytes between.
  const a = Buffer.from('aXbYc', 'latin1');
  const b = Buffer.from('aZbWc', 'latin1');
  for (let k = 0; k < 3; k++) {
    t.equal(chars.latin1Text(a, 0, 5), 'aXbYc');
    t.equal(chars.latin1Text(b, 0, 5), 'aZbWc');
  }
  // A string met before stays what it was when its bytes are reused for another.
  const c = Buffer.from('text/xml', 'latin1');
  const first = chars.latin1Text(c, 0, c.length);
  c.write('text/xmL', 'latin1');
  t.equal(first, 'text/xml');
  t.equal(chars.latin1Text(c, 0, c.length), 'text/xmL');
  t.equal(chars.latin1Text(c, 3, 3), '', 'an empty range');
  const long = Buffer.from('x'.repeat(100) + '\u00ff', 'latin1');
  t.equal(chars.latin1Text(long, 0, long.length), 'x'.repeat(100) + '\u00ff', 'longer than the shared strings');
});
