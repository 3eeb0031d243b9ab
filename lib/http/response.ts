// Serialising response heads. Kept apart from the parser so that both the
// server and tests can build exact bytes; nothing here touches a socket.

import { Buffer } from 'node:buffer';
import { isFieldValue, isToken } from './headers.js';

// RFC 9110 §15, and 429/431 (RFC 6585).
const STATUS_TEXT: Record<number, string> = {
  100: 'Continue',
  200: 'OK',
  201: 'Created',
  202: 'Accepted',
  203: 'Non-Authoritative Information',
  204: 'No Content',
  205: 'Reset Content',
  206: 'Partial Content',
  300: 'Multiple Choices',
  301: 'Moved Permanently',
  302: 'Found',
  303: 'See Other',
  304: 'Not Modified',
  307: 'Temporary Redirect',
  308: 'Permanent Redirect',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  408: 'Request Timeout',
  409: 'Conflict',
  410: 'Gone',
  411: 'Length Required',
  412: 'Precondition Failed',
  413: 'Content Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  417: 'Expectation Failed',
  421: 'Misdirected Request',
  422: 'Unprocessable Content',
  426: 'Upgrade Required',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
  505: 'HTTP Version Not Supported',
};

export function statusText(status: number): string {
  return STATUS_TEXT[status] ?? 'Unknown';
}

// RFC 9110 §6.6.1: an origin server with a clock sends Date. Formatting it
// costs more than the rest of the head, so it is cached for its second, and
// an unref'd timer at the next second's start forgets it (as Node's http
// does): a response reads no clock. A loop blocked past that second sends
// the one before, which a client cannot tell from a slow network.
let cachedDate = '';
function forgetDate(): void {
  cachedDate = '';
}
function httpDate(): string {
  return cachedDate !== '' ? cachedDate : newDate();
}
/** Once a second, apart from httpDate: what every response runs stays small enough for the compiler to inline wherever it is called. */
function newDate(): string {
  const now = Date.now();
  cachedDate = new Date(now).toUTCString();
  setTimeout(forgetDate, 1000 - (now % 1000)).unref();
  return cachedDate;
}

/**
 * A header list as handlers give it: name -> value. A name is a token; a
 * value holds no control character but HTAB, and no character above U+00FF
 * (the head goes out as latin1, one byte per character).
 */
export type ResponseHeaders = Readonly<Record<string, string | number>>;

/**
 * The head of a response, CRLFCRLF included, as latin1 text. `Content-Length`,
 * `Transfer-Encoding`, `Connection` and `Date` are the server's to decide, so
 * they are not taken from `headers`. `contentLength` < 0 omits the field
 * (only for 1xx/204/304). Throws TypeError for a header it cannot send.
 */
export function formatHead(status: number, headers: ResponseHeaders | undefined, contentLength: number, connection: 'keep-alive' | 'close' | ''): string {
  let head = `HTTP/1.1 ${status} ${statusText(status)}\r\nDate: ${httpDate()}\r\n`;
  if (headers !== undefined) head += fieldLines(headers);
  if (contentLength >= 0) head += `Content-Length: ${contentLength}\r\n`;
  if (connection !== '') head += `Connection: ${connection}\r\n`;
  return head + '\r\n';
}

/**
 * A whole response, head and `body`, in one new Buffer: the same bytes as
 * `formatHead(status, headers, body.byteLength, connection)` followed by the
 * body. For a small body and frozen (or no) headers, the response's status
 * line, Date and header lines are kept as bytes for as long as the status,
 * the header list and the Date stay the same (the status line, Date and
 * fields of the last response, one entry), so a response copies them and
 * writes only its Content-Length: no head string made and encoded per
 * response. Null for headers that are not frozen (formatHead then). Throws
 * TypeError for a header it cannot send, as formatHead does.
 */
export function framedResponse(status: number, headers: ResponseHeaders | undefined, connection: 'keep-alive' | 'close' | '', body: Uint8Array): Buffer | null {
  if (!frozenOrNone(headers)) return null;
  const prefix = lastPrefix(status, headers);
  const tail = connection === '' ? CRLFCRLF : connection === 'close' ? CLOSE_TAIL : KEEP_ALIVE_TAIL;
  const length = body.byteLength;
  let digits = 1;
  for (let x = length; x >= 10; x = Math.floor(x / 10)) digits++;
  const out = Buffer.allocUnsafe(prefix.length + digits + tail.length + length);
  out.set(prefix, 0);
  let at = prefix.length + digits;
  for (let k = at - 1, x = length; k >= prefix.length; k--, x = Math.floor(x / 10)) out[k] = 0x30 + (x % 10);
  out.set(tail, at);
  at += tail.length;
  out.set(body, at);
  return out;
}

