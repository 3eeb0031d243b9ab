import t from 'tap';
import { Fault } from '../lib/errors.js';
import { XmlRpcDispatcher } from '../lib/rpc/dispatcher.js';

async function outcome(d: XmlRpcDispatcher, method: string, params: unknown[] = []): Promise<{ value?: unknown; fault?: number }> {
  try {
    return { value: await d.call(method, params as never) };
  } catch (err) {
    return { fault: d.toFault(err).faultCode };
  }
}

class Service {
  secret = 'hidden';
  nested = { deep: { ping: () => 'pong' } };
  greet(name: string): string {
    return `hello ${name}`;
  }
  _private(): string {
    return 'never';
  }
  get computed(): () => string {
    throw new Error('getters are never run');
  }
  whoami(): boolean {
    return this instanceof Service;
  }
}

t.test('registered functions are dispatched by name', async (t) => {
  const d = new XmlRpcDispatcher();
  d.registerFunction((a: number, b: number) => a * b, 'mul');
  function named(): string {
    return 'by its own name';
  }
  d.registerFunction(named);
  d.registerFunction(async (x: unknown) => x, 'later');
  t.same(await outcome(d, 'mul', [6, 7]), { value: 42 });
  t.same(await outcome(d, 'named'), { value: 'by its own name' });
  t.same(await outcome(d, 'later', ['x']), { value: 'x' });
  t.throws(() => d.registerFunction(() => 1), TypeError, 'an anonymous function needs a name');
});

t.test('a registered function gets the params as they came, as many as came, whatever their count', async (t) => {
  const d = new XmlRpcDispatcher();
  d.registerFunction((...args: unknown[]) => ({ count: args.length, args }), 'args');
  d.registerFunction(function count(this: unknown) {
    return arguments.length;
  });
  for (let n = 0; n <= 6; n++) {
    const params = Array.from({ length: n }, (_, i) => (i % 2 === 0 ? i : `p${i}`));
    t.same(await outcome(d, 'args', params), { value: { count: n, args: params } }, `${n} params`);
    t.same(await outcome(d, 'count', params), { value: n }, `${n} params, arguments.length`);
  }
});

t.test('a registered function is called with no this, its defaults filling what did not come, as a spread call makes it, whatever the count', async (t) => {
  const d = new XmlRpcDispatcher();
  d.registerFunction(function defaults(this: unknown, a: unknown = 'A', b: unknown = 'B', ...rest: unknown[]) {
    return { self: this === undefined, a, b, rest, count: arguments.length };
  });
  // A function that is not a plain one: its apply trap sees the arguments the call passes.
  const seen: unknown[][] = [];
  d.registerFunction(
    new Proxy(() => 0, {
      apply: (_target, self, args: unknown[]) => (seen.push([self === undefined, ...args]), args.length),
    }),
    'trapped',
  );
  for (let n = 0; n <= 4; n++) {
    const params = Array.from({ length: n }, (_, i) => `p${i}`);
    t.same(
      await outcome(d, 'defaults', params),
      { value: { self: true, a: params[0] ?? 'A', b: params[1] ?? 'B', rest: params.slice(2), count: n } },
      `${n} params`,
    );
    t.same(await outcome(d, 'trapped', params), { value: n }, `${n} params through an apply trap`);
  }
  t.same(seen, [[true], [true, 'p0'], [true, 'p0', 'p1'], [true, 'p0', 'p1', 'p2'], [true, 'p0', 'p1', 'p2', 'p3']]);
});

t.test('instance methods are dispatched, but never _ names, Object.prototype, getters or data', async (t) => {
  const d = new XmlRpcDispatcher().registerInstance(new Service());
  t.same(await outcome(d, 'greet', ['you']), { value: 'hello you' });
  t.same(await outcome(d, 'whoami'), { value: true }, 'called with the instance as this');
  for (const name of [
    '_private',
    'constructor',
    'toString',
    'hasOwnProperty',
    '__proto__',
    'valueOf',
    'computed',
    'secret',
    'nested.deep.ping',
    '__defineGetter__',
  ]) {
    t.same(await outcome(d, name), { fault: -32601 }, name);
  }
});

