// Response smuggling (a defect found by an independent hostile-server suite):
// a server that answers one request twice must not have its second answer
// taken for the answer to a later call. Bytes that arrive when no request is
// outstanding, or beyond the response that was awaited, close the
// connection; the later call goes on a fresh connection and gets its own
// answer. Pooled (Transport, ServerProxy) and pipelined (Pipeline,
// ParallelServerProxy) calls alike.

import t from 'tap';
import { Transport } from '../lib/client/transport.js';
import { ServerProxy } from '../lib/client/proxy.js';
import { ParallelServerProxy } from '../lib/client/parallel.js';
import { dumps } from '../lib/xmlrpc/encode.js';
import { loads } from '../lib/xmlrpc/decode.js';
import { httpResponse, pollUntil, scriptedServer, xmlResult, type RawRequest } from './support.js';

/** The answer to an `echo(tag)` call: its tag back. */
function answer(request: RawRequest, tag?: string): Buffer {
  const { params } = loads(request.body);
  return httpResponse(xmlResult(`<string>${tag ?? (params[0] as string)}</string>`));
}

const echo = (tag: string) => dumps([tag], 'echo');

/** Answers the first request on each connection twice (its answer, then a stray one); every other request once. */
async function answersTwice(inOneWrite: boolean) {
  const s = await scriptedServer((request) => {
    if (request.index !== 0) {
      request.socket.write(answer(request));
      return;
    }
    if (inOneWrite) request.socket.write(Buffer.concat([answer(request), answer(request, 'stray')]));
    else request.socket.write(answer(request), () => request.socket.write(answer(request, 'stray')));
  });
  return s;
}

t.test('pooled: two answers in one write; the next call goes on a fresh connection and gets its own answer', async (t) => {
  const s = await answersTwice(true);
  const transport = new Transport();
  t.teardown(async () => {
    await transport.close();
    await s.close();
  });
  const host = `127.0.0.1:${s.port}`;
  t.equal(await transport.request(host, '/RPC2', echo('first')), 'first');
  t.equal(await transport.request(host, '/RPC2', echo('second')), 'second', 'not the stray answer');
  t.equal(s.connections, 2, 'the second call went on a fresh connection');
  await pollUntil(() => s.closed === 1, 'the client to close the connection that answered twice');
});

t.test("pooled: a stray answer after the call settled closes the connection; it is never the next call's answer", async (t) => {
  const s = await scriptedServer((request) => request.socket.write(answer(request)));
  const transport = new Transport();
  t.teardown(async () => {
    await transport.close();
    await s.close();
  });
  const host = `127.0.0.1:${s.port}`;
  t.equal(await transport.request(host, '/RPC2', echo('first')), 'first');
  // The stray leaves the server before the next call is made: no request is outstanding when it comes.
  const stray = new Promise<void>((resolve) => s.requests[0]!.socket.write(answer(s.requests[0]!, 'stray'), () => resolve()));
  await stray;
  t.equal(await transport.request(host, '/RPC2', echo('second')), 'second', 'not the stray answer');
  t.equal(s.requests.length, 2);
  t.equal(s.requests[1]!.connection, 1, 'the second call went on a fresh connection');
});

t.test('pooled: a call waiting for the only socket does not get the stray answer of the call before it', async (t) => {
  const s = await answersTwice(true);
  const transport = new Transport({ maxSocketsPerHost: 1 });
  t.teardown(async () => {
    await transport.close();
    await s.close();
  });
  const host = `127.0.0.1:${s.port}`;
  const [a, b] = await Promise.all([transport.request(host, '/RPC2', echo('a')), transport.request(host, '/RPC2', echo('b'))]);
  t.equal(a, 'a');
  t.equal(b, 'b', 'not the stray answer');
  t.equal(s.connections, 2);
});

t.test('ServerProxy: the stray second answer is never the result of the next call', async (t) => {
  const s = await answersTwice(false);
  const proxy = new ServerProxy(`http://127.0.0.1:${s.port}/RPC2`);
  t.teardown(async () => {
    await proxy.close();
    await s.close();
  });
  t.equal(await proxy.echo('first'), 'first');
  await pollUntil(() => s.closed === 1, 'the client to close the connection that answered twice');
  t.equal(await proxy.echo('second'), 'second');
  t.equal(s.connections, 2);
});

t.test('pipelined: an answer beyond the requests in flight closes the connection; the next call goes on a fresh one', async (t) => {
  const N = 3;
  const s = await scriptedServer((request) => {
    if (request.connection > 0) {
      request.socket.write(answer(request));
      return;
    }
    if (s.requests.length < N) return;
    // N answers and one more, in one write.
    request.socket.write(Buffer.concat([...s.requests.map((r) => answer(r)), answer(request, 'stray')]));
  });
  const pipeline = new Transport().openPipeline(`127.0.0.1:${s.port}`, { waitForKeepAlive: false });
  t.teardown(async () => {
    await pipeline.close();
    await s.close();
  });
  const tags = ['p0', 'p1', 'p2'];
  t.same(await Promise.all(tags.map((tag) => pipeline.request('/RPC2', echo(tag)))), tags);
  t.equal(await pipeline.request('/RPC2', echo('next')), 'next', 'not the stray answer');
  t.equal(s.requests.at(-1)!.connection, 1, 'the next call went on a fresh connection');
});

t.test("pipelined: a stray answer after the calls settled closes the connection; it is never the next call's answer", async (t) => {
  const s = await scriptedServer((request) => request.socket.write(answer(request)));
  const pipeline = new Transport().openPipeline(`127.0.0.1:${s.port}`);
  t.teardown(async () => {
    await pipeline.close();
    await s.close();
  });
  t.equal(await pipeline.request('/RPC2', echo('first')), 'first');
  await new Promise<void>((resolve) => s.requests[0]!.socket.write(answer(s.requests[0]!, 'stray'), () => resolve()));
  t.equal(await pipeline.request('/RPC2', echo('second')), 'second', 'not the stray answer');
  t.equal(s.requests[1]!.connection, 1, 'the second call went on a fresh connection');
});

t.test('ParallelServerProxy (pipelined): the stray second answer is never the result of the next call', async (t) => {
  const s = await answersTwice(true);
  const psp = new ParallelServerProxy([`http://127.0.0.1:${s.port}/RPC2`], { strategy: 'pipelined' });
  t.teardown(async () => {
    await psp.close();
    await s.close();
  });
  t.same(await psp.echo('first'), [['first', null]]);
  t.same(await psp.echo('second'), [['second', null]], 'not the stray answer');
  t.equal(s.connections, 2);
});

t.test('ParallelServerProxy (concurrent): the stray second answer is never the result of the next call', async (t) => {
  const s = await answersTwice(false);
  const psp = new ParallelServerProxy([`http://127.0.0.1:${s.port}/RPC2`], { strategy: 'concurrent' });
  t.teardown(async () => {
    await psp.close();
    await s.close();
  });
  t.same(await psp.echo('first'), [['first', null]]);
  await pollUntil(() => s.closed === 1, 'the client to close the connection that answered twice');
  t.same(await psp.echo('second'), [['second', null]], 'not the stray answer');
  t.equal(s.connections, 2);
});
