// lib/offload/wire.ts without a worker: what a task throws, made cloneable
// (toWire), cloned as the channel does, and rebuilt (fromWire). Both sides
// must be total: a value that cannot be read, or a class that cannot be
// rebuilt, still gives the caller an error.

import t from 'tap';
import * as catalogue from '../lib/errors.js';
import { DecodeError, Fault, OffloadError } from '../lib/errors.js';
import { BUILTIN_ERROR_CLASSES, fromWire, toWire, type OffloadedErrorFields, type WireError, type WireFailure } from '../lib/offload/wire.js';

type ErrorClass = new (...args: never[]) => Error;

/** The classes a pool rebuilds by name, as pool.ts builds them (later entries win). */
function classes(...extra: ErrorClass[]): Map<string, ErrorClass> {
  const map = new Map<string, ErrorClass>();
  for (const Class of BUILTIN_ERROR_CLASSES) map.set(Class.name, Class);
  for (const value of Object.values(catalogue) as unknown[]) {
    if (typeof value === 'function' && value.prototype instanceof Error) map.set(value.name, value as ErrorClass);
  }
  for (const Class of extra) map.set(Class.name, Class);
  return map;
}

/** `thrown` across the channel: toWire, structured clone, fromWire. */
function trip(thrown: unknown, map = classes()): Error & { code?: unknown; errors?: unknown[] } {
  return fromWire(structuredClone(toWire(thrown)), map, '');
}

t.test('toWire never throws, and says what it could not read', async (t) => {
  const getterThrows = new Error('placeholder');
  for (const key of ['stack', 'message', 'name', 'code', 'constructor', 'cause']) {
    Object.defineProperty(getterThrows, key, {
      get() {
        throw new RangeError(`no ${key}`);
      },
    });
  }
  const wire = toWire(getterThrows) as WireError;
  t.equal(wire.kind, 'error');
  t.match(wire.message, /^<message could not be read: RangeError: no message>$/);
  t.equal(wire.name, 'Error');
  t.doesNotThrow(() => structuredClone(wire));

  const ownKeysTrap = new Proxy(new TypeError('behind'), {
    ownKeys() {
      throw new Error('ownKeys trap');
    },
    get() {
      throw new Error('get trap');
    },
  });
  const fromProxy = trip(ownKeysTrap);
  t.ok(fromProxy instanceof Error);
  t.match(fromProxy.message, /could not be read/);

  const prototypeTrap = new Proxy(new Error('behind'), {
    getPrototypeOf() {
      throw new Error('getPrototypeOf trap');
    },
  });
  const fromPrototypeTrap = trip(prototypeTrap);
  t.ok(fromPrototypeTrap instanceof OffloadError);
  t.match(fromPrototypeTrap.message, /could not be read: Error: getPrototypeOf trap/);

  const unprintable = {
    [Symbol.toPrimitive]() {
      throw new Error('no primitive');
    },
    get [Symbol.toStringTag]() {
      throw new Error('no tag');
    },
    fn() {},
  };
  const fromValue = trip(unprintable);
  t.ok(fromValue instanceof OffloadError);
  t.equal(fromValue.code, 'ERR_OFFLOAD_NON_ERROR');
  t.match(fromValue.message, /a value of type object/);
});

t.test("a built-in or catalogue class comes back as itself only when it is that class: a task's own DecodeError is an OffloadError", async (t) => {
  const real = trip(new DecodeError('ERR_XML_NOT_WELL_FORMED', 'the codec one'));
  t.ok(real instanceof DecodeError && real instanceof Fault, 'the catalogue class itself');
  t.equal((real as Fault).faultCode, new DecodeError('ERR_XML_NOT_WELL_FORMED', 'x').faultCode, 'its fault code kept');

  const Own = { DecodeError: class extends Error {} }.DecodeError;
  const own = trip(new Own('mine'));
  t.notOk(own instanceof Fault);
  t.ok(own instanceof OffloadError);
  t.equal(own.message, 'mine');
  t.equal(own.name, 'Error');
});

