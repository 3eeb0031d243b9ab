// Interoperability with Perl's RPC::XML (Debian's librpc-xml-perl), both
// ways, as real processes over loopback: RPC::XML::Client calling our server
// with every type (i8 included), faults, introspection and system.multicall;
// our client calling RPC::XML::Server.
//
// Quirks of the peer, checked below:
// - RPC::XML declares `encoding="us-ascii"` but writes non-ASCII text as raw
//   UTF-8 bytes. We refuse that with fault -32702 (invalid character for the
//   encoding), as Python's expat does ("not well-formed"); a Perl user sets
//   `$RPC::XML::ENCODING = 'utf-8'`, and then every string goes through.
// - It writes doubles in fixed notation with 20 decimals, so 5e-324 goes out
//   as 0 (both ways), and it sends the Perl scalar 1e300 as a <string>.
// - A value nested in a struct or array comes back from its server re-typed
//   from the Perl scalar (a boolean true becomes <int>1).
// - Its system.multicall answers with bare results, not one-element arrays
//   (`3`, not `[3]`), and a failing call with a struct holding a
//   `<fault>` element as a value, which is no XML-RPC type: our MultiCall
//   refuses both (ResponseError), as Python's MultiCall does.
// - Its server answers over 1 MiB chunked *and* with a Content-Length
//   (HTTP::Daemon); we read it chunked, as Python does, and close.
// - Its client opens a new connection per call (`Connection: TE, close`),
//   and asks for deflate only (`Accept-Encoding: deflate`), so our gzip
//   never applies. With compress_requests (off by default) it deflates
//   large bodies, which we answer 415 with `Accept-Encoding: gzip`.

import t from 'tap';
import { ServerProxy } from '../lib/client/proxy.js';
import { MultiCall } from '../lib/client/multicall.js';
import { Double, I8 } from '../lib/xmlrpc/values.js';
import { Fault } from '../lib/errors.js';
import type { XmlRpcValue } from '../lib/xmlrpc/values.js';
import { failure, spawnListening } from './support.js';
import { peerServer, probe, runJson } from './interop-peers.js';

const skip = probe('perl', ['-MRPC::XML::Client', '-MRPC::XML::Server', '-MJSON::PP', '-e', '1'], 'Perl with RPC::XML (apt-get install librpc-xml-perl)');

const CLIENT = String.raw`use strict; use warnings;
use RPC::XML; use RPC::XML::Client; use JSON::PP;
$RPC::XML::ALLOW_NIL = 1;
my $c = RPC::XML::Client->new($ARGV[0]);
my %out;
sub j {
  my ($v) = @_;
  return ['undef', undef] unless defined $v;
  my $r = ref $v;
  return ['array', [map { j($_) } @$v]] if $r eq 'ARRAY';
  return ['hash', { map { ($_ => j($v->{$_})) } keys %$v }] if $r eq 'HASH';
  return ['scalar', "$v"];
}
sub rec {
  my ($name, @call) = @_;
  my $res = $c->send_request(@call);
  if (!ref $res) { $out{$name} = { error => $res }; }
  elsif ($res->is_fault) { $out{$name} = { fault => [$res->code + 0, $res->string] }; }
  elsif ($res->type eq 'base64') { $out{$name} = { ok => 'base64', value => ['hex', unpack('H*', $res->value)] }; }
  else { $out{$name} = { ok => $res->type, value => j($res->value) }; }
}
my %samples = (
  int => 7, min => -2147483648, max => 2147483647, i8 => 1099511627776, i8min => RPC::XML::i8->new('-9223372036854775808'),
  true => RPC::XML::boolean->new(1), false => RPC::XML::boolean->new(0),
  str => "h\x{e9}llo <&> ]]> \x{1F600}", empty => '', float => 3.25, intfloat => RPC::XML::double->new(2), big => 1e300, tiny => 5e-324, small => 1.5e-7,
  date => RPC::XML::datetime_iso8601->new('19980717T14:08:55'), bytes => RPC::XML::base64->new("\x00\x01\xfe\xff"), nobytes => RPC::XML::base64->new(''),
  list => [1, 'two', [3.5, RPC::XML::nil->new]], emptylist => [], hash => { a => 1, n => { b => [RPC::XML::boolean->new(1)] } }, emptyhash => {},
  nil => RPC::XML::nil->new,
);
for my $name (sort keys %samples) {
  rec("kind_$name", 'kind', $samples{$name});
  rec("echo_$name", 'echo', $samples{$name});
}
{
  # RPC::XML declares us-ascii but writes UTF-8 bytes unless told the encoding.
  local $RPC::XML::ENCODING = 'utf-8';
  rec('kind_str_utf8', 'kind', $samples{str});
  rec('echo_str_utf8', 'echo', $samples{str});
}
{
  # compress_requests deflates bodies over 4096 bytes: we decode only gzip (415).
  $c->compress_requests(1);
  rec('deflated', 'echo', 'z' x 5000);
  $c->compress_requests(0);
}
rec('readI8', 'i8', '1099511627776');
rec('add', 'add', 40, 2);
rec('fault', 'fault', 42, 'the answer');
rec('boom', 'boom');
rec('unknown', 'no.such.method');
rec('methodHelp', 'system.methodHelp', 'add');
rec('multicall', 'system.multicall', [{ methodName => 'add', params => [1, 2] }, { methodName => 'nope', params => [] }]);
print JSON::PP->new->utf8->canonical->encode(\%out);
`;

