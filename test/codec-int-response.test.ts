// bufferDumps's int32 methodResponse (encode.ts, intResponse): byte for byte
// the general walk's (dumps, which never takes it), for int32s and for every
// value the walk must write itself.

import t from 'tap';
import { bufferDumps, dumps } from '../lib/xmlrpc/encode.js';
import { Double } from '../lib/xmlrpc/values.js';
import { prng } from './xml-corpus.js';

const encoded = (value: unknown) => Buffer.from(dumps([value], { methodResponse: true }));
const intResult = (value: unknown) => bufferDumps([value], { methodResponse: true });

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

t.test("what is not an int32 gets the walk's document, or its error", async (t) => {
  const outcome = (f: () => Buffer) => {
    try {
      return f().toString('latin1');
    } catch (err) {
      return `throws ${(err as Error).message}`;
    }
  };
  for (const v of [-0, 0.5, 2147483648, -2147483649, NaN, Infinity, '1', 1n, true, null, undefined, new Double(1), [1], { a: 1 }]) {
    t.equal(
      outcome(() => intResult(v)),
      outcome(() => encoded(v)),
      typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v as unknown as string),
    );
  }
});