t.test('allowDottedNames walks nested objects, still refusing _ parts', async (t) => {
  const d = new XmlRpcDispatcher().registerInstance(new Service(), { allowDottedNames: true });
  t.same(await outcome(d, 'nested.deep.ping'), { value: 'pong' });
  t.same(await outcome(d, 'nested.deep.constructor'), { fault: -32601 });
  t.same(await outcome(d, 'nested.__proto__.toString'), { fault: -32601 });
  t.same(await outcome(d, 'greet.call'), { fault: -32601 }, 'Function.prototype is off limits');
});

t.test('an instance with _dispatch takes over dispatch, as in Python', async (t) => {
  const d = new XmlRpcDispatcher().registerInstance({ _dispatch: (method: string, params: unknown[]) => `${method}/${params.length}` });
  t.same(await outcome(d, 'any.thing', [1, 2]), { value: 'any.thing/2' });
});

t.test('registered functions win over the instance', async (t) => {
  const d = new XmlRpcDispatcher().registerInstance(new Service()).registerFunction(() => 'function', 'greet');
  t.same(await outcome(d, 'greet', ['x']), { value: 'function' });
});

t.test('too few parameters, or a count no signature allows, is fault -32602', async (t) => {
  const d = new XmlRpcDispatcher();
  d.registerFunction((a: number, b: number) => a + b, 'add');
  d.registerFunction((a: number, b = 1) => a + b, 'inc');
  d.registerFunction((...xs: number[]) => xs.length, 'count', { signatures: [['int'], ['int', 'int', 'int']] });
  t.same(await outcome(d, 'add', [1]), { fault: -32602 });
  t.same(await outcome(d, 'inc', [1]), { value: 2 });
  t.same(await outcome(d, 'count', []), { value: 0 });
  t.same(await outcome(d, 'count', [1]), { fault: -32602 });
  t.same(await outcome(d, 'count', [1, 2]), { value: 2 });
});

t.test('system.listMethods, methodHelp and methodSignature describe the methods', async (t) => {
  const d = new XmlRpcDispatcher().registerInstance(new Service());
  d.registerFunction((a: number) => a, 'documented', { help: 'does things', signatures: [['int', 'int']] });
  const methods = (await outcome(d, 'system.listMethods')).value as string[];
  t.same(methods, [...methods].sort(), 'sorted');
  for (const name of ['documented', 'greet', 'whoami', 'system.multicall', 'system.getCapabilities']) t.ok(methods.includes(name), name);
  for (const name of ['_private', 'constructor', 'secret', 'computed']) t.notOk(methods.includes(name), name);
  t.same(await outcome(d, 'system.methodHelp', ['documented']), { value: 'does things' });
  t.same(await outcome(d, 'system.methodHelp', ['greet']), { value: '' });
  t.same(await outcome(d, 'system.methodSignature', ['documented']), { value: [['int', 'int']] });
  t.same(await outcome(d, 'system.methodSignature', ['greet']), { value: 'undef' });
  t.same(await outcome(d, 'system.methodHelp', [5]), { fault: -32602 });
});

t.test('a signature naming a type XML-RPC does not have is refused at registration', async (t) => {
  const d = new XmlRpcDispatcher();
  // prettier-ignore
  const cases: Array<[what: string, signatures: unknown, message: RegExp]> = [
    ["'any' as a parameter type", [['string', 'any']], /echo: "any" is not an XML-RPC type name/],
    ["'any' as the return type", [['any', 'string']], /echo: "any" is not an XML-RPC type name/],
    ['a JavaScript type name', [['number', 'int']], /"number" is not an XML-RPC type name/],
    ['a case variant', [['Int']], /"Int" is not an XML-RPC type name/],
    ['a type that is not a string', [[5]], /5 is not an XML-RPC type name/],
    ['an empty signature (no return type)', [[]], /non-empty array/],
    ['a signature that is not an array', ['int'], /non-empty array/],
    ['signatures that are not an array', 'int', /must be a non-empty array/],
    ['an empty list of signatures (every call would be refused)', [], /must be a non-empty array .*\(leave it out to declare none\)/],
  ];
  for (const [what, signatures, message] of cases) {
    t.throws(() => d.registerFunction((x: unknown) => x, 'echo', { signatures: signatures as string[][] }), { name: 'TypeError', message }, what);
  }
  t.same(
    await outcome(d, 'system.listMethods'),
    { value: ['system.getCapabilities', 'system.listMethods', 'system.methodHelp', 'system.methodSignature', 'system.multicall'] },
    'nothing was registered',
  );
});

