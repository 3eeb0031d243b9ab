// `await using` closes a ServerProxy, Transport, ParallelServerProxy and
// Server (Symbol.asyncDispose); typed proxies call the real server. The
// compile-time side of the typed proxies is test/client-types.ts.

import t from 'tap';
import { MultiCall } from '../lib/client/multicall.js';
import { ParallelServerProxy } from '../lib/client/parallel.js';
import { ServerProxy } from '../lib/client/proxy.js';
import { Transport } from '../lib/client/transport.js';
import { Server } from '../lib/server/server.js';
import { DemoHandler } from '../handlers/demo.js';
import { demoServer } from './support.js';

interface Demo {
  add(a: number, b: number): number;
  system: { listMethods(): string[] };
}

t.test('await using closes a ServerProxy, a Transport and a ParallelServerProxy at the end of the block', async (t) => {
  const demo = await demoServer();
  t.teardown(() => demo.close());
  const url = `http://127.0.0.1:${demo.port}/RPC2`;
  let proxy: ServerProxy<Demo>;
  let transport: Transport;
  let psp: ParallelServerProxy<Demo>;
  {
    await using p = new ServerProxy<Demo>(url);
    await using tr = new Transport();
    await using ps = new ParallelServerProxy<Demo>([url, url]);
    proxy = p;
    transport = tr;
    psp = ps;
    t.equal(await p.add(40, 2), 42);
    await tr.request(
      `127.0.0.1:${demo.port}`,
      '/RPC2',
      '<?xml version="1.0"?><methodCall><methodName>add</methodName><params><param><value><int>1</int></value></param><param><value><int>2</int></value></param></params></methodCall>',
    );
    const pairs = await ps.add(1, 2);
    t.same(
      pairs.map(([result]) => result),
      [3, 3],
    );
    t.equal(p.transport.stats().open, 1, 'the proxy keeps its connection while in scope');
    t.equal(tr.stats().open, 1);
    t.ok(ps.stats().connections > 0);
  }
  t.equal(proxy.transport.stats().open, 0, 'the proxy is closed');
  t.equal(transport.stats().open, 0, 'the transport is closed');
  t.equal(psp.stats().connections, 0, 'the parallel proxy is closed');
});

t.test('await using closes a Server at the end of the block', async (t) => {
  let server: Server;
  {
    await using s = new Server({ handlers: [new DemoHandler()] });
    server = s;
    const { port } = await s.listen(0, '127.0.0.1');
    await using proxy = new ServerProxy<Demo>(`http://127.0.0.1:${port}/RPC2`);
    t.equal(await proxy.add(1, 2), 3);
    t.ok(server.address !== null, 'listening in the block');
  }
  t.equal(server.address, null, 'closed after it');
});

t.test('a typed MultiCall and call() reach the server as the untyped ones do', async (t) => {
  const demo = await demoServer();
  t.teardown(() => demo.close());
  await using proxy = new ServerProxy<Demo>(`http://127.0.0.1:${demo.port}/RPC2`);
  t.equal(await proxy.call('add', 2, 3), 5);
  const names = await proxy.system.listMethods();
  t.ok(names.includes('add'));
  const multi = new MultiCall(proxy);
  multi.add(1, 1);
  multi.queue('add', 2, 2);
  t.same(await multi.run<[number, number]>(), [2, 4]);
});
