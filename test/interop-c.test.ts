// Interoperability with xmlrpc-c (Debian's libxmlrpc-core-c3, 1.33), both
// ways, as real processes over loopback: a C client (xmlrpc_client, curl
// transport) and the `xmlrpc` command line tool calling our server; our
// client calling an Abyss server. Both C peers are compiled with gcc into a
// temp dir when the file starts.
//
// Quirks of the peer, checked below:
// - xmlrpc-c 1.33 refuses UTF-8 beyond the Basic Multilingual Plane (an
//   emoji) both ways: its client cannot send one, nor read one back (fault
//   -510), and its server answers fault -503.
// - It reads our shortest-decimal doubles loosely: 5e-324, which we write
//   in the spec's decimal notation (a 0. and 323 zeros, then 5), reads as 0;
//   1.5e-7 comes back 0.0000001500000000000001. And it writes -0 as 0.
// - Its client puts "RPC failed at server.  " before the fault string; the
//   fault code arrives unchanged.
// - It has <i8> and <nil/> both ways.
// - With chunk_response, Abyss answers chunked and with a Content-length
//   (RFC 9112 §6.2 forbids both): we read the chunks and close.

import t from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { ServerProxy } from '../lib/client/proxy.js';
import { MultiCall } from '../lib/client/multicall.js';
import { Double, I8 } from '../lib/xmlrpc/values.js';
import { Fault } from '../lib/errors.js';
import { Transport, type OutgoingRequest } from '../lib/client/transport.js';
import type { IncomingResponse } from '../lib/client/request.js';
import { getHeader } from '../lib/http/headers.js';
import type { XmlRpcValue } from '../lib/xmlrpc/values.js';
import { failure, runCommand, spawnListening } from './support.js';
import { peerServer } from './interop-peers.js';

