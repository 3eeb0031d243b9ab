// lib/xmlrpc/base64-cut.ts: a large document's long base64 contents decoded
// from its bytes and left out of its text. Whatever `loads` answers with the
// cut, the strict reader over the whole text must answer the same (the same
// value, Buffers compared byte for byte, or the same error code). Fed: large
// documents our encoder writes with base64 values around the cut's sizes,
// then the same with one edit in or next to a base64 content (a byte out of
// the alphabet, `=` inside, white space, non-zero trailing bits, a lost
// character), and random mutations anywhere.

import t from 'tap';
import { isDeepStrictEqual } from 'node:util';
import { DecodeError, Fault } from '../lib/errors.js';
import { CUT_DOCUMENT, CUT_RUN, cutBase64, decodeCanonical } from '../lib/xmlrpc/base64-cut.js';
import { loads, strictDocument } from '../lib/xmlrpc/decode.js';
import { dumps } from '../lib/xmlrpc/encode.js';
import { documentText } from '../lib/xmlrpc/xml-text.js';
import { mutate, prng } from './xml-corpus.js';

type Outcome = { ok: true; value: unknown } | { ok: false; code: string };

function outcome(fn: () => unknown): Outcome {
  try {
    return { ok: true, value: fn() };
  } catch (err) {
    if (err instanceof DecodeError) return { ok: false, code: err.code };
    if (err instanceof Fault) return { ok: false, code: `fault ${err.faultCode}` };
    return { ok: false, code: `other: ${String(err)}` };
  }
}

function strict(doc: Buffer): Outcome {
  return outcome(() => {
    const { text, ascii } = documentText(doc);
    const read = strictDocument(text, ascii, 64, undefined);
    if (read instanceof Fault) throw read;
    return read;
  });
}

/** What differs between `loads` and the strict reader on `doc`, or null. */
function differs(doc: Buffer): string | null {
  const l = outcome(() => loads(doc));
  const s = strict(doc);
  if (l.ok !== s.ok) return `loads ${l.ok ? 'accepts' : `refuses (${l.code})`}, the strict reader ${s.ok ? 'accepts' : `refuses (${s.code})`}`;
  if (!l.ok && !s.ok && l.code !== s.code) return `loads refuses with ${l.code}, the strict reader with ${s.code}`;
  if (l.ok && s.ok && !isDeepStrictEqual(l.value, s.value)) return 'loads and the strict reader give different values';
  return null;
}

function bytes(r: () => number, n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(r() * 256);
  return b;
}

/** A value's byte length whose base64 is about the cut's threshold (either side), or larger. */
function size(r: () => number): number {
  const edge = (CUT_RUN / 4) * 3;
  return r() < 0.7 ? edge - 4 + Math.floor(r() * 8) : edge + Math.floor(r() * 200_000);
}

/** A call of at least CUT_DOCUMENT bytes with a few base64 values, in params, arrays and structs. */
function bigCall(r: () => number): Buffer {
  const params: unknown[] = [];
  for (let n = 1 + Math.floor(r() * 3); n > 0; n--) {
    const v = bytes(r, size(r));
    const k = Math.floor(r() * 3);
    params.push(k === 0 ? v : k === 1 ? [1, v, 'x'] : { a: v, b: 2 });
  }
  params.push('p'.repeat(CUT_DOCUMENT)); // large whatever the values
  return Buffer.from(dumps(params, r() < 0.5 ? 'echo' : 'ns.m'));
}

/** Where base64 contents start and end in `doc`. */
function runs(doc: Buffer): [number, number][] {
  const out: [number, number][] = [];
  for (let i = doc.indexOf('<base64>'); i >= 0; i = doc.indexOf('<base64>', i + 1)) out.push([i + 8, doc.indexOf('<', i + 8)]);
  return out;
}

const EDITS = ['!', '=', '==', ' ', '\n', '\r\n', '-', '_', '\u00e9', '<', '&amp;', 'A', ''];

/** `doc` with one edit in or right next to one of its base64 contents. */
function editRun(doc: Buffer, r: () => number): Buffer {
  const all = runs(doc);
  const [start, end] = all[Math.floor(r() * all.length)] as [number, number];
  const where = Math.floor(r() * 4);
  if (where === 0) {
    // The last characters: padding and trailing bits.
    const at = end - 1 - Math.floor(r() * 3);
    const copy = Buffer.from(doc);
    copy[at] = 'AQgw='.charCodeAt(Math.floor(r() * 5));
    return copy;
  }
  const at = where === 1 ? start : where === 2 ? end : start + Math.floor(r() * (end - start));
  const cut = r() < 0.5 ? 1 : 0; // replace a character, or insert
  return Buffer.concat([doc.subarray(0, at), Buffer.from(EDITS[Math.floor(r() * EDITS.length)] as string, 'utf8'), doc.subarray(at + cut)]);
}

