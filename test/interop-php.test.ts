// Interoperability with PHP's xmlrpc extension (Debian's php8.2-xmlrpc, the
// PECL build of xmlrpc-epi), both ways, as real processes over loopback:
// xmlrpc_encode_request + PHP's http:// stream (HTTP/1.0, Connection: close,
// no User-Agent) calling our server; our client calling an
// xmlrpc_server_call_method script under `php -S 127.0.0.1:0`.
//
// Quirks of the peer (xmlrpc-epi), checked below; none is ours to fix:
// - It writes doubles with 6 decimals ("%f"): 1.5e-7 and 5e-324 go out as
//   0.000000, both ways.
// - It knows neither <nil/> nor <i8>: PHP null goes out as an empty
//   <string/>, an <i8> reads as null, and an int beyond 32 bits goes out
//   truncated (2^40 as <int>0</int>): silent corruption on its side.
// - PHP arrays are both structs and arrays: an empty struct comes back an
//   empty array.
// - Its multicall is named system.multiCall (capital C), so our MultiCall
//   (system.multicall, the spec's name) gets "method not found"; and it
//   wraps every fault in a one-element array like a result ([struct]), so a
//   caller cannot tell a failed call from one that returned a struct.
// - system.methodHelp / methodSignature for a method registered without
//   introspection data answer `<params/>` (no <param>), which is not a
//   valid response: our client refuses it.
// - A PHP exception in a method is an HTTP 500 with no XML.
// - With its default output options it writes each byte of UTF-8 text as a
//   character reference (&#195;&#169; for one \u00e9): garbled, on its side.

import t from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ServerProxy } from '../lib/client/proxy.js';
import { MultiCall } from '../lib/client/multicall.js';
import { Double } from '../lib/xmlrpc/values.js';
import { Fault, ProtocolError } from '../lib/errors.js';
import type { XmlRpcValue } from '../lib/xmlrpc/values.js';
import { failure } from './support.js';
import { peerServer, probe, runJson, spawnPeer, type Outcomes } from './interop-peers.js';

const skip = probe(
  'php',
  ['-r', 'exit(function_exists("xmlrpc_encode_request") ? 0 : 1);'],
  'PHP with the xmlrpc extension (apt-get install php-cli php8.2-xmlrpc)',
);

