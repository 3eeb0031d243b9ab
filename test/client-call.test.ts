// One call's cancellation (lib/client/call.ts): the client's own code
// listens to the Call itself, and the AbortSignal the steps see as
// `req.signal` is built only when one reads it, aborted with the call
// whether it was read before or after the abort.

import t from 'tap';
import { Call } from '../lib/client/call.js';
import { TransportError, TransportErrorCode } from '../lib/errors.js';
import { Transport, type OutgoingRequest, type RequestWriter } from '../lib/client/transport.js';
import { dumps } from '../lib/xmlrpc/encode.js';
import { ManualClock } from './support.js';

const URL = 'http://127.0.0.1:1/RPC2';

t.test('a timeout aborts the call and a signal read afterwards, with the same TIMEOUT error', async (t) => {
  const clock = new ManualClock();
  const call = new Call(URL, 50, undefined, clock);
  t.equal(call.aborted, false);
  clock.advance(50);
  call.checkDeadline();
  t.equal(call.aborted, true);
  t.ok(call.reason instanceof TransportError && call.reason.code === TransportErrorCode.TIMEOUT);
  const signal = call.signal;
  t.equal(signal.aborted, true, 'built aborted');
  t.equal(signal.reason, call.reason);
});

t.test("a signal read before the abort is aborted with it, after the call's own listeners", async (t) => {
  const user = new AbortController();
  const call = new Call(URL, 0, user.signal, new ManualClock());
  const order: string[] = [];
  const signal = call.signal;
  signal.addEventListener('abort', () => order.push(`signal ${call.aborted}`));
  call.addEventListener('abort', () => order.push('first'));
  call.addEventListener('abort', () => order.push('second'));
  user.abort(new Error('stop'));
  t.same(order, ['first', 'second', 'signal true']);
  t.equal(signal.reason, call.reason);
  t.ok(call.reason instanceof TransportError && call.reason.code === TransportErrorCode.ABORTED);
  t.equal((call.reason as TransportError).cause instanceof Error, true);
});

t.test('a listener removed, or removed by an earlier one during the abort, is not called', async (t) => {
  const user = new AbortController();
  const call = new Call(URL, 0, user.signal, new ManualClock());
  const called: string[] = [];
  const a = () => called.push('a');
  const c = () => called.push('c');
  const b = () => {
    called.push('b');
    call.removeEventListener('abort', c);
  };
  call.addEventListener('abort', a);
  call.addEventListener('abort', b);
  call.addEventListener('abort', c);
  call.removeEventListener('abort', a);
  user.abort();
  t.same(called, ['b']);
  call.addEventListener('abort', a);
  t.same(called, ['b'], 'a listener added after the abort is not called, as on an AbortSignal');
});

t.test('a call already aborted by its caller is aborted from the start; dispose() leaves no listener', async (t) => {
  const call = new Call(URL, 0, AbortSignal.abort(), new ManualClock());
  t.equal(call.aborted, true);
  t.equal(call.signal.aborted, true);
  const user = new AbortController();
  const other = new Call(URL, 0, user.signal, new ManualClock());
  other.dispose();
  user.abort();
  t.equal(other.aborted, false);
});

t.test("a subclass's step gets a request whose signal is an own property: `{ ...req }` keeps it", async (t) => {
  const seen: unknown[] = [];
  const stop = new Error('stop here');
  class Spreading extends Transport {
    protected override sendRequest(_writer: RequestWriter, req: OutgoingRequest): void {
      const copy = { ...req, path: '/other' };
      seen.push(copy.signal instanceof AbortSignal, copy.signal.aborted);
      throw stop;
    }
  }
  const err = await new Spreading().request('127.0.0.1:1', '/RPC2', dumps([1], 'x')).catch((e: unknown) => e);
  t.equal(err, stop, 'no connection was attempted');
  t.same(seen, [true, false]);
});

t.test('a listener added twice is called once, and one removal removes it, as on an EventTarget', async (t) => {
  const user = new AbortController();
  const call = new Call(URL, 0, user.signal, new ManualClock());
  const called: string[] = [];
  const listeners = { a: () => called.push('a'), b: () => called.push('b') };
  for (const name of ['a', 'b', 'a', 'b'] as const) call.addEventListener('abort', listeners[name]);
  call.removeEventListener('abort', listeners.b);
  user.abort();
  t.same(called, ['a']);
});

t.test('a listener that throws does not keep the later ones from running; its error is reported uncaught, as an EventTarget does', async (t) => {
  const clock = new ManualClock();
  const call = new Call(URL, 50, undefined, clock);
  const boom = new Error('a listener failed');
  const called: string[] = [];
  call.addEventListener('abort', () => {
    called.push('first');
    throw boom;
  });
  call.addEventListener('abort', () => called.push('second'));
  const signal = call.signal;
  const reported = new Promise<unknown>((resolve) => process.setUncaughtExceptionCaptureCallback(resolve));
  t.teardown(() => process.setUncaughtExceptionCaptureCallback(null));
  clock.advance(50);
  let threw: unknown = null;
  try {
    call.checkDeadline();
  } catch (err) {
    threw = err;
  }
  t.equal(threw, null, 'the abort itself does not throw');
  t.same(called, ['first', 'second']);
  t.equal(signal.aborted, true, "the call's signal is aborted too");
  if (threw === null) t.equal(await reported, boom);
});
