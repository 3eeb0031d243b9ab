// The parser recognises a head that repeats the one before it but for its
// Content-Length (and a response's Date value) (lib/http/head-memo.ts), and
// hands it out without reading it line by line. Differential: a parser that
// has just read a head is fed a second one (the same, its digits or Date
// changed, or mutated at random), and must give exactly what a fresh parser,
// which reads it line by line, gives: the same head, body, completion or
// refusal, and the same head length; for responses also the same interim
// (1xx) heads, and the same outcome when onHead says the response has no body
// (the answer to HEAD).

import t from 'tap';
import { HttpParser, type MessageHead, type ParserLimits } from '../lib/http/parser.js';
import { HttpParseError } from '../lib/errors.js';
import { prng } from './xml-corpus.js';

// prettier-ignore
const HEADS = [
  'POST /RPC2 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nContent-Type: text/xml\r\nUser-Agent: medusa-bench\r\nContent-Length: 7\r\n\r\n',
  'POST /RPC2 HTTP/1.1\r\nHost: a\r\nAccept-Encoding: gzip\r\nContent-Type: text/xml\r\nUser-Agent: Python-xmlrpc/3.11\r\nContent-Length: 12\r\n\r\n',
  'POST /x HTTP/1.1\r\nHost: a\r\nContent-Length:  0042 \t\r\nConnection: keep-alive\r\n\r\n',
  'POST /x?y=1 HTTP/1.1\r\nhost: a\r\nCONTENT-LENGTH:3\r\nAuthorization: Basic dTpw\r\n\r\n',
  'POST /x HTTP/1.0\r\nContent-Length: 5\r\nConnection: keep-alive\r\n\r\n',
  'POST /x HTTP/1.0\r\nContent-Length: 5\r\n\r\n',
  'POST /x HTTP/1.1\r\nHost: a\r\nConnection: close\r\nContent-Length: 2\r\n\r\n',
  'POST /x HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n',
  'GET / HTTP/1.1\r\nHost: a\r\n\r\n',
  'GET /status HTTP/1.0\r\n\r\n',
  'PUT http://a/b HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nX-Empty:\r\n\r\n',
  'POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 4, 4\r\n\r\n',
  'POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n',
  'CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\nContent-Length: 0\r\n\r\n',
];

/** Bytes a mutation writes: those framing turns on, and some that must never pass. */
const INTERESTING = [...Buffer.from('\r\n \t:,0159aZ-'), 0x00, 0x7f, 0xff];

/** What one message gives: its head (and head length) or refusal, then its body and completion; interim (1xx) heads apart. */
interface Outcome {
  head: MessageHead | null;
  headLength: number;
  body: string;
  complete: boolean;
  error: string | null;
  interim?: MessageHead[];
}

/**
 * How the messages are read: requests, responses, responses to HEAD (onHead
 * returns true), or a response to HEAD then responses to other methods (or
 * the reverse: the first head read by the general path, the next recognised).
 */
type Kind = 'request' | 'response' | 'head-response' | 'head-then-response' | 'response-then-head';

/** How the first message of `kind` is read alone; the second alone. */
function firstKind(kind: Kind): Kind {
  return kind === 'head-then-response' ? 'head-response' : kind === 'response-then-head' ? 'response' : kind;
}
function secondKind(kind: Kind): Kind {
  return kind === 'head-then-response' ? 'response' : kind === 'response-then-head' ? 'head-response' : kind;
}

/**
 * The outcome of each message of `pieces` (each piece its own execute()),
 * and how many heads were replayed; `end`: the input ends there (a response
 * read until close completes).
 */
