// lib/xmlrpc/shapes.ts: the decoder's table of struct kinds. Its kinds come
// from the documents a peer sends, so what the table keeps must be bounded
// whatever they hold: at most 256 kinds of at most 128 names, and names no
// longer than 64 characters (a kind of longer ones is read the plain way,
// the same struct, and not kept). A flood of kinds of long names, the whole
// body limit each (8 MiB; a gzip body of a few KB decodes to that), kept
// about twice each name's size per kind: 256 of them, gigabytes of heap.

import t from 'tap';
import { spawnSync } from 'node:child_process';
import { isDeepStrictEqual } from 'node:util';
import { loads, strictDocument } from '../lib/xmlrpc/decode.js';
import { shapeOf } from '../lib/xmlrpc/shapes.js';
import { documentText } from '../lib/xmlrpc/xml-text.js';
import { call } from './xml-corpus.js';

/** A call whose one param is a struct of `names`, each an int of `value`. */
function structCall(names: readonly string[], value: number): string {
  return call(`<value><struct>${names.map((name) => `<member><name>${name}</name><value><int>${value}</int></value></member>`).join('')}</struct></value>`);
}

/** Own keys in order with their descriptors, and whether the prototype is null. */
function described(v: object): unknown {
  return {
    nullPrototype: Object.getPrototypeOf(v) === null,
    own: Reflect.ownKeys(v).map((k) => [k, Object.getOwnPropertyDescriptor(v, k)]),
  };
}

t.test('a kind with a name of up to 64 characters is kept; one longer is not, and reads as the strict reader reads it', async (t) => {
  for (const [length, kept] of [
    [64, true],
    [65, false],
    [100_000, false],
  ] as const) {
    const names = [`first${length}`, 'n'.repeat(length), 'last'];
    for (let i = 0; i < 4; i++) {
      const doc = structCall(names, i);
      const { text, ascii } = documentText(doc);
      const strict = strictDocument(text, ascii, 64, undefined) as { params: object[] };
      if (!isDeepStrictEqual(described(loads(doc).params[0] as object), described(strict.params[0] as object))) t.fail(`a name of ${length}: #${i} differs`);
    }
    t.equal(shapeOf(names[0]) !== null, kept, `a name of ${length} characters ${kept ? 'is' : 'is not'} kept`);
  }
});

t.test('a flood of kinds of long names leaves the heap as it found it', async (t) => {
  // In a process of its own, to read its heap: 256 kinds (the table's size) of a 64 KiB name, each
  // read twice (the second time in a row gives a kind its template). Kept, that was 32 MiB.
  const lib = new URL('../lib/xmlrpc/', import.meta.url).href;
  const script = `
    import { setFlagsFromString } from 'node:v8';
    import { runInNewContext } from 'node:vm';
    import { loads } from '${lib}decode.js';
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc');
    const doc = (k, v) => '<?xml version="1.0"?><methodCall><methodName>m</methodName><params><param><value><struct>' +
      '<member><name>k' + k + '</name><value><int>' + v + '</int></value></member>' +
      '<member><name>' + 'x'.repeat(64 * 1024) + k + '</name><value><int>' + v + '</int></value></member>' +
      '</struct></value></param></params></methodCall>';
    gc();
    const before = process.memoryUsage().heapUsed;
    for (let k = 0; k < 256; k++) for (let v = 0; v < 2; v++) loads(doc(k, v));
    gc();
    gc();
    process.stdout.write(String(process.memoryUsage().heapUsed - before));
  `;
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  t.equal(run.status, 0, run.stderr);
  const grown = Number(run.stdout);
  t.ok(grown < 8 * 2 ** 20, `the heap grew by ${(grown / 2 ** 20).toFixed(1)} MiB (under 8 MiB)`);
});
