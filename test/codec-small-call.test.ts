// lib/xmlrpc/small-document.ts (readSmallCall): the smallest methodCalls read from their bytes,
// against the strict reader alone (decode.ts's strictDocument). Whatever
// readSmallCall accepts, the strict reader must accept with the same value
// (-0 and 0 told apart); whatever it gives up on is the general decoder's.
// Fed: calls our encoder writes from random scalars, Python's layout, every
// byte of small calls replaced by each of a set of bytes in turn, every
// truncation, insertions, the decoder corpus, and documents that must fall back.

import t from 'tap';
import { isDeepStrictEqual } from 'node:util';
import { Fault } from '../lib/errors.js';
import { strictDocument } from '../lib/xmlrpc/decode.js';
import { dumps } from '../lib/xmlrpc/encode.js';
import { readSmallCall } from '../lib/xmlrpc/small-document.js';
import { documentText } from '../lib/xmlrpc/xml-text.js';
import { XmlRpcHandler } from '../lib/rpc/handler.js';
import { Request } from '../lib/server/request.js';
import type { MessageHead } from '../lib/http/parser.js';
import { WORKLOADS, requestBody } from '../bench/workloads.js';
import { MALFORMED, SAMPLES, differential, prng, show, smallScalar } from './xml-corpus.js';

type Strict = { ok: true; value: unknown } | { ok: false };

function strict(doc: Buffer): Strict {
  try {
    const { text, ascii } = documentText(doc);
    const read = strictDocument(text, ascii, 64, undefined);
    if (read instanceof Fault || read.methodName === null) return { ok: false };
    return { ok: true, value: read };
  } catch {
    return { ok: false };
  }
}

/** What went wrong with `doc`, or null; counts the documents readSmallCall took. */
function check(doc: Buffer, counts = { small: 0, all: 0 }): string | null {
  counts.all++;
  let small: unknown;
  try {
    small = readSmallCall(doc, undefined);
  } catch (err) {
    return `readSmallCall threw ${String(err)}`;
  }
  if (small === null) return null;
  counts.small++;
  const s = strict(doc);
  if (!s.ok) return 'readSmallCall accepted what the strict reader refuses';
  if (!isDeepStrictEqual(small, s.value)) return `different values: ${JSON.stringify(small)} against ${JSON.stringify(s.value)}`;
  return null;
}

const NAMES = ['add', 'x', 'system.listMethods', 'a.b.c', 'ns:m', 'a-b', 'a/b', '_under', 'M9'];

function randomCall(r: () => number): Buffer {
  const params = Array.from({ length: Math.floor(r() * 4) }, () => smallScalar(r));
  return Buffer.from(dumps(params, NAMES[Math.floor(r() * NAMES.length)]!));
}

/** A call in Python's xmlrpc.client layout (a line per element). */
function pythonCall(name: string, valuesXml: string[]): Buffer {
  const params = valuesXml.map((v) => `<param>\n<value>${v}</value>\n</param>\n`).join('');
  return Buffer.from(`<?xml version='1.0'?>\n<methodCall>\n<methodName>${name}</methodName>\n<params>\n${params}</params>\n</methodCall>\n`);
}

t.test('the calls our encoder writes for scalars are read, with the strict reader’s values', async (t) => {
  const r = prng(1616);
  const counts = { small: 0, all: 0 };
  for (let i = 0; i < 3000; i++) {
    const doc = randomCall(r);
    const problem = check(doc, counts);
    if (problem !== null) t.fail(`${problem}: ${show(doc)}`);
  }
  t.equal(counts.small, counts.all, 'every one of them is read here, none left to the general decoder');
  t.same(readSmallCall(requestBody(WORKLOADS[0]!), undefined), { methodName: 'add', params: [40, 2] }, "the bench's add(40, 2)");
});

t.test('Python’s layout, the declarations encoders write, and each scalar form', async (t) => {
  const docs: Buffer[] = [
    pythonCall('add', ['<int>40</int>', '<int>2</int>']),
    pythonCall('m', ['<i4>-7</i4>', '<boolean>0</boolean>', '<boolean>1</boolean>', '<string>s t</string>', 'untyped', '', '<string></string>']),
    pythonCall('m', []),
    Buffer.from('<methodCall><methodName>m</methodName></methodCall>'),
    Buffer.from('<?xml version="1.0" encoding="UTF-8"?><methodCall><methodName>m</methodName><params/></methodCall>'),
    Buffer.from('<?xml version="1.0" encoding="utf-8"?>\r\n<methodCall>\r\n<methodName>m</methodName>\r\n<params></params>\r\n</methodCall>\r\n'),
    Buffer.from(
      "<?xml version='1.0' encoding='UTF-8'?><methodCall><methodName>m</methodName><params><param><value><int>-0</int></value></param></params></methodCall>",
    ),
    Buffer.from('<methodCall><methodName>m</methodName><params><param><value><int>0000000042</int></value></param></params></methodCall>'),
  ];
  for (const doc of docs) {
    t.equal(check(doc), null, show(doc));
  }
  t.not(readSmallCall(docs[0]!, undefined), null, 'Python’s layout is read here');
  t.same(readSmallCall(docs[1]!, undefined)?.params, [-7, false, true, 's t', 'untyped', '', '']);
  t.equal(Object.is(readSmallCall(docs[6]!, undefined)?.params[0], 0), true, '"-0" is the integer 0, as the strict reader has it');
});

