// XML-RPC unmarshalling, Python's `loads` and the entry points of a server
// and a client: bytes to values in one pass, with no tree.
//   1. xml-text.ts: bytes -> text (BOM, declared encoding).
//   1b. small-document.ts: the smallest methodCalls (`add(40, 2)`) and
//      methodResponses (its `42`), read from their bytes before any text
//      is made; anything else goes on below.
//   2. canonical.ts: a methodCall written as encoders write it, read in one
//      pass with every character checked on the way. Anything else gives up,
//      and the strict path below reads the document from its start.
//   3. reader.ts: the XML-RPC grammar over the lexer (xml-lexer.ts), which
//      enforces well-formedness token by token; each value is built as its
//      element is read.
//   4. The characters XML forbids are looked for once the document is read,
//      in one regexp pass that skips the long base64 contents the reader has
//      already verified; on any error, in the whole text first.
// Which error a refused document reports is ranking.ts's concern.

// Node's global Buffer is a getter on globalThis: each use from compiled code is a global IC miss and a call (about 150 instructions); the module's binding is a constant.
import { Buffer } from 'node:buffer';
import { DecodeError, Fault } from '../errors.js';
import { readCanonical } from './canonical.js';
import { NOT_SMALL, readSmallCall, readSmallResponse, SMALL_DOCUMENT_BYTES } from './small-document.js';
import { DEFERRED } from './ranking.js';
import { Reader, type Document } from './reader.js';
import { checkCharacters, documentText, fail } from './xml-text.js';
import type { XmlRpcValue } from './values.js';

export interface DecodeOptions {
  /** Levels of array/struct nesting allowed (default 64, at most 1000). */
  maxDepth?: number;
  /**
   * Largest document accepted, in bytes (a string counts its UTF-8 length);
   * default: no limit here, the HTTP layer's body limit applies first.
   */
  maxBytes?: number;
  /**
   * Decode every `<double>` as a `Double` (which acts as its number in
   * arithmetic), so that a value sent back, as by an echo or a relay, keeps
   * its wire type: a plain `2.0` would go back as `<int>2</int>`. Default false.
   */
  wrapDoubles?: boolean;
  /**
   * Accept `<nil/>` (the nil extension, decoded as `null`). Default true;
   * false refuses a document holding one as invalid XML-RPC (fault -32600),
   * for a peer that keeps to the spec (Python's `allow_none=False`).
   */
  allowNone?: boolean;
}

const DEFAULT_DECODE_MAX_DEPTH = 64;
/** The reader recurses once per array/struct level: this bounds its stack whatever the option says. */
const MAX_DEPTH_CEILING = 1000;

export interface LoadsResult {
  /** The method of a methodCall; `null` for a methodResponse. */
  methodName: string | null;
  params: XmlRpcValue[];
}

/**
 * Python's `xmlrpc.client.loads`: a methodCall gives `{ methodName, params }`,
 * a methodResponse `{ methodName: null, params: [value] }`, and a fault
 * response is thrown as a `Fault`. Anything malformed throws a `DecodeError`.
 */
export function loads(data: Buffer | Uint8Array | string, options?: DecodeOptions): LoadsResult {
  const doc = decodeDocument(data, options);
  if (doc instanceof Fault) throw doc;
  return doc;
}

/** A server's entry point: the document must be a methodCall. */
export function parseMethodCall(data: Buffer | Uint8Array | string, options?: DecodeOptions): { methodName: string; params: XmlRpcValue[] } {
  if (Buffer.isBuffer(data) && data.byteLength <= SMALL_DOCUMENT_BYTES) {
    checkDecodeOptions(data, options); // what the options refuse is refused here too
    const small = readSmallCall(data, options?.maxBytes);
    if (small !== null) return small;
  }
  const doc = decodeDocument(data, options);
  if (doc instanceof Fault || doc.methodName === null) {
    throw new DecodeError('ERR_XMLRPC_INVALID', 'expected a <methodCall>, got a <methodResponse>');
  }
  return doc as { methodName: string; params: XmlRpcValue[] };
}

/** A client's entry point: the result value, or the server's `Fault` thrown. */
export function parseMethodResponse(data: Buffer | Uint8Array | string, options?: DecodeOptions): XmlRpcValue {
  if (Buffer.isBuffer(data) && data.byteLength <= SMALL_DOCUMENT_BYTES) {
    checkDecodeOptions(data, options); // what the options refuse is refused here too
    const small = readSmallResponse(data, options?.maxBytes);
    if (small !== NOT_SMALL) return small;
  }
  const doc = decodeDocument(data, options);
  if (doc instanceof Fault) throw doc;
  if (doc.methodName !== null) throw new DecodeError('ERR_XMLRPC_INVALID', 'expected a <methodResponse>, got a <methodCall>');
  return doc.params[0] as XmlRpcValue;
}

/** Checks the options and the document's size against `maxBytes`; returns the depth limit. */
function checkDecodeOptions(data: Buffer | Uint8Array | string, options: DecodeOptions | undefined): number {
  const maxDepth = options?.maxDepth ?? DEFAULT_DECODE_MAX_DEPTH;
  if (!Number.isInteger(maxDepth) || maxDepth < 0 || maxDepth > MAX_DEPTH_CEILING) {
    throw new RangeError(`maxDepth must be an integer in [0, ${MAX_DEPTH_CEILING}], got ${maxDepth}`);
  }
  const maxBytes = options?.maxBytes ?? Infinity;
  if (!(maxBytes >= 0)) throw new RangeError(`maxBytes must be a non-negative number, got ${maxBytes}`);
  if (maxBytes !== Infinity) {
    const size = typeof data === 'string' ? Buffer.byteLength(data, 'utf8') : data.byteLength;
    if (size > maxBytes) fail('ERR_XML_TOO_LARGE', `the document is ${size} bytes, more than maxBytes (${maxBytes})`);
  }
  return maxDepth;
}

function decodeDocument(data: Buffer | Uint8Array | string, options: DecodeOptions | undefined): Document {
  const maxDepth = checkDecodeOptions(data, options);
  const { text, ascii } = documentText(data);
  const fast = readCanonical(text, ascii, maxDepth, options?.wrapDoubles === true, options?.allowNone !== false);
  if (fast !== null) return fast;
  return strictDocument(text, ascii, maxDepth, options);
}

/** The strict reader over a document's text (exported for the tests of the fast path). */
export function strictDocument(text: string, ascii: Uint8Array | null, maxDepth: number, options: DecodeOptions | undefined): Document {
  const reader = new Reader(text, ascii, maxDepth, options?.wrapDoubles === true, options?.allowNone !== false);
  let doc: Document;
  try {
    doc = reader.document();
  } catch (err) {
    checkCharacters(text, 0, text.length); // a character XML forbids ranks first
    if (err !== DEFERRED) throw err;
    throw reader.settle();
  }
  reader.checkCharacters();
  return doc;
}
