// lib/xmlrpc/small-document.ts (readSmallResponse): the smallest
// methodResponses read from their bytes, against the strict reader alone
// (decode.ts's strictDocument). Whatever readSmallResponse reads, the strict
// reader must read with the same value (-0 and 0 told apart), with the
// client's options and with any others; whatever it gives up on (NOT_SMALL)
// is the general decoder's. Fed: responses our encoders write from random
// scalars, Python's layout, every byte of small responses replaced by each
// of a set of bytes in turn, every truncation, insertions, removals, random
// mutants, the decoder corpus, and documents that must fall back.

import t from 'tap';
import { isDeepStrictEqual } from 'node:util';
import { Fault } from '../lib/errors.js';
import { parseMethodResponse, strictDocument, type DecodeOptions } from '../lib/xmlrpc/decode.js';
import { bufferDumps, dumps } from '../lib/xmlrpc/encode.js';
import { NOT_SMALL, readSmallResponse as readSmall } from '../lib/xmlrpc/small-document.js';
import { documentText } from '../lib/xmlrpc/xml-text.js';
import { ACCEPTED_DOCS, MALFORMED, SAMPLES, differential, prng, show, smallScalar } from './xml-corpus.js';

type Strict = { ok: true; value: unknown } | { ok: false };

function strict(doc: Buffer, options: DecodeOptions): Strict {
  try {
    const { text, ascii } = documentText(doc);
    const read = strictDocument(text, ascii, options.maxDepth ?? 64, options);
    if (read instanceof Fault || read.methodName !== null) return { ok: false };
    return { ok: true, value: read.params[0] };
  } catch {
    return { ok: false };
  }
}

const readSmallResponse = (doc: Buffer) => readSmall(doc, undefined);

/** The client's options (Transport's defaults), and others that must not change what is read here. */
const OPTIONS: DecodeOptions[] = [{ maxDepth: 64, wrapDoubles: false }, { maxDepth: 0, wrapDoubles: true }, { allowNone: false }];

/** What went wrong with `doc`, or null; counts the documents readSmallResponse took. */
function check(doc: Buffer, counts = { small: 0, all: 0 }): string | null {
  counts.all++;
  let small: unknown;
  try {
    small = readSmallResponse(doc);
  } catch (err) {
    return `readSmallResponse threw ${String(err)}`;
  }
  if (small === NOT_SMALL) return null;
  counts.small++;
  for (const options of OPTIONS) {
    const s = strict(doc, options);
    if (!s.ok) return `readSmallResponse read what the strict reader refuses (${JSON.stringify(options)})`;
    if (!isDeepStrictEqual(small, s.value)) return `different values: ${JSON.stringify(small)} against ${JSON.stringify(s.value)}`;
  }
  return null;
}

function randomResponse(r: () => number): Buffer {
  const params = [smallScalar(r)];
  return r() < 0.5 ? bufferDumps(params, { methodResponse: true }) : Buffer.from(dumps(params, { methodResponse: true }));
}

/** A response in Python's xmlrpc.client layout (a line per element). */
function pythonResponse(valueXml: string): Buffer {
  return Buffer.from(`<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n<value>${valueXml}</value>\n</param>\n</params>\n</methodResponse>\n`);
}

t.test('the responses our encoders write for scalars are read, with the general decoder’s values', async (t) => {
  const r = prng(1616);
  const counts = { small: 0, all: 0 };
  for (let i = 0; i < 3000; i++) {
    const doc = randomResponse(r);
    const problem = check(doc, counts);
    if (problem !== null) t.fail(`${problem}: ${show(doc)}`);
  }
  t.equal(counts.small, counts.all, 'every one of them is read here, none left to the general decoder');
  t.equal(readSmallResponse(bufferDumps([42], { methodResponse: true })), 42, "the server's answer to add(40, 2)");
});

