// The documentation page (DocHandler, Python's DocXMLRPCServer): GET and
// HEAD on the XML-RPC path answer the page, POST still reaches the
// dispatcher, other methods 405. Every name and help text is text, never
// markup (Python's CVE-2019-16935): checked on the bytes, and the page is
// parsed by an XML parser of its own (fast-xml-parser), so it is well formed
// as well as HTML. The same page in a real browser: rpc-doc-browser.test.ts.

import t from 'tap';
import { XMLValidator } from 'fast-xml-parser';
import { DemoHandler } from '../handlers/demo.js';
import { XmlRpcDispatcher } from '../lib/rpc/dispatcher.js';
import { DocHandler, DEFAULT_DOC_NAME } from '../lib/rpc/doc.js';
import type { Request } from '../lib/server/request.js';
import { loads } from '../lib/xmlrpc/decode.js';
import { dumps } from '../lib/xmlrpc/encode.js';
import { HOSTILE_HELP, HOSTILE_NAME, hostileDispatcher } from './doc-support.js';
import { RawClient, rpc, startServer } from './support.js';

/** The text of each `<tag class?>…</tag>` of the page, entities decoded (the page has no nested markup in these). */
function texts(page: string, tag: string): string[] {
  const found: string[] = [];
  for (const m of page.matchAll(new RegExp(`<${tag}(?: [^>]*)?>([^<]*)</${tag}>`, 'g'))) found.push(unescape(m[1]!));
  return found;
}

