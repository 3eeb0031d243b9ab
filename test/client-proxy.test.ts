// ServerProxy against our server: property access is a remote call, dotted
// names work, and what JavaScript itself probes (then, toJSON, inspect,
// symbols) never becomes a request.

import t from 'tap';
import { inspect } from 'node:util';
import { ServerProxy } from '../lib/client/proxy.js';
import { Transport } from '../lib/client/transport.js';
import { EncodeError, Fault, TransportError, TransportErrorCode } from '../lib/errors.js';
import { demoServer, scriptedServer, selfSignedCertificate, pollUntil, ManualClock, type DemoServer, failure } from './support.js';

async function setup(t: { teardown(fn: () => unknown): void }): Promise<{ s: DemoServer; proxy: ServerProxy; url: string }> {
  const s = await demoServer();
  const url = `http://127.0.0.1:${s.port}/RPC2`;
  const proxy = new ServerProxy(url);
  t.teardown(async () => {
    await proxy.close();
    await s.close();
  });
  return { s, proxy, url };
}

t.test('await new ServerProxy(url).add(40, 2) is 42', async (t) => {
  const { proxy } = await setup(t);
  t.equal(await proxy.add(40, 2), 42);
});

t.test('dotted names reach nested methods; call() reaches any name', async (t) => {
  const { proxy, s } = await setup(t);
  const methods = (await proxy.system.listMethods()) as string[];
  t.ok(methods.includes('validator1.easyStructTest'));
  t.equal(await proxy.validator1.easyStructTest({ moe: 1, larry: 2, curly: 3 }), 6);
  t.equal(await proxy.call('validator1.easyStructTest', { moe: 1, larry: 2, curly: 4 }), 7);
  t.equal(await proxy.call('add', 1, 2), 3);
  const err = await failure(proxy.call('not-an-identifier!', 1));
  t.match(err, { constructor: Fault, faultCode: -32601 });
  t.equal(await proxy['system']['methodHelp']('echo'), 'echo(x): returns its argument unchanged, whatever its type.');
  t.same(
    s.requests.map((r) => r.path),
    Array(6).fill('/RPC2'),
  );
});

t.test('the proxy is an ordinary object to await, JSON, inspect, String and symbols: none of them makes a call', async (t) => {
  const { proxy, s, url } = await setup(t);
  // eslint-disable-next-line @typescript-eslint/await-thenable -- awaiting it is the test: the proxy must not look thenable
  t.equal(await proxy, proxy, 'await proxy resolves to the proxy itself');
  t.equal(await Promise.resolve(proxy), proxy);
  const system = proxy.system;
  // eslint-disable-next-line @typescript-eslint/await-thenable -- awaiting it is the test: a method object must not look thenable
  t.equal(await system, system, 'a method object is not thenable either');
  t.equal(JSON.stringify(proxy), JSON.stringify({ url }));
  t.equal(inspect(proxy), `<ServerProxy for ${url}>`);
  t.equal(String(proxy), `<ServerProxy for ${url}>`);
  // eslint-disable-next-line @typescript-eslint/restrict-template-expressions -- the template literal is the test: it stringifies through the proxy's own toString
  t.equal(`${proxy}`, `<ServerProxy for ${url}>`);
  t.equal(inspect(proxy.system.listMethods), '[XML-RPC method system.listMethods]');
  t.equal(String(proxy.add), '[XML-RPC method add]');
  t.equal(proxy[Symbol.iterator as never], undefined);
  t.equal(proxy[Symbol.toPrimitive as never], undefined);
  t.equal(typeof proxy.then, 'undefined');
  t.equal(typeof proxy.toJSON, 'function', "toJSON is the proxy's own");
  t.equal(typeof proxy.inspect, 'undefined');
  t.equal(proxy.constructor, ServerProxy);
  t.ok(proxy instanceof ServerProxy);
  t.type(proxy.transport, Transport);
  t.equal(proxy.url, url);
  t.equal(s.requests.length, 0, 'no request was made');
});

t.test('a method object is itself a namespace, and its name is kept whole', async (t) => {
  const { proxy, s } = await setup(t);
  const system = proxy.system;
  const listMethods = system.listMethods;
  t.type(listMethods, 'function');
  t.ok(Array.isArray(await listMethods()));
  // rtorrent-style names: `name` and `length` are remote names, not the
  // function's (TypeScript types them as Function's, hence the casts).
  await (proxy.d.name as unknown as (x: string) => Promise<unknown>)('x').catch(() => {});
  await (proxy.f['length' as string] as () => Promise<unknown>)().catch(() => {});
  const names = s.requests.map((r) => r.body.toString().match(/<methodName>(.*)<\/methodName>/)![1]);
  t.same(names, ['system.listMethods', 'd.name', 'f.length']);
});

