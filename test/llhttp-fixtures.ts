// nodejs/llhttp's request and response fixtures (test/fixtures/llhttp/*.md and
// response/*.md, MIT, see the
// LICENSE beside them; copied from llhttp 9.4.2, commit 01e105a): each gives
// raw request bytes and the events llhttp reports for them. This module
// reads the markdown the way llhttp's own test/md-test.ts does, and turns an
// event log (theirs or our parser's) into one comparable outcome: the
// messages completed, in order, and how the input ended.

import { readFileSync } from 'node:fs';
import { HttpParser, type MessageHead } from '../lib/http/parser.js';
import { HttpParseError } from '../lib/errors.js';

export interface Fixture {
  /** "file.md:line: heading". */
  id: string;
  /** llhttp's test type: 'request', 'request-finish', 'request-lenient-*'. */
  type: string;
  meta: Record<string, unknown>;
  input: Buffer;
  log: string[];
}

export interface Message {
  method: string;
  url: string;
  /** Responses: the status code and reason phrase (0 and '' for requests). */
  status: number;
  reason: string;
  version: string;
  /** Flat [name, value, ...]: names lower-cased, values with OWS trimmed. */
  headers: string[];
  trailers: string[];
  body: string;
}

export interface Outcome {
  /** Messages whose end was reported. */
  messages: Message[];
  /**
   * How the input ended: 'more' (no verdict, waiting for bytes), 'refused'
   * (an error), 'upgrade' (llhttp stopped on CONNECT/Upgrade: what follows is
   * not HTTP to it), 'closed' (llhttp refused data after `Connection: close`).
   */
  end: 'more' | 'refused' | 'upgrade' | 'closed';
  /** The error: llhttp's reason, or our code. */
  reason: string;
}

/** The fixtures of one file, in order. */
export function readFixtures(url: URL): Fixture[] {
  const file = url.pathname.split('/').pop() ?? '';
  const lines = readFileSync(url, 'utf8').split('\n');
  const out: Fixture[] = [];
  let heading = '';
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.startsWith('#')) heading = line.replace(/^#+\s*/, '');
    else if (i + 1 < lines.length && /^[=-]{3,}$/.test(lines[i + 1]) && line.trim() !== '') heading = line;
    const m = /^<!-- meta=(.*) -->$/.exec(line);
    if (m === null) continue;
    const meta = JSON.parse(m[1]) as Record<string, unknown>;
    const at = i + 1;
    const http = codeBlock(lines, i, 'http');
    const log = codeBlock(lines, http.end, 'log');
    i = log.end;
    out.push({ id: `${file}:${at}: ${heading}`, type: String(meta.type), meta, input: decodeInput(http.text), log: log.text.split('\n').slice(0, -1) });
  }
  return out;
}

function codeBlock(lines: string[], from: number, lang: string): { text: string; end: number } {
  let i = from;
  while (lines[i] !== '```' + lang) i++;
  const body: string[] = [];
  for (i++; lines[i] !== '```'; i++) body.push(lines[i]);
  return { text: body.map((l) => l + '\n').join(''), end: i };
}

