// Our encoder against the frozen reference (reference-encode.ts), for the encoder's differential tests.

import type { Test } from 'tap';
import { bufferDumps, dumps, encodeValue } from '../lib/xmlrpc/encode.js';
import { referenceBufferDumps, referenceDumps, referenceEncodeValue } from './reference-encode.js';

/** What a call gave: its bytes, or its error's class and message. */
export function outcome(fn: () => string | Buffer): string {
  try {
    const out = fn();
    return typeof out === 'string' ? `string ${out}` : `bytes ${out.toString('hex')}`;
  } catch (err) {
    return `${(err as Error).constructor.name}: ${(err as Error).message}`;
  }
}

/** Whether ours and the reference give the same bytes or error for `value` in four documents; reports the first difference. */
export function sameAsReference(t: Test, value: unknown, label: string): boolean {
  const cases: [string, () => string | Buffer, () => string | Buffer][] = [
    ['bufferDumps response', () => bufferDumps([value], { methodResponse: true }), () => referenceBufferDumps([value], { methodResponse: true })],
    ['dumps call', () => dumps([value, 1], 'm'), () => referenceDumps([value, 1], 'm')],
    [
      'bufferDumps call, allowNone false',
      () => bufferDumps([value], { methodName: 'm', allowNone: false }),
      () => referenceBufferDumps([value], { methodName: 'm', allowNone: false }),
    ],
    ['encodeValue, maxDepth 2', () => encodeValue(value, { maxDepth: 2 }), () => referenceEncodeValue(value, { maxDepth: 2 })],
  ];
  for (const [what, ours, reference] of cases) {
    const got = outcome(ours);
    const want = outcome(reference);
    if (got !== want) {
      t.equal(got, want, `${label}: ${what}`);
      return false;
    }
  }
  return true;
}
