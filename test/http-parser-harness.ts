// The HTTP parser's test harness: parsers fed bytes directly (no socket),
// the event log they produce, and the three checks every behaviour file
// runs: valid messages give the same events whole, cut in two at every
// offset and a byte at a time; every strict prefix of one message is "need
// more"; each forbidden input is refused with its own code, however cut.

import type { Test } from 'tap';
import { isDeepStrictEqual } from 'node:util';
import { HttpParser, type MessageHead, type ParserLimits } from '../lib/http/parser.js';
import { HttpParseError } from '../lib/errors.js';
import type { Row } from './http-parser-refusals.js';

export type Event =
  | { type: 'head'; head: MessageHead }
  | { type: 'info'; head: MessageHead }
  | { type: 'body'; data: string }
  | { type: 'complete'; trailers: string[] }
  | { type: 'error'; code: string };

export interface RunOptions {
  kind?: 'request' | 'response';
  limits?: Partial<ParserLimits>;
  /** onHead returns true (a response to HEAD). */
  noBody?: boolean;
  /** Call finish() after the last chunk. */
  finish?: boolean;
}

export function newParser(events: Event[], opts: RunOptions): HttpParser {
  return new HttpParser(
    opts.kind ?? 'request',
    {
      onHead(head) {
        events.push({ type: 'head', head });
        return opts.noBody === true;
      },
      onBody(chunk) {
        // Adjacent body pieces are merged: how the body is cut is not an event.
        const last = events[events.length - 1];
        if (last !== undefined && last.type === 'body') last.data += chunk.toString('latin1');
        else events.push({ type: 'body', data: chunk.toString('latin1') });
      },
      onComplete(trailers) {
        events.push({ type: 'complete', trailers });
      },
      onInformational(head) {
        events.push({ type: 'info', head });
      },
    },
    opts.limits,
  );
}

/** Feed the pieces in order; the normalized event log, ending with {type: 'error'} on a refusal. */
export function run(pieces: Buffer[], opts: RunOptions = {}): Event[] {
  const events: Event[] = [];
  const parser = newParser(events, opts);
  try {
    for (const piece of pieces) {
      const used = parser.execute(piece);
      if (used !== piece.length) throw new Error(`execute consumed ${used} of ${piece.length} bytes`);
    }
    if (opts.finish === true) parser.finish();
  } catch (err) {
    if (!(err instanceof HttpParseError)) throw err;
    events.push({ type: 'error', code: err.code });
  }
  return events;
}

export const bin = (s: string): Buffer => Buffer.from(s, 'latin1');

export function bytesOf(input: Buffer): Buffer[] {
  const pieces: Buffer[] = [];
  for (let i = 0; i < input.length; i++) pieces.push(input.subarray(i, i + 1));
  return pieces;
}

export interface Cuts {
  /** The events of the input fed whole. */
  whole: Event[];
  /** The first cut in two (empty pieces included) whose events differ, or null. */
  splitMismatch: string | null;
  /** The events of the input fed one byte at a time. */
  bytes: Event[];
}

export function everyCut(input: Buffer, opts: RunOptions = {}): Cuts {
  const whole = run([input], opts);
  let splitMismatch: string | null = null;
  for (let i = 0; i <= input.length && splitMismatch === null; i++) {
    const got = run([input.subarray(0, i), input.subarray(i)], opts);
    if (!isDeepStrictEqual(got, whole)) splitMismatch = `cut at ${i}: ${JSON.stringify(got)}`;
  }
  return { whole, splitMismatch, bytes: run(bytesOf(input), opts) };
}

export const REQUEST_HEAD: MessageHead = {
  method: 'GET',
  target: '/',
  status: 0,
  reason: '',
  versionMinor: 1,
  headers: [],
  contentLength: -1,
  chunked: false,
  keepAlive: true,
  expectContinue: false,
};

export const RESPONSE_HEAD: MessageHead = { ...REQUEST_HEAD, method: '', target: '', status: 200, reason: 'OK' };

export const head = (fields: Partial<MessageHead>): Event => ({ type: 'head', head: { ...REQUEST_HEAD, ...fields } });
export const response = (fields: Partial<MessageHead>): Event => ({ type: 'head', head: { ...RESPONSE_HEAD, ...fields } });
export const info = (fields: Partial<MessageHead>): Event => ({ type: 'info', head: { ...RESPONSE_HEAD, ...fields } });
export const body = (data: string): Event => ({ type: 'body', data });
export const complete = (trailers: string[] = []): Event => ({ type: 'complete', trailers });

/** Feed the pieces; the error thrown (checking the parser then stays failed with it), or null. */
export function refusal(pieces: Buffer[], opts: RunOptions = {}): HttpParseError | null {
  const parser = newParser([], opts);
  try {
    for (const piece of pieces) parser.execute(piece);
    if (opts.finish === true) parser.finish();
  } catch (err) {
    if (!(err instanceof HttpParseError)) throw err;
    let again: unknown = null;
    try {
      parser.execute(bin('GET / HTTP/1.1\r\n'));
    } catch (later) {
      again = later;
    }
    if (again !== err) throw new Error('a failed parser accepted more input or threw another error', { cause: err });
    return err;
  }
  return null;
}

export interface ValidCase {
  name: string;
  input: string;
  events: Event[];
  /** One message only: every strict prefix must be "need more". */
  single: boolean;
  opts?: RunOptions;
}

/** One subtest per case: the expected events whole, and the same events however the input is cut. */
export function sameEventsHoweverCut(t: Test, cases: readonly ValidCase[], opts: RunOptions = {}): void {
  for (const c of cases) {
    t.test(c.name, async (t) => {
      const cuts = everyCut(bin(c.input), { ...opts, ...c.opts });
      t.same(cuts.whole, c.events, 'the expected heads, bodies and trailers');
      t.equal(cuts.splitMismatch, null, 'the same events when cut in two at every offset');
      t.same(cuts.bytes, cuts.whole, 'the same events fed one byte at a time');
    });
  }
}

/** One assertion per single-message request case: no strict prefix completes or fails. */
export function prefixesNeedMore(t: Test, cases: readonly ValidCase[]): void {
  for (const c of cases.filter((c) => c.single)) {
    const input = bin(c.input);
    let bad: string | null = null;
    for (let i = 0; i < input.length && bad === null; i++) {
      const events = run([input.subarray(0, i)]);
      if (events.some((e) => e.type === 'error' || e.type === 'complete')) bad = `prefix ${i}: ${JSON.stringify(events)}`;
    }
    t.equal(bad, null, c.name);
  }
}

/** Each row refused with its code and status, whole, a byte at a time, and cut in two anywhere. */
export function refusesEach(t: Test, rows: readonly Row[]): void {
  for (const row of rows) {
    const input = bin(row.input);
    const opts = row.opts ?? {};
    const whole = refusal([input], opts);
    t.equal(whole?.code, row.code, `${row.name}: ${row.code}`);
    t.equal(whole?.status, row.status, `${row.name}: status ${row.status}`);
    t.equal(refusal(bytesOf(input), opts)?.code, row.code, `${row.name}: the same fed one byte at a time`);
    if (input.length < 2048) {
      let other: string | null = null;
      for (let i = 0; i <= input.length && other === null; i++) {
        const code = refusal([input.subarray(0, i), input.subarray(i)], opts)?.code;
        if (code !== row.code) other = `cut at ${i}: ${code}`;
      }
      t.equal(other, null, `${row.name}: the same cut in two anywhere`);
    }
  }
}
