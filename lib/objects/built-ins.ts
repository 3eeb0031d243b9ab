// Which prototypes belong to the platform rather than to the user's code.
// Remote members stop before them: a Map's `set`, a typed array's `fill`, a
// stream's `destroy` or a timer's `refresh` are never a remote method. A
// fixed list cannot keep up (a Float64Array's methods live on %TypedArray%,
// Node's streams are written in JavaScript), so a prototype is built-in when
//   - its class is native code (every ECMAScript and V8 built-in), or
//   - its class is a global (URL, AbortSignal, ReadableStream...), or
//   - it is on the prototype chain of a class exported by one of Node's
//     modules (events, stream, net, http, fs...), or of a timer.
// The answer is cached per prototype; the module walk runs once, on first use.

import { createRequire } from 'node:module';

/** Node's modules whose classes a served object may hold (deprecated and experimental ones left out: loading them warns). */
// prettier-ignore
const NODE_MODULES = [
  'assert', 'async_hooks', 'buffer', 'child_process', 'cluster', 'crypto', 'dgram', 'diagnostics_channel', 'dns', 'events',
  'fs', 'fs/promises', 'http', 'http2', 'https', 'module', 'net', 'os', 'perf_hooks', 'querystring', 'readline', 'stream',
  'stream/promises', 'stream/web', 'string_decoder', 'timers', 'tls', 'tty', 'url', 'util', 'v8', 'vm', 'worker_threads', 'zlib',
];

const cache = new WeakMap<object, boolean>();
let fromModules: WeakSet<object> | null = null;

/** True for a prototype of the platform: its members are not remote members. */
export function isBuiltInPrototype(proto: object): boolean {
  let known = cache.get(proto);
  if (known === undefined) {
    known = classify(proto);
    cache.set(proto, known);
  }
  return known;
}

/** `proto` is a prototype (or, up a class's chain of statics, a class) of the platform's. */
function classify(proto: object): boolean {
  if (proto === Object.prototype || proto === Function.prototype) return true;
  if (nodePrototypes().has(proto)) return true;
  if (typeof proto === 'function') return isPlatformClass(proto);
  const d = Object.getOwnPropertyDescriptor(proto, 'constructor');
  const ctor: unknown = d !== undefined && 'value' in d ? d.value : undefined;
  return typeof ctor === 'function' && ctor.prototype === proto && isPlatformClass(ctor);
}

function isPlatformClass(ctor: object): boolean {
  if (/\{\s*\[native code\]\s*\}$/.test(Function.prototype.toString.call(ctor))) return true;
  const name = (ctor as { name?: unknown }).name;
  if (typeof name !== 'string' || name === '') return false;
  // A global read through its descriptor: a lazy global's getter runs only when its class is in use already.
  const g = Object.getOwnPropertyDescriptor(globalThis, name);
  return g !== undefined && ('value' in g ? g.value === ctor : g.get?.call(globalThis) === ctor);
}

/** Every prototype on the chains of the classes Node's modules export (one level into namespaces), and the timers'. */
function nodePrototypes(): WeakSet<object> {
  if (fromModules !== null) return fromModules;
  const found = new WeakSet<object>();
  const addChain = (fn: unknown): void => {
    if (typeof fn !== 'function') return;
    found.add(fn);
    for (let p = (fn as { prototype?: unknown }).prototype; typeof p === 'object' && p !== null; p = Object.getPrototypeOf(p)) found.add(p);
  };
  const addExports = (value: unknown, depth: number): void => {
    if ((typeof value !== 'object' && typeof value !== 'function') || value === null) return;
    addChain(value);
    if (depth === 0) return;
    for (const key of Object.getOwnPropertyNames(value)) {
      const d = Object.getOwnPropertyDescriptor(value, key);
      if (d !== undefined && 'value' in d) addExports(d.value, depth - 1);
    }
  };
  const require = createRequire(import.meta.url);
  for (const name of NODE_MODULES) {
    try {
      addExports(require(`node:${name}`), 2);
    } catch {
      /* a module this Node lacks */
    }
  }
  const timeout = setTimeout(() => undefined, 0);
  const immediate = setImmediate(() => undefined);
  clearTimeout(timeout);
  clearImmediate(immediate);
  for (const timer of [timeout, immediate])
    for (let p = Object.getPrototypeOf(timer) as object | null; p !== null; p = Object.getPrototypeOf(p) as object | null) found.add(p);
  fromModules = found;
  return found;
}
