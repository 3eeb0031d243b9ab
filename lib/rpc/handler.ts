// The base class users subclass: it turns a POST on its path into a call of
// `this.call(method, params)` and the outcome into a methodResponse. The
// fault policy lives in one method, `toFault`. Response bodies are UTF-8
// bytes from `bufferDumps`, or a short ASCII document's text (`wireDumps`),
// written to the socket as they are.

import { Fault, FaultCode } from '../errors.js';
import type { Handler, Request, Response } from '../server/request.js';
import { parseMethodCall, type DecodeOptions } from '../xmlrpc/decode.js';
import { bufferDumps, wireDumps } from '../xmlrpc/encode.js';
import { reuseDocument } from '../xmlrpc/sink.js';
import type { XmlRpcValue } from '../xmlrpc/values.js';
import { CodecOffload, type CodecOffloadOptions } from './codec-offload.js';

export interface XmlRpcHandlerOptions extends DecodeOptions {
  /** Path or paths this handler answers (default `/RPC2`). */
  path?: string | readonly string[];
  /**
   * Decodes request bodies larger than `threshold` bytes (default 256 KiB),
   * and encodes results estimated larger, on `pool` (a WorkerPool), so the
   * event loop keeps answering other requests meanwhile. Default: inline.
   */
  offload?: CodecOffloadOptions;
  /**
   * `false`: `call()` may keep `request.body` past its result (to log the
   * raw call later, say), so the server never reuses that buffer. Default
   * true: a large body's buffer serves a later request once the response is
   * ready, and a body kept past then would change under the keeper.
   */
  lendsBody?: boolean;
}

const XML_HEADERS = Object.freeze({ 'Content-Type': 'text/xml' });
const RESULT_OPTIONS = Object.freeze({ methodResponse: true });
const STRICT_RESULT_OPTIONS = Object.freeze({ methodResponse: true, allowNone: false });
const NOT_ALLOWED_HEADERS = Object.freeze({ Allow: 'POST', 'Content-Type': 'text/plain; charset=utf-8' });

export class XmlRpcHandler implements Handler {
  readonly paths: ReadonlySet<string>;
  protected readonly decodeOptions: DecodeOptions;
  private readonly codec: CodecOffload | null;
  /** `allowNone: false` refuses nil in results too, not only in requests. */
  protected readonly allowNone: boolean;
  private readonly resultOptions: { methodResponse: true; allowNone?: boolean };
  /**
   * Handler.lendsBody: the body is decoded into values that share no memory
   * with it (the decoder reads a string copy; base64 is decoded into a Buffer
   * of its own), so it is given back once the response is ready: `call()`
   * may read `request.body` until its result settles, not after. Not with
   * `offload`: a body decoded on the pool moves to the worker.
   */
  readonly lendsBody: boolean;

  constructor(options: XmlRpcHandlerOptions = {}) {
    const { path = '/RPC2', offload, lendsBody = true, ...decodeOptions } = options;
    this.paths = new Set(typeof path === 'string' ? [path] : path);
    this.decodeOptions = decodeOptions;
    this.allowNone = decodeOptions.allowNone !== false;
    this.resultOptions = this.allowNone ? RESULT_OPTIONS : STRICT_RESULT_OPTIONS;
    this.codec = offload === undefined ? null : new CodecOffload(offload);
    this.lendsBody = lendsBody && this.codec === null;
  }

  match(request: Request): boolean {
    return this.paths.has(request.path);
  }

  handle(request: Request): Response | Promise<Response> {
    if (request.method !== 'POST') {
      return { status: 405, headers: NOT_ALLOWED_HEADERS, body: 'XML-RPC takes POST\n' };
    }
    if (this.codec?.decodes(request.body) === true) {
      return this.codec.decode(request, this.decodeOptions).then(
        (call) => this.answer(call, request),
        (err: unknown) => this.faultResponse(err, request),
      );
    }
    let call: { methodName: string; params: XmlRpcValue[] };
    try {
      call = parseMethodCall(request.body, this.decodeOptions);
    } catch (err) {
      return this.faultResponse(err, request);
    }
    return this.answer(call, request);
  }

  private answer(call: { methodName: string; params: XmlRpcValue[] }, request: Request): Response | Promise<Response> {
    let result: unknown;
    // For the access log and the status page (the server counts them, knowing nothing of XML-RPC).
    request.rpcMethod = call.methodName;
    try {
      result = this.call(call.methodName, call.params, request);
    } catch (err) {
      return this.faultResponse(err, request);
    }
    if (isPromise(result)) {
      return result.then(
        (value) => this.resultResponse(value, request),
        (err: unknown) => this.faultResponse(err, request),
      );
    }
    return this.resultResponse(result, request);
  }

  /**
   * Override to expose methods. Return a value or a Promise of one; throw
   * `Fault` to send a fault. `request` gives access to headers and the peer.
   */
  call(method: string, params: XmlRpcValue[], request?: Request): unknown {
    void params;
    void request;
    throw new Fault(FaultCode.METHOD_NOT_FOUND, `method "${method}" is not supported`);
  }

  /**
   * The fault policy: a `Fault` goes out as is; anything else becomes the
   * generic application fault with the message only, never a stack.
   */
  toFault(err: unknown): Fault {
    if (err instanceof Fault) return err;
    const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    return new Fault(FaultCode.APPLICATION_ERROR, message);
  }

  private resultResponse(value: unknown, request: Request): Response | Promise<Response> {
    if (this.codec?.encodes(value) === true) {
      return this.codec.encode(value, this.allowNone).then(
        (body): Response => ({ status: 200, headers: XML_HEADERS, body }),
        (err: unknown) => unencodable(err, request),
      );
    }
    let body: string | Buffer;
    try {
      body = wireDumps([value], this.resultOptions);
    } catch (err) {
      return unencodable(err, request);
    }
    // A short ASCII document goes out as text, no Buffer made (Response.latin1).
    if (typeof body === 'string') return { status: 200, headers: XML_HEADERS, body, latin1: true };
    // The document's buffer serves the next large one once the server has written it.
    return { status: 200, headers: XML_HEADERS, body, reuse: reuseDocument };
  }

  private faultResponse(err: unknown, request: Request): Response {
    const fault = this.toFault(err);
    request.faultCode = fault.faultCode;
    let body: Buffer;
    try {
      body = bufferDumps(fault);
    } catch (encodeErr) {
      // A fault with an unsendable code or string (say a lone surrogate).
      body = bufferDumps(new Fault(FaultCode.INTERNAL_ERROR, `cannot encode the fault: ${messageOf(encodeErr)}`));
    }
    // Application errors other than Fault are worth a line in the log.
    const report = err instanceof Fault ? undefined : err;
    return report === undefined ? { status: 200, headers: XML_HEADERS, body } : { status: 200, headers: XML_HEADERS, body, error: report };
  }
}

/** Twisted's rule: an unencodable result is logged, the call still answered. */
function unencodable(err: unknown, request: Request): Response {
  const fault = new Fault(FaultCode.INTERNAL_ERROR, `cannot encode the result: ${messageOf(err)}`);
  request.faultCode = fault.faultCode;
  return { status: 200, headers: XML_HEADERS, body: bufferDumps(fault), error: err };
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function isPromise(value: unknown): value is Promise<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}
