// A response body's memory may be reused by its maker (Response.reuse) once
// the server has handed all of it to the kernel: the XML-RPC handler writes
// its next large document into it. Never while the socket still holds bytes
// of it, never for a buffer the encoder did not give out, never twice.

import t from 'tap';
import { bufferDumps } from '../lib/xmlrpc/encode.js';
import { reuseDocument } from '../lib/xmlrpc/sink.js';
import { parseMethodResponse } from '../lib/xmlrpc/decode.js';
import type { Handler, Response } from '../lib/server/request.js';
import * as net from 'node:net';
import { handler, pollUntil, post, RawClient, startServer, turns } from './support.js';

const R = { methodResponse: true } as const;

/** An array of `n` ints from `from`: a document of about 32 bytes per int. */
function ints(n: number, from: number): number[] {
  return Array.from({ length: n }, (_, i) => from + i);
}

t.test('a large document given back is the memory of the next one, and only once', async (t) => {
  // The first sizes the buffer for the second (the encoder's hint).
  bufferDumps([ints(10000, 100000)], R);
  const a = bufferDumps([ints(10000, 200000)], R);
  const aText = a.toString('latin1');
  reuseDocument(a);
  const b = bufferDumps([ints(10000, 300000)], R);
  t.equal(b.buffer, a.buffer, 'written into the buffer given back');
  t.same(parseMethodResponse(b), ints(10000, 300000));
  reuseDocument(a); // again, while `b` lives in the same memory: ignored
  const c = bufferDumps([ints(10000, 400000)], R);
  t.not(c.buffer, b.buffer, 'a buffer given back twice is taken back once');
  t.ok(b.toString('latin1').includes('<int>300002</int>') && !b.toString('latin1').includes('<int>400002</int>'), 'b keeps its own bytes');
  reuseDocument(Buffer.alloc(400000)); // not the encoder's: ignored
  const d = bufferDumps([ints(10000, 500000)], R);
  t.not(d.byteLength, 400000);
  t.ok(aText.includes('<int>200001</int>'));
});

t.test('a document not given back keeps its bytes', async (t) => {
  bufferDumps([ints(10000, 100000)], R);
  const a = bufferDumps([ints(10000, 600000)], R);
  const copy = Buffer.from(a);
  const b = bufferDumps([ints(10000, 700000)], R);
  t.not(b.buffer, a.buffer);
  t.same(a, copy);
});

/** GET /big: a body of `size` bytes of `letter`, with a reuse that records what it is given. */
function big(size: number): { handler: Handler; given: Buffer[]; bodies: Buffer[] } {
  const given: Buffer[] = [];
  const bodies: Buffer[] = [];
  return {
    given,
    bodies,
    handler: handler(
      (r) => r.path === '/big',
      (): Response => {
        const body = Buffer.alloc(size, 'a'.charCodeAt(0) + bodies.length);
        bodies.push(body);
        return { status: 200, body, reuse: (b) => given.push(b) };
      },
    ),
  };
}

t.test('reuse is called with the body once the kernel has taken all of it', async (t) => {
  const h = big(100000);
  const { server, port } = await startServer({ handlers: [h.handler] });
  t.teardown(() => server.close());
  const c = await RawClient.open(port);
  t.teardown(() => c.destroy());
  c.write('GET /big HTTP/1.1\r\nHost: x\r\n\r\n');
  const [r] = await c.responsesCount(1);
  t.equal(r!.body.length, 100000);
  t.equal(h.given.length, 1);
  t.equal(h.given[0], h.bodies[0], 'the very body');
});

t.test('reuse is not called while the socket holds bytes of the body, nor after', async (t) => {
  // Far more than loopback's socket buffers take at once: the kernel cannot take it in one write.
  const size = 64 << 20;
  const h = big(size);
  const { server, port } = await startServer({ handlers: [h.handler], maxBufferedBytes: 4 * size, maxConnectionBufferedBytes: 2 * size });
  t.teardown(() => server.close());
  const socket = net.connect(port, '127.0.0.1');
  t.teardown(() => socket.destroy());
  socket.pause(); // a client that does not read yet
  socket.write('GET /big HTTP/1.1\r\nHost: x\r\n\r\n');
  await pollUntil(() => h.bodies.length === 1, 'the handler to run');
  await turns(3);
  t.equal(h.given.length, 0, 'the socket still holds part of it');
  let received = 0;
  socket.on('data', (chunk: Buffer) => (received += chunk.length));
  socket.resume();
  await pollUntil(() => received > size, 'the whole response', 20000);
  t.equal(h.given.length, 0, 'written in parts: dropped, not given back');
});

t.test('a reuse that is not a function is a handler error (500)', async (t) => {
  const { server, port } = await startServer({
    handlers: [
      handler(
        () => true,
        () => ({ status: 200, body: 'x', reuse: 5 }) as unknown as Response,
      ),
    ],
  });
  t.teardown(() => server.close());
  const c = await RawClient.open(port);
  t.teardown(() => c.destroy());
  c.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  const [r] = await c.responsesCount(1);
  t.equal(r!.status, 500);
});

t.test('XML-RPC: large results in a row, each answer its own bytes', async (t) => {
  const { XmlRpcDispatcher } = await import('../lib/rpc/dispatcher.js');
  const rpc = new XmlRpcDispatcher();
  rpc.registerFunction((from: unknown) => ints(10000, from as number), 'ints');
  const { server, port } = await startServer({ handlers: [rpc] });
  t.teardown(() => server.close());
  const c = await RawClient.open(port);
  t.teardown(() => c.destroy());
  const starts = [0, 100000, 200000, 300000, 400000];
  for (let i = 0; i < starts.length; i++) {
    c.write(
      post(
        '/RPC2',
        `<?xml version="1.0"?><methodCall><methodName>ints</methodName><params><param><value><int>${starts[i]}</int></value></param></params></methodCall>`,
      ),
    );
    await c.responsesCount(i + 1);
  }
  t.same(
    c.responses.map((r) => parseMethodResponse(r.body)),
    starts.map((s) => ints(10000, s)),
  );
});

t.test('a reuse that throws is reported; the response is out and the connection serves on', async (t) => {
  const errors: unknown[] = [];
  const throwing = handler(
    () => true,
    (): Response => ({
      status: 200,
      body: Buffer.from('answered'),
      reuse: () => {
        throw new Error('reuse failed');
      },
    }),
  );
  const { server, port } = await startServer({ handlers: [throwing], onError: (err) => errors.push(err) });
  t.teardown(() => server.close());
  const c = await RawClient.open(port);
  t.teardown(() => c.destroy());
  c.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  await c.responsesCount(1);
  c.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  const responses = await c.responsesCount(2);
  t.same(
    responses.map((r) => r.text()),
    ['answered', 'answered'],
  );
  t.same(
    errors.map((e) => (e as Error).message),
    ['reuse failed', 'reuse failed'],
  );
});
