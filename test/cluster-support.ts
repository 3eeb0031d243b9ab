// Real-process helpers for the cluster tests (cluster-workers, cluster-signals):
// `npm start -- --workers N` started and read line by line, its workers
// found by asking worker.info, and their pids waited for (bounded).

import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dumps } from '../lib/xmlrpc/encode.js';
import { loads } from '../lib/xmlrpc/decode.js';
import { RawClient, post } from './support.js';

export const CLI = fileURLToPath(new URL('../handlers/cli.js', import.meta.url));

export interface Primary {
  child: ChildProcess;
  port: number;
  exited: Promise<number | null>;
  /** Resolves once the primary has printed `count` lines matching `pattern`; rejects if it exits first. */
  printed: (pattern: RegExp, count?: number) => Promise<void>;
  output: () => string;
}

/** Runs `args` with node, stdout read for lines; the primary is killed (SIGKILL) at 90 s at most. */
export function launch(t: { teardown(fn: () => unknown): void }, args: string[]): Omit<Primary, 'port'> {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let stdout = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  // A bound on a primary that hangs, not a measure of anything; the workers follow it (their IPC channel closes).
  const killer = setTimeout(() => child.kill('SIGKILL'), 90_000);
  void exited.then(() => clearTimeout(killer));
  t.teardown(() => void child.kill('SIGKILL'));
  const printed = (pattern: RegExp, count = 1) =>
    new Promise<void>((resolve, reject) => {
      const global = new RegExp(pattern.source, 'g');
      const check = () => {
        if ((stdout.match(global) ?? []).length < count) return;
        child.stdout!.off('data', check);
        resolve();
      };
      child.stdout!.on('data', check);
      check();
      void exited.then(() => reject(new Error(`the primary exited before printing ${String(pattern)} x${count}: ${stdout}`)));
    });
  return { child, exited, printed, output: () => stdout };
}

export async function startPrimary(t: { teardown(fn: () => unknown): void }, workers: number, shutdownTimeout = '60'): Promise<Primary> {
  const { child, exited, printed, output } = launch(t, [
    CLI,
    '--port',
    '0',
    '--workers',
    String(workers),
    '--inline-codec',
    '--no-access-log',
    '--shutdown-timeout',
    shutdownTimeout,
  ]);
  await printed(/listening on http:\/\/127\.0\.0\.1:\d+\/RPC2 with/);
  const port = Number(/127\.0\.0\.1:(\d+)\/RPC2 with/.exec(output())![1]);
  return { child, port, exited, printed, output };
}

export interface Info {
  id: number;
  slot: number;
  pid: number;
}

export async function info(port: number): Promise<Info> {
  const c = await RawClient.open(port);
  let r;
  try {
    c.write(post('/RPC2', dumps([], 'worker.info')));
    // A bound on a lost response; a loaded machine can take seconds. A close without one fails at once.
    await c.until(() => c.responses.length > 0 || c.closed, 20_000, 'a response');
    if (c.responses.length === 0) throw new Error('the connection closed without a response');
    r = c.responses[0];
  } finally {
    c.destroy();
  }
  return loads(r!.text()).params[0] as unknown as Info;
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Waits (bounded) until none of `pids` is running: a worker exits just after the primary says it is done. */
export async function gone(pids: Iterable<number>): Promise<boolean> {
  for (let i = 0; i < 200; i++) {
    if (![...pids].some(alive)) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}
