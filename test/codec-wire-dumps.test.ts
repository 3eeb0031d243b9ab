// wireDumps (encode.ts): what a server sends. A short ASCII document comes
// back as text whose characters are, one for one, the bytes of bufferDumps'
// document; anything else as bufferDumps' Buffer itself. Compared with
// bufferDumps (the general path) on random values around every boundary the
// choice has: ASCII or not (one character is enough), entities, the sink's
// flush size, int results, faults, errors.

import t, { type Test } from 'tap';
import { Fault } from '../lib/errors.js';
import { bufferDumps, dumps, wireDumps, type DumpsOptions } from '../lib/xmlrpc/encode.js';
import { Double } from '../lib/xmlrpc/values.js';
import { prng } from './xml-corpus.js';

const PIECES = ['a', 'Z', '0', ' ', '&', '<', '>', '\r', '\n', '\t', ']]>', '"', 'é', 'ÿ', '\u0080', '\u007f', '\u0100', '中', '😀', '\uD800'];

function randomString(r: () => number, nonAscii: number): string {
  const length = r() < 0.2 ? Math.floor(r() * 3) : Math.floor(r() * 60);
  let s = '';
  for (let i = 0; i < length; i++) {
    if (r() < nonAscii) s += PIECES[Math.floor(r() * PIECES.length)]!;
    else s += String.fromCharCode(0x20 + Math.floor(r() * 95));
  }
  return s;
}

function randomValue(r: () => number, depth: number, nonAscii: number): unknown {
  switch (Math.floor(r() * (depth > 2 ? 6 : 8))) {
    case 0:
      return Math.floor((r() - 0.5) * 2 ** Math.floor(r() * 33));
    case 1:
      return r() < 0.5 ? (r() - 0.5) * 1e6 : new Double(Math.floor(r() * 100));
    case 2:
    case 3:
      return randomString(r, nonAscii);
    case 4:
      return r() < 0.5;
    case 5:
      return r() < 0.9 ? null : Symbol('not encodable');
    case 6: {
      const n = Math.floor(r() * (r() < 0.1 ? 400 : 10));
      return Array.from({ length: n }, () => randomValue(r, depth + 1, nonAscii));
    }
    default: {
      const o: Record<string, unknown> = {};
      const n = Math.floor(r() * 12);
      for (let i = 0; i < n; i++) o[r() < 0.05 ? randomString(r, 0.3) : `m${i}`] = randomValue(r, depth + 1, nonAscii);
      return o;
    }
  }
}

/** What a call gave, as bytes (a string taken one byte per character) or its error. */
function outcome(f: () => string | Buffer): { kind: string; text: string } {
  try {
    const doc = f();
    if (typeof doc === 'string') return { kind: 'string', text: Buffer.from(doc, 'latin1').toString('hex') };
    return { kind: 'bytes', text: doc.toString('hex') };
  } catch (err) {
    return { kind: 'error', text: `${(err as Error).constructor.name}: ${(err as Error).message}` };
  }
}

function check(t: Test, params: unknown[] | Fault, options: DumpsOptions | string | undefined, label: string, textWhenAscii = true): boolean {
  const wire = outcome(() => wireDumps(params, options));
  const bytes = outcome(() => bufferDumps(params, options));
  // The general walk's text, for int results too (which bufferDumps writes by a fast path of its own).
  const walked = outcome(() => Buffer.from(dumps(params, options), 'utf8'));
  if (wire.text !== bytes.text || wire.text !== walked.text) {
    t.equal(wire.text, bytes.text, `${label}: the same bytes or error as bufferDumps`);
    t.equal(wire.text, walked.text, `${label}: the same bytes or error as dumps`);
    return false;
  }
  if (wire.kind === 'string') {
    const doc = wireDumps(params, options) as string;
    if (!/^[\x00-\x7f]*$/.test(doc)) return (t.fail(`${label}: a string with a character above U+007F`), false);
    if (doc.length >= 8192) return (t.fail(`${label}: a string of ${doc.length} characters, past the flush size`), false);
  } else if (textWhenAscii && wire.kind === 'bytes' && bytes.text.length / 2 < 8000 && /^(?:[0-7][0-9a-f])*$/.test(bytes.text)) {
    // A short ASCII document is text; else the server would pay for a Buffer.
    return (t.fail(`${label}: a short ASCII document given as bytes`), false);
  }
  return true;
}

t.test('random results: the same bytes as bufferDumps, as text exactly when short and ASCII', async (t) => {
  const r = prng(616);
  const kinds: Record<string, number> = { string: 0, bytes: 0, error: 0 };
  let differ = 0;
  for (let i = 0; i < 6000 && differ < 5; i++) {
    const nonAscii = [0, 0, 0.002, 0.05, 0.3][i % 5]!;
    const value = randomValue(r, 0, nonAscii);
    const options: DumpsOptions | string = i % 7 === 0 ? 'echo' : i % 11 === 0 ? { methodResponse: true, allowNone: false } : { methodResponse: true };
    const params = typeof options === 'string' ? [value, 1] : [value];
    if (!check(t, params, options, `value #${i}`)) differ++;
    kinds[outcome(() => wireDumps(params, options)).kind]!++;
  }
  t.equal(differ, 0);
  t.ok(kinds['string']! > 1000 && kinds['bytes']! > 200 && kinds['error']! > 50, `every outcome met: ${JSON.stringify(kinds)}`);
});

t.test('documents on either side of the flush size, ASCII or with one character that is not', async (t) => {
  let differ = 0;
  for (let n = 8100; n < 8260 && differ < 5; n++) {
    for (const odd of ['', 'é', '\u0080', '中', '&']) {
      const text = 'x'.repeat(n - odd.length - 100) + odd;
      if (!check(t, [text], { methodResponse: true }, `${n} characters with ${JSON.stringify(odd)}`)) differ++;
    }
  }
  t.equal(differ, 0);
});

t.test('int results, faults and errors are what bufferDumps gives', async (t) => {
  const rows: Array<[string, unknown[] | Fault, DumpsOptions | string | undefined]> = [
    ['an int result', [42], { methodResponse: true }],
    ['a negative int result', [-2147483648], { methodResponse: true }],
    ['-0', [-0], { methodResponse: true }],
    ['an int result past maxDepth 0', [7], { methodResponse: true, maxDepth: 0 }],
    ['a bad maxDepth', [7], { methodResponse: true, maxDepth: -1 }],
    ['a fault', new Fault(4, 'too many <params>'), undefined],
    ['a fault with a non-ASCII string', new Fault(4, 'trop de paramètres'), undefined],
    ['two params in a response', [1, 2], { methodResponse: true }],
    ['a call', [1, 'two'], 'm'],
    ['a call named in non-ASCII', [1], 'méthode'],
    ['no options', [1], undefined],
    ['an unencodable result', [Symbol('s')], { methodResponse: true }],
    ['a lone surrogate', ['\uD800'], { methodResponse: true }],
  ];
  for (const [name, params, options] of rows) t.ok(check(t, params, options, name), name);
});

t.test('a document written inside another (by a getter) leaves the outer one right', async (t) => {
  for (const inner of ['ascii', 'é']) {
    for (const outer of ['ascii', 'ü']) {
      const value = {
        a: outer,
        get b() {
          return String(wireDumps([inner], { methodResponse: true }).length);
        },
        c: 'tail',
      };
      // The inner document's non-ASCII text may send the outer one as bytes: right, if not the cheapest.
      t.ok(check(t, [value], { methodResponse: true }, `${outer} around ${inner}`, false));
    }
  }
});
