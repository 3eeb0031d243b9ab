// The documentation page in a real browser: Debian's chromium, headless,
// dumps the DOM it built from the page (`--dump-dom`). It must be exactly the
// tree we wrote (the parser recovered from no error: the HTML is valid as
// written), show every method, hostile names and help as text (no <script>
// or <img> element), and no script may have run (the title is ours) or
// fetched anything (the server saw no other path). Skipped, with the reason
// printed, where /usr/bin/chromium is absent (.ci/run installs it where it
// can). Chromium runs in its own process group, killed by pid when done or
// after 60 s, with a fresh profile in a temp dir removed afterwards.

import t from 'tap';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DocHandler } from '../lib/rpc/doc.js';
import type { Request } from '../lib/server/request.js';
import { HOSTILE_HELP, HOSTILE_NAME, hostileDispatcher } from './doc-support.js';
import { startServer } from './support.js';

const CHROMIUM = '/usr/bin/chromium';
/** A bound on a browser that hangs, not a measure of anything. */
const BROWSER_LIMIT_MS = 60_000;
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-crash-reporter',
];

interface Dump {
  code: number | null;
  signal: NodeJS.Signals | null;
  dom: string;
  stderr: string;
}

/** `chromium --dump-dom url` with a fresh profile; its whole process group is killed once it exits or at the bound. */
function dumpDom(url: string): Promise<Dump> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'doc-browser-'));
  const env = { ...process.env, HOME: home, XDG_CONFIG_HOME: home, XDG_CACHE_HOME: home };
  const child = spawn(CHROMIUM, [...FLAGS, `--user-data-dir=${path.join(home, 'profile')}`, '--dump-dom', url], {
    detached: true,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const killGroup = () => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    } catch {
      /* the group has gone already */
    }
  };
  const timer = setTimeout(killGroup, BROWSER_LIMIT_MS);
  let dom = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (dom += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise<Dump>((resolve, reject) => {
    const done = (result: Dump | Error) => {
      clearTimeout(timer);
      // Its helpers (zygote, renderer) share the group: none outlives the test.
      killGroup();
      fs.rmSync(home, { recursive: true, force: true });
      if (result instanceof Error) reject(result);
      else resolve(result);
    };
    child.once('error', done);
    child.once('close', (code, signal) => done({ code, signal, dom, stderr }));
  });
}

/** The text of each `<tag …>…</tag>` holding only text, entities decoded. */
function texts(html: string, tag: string): string[] {
  return [...html.matchAll(new RegExp(`<${tag}(?: [^>]*)?>([^<]*)</${tag}>`, 'g'))].map((m) => unescape(m[1]!));
}

function unescape(text: string): string {
  return text.replace(/&(lt|gt|amp|quot|nbsp);/g, (_, name: string) => ({ lt: '<', gt: '>', amp: '&', quot: '"', nbsp: '\u00a0' })[name]!);
}

const absent = fs.existsSync(CHROMIUM) ? false : `${CHROMIUM} is absent (Debian: apt-get install chromium); the page is not checked in a browser`;
if (absent !== false) console.log(`# skipping the browser test: ${absent}`);

t.test('chromium shows the page as written: every method as text, no script run, nothing fetched', { skip: absent }, async (t) => {
  const paths: string[] = [];
  const doc = new DocHandler(hostileDispatcher(), { name: 'Doc test' });
  const logged = {
    match: (request: Request) => {
      paths.push(`${request.method} ${request.path}`);
      return doc.match(request);
    },
    handle: (request: Request) => doc.handle(request),
  };
  const { server, port } = await startServer({ handlers: [logged] });
  t.teardown(() => server.close({ timeout: 0 }));

  const { code, signal, dom, stderr } = await dumpDom(`http://127.0.0.1:${port}/RPC2`);
  t.equal(code, 0, `chromium exited 0 (signal ${String(signal)}; stderr ends: ${stderr.slice(-300)})`);
  t.ok(dom.length > 0, 'a DOM was dumped');

  // The browser's tree, serialised, is our page: no element was moved, closed or made up by error recovery.
  const written = doc
    .page()
    .replace('<!DOCTYPE html>', '<!DOCTYPE html>\n')
    .replace(/<(meta)([^>]*)\/>/g, '<$1$2>');
  t.equal(dom.trimEnd(), written, 'the DOM chromium built is the page as written');

  const names = [...dom.matchAll(/<dt><code>([^<]*)<\/code><\/dt>/g)].map((m) => unescape(m[1]!));
  t.same(
    names,
    [
      HOSTILE_NAME,
      'add',
      'quote"d&<name>',
      'undocumented',
      'system.getCapabilities',
      'system.listMethods',
      'system.methodHelp',
      'system.methodSignature',
      'system.multicall',
    ],
    'every method appears, the hostile name as text',
  );
  t.ok(texts(dom, 'p').includes(HOSTILE_HELP), 'the hostile help as text');
  t.ok(texts(dom, 'code').includes('int add(int, int)'), 'signatures appear');
  t.notMatch(dom, /<script|<img/i, 'no script or img element in the DOM');
  t.same(texts(dom, 'title'), ['Doc test'], 'no script changed the title');
  // An <img src=x> rendered would have fetched /x; a favicon request is the browser's own.
  t.same(
    paths.filter((p) => p !== 'GET /RPC2' && p !== 'GET /favicon.ico'),
    [],
    'nothing else was fetched',
  );
  t.ok(paths.includes('GET /RPC2'));
});
