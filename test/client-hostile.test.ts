// The client against a hostile server: a raw node:net peer (scriptedServer)
// that answers with what no honest server sends. Every case must end in one
// typed error (lib/errors.ts) within its limit: never a hang, a crash, a
// RangeError from a deep stack, or memory that grows with what the peer
// sends. The cases already covered elsewhere are not repeated here: a
// truncated body, a malformed head, maxResponseBytes raw, chunked and after
// gunzip (the gzip bomb), a body that is not XML, HTTP/1.0 read until close,
// a silent server (client-transport.test.ts); stray answers
// (client-stray-response.test.ts); maxDepth (client-transport.test.ts).

import t from 'tap';
import { Transport } from '../lib/client/transport.js';
import { ServerProxy } from '../lib/client/proxy.js';
import { dumps } from '../lib/xmlrpc/encode.js';
import { DecodeError, Fault, HttpParseError, ProtocolError, ResponseError, TransportError, TransportErrorCode } from '../lib/errors.js';
import { ManualClock, failure, httpResponse, pollUntil, scriptedServer, xmlResult } from './support.js';

const XML_HEAD = '<?xml version="1.0"?>';
const ok = (xml: string): string => `HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: ${Buffer.byteLength(xml)}\r\n\r\n${xml}`;

/**
 * Raw responses the HTTP layer must refuse, each with the parser's code it gives. (Content-Length
 * with chunked is read by its chunks and the connection dropped, RFC 9112 §6.3: see
 * http-parser-responses.test.ts and the Perl and C interop tests.)
 */
