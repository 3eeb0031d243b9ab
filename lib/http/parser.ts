// An incremental HTTP/1.1 message parser (RFC 9112, strict), for requests
// (the server) and responses (the client). It is a pure function of the bytes
// it is fed: no sockets, no timers, no XML-RPC.
//
// Shape (after picohttpparser and ws's receiver): numbered states, a driver
// loop that stops when it needs bytes, and one method per kind of line.
// The head is read line by line: each LF is found with Buffer#indexOf and the
// completed line is validated once, with 256-entry lookup tables, straight
// from the caller's chunk. Only a line cut by a chunk boundary is copied, into
// one small buffer bounded by the limits, so a head arriving a byte at a time
// is never rescanned (the slowloris guard) and memory stays bounded for any
// input. Bodies leave as zero-copy subarrays of the input and are never
// buffered here. One exception to "a line is validated once complete": a
// request's method is checked as it arrives, so that a peer not speaking HTTP
// at all is refused before it sends an LF, not at the head timeout.
//
// This module holds the states, the driver and the line reader. What the
// bytes mean lives beside it: start-line.ts (request and status lines, target
// forms), field-line.ts (the field line grammar), framing.ts (the fields that
// frame a message and decide keep-alive), chunked.ts (the chunk-size line and
// the CRLF after chunk data); parse-fail.ts is how all of them refuse input.
// message-head.ts holds what the parser hands out (the head) and its limits.

import { Buffer } from 'node:buffer';
import { CR, LF } from './chars.js';
import { fail } from './parse-fail.js';
import { type StartLine, methodPrefix, parseRequestLine, parseStatusLine, resetStartLine } from './start-line.js';
import { chunkDataCR, chunkDataLF, parseChunkSize } from './chunked.js';
import { Framing, trailerField } from './framing.js';
import { knownField } from './known-fields.js';
import { newField } from './field-line.js';
import { HeadMemo } from './head-memo.js';
import { type MessageHead, type ParserCallbacks, type ParserLimits, positiveLimit } from './message-head.js';

export { type MessageHead, type ParserCallbacks, type ParserLimits, DEFAULT_PARSER_LIMITS } from './message-head.js';

// States. A state that needs no byte (S_DONE) runs even on an empty chunk.
const S_HEAD = 0; // start line and header fields, line by line
const S_BODY_LENGTH = 1; // Content-Length body: `remaining` bytes
const S_BODY_EOF = 2; // response body delimited by the end of input
const S_CHUNK_SIZE = 3; // chunk-size line
const S_CHUNK_DATA = 4; // chunk data: `remaining` bytes
const S_CHUNK_CR = 5; // CR after chunk data
const S_CHUNK_LF = 6; // LF after chunk data
const S_TRAILERS = 7; // trailer fields after the last chunk
const S_DONE = 8; // message received; onComplete not yet called
const S_FAILED = 9;

/** An assembled line buffer larger than this is dropped after use; any is dropped when the message ends (idle connections hold none). */
const LINE_BUF_KEEP = 4096;
const EMPTY = Buffer.alloc(0);
/**
 * The field list between messages, and the trailers of a message that has
 * none: shared, so frozen (a request line gives each head its own list, the
 * first trailer field its own).
 */
const NO_FIELDS = Object.freeze([]) as unknown as string[];

export class HttpParser {
  private readonly isRequest: boolean;
  private readonly callbacks: ParserCallbacks;
  private readonly maxRequestLineBytes: number;
  private readonly maxHeaderBytes: number;
  private readonly maxHeaders: number;
  private readonly maxBodyBytes: number;
  private readonly maxChunkLineBytes: number;

  private state = S_HEAD;
  private paused = false;
  private error: unknown = null;
  private scanned = 0;

  // A line cut by the end of a chunk: its bytes so far.
  private lineBuf: Buffer = EMPTY;
  private lineLen = 0;

  // The head being read.
  private headBytes = 0; // bytes of the head's complete lines so far
  private startSeen = false;
  private methodSeen = false; // the request line's method and its SP have arrived
  private readonly start: StartLine = { method: '', target: '', status: 0, reason: '', versionMinor: 1 };
  private headers: string[] = NO_FIELDS;
  private fieldCount = 0;
  private readonly framing = new Framing();

  // The body being read.
  private remaining = 0;
  private bodyBytes = 0;
  private trailerBytes = 0;
  private trailers: string[] = NO_FIELDS;
  private unparsed = 0;

