// The package as people install it: `npm pack` ships the compiled library,
// its types and source maps, the CLI and the demo server, README, LICENSE and
// CHANGELOG, and nothing else; the runtime dependencies are exactly what that
// code imports. Then, from a fresh directory: install the tarball, import it
// from JavaScript and TypeScript, and run `npx xmlrpc call` against `npx
// xmlrpc serve`.

import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync, symlinkSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { runCommand, type Ran } from './support.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';

function run(command: string, args: string[], cwd: string): Promise<Ran> {
  return runCommand(command, args, { cwd, env: { ...process.env, npm_config_update_notifier: 'false' }, timeout: 180_000 });
}

/** What may ship: compiled library and CLI files (with types and maps), and the three documents. */
const ALLOWED = [/^dist\/(lib|handlers)\/.+\.(js|d\.ts|js\.map)$/, /^(README\.md|LICENSE|CHANGELOG\.md|package\.json)$/];
const REQUIRED = [
  'dist/lib/index.js',
  'dist/lib/index.d.ts',
  'dist/lib/index.js.map',
  'dist/handlers/xmlrpc.js',
  'dist/handlers/cli.js',
  'README.md',
  'LICENSE',
  'CHANGELOG.md',
  'package.json',
];

t.test('npm pack ships the library, its types and maps, the CLI and the documents, nothing else', async (t) => {
  const r = await run(NPM, ['pack', '--dry-run', '--json', '--ignore-scripts'], ROOT);
  t.equal(r.code, 0, r.stderr);
  const [pack] = JSON.parse(r.stdout) as { files: { path: string }[] }[];
  const paths = pack!.files.map((f) => f.path);
  const stray = paths.filter((p) => !ALLOWED.some((re) => re.test(p)));
  t.same(stray, [], 'no stray path (tests, benches, C or Python sources, build info)');
  for (const p of REQUIRED) t.ok(paths.includes(p), `ships ${p}`);
  t.notOk(
    paths.some((p) => p.startsWith('dist/test/') || p.startsWith('dist/bench/') || p.endsWith('.tsbuildinfo')),
    'no compiled test or bench',
  );
  t.comment(`${paths.length} files`);

  // The runtime dependencies: the bare specifiers the shipped code imports, and only those.
  const imported = new Set<string>();
  for (const p of paths.filter((p) => p.endsWith('.js'))) {
    const source = readFileSync(join(ROOT, p), 'utf8');
    for (const m of source.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)['"]([^'"./][^'"]*)['"]/g)) {
      const spec = m[1]!;
      if (spec.startsWith('node:')) continue;
      imported.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);
    }
  }
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies?: Record<string, string>; bin?: Record<string, string> };
  t.same(Object.keys(pkg.dependencies ?? {}).sort(), [...imported].sort(), 'dependencies: exactly what the shipped code imports');
  t.same(pkg.bin, { xmlrpc: 'dist/handlers/xmlrpc.js' });
  t.match(readFileSync(join(ROOT, 'dist/handlers/xmlrpc.js'), 'utf8'), /^#!\/usr\/bin\/env node\n/, 'the bin has a shebang');
});

/** Starts `npx xmlrpc serve --port 0` in its own process group; resolves to its URL. */
function serve(t: { teardown(fn: () => unknown): void }, cwd: string): Promise<string> {
  const child: ChildProcess = spawn('npx', ['--no-install', 'xmlrpc', 'serve', '--port', '0', '--inline-codec'], {
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  t.teardown(async () => {
    // npx runs the bin as its child: signal the group this test started (by its id), then wait.
    try {
      process.kill(-child.pid!, 'SIGTERM');
    } catch {
      return;
    }
    const killer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // gone
      }
    }, 5000);
    await exited;
    clearTimeout(killer);
  });
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`xmlrpc serve did not start: ${err}`)), 60_000);
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const url = /listening on (http:\/\/\S+)/.exec(out)?.[1];
      if (url !== undefined) {
        clearTimeout(timer);
        resolve(url);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`xmlrpc serve exited ${String(code)}: ${err}`));
    });
  });
}

