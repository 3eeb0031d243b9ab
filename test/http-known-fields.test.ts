// lib/http/known-fields.ts: field lines the parser accepted are given again
// for the same bytes only. Checked against an oracle written from the
// grammar (RFC 9110 §5.1, §5.5): lines near those already known (one byte
// changed, one byte added or removed, a different case) must be parsed as
// if none were known, and a known line must give what it gave the first time.

import t from 'tap';
import { knownField } from '../lib/http/known-fields.js';
import { bin, run, type Event } from './http-parser-harness.js';

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/** What the parser must make of one field line in a request head: its name and value, or refusal. */
function oracle(line: string): [string, string] | 'refused' {
  const colon = line.indexOf(':');
  if (colon <= 0) return 'refused';
  const name = line.slice(0, colon);
  const value = line
    .slice(colon + 1)
    .replace(/^[ \t]+/, '')
    .replace(/[ \t]+$/, '');
  if (!TOKEN.test(name) || !VALUE.test(value)) return 'refused';
  return [name.toLowerCase(), value];
}

/** What the parser made of the line: the fields after Host, or refusal. */
function parsed(line: string): [string, string] | 'refused' {
  const events: Event[] = run([bin(`GET / HTTP/1.1\r\nHost: a\r\n${line}\r\n\r\n`)]);
  const first = events[0]!;
  if (first.type !== 'head') return 'refused';
  const headers = first.head.headers;
  return [headers[2]!, headers[3]!];
}

// A fixed pseudo-random source (xorshift), so that a failure replays.
let seed = 0x2545f491;
function next(): number {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return seed >>> 0;
}
// Bytes that matter to the grammar, and some that do not.
const BYTES = [0x00, 0x09, 0x0d, 0x20, 0x22, 0x2c, 0x2f, 0x3a, 0x41, 0x5a, 0x61, 0x7a, 0x30, 0x7f, 0x80, 0xff, 0x2d, 0x3b];

t.test('a line near a known one is parsed as if none were known', async (t) => {
  // No framing field among them (Host, Content-Length): a changed one would be refused for its meaning, which the oracle does not know.
  const bases = ['Content-Type: text/xml', 'Origin: 127.0.0.1:8080', 'User-Agent: wrk', 'X-Length: 193', 'X-A: abc', 'accept:\t*/*  '];
  let checked = 0;
  let wrong = 0;
  for (const base of bases) {
    parsed(base); // now known
    t.not(knownField(bin(base), 0, base.length), null, `${JSON.stringify(base)} is known once accepted`);
    for (let k = 0; k < 400; k++) {
      const bytes = [...bin(base)];
      const at = next() % (bytes.length + 1);
      const kind = next() % 3;
      const byte = BYTES[next() % BYTES.length]!;
      if (kind === 0 && at < bytes.length) bytes[at] = byte;
      else if (kind === 1) bytes.splice(at, 0, byte);
      else bytes.splice(Math.min(at, bytes.length - 1), 1);
      const line = Buffer.from(bytes).toString('latin1');
      // CR and LF would end the line early: not one line any more.
      if (line.includes('\r') || line.includes('\n') || line.length === 0) continue;
      // Each line twice: the second time it may be known.
      for (let twice = 0; twice < 2; twice++) {
        checked++;
        if (JSON.stringify(parsed(line)) !== JSON.stringify(oracle(line))) {
          wrong++;
          if (wrong < 8) t.comment(JSON.stringify([line, parsed(line), oracle(line)]));
        }
      }
    }
  }
  t.ok(checked > 3000, `${checked} lines checked`);
  t.equal(wrong, 0, 'none differs from the oracle');
});

t.test('a known line gives the same name and value strings, and framing fields still frame', async (t) => {
  t.same(parsed('Content-Type:   text/xml\t'), ['content-type', 'text/xml']);
  t.same(parsed('Content-Type:   text/xml\t'), ['content-type', 'text/xml'], 'again, known');
  // Content-Length known from an earlier head still sets this head's framing.
  const body = run([bin('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc')]);
  const again = run([bin('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc')]);
  t.same(again, body);
  t.equal(again[0]!.type === 'head' ? again[0]!.head.contentLength : -2, 3);
  // A known line in a trailer section is still refused there when it frames.
  const trailer = run([bin('POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nContent-Length: 3\r\n\r\n')]);
  t.same(trailer[trailer.length - 1], { type: 'error', code: 'HPE_INVALID_CONTENT_LENGTH' });
  // Twice Content-Length with different values: still refused, both lines known.
  const twice = run([bin('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabc')]);
  t.same(twice[twice.length - 1]!.type, 'error');
});

t.test('the field count limit holds for known lines', async (t) => {
  const head = 'GET / HTTP/1.1\r\nHost: a\r\n' + 'X-A: abc\r\n'.repeat(5) + '\r\n';
  t.same(run([bin(head)], { limits: { maxHeaders: 6 } })[0]!.type, 'head');
  t.same(run([bin(head)], { limits: { maxHeaders: 5 } }), [{ type: 'error', code: 'HPE_TOO_MANY_HEADERS' }]);
});

t.test("a client's credentials are never kept in the server-wide tables", async (t) => {
  const secrets = ['Authorization: Basic dXNlcjpwYXNz', 'Cookie: session=0123456789abcdef', 'Proxy-Authorization: Bearer abc.def'];
  const plain = 'Content-Type: text/xml';
  for (let round = 0; round < 2; round++) {
    const events: Event[] = run([bin(`POST /RPC2 HTTP/1.1\r\nHost: a\r\n${secrets.join('\r\n')}\r\n${plain}\r\nContent-Length: 0\r\n\r\n`)]);
    const head = events[0]!;
    if (head.type !== 'head') throw new Error('refused');
    t.same(
      head.head.headers.slice(2, 8),
      ['authorization', 'Basic dXNlcjpwYXNz', 'cookie', 'session=0123456789abcdef', 'proxy-authorization', 'Bearer abc.def'],
      `round ${round}: the values as sent`,
    );
  }
  for (const line of secrets) t.equal(knownField(Buffer.from(line, 'latin1'), 0, line.length), null, `not kept: ${line.split(':')[0]}`);
  t.not(knownField(Buffer.from(plain, 'latin1'), 0, plain.length), null, 'a line that is not a secret is kept');
});