const SERVER = String.raw`use strict; use warnings;
use RPC::XML; use RPC::XML::Server;
$RPC::XML::ALLOW_NIL = 1;
$RPC::XML::ENCODING = 'utf-8';
# timeout: a loaded test machine may pause between calls longer than the 10 s default.
my $s = RPC::XML::Server->new(host => '127.0.0.1', port => 0, no_default => 0, timeout => 120);
die "RPC::XML::Server: $s\n" unless ref $s;
$s->add_method({ name => 'add', signature => ['int int int', 'double double double', 'string string string'], code => sub { my ($srv, $a, $b) = @_; return $a + $b } });
$s->add_method({ name => 'echo', signature => [map { "$_ $_" } qw(int i8 boolean string double dateTime.iso8601 base64 struct array nil)], code => sub { my ($srv, $x) = @_; return $x } });
$s->add_method({ name => 'typeof', signature => [map { "string $_" } qw(int i8 boolean string double dateTime.iso8601 base64 struct array nil)], code => sub { return 'x' } });
$s->add_method({ name => 'fault', signature => ['string int string'], code => sub { my ($srv, $code, $text) = @_; return RPC::XML::fault->new($code, $text) } });
$s->add_method({ name => 'boom', signature => ['string'], code => sub { die "boom\n" } });
$| = 1;
print $s->port, "\n";
$s->server_loop;
`;

const skipFrontier = probe(
  'perl',
  ['-MFrontier::Client', '-MFrontier::RPC2', '-MHTTP::Daemon', '-MJSON::PP', '-e', '1'],
  'Perl with Frontier::RPC (apt-get install libfrontier-rpc-perl)',
);

// Frontier::RPC2 (libfrontier-rpc-perl, 0.07b4), the older Perl library: no
// <i8>, no <nil/>, and it types a Perl scalar that looks like an integer as
// <i4> whatever its size, so 2^40 goes out as <i4>1099511627776</i4>, which
// we refuse (fault -32600; the spec makes i4 32-bit). Its server is
// Frontier::RPC2->serve behind HTTP::Daemon, as its documentation shows.
const FRONTIER_CLIENT = String.raw`use strict; use warnings; use Frontier::Client; use JSON::PP;
my $c = Frontier::Client->new(url => $ARGV[0], encoding => 'utf-8');
my %out;
sub rec { my ($name, @call) = @_; my $r = eval { $c->call(@call) }; if ($@) { my $e = "$@"; $e =~ s/\s+$//; $out{$name} = { error => $e } } else { $out{$name} = { ok => ref $r ? (ref $r eq 'ARRAY' || ref $r eq 'HASH' ? $r : [ref $r, $r->value]) : $r } } }
rec('kind_int', 'kind', 7); rec('echo_int', 'echo', 7);
rec('kind_str', 'kind', "h\x{e9}llo <&> ]]>"); rec('echo_str', 'echo', "h\x{e9}llo <&> ]]>");
rec('kind_float', 'kind', $c->double(3.25)); rec('echo_float', 'echo', $c->double(3.25));
rec('kind_big', 'kind', $c->double(1e300)); rec('kind_small', 'kind', $c->double(1.5e-7));
rec('kind_true', 'kind', $c->boolean(1)); rec('echo_true', 'echo', $c->boolean(1));
rec('kind_date', 'kind', $c->date_time('19980717T14:08:55')); rec('echo_date', 'echo', $c->date_time('19980717T14:08:55'));
rec('kind_b64', 'kind', $c->base64('AAH+/w==')); rec('echo_b64', 'echo', $c->base64('AAH+/w=='));
rec('kind_list', 'kind', [1, 'two', [3.5]]); rec('echo_list', 'echo', [1, 'two', [3.5]]);
rec('kind_hash', 'kind', { a => 1, n => {} }); rec('echo_hash', 'echo', { a => 1, n => {} });
rec('kind_empty', 'kind', ''); rec('echo_empty', 'echo', ''); rec('echo_emptylist', 'echo', []);
rec('kind_undef', 'kind', undef);
rec('bigint', 'kind', 1099511627776);
rec('readI8', 'i8', $c->string('1099511627776'));
rec('astral', 'char', 0x1F600);
rec('fault', 'fault', 42, 'the answer'); rec('unknown', 'no.such.method');
print JSON::PP->new->utf8->canonical->encode(\%out);
`;