const CLIENT = String.raw`/* Interop peer: an xmlrpc-c client (curl transport). Calls the URL in argv[1]
   and prints, per call, "name<TAB>" and the result as xmlrpc-c serializes it,
   or "name<TAB>FAULT <code> <string>". */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xmlrpc-c/base.h>
#include <xmlrpc-c/client.h>

static xmlrpc_client *client;
static xmlrpc_server_info *server;

static void show(const char *name, xmlrpc_env *env, xmlrpc_value *result) {
  if (env->fault_occurred) {
    printf("%s\tFAULT %d %s\n", name, env->fault_code, env->fault_string);
    fflush(stdout);
    return;
  }
  xmlrpc_mem_block *out = XMLRPC_MEMBLOCK_NEW(char, env, 0);
  xmlrpc_serialize_value(env, out, result);
  /* One line per call: xmlrpc-c puts newlines between elements. */
  printf("%s\t", name);
  const char *xml = XMLRPC_MEMBLOCK_CONTENTS(char, out);
  for (size_t i = 0; i < XMLRPC_MEMBLOCK_SIZE(char, out); i++) putchar(xml[i] == '\n' || xml[i] == '\r' ? ' ' : xml[i]);
  putchar('\n');
  XMLRPC_MEMBLOCK_FREE(char, out);
  xmlrpc_DECREF(result);
}

/* Calls method with one parameter and prints the result. */
static void call1(const char *name, const char *method, xmlrpc_value *param) {
  xmlrpc_env env;
  xmlrpc_env_init(&env);
  xmlrpc_value *params = xmlrpc_array_new(&env);
  xmlrpc_array_append_item(&env, params, param);
  xmlrpc_DECREF(param);
  xmlrpc_value *result = NULL;
  xmlrpc_client_call2(&env, client, server, method, params, &result);
  show(name, &env, result);
  xmlrpc_DECREF(params);
  xmlrpc_env_clean(&env);
}

static void both(const char *name, xmlrpc_value *v) {
  if (v == NULL) {
    printf("%s\tBUILD\n", name);
    return;
  }
  char k[64], e[64];
  snprintf(k, sizeof k, "kind_%s", name);
  snprintf(e, sizeof e, "echo_%s", name);
  xmlrpc_INCREF(v);
  call1(k, "kind", v);
  call1(e, "echo", v);
}

static void callf(const char *name, const char *method, const char *format, ...) {
  xmlrpc_env env;
  xmlrpc_env_init(&env);
  va_list args;
  va_start(args, format);
  xmlrpc_value *params = NULL;
  const char *tail;
  xmlrpc_build_value_va(&env, format, args, &params, &tail);
  va_end(args);
  xmlrpc_value *result = NULL;
  if (!env.fault_occurred) xmlrpc_client_call2(&env, client, server, method, params, &result);
  show(name, &env, result);
  if (params) xmlrpc_DECREF(params);
  xmlrpc_env_clean(&env);
}

int main(int argc, char **argv) {
  xmlrpc_env env;
  xmlrpc_env_init(&env);
  setvbuf(stdout, NULL, _IOLBF, 0);
  xmlrpc_client_setup_global_const(&env);
  xmlrpc_client_create(&env, XMLRPC_CLIENT_NO_FLAGS, "interop", "1.0", NULL, 0, &client);
  server = xmlrpc_server_info_new(&env, argv[1]);
  if (env.fault_occurred) { fprintf(stderr, "client: %s\n", env.fault_string); return 1; }
  static const unsigned char bytes[] = {0, 1, 254, 255};
#define B(name, ...) (xmlrpc_env_init(&env), both(name, xmlrpc_build_value(&env, __VA_ARGS__)))
  B("int", "i", 7);
  B("min", "i", (xmlrpc_int32)-2147483647 - 1);
  B("max", "i", 2147483647);
  B("i8", "I", (xmlrpc_int64)1099511627776LL);
  B("i8min", "I", (xmlrpc_int64)(-9223372036854775807LL - 1));
  B("true", "b", 1);
  B("false", "b", 0);
  /* xmlrpc-c 1.33 refuses UTF-8 beyond the BMP ("not in the Basic Multilingual Plane"). */
  B("str", "s", "h\xc3\xa9llo <&> ]]> \xe2\x82\xac");
  B("empty", "s", "");
  B("float", "d", 3.25);
  B("intfloat", "d", 2.0);
  B("big", "d", 1e300);
  B("tiny", "d", 5e-324);
  B("small", "d", 1.5e-7);
  B("negzero", "d", -0.0);
  B("date", "8", "19980717T14:08:55");
  B("bytes", "6", bytes, (size_t)4);
  B("nobytes", "6", bytes, (size_t)0);
  B("list", "(is(dn))", 1, "two", 3.5);
  B("emptylist", "()");
  B("hash", "{s:i,s:{s:(b)}}", "a", 1, "n", "b", 1);
  B("emptyhash", "{}");
  B("nil", "n");
  callf("astral", "char", "(i)", 0x1F600);
  callf("readI8", "i8", "(s)", "1099511627776");
  callf("add", "add", "(ii)", 40, 2);
  callf("fault", "fault", "(is)", 42, "the answer");
  callf("boom", "boom", "()");
  callf("unknown", "no.such.method", "()");
  callf("methodHelp", "system.methodHelp", "(s)", "add");
  callf("multicall", "system.multicall", "(({s:s,s:(ii)}{s:s,s:()}))", "methodName", "add", "params", 1, 2, "methodName", "nope", "params");
  xmlrpc_server_info_free(server);
  xmlrpc_client_destroy(client);
  xmlrpc_client_teardown_global_const();
  return 0;
}
`;

