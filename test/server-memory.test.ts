// What the server keeps per connection (issue 16): an idle keep-alive
// connection costs its state, not a closure per callback.

import t from 'tap';
import type * as net from 'node:net';
import { RawClient, handler, post, startServer } from './support.js';

const ok = handler(
  () => true,
  () => ({ status: 200, body: 'ok' }),
);

t.test('every connection shares the same socket listeners: none is a closure made for one connection', async (t) => {
  const { server, port } = await startServer({ handlers: [ok] });
  t.teardown(() => server.close());
  // Added after the server's own 'connection' listener: the connection is set up when it runs.
  const accepted: net.Socket[] = [];
  (server as unknown as { listener: net.Server }).listener.on('connection', (socket: net.Socket) => accepted.push(socket));
  const clients = [await RawClient.open(port), await RawClient.open(port)];
  t.teardown(() => clients.forEach((c) => c.destroy()));
  for (const c of clients) {
    c.write(post('/RPC2', 'x'));
    await c.responsesCount(1);
  }
  t.equal(accepted.length, 2);
  const [a, b] = accepted as [net.Socket, net.Socket];
  for (const event of ['data', 'end', 'drain', 'error', 'close']) {
    const mine = a.listeners(event);
    const theirs = b.listeners(event);
    t.ok(mine.length > 0, `${event}: listened to`);
    t.ok(mine.length === theirs.length && mine.every((fn, i) => fn === theirs[i]), `${event}: the same functions on both sockets`);
  }
});