const FRONTIER_SERVER = String.raw`use strict; use warnings;
use HTTP::Daemon; use HTTP::Response; use Frontier::RPC2; use Encode ();
my $rpc = Frontier::RPC2->new(encoding => 'utf-8');
my %methods = (
  add => sub { $_[0] + $_[1] },
  echo => sub { $_[0] },
  typeof => sub { my $r = ref $_[0]; $r eq '' ? 'scalar' : $r },
  fault => sub { die { faultCode => $_[0], faultString => $_[1] } },
  boom => sub { die "boom\n" },
);
my $d = HTTP::Daemon->new(LocalAddr => '127.0.0.1', LocalPort => 0, ReuseAddr => 1) or die "listen: $!";
$| = 1;
print $d->sockport, "\n";
while (my $conn = $d->accept) {
  while (my $req = $conn->get_request) {
    my $xml = $rpc->serve($req->content, \%methods);
    $xml = Encode::encode_utf8($xml) if utf8::is_utf8($xml);
    $conn->send_response(HTTP::Response->new(200, 'OK', ['Content-Type' => 'text/xml'], $xml));
  }
  $conn->close;
}
`;

/** What the Perl client records per call: the response's XML-RPC type and a tagged view of its value, or a fault. */
type PerlResults = Record<string, { ok?: string; value?: unknown; fault?: [number, string]; error?: string }>;