t.test('every XML-RPC type name is accepted in a signature, and the answer cannot be changed afterwards', async (t) => {
  const d = new XmlRpcDispatcher();
  const types = ['int', 'i4', 'i8', 'boolean', 'string', 'double', 'dateTime.iso8601', 'base64', 'struct', 'array', 'nil'];
  const signatures = types.map((type) => [type, type]);
  d.registerFunction((x: unknown) => x, 'echo', { signatures });
  signatures[0]![0] = 'any';
  t.same(await outcome(d, 'system.methodSignature', ['echo']), { value: types.map((type) => [type, type]) });
  t.same(await outcome(d, 'echo', [1, 2]), { fault: -32602 }, 'one parameter, as every signature says');
});

t.test("the demo's methods, echo among them, answer only XML-RPC type names or 'undef'", async (t) => {
  const { DemoHandler } = await import('../handlers/demo.js');
  const d = new DemoHandler();
  const types = new Set(['int', 'i4', 'i8', 'boolean', 'string', 'double', 'dateTime.iso8601', 'base64', 'struct', 'array', 'nil']);
  const names = (await outcome(d, 'system.listMethods')).value as string[];
  t.ok(names.includes('echo') && names.includes('validator1.manyTypesTest'));
  for (const name of names) {
    const { value } = await outcome(d, 'system.methodSignature', [name]);
    const valid =
      value === 'undef' || (Array.isArray(value) && value.every((s) => Array.isArray(s) && s.length > 0 && s.every((type) => types.has(type as string))));
    t.ok(valid, `${name}: ${JSON.stringify(value)}`);
  }
  t.same(
    (await outcome(d, 'system.methodSignature', ['echo'])).value,
    [...types].filter((type) => type !== 'i4').map((type) => [type, type]),
  );
  t.same(await outcome(d, 'echo', ['x']), { value: 'x' });
  t.same(await outcome(d, 'echo', []), { fault: -32602 }, 'echo still takes exactly one parameter');
  t.same(await outcome(d, 'echo', [1, 2]), { fault: -32602 });
});

t.test('system.multicall runs every call; one failing does not stop the others', async (t) => {
  const d = new XmlRpcDispatcher();
  d.registerFunction((a: number, b: number) => a + b, 'add');
  d.registerFunction(() => {
    throw new Fault(7, 'seven');
  }, 'fails');
  d.registerFunction(() => {
    throw new Error('plain');
  }, 'crashes');
  const { value } = await outcome(d, 'system.multicall', [
    [
      { methodName: 'add', params: [1, 2] },
      { methodName: 'fails', params: [] },
      { methodName: 'crashes', params: [] },
      { methodName: 'missing', params: [] },
      { methodName: 'system.multicall', params: [[]] },
      { methodName: 'add' },
      'not a struct',
      { methodName: 'add', params: [3, 4] },
    ],
  ]);
  t.same(value, [
    [3],
    { faultCode: 7, faultString: 'seven' },
    { faultCode: -32500, faultString: 'Error: plain' },
    { faultCode: -32601, faultString: 'method "missing" is not supported' },
    { faultCode: -32600, faultString: 'system.multicall cannot be nested' },
    { faultCode: -32600, faultString: 'system.multicall: params must be an array' },
    { faultCode: -32600, faultString: 'system.multicall: each call must be a struct' },
    [7],
  ]);
  t.same(await outcome(d, 'system.multicall', ['nope']), { fault: -32602 });
});

t.test('system.getCapabilities lists the supported extensions', async (t) => {
  const { value } = await outcome(new XmlRpcDispatcher(), 'system.getCapabilities');
  t.same(Object.keys(value as object).sort(), ['faults_interop', 'introspection', 'multicall', 'nil', 'xmlrpc']);
  t.same((value as Record<string, unknown>).faults_interop, { specUrl: 'http://xmlrpc-epi.sourceforge.net/specs/rfc.fault_codes.php', specVersion: 20010516 });
});

