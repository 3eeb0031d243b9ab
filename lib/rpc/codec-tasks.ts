// The tasks a WorkerPool's workers run for the rpc layer (imported by URL in
// the worker, never on the main thread's hot path): decoding a large
// methodCall, encoding a large methodResponse, and calling an export of a
// user's module for registerOffloaded with the XML-RPC classes kept both
// ways (marks.ts). Bytes go back transferred (piscina's `move`), not copied.
// A DecodeError or EncodeError is answered as data, so that the main thread
// rebuilds exactly the error the inline codec throws.

import { Buffer } from 'node:buffer';
import { Piscina } from 'piscina';
import { DecodeError, EncodeError, type DecodeErrorCode } from '../errors.js';
import { parseMethodCall, type DecodeOptions } from '../xmlrpc/decode.js';
import { bufferDumps } from '../xmlrpc/encode.js';
import { markClasses, restoreClasses, type Marked, type Marks } from './marks.js';

export type DecodeReply =
  { ok: true; methodName: string; params: unknown[]; marks: Marks; body: Uint8Array } | { ok: false; code: DecodeErrorCode; message: string; body: Uint8Array };

export type EncodeReply = { ok: true; bytes: Uint8Array } | { ok: false; message: string };

/** Views of more than this many bytes own their ArrayBuffer (smaller ones may share Node's pool slab): those are moved. */
const OWN_BUFFER = Buffer.poolSize >>> 1;

/**
 * Decodes a methodCall from `body` (moved here, and moved back with the reply
 * so that `request.body` is whole again). The params carry their marks.
 */
export function decodeCall(body: Uint8Array, options: DecodeOptions): unknown {
  let reply: DecodeReply;
  try {
    const call = parseMethodCall(body, options);
    // A decoded value never fails the walk (no classes, no cycles, depth within maxDepth).
    const marks = markClasses(call.params) as Marks;
    reply = { ok: true, methodName: call.methodName, params: call.params, marks, body };
  } catch (err) {
    if (!(err instanceof DecodeError)) throw err;
    reply = { ok: false, code: err.code, message: err.message, body };
  }
  return moved(reply, body);
}

/** Encodes `[value]` as a methodResponse; the bytes are moved back. */
export function encodeResponse(marked: Marked, allowNone = true): unknown {
  restoreClasses(marked.marks);
  let bytes: Buffer;
  try {
    bytes = bufferDumps([marked.value], { methodResponse: true, allowNone });
  } catch (err) {
    if (!(err instanceof EncodeError)) throw err;
    return { ok: false, message: err.message } satisfies EncodeReply;
  }
  return moved({ ok: true, bytes } satisfies EncodeReply, bytes);
}

const modules = new Map<string, Promise<Record<string, unknown>>>();

/**
 * registerOffloaded's task: the user's export called with the params as the
 * main thread decoded them (classes restored), its result sent back marked.
 * Called inside the worker's task context, so `taskSignal()` works in the export.
 */
export async function callExport(url: string, exportName: string, marked: Marked<unknown[]>): Promise<Marked> {
  let module = modules.get(url);
  if (module === undefined) {
    module = import(url) as Promise<Record<string, unknown>>;
    modules.set(url, module);
    module.catch(() => modules.delete(url));
  }
  const fn = (await module)[exportName];
  if (typeof fn !== 'function') throw new TypeError(`${url} has no exported function ${exportName}`);
  restoreClasses(marked.marks);
  const value: unknown = await (fn as (...args: unknown[]) => unknown)(...marked.value);
  const marks = markClasses(value);
  if (marks !== null) return { value, marks };
  // Refused by the walk (a class instance, a function...): cloned here, so that what cannot be cloned fails as
  // a DataCloneError the task threw, not as the worker's crash; the rest goes back unmarked for the encoder to judge.
  structuredClone(value);
  return { value, marks: { objects: [], kinds: '' } };
}

/** `reply` with `bytes`' ArrayBuffer moved, when it has one of its own. */
function moved(reply: object, bytes: Uint8Array): unknown {
  if (bytes.byteLength <= OWN_BUFFER || bytes.buffer instanceof SharedArrayBuffer) return reply;
  const transfer = [bytes.buffer];
  return Piscina.move({
    get [Piscina.transferableSymbol]() {
      return transfer;
    },
    get [Piscina.valueSymbol]() {
      return reply;
    },
  } as unknown as Parameters<typeof Piscina.move>[0]);
}
