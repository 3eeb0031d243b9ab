// Our client against a real peer: Python's xmlrpc.server.SimpleXMLRPCServer
// (allow_none, multicall, introspection, gzip both ways), run as a child
// process on port 0 that prints its port. A request handler subclass counts
// the connections it accepted and keeps the last request's headers, which
// the `header` method returns.

import t from 'tap';
import { spawnSync } from 'node:child_process';
import { pollUntil, spawnListening, failure } from './support.js';
import { Transport, VERSION, type OutgoingRequest } from '../lib/client/transport.js';
import type { IncomingResponse } from '../lib/client/request.js';
import { ServerProxy } from '../lib/client/proxy.js';
import { MultiCall } from '../lib/client/multicall.js';
import { dumps } from '../lib/xmlrpc/encode.js';
import { Double, I8 } from '../lib/xmlrpc/values.js';
import { Fault, ProtocolError } from '../lib/errors.js';
import { getHeader } from '../lib/http/headers.js';
import type { XmlRpcValue } from '../lib/xmlrpc/values.js';

const probe = spawnSync('python3', ['-c', 'import xmlrpc.server'], { encoding: 'utf8' });
const skip = probe.error !== undefined || probe.status !== 0 ? 'python3 with xmlrpc.server is not available on this machine' : false;

const SERVER = String.raw`
import sys, socketserver
from xmlrpc.server import SimpleXMLRPCServer, SimpleXMLRPCRequestHandler
from xmlrpc.client import Fault

mode = sys.argv[1]

class Handler(SimpleXMLRPCRequestHandler):
    rpc_paths = ('/RPC2',)
    if mode in ('keepalive', 'idleclose'):
        protocol_version = 'HTTP/1.1'
    if mode == 'idleclose':
        timeout = 0.1  # closes a connection idle for 100 ms
    def setup(self):
        super().setup()
        self.server.connections += 1
    def do_POST(self):
        self.server.last_headers = {k.lower(): v for k, v in self.headers.items()}
        super().do_POST()
    def log_message(self, *args):
        pass

class Server(socketserver.ThreadingMixIn, SimpleXMLRPCServer):
    daemon_threads = True

server = Server(('127.0.0.1', 0), requestHandler=Handler, allow_none=True, logRequests=False, use_builtin_types=True)
server.connections = 0
server.last_headers = {}
server.register_introspection_functions()
server.register_multicall_functions()
server.register_function(lambda a, b: a + b, 'add')
server.register_function(lambda x: x, 'echo')
server.register_function(lambda x: type(x).__name__, 'typeof')
def fault(code, text):
    raise Fault(code, text)
server.register_function(fault, 'fault')
def boom():
    raise ValueError('boom')
server.register_function(boom, 'boom')
server.register_function(lambda name: server.last_headers.get(name.lower()), 'header')
server.register_function(lambda: server.connections, 'connections')
server.register_function(lambda n: 'x' * n, 'text')
print(server.server_address[1], flush=True)
server.serve_forever()
`;

interface Peer {
  port: number;
  url: string;
  host: string;
}

/** Starts Python's server in `mode`; stopped in teardown. */
async function python(t: { teardown(fn: () => unknown): void }, mode: 'http10' | 'keepalive' | 'idleclose'): Promise<Peer> {
  const port = await spawnListening(t, 'python3', ['-u', '-c', SERVER, mode]);
  return { port, host: `127.0.0.1:${port}`, url: `http://127.0.0.1:${port}/RPC2` };
}

/** One Python server per mode for the whole file (each start costs ~100 ms), stopped at its end. */
const peers = new Map<string, Promise<Peer>>();
function shared(mode: 'http10' | 'keepalive'): Promise<Peer> {
  let peer = peers.get(mode);
  if (peer === undefined) {
    peer = python(t, mode);
    peers.set(mode, peer);
  }
  return peer;
}

t.test("the issue's two calls give 42 against Python's server", { skip }, async (t) => {
  const peer = await shared('http10');
  const transport = new Transport();
  const proxy = new ServerProxy(peer.url);
  t.teardown(async () => {
    await transport.close();
    await proxy.close();
  });
  t.equal(await transport.request(peer.host, '/RPC2', dumps([40, 2], 'add')), 42);
  t.equal(await proxy.add(40, 2), 42);
});

