// The entry of a spawnProcess child (compiled to dist/lib/process/child-main.js),
// forked with an IPC channel and a record pipe on fd 4. It forwards its
// console and its crashes as records (child-log.ts), waits for the parent's
// start message (wire.ts), loads the allowed modules and classes (a module
// that throws fails the start, with its stack), serves an ObjectServer on
// 127.0.0.1 behind a bearer token (bearer.ts), and reports its URL.
//
// It never outlives the parent: the IPC 'disconnect' ends it, and so does
// the watchdog thread (lib/fork/watchdog.ts) when the parent dies by SIGKILL
// while this thread is stuck in a synchronous loop.

import { statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { startParentWatchdog } from '../fork/watchdog.js';
import { ObjectServer, type ObjectClass } from '../objects/server.js';
import { Server } from '../server/server.js';
import { BearerGate } from './bearer.js';
import { forwardConsole, setRecordFd, writeRecord } from './child-log.js';
import { stopAllChildren } from './spawn.js';
import { toWireError, type FromChild, type StartMessage, type ToChild } from './wire.js';

if (process.send === undefined) throw new Error('child-main.js is the entry of a spawnProcess child, forked with an IPC channel');

const parent = Number(process.argv[2]);
setRecordFd(Number(process.argv[3]));
forwardConsole();

// Node's own behaviour (the process ends), but the error reaches the parent as a record first, written synchronously.
process.on('uncaughtException', (err, origin) => {
  const what = origin === 'unhandledRejection' ? 'unhandled rejection' : 'uncaught exception';
  const stack = err instanceof Error ? err.stack : undefined;
  writeRecord({ level: 'error', msg: `${what}: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`, stack });
  process.exit(1);
});
process.on('disconnect', () => process.exit(0));

const watchdogOnline = new Promise<void>((ready) => startParentWatchdog(parent).once('online', ready));
const ignore = () => {};
const send = (message: FromChild, done: (err: Error | null) => void = ignore) => {
  try {
    process.send!(message, undefined, undefined, done);
  } catch (err) {
    done(err as Error);
  }
};

let server: Server | null = null;
let objects: ObjectServer | null = null;
let stopping = false;

process.on('message', (message: ToChild) => {
  if (message.type === 'start') void start(message);
  else if (message.type === 'stop') void stop();
});

async function start(config: StartMessage): Promise<void> {
  try {
    const classes = new Map<string, ObjectClass>();
    for (const [name, [url, exportName]] of Object.entries(config.classes)) {
      const namespace = (await import(url)) as Record<string, unknown>;
      const cls = namespace[exportName];
      if (typeof cls !== 'function') throw new TypeError(`classes.${name}: ${url} has no class export "${exportName}"`);
      classes.set(name, cls as ObjectClass);
    }
    // Loaded now, so that a module that throws fails the start, not a later import.
    for (const url of new Set(Object.values(config.modules))) await import(url);
    server = new Server({ onError: (err) => report('server', err) });
    const address = await server.listen(config.port, '127.0.0.1');
    const url = `http://127.0.0.1:${address.port}/RPC2`;
    objects = new ObjectServer({
      ...config.objectOptions,
      classes,
      modules: config.modules,
      url,
      resolveModule: config.allowAnyModule ? anyLocalFile : undefined,
      onError: (err) => report('dispose', err),
    });
    server.addHandler(new BearerGate(config.token, objects));
    await watchdogOnline;
    send({ type: 'ready', url });
  } catch (err) {
    // The parent rejects with this (its stack included) and waits for the exit.
    send({ type: 'failed', error: toWireError(err) }, () => process.exit(1));
  }
}

/** Calls in flight are answered (Server#close waits for them), this process's own children stopped, then exit. */
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await Promise.all([stopAllChildren(), server?.close()]);
  objects?.close();
  process.exit(0);
}

function report(what: string, err: unknown): void {
  writeRecord({ level: 'error', msg: `${what}: ${err instanceof Error ? err.message : String(err)}`, stack: err instanceof Error ? err.stack : undefined });
}

/**
 * allowAnyModule: a local file, named by an absolute path, a file: URL, or a
 * path relative to this process's cwd (./ or ../). Never a package name, and
 * never another scheme (data:, http:): nothing is evaluated from the wire.
 */
function anyLocalFile(name: string): string | undefined {
  let path: string;
  if (name.startsWith('file:')) {
    try {
      path = fileURLToPath(name);
    } catch {
      return undefined;
    }
  } else if (isAbsolute(name) || name.startsWith('./') || name.startsWith('../')) {
    path = resolve(name);
  } else {
    return undefined;
  }
  try {
    return statSync(path).isFile() ? pathToFileURL(path).href : undefined;
  } catch {
    return undefined;
  }
}
