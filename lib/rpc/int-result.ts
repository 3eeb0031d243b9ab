// The methodResponse of an int32 result (`add`'s), written straight into its
// Buffer: the encoder's own document for 0 with the digits put in its place,
// so the bytes are the encoder's (test/rpc-int-result.test.ts compares them).
// The general encoder's walk, sink and buffer cost about 3,000 instructions
// for this document; this is a copy, the digits and two constant pieces.

import { bufferDumps } from '../xmlrpc/encode.js';

const ZERO_DOC = bufferDumps([0], { methodResponse: true });
const DIGIT_AT = ZERO_DOC.indexOf('<int>0</int>') + 5;
const BEFORE = Uint8Array.prototype.slice.call(ZERO_DOC, 0, DIGIT_AT);
const AFTER = Uint8Array.prototype.slice.call(ZERO_DOC, DIGIT_AT + 1);

/** The document of `value` when it is an int32 (not -0, which the encoder writes as a double); null otherwise. */
export function intResult(value: unknown): Buffer | null {
  if (typeof value !== 'number' || (value | 0) !== value || Object.is(value, -0)) return null;
  let a = value < 0 ? -value : value;
  let digits = 1;
  for (let x = a; x >= 10; x = Math.floor(x / 10)) digits++;
  const sign = value < 0 ? 1 : 0;
  const out = Buffer.allocUnsafe(BEFORE.length + sign + digits + AFTER.length);
  out.set(BEFORE, 0);
  let p = BEFORE.length;
  if (sign === 1) out[p++] = 0x2d;
  for (let k = p + digits - 1; k >= p; k--) {
    out[k] = 0x30 + (a % 10);
    a = Math.floor(a / 10);
  }
  out.set(AFTER, p + digits);
  return out;
}
