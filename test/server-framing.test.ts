// Message framing and refusals: Expect, HEAD, chunked bodies, malformed
// requests, the smuggling table, and pipelines cut anywhere by TCP.

import t from 'tap';
import * as net from 'node:net';
import { RawClient, ServerSides, echoBody, handler, post, startServer } from './support.js';

t.test('a HEAD response has no body', async (t) => {
  const h = handler(
    () => true,
    () => ({ status: 200, body: 'twelve bytes' }),
  );
  const { server, port } = await startServer({ handlers: [h] });
  t.teardown(() => server.close());
  const c = await RawClient.open(port);
  t.teardown(() => c.destroy());
  c.headResponses = 1;
  c.write('HEAD / HTTP/1.1\r\nHost: x\r\n\r\n' + 'GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  const [head, get] = await c.responsesCount(2);
  t.equal(head!.header('content-length'), '12', 'the length a GET would have');
  t.equal(head!.body.length, 0);
  t.equal(get!.text(), 'twelve bytes', 'the next response is framed right after it');
});

t.test('Expect: 100-continue gets 100 before the body is sent', async (t) => {
  const { server, port } = await startServer({ handlers: [echoBody] });
  t.teardown(() => server.close());
  const c = await RawClient.open(port);
  t.teardown(() => c.destroy());
  c.write('POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n');
  await c.until(() => c.informational.length === 1, 2000, '100 Continue');
  t.equal(c.informational[0]!.status, 100);
  t.equal(c.responses.length, 0);
  c.write('hello');
  const [r] = await c.responsesCount(1);
  t.equal(r!.status, 200);
  t.equal(r!.text(), 'hello');
});

t.test('Expect: 100-continue gets no 100 when body bytes come with the head', async (t) => {
  const { server, port } = await startServer({ handlers: [echoBody] });
  t.teardown(() => server.close());
  const sides = new ServerSides(server);
  const head = 'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n';
  // What each connection sends, write by write: the first write carries the head.
  const rows: [name: string, writes: string[], first: RegExp][] = [
    ['the whole body with the head', [head + 'hello'], /^HTTP\/1\.1 200 /],
    ['part of the body with the head', [head + 'he', 'llo'], /^HTTP\/1\.1 200 /],
    [
      'a request answered first, then the head and body',
      ['GET /x HTTP/1.1\r\nHost: x\r\n\r\n' + head + 'hello'],
      /^HTTP\/1\.1 404 [^]*\r\n\r\nNot Found: \/x\nHTTP\/1\.1 200 /,
    ],
    ['the head alone', [head, 'hello'], /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 /],
  ];
  for (const [name, writes, first] of rows) {
    const socket = net.connect(port, '127.0.0.1');
    t.teardown(() => socket.destroy());
    await new Promise((resolve) => socket.once('connect', resolve));
    const chunks: Buffer[] = [];
    socket.on('data', (d: Buffer) => chunks.push(d));
    const closed = new Promise((resolve) => socket.once('close', resolve));
    const headArrived = () =>
      new Promise<void>((resolve) => {
        const check = () => {
          if (!Buffer.concat(chunks).includes('\r\n\r\n')) return;
          socket.off('data', check);
          resolve();
        };
        socket.on('data', check);
        check();
      });
    const side = await sides.of(socket);
    let sent = 0;
    for (const bytes of writes) {
      socket.write(bytes, 'latin1');
      sent += bytes.length;
      // The server has read this write (in one chunk, as loopback delivers a small write) before the next goes.
      await sides.until(() => side.bytes === sent, `the server to read ${sent} bytes (${name})`);
      if (bytes === head) await headArrived(); // its 100 Continue, before the body is sent
    }
    await closed;
    t.equal(side.reads, writes.length, `${name}: each write read at once`);
    const text = Buffer.concat(chunks).toString('latin1');
    t.match(text, first, name);
    t.match(text, /hello$/, `${name}: the body is echoed`);
  }
});

t.test('Expect: 100-continue to a path nobody handles gets the final 404 at once, then close', async (t) => {
  const { server, port } = await startServer({ handlers: [echoBody] });
  t.teardown(() => server.close());
  const c = await RawClient.open(port);
  t.teardown(() => c.destroy());
  c.write('POST /nowhere HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\nExpect: 100-continue\r\n\r\n');
  const [r] = await c.responsesCount(1);
  t.equal(r!.status, 404);
  t.equal(r!.header('connection'), 'close');
  t.equal(c.informational.length, 0);
  await c.whenClosed();
});

t.test('a refused Expect: 100-continue says what was not found, once', async (t) => {
  const { server, port } = await startServer({ handlers: [echoBody] });
  t.teardown(() => server.close());
  const c = await RawClient.open(port);
  t.teardown(() => c.destroy());
  c.write('POST /nowhere HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n');
  const [r] = await c.responsesCount(1);
  t.equal(r!.text(), 'Not Found: /nowhere\n');
});

// One row per refusal: what is sent, the status owed, and the connection closed after.
// prettier-ignore
const refusals: [string, string, number][] = [
  ['a bad token in a header name', 'GET / HTTP/1.1\r\nHost: x\r\nBad Name: 1\r\n\r\n', 400],
  ['whitespace before the colon', 'GET / HTTP/1.1\r\nHost: x\r\nContent-Length : 0\r\n\r\n', 400],
  ['obs-fold', 'GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n  folded\r\n\r\n', 400],
  ['a bare CR', 'GET / HTTP/1.1\r\nHost: x\rX: y\r\n\r\n', 400],
  ['CL and TE together', 'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 400],
  ['differing Content-Lengths', 'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd', 400],
  ['a malformed Content-Length', 'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n', 400],
  ['a final coding other than chunked', 'POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n', 400],
  ['a bad chunk size', 'POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', 400],
  ['HTTP/1.1 without Host', 'GET / HTTP/1.1\r\n\r\n', 400],
  ['two Hosts', 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', 400],
  ['POST without a body length', 'POST /echo HTTP/1.1\r\nHost: x\r\n\r\n', 411],
  ['a Content-Length over the body limit', 'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999\r\n\r\n', 413],
  ['a request line over its limit', `GET /${'a'.repeat(9000)} HTTP/1.1\r\nHost: x\r\n\r\n`, 414],
  ['a head over its limit', `GET / HTTP/1.1\r\nHost: x\r\nX: ${'a'.repeat(20000)}\r\n\r\n`, 431],
  ['an unsupported transfer coding', 'POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n', 501],
  ['HTTP/2.0 on an HTTP/1 connection', 'GET / HTTP/2.0\r\nHost: x\r\n\r\n', 505],
  ['an unknown expectation', 'POST /echo HTTP/1.1\r\nHost: x\r\nExpect: teapot\r\nContent-Length: 1\r\n\r\nx', 417],
];

t.test('malformed requests get their status, Connection: close, and the socket closed', async (t) => {
  const { server, port } = await startServer({ handlers: [echoBody] });
  t.teardown(() => server.close());
  for (const [what, bytes, status] of refusals) {
    const c = await RawClient.open(port);
    c.write(bytes);
    const [r] = await c.responsesCount(1);
    t.equal(r!.status, status, what);
    t.equal(r!.header('connection'), 'close', `${what}: Connection: close`);
    await c.whenClosed();
    c.destroy();
  }
  // and the server keeps serving
  const c = await RawClient.open(port);
  t.teardown(() => c.destroy());
  c.write(post('/echo', 'alive'));
  const [r] = await c.responsesCount(1);
  t.equal(r!.text(), 'alive');
});

t.test('responses owed before a malformed request still go out first', async (t) => {
  const { server, port } = await startServer({ handlers: [echoBody] });
  t.teardown(() => server.close());
  const c = await RawClient.open(port);
  t.teardown(() => c.destroy());
  c.write(post('/echo', 'one') + post('/echo', 'two') + 'BROKEN REQUEST\r\n\r\n' + post('/echo', 'never'));
  await c.whenClosed();
  t.same(
    c.responses.map((r) => r.status),
    [200, 200, 400],
  );
  t.same(
    c.responses.slice(0, 2).map((r) => r.text()),
    ['one', 'two'],
  );
});

t.test('a smuggled request after CL+TE is never handled', async (t) => {
  const paths: string[] = [];
  const spy = handler(
    () => true,
    (r) => (paths.push(r.path), { status: 200, body: 'ok' }),
  );
  const { server, port } = await startServer({ handlers: [spy] });
  t.teardown(() => server.close());
  const c = await RawClient.open(port);
  t.teardown(() => c.destroy());
  c.write('POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 44\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n');
  await c.whenClosed();
  t.same(paths, []);
  t.same(
    c.responses.map((r) => r.status),
    [400],
  );
});

t.test('a chunked request body is reassembled', async (t) => {
  const { server, port } = await startServer({ handlers: [echoBody] });
  t.teardown(() => server.close());
  const c = await RawClient.open(port);
  t.teardown(() => c.destroy());
  c.write('POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n');
  const [r] = await c.responsesCount(1);
  t.equal(r!.text(), 'hello world');
});

t.test('a chunked body over the limit is refused with 413 without being buffered whole', async (t) => {
  const { server, port } = await startServer({ handlers: [echoBody], maxBodyBytes: 1000 });
  t.teardown(() => server.close());
  const c = await RawClient.open(port);
  t.teardown(() => c.destroy());
  c.write('POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n');
  for (let i = 0; i < 5; i++) c.write(`12c\r\n${'x'.repeat(300)}\r\n`);
  const [r] = await c.responsesCount(1);
  t.equal(r!.status, 413);
  await c.whenClosed();
});

t.test('CONNECT and methods nobody implements get 501; known methods nobody handles get 404', async (t) => {
  const { server, port } = await startServer({ handlers: [echoBody] });
  t.teardown(() => server.close());
  const c = await RawClient.open(port);
  t.teardown(() => c.destroy());
  c.write('FOO /echo HTTP/1.1\r\nHost: x\r\n\r\nDELETE /nowhere HTTP/1.1\r\nHost: x\r\n\r\nget /nowhere HTTP/1.1\r\nHost: x\r\n\r\n');
  const rs = await c.responsesCount(3);
  t.same(
    rs.map((r) => r.status),
    [200, 404, 501],
    'a handler may take any method; methods are case-sensitive',
  );
  t.equal(c.closed, false);
  const tunnel = await RawClient.open(port);
  t.teardown(() => tunnel.destroy());
  tunnel.write(`CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n${post('/echo', 'tunnel bytes')}`);
  await tunnel.whenClosed();
  t.same(
    tunnel.responses.map((r) => r.status),
    [501],
    'the bytes after CONNECT are never read as a request',
  );
  t.equal(tunnel.responses[0]!.header('connection'), 'close');
  // A CONNECT has no content (RFC 9110 §9.3.6): its Content-Length does not make the server wait for the tunnel's bytes.
  const framed = await RawClient.open(port);
  t.teardown(() => framed.destroy());
  framed.write('CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\nContent-Length: 1000\r\n\r\ntunnel bytes');
  await framed.whenClosed();
  t.same(
    framed.responses.map((r) => r.status),
    [501],
    'answered at once, not after 1000 bytes that never come',
  );
});

// ---- smuggling: what a handler sees never includes what the framing hid ----

const SMUGGLED = 'GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n';
const P = 'POST /a HTTP/1.1\r\nHost: x\r\n';
const TE = 'Transfer-Encoding: chunked\r\n';

/**
 * One row per attack: the bytes, the statuses owed, whether the server then
 * closes, and the requests (method and path) a handler may see. Every input
 * ends with a request for /smuggled, which must be seen only where the bytes
 * really frame it as a request of its own.
 */
// prettier-ignore
const smuggling: [name: string, input: string, statuses: number[], closed: boolean, seen: string[]][] = [
  // CL.TE, TE.CL and TE.TE
  ['CL.TE', `${P}Content-Length: 6\r\n${TE}\r\n0\r\n\r\n${SMUGGLED}`, [400], true, []],
  ['TE.CL', `${P}${TE}Content-Length: 4\r\n\r\n5c\r\n${SMUGGLED}\r\n0\r\n\r\n`, [400], true, []],
  ['TE: chunked, chunked', `${P}Transfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n${SMUGGLED}`, [400], true, []],
  ['two TE: chunked fields', `${P}${TE}${TE}\r\n0\r\n\r\n${SMUGGLED}`, [400], true, []],
  ['TE: chunked then TE: identity', `${P}${TE}Transfer-Encoding: identity\r\n\r\n0\r\n\r\n${SMUGGLED}`, [400], true, []],
  ['TE: identity with a Content-Length', `${P}Transfer-Encoding: identity\r\nContent-Length: 3\r\n\r\nabc${SMUGGLED}`, [400], true, []],
  ['TE: xchunked', `${P}Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n${SMUGGLED}`, [400], true, []],
  ['TE: "chunked" quoted', `${P}Transfer-Encoding: "chunked"\r\n\r\n0\r\n\r\n${SMUGGLED}`, [400], true, []],
  ['TE:\\x0bchunked', `${P}Transfer-Encoding:\x0bchunked\r\nContent-Length: 3\r\n\r\nabc${SMUGGLED}`, [400], true, []],
  ['TE with a space before the colon', `${P}Transfer-Encoding : chunked\r\nContent-Length: 3\r\n\r\nabc${SMUGGLED}`, [400], true, []],
  ['TE as the first field, obs-folded', `${P}Transfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n${SMUGGLED}`, [400], true, []],
  ['an empty TE with a Content-Length', `${P}Transfer-Encoding:\r\nContent-Length: 3\r\n\r\nabc${SMUGGLED}`, [400], true, []],
  ['TE: gzip, chunked', `${P}Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n${SMUGGLED}`, [501], true, []],
  ['TE: ChUnKeD, with blanks, is chunked', `${P}Transfer-Encoding: \t ChUnKeD \r\n\r\n3\r\nabc\r\n0\r\n\r\n${SMUGGLED}`, [200, 200], false, ['POST /a', 'GET /smuggled']],
  ['chunked in HTTP/1.0 is read, then the connection closes', `POST /a HTTP/1.0\r\nConnection: keep-alive\r\n${TE}\r\n0\r\n\r\n${SMUGGLED}`, [200], true, ['POST /a']],
  // Content-Length
  ['two different Content-Lengths', `${P}Content-Length: 3\r\nContent-Length: 40\r\n\r\nabc${SMUGGLED}`, [400], true, []],
  ['Content-Length: +3', `${P}Content-Length: +3\r\n\r\nabc${SMUGGLED}`, [400], true, []],
  ['Content-Length: 3 3', `${P}Content-Length: 3 3\r\n\r\nabc${SMUGGLED}`, [400], true, []],
  ['a Content-Length past 2^64', `${P}Content-Length: 18446744073709551619\r\n\r\nabc${SMUGGLED}`, [400], true, []],
  ['a Content-Length with a space before the colon', `${P}Content-Length : 3\r\n\r\nabc${SMUGGLED}`, [400], true, []],
  ['POST without a length', `${P}\r\n${SMUGGLED}`, [411], true, []],
  ['a Content-Length over maxBodyBytes', `${P}Content-Length: 99999999\r\n\r\n${SMUGGLED}`, [413], true, []],
  // chunked framing
  ['a chunk size with 0x', `${P}${TE}\r\n0x3\r\nabc\r\n0\r\n\r\n${SMUGGLED}`, [400], true, []],
  ['a chunk size with a trailing space', `${P}${TE}\r\n3 \r\nabc\r\n0\r\n\r\n${SMUGGLED}`, [400], true, []],
  ['a chunk size beyond 2^64', `${P}${TE}\r\n10000000000000003\r\nabc\r\n0\r\n\r\n${SMUGGLED}`, [400], true, []],
  ['chunk data longer than its size', `${P}${TE}\r\n3\r\nabcd\r\n0\r\n\r\n${SMUGGLED}`, [400], true, []],
  ['chunks ended by bare LFs', `${P}${TE}\r\n3\nabc\n0\n\n${SMUGGLED}`, [400], true, []],
  ['a chunk-size line with a bare CR', `${P}${TE}\r\n5\r\r;ABCD\r\n34\r\nE\r\n0\r\n\r\n${SMUGGLED}`, [400], true, []],
  ['a chunk extension over maxChunkLineBytes', `${P}${TE}\r\n3;${'e'.repeat(2000)}\r\nabc\r\n0\r\n\r\n${SMUGGLED}`, [400], true, []],
  ['a Content-Length in the trailers', `${P}${TE}\r\n0\r\nContent-Length: 40\r\n\r\n${SMUGGLED}`, [400], true, []],
  ['a Transfer-Encoding in the trailers', `${P}${TE}\r\n0\r\nTransfer-Encoding: chunked\r\n\r\n${SMUGGLED}`, [400], true, []],
  // field lines (llhttp's invalid.md)
  ['a field line ended by a bare LF', `GET /a HTTP/1.1\r\nHost: x\r\nDummy: x\nContent-Length: 23\r\n\r\n${SMUGGLED}`, [400], true, []],
  ['a field line starting with a space', `${P}Foo: bar\r\n Content-Length: 38\r\n\r\n${SMUGGLED}`, [400], true, []],
  ['a bare CR then a request line', `GET /a HTTP/1.1\r\nConnection: close\r\nHost: x\r\n\rZ${SMUGGLED}`, [400], true, []],
  ['NUL in a field value', `GET /a HTTP/1.1\r\nHost: x\r\nX: a\x00b\r\n\r\n${SMUGGLED}`, [400], true, []],
  ['two Hosts', `GET /a HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n${SMUGGLED}`, [400], true, []],
  ['more than maxHeaders fields', `GET /a HTTP/1.1\r\nHost: x\r\n${'X: 1\r\n'.repeat(120)}\r\n${SMUGGLED}`, [431], true, []],
  // request lines
  ['a target in no form', `GET a HTTP/1.1\r\nHost: x\r\n\r\n${SMUGGLED}`, [400], true, []],
  ['a query before a scheme', `GET ?x://y/smuggled HTTP/1.1\r\nHost: x\r\n\r\n${SMUGGLED}`, [400], true, []],
  ['asterisk-form for GET', `GET * HTTP/1.1\r\nHost: x\r\n\r\n${SMUGGLED}`, [400], true, []],
  ['a UTF-8 target', `GET /\xce\xb4 HTTP/1.1\r\nHost: x\r\n\r\n${SMUGGLED}`, [400], true, []],
  ['two spaces after the method', `GET  /a HTTP/1.1\r\nHost: x\r\n\r\n${SMUGGLED}`, [400], true, []],
  ['an HTTP/0.9 request line', `GET /a\r\n\r\n${SMUGGLED}`, [400], true, []],
  ['HTTP/2.0', `GET /a HTTP/2.0\r\nHost: x\r\n\r\n${SMUGGLED}`, [505], true, []],
  ['a request line over maxRequestLineBytes', `GET /${'a'.repeat(9000)} HTTP/1.1\r\nHost: x\r\n\r\n${SMUGGLED}`, [414], true, []],
  ['a TLS hello', `\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03${SMUGGLED}`, [400], true, []],
  ['CONNECT: what follows is a tunnel, never a request', `CONNECT x:443 HTTP/1.1\r\nHost: x:443\r\n\r\n${SMUGGLED}`, [200], true, ['CONNECT x:443']],
  ['CONNECT to an origin-form target', `CONNECT /a HTTP/1.1\r\nHost: x\r\n\r\n${SMUGGLED}`, [400], true, []],
  // connection management
  ['a request after Connection: close', `${P}Content-Length: 3\r\nConnection: close\r\n\r\nabc${SMUGGLED}`, [200], true, ['POST /a']],
  ['a request after an HTTP/1.0 request', `GET /a HTTP/1.0\r\n\r\n${SMUGGLED}`, [200], true, ['GET /a']],
  ['an unknown expectation', `${P}Content-Length: 3\r\nExpect: 100-continue, x\r\n\r\nabc${SMUGGLED}`, [417], true, []],
  ['a well-framed pipeline is served whole', `${P}${TE}\r\n3;a="b"\r\nabc\r\n0\r\nX: t\r\n\r\n${P}Content-Length: 0\r\n\r\n${SMUGGLED}`, [200, 200, 200], false, ['POST /a', 'POST /a', 'GET /smuggled']],
];

t.test('smuggling attempts get their status and close, and a handler never sees what they hide', async (t) => {
  const seen: string[] = [];
  const spy = handler(
    () => true,
    (r) => (seen.push(`${r.method} ${r.path}`), { status: 200, body: 'ok' }),
  );
  const probe = handler(
    (r) => r.path === '/probe',
    () => ({ status: 200, body: 'probe' }),
  );
  const { server, port } = await startServer({ handlers: [probe, spy] });
  t.teardown(() => server.close());
  for (const [name, input, statuses, closed, paths] of smuggling) {
    seen.length = 0;
    const c = await RawClient.open(port);
    c.write(input);
    let responses = c.responses;
    if (closed) {
      await c.whenClosed();
    } else {
      // Kept open, and owing nothing more: a probe sent after is answered on
      // it, and any stray response to the input would come before the probe's.
      await c.responsesCount(statuses.length);
      c.write('GET /probe HTTP/1.1\r\nHost: x\r\n\r\n');
      await c.until(() => c.closed || c.responses.some((r) => r.text() === 'probe'), 3000, `${name}: the probe's answer`);
      responses = c.responses.filter((r) => r.text() !== 'probe');
    }
    t.same(
      responses.map((r) => r.status),
      statuses,
      `${name}: statuses`,
    );
    t.equal(c.closed, closed, `${name}: ${closed ? 'closed' : 'kept open'}`);
    if (closed) t.equal(c.responses.at(-1)?.header('connection'), 'close', `${name}: Connection: close`);
    t.same(seen, paths, `${name}: what the handler saw`);
    c.destroy();
  }
  const c = await RawClient.open(port);
  t.teardown(() => c.destroy());
  c.write('GET /still-serving HTTP/1.1\r\nHost: x\r\n\r\n');
  const [r] = await c.responsesCount(1);
  t.equal(r!.status, 200, 'the server keeps serving');
});

t.test('a pipeline cut anywhere by TCP is served the same', async (t) => {
  const seen: string[] = [];
  const spy = handler(
    () => true,
    (r) => (seen.push(`${r.path} ${r.body.toString()}`), { status: 200, body: 'ok' }),
  );
  const { server, port } = await startServer({ handlers: [spy] });
  t.teardown(() => server.close());
  const sides = new ServerSides(server);
  const input = `${P}${TE}\r\n3\r\nabc\r\n0\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n`;
  const wrong: string[] = [];
  for (let cut = 1; cut < input.length; cut++) {
    seen.length = 0;
    const c = await RawClient.open(port);
    c.socket.setNoDelay(true);
    const side = await sides.of(c.socket);
    c.write(input.slice(0, cut));
    // The server parses the first part alone before the rest is sent.
    await sides.until(() => side.bytes === cut, `cut at ${cut}: the server to read the first part`);
    c.write(input.slice(cut));
    await c.responsesCount(2);
    if (seen.join() !== '/a abc,/b ' || c.responses.some((r) => r.status !== 200)) wrong.push(`cut at ${cut}: ${seen.join()}`);
    c.destroy();
  }
  t.same(wrong, []);
});