t.test('decodeCanonical reads canonical base64 as Buffer.from does, and nothing else', async (t) => {
  const r = prng(4);
  for (let k = 0; k < 300; k++) {
    const value = bytes(r, Math.floor(r() * 200_000 * r()));
    const text = Buffer.from(value.toString('base64'));
    const read = decodeCanonical(text, 0, text.length);
    if (value.length === 0) t.equal(read, null, 'empty');
    else if (!(read !== null && read.equals(value))) t.fail(`${value.length} bytes read back`);
  }
  const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=';
  for (let k = 0; k < 3000; k++) {
    let s = '';
    for (let n = 4 * (1 + Math.floor(r() * 3)) + (r() < 0.2 ? Math.floor(r() * 4) : 0); n > 0; n--) s += ALPHABET[Math.floor(r() * 65)];
    const read = decodeCanonical(Buffer.from(s), 0, s.length);
    const canonical = s.length % 4 === 0 && Buffer.from(s, 'base64').toString('base64') === s;
    if (canonical ? !(read !== null && read.equals(Buffer.from(s, 'base64'))) : read !== null) t.fail(`${JSON.stringify(s)}: ${String(read?.toString('hex'))}`);
  }
  for (const s of ['QQ==', 'QR==', 'QUE=', 'QUF=', 'QUFB', '====', 'Q===', 'QQ=A', 'QQ', 'QUFBQ', ' QUF', 'QU F']) {
    const read = decodeCanonical(Buffer.from(s), 0, s.length);
    const canonical = s.length % 4 === 0 && Buffer.from(s, 'base64').toString('base64') === s;
    t.equal(read === null ? null : read.toString('hex'), canonical ? Buffer.from(s, 'base64').toString('hex') : null, s);
  }
});

t.test('cuts the long base64 of large documents our encoder writes, with the strict reader values', async (t) => {
  const r = prng(16);
  let cut = 0;
  for (let k = 0; k < 40; k++) {
    const doc = bigCall(r);
    if (cutBase64(doc) !== null) cut++;
    const problem = differs(doc);
    if (problem !== null) t.fail(`${problem} (document ${k})`);
  }
  t.ok(cut > 20, `${cut} of 40 documents were cut`);
});

t.test('answers as the strict reader does after an edit in or next to a base64 content', async (t) => {
  const r = prng(23);
  for (let k = 0; k < 150; k++) {
    const doc = editRun(bigCall(r), r);
    const problem = differs(doc);
    if (problem !== null) t.fail(`${problem} (document ${k})`);
  }
});

t.test('answers as the strict reader does after random mutations', async (t) => {
  const r = prng(42);
  for (let k = 0; k < 60; k++) {
    const doc = mutate(bigCall(r), r);
    const problem = differs(doc);
    if (problem !== null) t.fail(`${problem} (document ${k})`);
  }
});

t.test('leaves whole what it is not made for', async (t) => {
  const value = Buffer.alloc(CUT_RUN, 7);
  const padding = 'p'.repeat(CUT_DOCUMENT);
  const plain = dumps([value, padding], 'echo');
  t.not(cutBase64(Buffer.from(plain)), null, 'a canonical call');
  t.equal(cutBase64(Buffer.from(dumps([Buffer.alloc(100), padding], 'echo'))), null, 'a short base64');
  t.equal(cutBase64(Buffer.from(dumps([value], 'echo'))), null, 'a small document');
  t.equal(cutBase64(Buffer.from(plain.replace('<?xml version="1.0"?>', '<?xml version="1.0" encoding="ISO-8859-1"?>'))), null, 'another declaration');
  t.equal(cutBase64(Buffer.from(plain.replace(padding, padding + '\u00e9'))), null, 'not ASCII');
  const b64 = value.toString('base64');
  t.equal(cutBase64(Buffer.from(plain.replace(b64, b64.slice(0, 76) + '\n' + b64.slice(76)))), null, 'white space in the base64');
  // In a comment, the cut is made but the fast path gives up: the whole text is read, and the value is the comment's neighbour's.
  const commented = Buffer.from(plain.replace('<params>', `<params><!--<base64>${b64}</base64>-->`));
  t.equal(differs(commented), null, 'base64 in a comment');
  t.same(loads(commented).params[0], value);
});