t.test('from a fresh directory: install the tarball, import it from JS and TS, npx xmlrpc call against npx xmlrpc serve', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'xmlrpc-package-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const packed = await run(NPM, ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], ROOT);
  t.equal(packed.code, 0, packed.stderr);
  const tarball = join(dir, (JSON.parse(packed.stdout) as { filename: string }[])[0]!.filename);
  const project = join(dir, 'project');
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'trying-medusa-xmlrpc', version: '1.0.0', private: true, type: 'module' }));

  // Offline: the runtime dependency (piscina) comes from npm's cache; CI has no registry to wait for.
  const installed = await run(NPM, ['install', '--offline', '--ignore-scripts', '--no-audit', '--no-fund', tarball], project);
  if (installed.code !== 0) {
    // No metadata in npm's cache to resolve the runtime dependencies offline (npm ci, as on a fresh CI machine, caches
    // tarballs, not packuments): unpack the tarball as npm would, with the dependencies from this repository's node_modules.
    t.comment(
      `npm install --offline failed (${installed.stderr.trim().split('\n').at(-1) ?? ''}): unpacking the tarball by hand, the dependencies from the repository's node_modules`,
    );
    const pkgDir = join(project, 'node_modules', 'medusa-xmlrpc');
    mkdirSync(pkgDir, { recursive: true });
    const untar = await run('tar', ['xzf', tarball, '-C', pkgDir, '--strip-components=1'], project);
    t.equal(untar.code, 0, untar.stderr);
    const shipped = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
    for (const name of Object.keys(shipped.dependencies ?? {})) {
      mkdirSync(dirname(join(project, 'node_modules', name)), { recursive: true });
      symlinkSync(join(ROOT, 'node_modules', name), join(project, 'node_modules', name), 'dir');
    }
    mkdirSync(join(project, 'node_modules', '.bin'));
    // As npm does on install: the bin executable (the tarball keeps it 0644), else the shell passes over it to another `xmlrpc` on PATH.
    chmodSync(join(pkgDir, 'dist', 'handlers', 'xmlrpc.js'), 0o755);
    symlinkSync('../medusa-xmlrpc/dist/handlers/xmlrpc.js', join(project, 'node_modules', '.bin', 'xmlrpc'));
  }
  t.ok(readdirSync(join(project, 'node_modules', '.bin')).includes('xmlrpc'), 'the bin is linked');

  const url = await serve(t, project);
  t.match(url, /^http:\/\/127\.0\.0\.1:\d+\/RPC2$/, 'npx xmlrpc serve prints its URL');

  const call = await run('npx', ['--no-install', 'xmlrpc', 'call', url, 'add', 'i/40', '2'], project);
  t.same([call.code, call.stdout, call.stderr], [0, 'int 42\n', ''], 'npx xmlrpc call');

  writeFileSync(
    join(project, 'try.js'),
    `import { ServerProxy, Fault } from 'medusa-xmlrpc';\nconst proxy = new ServerProxy(process.argv[2]);\nconsole.log(await proxy.add(1, 2), typeof Fault);\nawait proxy.close();\n`,
  );
  const js = await run(process.execPath, ['try.js', url], project);
  t.same([js.code, js.stdout], [0, '3 function\n'], `imported from JavaScript ${js.stderr}`);

  writeFileSync(
    join(project, 'typed.ts'),
    [
      "import { ServerProxy } from 'medusa-xmlrpc';",
      'interface Demo { add(a: number, b: number): number }',
      'await using proxy = new ServerProxy<Demo>(process.argv[2]!);',
      'const sum: number = await proxy.add(2, 3);',
      'console.log(sum);',
      'export async function misspelled(): Promise<void> {',
      '  // @ts-expect-error -- the package types reject a misspelled method',
      '  await proxy.ad(1, 2);',
      '}',
    ].join('\n'),
  );
  writeFileSync(
    join(project, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        skipLibCheck: true,
        types: ['node'],
        typeRoots: [join(ROOT, 'node_modules', '@types')],
      },
      files: ['typed.ts'],
    }),
  );
  // An unused @ts-expect-error would fail the compile: the misspelling is caught by the installed types.
  const tsc = await run(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', '.'], project);
  t.equal(tsc.code, 0, `imported from TypeScript (strict): ${tsc.stdout}${tsc.stderr}`);
  const ts = await run(process.execPath, ['typed.js', url], project);
  t.same([ts.code, ts.stdout], [0, '5\n'], `the compiled TypeScript runs ${ts.stderr}`);
});