t.test('every value type round-trips through Python', { skip }, async (t) => {
  const peer = await shared('keepalive');
  const proxy = new ServerProxy(peer.url);
  t.teardown(() => proxy.close());
  const date = new Date(Date.UTC(1998, 6, 17, 14, 8, 55));
  const cases: [string, unknown, XmlRpcValue, string][] = [
    ['int', 7, 7, 'int'],
    ['int32 min', -2147483648, -2147483648, 'int'],
    ['int32 max', 2147483647, 2147483647, 'int'],
    ['boolean', true, true, 'bool'],
    ['string', 'h\u00e9llo <&> ]]> \u{1F600}', 'h\u00e9llo <&> ]]> \u{1F600}', 'str'],
    ['empty string', '', '', 'str'],
    ['double', 3.25, 3.25, 'float'],
    ['Double(2)', new Double(2), 2, 'float'],
    ['1e300', 1e300, 1e300, 'float'],
    ['5e-324', 5e-324, 5e-324, 'float'],
    ['dateTime', date, date, 'datetime'],
    ['base64', Buffer.from([0, 1, 254, 255]), Buffer.from([0, 1, 254, 255]), 'bytes'],
    ['empty base64', Buffer.alloc(0), Buffer.alloc(0), 'bytes'],
    ['nil', null, null, 'NoneType'],
    ['array', [1, 'two', [3.5, null]], [1, 'two', [3.5, null]], 'list'],
    ['empty array', [], [], 'list'],
    ['struct', { a: 1, ['__proto__']: 'p', '04': [true] }, { a: 1, ['__proto__']: 'p', '04': [true] }, 'dict'],
    ['empty struct', {}, {}, 'dict'],
    ['i8 within int32', new I8(5), 5, 'int'],
    ['i8 beyond int32, read', 2n ** 40n, 'int', 'int'],
  ];
  for (const [name, sent, expected, pythonType] of cases) {
    t.equal(await proxy.typeof(sent), pythonType, `${name}: Python sees ${pythonType}`);
    if (name !== 'i8 beyond int32, read') t.same(await proxy.echo(sent), expected, `${name}: comes back`);
  }
  const negZero = await proxy.echo(-0);
  t.ok(Object.is(negZero, -0), '-0.0 comes back -0');
  const big = 'z'.repeat(1_000_000);
  t.equal(await proxy.echo(big), big, 'a 1 MB string (gzipped by Python on the way back)');
  // Python reads <i8> but cannot write an int beyond 32 bits: its marshaller faults.
  const err = await failure(proxy.echo(2n ** 40n));
  t.match(err, { constructor: Fault, faultCode: 1, faultString: /OverflowError/ });
});

t.test("Python's faults arrive as Fault with their code and string", { skip }, async (t) => {
  const peer = await shared('http10');
  const proxy = new ServerProxy(peer.url);
  t.teardown(() => proxy.close());
  t.match(await failure(proxy.fault(42, 'the answer')), { constructor: Fault, faultCode: 42, faultString: 'the answer' });
  t.match(await failure(proxy.boom()), { constructor: Fault, faultCode: 1, faultString: "<class 'ValueError'>:boom" });
  t.match(await failure(proxy.no.such.method()), { constructor: Fault, faultCode: 1, faultString: 'method "no.such.method" is not supported' });
  const notFound = await failure(new ServerProxy(`http://127.0.0.1:${peer.port}/elsewhere`).add(1, 2));
  t.match(notFound, { constructor: ProtocolError, status: 404, body: 'No such page' });
});

