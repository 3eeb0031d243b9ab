// MultiCall: queued calls go out as one system.multicall; results come back
// in order, each a value or a Fault.

import t from 'tap';
import { inspect } from 'node:util';
import { MultiCall } from '../lib/client/multicall.js';
import { ServerProxy } from '../lib/client/proxy.js';
import { Fault, ResponseError } from '../lib/errors.js';
import { loads } from '../lib/xmlrpc/decode.js';
import { demoServer, httpResponse, scriptedServer } from './support.js';

t.test('queued calls go out in one request; results come back in order, a Fault in its slot', async (t) => {
  const s = await demoServer();
  const proxy = new ServerProxy(`http://127.0.0.1:${s.port}/RPC2`);
  t.teardown(async () => {
    await proxy.close();
    await s.close();
  });
  const multi = new MultiCall(proxy);
  t.equal(multi.add(1, 2), 0, 'a queued call returns its index');
  t.equal(multi.no.such.method(), 1);
  t.equal(multi.system.methodHelp('add'), 2);
  t.equal(multi.queue('validator1.simpleStructReturnTest', 3), 3);
  t.equal(multi.echo([1, 'x']), 4);
  t.equal(multi.length, 5);
  t.equal(s.requests.length, 0, 'nothing is sent while queueing');
  const results = await multi.run();
  t.equal(s.requests.length, 1, 'one request');
  t.equal(loads(s.requests[0]!.body).methodName, 'system.multicall');
  t.equal(results.length, 5);
  t.equal(results[0], 3);
  t.type(results[1], Fault);
  t.equal((results[1] as Fault).faultCode, -32601);
  t.match(results[2], /sum of two numbers/);
  t.same(results[3], { times10: 30, times100: 300, times1000: 3000 });
  t.same(results[4], [1, 'x']);
  t.equal(multi.length, 0, 'run() empties the queue');
});

t.test('run() with nothing queued resolves [] without a request', async (t) => {
  const s = await demoServer();
  const proxy = new ServerProxy(`http://127.0.0.1:${s.port}/RPC2`);
  t.teardown(async () => {
    await proxy.close();
    await s.close();
  });
  t.same(await new MultiCall(proxy).run(), []);
  t.equal(s.requests.length, 0);
});

t.test('a MultiCall is reusable, and is an ordinary object to await and inspect', async (t) => {
  const s = await demoServer();
  const proxy = new ServerProxy(`http://127.0.0.1:${s.port}/RPC2`);
  t.teardown(async () => {
    await proxy.close();
    await s.close();
  });
  const multi = new MultiCall(proxy);
  // eslint-disable-next-line @typescript-eslint/await-thenable -- awaiting it is the test: a MultiCall must not be thenable
  t.equal(await multi, multi);
  multi.add(1, 1);
  t.equal(inspect(multi), `<MultiCall 1 queued for http://127.0.0.1:${s.port}/RPC2>`);
  t.same(await multi.run(), [2]);
  multi.add(2, 2);
  multi.add(3, 3);
  t.same(await multi.run({ timeout: 5000, headers: { 'X-Batch': '2' } }), [4, 6]);
  t.equal(s.requests[1]!.header('x-batch'), '2', 'run() options apply to the multicall request');
  t.equal(s.requests.length, 2);
});

t.test('a malformed slot is a ResponseError in that slot; a wrong count rejects the run', async (t) => {
  const answers = [
    // [value], fault, then three malformed slots: [] , [a, b], a struct that is not a fault
    '<array><data>' +
      '<value><array><data><value><int>1</int></value></data></array></value>' +
      '<value><struct><member><name>faultCode</name><value><int>4</int></value></member><member><name>faultString</name><value>no</value></member></struct></value>' +
      '<value><array><data></data></array></value>' +
      '<value><array><data><value>a</value><value>b</value></data></array></value>' +
      '<value><struct><member><name>faultCode</name><value>x</value></member></struct></value>' +
      '</data></array>',
    '<array><data><value><array><data><value><int>1</int></value></data></array></value></data></array>',
    '<string>not an array</string>',
  ];
  let i = 0;
  const s = await scriptedServer(({ socket }) =>
    socket.write(httpResponse(`<?xml version="1.0"?><methodResponse><params><param><value>${answers[i++]}</value></param></params></methodResponse>`)),
  );
  const proxy = new ServerProxy(`http://127.0.0.1:${s.port}/RPC2`);
  t.teardown(async () => {
    await proxy.close();
    await s.close();
  });
  const multi = new MultiCall(proxy);
  for (let k = 0; k < 5; k++) multi.queue(`m${k}`);
  const results = await multi.run();
  t.equal(results[0], 1);
  t.match(results[1], { constructor: Fault, faultCode: 4, faultString: 'no' });
  for (const k of [2, 3, 4]) {
    t.type(results[k], ResponseError, `slot ${k}`);
    t.match((results[k] as ResponseError).message, `system.multicall result ${k} (m${k}) is neither [value] nor a fault struct`);
  }
  multi.queue('a');
  multi.queue('b');
  await t.rejects(multi.run(), { constructor: ResponseError, message: /answered 1 results for 2 calls/ });
  multi.queue('a');
  await t.rejects(multi.run(), { constructor: ResponseError, message: /answered string for 1 calls/ });
});

t.test('a server without system.multicall rejects the run with its Fault', async (t) => {
  const s = await scriptedServer(({ socket }) =>
    socket.write(
      httpResponse(
        '<?xml version="1.0"?><methodResponse><fault><value><struct><member><name>faultCode</name><value><int>-32601</int></value></member><member><name>faultString</name><value>no multicall</value></member></struct></value></fault></methodResponse>',
      ),
    ),
  );
  const proxy = new ServerProxy(`http://127.0.0.1:${s.port}/RPC2`);
  t.teardown(async () => {
    await proxy.close();
    await s.close();
  });
  const multi = new MultiCall(proxy);
  multi.add(1, 2);
  const err = await multi.run().then(
    () => null,
    (e: unknown) => e,
  );
  t.match(err, { constructor: Fault, faultCode: -32601, faultString: 'no multicall' });
});

t.test('MultiCall needs a ServerProxy and a method name', async (t) => {
  t.throws(() => new MultiCall({} as ServerProxy), TypeError);
  const multi = new MultiCall(new ServerProxy('http://127.0.0.1:1/RPC2'));
  t.throws(() => multi.queue(''), TypeError);
});