/**
 * `framedResponse` for a body given as latin1 text (each character one
 * byte, so its length is its Content-Length): the whole response as one
 * latin1 string, to be written as it is. Node writes a latin1 string of up
 * to 16 KiB through a buffer on its stack, so no Buffer is made for the
 * response at all. Null for headers that are not frozen (formatHead then).
 */
export function framedText(status: number, headers: ResponseHeaders | undefined, connection: 'keep-alive' | 'close' | '', body: string): string | null {
  if (!frozenOrNone(headers)) return null;
  lastPrefix(status, headers);
  const tail = connection === '' ? END_TEXT : connection === 'close' ? CLOSE_TEXT : KEEP_ALIVE_TEXT;
  return lastText + body.length + tail + body;
}

/**
 * No header list, or a frozen one. The last response's list passed this
 * check before it was kept (lastPrefix), and a frozen object stays frozen:
 * the same list again needs no call into the runtime (Object.isFrozen is a
 * C++ builtin, about 140 instructions a response).
 */
function frozenOrNone(headers: ResponseHeaders | undefined): boolean {
  return headers === undefined || headers === lastHeaders || Object.isFrozen(headers);
}

/** The status line, Date and header lines up to `Content-Length: ` of the last response, as bytes (returned) and as text (`lastText`). */
function lastPrefix(status: number, headers: ResponseHeaders | undefined): Buffer {
  const date = httpDate();
  if (status !== lastStatus || headers !== lastHeaders || date !== lastDate) newPrefix(status, headers, date);
  return lastBytes;
}

/** A new status, header list or Date: the prefix made again (apart from lastPrefix, so that the check every response makes is inlined). */
function newPrefix(status: number, headers: ResponseHeaders | undefined, date: string): void {
  lastText = `HTTP/1.1 ${status} ${statusText(status)}\r\nDate: ${date}\r\n${headers === undefined ? '' : fieldLines(headers)}Content-Length: `;
  lastBytes = Buffer.from(lastText, 'latin1');
  lastStatus = status;
  lastHeaders = headers;
  lastDate = date;
}

let lastStatus = 0;
let lastHeaders: ResponseHeaders | undefined = undefined;
let lastDate = '';
let lastText = '';
let lastBytes: Buffer = Buffer.alloc(0);
/** What follows the Content-Length digits, by the connection's choice: as text (framedText) and as bytes (framedResponse). */
const END_TEXT = '\r\n\r\n';
const CLOSE_TEXT = '\r\nConnection: close\r\n\r\n';
const KEEP_ALIVE_TEXT = '\r\nConnection: keep-alive\r\n\r\n';
const CRLFCRLF = Buffer.from(END_TEXT, 'latin1');
const CLOSE_TAIL = Buffer.from(CLOSE_TEXT, 'latin1');
const KEEP_ALIVE_TAIL = Buffer.from(KEEP_ALIVE_TEXT, 'latin1');

/**
 * The lines of a frozen header list, checked once (a handler's constant,
 * such as the XML-RPC handler's Content-Type): it cannot change, so neither
 * can its lines. Any other list is checked on every response.
 */
const FROZEN_LINES = new WeakMap<object, string>();

function fieldLines(headers: ResponseHeaders): string {
  const frozen = Object.isFrozen(headers);
  if (frozen) {
    const lines = FROZEN_LINES.get(headers);
    if (lines !== undefined) return lines;
  }
  let head = '';
  for (const name in headers) {
    const lower = name.toLowerCase();
    if (lower === 'content-length' || lower === 'connection' || lower === 'transfer-encoding' || lower === 'date') continue;
    const raw: unknown = headers[name];
    if (typeof raw !== 'string' && typeof raw !== 'number') {
      throw new TypeError(`response header ${JSON.stringify(name)} is neither a string nor a number`);
    }
    const value = String(raw);
    // A handler's header must neither end its line early (CR, LF: response
    // splitting) nor hold what a strict client refuses, lest it drop the answer.
    if (!isToken(name)) throw new TypeError(`response header name ${JSON.stringify(name)} is not a token`);
    if (!isFieldValue(value)) throw new TypeError(`response header ${JSON.stringify(name)} holds a byte a field value may not`);
    head += `${name}: ${value}\r\n`;
  }
  if (frozen) FROZEN_LINES.set(headers, head);
  return head;
}

export const CONTINUE_100 = 'HTTP/1.1 100 Continue\r\n\r\n';