  // The last head, to recognise the next one (head-memo.ts).
  private readonly memo = new HeadMemo();
  /** execute() calls so far: a head is remembered only if it came whole in one. */
  private executions = 0;
  /** Where the head being read began, and in which buffer and execute() call: a head read from one chunk can be remembered. */
  private headChunk: Buffer | null = null;
  private headStart = 0;
  private headExecution = -1;
  private replayed = 0;

  constructor(kind: 'request' | 'response', callbacks: ParserCallbacks, limits?: Partial<ParserLimits>) {
    if (kind !== 'request' && kind !== 'response') throw new TypeError("kind must be 'request' or 'response'");
    this.isRequest = kind === 'request';
    this.callbacks = callbacks;
    this.maxRequestLineBytes = positiveLimit(limits, 'maxRequestLineBytes');
    this.maxHeaderBytes = positiveLimit(limits, 'maxHeaderBytes');
    this.maxHeaders = positiveLimit(limits, 'maxHeaders');
    this.maxBodyBytes = positiveLimit(limits, 'maxBodyBytes');
    this.maxChunkLineBytes = positiveLimit(limits, 'maxChunkLineBytes');
  }

  /** True between messages with no byte of the next one received. */
  get idle(): boolean {
    return this.state === S_HEAD && this.headBytes === 0 && this.lineLen === 0;
  }

  /** True once the head of the current message is complete (its body may still be arriving). */
  get inBody(): boolean {
    return this.state !== S_HEAD && this.state !== S_FAILED;
  }

  /**
   * The bytes of head, chunk-size and trailer lines this parser has looked
   * at or copied since it was made, added up once per scan (not per byte).
   * A work counter for tests: it grows linearly with the input however the
   * input is cut, which is the guard against rescanning (slowloris).
   */
  get bytesScanned(): number {
    return this.scanned;
  }

  /**
   * In onComplete: bytes of the chunk being executed that follow the message
   * (the start of pipelined requests); 0 otherwise.
   */
  get bytesAfterMessage(): number {
    return this.unparsed;
  }

  /** Heads recognised as the one before but for its Content-Length and Date (head-memo.ts), not read line by line: a work counter for tests. */
  get headsReplayed(): number {
    return this.replayed;
  }

  /** Bytes of the current message's head read so far (the whole head once onHead has been called). */
  get headLength(): number {
    return this.headBytes;
  }

  /** The request line of the current message once read, even after an error later in its head; null before. */
  get requestLine(): { readonly method: string; readonly target: string; readonly versionMinor: number } | null {
    return this.startSeen ? this.start : null;
  }

  /** Stop execute() right after the callback that calls this. */
  pause(): void {
    this.paused = true;
  }

  /** Clear the pause. The caller then feeds the unconsumed bytes again (an empty chunk delivers pending events). */
  resume(): void {
    this.paused = false;
  }

  /**
   * Feed bytes. Returns the bytes consumed: chunk.length unless a callback
   * called pause(), in which case it stops right after that callback (0 if
   * already paused). Throws HttpParseError on bad input; after any error the
   * parser stays failed and every later call throws the same error. An
   * exception thrown by a callback propagates and fails the parser likewise.
   */
  execute(chunk: Buffer): number {
    if (this.state === S_FAILED) throw this.error;
    if (this.paused) return 0;
    this.executions++;
    try {
      return this.run(chunk);
    } catch (err) {
      this.die(err);
      throw err;
    }
  }

  /**
   * End of input. Completes a response read until close; throws
   * HPE_INVALID_EOF if a message is partly received. No-op when idle.
   */
  finish(): void {
    if (this.state === S_FAILED) throw this.error;
    try {
      switch (this.state) {
        case S_HEAD:
          // Nothing, or only empty lines, received of a next message.
          if (!this.startSeen && this.lineLen === 0) return;
          break;
        case S_BODY_EOF:
        case S_DONE:
          this.complete();
          return;
      }
      fail('HPE_INVALID_EOF', 'input ended inside a message');
    } catch (err) {
      this.die(err);
      throw err;
    }
  }

  private die(err: unknown): void {
    this.state = S_FAILED;
    this.error = err;
    this.lineBuf = EMPTY;
    this.lineLen = 0;
    this.headers = NO_FIELDS;
    this.trailers = NO_FIELDS;
  }

  // ---- driver ----