function messages(pieces: Buffer[], limits: Partial<ParserLimits>, kind: Kind = 'request', end = false): { outcomes: Outcome[]; replayed: number } {
  const outcomes: Outcome[] = [];
  let interim: MessageHead[] = [];
  const parser: HttpParser = new HttpParser(
    kind === 'request' ? 'request' : 'response',
    {
      onHead(head) {
        const outcome: Outcome = { head, headLength: parser.headLength, body: '', complete: false, error: null };
        if (interim.length > 0) outcome.interim = interim;
        interim = [];
        outcomes.push(outcome);
        return (outcomes.length === 1 ? firstKind(kind) : secondKind(kind)) === 'head-response';
      },
      onBody(chunk) {
        outcomes[outcomes.length - 1]!.body += chunk.toString('latin1');
      },
      onComplete() {
        outcomes[outcomes.length - 1]!.complete = true;
      },
      onInformational(head) {
        interim.push(head);
      },
    },
    limits,
  );
  try {
    for (const piece of pieces) parser.execute(piece);
    if (end) parser.finish();
  } catch (err) {
    if (!(err instanceof HttpParseError)) throw err;
    const last = outcomes[outcomes.length - 1];
    if (last !== undefined && !last.complete) last.error = err.code;
    else outcomes.push({ head: null, headLength: 0, body: '', complete: false, error: err.code });
  }
  return { outcomes, replayed: parser.headsReplayed };
}

/** A request with `head` and a body of its Content-Length (or none). */
function request(head: string, bodyLength = contentLength(head)): Buffer {
  return Buffer.from(head + 'b'.repeat(Math.max(0, Math.min(bodyLength, 64))), 'latin1');
}

function contentLength(head: string): number {
  const m = /content-length:[ \t]*(\d+)/i.exec(head);
  return m === null ? 0 : Number(m[1]);
}

function withLength(head: string, digits: string): string {
  return head.replace(/(content-length:[ \t]*)[0-9]+/i, (_, name: string) => name + digits);
}

function mutate(input: Buffer, r: () => number): Buffer {
  const bytes = [...input];
  const edits = 1 + Math.floor(r() * 2);
  for (let e = 0; e < edits; e++) {
    const at = Math.floor(r() * bytes.length);
    switch (Math.floor(r() * 4)) {
      case 0:
        bytes[at] = INTERESTING[Math.floor(r() * INTERESTING.length)]!;
        break;
      case 1:
        bytes.splice(at, 0, INTERESTING[Math.floor(r() * INTERESTING.length)]!);
        break;
      case 2:
        bytes.splice(at, 1);
        break;
      default:
        bytes[at] = (bytes[at]! ^ 0x20) & 0xff;
    }
  }
  return Buffer.from(bytes);
}

/** The second message read after the first by one parser, and alone by a fresh one: the same outcome. */
function compare(
  first: Buffer,
  second: Buffer,
  limits: Partial<ParserLimits>,
  together: boolean,
  kind: Kind = 'request',
): { same: boolean; detail: string; replayed: number } {
  const firstAlone = messages([first], limits, firstKind(kind)).outcomes;
  // If the first message fails or does not complete, the second is never read: nothing to compare.
  if (firstAlone.length !== 1 || firstAlone[0]!.error !== null || !firstAlone[0]!.complete) return { same: true, detail: '', replayed: 0 };
  const end = kind !== 'request';
  const alone = JSON.stringify(messages([second], limits, secondKind(kind), end).outcomes);
  const after = messages(together ? [Buffer.concat([first, second])] : [first, second], limits, kind, end);
  const got = JSON.stringify(after.outcomes.slice(1));
  const same = got === alone;
  return { same, detail: same ? '' : `${JSON.stringify(second.toString('latin1'))}: ${got} vs ${alone}`, replayed: after.replayed };
}

const LIMITS: Partial<ParserLimits>[] = [{}, { maxBodyBytes: 99 }, { maxHeaderBytes: 140 }, { maxHeaders: 4 }];

