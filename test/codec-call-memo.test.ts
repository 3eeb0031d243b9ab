// lib/xmlrpc/small-document.ts's call memo: a call that repeats the last one
// read element by element, its values apart, is read through the memo (one
// comparison per run of text between values). Whatever readSmallCall gives
// with the memo primed by a call, it must give the same as the plain reader
// (readSmallCallPlain) for the same bytes, and what that takes the strict
// reader takes too (test/codec-small-call.test.ts). Fed: every one-byte edit
// of calls that differ from the primed one in their values only, calls of
// random values in the primed layout, random mutations.

import t from 'tap';
import { isDeepStrictEqual } from 'node:util';
import { Fault } from '../lib/errors.js';
import { strictDocument } from '../lib/xmlrpc/decode.js';
import { dumps } from '../lib/xmlrpc/encode.js';
import { callMemoReads, readSmallCall, readSmallCallPlain } from '../lib/xmlrpc/small-document.js';
import { documentText } from '../lib/xmlrpc/xml-text.js';
import { WORKLOADS, requestBody } from '../bench/workloads.js';
import { byteEdits, mutate, prng, show, smallScalar } from './xml-corpus.js';

function strictAccepts(doc: Buffer, value: unknown): boolean {
  try {
    const { text, ascii } = documentText(doc);
    const read = strictDocument(text, ascii, 64, undefined);
    return !(read instanceof Fault) && read.methodName !== null && isDeepStrictEqual(read, value);
  } catch {
    return false;
  }
}

/** What went wrong reading `doc` with the memo primed by `primer`, or null. */
function check(primer: Buffer, doc: Buffer): string | null {
  if (readSmallCall(primer, undefined) === null) return 'the primer is not a small call';
  let got: unknown;
  try {
    got = readSmallCall(doc, undefined);
  } catch (err) {
    return `readSmallCall threw ${String(err)}`;
  }
  const want = readSmallCallPlain(doc, undefined);
  if (!isDeepStrictEqual(got, want)) return `memo ${JSON.stringify(got)}, plain ${JSON.stringify(want)}`;
  if (got !== null && !strictAccepts(doc, got)) return 'accepted what the strict reader does not give';
  return null;
}

/** A call in Python's xmlrpc.client layout (a line per element). */
function pythonCall(name: string, valuesXml: string[]): Buffer {
  const params = valuesXml.map((v) => `<param>\n<value>${v}</value>\n</param>\n`).join('');
  return Buffer.from(`<?xml version='1.0'?>\n<methodCall>\n<methodName>${name}</methodName>\n<params>\n${params}</params>\n</methodCall>\n`);
}

const PRIMERS = [
  requestBody(WORKLOADS[0]!),
  pythonCall('m', ['<i4>-7</i4>', '<boolean>0</boolean>', '<string>s t</string>', 'untyped', '', '<string></string>']),
  Buffer.from('<?xml version="1.0" encoding="UTF-8"?><methodCall><methodName>a.b</methodName><params><param><value></value></param></params></methodCall>'),
  Buffer.from('<methodCall><methodName>m</methodName></methodCall>'),
  Buffer.from(dumps([2147483647, -2147483648, true, 'x'.repeat(40)], 'big')),
];

/** The primer's layout with other values: the same kinds, in the same places. */
function sibling(primer: Buffer, r: () => number): Buffer {
  const text = primer.toString('latin1');
  return Buffer.from(
    text
      .replace(/(<(?:int|i4)>)-?\d+/g, (_, tag: string) => tag + String(Math.floor((r() - 0.5) * 2 ** 32) | 0))
      .replace(/(<boolean>)[01]/g, (_, tag: string) => tag + (r() < 0.5 ? '1' : '0'))
      .replace(/(<string>)[^<]*/g, (_, tag: string) => tag + String(smallScalar(r))),
    'latin1',
  );
}

t.test('calls in the primed layout with other values are read through the memo, as the plain reader reads them', async (t) => {
  const r = prng(5151);
  let failures = 0;
  const before = callMemoReads;
  for (const primer of PRIMERS) {
    for (let i = 0; i < 300; i++) {
      const doc = sibling(primer, r);
      const problem = check(primer, doc);
      if (problem !== null && failures++ < 10) t.fail(`${problem}: ${show(doc)}`);
    }
  }
  t.equal(failures, 0);
  t.ok(callMemoReads - before >= PRIMERS.length * 300, 'each of them through the memo');
});

t.test('every one-byte edit of calls in the primed layout: the plain reader’s answer, through the memo or not', async (t) => {
  const r = prng(6161);
  let failures = 0;
  let all = 0;
  const before = callMemoReads;
  for (const primer of PRIMERS) {
    for (const doc of [primer, sibling(primer, r), sibling(primer, r)]) {
      for (const edit of byteEdits(doc)) {
        all++;
        const problem = check(primer, edit);
        if (problem !== null && failures++ < 10) t.fail(`${problem}: primed by ${show(primer)}, read ${show(edit)}`);
      }
    }
  }
  t.equal(failures, 0, `${all} documents`);
  t.ok(callMemoReads - before > 1000, `${callMemoReads - before} of them read through the memo`);
});

t.test('random mutations of calls in the primed layout, and calls of other layouts', async (t) => {
  const r = prng(7171);
  let failures = 0;
  for (let i = 0; i < 6000; i++) {
    const primer = PRIMERS[Math.floor(r() * PRIMERS.length)]!;
    const doc =
      i % 3 === 0
        ? Buffer.from(
            dumps(
              Array.from({ length: Math.floor(r() * 4) }, () => smallScalar(r)),
              'add',
            ),
          )
        : mutate(sibling(primer, r), r);
    const problem = check(primer, doc);
    if (problem !== null && failures++ < 10) t.fail(`${problem}: primed by ${show(primer)}, read ${show(doc)}`);
  }
  t.equal(failures, 0);
});

t.test('the memo does not outlive maxBytes', async (t) => {
  const add = requestBody(WORKLOADS[0]!);
  t.not(readSmallCall(add, undefined), null);
  t.equal(readSmallCall(add, add.length - 1), null, 'a document over maxBytes is still the general decoder’s to refuse');
});
