// Large XML-RPC documents decoded and encoded on a worker pool, so that an
// 8 MB request does not hold the one event loop for half a second. The
// handler asks `decodes(body)` / `encodes(value)` and, when the answer is
// yes, awaits `decode` / `encode` instead of calling the codec inline; the
// answers keep their order because the server answers each connection's
// requests in order whatever finishes first.
//
// The pool is known by shape (WorkerPool has it): this layer does not import
// the offload layer. The workers import codec-tasks.ts by URL.
//
// When the pool fails:
// - decode: a full queue answers fault -32001 (server busy: the method has
//   not run, the client may retry; decoding inline instead would stall the
//   loop exactly when it is busiest); a closed pool, or any failure before
//   the body has left, decodes inline; a failure of the pool after it has
//   left (the worker died, a pool timeout) answers fault -32603, the body
//   being gone.
// - encode: any failure encodes inline: the method has run, its result is
//   here, and the client must get it.

import { Buffer } from 'node:buffer';
import type { TransferListItem } from 'node:worker_threads';
import { DecodeError, EncodeError, Fault, FaultCode, OffloadErrorCode, WorkerPoolError } from '../errors.js';
import type { Request } from '../server/request.js';
import { parseMethodCall, type DecodeOptions } from '../xmlrpc/decode.js';
import { bufferDumps } from '../xmlrpc/encode.js';
import type { XmlRpcValue } from '../xmlrpc/values.js';
import type { DecodeReply, EncodeReply } from './codec-tasks.js';
import { encodesLargerThan, markClasses, restoreClasses } from './marks.js';

/** What the codec offload needs of a pool: WorkerPool (lib/offload) has it. */
export interface CodecRunner {
  run(module: string | URL, exportName: string, args: readonly unknown[], options?: { transfer?: readonly TransferListItem[] }): Promise<unknown>;
}

export interface CodecOffloadOptions {
  /** The pool the codec runs on (a WorkerPool). */
  pool: CodecRunner;
  /**
   * Request bodies of more than this many bytes are decoded on the pool, and
   * results estimated to encode to more are encoded there. Default 256 KiB:
   * below it, the round trip to a worker costs more than the loop saves.
   */
  threshold?: number;
}

export const DEFAULT_CODEC_THRESHOLD = 256 * 1024;

/** The module the workers import; compiled next to this one. */
export const CODEC_TASKS = new URL('./codec-tasks.js', import.meta.url);

/** The encoder's default nesting limit: deeper results are left to it, inline, for its own error. */
const ENCODE_MAX_DEPTH = 64;

export class CodecOffload {
  readonly pool: CodecRunner;
  readonly threshold: number;

  constructor(options: CodecOffloadOptions) {
    if (typeof options?.pool?.run !== 'function') throw new TypeError('offload needs a pool (a WorkerPool)');
    const threshold = options.threshold ?? DEFAULT_CODEC_THRESHOLD;
    if (typeof threshold !== 'number' || !(threshold >= 0))
      throw new RangeError(`offload.threshold must be a non-negative number of bytes, got ${String(threshold)}`);
    this.pool = options.pool;
    this.threshold = threshold;
  }

  /** The body is large enough to be decoded on the pool. */
  decodes(body: Buffer): boolean {
    return body.byteLength > this.threshold;
  }

  /** `value` may encode to more than the threshold (a walk that stops once it does). */
  encodes(value: unknown): boolean {
    try {
      return encodesLargerThan(value, this.threshold);
    } catch {
      return false; // a getter threw: the encoder, inline, will say so
    }
  }

  /**
   * `parseMethodCall(request.body, options)` on the pool: the same result,
   * or the same DecodeError. The body moves to the worker when it owns its
   * ArrayBuffer (it comes back with the answer), else it is copied once.
   */
  async decode(request: Request, options: DecodeOptions): Promise<{ methodName: string; params: XmlRpcValue[] }> {
    const body = request.body;
    const moves = body.byteOffset === 0 && body.byteLength === body.buffer.byteLength && body.buffer instanceof ArrayBuffer;
    const bytes = moves ? body : new Uint8Array(body);
    let reply: DecodeReply;
    try {
      reply = (await this.pool.run(CODEC_TASKS, 'decodeCall', [bytes, options], { transfer: [bytes.buffer as ArrayBuffer] })) as DecodeReply;
    } catch (err) {
      if ((err as { code?: unknown } | null)?.code === OffloadErrorCode.QUEUE_FULL) throw new Fault(FaultCode.SERVER_BUSY, 'server busy: try again later');
      if (body.byteLength !== 0) return parseMethodCall(body, options);
      // What the decoder threw (bad options, say), rebuilt by the pool: as inline.
      if (!(err instanceof WorkerPoolError)) throw err;
      throw new Fault(FaultCode.INTERNAL_ERROR, `the request could not be decoded: ${messageOf(err)}`);
    }
    if (moves) request.body = Buffer.from(reply.body.buffer, reply.body.byteOffset, reply.body.byteLength);
    if (!reply.ok) throw new DecodeError(reply.code, reply.message);
    restoreClasses(reply.marks);
    return { methodName: reply.methodName, params: reply.params as XmlRpcValue[] };
  }

  /**
   * `bufferDumps([value], { methodResponse: true })` on the pool: the same
   * bytes, or the same EncodeError. A value the clone would change (a class
   * instance, a function, too deep) is encoded inline, where the encoder
   * judges it; so is every value the pool fails to take.
   */
  async encode(value: unknown, allowNone = true): Promise<Buffer> {
    let marks;
    try {
      marks = markClasses(value, ENCODE_MAX_DEPTH);
    } catch {
      marks = null; // a getter threw: the encoder will too, and say so
    }
    if (marks === null) return inlineEncode(value, allowNone);
    let reply: EncodeReply;
    try {
      reply = (await this.pool.run(CODEC_TASKS, 'encodeResponse', [{ value, marks }, allowNone])) as EncodeReply;
    } catch {
      return inlineEncode(value, allowNone);
    }
    if (!reply.ok) throw new EncodeError(reply.message);
    const bytes = reply.bytes;
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
}

function inlineEncode(value: unknown, allowNone: boolean): Buffer {
  return bufferDumps([value], { methodResponse: true, allowNone });
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
