// A spawned child's output, as records in the parent (issue 12; pyacq's log
// forwarding). Three streams arrive from the child, each in its own order:
//   stdout, stderr  raw lines (whatever wrote them: process.stdout.write,
//                   a native module, Node itself), level info and error;
//   records         JSON lines on a pipe of their own (fd 4 of the child),
//                   written synchronously by its console.*, its uncaught
//                   exceptions and unhandled rejections, and childLogger().
// Synchronous writes to pipes are in the kernel before the next statement
// runs, so what a child wrote before it crashed (even by abort()) is read
// by the parent to the end: the pipes close after the last byte.

import { inspect } from 'node:util';
import type { Readable } from 'node:stream';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

export interface LogRecord {
  /** When it was written, ms since the epoch (the child's clock; for a raw stdout/stderr line, when the parent read it). */
  time: number;
  level: LogLevel;
  /** The child's name (spawnProcess's `name`). */
  source: string;
  pid: number;
  msg: string;
  /** An error's stack (uncaught exceptions, unhandled rejections, an Error logged). */
  stack?: string;
  /** Which stream carried it: the child's stdout, stderr, or its record channel (console.*, childLogger, crashes). */
  stream: 'stdout' | 'stderr' | 'log';
  /** A logger's bindings and merge object (childLogger), when any. */
  fields?: Record<string, unknown>;
}

/** pino's shape: a method per level taking (mergeObject, message). A pino logger plugs in as is. */
export interface LevelLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  debug?(obj: object, msg?: string): void;
}

/** Where records go: a function, a pino-style logger, or null for nowhere (`child.logs` still has them). */
export type LogSink = ((record: LogRecord) => void) | LevelLogger | null;

/** One line (or record) at most, bytes: a longer line is cut into pieces. */
export const MAX_LINE = 1 << 20;

/** The default sink: the parent's stderr, each line prefixed `[name pid]`. */
export function stderrSink(record: LogRecord): void {
  const prefix = `[${record.source} ${record.pid}] `;
  let text = record.msg;
  // An uncaught error's message repeats the stack's first line: print the stack under it once.
  if (record.stack !== undefined) text += `\n${record.stack}`;
  process.stderr.write(`${prefix}${text.split('\n').join(`\n${prefix}`)}\n`);
}

/** Turns `logger` into a function; a logger that throws never reaches the child's machinery. */
export function toSink(logger: LogSink | undefined): (record: LogRecord) => void {
  if (logger === undefined) return stderrSink;
  if (logger === null) return () => {};
  if (typeof logger === 'function') return logger;
  if (typeof logger !== 'object' || typeof logger.info !== 'function' || typeof logger.warn !== 'function' || typeof logger.error !== 'function') {
    throw new TypeError('logger must be a function, an object with info, warn and error methods (pino), or null');
  }
  return (record) => {
    const { msg, level, ...rest } = record;
    if (level === 'debug' && typeof logger.debug === 'function') logger.debug(rest, msg);
    else if (level === 'debug' || level === 'info') logger.info(rest, msg);
    else if (level === 'warn') logger.warn(rest, msg);
    else logger.error(rest, msg);
  };
}

/** Calls `sink`, reporting (once per child) a sink that throws rather than losing the rest. */
export function safeSink(sink: (record: LogRecord) => void): (record: LogRecord) => void {
  let reported = false;
  return (record) => {
    try {
      sink(record);
    } catch (err) {
      if (reported) return;
      reported = true;
      process.stderr.write(`spawnProcess: the logger threw (reported once): ${inspect(err)}\n`);
    }
  };
}

/** Splits a stream into lines (a last line without a newline included), at most MAX_LINE characters each. */
export function readLines(stream: Readable, onLine: (line: string) => void): Promise<void> {
  stream.setEncoding('utf8');
  let partial = '';
  stream.on('data', (chunk: string) => {
    partial += chunk;
    let nl: number;
    while ((nl = partial.indexOf('\n')) !== -1) {
      onLine(partial.slice(0, nl));
      partial = partial.slice(nl + 1);
    }
    while (partial.length > MAX_LINE) {
      onLine(partial.slice(0, MAX_LINE));
      partial = partial.slice(MAX_LINE);
    }
  });
  return new Promise((resolve) => {
    const done = () => {
      if (partial !== '') onLine(partial);
      partial = '';
      resolve();
    };
    stream.once('end', done);
    stream.once('error', done);
  });
}

/** A record line from the child's record channel; whatever does not parse is kept as text. */
export function parseRecord(line: string, source: string, pid: number): LogRecord {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { time: Date.now(), level: 'info', source, pid, msg: line, stream: 'log' };
  }
  const v = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  const record: LogRecord = {
    time: typeof v.time === 'number' ? v.time : Date.now(),
    level: LOG_LEVELS.includes(v.level as LogLevel) ? (v.level as LogLevel) : 'info',
    // Who wrote it is the parent's knowledge, not the child's claim.
    source,
    pid,
    msg: typeof v.msg === 'string' ? v.msg : line,
    stream: 'log',
  };
  if (typeof v.stack === 'string') record.stack = v.stack;
  if (typeof v.fields === 'object' && v.fields !== null && !Array.isArray(v.fields)) record.fields = v.fields as Record<string, unknown>;
  return record;
}

/**
 * `child.logs`: the records as an async iterator, buffered from the start
 * (at most `max`, the oldest dropped first and counted) and ending once the
 * child has exited and its pipes are drained. One consumer: two iterators
 * share the records between them.
 */
export class LogQueue implements AsyncIterable<LogRecord> {
  readonly #max: number;
  #buffer: LogRecord[] = [];
  #waiting: ((r: IteratorResult<LogRecord>) => void)[] = [];
  #ended = false;
  dropped = 0;

  constructor(max: number) {
    this.#max = max;
  }

  push(record: LogRecord): void {
    const waiter = this.#waiting.shift();
    if (waiter !== undefined) return waiter({ value: record, done: false });
    this.#buffer.push(record);
    if (this.#buffer.length > this.#max) {
      this.#buffer.shift();
      this.dropped++;
    }
  }

  end(): void {
    this.#ended = true;
    for (const waiter of this.#waiting.splice(0)) waiter({ value: undefined, done: true });
  }

  next(): Promise<IteratorResult<LogRecord>> {
    const record = this.#buffer.shift();
    if (record !== undefined) return Promise.resolve({ value: record, done: false });
    if (this.#ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  [Symbol.asyncIterator](): AsyncIterator<LogRecord> {
    return { next: () => this.next(), return: () => Promise.resolve({ value: undefined, done: true }) };
  }
}