// prettier-ignore
const MALFORMED: { name: string; raw: string | Buffer; code: string }[] = [
  { name: 'an endless header line (1 MiB, no LF)', raw: `HTTP/1.1 200 OK\r\nX-Long: ${'a'.repeat(1 << 20)}`, code: 'HPE_HEADERS_TOO_LARGE' },
  { name: 'an endless status line', raw: `HTTP/1.1 200 ${'O'.repeat(1 << 20)}`, code: 'HPE_HEADERS_TOO_LARGE' },
  { name: 'endless header fields', raw: 'HTTP/1.1 200 OK\r\n' + 'X: y\r\n'.repeat(200_000), code: 'HPE_TOO_MANY_HEADERS' },
  { name: 'a Content-Length past 2^53', raw: 'HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n', code: 'HPE_INVALID_CONTENT_LENGTH' },
  { name: 'a negative Content-Length', raw: 'HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n', code: 'HPE_INVALID_CONTENT_LENGTH' },
  { name: 'two different Content-Lengths', raw: 'HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab', code: 'HPE_INVALID_CONTENT_LENGTH' },
  { name: 'a chunk size that is not hex', raw: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', code: 'HPE_INVALID_CHUNK_SIZE' },
  { name: 'a negative chunk size', raw: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n', code: 'HPE_INVALID_CHUNK_SIZE' },
  { name: 'a 0x-prefixed chunk size', raw: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0x10\r\n', code: 'HPE_INVALID_CHUNK_SIZE' },
  { name: 'a chunk size past 2^64', raw: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000000\r\n', code: 'HPE_INVALID_CHUNK_SIZE' },
  { name: 'an endless chunk-size line', raw: `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1${';a=b'.repeat(100_000)}`, code: 'HPE_INVALID_CHUNK_SIZE' },
  { name: 'an endless trailer section', raw: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n' + 'X: y\r\n'.repeat(200_000), code: 'HPE_TOO_MANY_HEADERS' },
  { name: 'Content-Length in the trailers', raw: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nContent-Length: 5\r\n\r\n', code: 'HPE_INVALID_CONTENT_LENGTH' },
  { name: 'chunk data longer than its size', raw: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n', code: 'HPE_INVALID_CHUNK' },
  { name: 'bytes before the status line', raw: `garbage\r\n${ok(xmlResult('<int>1</int>'))}`, code: 'HPE_INVALID_VERSION' },
  { name: 'a bare LF in the head', raw: 'HTTP/1.1 200 OK\nContent-Length: 0\n\n', code: 'HPE_BARE_LF' },
  { name: 'obs-fold in a header', raw: 'HTTP/1.1 200 OK\r\nX: a\r\n b\r\nContent-Length: 0\r\n\r\n', code: 'HPE_OBS_FOLD' },
  { name: 'a NUL in a header value', raw: 'HTTP/1.1 200 OK\r\nX: a\0b\r\nContent-Length: 0\r\n\r\n', code: 'HPE_INVALID_HEADER_VALUE' },
  { name: 'a four-digit status', raw: 'HTTP/1.1 2000 OK\r\nContent-Length: 0\r\n\r\n', code: 'HPE_INVALID_STATUS' },
  { name: 'HTTP/2 on the status line', raw: 'HTTP/2 200 OK\r\nContent-Length: 0\r\n\r\n', code: 'HPE_INVALID_VERSION' },
];

t.test('malformed HTTP: a ResponseError with the parser error as cause, and the socket closed', async (t) => {
  const byName = new Map(MALFORMED.map((c, i) => [`/${i}`, c]));
  const s = await scriptedServer(({ socket, head }) => socket.write(byName.get(head.target)!.raw));
  const transport = new Transport();
  t.teardown(async () => {
    await transport.close();
    await s.close();
  });
  for (const [path, c] of byName) {
    const err = await failure(transport.request(`127.0.0.1:${s.port}`, path, dumps([], 'x')));
    t.type(err, ResponseError, c.name);
    t.match(err.cause, { constructor: HttpParseError, code: c.code }, `${c.name}: ${c.code}`);
    await pollUntil(() => transport.stats().open === 0, `${c.name}: the socket to be closed`);
  }
});

t.test('a Content-Length over maxResponseBytes is refused from the head, before any body byte', async (t) => {
  const s = await scriptedServer(({ socket }) => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 1000000000000\r\n\r\n'));
  const transport = new Transport();
  t.teardown(async () => {
    await transport.close();
    await s.close();
  });
  const err = await failure(transport.request(`127.0.0.1:${s.port}`, '/RPC2', dumps([], 'x')));
  t.match(err, { constructor: ResponseError, message: /response too large/ });
  t.match(err.cause, { code: 'HPE_BODY_TOO_LARGE' });
});

t.test('a body read until close is bounded by maxResponseBytes too', async (t) => {
  const s = await scriptedServer(({ socket }) => {
    socket.write('HTTP/1.0 200 OK\r\nContent-Type: text/xml\r\n\r\n');
    socket.write('x'.repeat(64 * 1024)); // and never closes
  });
  const transport = new Transport({ maxResponseBytes: 1000 });
  t.teardown(async () => {
    await transport.close();
    await s.close();
  });
  const err = await failure(transport.request(`127.0.0.1:${s.port}`, '/RPC2', dumps([], 'x')));
  t.match(err, { constructor: ResponseError, message: /response too large/ });
});

t.test('a response that never ends is TIMEOUT at the call timeout, whatever it trickles', async (t) => {
  const clock = new ManualClock();
  const s = await scriptedServer(({ socket, head }) => {
    if (head.target === '/body') socket.write('HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n<?xml');
    else if (head.target === '/chunks') socket.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n' + '1\r\na\r\n'.repeat(100));
    else if (head.target === '/continue') socket.write('HTTP/1.1 100 Continue\r\n\r\n'.repeat(10_000));
    else socket.write('HTTP/1.1 200 OK\r\nX: ');
  });
  const transport = new Transport({ clock, timeout: 5000 });
  t.teardown(async () => {
    await transport.close();
    await s.close();
  });
  for (const path of ['/body', '/chunks', '/continue', '/head']) {
    const received = s.requests.length;
    const pending = failure(transport.request(`127.0.0.1:${s.port}`, path, dumps([], 'x')));
    await pollUntil(() => s.requests.length === received + 1, 'the request to arrive');
    clock.advance(5000);
    const err = await pending;
    t.match(err, { constructor: TransportError, code: TransportErrorCode.TIMEOUT, requestSent: true }, path);
    await pollUntil(() => transport.stats().open === 0, `${path}: the socket to be closed`);
  }
});

t.test('a flood of 100 Continue before the answer is read through, with bounded memory', async (t) => {
  const s = await scriptedServer(({ socket }) => {
    socket.write('HTTP/1.1 100 Continue\r\nX: y\r\n\r\n'.repeat(20_000));
    socket.write(ok(xmlResult('<int>42</int>')));
  });
  const transport = new Transport();
  t.teardown(async () => {
    await transport.close();
    await s.close();
  });
  t.equal(await transport.request(`127.0.0.1:${s.port}`, '/RPC2', dumps([], 'x')), 42);
});

t.test('an early close inside a chunk or between chunks is CONNECTION_LOST, the request sent', async (t) => {
  const s = await scriptedServer(({ socket, head }) => {
    if (head.target === '/in-chunk') socket.end('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n<?xml');
    else socket.end('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n<?xml\r\n');
  });
  const transport = new Transport();
  t.teardown(async () => {
    await transport.close();
    await s.close();
  });
  for (const path of ['/in-chunk', '/between']) {
    const err = await failure(transport.request(`127.0.0.1:${s.port}`, path, dumps([], 'x')));
    t.match(err, { constructor: TransportError, code: TransportErrorCode.CONNECTION_LOST, requestSent: true }, path);
  }
});

t.test('a 204 or 304 with a body: a ProtocolError, and the body bytes never become the next answer', async (t) => {
  const s = await scriptedServer(({ socket, head }) => {
    const answer = ok(xmlResult('<string>stray</string>'));
    if (head.target === '/204') socket.write(`HTTP/1.1 204 No Content\r\nContent-Length: ${answer.length}\r\n\r\n${answer}`);
    else if (head.target === '/304') socket.write(`HTTP/1.1 304 Not Modified\r\nContent-Length: ${answer.length}\r\n\r\n${answer}`);
    else socket.write(ok(xmlResult('<string>mine</string>')));
  });
  const transport = new Transport();
  t.teardown(async () => {
    await transport.close();
    await s.close();
  });
  const host = `127.0.0.1:${s.port}`;
  for (const path of ['/204', '/304']) {
    t.match(await failure(transport.request(host, path, dumps([], 'x'))), { constructor: ProtocolError, status: Number(path.slice(1)) }, path);
    t.equal(await transport.request(host, '/next', dumps([], 'x')), 'mine', `${path}: the next call gets its own answer`);
  }
});

/** methodResponse documents that are not one: each a ResponseError whose cause is a DecodeError. */
// prettier-ignore
const NOT_RESPONSES: { name: string; xml: string | Buffer }[] = [
  { name: 'both params and a fault', xml: `${XML_HEAD}<methodResponse><params><param><value><int>1</int></value></param></params><fault><value><struct><member><name>faultCode</name><value><int>1</int></value></member><member><name>faultString</name><value><string>x</string></value></member></struct></value></fault></methodResponse>` },
  { name: 'a fault and then params', xml: `${XML_HEAD}<methodResponse><fault><value><struct><member><name>faultCode</name><value><int>1</int></value></member><member><name>faultString</name><value><string>x</string></value></member></struct></value></fault><params><param><value><int>1</int></value></param></params></methodResponse>` },
  { name: 'two params', xml: `${XML_HEAD}<methodResponse><params><param><value><int>1</int></value></param><param><value><int>2</int></value></param></params></methodResponse>` },
  { name: 'no param', xml: `${XML_HEAD}<methodResponse><params></params></methodResponse>` },
  { name: 'an empty methodResponse', xml: `${XML_HEAD}<methodResponse></methodResponse>` },
  { name: 'a fault without faultCode', xml: `${XML_HEAD}<methodResponse><fault><value><struct><member><name>faultString</name><value><string>x</string></value></member></struct></value></fault></methodResponse>` },
  { name: 'a fault without faultString', xml: `${XML_HEAD}<methodResponse><fault><value><struct><member><name>faultCode</name><value><int>1</int></value></member></struct></value></fault></methodResponse>` },
  { name: 'a fault whose faultCode is a string', xml: `${XML_HEAD}<methodResponse><fault><value><struct><member><name>faultCode</name><value><string>1</string></value></member><member><name>faultString</name><value><string>x</string></value></member></struct></value></fault></methodResponse>` },
  { name: 'a fault that is not a struct', xml: `${XML_HEAD}<methodResponse><fault><value><int>1</int></value></fault></methodResponse>` },
  { name: 'a methodCall', xml: `${XML_HEAD}<methodCall><methodName>x</methodName><params/></methodCall>` },
  { name: 'arrays nested 100000 deep', xml: `${XML_HEAD}<methodResponse><params><param><value>${'<array><data><value>'.repeat(100_000)}${'</value></data></array>'.repeat(100_000)}</value></param></params></methodResponse>` },
  { name: 'structs nested 100000 deep', xml: `${XML_HEAD}<methodResponse><params><param><value>${'<struct><member><name>a</name><value>'.repeat(100_000)}${'</value></member></struct>'.repeat(100_000)}</value></param></params></methodResponse>` },
  { name: 'unclosed tags 100000 deep', xml: `${XML_HEAD}<methodResponse><params><param><value>${'<array><data><value>'.repeat(100_000)}` },
  { name: 'billion laughs', xml: `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;"><!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;"><!ENTITY lol9 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">]><methodResponse><params><param><value><string>&lol9;</string></value></param></params></methodResponse>` },
  { name: 'an external entity', xml: `<?xml version="1.0"?><!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><methodResponse><params><param><value><string>&xxe;</string></value></param></params></methodResponse>` },
  { name: 'an undefined entity', xml: `${XML_HEAD}<methodResponse><params><param><value><string>&nope;</string></value></param></params></methodResponse>` },
  { name: 'a character reference to NUL', xml: `${XML_HEAD}<methodResponse><params><param><value><string>&#0;</string></value></param></params></methodResponse>` },
  { name: 'an int past 32 bits', xml: `${XML_HEAD}<methodResponse><params><param><value><int>4294967296</int></value></param></params></methodResponse>` },
  { name: 'invalid UTF-8', xml: Buffer.concat([Buffer.from(`${XML_HEAD}<methodResponse><params><param><value><string>`), Buffer.from([0xff, 0xfe]), Buffer.from('</string></value></param></params></methodResponse>')]) },
  { name: 'text after the document', xml: `${xmlResult('<int>1</int>')}<methodResponse/>` },
];

t.test('a 200 whose body is not one XML-RPC response: ResponseError caused by a DecodeError, never a Fault or a crash', async (t) => {
  const byPath = new Map(NOT_RESPONSES.map((c, i) => [`/${i}`, c]));
  const s = await scriptedServer(({ socket, head }) => socket.write(httpResponse(byPath.get(head.target)!.xml)));
  const proxy = new ServerProxy(`http://127.0.0.1:${s.port}/0`); // both params and a fault
  const transport = new Transport();
  t.teardown(async () => {
    await proxy.close();
    await transport.close();
    await s.close();
  });
  for (const [path, c] of byPath) {
    const err = await failure(transport.request(`127.0.0.1:${s.port}`, path, dumps([], 'x')));
    t.type(err, ResponseError, c.name);
    t.notOk(err instanceof Fault && !(err instanceof DecodeError), `${c.name}: not the server's Fault`);
    t.type(err.cause, DecodeError, `${c.name}: caused by a DecodeError`);
  }
  t.match(await failure(proxy.anything()), { constructor: ResponseError, cause: DecodeError }, 'through ServerProxy the same');
});

t.test('struct members named __proto__ or constructor are plain data: no prototype is touched', async (t) => {
  const member = (name: string, value: string): string => `<member><name>${name}</name><value>${value}</value></member>`;
  const polluting = `<struct>${member('__proto__', `<struct>${member('polluted', '<int>1</int>')}</struct>`)}${member('constructor', '<int>2</int>')}</struct>`;
  const s = await scriptedServer(({ socket }) => socket.write(httpResponse(xmlResult(polluting))));
  const transport = new Transport();
  t.teardown(async () => {
    await transport.close();
    await s.close();
  });
  const result = (await transport.request(`127.0.0.1:${s.port}`, '/RPC2', dumps([], 'x'))) as Record<string, unknown>;
  t.same(Object.keys(result), ['__proto__', 'constructor'], 'both are own members');
  t.equal(Object.prototype.hasOwnProperty.call(result, '__proto__'), true);
  t.equal((result as { polluted?: unknown }).polluted, undefined, 'the result did not inherit the member');
  t.equal(({} as { polluted?: unknown }).polluted, undefined, 'Object.prototype is untouched');
});
