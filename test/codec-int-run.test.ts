// lib/xmlrpc/int-run.ts: the fast path of arrays of plain ints, fed strings
// (and their ASCII bytes, as the reader has them) directly. What it
// declines, the reader's general path reads (codec-decode.test.ts).

import t from 'tap';
import { appendRun, intRun, readIntRun } from '../lib/xmlrpc/int-run.js';

/** The text's bytes as the reader sees them (a pooled Buffer starts at an offset). */
function asciiView(s: string): DataView {
  const b = Buffer.from(s, 'latin1');
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

t.test('reads a run of plain ints, the same from the text and from its ASCII bytes', async (t) => {
  const read = (s: string, bytes: boolean) => {
    const view = bytes ? asciiView(s) : null;
    const k = readIntRun(s, view, 0);
    return { k, end: intRun.end, i4: intRun.i4, values: appendRun([], k) };
  };
  // prettier-ignore
  const rows: Array<[name: string, s: string, values: number[], rest: string]> = [
    ['ints and i4s', '<value><int>1</int></value><value><i4>-2</i4></value><value><int>+3</int></value>', [1, -2, 3], ''],
    ['the int32 bounds', '<value><int>2147483647</int></value><value><int>-2147483648</int></value>', [2147483647, -2147483648], ''],
    ['-0 is 0', '<value><int>-0</int></value>', [0], ''],
    ['stops at a value past int32', '<value><int>1</int></value><value><int>2147483648</int></value>', [1], '<value><int>2147483648</int></value>'],
    ['stops at white space', '<value><int>1</int></value> <value><int>2</int></value>', [1], ' <value><int>2</int></value>'],
    ['stops at white space inside', '<value><int>1</int></value><value><int> 2</int></value>', [1], '<value><int> 2</int></value>'],
    ['stops at another type', '<value><int>1</int></value><value><i8>2</i8></value>', [1], '<value><i8>2</i8></value>'],
    ['stops at a mismatched end tag', '<value><int>1</i4></value>', [], '<value><int>1</i4></value>'],
    ['stops at 11 digits', '<value><int>00000000001</int></value>', [], '<value><int>00000000001</int></value>'],
    ['stops at an empty int', '<value><int></int></value>', [], '<value><int></int></value>'],
    ['reads nothing from a string', '<value>1</value>', [], '<value>1</value>'],
  ];
  for (const [name, s, values, rest] of rows) {
    for (const bytes of [false, true]) {
      const got = read(s, bytes);
      t.same(got.values, values, `${name}${bytes ? ' (bytes)' : ''}: values`);
      t.equal(s.slice(got.end), rest, `${name}${bytes ? ' (bytes)' : ''}: what is left`);
    }
  }
  t.equal(read('<value><int>1</int></value><value><i4>2</i4></value>', true).i4, true, 'the type of the last one');
});

t.test('reads a run longer than its first buffer, and appends after values already read', async (t) => {
  const n = 5000;
  const s = Array.from({ length: n }, (_, k) => `<value><int>${k - 2500}</int></value>`).join('');
  for (const view of [null, asciiView(s)]) {
    const k = readIntRun(s, view, 0);
    t.equal(k, n);
    const out = appendRun(['before'], k);
    t.equal(out.length, n + 1);
    t.same([out[0], out[1], out[2500 + 1], out[n]], ['before', -2500, 0, n - 1 - 2500]);
  }
});