t.test('MultiCall and introspection against Python', { skip }, async (t) => {
  const peer = await shared('http10');
  const proxy = new ServerProxy(peer.url);
  t.teardown(() => proxy.close());
  const multi = new MultiCall(proxy);
  multi.add(1, 2);
  multi.fault(7, 'seven');
  multi.echo({ k: [1, 2] });
  multi.system.methodHelp('add');
  multi.nope();
  const results = await multi.run();
  t.equal(results[0], 3);
  t.match(results[1], { constructor: Fault, faultCode: 7, faultString: 'seven' });
  t.same(results[2], { k: [1, 2] });
  t.equal(typeof results[3], 'string');
  t.match(results[4], { constructor: Fault, faultCode: 1 });
  const methods = (await proxy.system.listMethods()) as string[];
  for (const name of ['add', 'echo', 'system.multicall', 'system.listMethods']) t.ok(methods.includes(name), name);
});

t.test('gzip both ways: Python decodes our gzip requests and gzips its large responses', { skip }, async (t) => {
  const peer = await shared('http10');
  const encodings: (string | undefined)[] = [];
  class Watching extends Transport {
    protected override async parseResponse(response: IncomingResponse, req: OutgoingRequest): Promise<XmlRpcValue> {
      encodings.push(getHeader(response.headers, 'content-encoding'));
      return super.parseResponse(response, req);
    }
  }
  const transport = new Watching({ gzipRequests: 0 });
  const proxy = new ServerProxy(peer.url, { transport });
  t.teardown(() => proxy.close());
  t.equal(await proxy.header('Content-Encoding'), 'gzip', 'Python saw a gzip request');
  t.equal(await proxy.header('Accept-Encoding'), 'gzip');
  t.equal(((await proxy.text(5000)) as string).length, 5000);
  t.equal(await proxy.echo('small'), 'small');
  t.same(encodings, [undefined, undefined, 'gzip', undefined], 'responses over 1400 bytes came back gzipped');
});

t.test('Basic auth from the URL, custom headers and the User-Agent reach Python', { skip }, async (t) => {
  const peer = await shared('http10');
  const proxy = new ServerProxy(`http://al%40ice:p%3Ass@127.0.0.1:${peer.port}/RPC2`, { headers: { 'X-Token': 'abc' } });
  const plain = new ServerProxy(peer.url);
  t.teardown(async () => {
    await proxy.close();
    await plain.close();
  });
  t.equal(await proxy.header('Authorization'), `Basic ${Buffer.from('al@ice:p:ss').toString('base64')}`);
  t.equal(await proxy.header('X-Token'), 'abc');
  t.equal(await proxy.header('User-Agent'), `medusa-xmlrpc/${VERSION}`);
  t.equal(await proxy.header('Host'), `127.0.0.1:${peer.port}`);
  t.equal(await proxy.header('Content-Type'), 'text/xml');
  t.equal(await plain.header('Authorization'), null, 'none without credentials');
});

t.test('Python in HTTP/1.0 closes after each call: nothing is pooled', { skip }, async (t) => {
  const peer = await shared('http10');
  const proxy = new ServerProxy(peer.url);
  t.teardown(() => proxy.close());
  const before = (await proxy.connections()) as number;
  for (let i = 0; i < 5; i++) t.equal(await proxy.add(i, 1), i + 1);
  t.equal(await proxy.connections(), before + 6, 'one connection per call');
  await pollUntil(() => proxy.transport.stats().open === 0, 'every socket to close');
});

t.test('Python with HTTP/1.1 keep-alive: one socket for many calls', { skip }, async (t) => {
  const peer = await shared('keepalive');
  const proxy = new ServerProxy(peer.url);
  t.teardown(() => proxy.close());
  const before = (await proxy.connections()) as number;
  for (let i = 0; i < 20; i++) t.equal(await proxy.add(i, 1), i + 1);
  t.equal(await proxy.connections(), before, 'no new connection: one socket carried all 22 calls');
  t.same(proxy.transport.stats(), { open: 1, idle: 1, waiting: 0 });
});

t.test('Python closing an idle keep-alive connection does not fail the next call', { skip }, async (t) => {
  const peer = await python(t, 'idleclose');
  const proxy = new ServerProxy(peer.url);
  t.teardown(() => proxy.close());
  t.equal(await proxy.add(1, 2), 3);
  await pollUntil(() => proxy.transport.stats().open === 0, 'Python to close the idle connection and the client to drop it');
  t.equal(await proxy.add(3, 4), 7);
  t.equal(await proxy.connections(), 2);
});