t.test('Python’s layout, the declarations encoders write, and each scalar form', async (t) => {
  const docs: [Buffer, unknown][] = [
    [pythonResponse('<int>42</int>'), 42],
    [pythonResponse('<i4>-7</i4>'), -7],
    [pythonResponse('<boolean>0</boolean>'), false],
    [pythonResponse('<boolean>1</boolean>'), true],
    [pythonResponse('<string>s t</string>'), 's t'],
    [pythonResponse('<string></string>'), ''],
    [pythonResponse('untyped'), 'untyped'],
    [pythonResponse(''), ''],
    [Buffer.from('<methodResponse><params><param><value><int>1</int></value></param></params></methodResponse>'), 1],
    [Buffer.from('<?xml version="1.0" encoding="UTF-8"?><methodResponse><params><param><value><int>2</int></value></param></params></methodResponse>'), 2],
    [
      Buffer.from(
        '<?xml version="1.0" encoding="utf-8"?>\r\n<methodResponse>\r\n<params>\r\n<param>\r\n<value><int>3</int></value>\r\n</param>\r\n</params>\r\n</methodResponse>\r\n',
      ),
      3,
    ],
    [Buffer.from("<?xml version='1.0' encoding='UTF-8'?><methodResponse><params><param><value><int>-0</int></value></param></params></methodResponse>"), 0],
    [Buffer.from('<methodResponse><params><param><value><int>0000000042</int></value></param></params></methodResponse>'), 42],
  ];
  for (const [doc, value] of docs) {
    t.equal(check(doc), null, show(doc));
    t.equal(readSmallResponse(doc), value, `read here: ${show(doc)}`);
  }
  t.equal(Object.is(readSmallResponse(docs[11]![0]), 0), true, '"-0" is the integer 0, as the general decoder has it');
});

t.test('what it leaves to the general decoder: faults, other types, anything not written plainly', async (t) => {
  const docs = [
    Buffer.from(dumps(new Fault(4, 'Too many parameters'))),
    Buffer.from(dumps([1.5], { methodResponse: true })),
    Buffer.from(dumps([[1, 2]], { methodResponse: true })),
    Buffer.from(dumps([{ a: 1 }], { methodResponse: true })),
    Buffer.from(dumps([null], { methodResponse: true })),
    Buffer.from(dumps(['a < b & c'], { methodResponse: true })),
    Buffer.from(dumps(['é'], { methodResponse: true })),
    Buffer.from(dumps(['line\nbreak'], { methodResponse: true })),
    Buffer.from(dumps([2 ** 31], { methodResponse: true })),
    pythonResponse('<int> 5 </int>'),
    pythonResponse('<int>+5</int>'),
    pythonResponse('<int>2147483648</int>'),
    pythonResponse('<int>00000000042</int>'),
    pythonResponse('<boolean>true</boolean>'),
    Buffer.from('\ufeff<methodResponse><params><param><value><int>1</int></value></param></params></methodResponse>'),
    Buffer.from(' <methodResponse><params><param><value><int>1</int></value></param></params></methodResponse>'),
    Buffer.from('<methodResponse><params><param><value><int>1</int></value></param></params></methodResponse><!-- c -->'),
    Buffer.from('<methodResponse><params><param><value><int>1</int></value></param><param><value><int>2</int></value></param></params></methodResponse>'),
    Buffer.from(`<methodResponse><params><param><value><string>${'x'.repeat(600)}</string></value></param></params></methodResponse>`),
  ];
  for (const doc of docs) t.equal(readSmallResponse(doc), NOT_SMALL, show(doc));
  t.throws(() => parseMethodResponse(docs[0]!), Fault, 'parseMethodResponse still throws a fault as the server’s Fault');
  t.equal(parseMethodResponse(docs[1]!), 1.5, 'the general decoder reads the others');
  t.equal(readSmall(bufferDumps([7], { methodResponse: true }), 10), NOT_SMALL, 'a document over maxBytes is left to the general decoder, which refuses it');
});

t.test('every byte of small responses replaced, every truncation, insertions: never a value the general decoder does not give', async (t) => {
  const seeds = [
    bufferDumps([42], { methodResponse: true }),
    pythonResponse('<i4>-2147483648</i4>'),
    pythonResponse('<boolean>1</boolean>'),
    Buffer.from('<?xml version="1.0" encoding="UTF-8"?><methodResponse><params><param><value><string>a b</string></value></param></params></methodResponse>'),
    Buffer.from('<methodResponse><params><param><value>u</value></param></params></methodResponse>'),
  ];
  const counts = { small: 0, all: 0 };
  const corpus = [...SAMPLES, ...MALFORMED.map(([, doc]) => doc), ...ACCEPTED_DOCS.map(([, doc]) => doc)].map((doc) =>
    typeof doc === 'string' ? Buffer.from(doc) : doc,
  );
  const failures = differential(
    seeds,
    randomResponse,
    corpus,
    (doc) => check(doc, counts),
    (m) => t.fail(m),
  );
  t.equal(failures, 0, `${counts.all} documents, ${counts.small} read here`);
  t.ok(counts.small > 300, 'the mutants include many it reads');
});
