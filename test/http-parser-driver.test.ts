// The parser's driver: pipelined messages, zero-copy bodies, idle and inBody,
// pause() and resume(), callbacks that throw, the end of input; and the
// refusal table as a whole, which must name every HttpParseError code.

import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { HttpParser } from '../lib/http/parser.js';
import { HTTP_PARSE_ERROR_STATUS, type HttpParseErrorCode } from '../lib/errors.js';
import { type ValidCase, bin, body, complete, head, refusesEach, sameEventsHoweverCut } from './http-parser-harness.js';
import { REFUSALS } from './http-parser-refusals.js';

// prettier-ignore
const CASES: ValidCase[] = [
  {
    name: 'parses several pipelined requests in one buffer',
    input:
      'GET /1 HTTP/1.1\r\nHost: a\r\n\r\n' +
      'POST /2 HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello' +
      'POST /3 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\nT: 1\r\n\r\n' +
      'DELETE /4 HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n' +
      'GET /5 HTTP/1.0\r\n\r\n',
    events: [
      head({ target: '/1', headers: ['host', 'a'] }),
      complete(),
      head({ method: 'POST', target: '/2', headers: ['host', 'a', 'content-length', '5'], contentLength: 5 }),
      body('hello'),
      complete(),
      head({ method: 'POST', target: '/3', headers: ['host', 'a', 'transfer-encoding', 'chunked'], chunked: true }),
      body('x'),
      complete(['t', '1']),
      head({ method: 'DELETE', target: '/4', headers: ['host', 'a', 'content-length', '0'], contentLength: 0 }),
      complete(),
      head({ target: '/5', versionMinor: 0, keepAlive: false }),
      complete(),
    ],
    single: false,
  },
];

t.test('pipelined requests give the same events however they are cut', async (t) => {
  sameEventsHoweverCut(t, CASES);
});

t.test('body pieces are zero-copy subarrays of the input', async (t) => {
  const input = bin('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello');
  const pieces: Buffer[] = [];
  const parser = new HttpParser('request', { onHead() {}, onBody: (b) => pieces.push(b), onComplete() {} });
  parser.execute(input);
  t.equal(pieces.length, 1);
  t.equal(pieces[0].buffer, input.buffer, 'same ArrayBuffer');
  t.equal(pieces[0].byteOffset, input.byteOffset + input.length - 5, 'points into the input');
});

t.test('idle and inBody follow the message', async (t) => {
  const parser = new HttpParser('request', { onHead() {}, onBody() {}, onComplete() {} });
  t.ok(parser.idle, 'idle before any byte');
  t.notOk(parser.inBody);
  parser.execute(bin('P'));
  t.notOk(parser.idle, 'not idle after one byte');
  parser.execute(bin('OST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\n'));
  t.ok(parser.inBody, 'inBody once the head is complete');
  t.notOk(parser.idle);
  parser.execute(bin('o'));
  t.ok(parser.inBody);
  parser.execute(bin('k'));
  t.ok(parser.idle, 'idle again after the message');
  t.notOk(parser.inBody);
  parser.execute(bin('\r\n'));
  t.notOk(parser.idle, 'an empty line already belongs to the next message');
  t.doesNotThrow(() => parser.finish(), 'finish() after only empty lines is a no-op');
});

t.test('between messages the parser holds none of the last head fields', async (t) => {
  const heads: string[][] = [];
  const parser = new HttpParser('request', { onHead: (h) => void heads.push(h.headers), onBody() {}, onComplete() {} });
  // White-box: what an idle keep-alive connection keeps alive is this parser's state.
  const held = () => (parser as unknown as { headers: string[] }).headers;
  parser.execute(bin('POST /1 HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi'));
  t.ok(parser.idle);
  t.not(held(), heads[0], 'the head handed out is not kept');
  t.equal(held().length, 0, 'no field strings kept');
  parser.execute(bin('GET /2 HTTP/1.1\r\nHost: b\r\n\r\n'));
  t.same(
    heads,
    [
      ['host', 'a', 'content-length', '2'],
      ['host', 'b'],
    ],
    'each head has its own list, untouched by the next',
  );
  t.equal(held().length, 0);
});

t.test('a line cut between two chunks leaves no line buffer once its message is complete', async (t) => {
  const parser = new HttpParser('request', { onHead() {}, onBody() {}, onComplete() {} });
  const lineBuf = () => (parser as unknown as { lineBuf: Buffer }).lineBuf;
  parser.execute(bin('POST / HTTP/1.1\r\nHo'));
  t.ok(lineBuf().length > 0, 'the cut line is held while the head is read');
  parser.execute(bin('st: a\r\nContent-Length: 2\r\n\r\nhi'));
  t.ok(parser.idle);
  t.equal(lineBuf().length, 0, 'an idle parser holds no line buffer');
});

t.test('a message without trailers allocates no trailer list; one with trailers gets its own', async (t) => {
  const got: string[][] = [];
  const parser = new HttpParser('request', { onHead() {}, onBody() {}, onComplete: (trailers) => void got.push(trailers) });
  const chunked = (trailer: string) => bin(`POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n${trailer}\r\n`);
  parser.execute(chunked(''));
  parser.execute(chunked('T: 1\r\n'));
  parser.execute(chunked(''));
  t.same(got, [[], ['t', '1'], []]);
  t.equal(got[0], got[2], 'none: the same shared list');
  t.ok(Object.isFrozen(got[0]), 'which cannot be pushed to');
  t.equal((parser as unknown as { trailers: string[] }).trailers, got[0], 'and the idle parser holds only that');
});

