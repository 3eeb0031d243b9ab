import t from 'tap';
import { Fault } from '../lib/errors.js';
import { XmlRpcHandler } from '../lib/rpc/handler.js';
import { bufferDumps, dumps } from '../lib/xmlrpc/encode.js';
import { loads } from '../lib/xmlrpc/decode.js';
import type { XmlRpcValue } from '../lib/xmlrpc/values.js';
import { RawClient, rpc, startServer } from './support.js';

class Calculator extends XmlRpcHandler {
  override call(method: string, params: XmlRpcValue[]): unknown {
    const [a, b] = params as number[];
    switch (method) {
      case 'add':
        return a! + b!;
      case 'slowAdd':
        // Answered on a later turn of the event loop: async, with no clock.
        return new Promise<void>((resolve) => setImmediate(resolve)).then(() => a! + b!);
      case 'fault':
        throw new Fault(42, 'the answer');
      case 'asyncFault':
        return Promise.reject(new Fault(43, 'async answer'));
      case 'crash':
        throw new TypeError('secret internals');
      case 'nan':
        return NaN;
      default:
        return super.call(method, params);
    }
  }
}

function decode(body: string): { value?: unknown; fault?: Fault } {
  try {
    return { value: loads(body).params[0] };
  } catch (err) {
    if (err instanceof Fault) return { fault: err };
    throw err;
  }
}

t.test('a subclass overriding call() serves methods, sync and async', async (t) => {
  const { server, port } = await startServer({ handlers: [new Calculator()] });
  t.teardown(() => server.close());
  const r = await rpc(port, dumps([40, 2], 'add'));
  t.equal(r.status, 200);
  t.match(r.header('content-type'), /^text\/xml/);
  t.same(decode(r.text()), { value: 42 });
  t.same(decode((await rpc(port, dumps([1, 2], 'slowAdd'))).text()), { value: 3 });
});

t.test('a thrown Fault goes out as is, sync or async', async (t) => {
  const { server, port } = await startServer({ handlers: [new Calculator()] });
  t.teardown(() => server.close());
  for (const [method, code, text] of [
    ['fault', 42, 'the answer'],
    ['asyncFault', 43, 'async answer'],
  ] as const) {
    const { fault } = decode((await rpc(port, dumps([], method))).text());
    t.equal(fault?.faultCode, code);
    t.equal(fault?.faultString, text);
  }
});

t.test('any other error is fault -32500 with the message only, and is logged', async (t) => {
  const errors: unknown[] = [];
  const { server, port } = await startServer({ handlers: [new Calculator()], onError: (e) => errors.push(e) });
  t.teardown(() => server.close());
  const r = await rpc(port, dumps([], 'crash'));
  t.equal(r.status, 200);
  const { fault } = decode(r.text());
  t.equal(fault?.faultCode, -32500);
  t.equal(fault?.faultString, 'TypeError: secret internals');
  t.notMatch(r.text(), /at Calculator|\.js:/, 'no stack trace');
  t.equal(errors.length, 1);
});

t.test('an unknown method is fault -32601', async (t) => {
  const { server, port } = await startServer({ handlers: [new Calculator()] });
  t.teardown(() => server.close());
  t.equal(decode((await rpc(port, dumps([], 'nope'))).text()).fault?.faultCode, -32601);
});

t.test('a result that cannot be encoded is fault -32603, logged, and the call still answered', async (t) => {
  const errors: unknown[] = [];
  const { server, port } = await startServer({ handlers: [new Calculator()], onError: (e) => errors.push(e) });
  t.teardown(() => server.close());
  const { fault } = decode((await rpc(port, dumps([], 'nan'))).text());
  t.equal(fault?.faultCode, -32603);
  t.equal(errors.length, 1);
});

t.test('malformed bodies get the interop fault code with HTTP 200', async (t) => {
  const { server, port } = await startServer({ handlers: [new Calculator()] });
  t.teardown(() => server.close());
  // prettier-ignore
  const cases: [string, number][] = [
    ['not xml at all', -32700],
    ['<methodCall><methodName>add</methodName>', -32700],
    ['<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><methodCall><methodName>add</methodName></methodCall>', -32700],
    ['<?xml version="1.0" encoding="x-no-such"?><methodCall><methodName>a</methodName></methodCall>', -32701],
    ['<methodResponse><params/></methodResponse>', -32600],
    ['<methodCall><params/></methodCall>', -32600],
    ['<methodCall><methodName>add</methodName><params><param><value><int>x</int></value></param></params></methodCall>', -32600],
  ];
  for (const [body, code] of cases) {
    const r = await rpc(port, body);
    t.equal(r.status, 200, body);
    t.equal(decode(r.text()).fault?.faultCode, code, body);
  }
  const bad = await RawClient.open(port);
  t.teardown(() => bad.destroy());
  bad.write(
    Buffer.concat([
      Buffer.from('POST /RPC2 HTTP/1.1\r\nHost: x\r\nContent-Length: 52\r\n\r\n'),
      Buffer.from('<methodCall><methodName>\xff\xfe</methodName></methodCall>', 'latin1'),
    ]),
  );
  const [r] = await bad.responsesCount(1);
  t.equal(decode(r!.text()).fault?.faultCode, -32702, 'invalid UTF-8');
});