t.test('a repeated head with any Content-Length gives what reading it line by line gives', async (t) => {
  const digits = ['0', '1', '7', '99', '100', '0099', '123456789012345', '1234567890123456', '', 'x', '1x', '+1', '-1', '1 1', '1,1', '99999999'];
  const mismatches: string[] = [];
  let replayed = 0;
  for (const head of HEADS) {
    for (const d of digits) {
      // The first head just fits: more digits in the second put it over the limit.
      for (const limits of [...LIMITS, { maxHeaderBytes: head.length + 1 }]) {
        for (const together of [false, true]) {
          const c = compare(request(head), request(withLength(head, d)), limits, together);
          if (!c.same) mismatches.push(c.detail);
          replayed += c.replayed;
        }
      }
    }
  }
  t.same(mismatches.slice(0, 5), [], 'no difference');
  t.ok(replayed > 500, `the second head was recognised, not read line by line (${replayed} times)`);
});

t.test('a head that differs anywhere else gives what reading it line by line gives', async (t) => {
  const r = prng(0x4ead);
  const mismatches: string[] = [];
  let replayed = 0;
  for (let i = 0; i < 6000; i++) {
    const head = HEADS[i % HEADS.length]!;
    const first = request(head);
    const second = mutate(request(withLength(head, String(Math.floor(r() * 200)))), r);
    const c = compare(first, second, LIMITS[i % LIMITS.length]!, i % 2 === 0);
    if (!c.same) mismatches.push(c.detail);
    replayed += c.replayed;
  }
  t.same(mismatches.slice(0, 5), [], 'no difference');
  t.ok(replayed > 100, `mutations that leave the head as it was are recognised (${replayed} times)`);
});

t.test('a head cut across reads, or after empty lines, is read line by line and gives the same', async (t) => {
  const head = HEADS[0]!;
  const first = request(head);
  const second = request(withLength(head, '5'));
  const alone = messages([second], {}).outcomes;
  let differs: string | null = null;
  for (let cut = 1; cut < second.length && differs === null; cut++) {
    const got = messages([first, second.subarray(0, cut), second.subarray(cut)], {});
    // Whole in the first piece, it is recognised; cut, it is read line by line.
    const whole = cut >= alone[0]!.headLength ? 1 : 0;
    if (JSON.stringify(got.outcomes.slice(1)) !== JSON.stringify(alone) || got.replayed !== whole) differs = `cut at ${cut}`;
  }
  t.equal(differs, null, 'the same outcome however the second head is cut; replayed only when whole');
  const leading = Buffer.concat([Buffer.from('\r\n'), second]);
  const got = messages([first, leading], {});
  t.same(got.outcomes.slice(1), [{ ...alone[0]!, headLength: alone[0]!.headLength + 2 }], 'an empty line first: read line by line');
  t.equal(got.replayed, 0);
});

t.test('a connection whose heads keep changing stops being remembered', async (t) => {
  const pieces = Array.from({ length: 20 }, (_, i) => request(`POST /x HTTP/1.1\r\nHost: a\r\nX-Id: ${i}\r\nContent-Length: 1\r\n\r\n`));
  pieces.push(request(HEADS[0]!), request(HEADS[0]!));
  t.equal(messages(pieces, {}).replayed, 0);
  t.equal(messages([request(HEADS[0]!), request(HEADS[0]!), request(HEADS[0]!)], {}).replayed, 2);
});

