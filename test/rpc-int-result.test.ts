// lib/rpc/int-result.ts: an int32 result's methodResponse, byte for byte the
// encoder's, and null for every value the general encoder must write.

import t from 'tap';
import { bufferDumps } from '../lib/xmlrpc/encode.js';
import { intResult } from '../lib/rpc/int-result.js';
import { Double } from '../lib/xmlrpc/values.js';
import { prng } from './xml-corpus.js';

const encoded = (value: unknown) => bufferDumps([value], { methodResponse: true });

t.test('the same bytes as the encoder for int32 values', async (t) => {
  const edges = [0, 1, -1, 9, 10, -9, -10, 99, 100, 42, 2147483647, -2147483648, 1e9, -1e9, 999999999, 1000000000, -2147483647];
  const r = prng(42);
  const values = [...edges, ...Array.from({ length: 20000 }, () => Math.floor((r() - 0.5) * 2 ** 32) | 0)];
  for (let d = 0, p = 1; d < 10; d++, p *= 10) values.push(p, p - 1, -p, 1 - p);
  let different = 0;
  for (const v of values) {
    const mine = intResult(v);
    if (mine === null || !mine.equals(encoded(v))) {
      if (different++ < 10) t.fail(`${v}: ${mine?.toString()} against ${encoded(v).toString()}`);
    }
  }
  t.equal(different, 0, `${values.length} ints`);
});

t.test('null for what is not an int32', async (t) => {
  for (const v of [-0, 0.5, 2147483648, -2147483649, NaN, Infinity, '1', 1n, true, null, undefined, new Double(1), [1], { a: 1 }]) {
    t.equal(intResult(v), null, typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v as unknown as string));
  }
});
