// The idle keep-alive measurement: our server, with a keep-alive timeout long
// enough for the run, holds COUNT connections that have each made one call,
// opened by bench/idle-clients.ts in its own process; then its RSS is read.

import * as path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { errorLine, lineReader, readRss, spawnTracked, startServer, stop, withFileLimit, type Pinning } from './procs.js';

export interface IdleResult {
  count: number;
  ready: number;
  failed: number;
  error: string | null;
  /** How long opening them took, ms. */
  ms: number;
  /** Still open when the RSS was read. */
  open: number;
  idleRss: number;
  rss: number;
  peak: number;
}

/** How long the connections stay idle before the RSS is read. */
export const IDLE_MS = 6000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function measureIdleConnections(dist: string, pin: Pinning, count: number): Promise<IdleResult> {
  const fds = count + 1000;
  const server = await startServer(
    withFileLimit(
      fds,
      pin.on(0, [process.execPath, path.join(dist, 'servers', 'ours.js'), '0', '--keep-alive-ms', '600000', '--max-connections', String(fds)]),
    ),
  );
  let clients: ChildProcess | null = null;
  try {
    await sleep(300);
    const idle = readRss(server.pid);
    clients = spawnTracked(withFileLimit(fds, pin.on(1, [process.execPath, path.join(dist, 'idle-clients.js'), String(server.port), String(count)])), {
      stdin: true,
    });
    const lines = lineReader(clients);
    const opened = JSON.parse(await lines.next(150_000)) as { ready: number; failed: number; error: string | null; ms: number };
    // Idle for a while (past the default 5 s keep-alive timeout, which this
    // server's option overrides), so the RSS is the steady state.
    await sleep(IDLE_MS);
    const mem = readRss(server.pid);
    clients.stdin!.write('check\n');
    const { open } = JSON.parse(await lines.next(10_000)) as { open: number };
    if (idle === null || mem === null || !server.alive()) throw new Error(`the server exited: ${errorLine(server.stderr())}`);
    return { count, ...opened, open, idleRss: idle.rss, rss: mem.rss, peak: mem.peak };
  } finally {
    if (clients !== null) await stop(clients);
    await stop(server.child);
  }
}
