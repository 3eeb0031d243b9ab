// Compile-time types for the proxies (no run-time code): an interface of
// remote methods, `interface Api { add(a: number, b: number): number;
// system: { listMethods(): string[] } }`, turns `new ServerProxy<Api>(url)`
// into an object whose every call and result is typed and on which an
// unknown name does not compile. A nested object is a namespace of dotted
// names (`proxy.system.listMethods()` calls `system.listMethods`); a quoted
// key with a dot (`'system.listMethods'(): string[]`) works as well.
//
// The types describe what the server is expected to answer: nothing checks
// at run time that it did (as in Python, the result is whatever came back).

import type { Outcome } from '../async/concurrency.js';

// The parameters and result of any method type (`any` is what lets a
// method with parameters match: a function type's parameters are contravariant).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyMethod = (...params: any) => unknown;

/** How a kind of proxy answers a call whose result is `R`. */
export interface Answers<R> {
  /** ServerProxy: the result. */
  call: Promise<R>;
  /** ParallelServerProxy: one `[result, error]` pair per target. */
  parallel: Promise<Outcome<R>[]>;
  /** MultiCall: the call's index in run()'s results. */
  queue: number;
}

/** The kinds of proxies, as keys of Answers. */
export type ProxyKind = keyof Answers<unknown>;

/** Api's methods as a proxy of `kind` exposes them; objects are namespaces of dotted names. */
export type TypedMethods<Api, Kind extends ProxyKind> = {
  readonly [K in keyof Api as K extends string ? K : never]: Api[K] extends AnyMethod
    ? (...params: Parameters<Api[K]>) => Answers<Awaited<ReturnType<Api[K]>>>[Kind]
    : Api[K] extends object
      ? TypedMethods<Api[K], Kind>
      : never;
};

/** Every method name of Api, dotted for those in namespaces: `'add' | 'system.listMethods'`. */
export type MethodName<Api> = {
  [K in keyof Api & string]: Api[K] extends AnyMethod ? K : Api[K] extends object ? `${K}.${MethodName<Api[K]>}` : never;
}[keyof Api & string];

/** The method type of a (dotted) name. */
export type MethodAt<Api, N extends string> = N extends keyof Api
  ? Api[N]
  : N extends `${infer Head}.${infer Tail}`
    ? Head extends keyof Api
      ? MethodAt<Api[Head], Tail>
      : never
    : never;

/** The parameters of the method a (dotted) name calls. */
export type ParamsOf<Api, N extends string> = MethodAt<Api, N> extends AnyMethod ? Parameters<MethodAt<Api, N>> : never;

/** The result of the method a (dotted) name calls (a promise's value, not the promise). */
export type ResultOf<Api, N extends string> = MethodAt<Api, N> extends AnyMethod ? Awaited<ReturnType<MethodAt<Api, N>>> : never;

/** Marks a typed proxy with its Api, so that `new MultiCall(proxy)` infers it. Present in types only. */
export declare const API: unique symbol;

/** The Api of a typed proxy; `never` for an untyped one. */
export type ApiOf<P> = P extends { readonly [API]: infer Api } ? Api : never;

/** What a typed proxy carries in its type (and never at run time): its Api. */
export interface HasApi<Api> {
  readonly [API]: Api;
}