t.test("Perl's RPC::XML::Client calls our server with every type, faults, introspection and multicall", { skip }, async (t) => {
  const { demo, url } = await peerServer(t);
  const r = await runJson<PerlResults>('perl', ['-e', CLIENT, url]);
  const text = 'h\u00e9llo <&> ]]> \u{1F600}';
  // What our server decoded from Perl's request, then the type and value Perl read back from echo.
  const seen: [string, string, string, unknown][] = [
    ['int', 'int:7', 'int', ['scalar', '7']],
    ['min', 'int:-2147483648', 'int', ['scalar', '-2147483648']],
    ['max', 'int:2147483647', 'int', ['scalar', '2147483647']],
    ['i8', 'i8:1099511627776', 'i8', ['scalar', '1099511627776']],
    ['i8min', 'i8:-9223372036854775808', 'i8', ['scalar', '-9223372036854775808']],
    ['true', 'bool:true', 'boolean', ['scalar', '1']],
    ['false', 'bool:false', 'boolean', ['scalar', '0']],
    ['empty', 'string:""', 'string', ['scalar', '']],
    ['float', 'double:3.25', 'double', ['scalar', '3.25']],
    ['intfloat', 'double:2', 'double', ['scalar', '2.0']],
    ['small', 'double:1.5e-7', 'double', ['scalar', '0.00000015']],
    // Perl's quirks: 1e300 is sent as a string, 5e-324 as 0.000... (20 decimals).
    ['big', 'string:"1e+300"', 'string', ['scalar', '1e+300']],
    ['tiny', 'double:0', 'double', ['scalar', '0.0']],
    ['date', 'date:1998-07-17T14:08:55.000Z', 'dateTime.iso8601', ['scalar', '19980717T14:08:55']],
    ['bytes', 'base64:0001feff', 'base64', ['hex', '0001feff']],
    ['nobytes', 'base64:', 'base64', ['hex', '']],
    [
      'list',
      '[int:1,string:"two",[double:3.5,nil]]',
      'array',
      [
        'array',
        [
          ['scalar', '1'],
          ['scalar', 'two'],
          [
            'array',
            [
              ['scalar', '3.5'],
              ['undef', null],
            ],
          ],
        ],
      ],
    ],
    ['emptylist', '[]', 'array', ['array', []]],
    ['hash', '{a:int:1,n:{b:[bool:true]}}', 'struct', ['hash', { a: ['scalar', '1'], n: ['hash', { b: ['array', [['scalar', '1']]] }] }]],
    ['emptyhash', '{}', 'struct', ['hash', {}]],
    ['nil', 'nil', 'nil', ['undef', null]],
    ['str_utf8', `string:${JSON.stringify(text)}`, 'string', ['scalar', text]],
  ];
  for (const [name, decoded, type, back] of seen) {
    t.same(r[`kind_${name}`], { ok: 'string', value: ['scalar', decoded] }, `${name}: our server decoded ${decoded}`);
    t.same(r[`echo_${name}`], { ok: type, value: back }, `${name}: Perl read back a ${type}`);
  }
  // RPC::XML's default: UTF-8 bytes under encoding="us-ascii". Refused as the fault interop spec says.
  t.match(r.kind_str, { fault: [-32702, /not US-ASCII/] });
  t.same(r.readI8, { ok: 'i8', value: ['scalar', '1099511627776'] }, 'Perl reads our <i8>');
  t.match(r.deflated, { error: /Unsupported Media Type/ }, 'a deflate request body (compress_requests) is refused with 415');
  t.same(r.add, { ok: 'int', value: ['scalar', '42'] });
  t.same(r.fault, { fault: [42, 'the answer'] });
  t.same(r.boom, { fault: [-32500, 'Error: boom'] });
  t.same(r.unknown, { fault: [-32601, 'method "no.such.method" is not supported'] });
  t.same(r.methodHelp, { ok: 'string', value: ['scalar', 'add(a, b): the sum of two numbers (or the concatenation of two strings).'] });
  t.same(r.multicall, {
    ok: 'array',
    value: [
      'array',
      [
        ['array', [['scalar', '3']]],
        ['hash', { faultCode: ['scalar', '-32601'], faultString: ['scalar', 'method "nope" is not supported'] }],
      ],
    ],
  });
  // LWP: HTTP/1.1 with Content-Length, and a new connection per call.
  t.match(demo.framings[0], { version: '1.1', chunked: false, connection: /close/, contentType: 'text/xml', userAgent: /^RPC::XML::Client/ });
  t.ok(new Set(demo.framings.map((f) => f.remotePort)).size > 40, 'one connection per request');
});

