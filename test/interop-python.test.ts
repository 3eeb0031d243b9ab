// Interoperability with a real XML-RPC client: Python's xmlrpc.client
// calling the demo server (every demo and validator1 method, multicall,
// introspection, faults) over loopback.

import t from 'tap';
import { runPythonJson } from './support.js';
import { spawnSync } from 'node:child_process';
import { Server } from '../lib/server/server.js';
import { DemoHandler } from '../handlers/demo.js';

const python = spawnSync('python3', ['-c', 'import xmlrpc.client'], { encoding: 'utf8' });
const skip = python.error !== undefined || python.status !== 0 ? 'python3 with xmlrpc.client is not available on this machine' : false;

const SCRIPT = String.raw`
import json, sys, datetime, xmlrpc.client as x
url = sys.argv[1]
p = x.ServerProxy(url, allow_none=True, use_builtin_types=True)
out = {}
def rec(name, fn):
    try:
        out[name] = {"ok": fn()}
    except x.Fault as f:
        out[name] = {"fault": [f.faultCode, f.faultString]}
    except Exception as e:
        out[name] = {"error": repr(e)}

def j(v):
    # JSON-friendly view that keeps the Python type visible
    if isinstance(v, bool): return ["bool", v]
    if isinstance(v, int): return ["int", v]
    if isinstance(v, float): return ["float", repr(v)]
    if isinstance(v, str): return ["str", v]
    if isinstance(v, bytes): return ["bytes", v.hex()]
    if isinstance(v, datetime.datetime): return ["datetime", v.isoformat()]
    if v is None: return ["none", None]
    if isinstance(v, list): return ["list", [j(e) for e in v]]
    if isinstance(v, dict): return ["dict", {k: j(e) for k, e in v.items()}]
    return ["other", repr(v)]

rec("add", lambda: p.add(40, 2))
rec("add_float", lambda: j(p.add(1.5, 2.25)))
rec("add_mixed", lambda: j(p.add(1.0, 2)))
rec("add_str", lambda: p.add("ab", "cd"))
samples = {
  "int": 7, "neg": -2147483648, "max": 2147483647, "true": True, "false": False,
  "str": "h\u00e9llo <&> ]]> \U0001F600", "empty": "", "float": 3.25, "intfloat": 2.0, "negzero": -0.0, "big": 1e300, "tiny": 5e-324,
  "date": datetime.datetime(1998, 7, 17, 14, 8, 55), "bytes": b"\x00\x01\xfe\xff", "nobytes": b"",
  "list": [1, "two", [3.5, None]], "dict": {"a": 1, "__proto__": "p", "constructor": [True]}, "none": None,
}
for name, value in samples.items():
    rec("echo_" + name, lambda value=value: j(p.echo(value)))
rec("echo_bigbytes", lambda: len(p.echo(b"z" * 1000000)))
rec("echo_struct_10000", lambda: len(p.echo({str(i): i for i in range(10000)})))
v = "validator1."
rec("arrayOfStructsTest", lambda: p.validator1.arrayOfStructsTest([{"moe": 1, "larry": 2, "curly": 3}, {"moe": 4, "larry": 5, "curly": -6}]))
rec("countTheEntities", lambda: p.validator1.countTheEntities("<<>&'\"\"x"))
rec("easyStructTest", lambda: p.validator1.easyStructTest({"moe": 1, "larry": 2, "curly": 4}))
rec("echoStructTest", lambda: j(p.validator1.echoStructTest({"substruct0": {"moe": 1}, "x": [1, 2]})))
rec("manyTypesTest", lambda: j(p.validator1.manyTypesTest(5, True, "s", 1.0, datetime.datetime(2000, 1, 2, 3, 4, 5), b"bin")))
rec("moderateSizeArrayCheck", lambda: p.validator1.moderateSizeArrayCheck(["first"] + ["mid"] * 150 + ["last"]))
rec("nestedStructTest", lambda: p.validator1.nestedStructTest({"2000": {"03": {"31": {"moe": 9}}, "04": {"01": {"moe": 1, "larry": 2, "curly": 3}}}}))
rec("simpleStructReturnTest", lambda: p.validator1.simpleStructReturnTest(7))
rec("listMethods", lambda: p.system.listMethods())
rec("methodHelp", lambda: p.system.methodHelp("add"))
rec("methodHelp_unknown", lambda: p.system.methodHelp("nope"))
rec("methodSignature", lambda: p.system.methodSignature("validator1.easyStructTest"))
rec("methodSignature_unknown", lambda: p.system.methodSignature("nope"))
rec("methodSignature_echo", lambda: p.system.methodSignature("echo"))
rec("methodSignature_all", lambda: {name: p.system.methodSignature(name) for name in p.system.listMethods()})
rec("getCapabilities", lambda: sorted(p.system.getCapabilities().keys()))
rec("unknown", lambda: p.no.such.method())
rec("bad_params", lambda: p.add(1))
def multicall():
    m = x.MultiCall(p)
    m.add(1, 2)
    m.echo("x")
    m.nope()
    m.validator1.simpleStructReturnTest(2)
    res = []
    for r in m().results:
        res.append(r)
    return [j(e) for e in res]
rec("multicall_raw", multicall)
def multicall_iter():
    m = x.MultiCall(p)
    m.add(1, 2)
    m.nope()
    it = m()
    first = it[0]
    try:
        it[1]
        return [first, "no fault"]
    except x.Fault as f:
        return [first, f.faultCode]
rec("multicall_iter", multicall_iter)
rec("nested_multicall", lambda: p.system.multicall([{"methodName": "system.multicall", "params": [[]]}]))
print(json.dumps(out))
`;