t.test('every byte of small calls replaced, every truncation, insertions: never a value the strict reader does not give', async (t) => {
  const seeds = [
    requestBody(WORKLOADS[0]!),
    pythonCall('m', ['<i4>-2147483648</i4>', '<boolean>1</boolean>', '<string>a b</string>', 'u']),
    Buffer.from('<?xml version="1.0" encoding="UTF-8"?><methodCall><methodName>a.b</methodName><params><param><value></value></param></params></methodCall>'),
  ];
  const counts = { small: 0, all: 0 };
  const corpus = [...SAMPLES, ...MALFORMED.map(([, doc]) => (typeof doc === 'string' ? Buffer.from(doc) : doc))];
  const failures = differential(
    seeds,
    randomCall,
    corpus,
    (doc) => check(doc, counts),
    (m) => t.fail(m),
  );
  t.equal(failures, 0, `${counts.all} documents, ${counts.small} read here`);
  t.ok(counts.small > 500, 'the mutants include many it reads');
});

t.test('what it leaves to the general decoder', async (t) => {
  const call = (value: string) => Buffer.from(`<methodCall><methodName>m</methodName><params><param><value>${value}</value></param></params></methodCall>`);
  const rows: Array<[string, Buffer]> = [
    ['an int past int32', call('<int>2147483648</int>')],
    ['an int below int32', call('<int>-2147483649</int>')],
    ['eleven digits', call('<int>00000000001</int>')],
    ['a signed int', call('<int>+1</int>')],
    ['white space around an int', call('<int> 1 </int>')],
    ['an i8', call('<i8>1</i8>')],
    ['a double', call('<double>1.5</double>')],
    ['nil', call('<nil/>')],
    ['an array', call('<array><data></data></array>')],
    ['a struct', call('<struct></struct>')],
    ['a reference', call('<string>a&amp;b</string>')],
    ['a character reference', call('<string>&#65;</string>')],
    ['a carriage return in text', call('<string>a\rb</string>')],
    ['a tab in text', call('<string>a\tb</string>')],
    ['non-ASCII text', Buffer.concat([call('<string>').subarray(0, -32), Buffer.from('é</string></value></param></params></methodCall>')])],
    ['CDATA', call('<string><![CDATA[x]]></string>')],
    ['a comment', Buffer.from('<!-- c --><methodCall><methodName>m</methodName></methodCall>')],
    ['white space before the root', Buffer.from(' <methodCall><methodName>m</methodName></methodCall>')],
    ['a BOM', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('<methodCall><methodName>m</methodName></methodCall>')])],
    ['another declaration', Buffer.from('<?xml version="1.0" encoding="ISO-8859-1"?><methodCall><methodName>m</methodName></methodCall>')],
    ['an empty method name', Buffer.from('<methodCall><methodName></methodName></methodCall>')],
    ['white space in the method name', Buffer.from('<methodCall><methodName> m </methodName></methodCall>')],
    ['a methodResponse', Buffer.from(dumps([1], { methodResponse: true }))],
    ['bytes after the root', Buffer.from('<methodCall><methodName>m</methodName></methodCall>x')],
    ['larger than 512 bytes', Buffer.from(dumps(['x'.repeat(600)], 'm'))],
  ];
  for (const [name, doc] of rows) t.equal(readSmallCall(doc, undefined), null, name);
  const add = requestBody(WORKLOADS[0]!);
  t.equal(readSmallCall(add, add.length - 1), null, 'a document over maxBytes: the general decoder refuses it');
  t.not(readSmallCall(add, add.length), null, 'one of exactly maxBytes is read');
});

t.test('a handler whose decode options the general decoder refuses does not skip it', async (t) => {
  const head = { method: 'POST', target: '/RPC2', versionMinor: 1, headers: [] } as unknown as MessageHead;
  class Adder extends XmlRpcHandler {
    override call(_method: string, params: unknown[]): unknown {
      return (params[0] as number) + (params[1] as number);
    }
  }
  const answer = (handler: XmlRpcHandler, body: Buffer) => {
    const request = new Request(head, undefined, undefined);
    request.body = body;
    const response = handler.handle(request) as { body: Buffer };
    return response.body.toString();
  };
  const add = requestBody(WORKLOADS[0]!);
  t.match(answer(new Adder(), add), '<int>42</int>');
  t.match(answer(new Adder({ maxBytes: 10 }), add), '<name>faultCode</name>', 'maxBytes still refuses it');
  t.match(answer(new Adder({ maxDepth: -1 }), add), '<name>faultCode</name>', 'a maxDepth the decoder refuses is still refused on every call');
});
