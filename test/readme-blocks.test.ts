// Every ```ts block of README.md compiles under `tsc --strict`, as a user
// would write it in a project that installed the package: each block is a
// module of its own in a temporary project whose node_modules/medusa-xmlrpc
// is this repository (built). The blocks that talk to the demo server are
// then run against it (the README's 127.0.0.1:8182 swapped for its port).
//
// A block is steered by an HTML comment on the line before its fence
// (invisible on a rendered page), words combined as needed:
//   <!-- readme-check: continues -->   appended to the block before it (same module)
//   <!-- readme-check: run -->         run against the demo server after compiling
//   <!-- readme-check: file NAME.ts --> written as NAME.ts, for other blocks to import
//   <!-- readme-check: skip REASON --> not compiled (only where a block cannot
//                                      stand alone; the reason is printed)

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import t from 'tap';
import { demoServer } from './support.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

interface Block {
  /** README line of the opening fence. */
  line: number;
  code: string;
  run: boolean;
  file: string | null;
  skip: string | null;
}

/** The ```ts blocks, with their markers applied (continuations merged into the block before). */
export function readmeBlocks(markdown: string): Block[] {
  const lines = markdown.split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!/^```ts\s*$/.test(lines[i]!)) continue;
    const marker = /^<!--\s*readme-check:\s*(.*?)\s*-->$/.exec(lines[i - 1] ?? '')?.[1] ?? '';
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i]!); i++) body.push(lines[i]!);
    const words = marker.split(/\s+/);
    const skip = /^skip\b/.test(marker) ? marker.slice(4).trim() || 'no reason given' : null;
    const fileMatch = /\bfile\s+(\S+\.ts)\b/.exec(marker);
    const code = body.join('\n');
    const previous = blocks.at(-1);
    if (words.includes('continues') && previous !== undefined) {
      previous.code += `\n// README line ${start + 1}\n${code}`;
      previous.run ||= words.includes('run');
      continue;
    }
    blocks.push({ line: start + 1, code, run: words.includes('run'), file: fileMatch?.[1] ?? null, skip });
  }
  return blocks;
}

function tsc(project: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [TSC, '-p', project], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

t.test('the marker grammar', async (t) => {
  const md = [
    '```ts',
    'a',
    '```',
    '<!-- readme-check: continues run -->',
    '```ts',
    'b',
    '```',
    '<!-- readme-check: skip needs a database -->',
    '```ts',
    'c',
    '```',
    '<!-- readme-check: file hash.ts -->',
    '```ts',
    'd',
    '```',
  ].join('\n');
  const blocks = readmeBlocks(md);
  t.same(
    blocks.map((b) => [b.line, b.run, b.file, b.skip]),
    [
      [1, true, null, null],
      [9, false, null, 'needs a database'],
      [13, false, 'hash.ts', null],
    ],
  );
  t.match(blocks[0]!.code, /^a\n\/\/ README line 5\nb$/);
});

t.test('every TypeScript block of the README compiles under --strict, and the ones that call the demo server run', async (t) => {
  const demo = await demoServer();
  t.teardown(() => demo.close());
  const dir = mkdtempSync(join(tmpdir(), 'readme-blocks-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'node_modules'));
  // The package as a user's project sees it: its package.json (exports, types) and the built dist/.
  symlinkSync(ROOT, join(dir, 'node_modules', 'medusa-xmlrpc'), 'dir');
  // And its runtime dependencies, as an install would put them beside it (a block may import prom-client).
  const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
  for (const name of Object.keys(manifest.dependencies ?? {})) symlinkSync(join(ROOT, 'node_modules', name), join(dir, 'node_modules', name), 'dir');
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        lib: ['ES2022'],
        strict: true,
        skipLibCheck: true,
        types: ['node'],
        typeRoots: [join(ROOT, 'node_modules', '@types')],
        outDir: 'out',
        rootDir: '.',
      },
      include: ['*.ts'],
    }),
  );

  const blocks = readmeBlocks(readFileSync(join(ROOT, 'README.md'), 'utf8'));
  t.ok(blocks.length > 0, 'the README has TypeScript blocks');
  const files = new Map<string, Block>();
  for (const [i, block] of blocks.entries()) {
    if (block.skip !== null) {
      t.comment(`README line ${block.line}: skipped (${block.skip})`);
      continue;
    }
    const name = block.file ?? `block-${String(i + 1).padStart(2, '0')}-line-${block.line}.ts`;
    // The demo server's address for the README's.
    const code = block.code.replaceAll('127.0.0.1:8182', `127.0.0.1:${demo.port}`);
    // `export {}` makes every block a module (its own scope, top-level await allowed).
    writeFileSync(join(dir, name), `${code}\nexport {};\n`);
    files.set(name, block);
  }
  const { code, output } = await tsc(dir);
  for (const [name, block] of files) t.comment(`README line ${block.line}: type-checked${block.run ? ', run against the demo server' : ''} (${name})`);
  t.equal(code, 0, `tsc --strict on the README's blocks:\n${output}`);
  if (code !== 0) return;

  for (const [name, block] of files) {
    if (!block.run) continue;
    const js = pathToFileURL(join(dir, 'out', name.replace(/\.ts$/, '.js'))).href;
    await t.resolves(import(js), `README line ${block.line} runs against the demo server`);
  }
});