function unescape(text: string): string {
  return text.replace(/&(lt|gt|amp|quot|apos);/g, (_, name: string) => ({ lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" })[name]!);
}

/** The page's sections: the method names in each (the `<code>` of each `<dt>`). */
function sections(page: string): { methods: string[]; system: string[] } {
  const [, rest = ''] = page.split('<h2 id="methods">');
  const [methods = '', system = ''] = rest.split('<h2 id="system-methods">');
  const names = (part: string) => [...part.matchAll(/<dt><code>([^<]*)<\/code><\/dt>/g)].map((m) => unescape(m[1]!));
  return { methods: names(methods), system: names(system) };
}

async function serve(t: { teardown(fn: () => unknown): void }, doc: DocHandler) {
  const { server, port } = await startServer({ handlers: [doc] });
  t.teardown(() => server.close());
  return port;
}

async function get(port: number, method = 'GET', path = '/RPC2') {
  const c = await RawClient.open(port);
  try {
    if (method === 'HEAD') c.headResponses++;
    // A PUT or PATCH with no body length would be 411 before any handler sees it.
    const length = method === 'GET' || method === 'HEAD' ? '' : 'Content-Length: 0\r\n';
    c.write(`${method} ${path} HTTP/1.1\r\nHost: x\r\n${length}\r\n`);
    const [r] = await c.responsesCount(1);
    return r!;
  } finally {
    c.destroy();
  }
}

t.test('GET on the XML-RPC path is the page: every method with its signatures and help, system.* in a section apart', async (t) => {
  const d = hostileDispatcher();
  const port = await serve(t, new DocHandler(d, { name: 'Calculator service', documentation: 'Sums & more.' }));
  const r = await get(port);
  t.equal(r.status, 200);
  t.equal(r.header('content-type'), 'text/html; charset=utf-8');
  t.match(r.header('content-security-policy'), /default-src 'none'/, 'the page may run nothing');
  t.equal(r.header('x-content-type-options'), 'nosniff');
  const page = r.text();
  t.ok(page.startsWith('<!DOCTYPE html><html lang="en">'), 'an HTML5 document');
  t.same(texts(page, 'title'), ['Calculator service'], 'titled by the server name');
  t.same(texts(page, 'h1'), ['Calculator service']);
  t.same(
    texts(page, 'p').filter((p) => p === 'Sums & more.'),
    ['Sums & more.'],
    'the documentation paragraph',
  );
  const { methods, system } = sections(page);
  t.same(methods, [HOSTILE_NAME, 'add', 'quote"d&<name>', 'undocumented'], 'every method, sorted, as text');
  t.same(system, ['system.getCapabilities', 'system.listMethods', 'system.methodHelp', 'system.methodSignature', 'system.multicall']);
  const code = texts(page, 'code');
  t.ok(code.includes('int add(int, int)') && code.includes('double add(double, double)'), 'each signature, return type first');
  t.ok(code.includes('array system.methodSignature(string)'));
  const help = texts(page, 'p');
  t.ok(help.includes('add(a, b): the sum.\nA second line.'), 'help as written, its line breaks kept');
  t.ok(help.includes(HOSTILE_HELP), 'hostile help as text');
  t.equal(help.filter((p) => p === 'No help.').length, 2, 'the two methods with no help say so');
  t.equal(help.filter((p) => p === 'Signature not declared.').length, 3);
  t.equal(XMLValidator.validate(page), true, 'well formed (an XML parser reads it)');
});

t.test('names and help are escaped: no markup of theirs reaches the page (CVE-2019-16935)', async (t) => {
  const page = new DocHandler(hostileDispatcher()).page();
  for (const markup of ['<script', '<img', '</p><script', '& "', '&<']) t.notOk(page.includes(markup), `no raw ${markup}`);
  t.ok(page.includes('&lt;script&gt;document.title="pwned by a name";alert(1)&lt;/script&gt;'), 'the name, escaped');
  t.ok(
    page.includes('&lt;img src=x onerror="document.title=\'pwned by help\'"&gt; &amp; "quotes" \'single\' &amp;amp; &lt;/p&gt;'),
    'the help, escaped; & too',
  );
  t.equal((page.match(/<script/g) ?? []).length, 0);
  t.equal(XMLValidator.validate(page), true);
  // The name and documentation options are text too.
  const named = new DocHandler(hostileDispatcher(), { name: '</title><script>x()</script>', documentation: '<b>bold</b>' }).page();
  t.same(texts(named, 'title'), ['</title><script>x()</script>']);
  t.notOk(named.includes('<b>'));
  t.equal(XMLValidator.validate(named), true);
});

t.test('characters XML forbids (controls, lone surrogates) are shown as U+FFFD: the page stays well formed', async (t) => {
  const d = new XmlRpcDispatcher({ registerIntrospectionFunctions: false, registerMulticallFunctions: false });
  d.registerFunction(() => 1, 'bell\u0007name', { help: 'nul\u0000 and a lone \ud800 surrogate, \uffff too; é and 😀 stay' });
  const page = new DocHandler(d).page();
  t.same(sections(page).methods, ['bell\ufffdname']);
  t.ok(texts(page, 'p').includes('nul\ufffd and a lone \ufffd surrogate, \ufffd too; é and 😀 stay'));
  t.equal(XMLValidator.validate(page), true);
});

t.test('POST on the same path still reaches the dispatcher; HEAD is GET without the body; other methods are 405 with Allow', async (t) => {
  const port = await serve(t, new DocHandler(new DemoHandler()));
  t.equal(loads((await rpc(port, dumps([2, 3], 'add'))).text()).params[0], 5, 'POST: XML-RPC as before');
  const page = await get(port);
  const head = await get(port, 'HEAD');
  t.equal(head.status, 200);
  t.equal(head.body.length, 0, 'no body');
  t.equal(head.header('content-length'), page.header('content-length'), 'the length GET would send');
  t.equal(head.header('content-type'), 'text/html; charset=utf-8');
  for (const method of ['PUT', 'DELETE', 'OPTIONS', 'PATCH']) {
    const r = await get(port, method);
    t.equal(r.status, 405, method);
    t.equal(r.header('allow'), 'GET, HEAD, POST', method);
  }
  t.equal((await get(port, 'GET', '/elsewhere')).status, 404, 'other paths are not matched');
  t.equal((await get(port, 'GET', '/RPC2?x=1')).status, 200, 'the query is not part of the path');
  t.ok(sections((await get(port)).text()).methods.includes('validator1.echoStructTest'), "the demo's methods");
});

t.test('without DocHandler, GET on the XML-RPC path is still 405 with Allow: POST', async (t) => {
  const { server, port } = await startServer({ handlers: [new DemoHandler()] });
  t.teardown(() => server.close());
  const r = await get(port);
  t.equal(r.status, 405);
  t.equal(r.header('allow'), 'POST');
});

t.test('the page is made on each GET: methods registered later appear; with introspection off it still lists the methods', async (t) => {
  const d = new XmlRpcDispatcher({ registerIntrospectionFunctions: false });
  const doc = new DocHandler(d);
  const port = await serve(t, doc);
  t.same(sections((await get(port)).text()), { methods: [], system: ['system.multicall'] });
  t.ok(texts(doc.page(), 'p').includes('None.'), 'an empty section says so');
  d.registerFunction(() => 1, 'later', { help: 'registered after listen' });
  t.same(sections((await get(port)).text()).methods, ['later']);
  const bare = new DocHandler(new XmlRpcDispatcher({ registerIntrospectionFunctions: false, registerMulticallFunctions: false })).page();
  t.notOk(bare.includes('id="system-methods"'), 'no system section when there is no system method');
  t.same(texts(bare, 'title'), [DEFAULT_DOC_NAME], "Python's default title");
});

t.test("instance methods show the help and signatures of their class's static maps", async (t) => {
  class Service {
    static help = { greet: 'greet(name): a greeting.' };
    static signatures = { greet: [['string', 'string']] };
    greet(name: string): string {
      return `hello ${name}`;
    }
  }
  const page = new DocHandler(new XmlRpcDispatcher().registerInstance(new Service())).page();
  t.same(sections(page).methods, ['greet']);
  t.ok(texts(page, 'p').includes('greet(name): a greeting.'));
  t.ok(texts(page, 'code').includes('string greet(string)'));
});

t.test('DocHandler refuses a handler that cannot list its methods, and passes checkListen on', async (t) => {
  t.throws(() => new DocHandler({ match: () => true, handle: () => ({ status: 200 }) } as never), TypeError);
  t.throws(() => new DocHandler(new XmlRpcDispatcher(), { name: 5 as never }), TypeError);
  const seen: unknown[] = [];
  const d = new XmlRpcDispatcher() as XmlRpcDispatcher & { checkListen(a: unknown): void };
  d.checkListen = (address) => seen.push(address);
  new DocHandler(d).checkListen({ host: '127.0.0.1', port: 1 });
  t.same(seen, [{ host: '127.0.0.1', port: 1 }]);
  t.ok(new DocHandler(d).match({ path: '/RPC2' } as Request));
  t.notOk(new DocHandler(d).match({ path: '/other' } as Request));
});
