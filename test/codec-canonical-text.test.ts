// lib/xmlrpc/canonical-text.ts: text read by the fast path from an ASCII
// document's bytes. Text that holds an entity is gathered byte by byte into
// a scratch buffer (or, past its 16,384 bytes, a buffer of its own) and made
// one string; the fast path must read it as the strict reader does, or give
// up where the strict reader refuses. Random texts of every length around
// the scratch's bound, from an alphabet of entities, near misses, `]]>`,
// controls and line ends, in string values, untyped values and member names.

import t from 'tap';
import { isDeepStrictEqual } from 'node:util';
import { Fault } from '../lib/errors.js';
import { readCanonical } from '../lib/xmlrpc/canonical.js';
import { strictDocument } from '../lib/xmlrpc/decode.js';
import { documentText } from '../lib/xmlrpc/xml-text.js';
import { call, prng, outcome } from './xml-corpus.js';

/** What differs between the fast path and the strict reader on `doc` (ASCII bytes), or null; counts what the fast path took. */
function differs(doc: Buffer, taken: { n: number }): string | null {
  const { text, ascii } = documentText(doc);
  if (ascii === null) return 'not read as ASCII bytes';
  const fast = readCanonical(text, ascii, 64, false, true);
  const strict = outcome(() => {
    const read = strictDocument(text, null, 64, {});
    if (read instanceof Fault) throw read;
    return read;
  });
  if (fast === null) return null; // the strict reader decides
  taken.n++;
  if (!strict.ok) return `the fast path accepted what the strict reader refuses (${strict.code})`;
  return isDeepStrictEqual(fast, strict.value) ? null : 'the fast path and the strict reader give different values';
}

const PIECES = ['&lt;', '&gt;', '&amp;', '&apos;', '&quot;', 'a', 'Z', ' ', '9', ']', ']]', '>', '\t', '\n', '~', '"', "'"];
/** What the fast path must give up on (or the strict reader refuse): one in 80 pieces. */
const REFUSED = ['&amp', '&ap;', '&lt', '\r', '\u0001', ']]>'];

function randomText(next: () => number, pieces: number): string {
  let out = '';
  for (let k = 0; k < pieces; k++) {
    const from = next() < 1 / 80 ? REFUSED : PIECES;
    out += from[Math.floor(next() * from.length)] as string;
  }
  return out;
}

function inValues(text: string): string[] {
  return [
    `<value><string>${text}</string></value>`,
    `<value>${text}</value>`,
    `<value><array><data><value><string>${text}</string></value><value><string>x${text}</string></value></data></array></value>`,
    `<value><struct><member><name>${text}</name><value><string>${text}</string></value></member></struct></value>`,
  ];
}

t.test('reads text holding entities from the bytes as the strict reader does, whatever its length', async (t) => {
  const next = prng(0x7e47);
  const taken = { n: 0 };
  let n = 0;
  const texts: string[] = [];
  for (let k = 0; k < 1500; k++) texts.push(randomText(next, 1 + Math.floor(next() * 40)));
  // Around the scratch buffer's 16,384 bytes: an entity at its start, at its end, and past it.
  for (const length of [16_380, 16_383, 16_384, 16_385, 16_390, 40_000]) {
    const body = 'b'.repeat(length);
    texts.push(`&amp;${body}`, `${body}&lt;`, `${body.slice(6)}&quot;`, `&gt;${body}&apos;`, `${body}&amp;]]>`, `${body}&lt;\u0001`);
  }
  for (const text of texts) {
    for (const v of inValues(text)) {
      const doc = Buffer.from(call(v), 'latin1');
      n++;
      const problem = differs(doc, taken);
      if (problem !== null) t.fail(`${problem}: ${JSON.stringify(v.slice(0, 200))}`);
    }
  }
  t.ok(taken.n > n / 2, `the fast path took ${taken.n} of ${n} documents`);
});