const CLIENT = String.raw`<?php
$url = $argv[1];
$out = [];
function call($method, $params, $version = '1.0', $options = ['encoding' => 'utf-8', 'escaping' => 'markup']) {
  global $url;
  $req = xmlrpc_encode_request($method, $params, $options);
  $ctx = stream_context_create(['http' => ['method' => 'POST', 'header' => "Content-Type: text/xml\r\n", 'content' => $req, 'protocol_version' => $version, 'ignore_errors' => true]]);
  $body = file_get_contents($url, false, $ctx);
  return xmlrpc_decode($body, 'utf-8');
}
function j($v) {
  if (is_null($v)) return ['null', null];
  if (is_bool($v)) return ['bool', $v];
  if (is_int($v)) return ['int', $v];
  if (is_float($v)) return ['float', var_export($v, true)];
  if (is_string($v)) return ['string', $v];
  if (is_object($v)) return [$v->xmlrpc_type, $v->xmlrpc_type === 'base64' ? bin2hex($v->scalar) : $v->scalar];
  if (is_array($v)) { $r = []; foreach ($v as $k => $e) $r[] = [$k, j($e)]; return ['array', $r]; }
  return ['other', gettype($v)];
}
function rec($name, $method, $params, $version = '1.0') {
  global $out;
  $r = call($method, $params, $version);
  if (is_array($r) && xmlrpc_is_fault($r)) $out[$name] = ['fault' => [$r['faultCode'], $r['faultString']]];
  else $out[$name] = ['ok' => j($r)];
}
$date = '19980717T14:08:55'; xmlrpc_set_type($date, 'datetime');
$bytes = "\x00\x01\xfe\xff"; xmlrpc_set_type($bytes, 'base64');
$nobytes = ''; xmlrpc_set_type($nobytes, 'base64');
$samples = [
  'int' => 7, 'min' => -2147483648, 'max' => 2147483647, 'true' => true, 'false' => false,
  'str' => "h\u{e9}llo <&> ]]> \u{1F600}", 'empty' => '', 'float' => 3.25, 'intfloat' => 2.0, 'big' => 1e300, 'tiny' => 5e-324, 'small' => 1.5e-7, 'negzero' => -0.0,
  'date' => $date, 'bytes' => $bytes, 'nobytes' => $nobytes,
  'list' => [1, 'two', [3.5, null]], 'emptylist' => [], 'hash' => ['a' => 1, 'n' => ['b' => [true]]], 'nil' => null,
];
foreach ($samples as $name => $v) {
  rec("kind_$name", 'kind', [$v]);
  rec("echo_$name", 'echo', [$v]);
}
$r = call('kind', ["h\u{e9}llo"], '1.0', []);
$out['default_options'] = ['ok' => j($r)];
rec('bigint', 'kind', [1099511627776]);
rec('readI8', 'i8', ['1099511627776']);
rec('add', 'add', [40, 2]);
rec('add11', 'add', [40, 2], '1.1');
rec('fault', 'fault', [42, 'the answer']);
rec('boom', 'boom', []);
rec('unknown', 'no.such.method', []);
rec('methodHelp', 'system.methodHelp', ['add']);
rec('multicall', 'system.multicall', [[['methodName' => 'add', 'params' => [1, 2]], ['methodName' => 'nope', 'params' => []]]]);
echo json_encode($out, JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES | JSON_PRESERVE_ZERO_FRACTION);
`;

const ROUTER = String.raw`<?php
$s = xmlrpc_server_create();
xmlrpc_server_register_method($s, 'add', function ($m, $p) { return $p[0] + $p[1]; });
xmlrpc_server_register_method($s, 'echo', function ($m, $p) { return $p[0]; });
xmlrpc_server_register_method($s, 'typeof', function ($m, $p) { $v = $p[0]; return is_object($v) ? $v->xmlrpc_type : gettype($v); });
xmlrpc_server_register_method($s, 'fault', function ($m, $p) { return ['faultCode' => $p[0], 'faultString' => $p[1]]; });
xmlrpc_server_register_method($s, 'boom', function ($m, $p) { throw new Exception('boom'); });
header('Content-Type: text/xml');
echo xmlrpc_server_call_method($s, file_get_contents('php://input'), null, ['encoding' => 'utf-8', 'escaping' => 'markup', 'version' => 'xmlrpc']);
`;

