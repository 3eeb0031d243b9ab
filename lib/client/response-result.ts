// What a complete response's body means to an XML-RPC call (the work of
// Transport.parseResponse and decodeContent when not overridden): its
// Content-Encoding undone (gzip, capped), then the methodResponse decoded,
// a fault thrown as the server's `Fault` and anything else that is not an
// XML-RPC response reported as a ResponseError. The HTTP status is the
// transport's step; the bytes here are the codec's.

import { DecodeError, ResponseError, type GzipBodyError } from '../errors.js';
import { bodyCoding, gunzipCapped } from '../http/content-coding.js';
import { getTokens } from '../http/headers.js';
import { parseMethodResponse, type DecodeOptions } from '../xmlrpc/decode.js';
import type { XmlRpcValue } from '../xmlrpc/values.js';
import type { IncomingResponse } from './request.js';

/** A 200 whose body is not content-encoded: its body is the methodResponse itself. */
export function isPlainOk(response: IncomingResponse): boolean {
  return response.status === 200 && !hasField(response.headers, 'content-encoding');
}

/** The XML-RPC response in `body`: its value, the server's Fault thrown, or a ResponseError for `url`. */
export function decodeResult(body: Buffer, url: string, options: DecodeOptions): XmlRpcValue {
  try {
    return parseMethodResponse(body, options);
  } catch (err) {
    if (err instanceof DecodeError) {
      throw new ResponseError(url, `not an XML-RPC response: ${err.message}`, { cause: err });
    }
    throw err; // the server's Fault
  }
}

/** The body without its Content-Encoding (gzip, or none), at most `maxBytes` once decoded. */
export async function contentOf(response: IncomingResponse, url: string, maxBytes: number): Promise<Buffer> {
  const coding = bodyCoding(response.headers);
  if (coding === 'identity') return response.body;
  if (coding === null) {
    const codings = getTokens(response.headers, 'content-encoding').join(', ');
    throw new ResponseError(url, `unsupported Content-Encoding: ${codings}`);
  }
  try {
    return await gunzipCapped(response.body, maxBytes);
  } catch (err) {
    const message = (err as GzipBodyError).tooLarge
      ? `gzip response decodes to more than maxResponseBytes (${maxBytes} bytes)`
      : `invalid gzip response body: ${(err as Error).message}`;
    throw new ResponseError(url, message, { cause: err });
  }
}

/** Whether a field named `name` (lower case) is in a parser's flat [name, value, ...] list. */
function hasField(headers: readonly string[], name: string): boolean {
  for (let i = 0; i < headers.length; i += 2) if (headers[i] === name) return true;
  return false;
}