t.test('GET on the handler path is 405 with Allow: POST; other paths are not matched', async (t) => {
  const { server, port } = await startServer({ handlers: [new Calculator({ path: ['/RPC2', '/xmlrpc'] })] });
  t.teardown(() => server.close());
  const c = await RawClient.open(port);
  t.teardown(() => c.destroy());
  c.write('GET /RPC2 HTTP/1.1\r\nHost: x\r\n\r\nGET /elsewhere HTTP/1.1\r\nHost: x\r\n\r\n');
  const [a, b] = await c.responsesCount(2);
  t.equal(a!.status, 405);
  t.equal(a!.header('allow'), 'POST');
  t.equal(b!.status, 404);
  t.same(decode((await rpc(port, dumps([2, 3], 'add'), '/xmlrpc')).text()), { value: 5 });
  t.same(decode((await rpc(port, dumps([2, 3], 'add'), '/RPC2?x=1')).text()), { value: 5 }, 'the query is not part of the path');
});

t.test('allowNone: false answers a nil param with fault -32600 before the method runs, and a nil result with fault -32603', async (t) => {
  let calls = 0;
  class Strict extends XmlRpcHandler {
    override call(method: string, params: XmlRpcValue[]): unknown {
      calls++;
      if (method === 'nothing') return undefined;
      if (method === 'nested') return { list: [1, null] };
      return params[0];
    }
  }
  const errors: unknown[] = [];
  const { server, port } = await startServer({ handlers: [new Strict({ allowNone: false })], onError: (e) => errors.push(e) });
  t.teardown(() => server.close());
  const refused = decode((await rpc(port, dumps([[1, null]], 'echo'))).text()).fault;
  t.equal(refused?.faultCode, -32600);
  t.match(refused?.faultString, /allowNone/);
  t.equal(calls, 0, 'the method never ran');
  for (const method of ['nothing', 'nested']) {
    const fault = decode((await rpc(port, dumps([], method))).text()).fault;
    t.equal(fault?.faultCode, -32603, method);
    t.match(fault?.faultString, /nil is refused here \(allowNone: false\)/);
  }
  t.same(decode((await rpc(port, dumps([{ a: 'b' }], 'echo'))).text()), { value: { a: 'b' } }, 'anything else as before');
  const { server: lax, port: laxPort } = await startServer({ handlers: [new Strict()] });
  t.teardown(() => lax.close());
  t.same(decode((await rpc(laxPort, dumps([[1, null]], 'echo'))).text()), { value: [1, null] }, 'nil both ways by default');
});

t.test("results go out as the encoder's bytes with their length, ASCII or not, short or long, alone and pipelined", async (t) => {
  class Echo extends XmlRpcHandler {
    override call(_method: string, params: XmlRpcValue[]): unknown {
      return params[0];
    }
  }
  const { server, port } = await startServer({ handlers: [new Echo()] });
  t.teardown(() => server.close());
  const c = await RawClient.open(port);
  t.teardown(() => c.destroy());
  // A short ASCII document goes out as text, anything else as the encoder's Buffer: each next to the other.
  const values: XmlRpcValue[] = [
    'plain',
    'café',
    { a: 'x <&> y', b: [1, 2.5, true] },
    { nom: 'Zoë', n: 1 },
    'x'.repeat(9000),
    'é'.repeat(9000),
    42,
    '中文',
    'last & <least>',
  ];
  const request = (v: XmlRpcValue) => {
    const body = Buffer.from(dumps([v], 'echo'), 'utf8');
    return Buffer.concat([Buffer.from(`POST /RPC2 HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n`), body]);
  };
  for (const v of values) c.write(request(v));
  c.write(Buffer.concat(values.map(request)));
  const got = await c.responsesCount(2 * values.length);
  got.forEach((r, i) => {
    const want = bufferDumps([values[i % values.length]], { methodResponse: true });
    t.equal(r.header('content-length'), String(want.length), `#${i}: Content-Length`);
    t.ok(r.body.equals(want), `#${i}: the encoder's bytes`);
  });
});