  private run(chunk: Buffer): number {
    const len = chunk.length;
    let pos = 0;
    for (;;) {
      switch (this.state) {
        case S_HEAD:
        case S_CHUNK_SIZE:
        case S_TRAILERS: {
          if (pos >= len) return len;
          if (this.headBytes === 0 && this.lineLen === 0 && this.state === S_HEAD && this.memo.armed) {
            const n = this.memo.match(chunk, pos, len, this.maxHeaderBytes, this.maxBodyBytes);
            if (n > 0) {
              pos += n;
              this.replay(chunk, n);
              if (this.paused) return pos;
              break;
            }
          }
          const lf = this.findLF(chunk, pos, len);
          const lineEnd = lf === -1 ? len : lf;
          if (!this.methodSeen && this.isRequest && this.state === S_HEAD && !this.startSeen) {
            // Within the line's limit, so that the verdict is the same however the input is cut.
            const to = Math.min(lineEnd, pos + Math.max(0, this.lineLimit() - this.lineLen));
            const pendingCR = this.lineLen > 0 && this.lineBuf[this.lineLen - 1] === CR;
            const sp = methodPrefix(chunk, pos, to, this.lineLen, pendingCR);
            this.scanned += (sp === -1 ? to : sp + 1) - pos;
            if (sp !== -1) this.methodSeen = true;
          }
          if (lf === -1) {
            // An unfinished line: fail as soon as it cannot fit, else keep it.
            if (this.lineLen + (len - pos) >= this.lineLimit()) this.lineTooLong();
            this.appendLine(chunk, pos, len);
            return len;
          }
          if (this.lineLen === 0) {
            if (lf - pos >= this.lineLimit()) this.lineTooLong();
            const start = pos;
            pos = lf + 1;
            this.line(chunk, start, lf);
          } else {
            const lineLength = this.lineLen + (lf - pos);
            if (lineLength >= this.lineLimit()) this.lineTooLong();
            this.appendLine(chunk, pos, lf);
            this.lineLen = 0;
            pos = lf + 1;
            const buf = this.lineBuf;
            if (buf.length > LINE_BUF_KEEP) this.lineBuf = EMPTY;
            this.line(buf, 0, lineLength);
            // A head not whole in one chunk is not remembered (head-memo.ts).
            this.headChunk = null;
          }
          if (this.paused) return pos;
          break;
        }

        case S_BODY_LENGTH:
        case S_CHUNK_DATA: {
          if (pos >= len) return len;
          const n = Math.min(this.remaining, len - pos);
          this.remaining -= n;
          if (this.remaining === 0) this.state = this.state === S_CHUNK_DATA ? S_CHUNK_CR : S_DONE;
          const start = pos;
          pos += n;
          this.callbacks.onBody(chunk.subarray(start, pos));
          if (this.paused) return pos;
          break;
        }

        case S_BODY_EOF: {
          if (pos >= len) return len;
          const room = this.maxBodyBytes - this.bodyBytes;
          if (room === 0) fail('HPE_BODY_TOO_LARGE', `body larger than ${this.maxBodyBytes} bytes`);
          const n = Math.min(room, len - pos);
          this.bodyBytes += n;
          const start = pos;
          pos += n;
          this.callbacks.onBody(chunk.subarray(start, pos));
          if (this.paused) return pos;
          break;
        }

        case S_CHUNK_CR:
          if (pos >= len) return len;
          chunkDataCR(chunk[pos++]);
          this.state = S_CHUNK_LF;
          break;

        case S_CHUNK_LF:
          if (pos >= len) return len;
          chunkDataLF(chunk[pos++]);
          this.state = S_CHUNK_SIZE;
          break;

        case S_DONE:
          this.unparsed = len - pos;
          this.complete();
          this.unparsed = 0;
          if (this.paused) return pos;
          break;

        default:
          throw this.error;
      }
    }
  }

  /** Deliver onComplete and get ready for the next message. */
  private complete(): void {
    const trailers = this.trailers;
    this.resetMessage();
    this.callbacks.onComplete(trailers);
  }

  private resetMessage(): void {
    this.state = S_HEAD;
    this.headBytes = 0;
    this.startSeen = false;
    this.methodSeen = false;
    resetStartLine(this.start);
    // The head is handed out: an idle connection does not keep its strings, nor a line buffer.
    this.headers = NO_FIELDS;
    this.lineBuf = EMPTY;
    this.fieldCount = 0;
    this.framing.reset();
    this.remaining = 0;
    this.bodyBytes = 0;
    this.trailerBytes = 0;
    this.trailers = NO_FIELDS;
    this.headChunk = null;
  }

  // ---- lines ----