t.test("methods of built-in prototypes are never exposed: EventEmitter's emit, an array's push", async (t) => {
  const { EventEmitter } = await import('node:events');
  class Service extends EventEmitter {
    items = [1, 2];
    cache = new Map<string, number>();
    ping(): string {
      return 'pong';
    }
  }
  const d = new XmlRpcDispatcher().registerInstance(new Service(), { allowDottedNames: true });
  t.same(await outcome(d, 'ping'), { value: 'pong' });
  for (const name of ['emit', 'on', 'removeAllListeners', 'setMaxListeners', 'items.push', 'items.splice', 'cache.clear', 'cache.set']) {
    t.same(await outcome(d, name), { fault: -32601 }, name);
  }
  const listed = (await outcome(d, 'system.listMethods')).value as string[];
  t.ok(listed.includes('ping'));
  t.notOk(listed.includes('emit'));
});

t.test('registerIntrospectionFunctions: false leaves out system.listMethods, methodHelp, methodSignature and getCapabilities', async (t) => {
  const d = new XmlRpcDispatcher({ registerIntrospectionFunctions: false });
  d.registerFunction((a: number) => a, 'documented', { help: 'does things' });
  for (const name of ['system.listMethods', 'system.methodHelp', 'system.methodSignature', 'system.getCapabilities']) {
    t.same(await outcome(d, name, ['documented']), { fault: -32601 }, name);
  }
  t.same(d.listMethods(), ['documented', 'system.multicall'], 'multicall stays, and the page (DocHandler) still reads the methods');
  t.equal(d.methodHelp('documented'), 'does things');
  t.same(await outcome(d, 'system.multicall', [[{ methodName: 'documented', params: [1] }]]), { value: [[1]] });
});

t.test('registerMulticallFunctions: false leaves out system.multicall, and getCapabilities stops claiming it', async (t) => {
  const d = new XmlRpcDispatcher({ registerMulticallFunctions: false });
  t.same(await outcome(d, 'system.multicall', [[]]), { fault: -32601 });
  t.notOk(d.listMethods().includes('system.multicall'));
  const { value } = await outcome(d, 'system.getCapabilities');
  t.same(Object.keys(value as object).sort(), ['faults_interop', 'introspection', 'nil', 'xmlrpc']);
  const neither = new XmlRpcDispatcher({ registerIntrospectionFunctions: false, registerMulticallFunctions: false });
  t.same(neither.listMethods(), [], 'no system.* method at all');
  const both = new XmlRpcDispatcher({ registerIntrospectionFunctions: true, registerMulticallFunctions: true });
  t.same(
    both.listMethods(),
    ['system.getCapabilities', 'system.listMethods', 'system.methodHelp', 'system.methodSignature', 'system.multicall'],
    'true is the default',
  );
});

t.test('allowNone: false drops nil from system.getCapabilities', async (t) => {
  const { value } = await outcome(new XmlRpcDispatcher({ allowNone: false }), 'system.getCapabilities');
  t.same(Object.keys(value as object).sort(), ['faults_interop', 'introspection', 'multicall', 'xmlrpc']);
});

class Documented {
  static help: Record<string, string> = { add: 'add(a, b): the sum of two ints.', 'math.neg': 'unused: no dotted names' };
  static signatures = { add: [['int', 'int', 'int']] };
  add(a: number, b: number): number {
    return a + b;
  }
  bare(): string {
    return 'no help';
  }
}

t.test("an instance's class documents its methods with static help and signatures maps, read by system.methodHelp/methodSignature", async (t) => {
  t.throws(() => new XmlRpcDispatcher().registerInstance(new Documented()), /math\.neg: help or signatures for a method the instance does not offer/);
  class Clean extends Documented {
    static override help = { add: 'add(a, b): the sum of two ints.' };
  }
  const d = new XmlRpcDispatcher().registerInstance(new Clean());
  t.same(await outcome(d, 'system.methodHelp', ['add']), { value: 'add(a, b): the sum of two ints.' });
  t.same(await outcome(d, 'system.methodSignature', ['add']), { value: [['int', 'int', 'int']] }, 'inherited from the base class');
  t.same(await outcome(d, 'system.methodHelp', ['bare']), { value: '' });
  t.same(await outcome(d, 'system.methodSignature', ['bare']), { value: 'undef' });
  t.same(await outcome(d, 'add', [1, 2]), { value: 3 });
  t.same(await outcome(d, 'add', [1, 2, 3]), { fault: -32602 }, 'the signatures are enforced, as for a registered function');
  d.registerFunction(() => 'mine', 'add', { help: 'the function wins' });
  t.same(await outcome(d, 'system.methodHelp', ['add']), { value: 'the function wins' }, 'a registered function wins, its help too');
});

