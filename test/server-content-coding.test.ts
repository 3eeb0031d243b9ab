// Content-Coding: gzip request bodies decoded (capped), large responses
// gzipped for clients that accept it.

import t from 'tap';
import { gunzipSync, gzipSync } from 'node:zlib';
import { RawClient, echoBody, handler, startServer } from './support.js';
import type { Response } from '../lib/server/request.js';

t.test('a gzip request body is decoded before the handler sees it', async (t) => {
  const { server, port } = await startServer({ handlers: [echoBody] });
  t.teardown(() => server.close());
  const c = await RawClient.open(port);
  t.teardown(() => c.destroy());
  const body = gzipSync('the decoded body');
  c.write(Buffer.concat([Buffer.from(`POST /echo HTTP/1.1\r\nHost: x\r\nContent-Encoding: gzip\r\nContent-Length: ${body.length}\r\n\r\n`), body]));
  const [r] = await c.responsesCount(1);
  t.equal(r!.text(), 'the decoded body');
});

t.test('a corrupt gzip body is 400, a gzip bomb past maxBodyBytes is 413, another coding is 415; the connection goes on', async (t) => {
  const { server, port } = await startServer({ handlers: [echoBody], maxBodyBytes: 64 * 1024 });
  t.teardown(() => server.close());
  const c = await RawClient.open(port);
  t.teardown(() => c.destroy());
  const send = (coding: string, body: Buffer) =>
    c.write(Buffer.concat([Buffer.from(`POST /echo HTTP/1.1\r\nHost: x\r\nContent-Encoding: ${coding}\r\nContent-Length: ${body.length}\r\n\r\n`), body]));
  send('gzip', Buffer.from('not gzip at all'));
  const bomb = gzipSync(Buffer.alloc(10 * 1024 * 1024)); // ~10 KB on the wire, 10 MB decoded
  send('gzip', bomb);
  send('br', Buffer.from('x'));
  send('identity', Buffer.from('plain'));
  const rs = await c.responsesCount(4);
  t.same(
    rs.map((r) => r.status),
    [400, 413, 415, 200],
  );
  t.equal(rs[3]!.text(), 'plain');
  t.equal(c.closed, false);
});

t.test('a 415 for an unsupported coding names the one we decode (Accept-Encoding: gzip, RFC 9110 §15.5.16)', async (t) => {
  // Perl's RPC::XML::Client with compress_requests sends Content-Encoding: deflate.
  const { server, port } = await startServer({ handlers: [echoBody] });
  t.teardown(() => server.close());
  const c = await RawClient.open(port);
  t.teardown(() => c.destroy());
  c.write(`POST /echo HTTP/1.1\r\nHost: x\r\nContent-Encoding: deflate\r\nContent-Length: 1\r\n\r\nx`);
  const [r] = await c.responsesCount(1);
  t.equal(r!.status, 415);
  t.equal(r!.header('accept-encoding'), 'gzip');
});

t.test('a large response is gzipped for a client that accepts gzip, and only then', async (t) => {
  const big = 'x'.repeat(5000);
  const h = handler(
    () => true,
    (r): Response => ({
      status: 200,
      headers: r.path === '/own' ? { 'Content-Encoding': 'identity' } : { 'Content-Type': 'text/plain' },
      body: r.path === '/small' ? 'tiny' : big,
    }),
  );
  const { server, port } = await startServer({ handlers: [h] });
  t.teardown(() => server.close());
  const c = await RawClient.open(port);
  t.teardown(() => c.destroy());
  const get = (path: string, accept: string | null) =>
    c.write(`GET ${path} HTTP/1.1\r\nHost: x\r\n${accept === null ? '' : `Accept-Encoding: ${accept}\r\n`}\r\n`);
  get('/big', 'gzip, deflate');
  get('/big', null);
  get('/big', 'gzip;q=0, deflate');
  get('/small', 'gzip');
  get('/own', 'gzip');
  get('/big', '*');
  const rs = await c.responsesCount(6);
  t.equal(rs[0]!.header('content-encoding'), 'gzip');
  t.equal(rs[0]!.header('vary'), 'Accept-Encoding');
  t.equal(gunzipSync(rs[0]!.body).toString(), big);
  t.ok(rs[0]!.body.length < 200, 'smaller on the wire');
  for (const i of [1, 2, 3, 4]) t.equal(rs[i]!.header('content-encoding') ?? 'identity', 'identity', `response ${i} not gzipped`);
  t.equal(rs[5]!.header('content-encoding'), 'gzip', '* accepts gzip');
});

t.test('a text body marked latin1 is gzipped as the bytes it would go out as: the same bytes once gunzipped', async (t) => {
  // Characters past U+007F and past U+00FF: latin1 sends each as one byte (its low byte), UTF-8 would not.
  const body = 'caf\u00e9 \u20ac '.repeat(400);
  const { server, port } = await startServer({
    handlers: [
      handler(
        () => true,
        () => ({ status: 200, body, latin1: true }),
      ),
    ],
  });
  t.teardown(() => server.close());
  const c = await RawClient.open(port);
  t.teardown(() => c.destroy());
  c.write('GET /plain HTTP/1.1\r\nHost: x\r\n\r\nGET /gzip HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n');
  const [plain, zipped] = await c.responsesCount(2);
  t.same(plain!.body, Buffer.from(body, 'latin1'), 'as latin1');
  t.equal(zipped!.header('content-encoding'), 'gzip');
  t.same(gunzipSync(zipped!.body), plain!.body, 'gzipped, the same bytes');
});