const SERVER = String.raw`/* Interop peer: an xmlrpc-c (Abyss) server on 127.0.0.1, port 0, path /RPC2,
   printing its port; with an argument, it answers with chunked bodies
   (Abyss's chunk_response). Methods: add, echo, typeof (the xmlrpc-c type name),
   fault(code, text), and the registry's own system.* methods. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <xmlrpc-c/base.h>
#include <xmlrpc-c/server.h>
#include <xmlrpc-c/server_abyss.h>

static xmlrpc_value *add(xmlrpc_env *env, xmlrpc_value *params, void *s, void *c) {
  xmlrpc_int32 a, b;
  xmlrpc_decompose_value(env, params, "(ii)", &a, &b);
  return env->fault_occurred ? NULL : xmlrpc_build_value(env, "i", a + b);
}

static xmlrpc_value *echo(xmlrpc_env *env, xmlrpc_value *params, void *s, void *c) {
  xmlrpc_value *v = NULL;
  xmlrpc_array_read_item(env, params, 0, &v);
  return env->fault_occurred ? NULL : v;
}

static xmlrpc_value *type_of(xmlrpc_env *env, xmlrpc_value *params, void *s, void *c) {
  xmlrpc_value *v = NULL;
  xmlrpc_array_read_item(env, params, 0, &v);
  if (env->fault_occurred) return NULL;
  const char *name = xmlrpc_type_name(xmlrpc_value_type(v));
  xmlrpc_DECREF(v);
  return xmlrpc_build_value(env, "s", name);
}

static xmlrpc_value *fault(xmlrpc_env *env, xmlrpc_value *params, void *s, void *c) {
  xmlrpc_int32 code;
  const char *text;
  xmlrpc_decompose_value(env, params, "(is)", &code, &text);
  if (env->fault_occurred) return NULL;
  xmlrpc_env_set_fault(env, code, text);
  free((void *)text);
  return NULL;
}

int main(int argc, char **argv) {
  (void)argv;
  xmlrpc_env env;
  xmlrpc_env_init(&env);
  xmlrpc_registry *registry = xmlrpc_registry_new(&env);
  struct xmlrpc_method_info3 methods[] = {
      {"add", &add, NULL, 0, "i:ii", "add(a, b): the sum of two ints"},
      {"echo", &echo, NULL, 0, "?", NULL},
      {"typeof", &type_of, NULL, 0, "?", NULL},
      {"fault", &fault, NULL, 0, "?", NULL},
  };
  for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) xmlrpc_registry_add_method3(&env, registry, &methods[i]);
  if (env.fault_occurred) {
    fprintf(stderr, "registry: %s\n", env.fault_string);
    return 1;
  }
  int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof sa;
  if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, 64) != 0 || getsockname(fd, (struct sockaddr *)&sa, &len) != 0) {
    perror("bind/listen");
    return 1;
  }
  printf("%d\n", ntohs(sa.sin_port));
  fflush(stdout);
  xmlrpc_server_abyss_parms parms = {0};
  parms.registryP = registry;
  parms.socket_bound = 1;
  parms.socket_handle = fd;
  parms.uri_path = "/RPC2";
  parms.keepalive_timeout = 120; /* seconds: a loaded test machine may pause between calls */
  parms.keepalive_max_conn = 1000000;
  parms.chunk_response = argc > 1; /* "chunked": answers with a chunked body */
  xmlrpc_server_abyss(&env, &parms, XMLRPC_APSIZE(chunk_response));
  if (env.fault_occurred) fprintf(stderr, "xmlrpc_server_abyss: %s\n", env.fault_string);
  return env.fault_occurred ? 1 : 0;
}
`;

/** Compiles the two peers into a temp dir (removed when the file ends); a skip reason if xmlrpc-c or gcc is missing. */
function build(): { client: string; server: string } | string {
  const flags = (kind: string) => spawnSync('xmlrpc-c-config', [kind, '--cflags', '--libs'], { encoding: 'utf8' });
  const clientFlags = flags('client');
  const serverFlags = flags('abyss-server');
  if (clientFlags.status !== 0 || serverFlags.status !== 0) return 'xmlrpc-c-config is not available (apt-get install libxmlrpc-core-c3-dev)';
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'interop-c-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const out = { client: path.join(dir, 'client'), server: path.join(dir, 'server') };
  for (const [name, source, libs] of [
    // -lcurl names the static library's dependency: the shared libxmlrpc_client
    // brings its own libcurl, and the -dev package for -lcurl may be absent.
    ['client', CLIENT, clientFlags.stdout.replace(/-lcurl\b/, '')],
    ['server', SERVER, serverFlags.stdout],
  ] as const) {
    fs.writeFileSync(path.join(dir, `${name}.c`), source);
    const cc = spawnSync('gcc', ['-O1', '-o', out[name], path.join(dir, `${name}.c`), ...libs.split(/\s+/).filter((f) => f !== '')], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    if (cc.error !== undefined || cc.status !== 0) return `the xmlrpc-c ${name} did not build: ${(cc.stderr ?? cc.error?.message ?? '').trim().split('\n')[0]}`;
  }
  return out;
}

const built = build();
const skip = typeof built === 'string' ? built : false;
if (typeof built === 'string') console.log(`# skip: ${built}`);
const cli = spawnSync('xmlrpc', ['--version'], { encoding: 'utf8' });
const skipCli = cli.error !== undefined ? 'the xmlrpc command line tool is not available (apt-get install xmlrpc-api-utils or libxmlrpc-core-c3-dev)' : false;

/** Runs the C client against `url`: each call's name and result (xmlrpc-c's own serialization, one line) or FAULT. */
async function runClient(url: string): Promise<Map<string, string>> {
  const r = await runCommand((built as { client: string }).client, [url], { timeout: 60_000 });
  if (r.code !== 0) throw new Error(`the C client exited ${String(r.code)}: ${r.stderr}`);
  return new Map(
    r.stdout
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => line.split('\t', 2) as [string, string]),
  );
}