// prettier-ignore
const RESPONSES = [
  'HTTP/1.1 200 OK\r\nDate: Sat, 05 Dec 2026 07:14:42 GMT\r\nContent-Type: text/xml\r\nContent-Length: 113\r\n\r\n',
  'HTTP/1.1 200 OK\r\nServer: nginx\r\nDate: Sat, 05 Dec 2026 07:14:42 GMT\r\nContent-Type: text/xml\r\nContent-Length: 7\r\nConnection: keep-alive\r\n\r\n',
  'HTTP/1.1 200 OK\r\nDate:  Sat, 05 Dec 2026 07:14:42 GMT \t\r\nContent-Length:  0042 \t\r\nConnection: close\r\n\r\n',
  'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nDate: Sat, 05 Dec 2026 07:14:42 GMT\r\n\r\n',
  'HTTP/1.1 200 OK\r\nDate: Sat, 05 Dec 2026 07:14:42 GMT\r\nDate: Sat, 05 Dec 2026 07:14:42 GMT\r\nContent-Length: 3\r\n\r\n',
  'HTTP/1.1 200 OK\r\ndate:x\r\nContent-Length: 5\r\n\r\n',
  'HTTP/1.1 200 OK\r\nDate:\r\nContent-Length: 5\r\n\r\n',
  'HTTP/1.1 200 \r\nContent-Length: 2\r\n\r\n',
  'HTTP/1.0 200 OK\r\nDate: Sat, 05 Dec 2026 07:14:42 GMT\r\nContent-Length: 5\r\n\r\n',
  'HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 5\r\n\r\n',
  'HTTP/1.1 204 No Content\r\nDate: Sat, 05 Dec 2026 07:14:42 GMT\r\n\r\n',
  'HTTP/1.1 304 Not Modified\r\nDate: Sat, 05 Dec 2026 07:14:42 GMT\r\nContent-Length: 10\r\n\r\n',
  'HTTP/1.1 404 Not Found\r\nDate: Sat, 05 Dec 2026 07:14:42 GMT\r\nContent-Length: 0\r\n\r\n',
  'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nDate: Sat, 05 Dec 2026 07:14:42 GMT\r\nContent-Length: 4\r\n\r\n',
  'HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nContent-Length: 0\r\n\r\n',
  'HTTP/1.1 200 OK\r\nDate: Sat, 05 Dec 2026 07:14:42 GMT\r\nContent-Length: 4, 4\r\n\r\n',
  'HTTP/1.1 200 OK\r\nDate: Sat, 05 Dec 2026 07:14:42 GMT\r\nTransfer-Encoding: chunked\r\n\r\n',
  'HTTP/1.1 200 OK\r\nDate: Sat, 05 Dec 2026 07:14:42 GMT\r\n\r\n',
];

/** Date values: another second, then values of the same length that are not plain (OWS at an end, bytes a value may not hold) or not one line, and other lengths. */
// prettier-ignore
const DATES = [
  'Sat, 05 Dec 2026 07:14:42 GMT', 'Sat, 05 Dec 2026 07:14:43 GMT', 'Sun, 06 Dec 2026 00:00:00 GMT', 'Sat,\t05 Dec\xff2026 07:14:43 GMT',
  ' at, 05 Dec 2026 07:14:43 GMT', '\tat, 05 Dec 2026 07:14:43 GMT', 'Sat, 05 Dec 2026 07:14:43 GM ', 'Sat, 05 Dec 2026 07:14:43 GM\t',
  'Sat, 05 Dec 2026\x0007:14:43 GMT', 'Sat, 05 Dec 2026 07:14:43 GM\x7f', 'Sat, 05 Dec 2026\r07:14:43 GMT', 'Sat, 05 Dec 2026\n07:14:43 GMT',
  'Sat, 05 Dec 2026 07:14:43 GM\r', 'Sat, 05 Dec\r\nX: 07:14:43 GMT', 'Sat, 05 Dec 2026 07:14:4 GMT', 'Sat, 05 Dec 2026 07:14:433 GMT', 'x',
];

/** `head` with the value of its first Date field made `date` (OWS kept). */
function withDate(head: string, date: string): string {
  return head.replace(/(\r\ndate:[ \t]*)[^\r]*?([ \t]*\r\n)/i, (_, before: string, after: string) => before + date + after);
}

/** A response with `head` and a body of its Content-Length (none for 1xx, 204, 304, or an answer to HEAD: `kind` 'head-response'). */
function response(head: string, kind: Kind): Buffer {
  const statuses = [...head.matchAll(/HTTP\/1\.\d (\d+)/g)];
  const status = statuses.length === 0 ? 200 : Number(statuses[statuses.length - 1]![1]);
  const noBody = kind === 'head-response' || status < 200 || status === 204 || status === 304;
  return request(head, noBody ? 0 : contentLength(head));
}

