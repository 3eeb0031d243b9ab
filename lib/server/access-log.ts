// The access log: one record per answered request, made by the connection
// only when someone listens (Server#observe, the accessLog and onRequest
// options), and three ways to write it: the common log format and the
// combined one (what log tools parse) and JSON lines. Nothing here is on the
// hot path when logging is off: no record is built.

import { createWriteStream } from 'node:fs';
import type { Socket } from 'node:net';
import type { Writable } from 'node:stream';
import { getHeader } from '../http/headers.js';
import type { Request } from './request.js';

/** What the server knows about one answered request; the same object goes to every listener. */
export interface AccessRecord {
  /** When the response was written (epoch ms, wall time). */
  time: number;
  /** The peer's address and port ('' and 0 when the socket no longer says). */
  peer: string;
  port: number;
  /** The HTTP method, request-target and version ('-' when the request line could not be read). */
  method: string;
  path: string;
  target: string;
  httpVersion: string;
  status: number;
  /** Request bytes received: head and body (chunked framing not counted); 0 for a request line that could not be read. */
  bytesIn: number;
  /** Response bytes written, head included (Apache's %O). */
  bytesOut: number;
  /** From the first byte of the request to its response handed to the socket, microseconds. */
  durationUs: number;
  /** The XML-RPC method called, when the RPC layer read one (Request#rpcMethod). */
  rpcMethod: string | null;
  /** The fault the call answered, if any (Request#faultCode). */
  faultCode: number | null;
  /** The connection's number on this server (from 1), and this request's number on it (from 1). */
  connection: number;
  request: number;
  referer: string | null;
  userAgent: string | null;
  /** A handler's failure reported for this request (pino's serialised shape: the stack is here, not on stderr). */
  err?: { type: string; message: string; stack: string };
}

/** The versions a request line names, as constants: no string built per record. */
const HTTP_VERSIONS: readonly string[] = ['HTTP/1.0', 'HTTP/1.1'];

/** The record of a request just answered; `request` is null when its request line could not be read. */
export function accessRecord(
  request: Request | null,
  socket: Socket,
  connection: number,
  number: number,
  status: number,
  bytesIn: number,
  bytesOut: number,
  durationUs: number,
): AccessRecord {
  const record: AccessRecord = {
    time: Date.now(),
    peer: request?.remoteAddress ?? socket.remoteAddress ?? '',
    port: request?.remotePort ?? socket.remotePort ?? 0,
    method: request?.method ?? '-',
    path: request?.path ?? '-',
    target: request?.target ?? '-',
    httpVersion: request === null ? '-' : (HTTP_VERSIONS[request.versionMinor] ?? `HTTP/1.${request.versionMinor}`),
    status,
    bytesIn,
    bytesOut,
    durationUs,
    rpcMethod: request?.rpcMethod ?? null,
    faultCode: request?.faultCode ?? null,
    connection,
    request: number,
    referer: request === null ? null : (getHeader(request.headers, 'referer') ?? null),
    userAgent: request === null ? null : (getHeader(request.headers, 'user-agent') ?? null),
  };
  if (request !== null && request.error !== undefined) record.err = serialisedError(request.error);
  return record;
}

export type AccessLogFormat = 'common' | 'combined' | 'json';

export interface AccessLogOptions {
  /** Default 'combined'. */
  format?: AccessLogFormat;
  /** A file path (appended to), '-' for stdout, a Writable, or a function taking each line (with its newline). */
  to: string | Writable | ((line: string) => void);
}

/** Lines are gathered and written at this many characters, or BATCH_MS after the first of a batch. */
const BATCH_CHARS = 16 * 1024;
const BATCH_MS = 50;

/**
 * Turns the accessLog option into a record listener; `close` writes what is
 * gathered and ends a file it opened. A stream gets a write per batch of
 * lines, not per request: a write to a file is a system call and a trip to
 * libuv's thread pool. A line reaches the stream at most BATCH_MS late; a
 * process that exits without Server#close() loses at most that much.
 */