/** xmlrpc-c's serialization of a value with the whitespace between elements removed. */
const squeeze = (xml: string | undefined) => xml?.replace(/>\s+/g, '>').replace(/\s+</g, '<');

t.test('the xmlrpc-c client calls our server with every type, i8 and nil, faults, introspection and multicall', { skip }, async (t) => {
  const { demo, url } = await peerServer(t);
  const r = await runClient(url);
  const kinds: [string, string, string][] = [
    ['int', 'int:7', '<i4>7</i4>'],
    ['min', 'int:-2147483648', '<i4>-2147483648</i4>'],
    ['max', 'int:2147483647', '<i4>2147483647</i4>'],
    ['i8', 'i8:1099511627776', '<i8>1099511627776</i8>'],
    ['i8min', 'i8:-9223372036854775808', '<i8>-9223372036854775808</i8>'],
    ['true', 'bool:true', '<boolean>1</boolean>'],
    ['false', 'bool:false', '<boolean>0</boolean>'],
    ['str', 'string:"h\u00e9llo <&> ]]> \u20ac"', '<string>h\u00e9llo &lt;&amp;&gt; ]]&gt; \u20ac</string>'],
    ['empty', 'string:""', '<string></string>'],
    ['float', 'double:3.25', '<double>3.25</double>'],
    ['intfloat', 'double:2', '<double>2</double>'],
    ['big', 'double:1e+300', `<double>1${'0'.repeat(300)}</double>`],
    // xmlrpc-c sends 5e-324 intact but reads our decimal form of it as 0.
    ['tiny', 'double:5e-324', '<double>0</double>'],
    ['small', 'double:1.5e-7', '<double>0.0000001500000000000001</double>'],
    // xmlrpc-c writes -0.0 as 0.
    ['negzero', 'double:0', '<double>0</double>'],
    ['date', 'date:1998-07-17T14:08:55.000Z', '<dateTime.iso8601>19980717T14:08:55</dateTime.iso8601>'],
    ['bytes', 'base64:0001feff', '<base64>AAH+/w==</base64>'],
    ['nobytes', 'base64:', '<base64></base64>'],
    [
      'list',
      '[int:1,string:"two",[double:3.5,nil]]',
      '<array><data><value><i4>1</i4></value><value><string>two</string></value><value><array><data><value><double>3.5</double></value><value><nil/></value></data></array></value></data></array>',
    ],
    ['emptylist', '[]', '<array><data></data></array>'],
    [
      'hash',
      '{a:int:1,n:{b:[bool:true]}}',
      '<struct><member><name>a</name><value><i4>1</i4></value></member><member><name>n</name><value><struct><member><name>b</name><value><array><data><value><boolean>1</boolean></value></data></array></value></member></struct></value></member></struct>',
    ],
    ['emptyhash', '{}', '<struct></struct>'],
    ['nil', 'nil', '<nil/>'],
  ];
  for (const [name, decoded, back] of kinds) {
    t.equal(
      r.get(`kind_${name}`),
      `<value><string>${decoded.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')}</string></value>`,
      `${name}: our server decoded ${decoded}`,
    );
    t.equal(squeeze(r.get(`echo_${name}`)), squeeze(`<value>${back}</value>`), `${name}: xmlrpc-c read the echo back`);
  }
  t.match(r.get('astral'), /^FAULT -510 .*not in the Basic Multilingual Plane/, 'xmlrpc-c cannot read a character beyond the BMP');
  t.equal(r.get('readI8'), '<value><i8>1099511627776</i8></value>');
  t.equal(r.get('add'), '<value><i4>42</i4></value>');
  t.equal(r.get('fault'), 'FAULT 42 RPC failed at server.  the answer');
  t.equal(r.get('boom'), 'FAULT -32500 RPC failed at server.  Error: boom');
  t.equal(r.get('unknown'), 'FAULT -32601 RPC failed at server.  method "no.such.method" is not supported');
  t.equal(r.get('methodHelp'), '<value><string>add(a, b): the sum of two numbers (or the concatenation of two strings).</string></value>');
  t.equal(
    squeeze(r.get('multicall')),
    '<value><array><data><value><array><data><value><i4>3</i4></value></data></array></value><value><struct><member><name>faultCode</name><value><i4>-32601</i4></value></member><member><name>faultString</name><value><string>method "nope" is not supported</string></value></member></struct></value></data></array></value>',
  );
  // curl: HTTP/1.1, Content-Length, keep-alive (one socket for every call).
  t.match(demo.framings[0], { version: '1.1', chunked: false, contentType: 'text/xml', userAgent: /^Xmlrpc-c\/1\.\d+\.\d+ Curl\// });
  t.ok(new Set(demo.framings.map((f) => f.remotePort)).size < demo.framings.length / 10, 'connections are reused');
});

t.test('the xmlrpc command line tool calls our server', { skip: skip || skipCli }, async (t) => {
  const { demo, url } = await peerServer(t);
  const run = (...args: string[]) => runCommand('xmlrpc', [url, ...args], { timeout: 30_000, env: { ...process.env, LANG: 'C' } });
  t.match(await run('add', 'i/40', 'i/2'), { code: 0, stdout: /Integer: 42/ });
  t.match(await run('kind', 'I/1099511627776'), { code: 0, stdout: /'i8:1099511627776'/ });
  t.match(await run('kind', 'n/'), { code: 0, stdout: /'nil'/ });
  t.match(await run('kind', 'h/0001feff'), { code: 0, stdout: /'base64:0001feff'/ });
  t.match(await run('kind', 'd/1.5'), { code: 0, stdout: /'double:1\.5'/ });
  t.match(await run('kind', 'b/t'), { code: 0, stdout: /'bool:true'/ });
  const fault = await run('fault', 'i/42', 's/the answer');
  t.not(fault.code, 0);
  t.match(fault.stderr + fault.stdout, /the answer.*\(XML-RPC fault code 42\)/s);
  // A 3000-byte body: curl sends no Expect: 100-continue here, and no chunked body.
  t.match(await run('kind', `s/${'x'.repeat(3000)}`), { code: 0 });
  t.match(demo.framings.at(-1), { version: '1.1', chunked: false, expect: undefined });
});

t.test('our client calls an xmlrpc-c Abyss server: every type round-trips, faults, introspection, multicall', { skip }, async (t) => {
  const port = await spawnListening(t, (built as { server: string }).server, []);
  const proxy = new ServerProxy(`http://127.0.0.1:${port}/RPC2`);
  t.teardown(() => proxy.close());
  const date = new Date(Date.UTC(1998, 6, 17, 14, 8, 55));
  const cases: [string, unknown, XmlRpcValue, string][] = [
    ['int', 7, 7, 'INT'],
    ['int32 min', -2147483648, -2147483648, 'INT'],
    ['int32 max', 2147483647, 2147483647, 'INT'],
    ['boolean', true, true, 'BOOL'],
    ['string', 'h\u00e9llo <&> ]]> \u20ac', 'h\u00e9llo <&> ]]> \u20ac', 'STRING'],
    ['empty string', '', '', 'STRING'],
    ['double', 3.25, 3.25, 'DOUBLE'],
    ['Double(2)', new Double(2), 2, 'DOUBLE'],
    ['1e300', 1e300, 1e300, 'DOUBLE'],
    // Read as 0 by xmlrpc-c, and -0 written back as 0.
    ['5e-324', 5e-324, 0, 'DOUBLE'],
    ['-0', -0, 0, 'DOUBLE'],
    ['dateTime', date, date, 'DATETIME'],
    ['base64', Buffer.from([0, 1, 254, 255]), Buffer.from([0, 1, 254, 255]), 'BASE64'],
    ['empty base64', Buffer.alloc(0), Buffer.alloc(0), 'BASE64'],
    ['nil', null, null, 'NIL'],
    ['array', [1, 'two', [3.5, null]], [1, 'two', [3.5, null]], 'ARRAY'],
    ['empty array', [], [], 'ARRAY'],
    ['struct', { a: 1, ['__proto__']: 'p', '04': [true], n: { m: {} } }, { a: 1, ['__proto__']: 'p', '04': [true], n: { m: {} } }, 'STRUCT'],
    ['empty struct', {}, {}, 'STRUCT'],
    ['i8 within int32', new I8(5), 5n, 'I8'],
    ['i8', 2n ** 40n, 2n ** 40n, 'I8'],
    ['i8 min', -(2n ** 63n), -(2n ** 63n), 'I8'],
  ];
  for (const [name, sent, expected, cType] of cases) {
    t.equal(await proxy.typeof(sent), cType, `${name}: xmlrpc-c sees ${cType}`);
    const back = await proxy.echo(sent);
    t.same(back, expected, `${name}: comes back`);
    t.equal(typeof back, typeof expected);
  }
  t.match(
    await failure(proxy.echo('\u{1F600}')),
    { constructor: Fault, faultCode: -503, faultString: /Basic Multilingual Plane/ },
    'xmlrpc-c refuses a character beyond the BMP',
  );
  t.match(await failure(proxy.fault(42, 'the answer')), { constructor: Fault, faultCode: 42, faultString: 'the answer' });
  t.match(await failure(proxy.no.such.method()), { constructor: Fault, faultCode: -506, faultString: "Method 'no.such.method' not defined" });
  t.match(await failure(proxy.add(1)), { constructor: Fault, faultCode: -502, faultString: /array has only 1 items/ });
  t.same(await proxy.system.methodSignature('add'), [['int', 'int', 'int']]);
  t.equal(await proxy.system.methodHelp('add'), 'add(a, b): the sum of two ints');
  const methods = (await proxy.system.listMethods()) as string[];
  for (const name of ['add', 'echo', 'system.multicall', 'system.listMethods', 'system.getCapabilities']) t.ok(methods.includes(name), name);

  const multi = new MultiCall(proxy);
  multi.add(1, 2);
  multi.fault(7, 'seven');
  multi.echo({ k: [1n, null] });
  multi.nope();
  const results = await multi.run();
  t.equal(results[0], 3);
  t.match(results[1], { constructor: Fault, faultCode: 7, faultString: 'seven' });
  t.same(results[2], { k: [1n, null] });
  t.match(results[3], { constructor: Fault, faultCode: -506 });
  // Abyss keeps the connection open (HTTP/1.1 keep-alive).
  t.same(proxy.transport.stats(), { open: 1, idle: 1, waiting: 0 });
});

t.test('our client reads an Abyss server answering chunked with a Content-length too (chunk_response)', { skip }, async (t) => {
  const port = await spawnListening(t, (built as { server: string }).server, ['chunked']);
  const codings: (string | undefined)[] = [];
  class Watching extends Transport {
    protected override async parseResponse(response: IncomingResponse, req: OutgoingRequest): Promise<XmlRpcValue> {
      codings.push(getHeader(response.headers, 'transfer-encoding'));
      return super.parseResponse(response, req);
    }
  }
  const proxy = new ServerProxy(`http://127.0.0.1:${port}/RPC2`, { transport: new Watching() });
  t.teardown(() => proxy.close());
  const text = 'z'.repeat(100_000);
  t.equal(await proxy.echo(text), text);
  t.same(await proxy.echo({ a: [1, 2n, null] }), { a: [1, 2n, null] });
  t.match(await failure(proxy.fault(7, 'seven')), { constructor: Fault, faultCode: 7, faultString: 'seven' });
  t.same(codings, ['chunked', 'chunked', 'chunked'], 'every response came chunked');
  // Abyss sends a Content-length beside Transfer-Encoding: chunked (RFC 9112 §6.2 forbids both): the
  // chunks frame the body (§6.3), as in Python's client, and the connection is not reused.
  t.equal(proxy.transport.stats().idle, 0, 'no connection pooled');
});