t.test("our client calls Perl's RPC::XML::Server: every type round-trips, faults, multicall", { skip }, async (t) => {
  const port = await spawnListening(t, 'perl', ['-e', SERVER]);
  const proxy = new ServerProxy(`http://127.0.0.1:${port}/RPC2`);
  t.teardown(() => proxy.close());
  const date = new Date(Date.UTC(1998, 6, 17, 14, 8, 55));
  const cases: [string, unknown, XmlRpcValue][] = [
    ['int', 7, 7],
    ['int32 min', -2147483648, -2147483648],
    ['int32 max', 2147483647, 2147483647],
    ['boolean', true, true],
    ['string', 'h\u00e9llo <&> ]]> \u{1F600}', 'h\u00e9llo <&> ]]> \u{1F600}'],
    ['empty string', '', ''],
    ['double', 3.25, 3.25],
    ['Double(2)', new Double(2), 2],
    ['1e300', 1e300, 1e300],
    // Perl writes doubles with 20 decimals: 5e-324 comes back 0.
    ['5e-324', 5e-324, 0],
    ['-0', -0, -0],
    ['dateTime', date, date],
    ['base64', Buffer.from([0, 1, 254, 255]), Buffer.from([0, 1, 254, 255])],
    ['empty base64', Buffer.alloc(0), Buffer.alloc(0)],
    ['nil', null, null],
    ['array', [1, 'two', [3.5, null]], [1, 'two', [3.5, null]]],
    ['empty array', [], []],
    // A nested boolean comes back an <int>: RPC::XML re-types the Perl scalar.
    ['struct', { a: 1, ['__proto__']: 'p', '04': [true], n: { m: {} } }, { a: 1, ['__proto__']: 'p', '04': [1], n: { m: {} } }],
    ['empty struct', {}, {}],
    ['i8 within int32', new I8(5), 5n],
    ['i8', 2n ** 40n, 2n ** 40n],
    ['i8 min', -(2n ** 63n), -(2n ** 63n)],
  ];
  for (const [name, sent, expected] of cases) {
    const back = await proxy.echo(sent);
    t.same(back, expected, `${name}: comes back`);
    t.equal(typeof back, typeof expected, `${name}: as a ${typeof expected}`);
    if (Object.is(expected, -0)) t.ok(Object.is(back, -0), '-0 stays -0');
  }
  t.match(await failure(proxy.fault(42, 'the answer')), { constructor: Fault, faultCode: 42, faultString: 'the answer' });
  t.match(await failure(proxy.boom()), { constructor: Fault, faultCode: 300, faultString: /boom/ });
  t.match(await failure(proxy.no.such.method()), { constructor: Fault, faultCode: 200, faultString: /no\.such\.method/ });
  t.same(await proxy.system.methodSignature('add'), [
    ['int', 'int', 'int'],
    ['double', 'double', 'double'],
    ['string', 'string', 'string'],
  ]);
  const methods = (await proxy.system.listMethods()) as string[];
  for (const name of ['add', 'echo', 'system.multicall', 'system.listMethods']) t.ok(methods.includes(name), name);

  // RPC::XML answers system.multicall with the bare results, not the spec's one-element arrays
  // ([3] for 3): each result is refused, as Python's MultiCall refuses them; the raw call reads them.
  const multi = new MultiCall(proxy);
  multi.add(1, 2);
  multi.echo({ k: [1, 2] });
  const results = await multi.run();
  t.match(results, [{ code: 'ERR_XMLRPC_RESPONSE', message: /result 0 \(add\) is neither \[value\] nor a fault struct/ }, { code: 'ERR_XMLRPC_RESPONSE' }]);
  t.same(
    await proxy.system.multicall([
      { methodName: 'add', params: [1, 2] },
      { methodName: 'echo', params: [{ k: [1, 2] }] },
    ]),
    [3, { k: [1, 2] }],
  );
  // A failing call inside Perl's system.multicall: the answer holds a <fault> as a value, which is not XML-RPC.
  const failing = new MultiCall(proxy);
  failing.add(1, 2);
  failing.fault(7, 'seven');
  t.match(await failure(failing.run()), { code: 'ERR_XMLRPC_RESPONSE', message: /<fault> is not an XML-RPC type/ });
  // HTTP::Daemon keeps the connection: one socket carried every call.
  t.same(proxy.transport.stats(), { open: 1, idle: 1, waiting: 0 });
  // Over 1 MiB RPC::XML::Server spools its response to a file, and HTTP::Daemon sends it chunked
  // with a Content-Length as well (RFC 9112 §6.2 forbids both). The chunked framing wins
  // (§6.3), as in Python's client, and that connection is not reused.
  const big = 'y'.repeat(1_500_000);
  t.equal(await proxy.echo(big), big, 'a 1.5 MB response framed with both Content-Length and chunked');
  t.equal(proxy.transport.stats().idle, 0, 'its connection is not pooled');
  t.equal(await proxy.add(1, 2), 3, 'the next call opens a new one');
});