  /**
   * The most bytes the current line may have before its LF (inclusive of
   * the LF it still needs): a line of `n` bytes before its LF fails when
   * n >= this. One threshold per line, so the error does not depend on how
   * the input was cut.
   */
  private lineLimit(): number {
    switch (this.state) {
      case S_HEAD: {
        const rest = this.maxHeaderBytes - this.headBytes;
        if (this.isRequest && !this.startSeen && this.maxRequestLineBytes <= rest) return this.maxRequestLineBytes;
        return rest;
      }
      case S_CHUNK_SIZE:
        return this.maxChunkLineBytes;
      default:
        return this.maxHeaderBytes - this.trailerBytes;
    }
  }

  private lineTooLong(): never {
    switch (this.state) {
      case S_HEAD:
        if (this.isRequest && !this.startSeen && this.maxRequestLineBytes <= this.maxHeaderBytes - this.headBytes) {
          return fail('HPE_URI_TOO_LONG', `request line longer than ${this.maxRequestLineBytes} bytes`);
        }
        return fail('HPE_HEADERS_TOO_LARGE', `head larger than ${this.maxHeaderBytes} bytes`);
      case S_CHUNK_SIZE:
        return fail('HPE_INVALID_CHUNK_SIZE', `chunk-size line longer than ${this.maxChunkLineBytes} bytes`);
      default:
        return fail('HPE_HEADERS_TOO_LARGE', `trailer section larger than ${this.maxHeaderBytes} bytes`);
    }
  }

  /** The index of the first LF in buf[from, to), or -1. */
  private findLF(buf: Buffer, from: number, to: number): number {
    const lf = buf.indexOf(LF, from);
    if (lf === -1 || lf >= to) {
      this.scanned += to - from;
      return -1;
    }
    this.scanned += lf + 1 - from;
    return lf;
  }

  private appendLine(src: Buffer, start: number, end: number): void {
    const need = this.lineLen + (end - start);
    if (need > this.lineBuf.length) {
      // Doubling, but never past what the current line may hold.
      const grown = Buffer.allocUnsafeSlow(Math.max(need, Math.min(this.lineBuf.length * 2 || 128, this.lineLimit())));
      this.lineBuf.copy(grown, 0, 0, this.lineLen);
      this.lineBuf = grown;
      this.scanned += this.lineLen;
    }
    src.copy(this.lineBuf, this.lineLen, start, end);
    this.lineLen = need;
    this.scanned += end - start;
  }

  /** A complete line buf[start, lf), lf being where its LF is (or was). */
  private line(buf: Buffer, start: number, lf: number): void {
    this.scanned += lf - start;
    if (lf === start || buf[lf - 1] !== CR) fail('HPE_BARE_LF', 'LF without CR');
    const end = lf - 1; // content end, before the CR
    switch (this.state) {
      case S_HEAD:
        this.headBytes += lf - start + 1;
        if (!this.startSeen) {
          if (end === start) return; // RFC 9112 §2.2: empty lines before a request line are ignored
          this.headers = [];
          if (this.isRequest) parseRequestLine(this.start, buf, start, end);
          else parseStatusLine(this.start, buf, start, end);
          this.startSeen = true;
          this.headChunk = buf;
          this.headStart = start;
          this.headExecution = this.executions;
        } else if (end === start) {
          this.endOfHead(buf, lf + 1);
        } else {
          this.field(buf, start, end, true);
        }
        return;
      case S_CHUNK_SIZE:
        this.chunkSizeLine(buf, start, end);
        return;
      default: // S_TRAILERS
        this.trailerBytes += lf - start + 1;
        if (end === start) this.state = S_DONE;
        else this.field(buf, start, end, false);
    }
  }

  /** field-name ":" OWS field-value OWS (RFC 9112 §5), for the head or the trailer section. */
  private field(buf: Buffer, start: number, end: number, inHead: boolean): void {
    if (this.fieldCount === this.maxHeaders) {
      fail('HPE_TOO_MANY_HEADERS', `more than ${this.maxHeaders} ${inHead ? 'header' : 'trailer'} fields`);
    }
    this.fieldCount++;
    let name: string;
    let value: string;
    let vs: number;
    let ve: number;
    const seen = knownField(buf, start, end);
    if (seen !== null) {
      name = seen.name;
      value = seen.value;
      vs = start + seen.valueStart;
      ve = start + seen.valueEnd;
    } else {
      ({ name, value, vs, ve } = newField(buf, start, end));
    }
    if (!inHead) {
      trailerField(name);
      if (this.trailers === NO_FIELDS) this.trailers = [];
      this.trailers.push(name, value);
      return;
    }
    this.headers.push(name, value);
    this.framing.field(name, buf, vs, ve, this.isRequest, this.start.versionMinor);
  }