/** llhttp's md-test.ts input rules, in its order. */
function decodeInput(text: string): Buffer {
  let input = text.replace(/\n$/, '');
  input = input.replace(/\\(\r\n|\r|\n)/g, '');
  input = input.replace(/\r\n|\r|\n/g, '\r\n');
  input = input.replace(/\\r/g, '\r');
  input = input.replace(/\\n/g, '\n');
  input = input.replace(/\\t/g, '\t');
  input = input.replace(/\\f/g, '\f');
  input = input.replace(/\\x([0-9a-fA-F]+)/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  input = input.replace(/\\([0-7]{1,3})/g, (_, digits: string) => String.fromCharCode(parseInt(digits, 8)));
  if (/\$\{/.test(input)) throw new Error('inline JavaScript in a fixture is not supported');
  // llhttp's harness hands the string to its parser as UTF-8: "\xff" arrives as C3 BF.
  return Buffer.from(input, 'utf8');
}

/** A span as llhttp's log prints it (raw UTF-8, only tab and form feed escaped), as latin1 bytes like ours. */
function spanBytes(s: string): string {
  return Buffer.from(s.replace(/\\t/g, '\t').replace(/\\f/g, '\f'), 'utf8').toString('latin1');
}

const OWS = /^[ \t]+|[ \t]+$/g;

function newMessage(): Message & { field: string; value: string; inTrailers: boolean } {
  return { method: '', url: '', status: 0, reason: '', version: '', headers: [], trailers: [], body: '', field: '', value: '', inTrailers: false };
}

/** llhttp's log, as an outcome. A `finish=N` line (N > 0) is a refusal at the end of input. */
export function llhttpOutcome(log: string[]): Outcome {
  const messages: Message[] = [];
  let cur = newMessage();
  let pendingField = false;
  const flushField = (): void => {
    if (!pendingField) return;
    (cur.inTrailers ? cur.trailers : cur.headers).push(cur.field.toLowerCase(), cur.value.replace(OWS, ''));
    cur.field = '';
    cur.value = '';
    pendingField = false;
  };
  for (const line of log) {
    // A span of one CR or LF is printed bare: span[body]=cr.
    const span = /^off=\d+ len=\d+ span\[(\w+)\]=(?:"(.*)"|(cr|lf))$/.exec(line);
    if (span !== null) {
      const value = span[3] === 'cr' ? '\r' : span[3] === 'lf' ? '\n' : spanBytes(span[2]!);
      switch (span[1]) {
        case 'method':
          cur.method += value;
          break;
        case 'url':
          cur.url += value;
          break;
        case 'version':
          cur.version += value;
          break;
        case 'status':
          cur.reason += value;
          break;
        case 'header_field':
          if (cur.value !== '' || (pendingField && cur.field === '')) flushField();
          cur.field += value;
          pendingField = true;
          break;
        case 'header_value':
          cur.value += value;
          pendingField = true;
          break;
        case 'body':
          cur.body += value;
          break;
      }
      continue;
    }
    const rest = line.replace(/^off=\S+ /, '');
    if (rest === 'message begin') cur = newMessage();
    else if (rest === 'header_value complete') flushField();
    else if (rest.startsWith('headers complete')) {
      flushField();
      cur.status = Number(/ status=(\d+)/.exec(rest)?.[1] ?? 0);
      cur.inTrailers = true;
    } else if (rest === 'message complete') {
      flushField();
      const { field: _f, value: _v, inTrailers: _t, ...msg } = cur;
      messages.push(msg);
    } else if (rest.startsWith('error ')) {
      const reason = /reason="(.*)"/.exec(rest)?.[1] ?? rest;
      const code = /code=(\d+)/.exec(rest)?.[1];
      if (code === '22' || code === '23') return { messages, end: 'upgrade', reason };
      if (code === '5') return { messages, end: 'closed', reason };
      return { messages, end: 'refused', reason };
    } else if (rest === 'finish=1') {
      // HTTP_FINISH_SAFE_WITH_CB: at the end of input the message (read until close) completes.
      flushField();
      const { field: _f, value: _v, inTrailers: _t, ...msg } = cur;
      messages.push(msg);
    } else if (rest === 'finish=2') return { messages, end: 'refused', reason: 'finish=2 (HTTP_FINISH_UNSAFE)' };
  }
  return { messages, end: 'more', reason: '' };
}

const ADDED_HOST = 'host-added-by-the-harness.test';

/**
 * The input with `Host: ADDED_HOST` after every HTTP/1.1 request line whose
 * head has no Host (RFC 9112 §3.2 obliges us to refuse those, llhttp does not
 * check), so the rest of the comparison still runs. ourOutcome() removes it.
 */
export function withHost(input: Buffer): Buffer {
  const s = input.toString('latin1');
  return Buffer.from(
    s.replace(/(^|\n)([A-Za-z-]+ [^ \r\n]+ HTTP\/1\.1\r\n)/g, (all: string, lead: string, line: string, at: number) => {
      const headEnd = s.indexOf('\r\n\r\n', at);
      const head = s.slice(at, headEnd === -1 ? s.length : headEnd);
      return /\r\nhost:/i.test(head) ? all : `${lead}${line}Host: ${ADDED_HOST}\r\n`;
    }),
    'latin1',
  );
}

/** Our parser fed the pieces in order (then finish() when asked), as an outcome. A 1xx response is a message of its own, as llhttp reports it. */
export function ourOutcome(pieces: Buffer[], finish: boolean, kind: 'request' | 'response' = 'request', stopAtClose = false): Outcome {
  const messages: Message[] = [];
  let cur: Message | null = null;
  let closes = false;
  const message = (head: MessageHead): Message => {
    const headers = head.headers.slice();
    if (headers[0] === 'host' && headers[1] === ADDED_HOST) headers.splice(0, 2);
    return {
      method: head.method,
      url: head.target,
      status: head.status,
      reason: head.reason,
      version: `1.${head.versionMinor}`,
      headers,
      trailers: [],
      body: '',
    };
  };
  const parser = new HttpParser(kind, {
    onHead(head) {
      cur = message(head);
      closes = !head.keepAlive;
    },
    onBody(chunk) {
      if (cur !== null) cur.body += chunk.toString('latin1');
    },
    onComplete(trailers) {
      if (cur !== null) messages.push({ ...cur, trailers });
      cur = null;
      // Our server and client read nothing more after a message that ends the connection.
      if (stopAtClose && closes) parser.pause();
    },
    onInformational(head) {
      messages.push(message(head));
    },
  });
  try {
    for (const piece of pieces) if (parser.execute(piece) < piece.length) return { messages, end: 'closed', reason: 'Connection: close' };
    if (finish) parser.finish();
  } catch (err) {
    if (!(err instanceof HttpParseError)) throw err;
    return { messages, end: 'refused', reason: err.code };
  }
  return { messages, end: 'more', reason: '' };
}
