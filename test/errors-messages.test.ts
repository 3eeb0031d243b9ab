// Error messages a user reads: an EncodeError names the method and where
// the value sits among the parameters; a ProtocolError is one line; a plain
// http: URL to a TLS port says to use https:.

import * as net from 'node:net';
import * as tls from 'node:tls';
import t from 'tap';
import { ServerProxy } from '../lib/client/proxy.js';
import { EncodeError, ProtocolError, ResponseError, TransportError } from '../lib/errors.js';
import { dumps, encodeValue } from '../lib/xmlrpc/encode.js';
import { failure, handler, selfSignedCertificate, startServer } from './support.js';

function encodeFailure(f: () => unknown): EncodeError {
  try {
    f();
  } catch (err) {
    if (err instanceof EncodeError) return err;
    throw err;
  }
  throw new Error('expected an EncodeError');
}

t.test('an EncodeError names the method and the parameter path', async (t) => {
  const cases: [string, () => unknown, string, string][] = [
    ['a struct member array item', () => dumps([1, { items: [0, 1, 2, () => 0] }], 'order.place'), 'order.place', 'params[1].items[3]'],
    ['a top-level parameter', () => dumps([1n << 70n], 'add'), 'add', 'params[0]'],
    ['a member name that is not an identifier', () => dumps([{ 'odd name': ['ok', Symbol('s')] }], 'm'), 'm', 'params[0]["odd name"][1]'],
    ['a Map value', () => dumps([new Map([['k', { deep: [undefined, () => 1] }]])], 'm'), 'm', 'params[0].k.deep[1]'],
    ['a lone surrogate in a nested string', () => dumps([[['\uD800']]], 'echo'), 'echo', 'params[0][0][0]'],
  ];
  for (const [what, f, method, path] of cases) {
    const err = encodeFailure(f);
    t.equal(err.method, method, `${what}: method`);
    t.equal(err.path, path, `${what}: path`);
    t.ok(err.message.startsWith(`${method}: ${path}: `), `${what}: message ${JSON.stringify(err.message)}`);
    t.equal(err.message, `${method}: ${path}: ${err.reason}`);
    t.notMatch(err.message, /\n/, `${what}: one line`);
  }
  const cycle: unknown[] = [1];
  cycle.push({ back: cycle });
  t.equal(encodeFailure(() => dumps([cycle], 'm')).path, 'params[0][1].back', 'a cycle: where it closes');
  const response = encodeFailure(() => dumps([{ a: [() => 0] }], { methodResponse: true }));
  t.equal(response.message, `result.a[0]: ${response.reason}`, 'a response: its result path, no method');
  const value = encodeFailure(() => encodeValue([0, () => 0]));
  t.equal(value.path, 'value[1]');
  t.equal(new EncodeError('plain').message, 'plain', 'no method, no path: the reason alone');
});

t.test('a ServerProxy call that cannot be encoded names the method and the path', async (t) => {
  const proxy = new ServerProxy('http://127.0.0.1:9/RPC2');
  const err = await failure(proxy.shop.order(1, { items: [1, 2, 3, NaN] }));
  t.type(err, EncodeError);
  t.match(err.message, /^shop\.order: params\[1\]\.items\[3\]: /);
});

t.test('a ProtocolError message is one line, without a trailing newline', async (t) => {
  const page = '<html>\n  <body>\n    <h1>Not here</h1>\n  </body>\n</html>\n';
  const { server, port } = await startServer({
    handlers: [
      handler(
        () => true,
        () => ({ status: 404, headers: { 'content-type': 'text/html' }, body: page }),
      ),
    ],
  });
  t.teardown(() => server.close());
  const err = await failure(new ServerProxy(`http://127.0.0.1:${port}/RPC2`).add(1, 2));
  t.type(err, ProtocolError);
  t.notMatch(err.message, /\n/);
  t.equal(err.message, err.message.trim());
  t.match(err.message, /HTTP 404 Not Found: <html> <body> <h1>Not here<\/h1> <\/body> <\/html>$/);
  t.equal((err as ProtocolError).body, page, 'the body itself is kept as it came');
});

t.test('http: to a TLS port says to use https:', async (t) => {
  const cert = selfSignedCertificate();
  if (typeof cert === 'string') {
    t.comment(`skipped: ${cert}`);
    return;
  }
  // Node's TLS server closes a plain-HTTP connection without a byte.
  const server = tls.createServer({ key: cert.key, cert: cert.cert }, (socket) => socket.destroy());
  server.on('tlsClientError', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const { port } = server.address() as net.AddressInfo;
  const proxy = new ServerProxy(`http://127.0.0.1:${port}/RPC2`);
  t.teardown(() => proxy.close());
  const err = await failure(proxy.add(1, 2));
  t.type(err, TransportError);
  t.match(err.message, /if that port speaks TLS, use an https: URL$/);
  t.notMatch(err.message, /\n/);
});

t.test('http: to a server answering with a TLS alert record says so', async (t) => {
  // What a TLS server that answers garbage with an alert sends: a record of type 21 (alert), TLS 1.2, fatal protocol_version.
  const alert = Buffer.from([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x46]);
  const server = net.createServer((socket) => socket.once('data', () => socket.end(alert)));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const { port } = server.address() as net.AddressInfo;
  const proxy = new ServerProxy(`http://127.0.0.1:${port}/RPC2`);
  t.teardown(() => proxy.close());
  const err = await failure(proxy.add(1, 2));
  t.type(err, TransportError);
  t.match(err.message, /the server answered with TLS, not HTTP, and closed the connection: if that port speaks TLS, use an https: URL/);
  t.notMatch(err.message, /\n/);
});

t.test('a plain-HTTP garbage answer gets no TLS hint', async (t) => {
  const server = net.createServer((socket) => socket.once('data', () => socket.end('SSH-2.0-OpenSSH\r\n')));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const { port } = server.address() as net.AddressInfo;
  const proxy = new ServerProxy(`http://127.0.0.1:${port}/RPC2`);
  t.teardown(() => proxy.close());
  const err = await failure(proxy.add(1, 2));
  t.type(err, ResponseError);
  t.notMatch(err.message, /TLS/);
});
