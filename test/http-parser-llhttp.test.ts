// Our request parser against nodejs/llhttp's request fixtures (llhttp 9.4.2,
// MIT; the files and their licence are in test/fixtures/llhttp/). Each
// fixture's bytes go to our parser whole and a byte at a time, and the
// outcome is compared with llhttp's log: method, target, version, fields,
// body, trailers, where each message ends, and accept or refuse.
//
// We may be stricter than llhttp where RFC 9110/9112 allows a recipient to
// refuse; each such case is listed in STRICTER with the reason. We must never
// accept what llhttp refuses, nor frame a valid request differently: those
// verdicts ('laxer', 'misframed') fail the test unless listed, and none is.

import t from 'tap';
import { isDeepStrictEqual } from 'node:util';
import { type Fixture, type Outcome, llhttpOutcome, ourOutcome, readFixtures, withHost } from './llhttp-fixtures.js';

const FILES = ['sample', 'method', 'uri', 'connection', 'content-length', 'transfer-encoding', 'invalid', 'finish', 'pipelining', 'pausing'];

const LENIENT_FILES = ['lenient-headers', 'lenient-header-value-relaxed', 'lenient-version'];

/** Fixtures we do not compare, by why (the lenient ones are checked on their own, below). */
function skipReason(f: Fixture): string | null {
  if (f.type !== 'request' && f.type !== 'request-finish') return `llhttp lenient mode (${f.type}); we run strict only`;
  if (f.meta.skipBody === true) return 'skipBody is a response-side callback result; a request frames its own body';
  return null;
}

export type Verdict = 'agree' | 'stricter' | 'laxer' | 'misframed';

/**
 * Compare. Messages both completed must be equal; then the ends. llhttp's
 * 'upgrade' and 'closed' ends are decisions above a parser (we do not switch
 * protocols; our server closes after a `Connection: close` message), so they
 * count as "accepted what came before".
 */
export function verdict(theirs: Outcome, ours: Outcome): Verdict {
  const n = Math.min(theirs.messages.length, ours.messages.length);
  for (let i = 0; i < n; i++) if (!isDeepStrictEqual(theirs.messages[i], ours.messages[i])) return 'misframed';
  if (theirs.end === 'refused') {
    if (ours.end !== 'refused' || ours.messages.length > theirs.messages.length) return 'laxer';
    return ours.messages.length === theirs.messages.length ? 'agree' : 'stricter';
  }
  if (ours.end === 'refused') return ours.messages.length >= theirs.messages.length && theirs.end !== 'more' ? 'agree' : 'stricter';
  if (theirs.end === 'more') return ours.messages.length === theirs.messages.length ? 'agree' : 'misframed';
  return ours.messages.length >= theirs.messages.length ? 'agree' : 'misframed';
}

/** How our parser met one fixture. */
export interface Run {
  verdict: Verdict;
  /** What the harness did to get past a refusal that is ours alone: '' or a note. */
  note: string;
  theirs: Outcome;
  ours: Outcome;
}

export function runFixture(f: Fixture, pieces: (b: Buffer) => Buffer[] = (b) => [b]): Run {
  const theirs = llhttpOutcome(f.log);
  const finish = f.type.endsWith('-finish');
  const kind = f.type.startsWith('response') ? 'response' : 'request';
  let note = '';
  let input = f.input;
  let ours = ourOutcome(pieces(input), finish, kind);
  if (ours.end === 'refused' && ours.reason === 'HPE_MISSING_HOST') {
    note = 'Host added';
    input = withHost(input);
    ours = ourOutcome(pieces(input), finish, kind);
  }
  if (theirs.end === 'refused' && ours.end === 'more' && ours.messages.length === theirs.messages.length && !finish) {
    // llhttp refuses a byte as it arrives; we judge a line at its LF. End the lines and ask again.
    note += (note === '' ? '' : ', ') + 'CRLF CRLF appended';
    ours = ourOutcome(pieces(Buffer.concat([input, Buffer.from('\r\n\r\n')])), finish, kind);
  }
  return { verdict: verdict(theirs, ours), note, theirs, ours };
}

