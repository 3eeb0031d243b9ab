// Parallel calls against a real peer: Python's SimpleXMLRPCServer, as users
// run it. Its default handler speaks HTTP/1.0 and closes after every
// response; with protocol_version HTTP/1.1 it keeps the connection and reads
// pipelined requests one after another. Every strategy must get every answer
// from both.

import t from 'tap';
import { spawnSync } from 'node:child_process';
import { spawnListening } from './support.js';
import { ParallelServerProxy, runJobs } from '../lib/client/parallel.js';
import { Transport } from '../lib/client/transport.js';
import { dumps } from '../lib/xmlrpc/encode.js';

const probe = spawnSync('python3', ['-c', 'import xmlrpc.server'], { encoding: 'utf8' });
const skip = probe.error !== undefined || probe.status !== 0 ? 'python3 with xmlrpc.server is not available on this machine' : false;

const SERVER = String.raw`
import sys, socketserver
from xmlrpc.server import SimpleXMLRPCServer, SimpleXMLRPCRequestHandler

class Handler(SimpleXMLRPCRequestHandler):
    rpc_paths = ('/RPC2',)
    if sys.argv[1] == 'keepalive':
        protocol_version = 'HTTP/1.1'
    def setup(self):
        super().setup()
        self.server.connections += 1
    def log_message(self, *args):
        pass

class Server(socketserver.ThreadingMixIn, SimpleXMLRPCServer):
    daemon_threads = True

server = Server(('127.0.0.1', 0), requestHandler=Handler, allow_none=True, logRequests=False)
server.connections = 0
server.register_function(lambda a, b: a + b, 'add')
server.register_function(lambda: server.connections, 'connections')
print(server.server_address[1], flush=True)
server.serve_forever()
`;

/** Starts Python's server (HTTP/1.0, or HTTP/1.1 keep-alive); stopped in teardown. */
async function python(t: { teardown(fn: () => unknown): void }, mode: 'http10' | 'keepalive'): Promise<string> {
  const port = await spawnListening(t, 'python3', ['-u', '-c', SERVER, mode]);
  return `http://127.0.0.1:${port}/RPC2`;
}

t.test("Python's default HTTP/1.0 server: every strategy gets every answer; pipelining falls back to a request per connection", { skip }, async (t) => {
  const url = await python(t, 'http10');
  for (const strategy of ['concurrent', 'pipelined', 'hybrid'] as const) {
    const pairs = await runJobs(
      Array.from({ length: 12 }, (_, i) => [url, 'add', [i, 1]] as const),
      { strategy, timeout: 10_000 },
    );
    t.same(
      pairs,
      Array.from({ length: 12 }, (_, i) => [i + 1, null]),
      `${strategy}: every call answered, none lost to a closed connection`,
    );
  }
});

t.test('Python with HTTP/1.1 keep-alive reads pipelined requests in turn: the answers match, on one connection', { skip }, async (t) => {
  const url = await python(t, 'keepalive');
  const psp = new ParallelServerProxy(Array(10).fill(url), { strategy: 'pipelined', timeout: 10_000 });
  t.teardown(() => psp.close());
  const counter = new ParallelServerProxy([url]);
  const before = (await counter.connections())[0]![0] as number;
  await counter.close();
  const pairs = await psp.add(20, 22);
  t.same(pairs, Array(10).fill([42, null]));
  const { host } = new URL(url);
  const pipeline = new Transport().openPipeline(host, { waitForKeepAlive: false });
  const sums = await Promise.all(Array.from({ length: 10 }, (_, i) => pipeline.request('/RPC2', dumps([i, i], 'add'))));
  t.same(
    sums,
    Array.from({ length: 10 }, (_, i) => 2 * i),
    'ten requests written at once, ten answers in order',
  );
  await pipeline.close();
  const after = (await psp.connections())[0]![0] as number;
  t.ok(after - before <= 3, `a connection for the proxy and one for the pipeline (${after - before} new)`);
});