t.test('reads every entity at every place of a text of 1 to 20 characters', async (t) => {
  const taken = { n: 0 };
  let n = 0;
  for (const entity of ['&lt;', '&gt;', '&amp;', '&apos;', '&quot;']) {
    for (let length = 0; length <= 20; length++) {
      for (let at = 0; at <= length; at++) {
        const plain = 'abcdefghijklmnopqrstu'.slice(0, length);
        for (const v of inValues(plain.slice(0, at) + entity + plain.slice(at))) {
          n++;
          const problem = differs(Buffer.from(call(v), 'latin1'), taken);
          if (problem !== null) t.fail(`${problem}: ${JSON.stringify(v)}`);
        }
      }
    }
  }
  t.equal(taken.n, n, `the fast path took all ${n} documents`);
});

/** `differs` for any document, ASCII or not: the fast path reads a non-ASCII one from its text. */
function differsAny(doc: Buffer, taken: { n: number }): string | null {
  const { text, ascii } = documentText(doc);
  const fast = readCanonical(text, ascii, 64, false, true);
  const strict = outcome(() => {
    const read = strictDocument(text, null, 64, {});
    if (read instanceof Fault) throw read;
    return read;
  });
  if (fast === null) return null;
  taken.n++;
  if (!strict.ok) return `the fast path accepted what the strict reader refuses (${strict.code})`;
  return isDeepStrictEqual(fast, strict.value) ? null : 'the fast path and the strict reader give different values';
}

// What the strict reader decides (the fast path must give up): character
// references (the largest, NUL, surrogates, CR), line ends, `]]>`, controls;
// and non-ASCII characters, which the fast path reads from the text.
const ODD = [
  '&#x10FFFF;',
  '&#0;',
  '&#xD800;',
  '&#xDFFF;&#xD800;',
  '&#65;',
  '&#x41;',
  '&#13;',
  '\r\n',
  '\r',
  ']]>',
  'é',
  '€',
  '😀',
  '&amp',
  '&#;',
  '\u0001',
  '\uFFFE',
];

t.test(
  'reads as the strict reader does an entity next to a character reference, a line end, ]]> or a non-ASCII character, on either side of the scratch buffer’s end',
  async (t) => {
    const taken = { n: 0 };
    let n = 0;
    for (const length of [16_383, 16_384, 16_385]) {
      // The odd piece where the text's 16,384th byte is, give or take a few: the entity before it shrank the text by 4.
      for (const shift of [-6, -3, -1, 0, 1, 2]) {
        for (const odd of [...ODD, '&lt;', '&apos;']) {
          const text = '&amp;' + 'b'.repeat(length + shift - 5) + odd + '&gt;c';
          for (const v of inValues(text)) {
            n++;
            const problem = differsAny(Buffer.from(call(v), 'utf8'), taken);
            if (problem !== null) t.fail(`${problem}: ${length} ${shift} ${JSON.stringify(odd)} in ${JSON.stringify(v.slice(0, 40))}`);
          }
        }
      }
    }
    const next = prng(0x0dd);
    for (let k = 0; k < 1500; k++) {
      let text = '';
      for (let p = 1 + Math.floor(next() * 30); p > 0; p--)
        text += next() < 0.1 ? (ODD[Math.floor(next() * ODD.length)] as string) : (PIECES[Math.floor(next() * PIECES.length)] as string);
      for (const v of inValues(text)) {
        n++;
        const problem = differsAny(Buffer.from(call(v), 'utf8'), taken);
        if (problem !== null) t.fail(`${problem}: ${JSON.stringify(v.slice(0, 200))}`);
      }
    }
    t.ok(taken.n > n / 4, `the fast path took ${taken.n} of ${n} documents`);
  },
);

t.test('a text read through the scratch buffer keeps its characters while later documents go through it', async (t) => {
  const kept: Array<[unknown, string]> = [];
  for (let k = 0; k < 64; k++) {
    const plain = String(k % 10).repeat(1 + ((k * 37) % 200));
    const { text, ascii } = documentText(Buffer.from(call(`<value><string>&lt;${plain}&amp;</string></value>`), 'latin1'));
    kept.push([readCanonical(text, ascii, 64, false, true)?.params[0], `<${plain}&`]);
  }
  for (const [got, want] of kept) t.equal(got, want);
});