t.test("PHP's xmlrpc extension calls our server with every type it has, faults, introspection and multicall", { skip }, async (t) => {
  const { demo, url } = await peerServer(t);
  const r = await runJson<Outcomes>('php', ['-r', CLIENT.replace(/^<\?php\n/, ''), '--', url]);
  // What our server decoded from PHP's request, then what PHP read back from echo.
  const seen: [string, string, unknown][] = [
    ['int', 'int:7', ['int', 7]],
    ['min', 'int:-2147483648', ['int', -2147483648]],
    ['max', 'int:2147483647', ['int', 2147483647]],
    ['true', 'bool:true', ['bool', true]],
    ['false', 'bool:false', ['bool', false]],
    ['str', 'string:"h\u00e9llo <&> ]]> \u{1F600}"', ['string', 'h\u00e9llo <&> ]]> \u{1F600}']],
    ['empty', 'string:""', ['string', '']],
    ['float', 'double:3.25', ['float', '3.25']],
    ['intfloat', 'double:2', ['float', '2.0']],
    ['big', 'double:1e+300', ['float', '1.0E+300']],
    ['negzero', 'double:-0', ['float', '-0.0']],
    // epi writes 6 decimals: these go out as 0.000000.
    ['small', 'double:0', ['float', '0.0']],
    ['tiny', 'double:0', ['float', '0.0']],
    ['date', 'date:1998-07-17T14:08:55.000Z', ['datetime', '19980717T14:08:55']],
    ['bytes', 'base64:0001feff', ['base64', '0001feff']],
    ['nobytes', 'base64:', ['base64', '']],
    // No nil in epi: PHP null is sent as an empty string.
    [
      'list',
      '[int:1,string:"two",[double:3.5,string:""]]',
      [
        'array',
        [
          [0, ['int', 1]],
          [1, ['string', 'two']],
          [
            2,
            [
              'array',
              [
                [0, ['float', '3.5']],
                [1, ['string', '']],
              ],
            ],
          ],
        ],
      ],
    ],
    ['emptylist', '[]', ['array', []]],
    [
      'hash',
      '{a:int:1,n:{b:[bool:true]}}',
      [
        'array',
        [
          ['a', ['int', 1]],
          ['n', ['array', [['b', ['array', [[0, ['bool', true]]]]]]]],
        ],
      ],
    ],
    ['nil', 'string:""', ['string', '']],
  ];
  for (const [name, decoded, back] of seen) {
    t.same(r[`kind_${name}`], { ok: ['string', decoded] }, `${name}: our server decoded ${decoded}`);
    t.same(r[`echo_${name}`], { ok: back }, `${name}: PHP read the echo back`);
  }
  // epi's default output options escape each byte of UTF-8 text as a character reference
  // (&#195;&#169; for \u00e9) under encoding="iso-8859-1": the text arrives garbled, as XML says it must.
  // PHP users pass ['encoding' => 'utf-8', 'escaping' => 'markup'], as this script does.
  t.same(r.default_options, { ok: ['string', 'string:"h\u00c3\u00a9llo"'] });
  t.same(r.bigint, { ok: ['string', 'int:0'] }, 'epi truncates 2^40 to a 32-bit <int>0</int>');
  t.same(r.readI8, { ok: ['null', null] }, 'epi reads <i8> as null');
  t.same(r.add, { ok: ['int', 42] });
  t.same(r.add11, { ok: ['int', 42] }, 'the same over HTTP/1.1');
  t.same(r.fault, { fault: [42, 'the answer'] });
  t.same(r.boom, { fault: [-32500, 'Error: boom'] });
  t.same(r.unknown, { fault: [-32601, 'method "no.such.method" is not supported'] });
  t.same(r.methodHelp, { ok: ['string', 'add(a, b): the sum of two numbers (or the concatenation of two strings).'] });
  t.same(r.multicall, {
    ok: [
      'array',
      [
        [0, ['array', [[0, ['int', 3]]]]],
        [
          1,
          [
            'array',
            [
              ['faultCode', ['int', -32601]],
              ['faultString', ['string', 'method "nope" is not supported']],
            ],
          ],
        ],
      ],
    ],
  });
  // PHP's http:// stream: HTTP/1.0 (1.1 when asked), Connection: close, no User-Agent.
  t.match(demo.framings[0], { version: '1.0', chunked: false, connection: 'close', contentType: 'text/xml', userAgent: undefined });
  t.ok(
    demo.framings.some((f) => f.version === '1.1' && f.connection === 'close'),
    'an HTTP/1.1 request with Connection: close',
  );
});