t.test("Perl's Frontier::Client calls our server", { skip: skipFrontier }, async (t) => {
  const { demo, url } = await peerServer(t);
  const r = await runJson<Record<string, { ok?: unknown; error?: string }>>('perl', ['-e', FRONTIER_CLIENT, url]);
  const expected: Record<string, unknown> = {
    kind_int: 'int:7',
    echo_int: '7',
    kind_str: 'string:"h\u00e9llo <&> ]]>"',
    echo_str: 'h\u00e9llo <&> ]]>',
    kind_float: 'double:3.25',
    echo_float: '3.25',
    kind_big: 'double:1e+300',
    kind_small: 'double:1.5e-7',
    kind_true: 'bool:true',
    echo_true: ['Frontier::RPC2::Boolean', '1'],
    kind_date: 'date:1998-07-17T14:08:55.000Z',
    echo_date: ['Frontier::RPC2::DateTime::ISO8601', '19980717T14:08:55'],
    kind_b64: 'base64:0001feff',
    echo_b64: ['Frontier::RPC2::Base64', 'AAH+/w=='],
    kind_list: '[int:1,string:"two",[double:3.5]]',
    echo_list: ['1', 'two', ['3.5']],
    kind_hash: '{a:int:1,n:{}}',
    echo_hash: { a: '1', n: {} },
    kind_empty: 'string:""',
    echo_empty: '',
    echo_emptylist: [],
    // No nil in Frontier: undef goes out as an empty string.
    kind_undef: 'string:""',
    astral: '\u{1F600}',
  };
  for (const [name, value] of Object.entries(expected)) t.same(r[name], { ok: value }, name);
  t.same(r.bigint, { error: 'Fault returned from XML RPC Server, fault code -32600: <i4>"1099511627776" is out of the int32 range' });
  t.match(r.readI8, { error: /wanted a data type, got `i8'/ }, 'Frontier cannot read <i8>');
  t.same(r.fault, { error: 'Fault returned from XML RPC Server, fault code 42: the answer' });
  t.same(r.unknown, { error: 'Fault returned from XML RPC Server, fault code -32601: method "no.such.method" is not supported' });
  t.match(demo.framings[0], { version: '1.1', chunked: false, connection: /close/, contentType: 'text/xml' });
});

t.test("our client calls Perl's Frontier::RPC2 behind HTTP::Daemon", { skip: skipFrontier }, async (t) => {
  const port = await spawnListening(t, 'perl', ['-e', FRONTIER_SERVER]);
  const proxy = new ServerProxy(`http://127.0.0.1:${port}/RPC2`);
  t.teardown(() => proxy.close());
  const date = new Date(Date.UTC(1998, 6, 17, 14, 8, 55));
  const cases: [string, unknown, XmlRpcValue][] = [
    ['int', 7, 7],
    ['boolean', true, true],
    ['string', 'h\u00e9llo <&> ]]> \u{1F600}', 'h\u00e9llo <&> ]]> \u{1F600}'],
    ['empty string', '', ''],
    ['double', 3.25, 3.25],
    ['1e300', 1e300, 1e300],
    ['5e-324', 5e-324, 5e-324],
    ['-0', -0, -0],
    ['dateTime', date, date],
    ['base64', Buffer.from([0, 1, 254, 255]), Buffer.from([0, 1, 254, 255])],
    ['empty base64', Buffer.alloc(0), Buffer.alloc(0)],
    ['array', [1, 'two', [3.5]], [1, 'two', [3.5]]],
    ['empty array', [], []],
    ['struct', { a: 1, ['__proto__']: 'p', '04': [true], n: { m: {} } }, { a: 1, ['__proto__']: 'p', '04': [true], n: { m: {} } }],
    ['empty struct', {}, {}],
  ];
  for (const [name, sent, expected] of cases) {
    const back = await proxy.echo(sent);
    t.same(back, expected, `${name}: comes back`);
    if (Object.is(expected, -0)) t.ok(Object.is(back, -0), '-0 stays -0');
  }
  t.match(await failure(proxy.echo(null)), { constructor: Fault, faultCode: 1, faultString: /got `nil'/ }, 'Frontier cannot read <nil/>');
  t.match(await failure(proxy.echo(2n ** 40n)), { constructor: Fault, faultCode: 1, faultString: /got `i8'/ }, 'nor <i8>');
  t.equal(await proxy.add(40, 2), 42);
  t.match(await failure(proxy.boom()), { constructor: Fault, faultCode: 4, faultString: /error executing RPC `boom'/ });
  t.match(await failure(proxy.no.such.method()), { constructor: Fault, faultCode: 3, faultString: /no such method `no.such.method'/ });
  t.match(await failure(proxy.system.listMethods()), { constructor: Fault, faultCode: 3 }, 'no introspection');
  t.same(proxy.transport.stats(), { open: 1, idle: 1, waiting: 0 }, 'HTTP::Daemon keeps the connection');
});