// Every fixture on which we do not agree with llhttp, with the RFC's word on it.
const LENGTH_REQUIRED = 'RFC 9110 §15.5.12 lets a server refuse a request without a defined length (411); Medusa does, and an XML-RPC call always has a body';
const ONLY_CHUNKED = 'RFC 9112 §6.1: a server SHOULD answer a transfer coding it does not implement with 501; we implement only chunked';
const NOT_HTTP = 'not HTTP/1.x: RFC 9112 §2.3 and §3 need HTTP-version = "HTTP/" DIGIT "." DIGIT; llhttp also speaks RTSP and ICE, we refuse them (400)';
const DIFFERENT: Record<string, { verdict: Verdict; why: string }> = {
  'sample.md:316: No HTTP version': { verdict: 'stricter', why: 'HTTP/0.9 (no version): RFC 9112 §3 requires the HTTP-version in a request-line' },
  'method.md:137: M-SEARCH request': { verdict: 'stricter', why: 'asterisk-form is only for OPTIONS (RFC 9112 §3.2.4); SSDP is not HTTP' },
  'method.md:374: SOURCE request with ICE': { verdict: 'stricter', why: NOT_HTTP },
  'method.md:404: OPTIONS request with RTSP': { verdict: 'stricter', why: NOT_HTTP },
  'method.md:432: ANNOUNCE request with RTSP': { verdict: 'stricter', why: NOT_HTTP },
  'connection.md:8: Setting flag': { verdict: 'stricter', why: LENGTH_REQUIRED },
  'connection.md:36: Restarting when keep-alive is explicitly': { verdict: 'stricter', why: LENGTH_REQUIRED },
  'connection.md:83: No restart when keep-alive is off (1.0)': { verdict: 'stricter', why: LENGTH_REQUIRED },
  'connection.md:238: Setting flag on `close`': { verdict: 'stricter', why: LENGTH_REQUIRED },
  'connection.md:266: Setting flag on `close` followed by tab': { verdict: 'stricter', why: LENGTH_REQUIRED },
  'connection.md:455: Sample': { verdict: 'stricter', why: LENGTH_REQUIRED },
  'connection.md:681: Setting a flag and pausing': { verdict: 'stricter', why: LENGTH_REQUIRED },
  'transfer-encoding.md:753: POST with `chunked` as last transfer-encoding': { verdict: 'stricter', why: ONLY_CHUNKED },
  'transfer-encoding.md:795: POST with `chunked` as last transfer-encoding (multiple headers)': { verdict: 'stricter', why: ONLY_CHUNKED },
  // Accepting an unknown method is not a framing question: RFC 9110 §9.1 makes a method any token,
  // and the server answers one it does not implement with 501 (lib/server/responses.ts).
  'invalid.md:68: HTTP protocol and ANNOUNCE method': {
    verdict: 'laxer',
    why: 'ANNOUNCE is a token (RFC 9110 §9.1); llhttp keeps a table of methods per protocol; we answer 501',
  },
  'invalid.md:358: Invalid method': { verdict: 'laxer', why: 'MKCOLA is a token (RFC 9110 §9.1); llhttp knows only its table of methods; we answer 501' },
};

const fixtures = FILES.flatMap((f) => readFixtures(new URL(`../../test/fixtures/llhttp/${f}.md`, import.meta.url)));

t.test('llhttp request fixtures', async (t) => {
  const counts = { used: 0, skipped: 0, agree: 0, stricter: 0, laxer: 0, misframed: 0, hostAdded: 0 };
  const report: string[] = [];
  for (const f of fixtures) {
    const skip = skipReason(f);
    if (skip !== null) {
      counts.skipped++;
      report.push(`SKIP ${f.id}: ${skip}`);
      continue;
    }
    counts.used++;
    const r = runFixture(f);
    counts[r.verdict]++;
    if (r.note.startsWith('Host added')) counts.hostAdded++;
    const line = `${r.verdict} ${f.id}${r.note === '' ? '' : ` [${r.note}]`}: llhttp ${r.theirs.end} after ${r.theirs.messages.length} ${r.theirs.reason} | ours ${r.ours.end} after ${r.ours.messages.length} ${r.ours.reason}`;
    report.push(line);
    const want = DIFFERENT[f.id]?.verdict ?? 'agree';
    t.equal(r.verdict, want, line, want === 'agree' && r.verdict === 'misframed' ? { theirs: r.theirs.messages, ours: r.ours.messages } : {});
    // The same outcome fed a byte at a time.
    t.same(runFixture(f, (b) => Array.from(b, (_, i) => b.subarray(i, i + 1))).ours, r.ours, `${f.id}: the same fed a byte at a time`);
  }
  t.same(
    Object.keys(DIFFERENT).filter((id) => !fixtures.some((f) => f.id === id)),
    [],
    'every listed difference names a fixture',
  );
  for (const [id, d] of Object.entries(DIFFERENT)) {
    t.not(d.verdict, 'misframed', `${id}: no request is framed differently`);
    // Laxer only where llhttp refused the method, never the framing or a byte of the head.
    if (d.verdict === 'laxer')
      t.match(fixtures.find((f) => f.id === id)?.log.at(-1), /Invalid method|Expected space after method/, `${id}: laxer only on a method name`);
  }
  if (process.env.LLHTTP_REPORT === '1') t.comment(report.join('\n') + '\n' + JSON.stringify(counts));
});

