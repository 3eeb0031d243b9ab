// lib/server/send.ts: a response the kernel takes at once is written with no
// callback (one would cost a tick of Node's per response); one the socket
// still holds after the write is followed all the same, by an empty write
// queued behind it, so that the connection learns when its bytes have left:
// the budget is released, the deadline and the state move on.

import t from 'tap';
import * as net from 'node:net';
import { handler, pollUntil, ServerSides, startServer, turns } from './support.js';

const BODY = Buffer.alloc(16000, 'y');

t.test('a small response the kernel takes only in part is followed until its last byte has left', async (t) => {
  let answered = 0;
  const small = handler(
    () => true,
    () => (answered++, { status: 200, body: BODY }),
  );
  const { server, port } = await startServer({ handlers: [small] });
  t.teardown(() => server.close());
  const sides = new ServerSides(server);
  const client = net.connect(port, '127.0.0.1');
  client.on('error', () => {});
  t.teardown(() => client.destroy());
  await new Promise((resolve) => client.once('connect', resolve));
  client.pause();
  const side = await sides.of(client);
  // One request at a time, each answered before the next is sent, until an answer stays in the
  // socket: that one is the first the kernel did not take at once, and the last one written.
  let sent = 0;
  while (side.socket.writableLength === 0 && sent < 4000) {
    client.write('GET /x HTTP/1.1\r\nHost: x\r\n\r\n');
    sent++;
    await pollUntil(() => answered === sent, 'the request to be answered');
    await turns(1);
  }
  t.ok(side.socket.writableLength > 0, `the socket holds part of the answer to request ${sent}`);
  t.ok(server.stats().bufferedBytes > 0, 'held, and counted');
  let got = 0;
  client.on('data', (d: Buffer) => (got += d.length));
  client.resume();
  await pollUntil(() => got > sent * BODY.length, 'the client to read every answer', 10_000);
  await pollUntil(() => server.stats().bufferedBytes === 0, 'the server to learn that the socket is empty', 2000);
  t.equal(side.socket.writableLength, 0);
});