t.test('faults reject with the Fault; values that cannot be encoded reject with EncodeError before any request', async (t) => {
  const { proxy, s } = await setup(t);
  t.match(await failure(proxy.add(1)), { constructor: Fault, faultCode: -32602 });
  t.match(await failure(proxy.no.such.method()), { constructor: Fault, faultCode: -32601 });
  const before = s.requests.length;
  t.type(await failure(proxy.echo(NaN)), EncodeError);
  t.type(await failure(proxy.echo(Symbol('x'))), EncodeError);
  t.equal(s.requests.length, before);
});

t.test('credentials in the URL become Basic auth; the URL shown has none', async (t) => {
  const s = await demoServer();
  const proxy = new ServerProxy(`http://al%40ice:s3cr%3At@127.0.0.1:${s.port}/RPC2`);
  t.teardown(async () => {
    await proxy.close();
    await s.close();
  });
  t.equal(await proxy.add(1, 1), 2);
  t.equal(s.requests[0]!.header('authorization'), `Basic ${Buffer.from('al@ice:s3cr:t').toString('base64')}`);
  t.equal(proxy.url, `http://127.0.0.1:${s.port}/RPC2`);
  t.notMatch(inspect(proxy), 's3cr');
  t.notMatch(JSON.stringify(proxy), 's3cr');
});

t.test('a URL without a path calls /RPC2; headers and other transport options pass through', async (t) => {
  const { s } = await setup(t);
  const proxy = new ServerProxy(`http://127.0.0.1:${s.port}`, { headers: { 'X-Token': 't1' }, userAgent: 'test-agent' });
  t.teardown(() => proxy.close());
  t.equal(await proxy.add(2, 2), 4);
  t.equal(s.requests[0]!.path, '/RPC2');
  t.equal(s.requests[0]!.header('x-token'), 't1');
  t.equal(s.requests[0]!.header('user-agent'), 'test-agent');
});

t.test('withOptions() gives a view whose calls carry a signal, a timeout and headers, sharing the transport', async (t) => {
  const s = await scriptedServer(() => {}); // never answers
  const clock = new ManualClock();
  const proxy = new ServerProxy(`http://127.0.0.1:${s.port}/RPC2`, { clock });
  t.teardown(async () => {
    await proxy.close();
    await s.close();
  });
  const timed = proxy.withOptions({ timeout: 20, headers: { 'X-A': '1' } });
  t.equal(timed.transport, proxy.transport);
  const timingOut = failure(timed.add(1, 2));
  await pollUntil(() => s.requests.length === 1, 'the first request');
  clock.advance(20);
  t.match(await timingOut, { constructor: TransportError, code: TransportErrorCode.TIMEOUT });
  const controller = new AbortController();
  const aborting = failure(timed.withOptions({ signal: controller.signal, timeout: 0, headers: { 'X-B': '2' } }).system.listMethods());
  await pollUntil(() => s.requests.length === 2, 'the second request');
  controller.abort();
  t.match(await aborting, { constructor: TransportError, code: TransportErrorCode.ABORTED });
  const headers = s.requests[1]!.head.headers;
  t.ok(headers.includes('x-a') && headers.includes('x-b'), 'headers of both views are merged');
});

t.test('close() releases the connections; the proxy can still call afterwards', async (t) => {
  const { proxy, s } = await setup(t);
  await proxy.add(1, 2);
  t.equal(proxy.transport.stats().idle, 1);
  await proxy.close();
  t.same(proxy.transport.stats(), { open: 0, idle: 0, waiting: 0 });
  await pollUntil(() => s.server.connectionCount === 0, 'the server to see the close');
  t.equal(await proxy.add(2, 3), 5);
});

t.test('URL, scheme and transport mismatches are refused', async (t) => {
  t.throws(() => new ServerProxy('ftp://127.0.0.1/'), TypeError);
  t.throws(() => new ServerProxy('https://127.0.0.1/', { transport: new Transport() }), { message: /not secure but the URL is https/ });
  t.throws(() => new ServerProxy('http://127.0.0.1/', { transport: new Transport({ secure: true }) }), TypeError);
  t.throws(() => new ServerProxy('http://127.0.0.1/', { transport: new Transport(), timeout: 5 }), { message: /either a transport or transport options/ });
  t.throws(() => new ServerProxy('http://127.0.0.1/', { transport: {} as Transport }), TypeError);
  const shared = new Transport();
  const a = new ServerProxy('http://127.0.0.1:1/', { transport: shared });
  t.equal(a.transport, shared);
});

const cert = selfSignedCertificate();

t.test('an https URL makes a secure transport', { skip: typeof cert === 'string' ? cert : false }, async (t) => {
  const { key, cert: pem } = cert as { key: Buffer; cert: Buffer };
  const s = await demoServer({ tls: { key, cert: pem } });
  const proxy = new ServerProxy(`https://localhost:${s.port}/RPC2`, { tls: { ca: pem } });
  t.teardown(async () => {
    await proxy.close();
    await s.close();
  });
  t.equal(proxy.transport.secure, true);
  t.equal(await proxy.add(40, 2), 42);
  t.equal(s.requests[0]!.header('host'), `localhost:${s.port}`);
});