t.test("our client calls PHP's xmlrpc_server under php -S: round trips, faults, introspection, multiCall", { skip }, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'interop-php-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.writeFileSync(path.join(dir, 'router.php'), ROUTER);
  const port = await spawnPeer(t, 'php', ['-S', '127.0.0.1:0', 'router.php'], /Development Server \(http:\/\/127\.0\.0\.1:(\d+)\) started/, dir);
  const proxy = new ServerProxy(`http://127.0.0.1:${port}/RPC2`);
  t.teardown(() => proxy.close());
  const date = new Date(Date.UTC(1998, 6, 17, 14, 8, 55));
  const cases: [string, unknown, XmlRpcValue, string][] = [
    ['int', 7, 7, 'integer'],
    ['int32 min', -2147483648, -2147483648, 'integer'],
    ['int32 max', 2147483647, 2147483647, 'integer'],
    ['boolean', true, true, 'boolean'],
    ['string', 'h\u00e9llo <&> ]]> \u{1F600}', 'h\u00e9llo <&> ]]> \u{1F600}', 'string'],
    ['empty string', '', '', 'string'],
    ['double', 3.25, 3.25, 'double'],
    ['Double(2)', new Double(2), 2, 'double'],
    ['1e300', 1e300, 1e300, 'double'],
    // epi writes 6 decimals.
    ['5e-324', 5e-324, 0, 'double'],
    ['1.5e-7', 1.5e-7, 0, 'double'],
    ['-0', -0, -0, 'double'],
    ['dateTime', date, date, 'datetime'],
    ['base64', Buffer.from([0, 1, 254, 255]), Buffer.from([0, 1, 254, 255]), 'base64'],
    ['empty base64', Buffer.alloc(0), Buffer.alloc(0), 'base64'],
    // No nil in epi: it reads <nil/> as null and writes null as an empty string.
    ['nil', null, '', 'NULL'],
    ['array', [1, 'two', [3.5]], [1, 'two', [3.5]], 'array'],
    ['empty array', [], [], 'array'],
    ['struct', { a: 1, ['__proto__']: 'p', '04': [true], n: { m: 'x' } }, { a: 1, ['__proto__']: 'p', '04': [true], n: { m: 'x' } }, 'array'],
    // PHP has one array type: an empty struct comes back an empty array.
    ['empty struct', {}, [], 'array'],
  ];
  for (const [name, sent, expected, phpType] of cases) {
    t.equal(await proxy.typeof(sent), phpType, `${name}: PHP sees ${phpType}`);
    const back = await proxy.echo(sent);
    t.same(back, expected, `${name}: comes back`);
    if (Object.is(expected, -0)) t.ok(Object.is(back, -0), '-0 stays -0');
  }
  t.equal(await proxy.typeof(2n ** 40n), 'NULL', 'epi reads <i8> as null');

  t.match(await failure(proxy.fault(42, 'the answer')), { constructor: Fault, faultCode: 42, faultString: 'the answer' });
  t.match(await failure(proxy.no.such.method()), { constructor: Fault, faultCode: -32601, faultString: /method not found/ });
  t.match(await failure(proxy.boom()), { constructor: ProtocolError, status: 500 }, 'a PHP exception is an HTTP 500');
  const methods = (await proxy.system.listMethods()) as string[];
  for (const name of ['add', 'echo', 'system.multiCall', 'system.listMethods']) t.ok(methods.includes(name), name);
  t.match(await failure(proxy.system.methodHelp('add')), { code: 'ERR_XMLRPC_RESPONSE', message: /exactly one <param>, got 0/ }, 'epi answers <params/>');

  // Our MultiCall uses the spec's system.multicall; epi names it system.multiCall.
  const multi = new MultiCall(proxy);
  multi.add(1, 2);
  t.match(await failure(multi.run()), { constructor: Fault, faultCode: -32601 });
  t.same(
    await proxy.system.multiCall([
      { methodName: 'add', params: [1, 2] },
      { methodName: 'fault', params: [7, 'seven'] },
      { methodName: 'nope', params: [] },
    ]),
    [[3], [{ faultCode: 7, faultString: 'seven' }], [{ faultCode: -32601, faultString: 'server error. method not found.\n\nnope' }]],
    'every fault comes back wrapped as a result ([struct]), not as the bare fault struct the spec gives',
  );
  // php -S answers Connection: close: no socket stays pooled.
  t.equal(proxy.transport.stats().idle, 0);
});
