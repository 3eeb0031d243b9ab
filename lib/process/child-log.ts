// The child's half of log forwarding (logs.ts has the parent's): records
// written as JSON lines, synchronously, to the record pipe spawnProcess gave
// the child, so that a record written just before a crash is not lost. The
// child's entry (child-main.ts) points console.* and the crash handlers at
// it; a module in the child gets its own logger with childLogger().

import { Buffer } from 'node:buffer';
import { writeSync } from 'node:fs';
import { format } from 'node:util';
import type { LogLevel } from './logs.js';

/** Cut before writing: one record stays one line the parent can take. */
const MAX_MSG = 256 * 1024;
const MAX_STACK = 64 * 1024;

// Shared through the global registry, so that a second copy of this library
// loaded by a module in the child writes to the same pipe.
const CHANNEL = Symbol.for('medusa-xmlrpc.child-log-fd');
type Holder = { [CHANNEL]?: number };

/** The record pipe of this process, when it is a child of spawnProcess. */
export function recordFd(): number | undefined {
  return (globalThis as Holder)[CHANNEL];
}

export function setRecordFd(fd: number): void {
  (globalThis as Holder)[CHANNEL] = fd;
}

export interface ChildRecord {
  level: LogLevel;
  msg: string;
  stack?: string;
  fields?: Record<string, unknown>;
}

/** Writes one record; outside a spawned child (or once the pipe is gone), a line on stderr. */
export function writeRecord(record: ChildRecord): void {
  const fd = recordFd();
  const out = { time: Date.now(), level: record.level, msg: cut(record.msg, MAX_MSG) } as Record<string, unknown>;
  if (record.stack !== undefined) out.stack = cut(record.stack, MAX_STACK);
  if (record.fields !== undefined && Object.keys(record.fields).length > 0) out.fields = record.fields;
  let line: string;
  try {
    line = JSON.stringify(out) + '\n';
  } catch {
    // Fields that do not serialize (a cycle, a bigint): the message still goes.
    delete out.fields;
    line = JSON.stringify(out) + '\n';
  }
  if (fd === undefined || !writeAll(fd, line)) {
    try {
      writeSync(2, `${record.level}: ${record.msg}${record.stack === undefined ? '' : `\n${record.stack}`}\n`);
    } catch {
      /* nowhere left to write */
    }
  }
}

function writeAll(fd: number, text: string): boolean {
  let bytes = Buffer.from(text);
  try {
    while (bytes.length > 0) {
      let n: number;
      try {
        n = writeSync(fd, bytes);
      } catch (err) {
        // A full pipe on a non-blocking descriptor: the parent is reading, try again.
        if ((err as NodeJS.ErrnoException).code === 'EAGAIN') continue;
        throw err;
      }
      bytes = bytes.subarray(n);
    }
    return true;
  } catch {
    return false;
  }
}

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}... (${text.length - max} more characters)`;
}

/** pino's call shapes: (msg, ...args), (obj, msg?, ...args), (err, msg?). */
function toRecord(level: LogLevel, bindings: Record<string, unknown>, args: unknown[]): ChildRecord {
  const [first, ...rest] = args;
  if (first instanceof Error) {
    const msg = rest.length > 0 ? format(...rest) : first.message;
    return { level, msg, stack: first.stack, fields: { ...bindings } };
  }
  if (typeof first === 'object' && first !== null) {
    const { err, ...merge } = first as Record<string, unknown>;
    const msg = rest.length > 0 ? format(...rest) : '';
    const record: ChildRecord = { level, msg, fields: { ...bindings, ...merge } };
    if (err instanceof Error) {
      record.stack = err.stack;
      if (msg === '') record.msg = err.message;
    }
    return record;
  }
  return { level, msg: format(...args), fields: { ...bindings } };
}

export interface ChildLogger {
  debug(...args: unknown[]): void;
  info(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
  /** A logger whose records carry these bindings too (pino's child loggers). */
  child(bindings: Record<string, unknown>): ChildLogger;
}

/**
 * A logger for code running in a child of spawnProcess: its records reach the
 * parent (its `logger`, `child.logs`) on the child's record channel, in
 * order, with `fields` = bindings plus the merge object. pino's call shapes:
 * `log.info('x=%d', 1)`, `log.info({ id }, 'msg')`, `log.error(err)`. Outside
 * such a child it writes `level: msg` lines to stderr.
 */
export function childLogger(bindings: Record<string, unknown> = {}): ChildLogger {
  const at =
    (level: LogLevel) =>
    (...args: unknown[]) =>
      writeRecord(toRecord(level, bindings, args));
  return {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (more) => childLogger({ ...bindings, ...more }),
  };
}

/** Points console.* at the record channel (console.log/info: info, debug/trace: debug, warn, error). */
export function forwardConsole(): void {
  const put =
    (level: LogLevel) =>
    (...args: unknown[]) =>
      writeRecord({ level, msg: format(...args) });
  console.log = put('info');
  console.info = put('info');
  console.debug = put('debug');
  console.warn = put('warn');
  console.error = put('error');
  console.trace = (...args: unknown[]) => {
    const stack = new Error().stack?.split('\n').slice(2).join('\n');
    writeRecord({ level: 'debug', msg: `Trace: ${format(...args)}`, stack });
  };
}
