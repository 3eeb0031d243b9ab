// ObjectClient#ownerGone (issue 12): the hook spawnProcess calls when its
// child exits. Calls in flight fail at once with OWNER_GONE, whatever their
// sockets say (here the server is alive and holds them), and later calls
// fail without a request; a call's own signal still works beside it.

import t, { type Test } from 'tap';
import { ObjectClient, ObjectServer, RemoteObjectError, RemoteObjectErrorCode, Server, type Handler } from '../lib/index.js';
import { failure, gate, turns } from './support.js';

class Held {
  readonly release = gate();
  arrived = 0;
  async wait(): Promise<string> {
    this.arrived++;
    await this.release.promise;
    return 'released';
  }
  ping(): string {
    return 'pong';
  }
}

async function setup(t: Test) {
  const objects = new ObjectServer({ classes: { Held } });
  let count = 0;
  const counting: Handler = { match: (r) => objects.match(r), handle: (r) => (count++, objects.handle(r)) };
  const server = new Server({ handlers: [counting] });
  const { port } = await server.listen(0);
  const client = new ObjectClient(`http://127.0.0.1:${port}/RPC2`);
  const requests = () => count;
  t.teardown(async () => {
    await client.close();
    await server.close({ timeout: 0 });
    objects.close();
  });
  return { objects, client, requests };
}

t.test('calls in flight fail at once with OWNER_GONE while the server still holds them; later calls send nothing', async (t) => {
  const { client, requests } = await setup(t);
  const held = await client.create<Held>('Held');
  const ac = new AbortController();
  const pending = [held.wait(), held.$with({ signal: ac.signal }).wait()].map(failure);
  for (let i = 0; i < 1000 && (await held.arrived) < 2; i++) await turns(1);
  client.ownerGone('the test says so');
  for (const p of pending) {
    const err = await p;
    t.ok(err instanceof RemoteObjectError && err.code === RemoteObjectErrorCode.OWNER_GONE);
    t.match(err.message, /objects\.call: the owner at .* is gone: the test says so/);
    t.equal((err as RemoteObjectError).ref, held.$ref.__ref__);
  }
  const sent = requests();
  const later = await failure(held.ping());
  t.equal((later as RemoteObjectError).code, RemoteObjectErrorCode.OWNER_GONE);
  t.equal(requests(), sent, 'no request for a later call');
  t.equal((await failure(client.ping())).constructor, RemoteObjectError);
});

t.test('a call with its own signal is still cancelled by it while the owner lives', async (t) => {
  const { client } = await setup(t);
  const held = await client.create<Held>('Held');
  const ac = new AbortController();
  const p = failure(held.$with({ signal: ac.signal }).wait());
  for (let i = 0; i < 1000 && (await held.arrived) < 1; i++) await turns(1);
  ac.abort(new Error('mine'));
  const err = await p;
  t.notOk(err instanceof RemoteObjectError && err.code === RemoteObjectErrorCode.OWNER_GONE, 'not taken for the owner gone');
  t.equal(await held.ping(), 'pong', 'the client still works');
});
