// MultiCall: Python's xmlrpc.client.MultiCall. Calls are queued (property
// access, dotted names work, or queue(name, ...params) for any name) and sent
// as one `system.multicall` (Eric Kidd's convention): the server answers, per
// call, `[value]` or a fault struct. run() resolves to the results in call
// order, each the value or a `Fault` instance (not thrown: one failure does
// not hide the others).

import { Buffer } from 'node:buffer';
import { inspect } from 'node:util';
import { Fault, ResponseError } from '../errors.js';
import type { XmlRpcValue } from '../xmlrpc/values.js';
import { methodsProxyHandler, type RemoteCallable, type ServerProxy } from './proxy.js';
import type { RequestOptions } from './request.js';
import type { ApiOf, HasApi, MethodName, ParamsOf, TypedMethods } from './typed.js';

/** One result of run(): the value, the server's Fault, or a ResponseError for a slot that is neither. */
export type MultiCallResult = XmlRpcValue | Fault | ResponseError;

interface QueuedCall {
  methodName: string;
  params: unknown[];
}

/** run()'s results when the caller names their types: each the value, or why its slot failed. */
export type MultiCallResults<T extends readonly unknown[]> = { -readonly [I in keyof T]: T[I] | Fault | ResponseError };

class MultiCallBase {
  readonly server: ServerProxy;
  private calls: QueuedCall[] = [];

  constructor(server: ServerProxy) {
    if (server === null || typeof server !== 'object' || typeof (server as Partial<ServerProxy>).call !== 'function') {
      throw new TypeError('MultiCall needs a ServerProxy');
    }
    this.server = server;
    return new Proxy(this, MULTICALL_HANDLER);
  }

  /** Queues a call to `name` (any name); returns its index in run()'s results. */
  queue(name: string, ...params: unknown[]): number {
    if (typeof name !== 'string' || name === '') throw new TypeError('a method name must be a non-empty string');
    return this.calls.push({ methodName: name, params }) - 1;
  }

  /** Calls queued and not yet sent. */
  get length(): number {
    return this.calls.length;
  }

  /**
   * Sends the queued calls as one `system.multicall` and empties the queue.
   * Resolves to one result per call, in order; with nothing queued, to []
   * without a request. Rejects as a ServerProxy call does when the
   * multicall itself fails (a server without system.multicall: its Fault).
   * `T` types the results, in call order (`run<[number, string[]]>()`);
   * nothing checks it at run time.
   */
  async run<T extends readonly unknown[] = XmlRpcValue[]>(options?: RequestOptions): Promise<MultiCallResults<T>> {
    const calls = this.calls;
    this.calls = [];
    if (calls.length === 0) return [] as unknown as MultiCallResults<T>;
    const server = options === undefined ? this.server : this.server.withOptions(options);
    const result = await server.call('system.multicall', calls);
    const url = this.server.url;
    if (!Array.isArray(result) || result.length !== calls.length) {
      const got = Array.isArray(result) ? `${result.length} results` : typeof result;
      throw new ResponseError(url, `system.multicall answered ${got} for ${calls.length} calls`);
    }
    return result.map((slot, i) => unpack(slot, i, calls[i]!.methodName, url)) as MultiCallResults<T>;
  }

  [inspect.custom](): string {
    return `<MultiCall ${this.calls.length} queued for ${this.server.url}>`;
  }
}

function unpack(slot: XmlRpcValue, i: number, methodName: string, url: string): MultiCallResult {
  if (Array.isArray(slot) && slot.length === 1) return slot[0]!;
  if (slot !== null && typeof slot === 'object' && !Array.isArray(slot) && !(slot instanceof Date) && !Buffer.isBuffer(slot)) {
    const { faultCode, faultString } = slot as Record<string, XmlRpcValue>;
    if (typeof faultCode === 'number' && Number.isInteger(faultCode) && typeof faultString === 'string') {
      return new Fault(faultCode, faultString);
    }
  }
  return new ResponseError(url, `system.multicall result ${i} (${methodName}) is neither [value] nor a fault struct`);
}

const MULTICALL_HANDLER = methodsProxyHandler<MultiCallBase, number>((target, method, params) => target.queue(method, ...params));

/**
 * A MultiCall: its own members, and every other name queues a call. Made
 * from a `ServerProxy<Api>`, only Api's methods, with their parameters typed.
 */
export type MultiCall<Api = never> = [Api] extends [never]
  ? MultiCallBase & { readonly [method: string]: RemoteCallable<number> }
  : Omit<MultiCallBase, 'queue'> &
      Omit<TypedMethods<Api, 'queue'>, keyof MultiCallBase> &
      HasApi<Api> & {
        /** Queues a call to one of Api's methods by its (dotted) name; returns its index in run()'s results. */
        queue<N extends MethodName<Api>>(name: N, ...params: ParamsOf<Api, N>): number;
      };

/** `const m = new MultiCall(proxy); m.add(1, 2); m.system.listMethods(); const [sum, names] = await m.run();` */
export const MultiCall = MultiCallBase as unknown as {
  new <P extends ServerProxy | HasApi<unknown>>(server: P): MultiCall<ApiOf<P>>;
  readonly prototype: MultiCallBase;
};