// What llhttp accepts only with a lenient flag (obs-fold, bare CR or LF, CL with TE, a chunk
// without its CRLF, data after Connection: close...) its strict mode refuses: so must we.
t.test('refuses every request or response llhttp accepts only with a lenient flag', async (t) => {
  const all = [
    ...fixtures,
    ...LENIENT_FILES.flatMap((f) => readFixtures(new URL(`../../test/fixtures/llhttp/${f}.md`, import.meta.url))),
    ...[...RESPONSE_FILES, 'lenient-version'].flatMap((f) => readFixtures(new URL(`../../test/fixtures/llhttp/response/${f}.md`, import.meta.url))),
  ];
  const lenient = all.filter((f) => /^(request|response)-lenient/.test(f.type));
  t.ok(lenient.length >= 36, `${lenient.length} lenient fixtures`);
  for (const f of lenient) {
    const kind = f.type.startsWith('response') ? 'response' : 'request';
    const input = kind === 'request' ? withHost(f.input) : f.input;
    let ours = ourOutcome([input], false, kind, true);
    // A line we judge at its LF: end the lines.
    if (ours.end === 'more') ours = ourOutcome([Buffer.concat([input, Buffer.from('\r\n\r\n')])], false, kind, true);
    // Data after a message that ends the connection is never read (the keep-alive and data-after-close flags).
    const want = /keep-alive|data-after-close/.test(f.type) ? 'closed' : 'refused';
    t.equal(ours.end, want, `${f.id} (${f.type}): ${ours.end} ${ours.reason} after ${ours.messages.length}`);
  }
});

const RESPONSE_FILES = ['sample', 'connection', 'content-length', 'transfer-encoding', 'invalid', 'finish', 'pipelining', 'pausing'];

/** Response fixtures on which we do not agree with llhttp. */
const RESPONSE_DIFFERENT: Record<string, { verdict: Verdict; why: string }> = {
  'sample.md:42: RTSP response': { verdict: 'stricter', why: NOT_HTTP },
  'sample.md:62: ICE response': { verdict: 'stricter', why: NOT_HTTP },
  'sample.md:647: HTTP version 0.9': {
    verdict: 'stricter',
    why: 'HTTP/0.9 has no status line; RFC 9110 §6.2 lets a client refuse a major version it does not speak',
  },
};

t.test('llhttp response fixtures (the client reads responses with the same parser)', async (t) => {
  const responses = RESPONSE_FILES.flatMap((f) => readFixtures(new URL(`../../test/fixtures/llhttp/response/${f}.md`, import.meta.url)));
  const counts = { used: 0, skipped: 0, agree: 0, stricter: 0, laxer: 0, misframed: 0 };
  const report: string[] = [];
  for (const f of responses) {
    if ((f.type !== 'response' && f.type !== 'response-finish') || f.meta.skipBody === true) {
      counts.skipped++;
      continue;
    }
    counts.used++;
    const r = runFixture(f);
    counts[r.verdict]++;
    const line = `${r.verdict} response/${f.id}${r.note === '' ? '' : ` [${r.note}]`}: llhttp ${r.theirs.end} after ${r.theirs.messages.length} ${r.theirs.reason} | ours ${r.ours.end} after ${r.ours.messages.length} ${r.ours.reason}`;
    report.push(line);
    const want = RESPONSE_DIFFERENT[f.id]?.verdict ?? 'agree';
    t.equal(r.verdict, want, line, r.verdict === 'misframed' || r.verdict === 'laxer' ? { theirs: r.theirs.messages, ours: r.ours.messages } : {});
    t.same(runFixture(f, (b) => Array.from(b, (_, i) => b.subarray(i, i + 1))).ours, r.ours, `${f.id}: the same fed a byte at a time`);
  }
  for (const [id, d] of Object.entries(RESPONSE_DIFFERENT)) t.not(d.verdict, 'misframed', `${id}: no response is framed differently`);
  if (process.env.LLHTTP_REPORT === '1') t.comment(report.join('\n') + '\n' + JSON.stringify(counts));
});