t.test('a class of errorClasses never takes the place of a built-in of the same name', async (t) => {
  const Listed = { TypeError: class extends Error {} }.TypeError;
  const map = classes(Listed); // as pool.ts does: the listed class overwrites the built-in's entry
  const builtin = trip(new TypeError('real'), map);
  t.equal(Object.getPrototypeOf(builtin), TypeError.prototype, 'a real TypeError is a TypeError');
  const listed = trip(new Listed('listed'), map);
  t.ok(listed instanceof Listed, 'an error of the listed class is the listed class');
  const unlisted = { TypeError: class extends Error {} }.TypeError;
  t.ok(trip(new unlisted('neither'), classes()) instanceof OffloadError, 'a look-alike nobody listed is an OffloadError');
});

t.test('fromWire never throws: a class whose copy cannot be read comes back as an OffloadError with the same fields', async (t) => {
  class PrivateCode extends Error {
    readonly #code = 'E_PRIVATE';
    get code(): string {
      return this.#code;
    }
  }
  class BadHook extends Error {
    static fromOffload(): never {
      throw new Error('hook failed');
    }
  }
  class WrongHook extends Error {
    static fromOffload(): Error {
      return new Error('not a WrongHook');
    }
  }
  const thrown = Object.assign(new PrivateCode('private'), { extra: 1 });
  const err = trip(thrown, classes(PrivateCode));
  t.ok(err instanceof OffloadError);
  t.equal(err.code, 'E_PRIVATE');
  t.equal(err.name, 'Error');
  t.equal((err as unknown as { extra: number }).extra, 1);
  t.ok(trip(new BadHook('b'), classes(BadHook)) instanceof OffloadError);
  t.ok(trip(new WrongHook('w'), classes(WrongHook)) instanceof OffloadError);

  // A DOMException named by a hand-made wire that says it is not the real one: no brand, no rebuild.
  const forged: WireFailure = { ...(toWire(new Error('x')) as WireError), className: 'DOMException', known: false };
  t.ok(fromWire(forged, classes(DOMException as unknown as ErrorClass), '') instanceof OffloadError);
});

t.test('toOffload() and static fromOffload(fields) carry private state', async (t) => {
  let seen: OffloadedErrorFields | undefined;
  class Private extends Error {
    readonly #detail: string;
    constructor(message: string, detail: string) {
      super(message);
      this.#detail = detail;
    }
    get detail(): string {
      return this.#detail;
    }
    toOffload(): { detail: string } {
      return { detail: this.#detail };
    }
    static fromOffload(fields: OffloadedErrorFields): Private {
      seen = fields;
      return new Private(fields.message, (fields.state as { detail: string }).detail);
    }
  }
  const thrown = new Private('m', 'kept');
  thrown.cause = new RangeError('why');
  const err = trip(thrown, classes(Private));
  t.ok(err instanceof Private);
  t.equal((err as Private).detail, 'kept');
  t.same(seen?.state, { detail: 'kept' });
  t.match(err.stack, /^Error: m/, 'the stack is the worker one');
  t.ok(err.cause instanceof RangeError, 'the cause set when the hook did not');
});

t.test('an AggregateError comes back with its errors, rebuilt, bounded however they nest', async (t) => {
  const err = trip(new AggregateError([new TypeError('a'), 42, new DecodeError('ERR_XML_NOT_WELL_FORMED', 'b')], 'all'));
  t.ok(err instanceof AggregateError);
  t.equal(err.errors?.length, 3);
  t.ok(err.errors?.[0] instanceof TypeError);
  t.equal(err.errors?.[1], 42);
  t.ok(err.errors?.[2] instanceof DecodeError);
  t.notOk(Object.keys(err).includes('errors'), 'not enumerable, as on a real one');

  const cyclic = new AggregateError([], 'cyclic');
  cyclic.errors = Array.from({ length: 100 }, () => cyclic);
  let count = 0;
  const walk = (wire: WireFailure | undefined): void => {
    if (wire === undefined) return;
    count++;
    if (wire.kind === 'error') {
      walk(wire.cause);
      for (const entry of wire.errors ?? []) walk(entry);
    }
  };
  walk(toWire(cyclic));
  t.ok(count <= 256, `${count} errors carried for a cycle`);
  t.ok(trip(cyclic) instanceof AggregateError);
});

t.test('a DOMException comes back as one, by its constructor', async (t) => {
  const err = trip(new DOMException('stopped', 'AbortError'));
  t.ok(err instanceof DOMException);
  t.equal(err.name, 'AbortError');
  t.equal(err.message, 'stopped');
  t.equal(err.code, 20);
});