export function accessLogWriter(options: AccessLogOptions): { write: (record: AccessRecord) => void; close: () => Promise<void> } {
  const format = options.format ?? 'combined';
  const line = formatter(format);
  const to = options.to;
  if (typeof to === 'function') return { write: (record) => to(line(record)), close: () => Promise.resolve() };
  const stream: Writable = to === '-' ? process.stdout : typeof to === 'string' ? createWriteStream(to, { flags: 'a' }) : to;
  // A log that cannot be written must not take the server down.
  if (typeof to === 'string' && to !== '-') stream.on('error', (err: Error) => process.stderr.write(`xmlrpc server: access log ${to}: ${err.message}\n`));
  let batch = '';
  let timer: NodeJS.Timeout | null = null;
  const flush = () => {
    if (timer !== null) clearTimeout(timer);
    timer = null;
    if (batch === '') return;
    const text = batch;
    batch = '';
    stream.write(text);
  };
  return {
    write: (record) => {
      batch += line(record);
      if (batch.length >= BATCH_CHARS) flush();
      // Unref'd: a pending line does not keep the process alive (close() writes it).
      else timer ??= setTimeout(flush, BATCH_MS).unref();
    },
    close: () => {
      flush();
      return typeof to === 'string' && to !== '-' ? new Promise<void>((resolve) => stream.end(resolve)) : Promise.resolve();
    },
  };
}

export function formatter(format: AccessLogFormat): (record: AccessRecord) => string {
  switch (format) {
    case 'common':
      return commonLine;
    case 'combined':
      return combinedLine;
    case 'json':
      return jsonLine;
    default:
      throw new RangeError(`accessLog.format must be 'common', 'combined' or 'json', got ${String(format)}`);
  }
}

/** NCSA common log format: `host ident authuser [date] "request" status bytes`. */
export function commonLine(r: AccessRecord): string {
  return commonPart(r) + '\n';
}

/** The combined format: the common one, then the quoted Referer and User-Agent. */
export function combinedLine(r: AccessRecord): string {
  return `${commonPart(r)} "${quoted(r.referer)}" "${quoted(r.userAgent)}"\n`;
}

/** One JSON object a line, the record's fields with `time` as an ISO 8601 string. */
export function jsonLine(r: AccessRecord): string {
  return JSON.stringify({ ...r, time: new Date(r.time).toISOString() }) + '\n';
}

function commonPart(r: AccessRecord): string {
  const request = r.method === '-' ? '-' : `${r.method} ${r.target} ${r.httpVersion}`;
  return `${r.peer === '' ? '-' : r.peer} - - [${clfDate(r.time)}] "${quoted(request)}" ${r.status} ${r.bytesOut}`;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

let dateSecond = -1;
let dateText = '';

/** `10/Oct/2000:13:55:36 +0000`: in UTC, so that a log does not depend on the host's zone. Made once a second. */
export function clfDate(ms: number): string {
  const second = Math.floor(ms / 1000);
  if (second === dateSecond) return dateText;
  dateSecond = second;
  return (dateText = formatClfDate(ms));
}

function formatClfDate(ms: number): string {
  const d = new Date(ms);
  const two = (n: number) => (n < 10 ? '0' : '') + n;
  return `${two(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} +0000`;
}

/** What goes between quotes: `"` and `\` escaped, control and non-ASCII bytes as \xHH (Apache's rule), '-' for none. */
function quoted(text: string | null): string {
  if (text === null || text === '') return '-';
  if (!/["\\\x00-\x1f\x7f-\uffff]/.test(text)) return text;
  let out = '';
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += '\\' + ch;
    else if (code < 0x20 || code >= 0x7f) out += code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`;
    else out += ch;
  }
  return out;
}

/** pino's serialised error: type, message, stack. */
export function serialisedError(err: unknown): { type: string; message: string; stack: string } {
  if (err instanceof Error) return { type: err.name, message: err.message, stack: err.stack ?? `${err.name}: ${err.message}` };
  return { type: typeof err, message: String(err), stack: String(err) };
}