t.test('registerInstance takes the help of a plain object (or overrides the class) with the methods option; bad entries are refused', async (t) => {
  const calc = { twice: (x: number) => x * 2, nested: { half: (x: number) => x / 2 } };
  const d = new XmlRpcDispatcher().registerInstance(calc, {
    allowDottedNames: true,
    methods: { twice: { help: 'twice(x)', signatures: [['int', 'int']] }, 'nested.half': { help: 'half(x)' } },
  });
  t.same(await outcome(d, 'system.methodHelp', ['twice']), { value: 'twice(x)' });
  t.same(await outcome(d, 'system.methodHelp', ['nested.half']), { value: 'half(x)' });
  t.same(await outcome(d, 'system.methodSignature', ['twice']), { value: [['int', 'int']] });
  const overridden = new XmlRpcDispatcher().registerInstance(new Documented(), { methods: { bare: { help: 'now documented' } } });
  t.same(await outcome(overridden, 'system.methodHelp', ['bare']), { value: 'now documented' });
  t.same(await outcome(overridden, 'system.methodHelp', ['add']), { value: '' }, 'the option replaces the class maps');
  t.throws(() => new XmlRpcDispatcher().registerInstance(calc, { methods: { twice: { signatures: [['any']] } } }), /not an XML-RPC type name/);
  t.throws(() => new XmlRpcDispatcher().registerInstance(calc, { methods: { twice: { help: 5 as never } } }), /help must be a string/);
  t.throws(
    () => new XmlRpcDispatcher().registerInstance(calc, { methods: { _secret: { help: 'x' } } }),
    /does not offer/,
    'no help for what is never dispatched',
  );
  const before = new XmlRpcDispatcher().registerInstance(calc, { methods: { twice: { help: 'kept' } } });
  t.throws(() => before.registerInstance(calc, { methods: { nope: { help: 'x' } } }));
  t.same(await outcome(before, 'system.methodHelp', ['twice']), { value: 'kept' }, 'a refused registration changes nothing');
  const selfDispatching = { _dispatch: (method: string) => method };
  const free = new XmlRpcDispatcher().registerInstance(selfDispatching, { methods: { anything: { help: 'its own dispatch' } } });
  t.same(await outcome(free, 'system.methodHelp', ['anything']), { value: 'its own dispatch' }, 'an instance with _dispatch documents what it likes');
});

t.test("as in Python, an instance's _listMethods() and _methodHelp(name) describe what it dispatches for itself", async (t) => {
  const proxyLike = {
    _dispatch: (method: string, params: unknown[]) => `${method}(${params.length})`,
    _listMethods: () => ['remote.one', 'remote.two', 5, null],
    _methodHelp: (name: string) => (name === 'remote.one' ? 'the first' : undefined),
  };
  const d = new XmlRpcDispatcher({ registerMulticallFunctions: false });
  d.registerFunction(() => 'f', 'own', { help: 'registered' });
  d.registerInstance(proxyLike);
  const { value } = await outcome(d, 'system.listMethods');
  t.same(
    value,
    ['own', 'remote.one', 'remote.two', 'system.getCapabilities', 'system.listMethods', 'system.methodHelp', 'system.methodSignature'],
    'strings only, sorted',
  );
  t.same(await outcome(d, 'system.methodHelp', ['remote.one']), { value: 'the first' });
  t.same(await outcome(d, 'system.methodHelp', ['remote.two']), { value: '' }, 'a non-string answer is no help');
  t.same(await outcome(d, 'system.methodHelp', ['own']), { value: 'registered' }, 'a registered function keeps its own help');
  t.same(await outcome(d, 'remote.two', [1, 2]), { value: 'remote.two(2)' });
});