  /** The empty line after the fields, ending at buf[headEnd - 1]: decide the framing (RFC 9112 §6.3), then hand the head out. */
  private endOfHead(buf: Buffer, headEnd: number): void {
    const isRequest = this.isRequest;
    const minor = this.start.versionMinor;
    const status = this.start.status;
    const framing = this.framing;
    framing.decide(isRequest, minor, this.start.method, this.maxBodyBytes);
    const { persistent, chunked, untilClose, contentLength } = framing;
    // RFC 9112 §6.3 (1): 1xx, 204 and 304 responses have no body, whatever their fields say.
    const statusNoBody = !isRequest && (status < 200 || status === 204 || status === 304);

    const head: MessageHead = {
      method: this.start.method,
      target: this.start.target,
      status,
      reason: this.start.reason,
      versionMinor: minor,
      headers: this.headers,
      contentLength,
      chunked,
      keepAlive: persistent && (statusNoBody || !untilClose),
      expectContinue: framing.expectContinue,
    };

    // Read whole from one chunk in one execute(): its bytes are still the head's.
    if (this.headChunk === buf && this.headExecution === this.executions) {
      this.memo.remember(buf, this.headStart, headEnd, head, persistent, untilClose);
    }
    this.headChunk = null;
    if (isRequest) {
      this.beginBody(chunked, contentLength, false);
      this.callbacks.onHead(head);
      return;
    }
    this.response(head, persistent, untilClose, chunked, contentLength);
  }

  /** A response's head, read or recognised: informational, an answer to HEAD, a status without a body, or a body to read. */
  private response(head: MessageHead, persistent: boolean, untilClose: boolean, chunked: boolean, contentLength: number): void {
    const status = head.status;
    if (status < 200 && status !== 101) {
      // Informational: the final response follows on the same connection.
      this.resetMessage();
      this.callbacks.onInformational?.(head);
      return;
    }
    // onHead comes first so that a response to HEAD can say it has no body.
    this.state = S_DONE;
    if (this.callbacks.onHead(head) === true) {
      head.keepAlive = persistent; // not read until close after all
      return;
    }
    if (status < 200 || status === 204 || status === 304) return; // RFC 9112 §6.3 (1)
    if (contentLength > this.maxBodyBytes) {
      fail('HPE_BODY_TOO_LARGE', `Content-Length over ${this.maxBodyBytes} bytes`);
    }
    this.beginBody(chunked, contentLength, untilClose);
  }

  /** The head at chunk[pos - n, pos) is the remembered one (head-memo.ts): handed out as the general path would. */
  private replay(chunk: Buffer, n: number): void {
    const memo = this.memo;
    this.replayed++;
    this.scanned += n;
    this.headBytes = n;
    this.startSeen = true;
    this.methodSeen = true;
    const start = this.start;
    start.method = memo.method;
    start.target = memo.target;
    start.status = memo.status;
    start.reason = memo.reason;
    start.versionMinor = memo.versionMinor;
    const headers = memo.fields(chunk);
    this.headers = headers;
    const contentLength = memo.contentLength;
    const head: MessageHead = {
      method: memo.method,
      target: memo.target,
      status: memo.status,
      reason: memo.reason,
      versionMinor: memo.versionMinor,
      headers,
      contentLength,
      chunked: false,
      keepAlive: memo.keepAlive,
      expectContinue: memo.expectContinue,
    };
    if (this.isRequest) {
      this.beginBody(false, contentLength, false);
      this.callbacks.onHead(head);
      return;
    }
    this.response(head, memo.persistent, memo.untilClose, false, contentLength);
  }

  private beginBody(chunked: boolean, contentLength: number, untilClose: boolean): void {
    this.bodyBytes = 0;
    if (chunked) {
      this.state = S_CHUNK_SIZE;
    } else if (untilClose) {
      this.state = S_BODY_EOF;
    } else if (contentLength > 0) {
      this.remaining = contentLength;
      this.state = S_BODY_LENGTH;
    } else {
      this.state = S_DONE;
    }
  }

  // ---- chunked (RFC 9112 §7.1) ----

  private chunkSizeLine(buf: Buffer, start: number, end: number): void {
    const size = parseChunkSize(buf, start, end);
    if (size === 0) {
      this.state = S_TRAILERS;
      this.trailerBytes = 0;
      this.fieldCount = 0;
      return;
    }
    if (size > this.maxBodyBytes - this.bodyBytes) fail('HPE_BODY_TOO_LARGE', `body larger than ${this.maxBodyBytes} bytes`);
    this.bodyBytes += size;
    this.remaining = size;
    this.state = S_CHUNK_DATA;
  }
}
