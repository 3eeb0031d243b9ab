// Content-Coding (RFC 9110 §8.4): gzip bodies in and out, for the server and
// the client alike. Compression runs on libuv's thread pool (async zlib), so
// a large body never stalls the event loop, and decoding is capped so a gzip
// bomb costs at most the cap.

import { promisify } from 'node:util';
import * as zlib from 'node:zlib';
import { getHeaderAll } from './headers.js';

const gunzipAsync = promisify(zlib.gunzip);
const gzipAsync = promisify(zlib.gzip);

export type Coding = 'identity' | 'gzip';

/**
 * The coding of a message body from its Content-Encoding fields: identity,
 * gzip, or null for anything we cannot decode (a list of codings, deflate, br).
 */
export function bodyCoding(headers: readonly string[]): Coding | null {
  const values = getHeaderAll(headers, 'content-encoding');
  if (values.length === 0) return 'identity';
  const codings = values.flatMap((v) => v.split(',')).map((c) => c.trim().toLowerCase()).filter((c) => c !== '' && c !== 'identity');
  if (codings.length === 0) return 'identity';
  if (codings.length === 1 && (codings[0] === 'gzip' || codings[0] === 'x-gzip')) return 'gzip';
  return null;
}

/** Whether Accept-Encoding allows gzip (a q-value of 0 refuses it; `*` counts). */
export function acceptsGzip(headers: readonly string[]): boolean {
  let gzip: number | null = null;
  let star: number | null = null;
  for (const value of getHeaderAll(headers, 'accept-encoding')) {
    for (const item of value.split(',')) {
      const [name, ...params] = item.split(';');
      const coding = name!.trim().toLowerCase();
      let q = 1;
      for (const p of params) {
        const m = /^\s*q\s*=\s*([0-9.]+)\s*$/i.exec(p);
        if (m !== null) q = Number(m[1]);
      }
      if (coding === 'gzip' || coding === 'x-gzip') gzip = q;
      else if (coding === '*') star = q;
    }
  }
  return (gzip ?? star ?? 0) > 0;
}

/** Thrown when a gzip body is corrupt or decodes past its cap. */
export class GzipBodyError extends Error {
  constructor(
    message: string,
    /** True when the decoded body passed the cap (a 413), false when the data is not gzip (a 400). */
    readonly tooLarge: boolean,
  ) {
    super(message);
  }
}

/** Decodes a gzip body, refusing to produce more than `maxBytes`. */
export async function gunzipCapped(body: Buffer, maxBytes: number): Promise<Buffer> {
  try {
    return await gunzipAsync(body, { maxOutputLength: Math.max(1, maxBytes) });
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ERR_BUFFER_TOO_LARGE') throw new GzipBodyError(`gzip body decodes to more than ${maxBytes} bytes`, true);
    throw new GzipBodyError(`gzip body is corrupt: ${(err as Error).message}`, false);
  }
}

/** gzip at a fast level: bodies here are sent once, latency matters more than ratio. */
export function gzip(body: string | Buffer): Promise<Buffer> {
  return gzipAsync(body, { level: 1 });
}
