// Responses (RFC 9112 §4, §6.3), as the client reads them: status lines, 1xx,
// bodies that 204, 304 and HEAD do not have, bodies read until close, finish().

import t from 'tap';
import { HttpParser, type MessageHead } from '../lib/http/parser.js';
import type { HttpParseError } from '../lib/errors.js';
import { type Event, type RunOptions, bin, body, complete, everyCut, info, refusesEach, response } from './http-parser-harness.js';
import { REFUSALS } from './http-parser-refusals.js';

t.test('responses give the same events however they are cut', async (t) => {
  // prettier-ignore
  const cases: Array<{ name: string; input: string; events: Event[]; opts?: RunOptions }> = [
    {
      name: 'a status line with a reason and a Content-Length body',
      input: 'HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: 5\r\n\r\nhello',
      events: [response({ headers: ['content-type', 'text/xml', 'content-length', '5'], contentLength: 5 }), body('hello'), complete()],
    },
    {
      name: 'a status line without a reason',
      input: 'HTTP/1.1 200\r\nContent-Length: 0\r\n\r\nHTTP/1.1 201 \r\nContent-Length: 0\r\n\r\n',
      events: [
        response({ reason: '', headers: ['content-length', '0'], contentLength: 0 }),
        complete(),
        response({ status: 201, reason: '', headers: ['content-length', '0'], contentLength: 0 }),
        complete(),
      ],
    },
    {
      name: 'a reason phrase kept as sent, and HTTP/1.0 without keep-alive',
      input: 'HTTP/1.0 500 Internal  Server\tError \xe9\r\nContent-Length: 2\r\n\r\nno',
      events: [
        response({ status: 500, reason: 'Internal  Server\tError \xe9', versionMinor: 0, keepAlive: false, headers: ['content-length', '2'], contentLength: 2 }),
        body('no'),
        complete(),
      ],
    },
    {
      name: '100 Continue then 200',
      input: 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok',
      events: [
        info({ status: 100, reason: 'Continue' }),
        info({ status: 103, reason: 'Early Hints', headers: ['link', '</a>'] }),
        response({ headers: ['content-length', '2'], contentLength: 2 }),
        body('ok'),
        complete(),
      ],
    },
    {
      name: '204 and 304 without a body',
      input:
        'HTTP/1.1 204 No Content\r\n\r\n' +
        'HTTP/1.1 304 Not Modified\r\nContent-Length: 100\r\n\r\n' +
        'HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx',
      events: [
        response({ status: 204, reason: 'No Content' }),
        complete(),
        response({ status: 304, reason: 'Not Modified', headers: ['content-length', '100'], contentLength: 100 }),
        complete(),
        response({ headers: ['content-length', '1'], contentLength: 1 }),
        body('x'),
        complete(),
      ],
    },
    {
      name: 'a response to HEAD (onHead returns true)',
      input:
        'HTTP/1.1 200 OK\r\nContent-Length: 100000000\r\n\r\n' +
        'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n' +
        'HTTP/1.1 200 OK\r\n\r\n',
      events: [
        response({ headers: ['content-length', '100000000'], contentLength: 100000000 }),
        complete(),
        response({ headers: ['transfer-encoding', 'chunked'], chunked: true }),
        complete(),
        response({}), // not read until close: kept alive
        complete(),
      ],
      opts: { noBody: true },
    },
    {
      name: 'a body read until close, completed by finish()',
      input: 'HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\n\r\n<methodResponse/>\r\n',
      events: [response({ headers: ['content-type', 'text/xml'], keepAlive: false }), body('<methodResponse/>\r\n'), complete()],
      opts: { finish: true },
    },
    {
      name: 'a body read until close when the final coding is not chunked',
      input: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n\x1f\x8b',
      events: [response({ headers: ['transfer-encoding', 'gzip'], keepAlive: false }), body('\x1f\x8b'), complete()],
      opts: { finish: true },
    },
    {
      name: 'a chunked response with trailers',
      input: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\nX-T: 1\r\n\r\n',
      events: [response({ headers: ['transfer-encoding', 'chunked'], chunked: true }), body('ok'), complete(['x-t', '1'])],
    },
    {
      // RFC 9112 §6.3 (3): Transfer-Encoding overrides Content-Length. Perl's HTTP::Daemon sends both
      // for RPC::XML::Server's spooled (large) responses; Python's and curl's clients read them chunked.
      // The connection is not reused, so no smuggled bytes can reach a next response.
      name: 'a response with Content-Length and chunked Transfer-Encoding read chunked, not kept alive',
      input: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 99\r\n\r\n2\r\nok\r\n0\r\n\r\n',
      events: [response({ headers: ['transfer-encoding', 'chunked', 'content-length', '99'], chunked: true, keepAlive: false }), body('ok'), complete()],
    },
    {
      name: 'an HTTP/1.0 response with keep-alive',
      input: 'HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n',
      events: [response({ versionMinor: 0, headers: ['connection', 'keep-alive', 'content-length', '0'], contentLength: 0 }), complete()],
    },
    {
      name: 'empty lines before a status line',
      input: '\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n',
      events: [response({ headers: ['content-length', '0'], contentLength: 0 }), complete()],
    },
  ];
  for (const c of cases) {
    t.test(c.name, async (t) => {
      const cuts = everyCut(bin(c.input), { kind: 'response', ...c.opts });
      t.same(cuts.whole, c.events, 'the expected heads, bodies and trailers');
      t.equal(cuts.splitMismatch, null, 'the same events when cut in two at every offset');
      t.same(cuts.bytes, cuts.whole, 'the same events fed one byte at a time');
    });
  }
});

t.test('finish() is a no-op when idle and refuses a partial response', async (t) => {
  const parser = new HttpParser('response', { onHead() {}, onBody() {}, onComplete() {} });
  t.doesNotThrow(() => parser.finish(), 'idle');
  parser.execute(bin('HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx'));
  t.doesNotThrow(() => parser.finish(), 'after a complete response');
  parser.execute(bin('HTTP/1.1 200 OK\r\n'));
  let error: unknown = null;
  try {
    parser.finish();
  } catch (err) {
    error = err;
  }
  t.equal((error as HttpParseError).code, 'HPE_INVALID_EOF');
  t.throws(() => parser.finish(), error as Error, 'finish() keeps failing with the same error');
  t.throws(() => parser.execute(Buffer.alloc(0)), error as Error, 'execute() too');
});

t.test('a response without onInformational skips 1xx', async (t) => {
  const heads: number[] = [];
  const parser = new HttpParser('response', { onHead: (h) => void heads.push(h.status), onBody() {}, onComplete() {} });
  parser.execute(bin('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'));
  t.same(heads, [200]);
});

t.test('101 Switching Protocols ends the message and pausing in onComplete leaves the rest to the caller', async (t) => {
  const input = bin('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x05hello');
  const events: Event[] = [];
  let parser: HttpParser | null = null;
  parser = new HttpParser('response', {
    onHead: (head) => void events.push({ type: 'head', head }),
    onBody: (b) => void events.push(body(b.toString('latin1'))),
    onComplete: () => {
      events.push(complete());
      parser?.pause();
    },
  });
  const used = parser.execute(input);
  t.equal(used, input.length - 7, 'stops right after the head');
  t.same(
    events.map((e) => e.type),
    ['head', 'complete'],
  );
  t.equal((events[0] as { head: MessageHead }).head.status, 101);
});

t.test('refuses each malformed status line or response framing with its own code', async (t) => {
  refusesEach(t, REFUSALS.responses);
});
