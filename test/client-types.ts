// ServerProxy<Api>, ParallelServerProxy<Api> and MultiCall under `tsc
// --strict`: compiled by the normal build (never run: every function here
// is only type-checked). Each `@ts-expect-error` line is a mistake the types
// must reject; if one compiled, tsc would fail on the unused directive.

/* eslint-disable @typescript-eslint/no-unsafe-call -- the calls on unknown names are the errors those lines prove */

import type { Outcome } from '../lib/async/concurrency.js';
import { MultiCall } from '../lib/client/multicall.js';
import { ParallelServerProxy } from '../lib/client/parallel.js';
import { ServerProxy } from '../lib/client/proxy.js';
import { Transport } from '../lib/client/transport.js';
import type { Fault, ResponseError } from '../lib/errors.js';
import { Server } from '../lib/server/server.js';
import type { XmlRpcValue } from '../lib/xmlrpc/values.js';

interface Api {
  add(a: number, b: number): number;
  echo(value: string): string;
  later(n: number): Promise<number[]>;
  /** Named like a proxy member: reachable through call() only. */
  close(): string;
  system: {
    listMethods(): string[];
    methodHelp(name: string): string;
  };
  'dotted.name'(x: boolean): boolean;
}

/** Exactly T: `Equal<A, B>` is true only when each is assignable to the other. */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function assertType<T extends true>(): T | undefined {
  return undefined;
}
/** Compiles only when `value` is assignable to T. */
function expect<T>(value: T): T {
  return value;
}

export async function typedServerProxy(): Promise<void> {
  const proxy = new ServerProxy<Api>('http://127.0.0.1:8182/RPC2');
  expect<number>(await proxy.add(1, 2));
  expect<string[]>(await proxy.system.listMethods());
  expect<string>(await proxy.system.methodHelp('add'));
  expect<number[]>(await proxy.later(1));
  expect<boolean>(await proxy['dotted.name'](true));
  expect<number>(await proxy.call('add', 1, 2));
  expect<string[]>(await proxy.call('system.listMethods'));
  expect<string>(await proxy.call('close'));
  expect<number>(await proxy.withOptions({ timeout: 1000 }).add(1, 2));
  assertType<Equal<Awaited<ReturnType<typeof proxy.add>>, number>>();

  // @ts-expect-error -- a typo: no such method
  await proxy.clsoe();
  // @ts-expect-error -- an unknown name
  await proxy.subtract(1, 2);
  // @ts-expect-error -- a wrong parameter type
  await proxy.add('1', 2);
  // @ts-expect-error -- a missing parameter
  await proxy.add(1);
  // @ts-expect-error -- the result is a number, not a string
  expect<string>(await proxy.add(1, 2));
  // @ts-expect-error -- an unknown dotted name
  await proxy.system.listMethod();
  // @ts-expect-error -- call() takes Api's names only
  await proxy.call('nope');
  // @ts-expect-error -- call() checks the parameters too
  await proxy.call('echo', 3);
  // The proxy's own members stay its own: close() closes (void), it does not call `close`.
  expect<void>(await proxy.close());
}

export async function untypedServerProxy(): Promise<void> {
  const proxy = new ServerProxy('http://127.0.0.1:8182/RPC2');
  // Without an Api, any name is a method and a result is any XML-RPC value.
  expect<XmlRpcValue>(await proxy.anything(1, 'two', [3]));
  expect<XmlRpcValue>(await proxy.a.b.c());
  assertType<Equal<Awaited<ReturnType<typeof proxy.add>>, XmlRpcValue>>();
  // @ts-expect-error -- an XmlRpcValue is not known to be a number
  expect<number>(await proxy.add(1, 2));
  // call<T> types a result.
  expect<number>(await proxy.call<number>('add', 1, 2));
  expect<string>(await proxy.call<string>('any.name'));
}

export async function typedParallel(): Promise<void> {
  const psp = new ParallelServerProxy<Api>(['http://127.0.0.1:8182/RPC2', 'http://127.0.0.1:8183/RPC2']);
  const pairs: Outcome<number>[] = await psp.add(1, 2);
  for (const [result, error] of pairs) {
    if (error === null) {
      expect<number>(result);
    }
  }
  expect<Outcome<string[]>[]>(await psp.system.listMethods());
  expect<Outcome<number>[]>(await psp.call('add', 1, 2));
  // @ts-expect-error -- a typo
  await psp.ad(1, 2);
  // @ts-expect-error -- pairs of numbers, not of strings
  expect<Outcome<string>[]>(await psp.add(1, 2));
  // @ts-expect-error -- a wrong parameter type
  await psp.echo(1);
  const untyped = new ParallelServerProxy(['http://127.0.0.1:8182/RPC2']);
  expect<Outcome[]>(await untyped.whatever());
  expect<Outcome<number>[]>(await untyped.call<number>('add', 1, 2));
}

export async function typedMultiCall(): Promise<void> {
  const proxy = new ServerProxy<Api>('http://127.0.0.1:8182/RPC2');
  const multi = new MultiCall(proxy);
  expect<number>(multi.add(1, 2));
  expect<number>(multi.system.listMethods());
  multi.queue('echo', 'x');
  // @ts-expect-error -- a typo
  multi.ad(1, 2);
  // @ts-expect-error -- a wrong parameter type
  multi.add(1, '2');
  // @ts-expect-error -- queue() takes Api's names only
  multi.queue('nope');
  const [sum, methodNames] = await multi.run<[number, string[]]>();
  expect<number | Fault | ResponseError>(sum);
  expect<string[] | Fault | ResponseError>(methodNames);
  // @ts-expect-error -- a slot may be a Fault
  expect<number>(sum);

  const untyped = new MultiCall(new ServerProxy('http://127.0.0.1:8182/RPC2'));
  untyped.anything(1);
  expect<(XmlRpcValue | Fault | ResponseError)[]>(await untyped.run());
}

export async function disposables(): Promise<void> {
  await using proxy = new ServerProxy('http://127.0.0.1:8182/RPC2');
  await using typed = new ServerProxy<Api>('http://127.0.0.1:8182/RPC2');
  await using transport = new Transport();
  await using psp = new ParallelServerProxy<Api>([]);
  await using server = new Server();
  // @ts-expect-error -- a plain object is not AsyncDisposable
  // eslint-disable-next-line @typescript-eslint/await-thenable -- the mistake this line proves
  await using nothing = { close: () => Promise.resolve() };
  void [proxy, typed, transport, psp, server, nothing];
}