/** What the script prints: each call's result, fault or error, by name. */
type PythonResults = Record<string, { ok?: unknown; fault?: [number, string]; error?: string }>;

function runPython(url: string): Promise<PythonResults> {
  return runPythonJson<PythonResults>(SCRIPT, url);
}

t.test("Python's xmlrpc.client calls every demo and validator1 method", { skip }, async (t) => {
  const server = new Server({ handlers: [new DemoHandler()], onError: () => {} });
  const { port } = await server.listen(0, '127.0.0.1');
  t.teardown(() => server.close());
  const r = await runPython(`http://127.0.0.1:${port}/RPC2`);

  t.same(r.add, { ok: 42 });
  t.same(r.add_float, { ok: ['float', '3.75'] });
  t.same(r.add_str, { ok: 'abcd' });
  t.same(r.add_mixed, { ok: ['float', '3.0'] }, 'a double plus an int is a double, as in Python');

  t.same(r.echo_int, { ok: ['int', 7] });
  t.same(r.echo_neg, { ok: ['int', -2147483648] });
  t.same(r.echo_max, { ok: ['int', 2147483647] });
  t.same(r.echo_true, { ok: ['bool', true] });
  t.same(r.echo_false, { ok: ['bool', false] });
  t.same(r.echo_str, { ok: ['str', 'h\u00e9llo <&> ]]> \u{1F600}'] });
  t.same(r.echo_empty, { ok: ['str', ''] });
  t.same(r.echo_float, { ok: ['float', '3.25'] });
  t.same(r.echo_intfloat, { ok: ['float', '2.0'] }, 'an integral double comes back a double');
  t.same(r.echo_negzero, { ok: ['float', '-0.0'] });
  t.same(r.echo_big, { ok: ['float', '1e+300'] });
  t.same(r.echo_tiny, { ok: ['float', '5e-324'] });
  t.same(r.echo_date, { ok: ['datetime', '1998-07-17T14:08:55'] });
  t.same(r.echo_bytes, { ok: ['bytes', '0001feff'] });
  t.same(r.echo_nobytes, { ok: ['bytes', ''] });
  t.same(r.echo_list, {
    ok: [
      'list',
      [
        ['int', 1],
        ['str', 'two'],
        [
          'list',
          [
            ['float', '3.5'],
            ['none', null],
          ],
        ],
      ],
    ],
  });
  t.same(r.echo_dict, { ok: ['dict', { a: ['int', 1], ['__proto__']: ['str', 'p'], constructor: ['list', [['bool', true]]] }] });
  t.same(r.echo_none, { ok: ['none', null] });
  t.same(r.echo_bigbytes, { ok: 1000000 });
  t.same(r.echo_struct_10000, { ok: 10000 });

  t.same(r.arrayOfStructsTest, { ok: -3 });
  t.same(r.countTheEntities, {
    ok: { ctLeftAngleBrackets: 2, ctRightAngleBrackets: 1, ctAmpersands: 1, ctApostrophes: 1, ctQuotes: 2 },
  });
  t.same(r.easyStructTest, { ok: 7 });
  t.same(r.echoStructTest, {
    ok: [
      'dict',
      {
        substruct0: ['dict', { moe: ['int', 1] }],
        x: [
          'list',
          [
            ['int', 1],
            ['int', 2],
          ],
        ],
      },
    ],
  });
  t.same(r.manyTypesTest, {
    ok: [
      'list',
      [
        ['int', 5],
        ['bool', true],
        ['str', 's'],
        ['float', '1.0'],
        ['datetime', '2000-01-02T03:04:05'],
        ['bytes', '62696e'],
      ],
    ],
  });
  t.same(r.moderateSizeArrayCheck, { ok: 'firstlast' });
  t.same(r.nestedStructTest, { ok: 6 });
  t.same(r.simpleStructReturnTest, { ok: { times10: 70, times100: 700, times1000: 7000 } });

  const methods = (r.listMethods?.ok ?? []) as string[];
  for (const name of [
    'add',
    'echo',
    'system.listMethods',
    'system.methodHelp',
    'system.methodSignature',
    'system.multicall',
    'system.getCapabilities',
    'validator1.nestedStructTest',
  ]) {
    t.ok(methods.includes(name), `listMethods has ${name}`);
  }
  t.match(r.methodHelp, { ok: /add/ });
  t.same(r.methodHelp_unknown, { ok: '' });
  t.same(r.methodSignature, { ok: [['int', 'struct']] });
  t.same(r.methodSignature_unknown, { ok: 'undef' });
  // What Python's docs promise a client: a list of signatures, each a list of
  // type names, the return type first; echo takes one value of any type.
  const types = ['int', 'i4', 'i8', 'boolean', 'string', 'double', 'dateTime.iso8601', 'base64', 'struct', 'array', 'nil'];
  t.same(r.methodSignature_echo, {
    ok: ['int', 'i8', 'boolean', 'string', 'double', 'dateTime.iso8601', 'base64', 'struct', 'array', 'nil'].map((type) => [type, type]),
  });
  for (const [name, signature] of Object.entries((r.methodSignature_all?.ok ?? {}) as Record<string, unknown>)) {
    const valid =
      signature === 'undef' ||
      (Array.isArray(signature) && signature.every((s) => Array.isArray(s) && s.length > 0 && s.every((type) => types.includes(type as string))));
    t.ok(valid, `system.methodSignature('${name}') answers XML-RPC type names or 'undef': ${JSON.stringify(signature)}`);
  }
  t.ok(Object.keys((r.methodSignature_all?.ok ?? {}) as object).length >= 15, 'every listed method was asked');
  t.same(r.getCapabilities, { ok: ['faults_interop', 'introspection', 'multicall', 'nil', 'xmlrpc'] });
  t.equal(r.unknown?.fault?.[0], -32601);
  t.equal(r.bad_params?.fault?.[0], -32602);

  t.same(r.multicall_raw?.ok, [
    ['list', [['int', 3]]],
    ['list', [['str', 'x']]],
    ['dict', { faultCode: ['int', -32601], faultString: ['str', 'method "nope" is not supported'] }],
    ['list', [['dict', { times10: ['int', 20], times100: ['int', 200], times1000: ['int', 2000] }]]],
  ]);
  t.same(r.multicall_iter, { ok: [3, -32601] });
  t.match(r.nested_multicall, { ok: [{ faultCode: -32600 }] });
});