t.test('refuses the end of input inside a message', async (t) => {
  refusesEach(t, REFUSALS.endOfInput);
});

t.test('the refusal table covers every error code', async (t) => {
  const covered = new Set(
    Object.values(REFUSALS)
      .flat()
      .map((row) => row.code),
  );
  const missing = Object.keys(HTTP_PARSE_ERROR_STATUS).filter((code) => !covered.has(code as HttpParseErrorCode));
  t.same(missing, []);
});

t.test('every group of the refusal table is run by one of the behaviour files', async (t) => {
  // The rows live apart from the files that run them; a group no file runs would pass silently.
  const dir = new URL('.', import.meta.url);
  const sources = readdirSync(dir)
    .filter((name) => /^http-parser-.*\.test\.js$/.test(name))
    .map((name) => readFileSync(new URL(name, dir), 'utf8'))
    .join('\n');
  const unrun = Object.keys(REFUSALS).filter((key) => !sources.includes(`refusesEach(t, REFUSALS.${key})`));
  t.same(unrun, []);
});

t.test('pause() in onComplete takes pipelined requests one at a time', async (t) => {
  const messages = [
    'GET /1 HTTP/1.1\r\nHost: a\r\n\r\n',
    'POST /2 HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc',
    'POST /3 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n',
  ];
  const input = bin(messages.join(''));
  const targets: string[] = [];
  let completes = 0;
  const parser: HttpParser = new HttpParser('request', {
    onHead: (head) => void targets.push(head.target),
    onBody() {},
    onComplete: () => {
      completes++;
      parser.pause();
    },
  });
  let rest = input;
  for (const message of messages) {
    const used = parser.execute(rest);
    t.equal(used, message.length, `stops at the end of ${message.split(' ')[1]}`);
    t.ok(parser.idle, 'idle between messages');
    t.equal(parser.execute(rest.subarray(used)), 0, 'consumes nothing while paused');
    rest = rest.subarray(used);
    parser.resume();
  }
  t.equal(rest.length, 0);
  t.equal(parser.execute(rest), 0);
  t.same(targets, ['/1', '/2', '/3']);
  t.equal(completes, 3);
});

t.test('pause() in onHead and onBody stops right after that callback', async (t) => {
  const input = bin('GET /a HTTP/1.1\r\nHost: a\r\n\r\nPOST /b HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\nbodyGET /c HTTP/1.0\r\n\r\n');
  const log: string[] = [];
  const parser: HttpParser = new HttpParser('request', {
    onHead: (head) => {
      log.push(`head ${head.target}`);
      parser.pause();
    },
    onBody: (b) => {
      log.push(`body ${b.toString()}`);
      parser.pause();
    },
    onComplete: () => void log.push('complete'),
  });
  let rest = input;
  const steps: number[] = [];
  while (rest.length > 0 || parser.inBody) {
    const used = parser.execute(rest);
    steps.push(used);
    rest = rest.subarray(used);
    parser.resume();
    if (steps.length > 20) break;
  }
  t.same(log, ['head /a', 'complete', 'head /b', 'body body', 'complete', 'head /c', 'complete']);
  t.same(
    steps,
    ['GET /a HTTP/1.1\r\nHost: a\r\n\r\n'.length, 'POST /b HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\n'.length, 4, 'GET /c HTTP/1.0\r\n\r\n'.length, 0],
    'each execute stops after the pausing callback; an empty chunk delivers the pending completion',
  );
  t.ok(parser.idle);
});

t.test('an exception from a callback propagates and fails the parser', async (t) => {
  const boom = new Error('boom');
  const parser = new HttpParser('request', {
    onHead() {
      throw boom;
    },
    onBody() {},
    onComplete() {},
  });
  t.throws(() => parser.execute(bin('GET / HTTP/1.1\r\nHost: a\r\n\r\n')), boom);
  t.throws(() => parser.execute(bin('GET / HTTP/1.1\r\nHost: a\r\n\r\n')), boom, 'and stays failed');
});

t.test('bytesAfterMessage tells onComplete how many bytes of the chunk follow its message, and is 0 otherwise', async (t) => {
  const one = 'POST /1 HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello';
  const two = 'GET /2 HTTP/1.1\r\nHost: a\r\n\r\n';
  const seen: number[] = [];
  const parser: HttpParser = new HttpParser('request', {
    onHead: () => void seen.push(-parser.bytesAfterMessage - 1),
    onBody: () => undefined,
    onComplete: () => void seen.push(parser.bytesAfterMessage),
  });
  parser.execute(Buffer.from(one + two + 'GET /3', 'latin1'));
  // Each head sees -1 (0 bytes: the count is for onComplete only).
  t.same(seen, [-1, two.length + 6, -1, 6], 'each message is followed by the rest of the chunk, a part of a third message at last');
  seen.length = 0;
  parser.execute(Buffer.from(' HTTP/1.1\r\nHost: a\r\n\r\n', 'latin1'));
  t.same(seen, [-1, 0], 'the last message of a chunk is followed by nothing');
  seen.length = 0;
  parser.execute(Buffer.from(one.slice(0, 40), 'latin1'));
  parser.execute(Buffer.from(one.slice(40) + two, 'latin1'));
  t.same(seen, [-1, two.length, -1, 0], 'a message completed in a later chunk counts what follows in that chunk');
  t.equal(parser.bytesAfterMessage, 0, 'and 0 between calls');
});
