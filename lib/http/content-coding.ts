// Content-Coding (RFC 9110 §8.4): gzip bodies in and out, for the server and
// the client alike. Compression runs on libuv's thread pool (async zlib), so
// a large body never stalls the event loop, and decoding is capped so a gzip
// bomb costs at most the cap.

import { Buffer } from 'node:buffer';
import { promisify } from 'node:util';
import * as zlib from 'node:zlib';
import { GzipBodyError } from '../errors.js';
import { getTokens } from './headers.js';

const gunzipAsync = promisify(zlib.gunzip);
const gzipAsync = promisify(zlib.gzip);

type Coding = 'identity' | 'gzip';

/**
 * The coding of a message body from its Content-Encoding fields: identity,
 * gzip, or null for anything we cannot decode (a list of codings, deflate, br).
 */
export function bodyCoding(headers: readonly string[]): Coding | null {
  // Most bodies carry no Content-Encoding at all: said without building its token list.
  let i = 0;
  while (i < headers.length && headers[i] !== 'content-encoding') i += 2;
  if (i >= headers.length) return 'identity';
  const codings = getTokens(headers, 'content-encoding').filter((c) => c !== 'identity');
  if (codings.length === 0) return 'identity';
  if (codings.length === 1 && (codings[0] === 'gzip' || codings[0] === 'x-gzip')) return 'gzip';
  return null;
}

/** Whether Accept-Encoding allows gzip (a q-value of 0 refuses it; `*` counts). */
export function acceptsGzip(headers: readonly string[]): boolean {
  let gzip: number | null = null;
  let star: number | null = null;
  for (const item of getTokens(headers, 'accept-encoding')) {
    // `gzip;q=0.5`: the coding, then its weight (1 when none is given).
    const semi = item.indexOf(';');
    const coding = (semi === -1 ? item : item.slice(0, semi)).replace(OWS_END, '');
    const weight = semi === -1 ? null : Q_VALUE.exec(item.slice(semi));
    const q = weight === null ? 1 : Number(weight[1]);
    if (coding === 'gzip' || coding === 'x-gzip') gzip = q;
    else if (coding === '*') star = q;
  }
  return (gzip ?? star ?? 0) > 0;
}

const OWS_END = /[ \t]+$/;
const Q_VALUE = /;[ \t]*q[ \t]*=[ \t]*([0-9.]+)/;

/** Decodes a gzip body, refusing to produce more than `maxBytes`; throws GzipBodyError. */
export async function gunzipCapped(body: Buffer, maxBytes: number): Promise<Buffer> {
  try {
    return await gunzipAsync(body, { maxOutputLength: Math.max(1, maxBytes) });
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ERR_BUFFER_TOO_LARGE') throw new GzipBodyError(`gzip body decodes to more than ${maxBytes} bytes`, true, { cause: err });
    throw new GzipBodyError(`gzip body is corrupt: ${(err as Error).message}`, false, { cause: err });
  }
}

/**
 * Decodes a gzip body as a stream, asking `take(n)` before keeping each
 * decoded chunk, so the bytes a bomb costs are counted as they appear, not
 * after. Resolves null when `take` refuses; throws GzipBodyError past
 * `maxBytes` or on a corrupt body.
 */
export function gunzipMetered(body: Buffer, maxBytes: number, take: (bytes: number) => boolean): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const gunzip = zlib.createGunzip();
    const stop = (outcome: () => void) => {
      gunzip.removeAllListeners('data');
      gunzip.destroy();
      outcome();
    };
    gunzip.on('data', (chunk: Buffer) => {
      length += chunk.length;
      if (length > maxBytes) stop(() => reject(new GzipBodyError(`gzip body decodes to more than ${maxBytes} bytes`, true)));
      else if (!take(chunk.length)) stop(() => resolve(null));
      else chunks.push(chunk);
    });
    gunzip.on('error', (err) => reject(new GzipBodyError(`gzip body is corrupt: ${err.message}`, false, { cause: err })));
    gunzip.on('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, length)));
    gunzip.end(body);
  });
}

/** gzip at a fast level: bodies here are sent once, latency matters more than ratio. */
export function gzip(body: string | Buffer): Promise<Buffer> {
  return gzipAsync(body, { level: 1 });
}