const RESPONSE_KINDS: Kind[] = ['response', 'head-response', 'head-then-response', 'response-then-head'];

t.test('a repeated response head with any Content-Length gives what reading it line by line gives', async (t) => {
  const digits = ['0', '4', '7', '99', '100', '0099', '123456789012345', '1234567890123456', '', 'x', '1x', '-1', '1 1', '1,1', '99999999'];
  const mismatches: string[] = [];
  let replayed = 0;
  for (const head of RESPONSES) {
    for (const d of digits) {
      const next = withDate(withLength(head, d), DATES[1]!);
      for (const limits of [...LIMITS, { maxHeaderBytes: head.length + 1 }]) {
        for (const kind of RESPONSE_KINDS) {
          for (const together of [false, true]) {
            const c = compare(response(head, firstKind(kind)), response(next, secondKind(kind)), limits, together, kind);
            if (!c.same) mismatches.push(c.detail);
            replayed += c.replayed;
          }
        }
      }
    }
  }
  t.same(mismatches.slice(0, 5), [], 'no difference');
  t.ok(replayed > 1000, `the second head was recognised, not read line by line (${replayed} times)`);
});

t.test('a response head whose Date value changes gives what reading it line by line gives', async (t) => {
  const mismatches: string[] = [];
  let replayed = 0;
  for (const head of RESPONSES) {
    for (const date of DATES) {
      for (const limits of LIMITS) {
        for (const kind of RESPONSE_KINDS) {
          for (const together of [false, true]) {
            // Twice: the new Date becomes the one compared with.
            const second = response(withDate(withLength(head, '7'), date), secondKind(kind));
            const c = compare(response(head, firstKind(kind)), Buffer.concat([second, second]), limits, together, kind);
            if (!c.same) mismatches.push(c.detail);
            replayed += c.replayed;
          }
        }
      }
    }
  }
  t.same(mismatches.slice(0, 5), [], 'no difference');
  t.ok(replayed > 300, `heads with another Date were recognised (${replayed} times)`);
});

t.test('a response head that differs anywhere else gives what reading it line by line gives', async (t) => {
  const r = prng(0x7e5b);
  const mismatches: string[] = [];
  let replayed = 0;
  for (let i = 0; i < 8000; i++) {
    const head = RESPONSES[i % RESPONSES.length]!;
    const kind = RESPONSE_KINDS[(i >> 1) % RESPONSE_KINDS.length]!;
    const first = response(head, firstKind(kind));
    const second = mutate(response(withDate(withLength(head, String(Math.floor(r() * 200))), DATES[i % 3]!), secondKind(kind)), r);
    const c = compare(first, second, LIMITS[i % LIMITS.length]!, i % 2 === 0, kind);
    if (!c.same) mismatches.push(c.detail);
    replayed += c.replayed;
  }
  t.same(mismatches.slice(0, 5), [], 'no difference');
  t.ok(replayed > 100, `mutations that leave the head as it was are recognised (${replayed} times)`);
});

t.test('responses are recognised too, but not an interim (1xx) one', async (t) => {
  const heads: MessageHead[] = [];
  const parser = new HttpParser('response', { onHead: (h) => void heads.push(h), onBody() {}, onComplete() {} });
  const res = Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok', 'latin1');
  parser.execute(Buffer.concat([res, res, res]));
  t.equal(heads.length, 3);
  t.equal(parser.headsReplayed, 2);
  t.same(heads[2], heads[0]);
  const interim = Buffer.from('HTTP/1.1 100 Continue\r\n\r\n', 'latin1');
  const informational: MessageHead[] = [];
  const second = new HttpParser('response', { onHead() {}, onBody() {}, onComplete() {}, onInformational: (h) => void informational.push(h) });
  second.execute(Buffer.concat([interim, interim, res]));
  t.equal(informational.length, 2);
  t.equal(second.headsReplayed, 0);
});
