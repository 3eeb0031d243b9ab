// lib/http/content-coding.ts: which bodies are gzip, which peers take gzip,
// and gzip decoding capped so that a gzip bomb costs at most the cap.

import t from 'tap';
import * as zlib from 'node:zlib';
import { acceptsGzip, bodyCoding, gunzipCapped, gzip } from '../lib/http/content-coding.js';
import { GzipBodyError, XmlRpcError } from '../lib/errors.js';

t.test('bodyCoding reads Content-Encoding: identity, gzip, or null for what cannot be decoded', async (t) => {
  // prettier-ignore
  const rows: Array<[string, string[], 'identity' | 'gzip' | null]> = [
    ['no field', [], 'identity'],
    ['identity', ['identity'], 'identity'],
    ['an empty value', [''], 'identity'],
    ['gzip', ['gzip'], 'gzip'],
    ['GZIP, case folded', ['GZIP'], 'gzip'],
    ['x-gzip', ['x-gzip'], 'gzip'],
    ['identity around gzip', ['identity, gzip', 'identity'], 'gzip'],
    ['deflate', ['deflate'], null],
    ['br', ['br'], null],
    ['gzip applied twice', ['gzip, gzip'], null],
    ['gzip in two fields', ['gzip', 'gzip'], null],
    ['gzip then deflate', ['gzip, deflate'], null],
  ];
  for (const [name, values, coding] of rows) {
    t.equal(bodyCoding(values.flatMap((v) => ['content-encoding', v])), coding, name);
  }
});

t.test('acceptsGzip reads Accept-Encoding: gzip or * with a q-value above 0', async (t) => {
  // prettier-ignore
  const rows: Array<[string, string[], boolean]> = [
    ['no field', [], false],
    ['gzip', ['gzip'], true],
    ['x-gzip', ['x-gzip'], true],
    ['among others', ['br, gzip, deflate'], true],
    ['case folded', ['GZip'], true],
    ['gzip;q=0.5', ['gzip;q=0.5'], true],
    ['gzip; q=0 refuses it', ['gzip; q=0'], false],
    ['gzip;q=0.000 refuses it', ['gzip;q=0.000'], false],
    ['*', ['*'], true],
    ['*;q=0', ['*;q=0'], false],
    ['gzip;q=0 beats *', ['*, gzip;q=0'], false],
    ['gzip beats *;q=0', ['*;q=0, gzip'], true],
    ['identity only', ['identity'], false],
    ['deflate, br', ['deflate, br'], false],
    ['across two fields', ['br', 'gzip'], true],
    ['OWS before the semicolon', ['gzip ;q=1'], true],
  ];
  for (const [name, values, accepts] of rows) {
    t.equal(acceptsGzip(values.flatMap((v) => ['accept-encoding', v])), accepts, name);
  }
});

t.test('gzip and gunzipCapped round-trip a body', async (t) => {
  const body = Buffer.from('<methodResponse/>'.repeat(100));
  const zipped = await gzip(body);
  t.equal(zipped[0], 0x1f, 'gzip magic');
  t.equal(zipped[1], 0x8b, 'gzip magic');
  t.same(await gunzipCapped(zipped, body.length), body, 'a body of exactly the cap decodes');
  t.same(await gunzipCapped(await gzip(body.toString('latin1')), 1 << 20), body, 'a string body too');
});

/** The rejection of a promise, or null when it resolves. */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  return null;
}

t.test('gunzipCapped refuses a body that decodes past its cap and data that is not gzip, each with its code', async (t) => {
  const body = Buffer.alloc(1000, 'x');
  // prettier-ignore
  // Each row decodes only when its turn comes: a rejection created early would go unhandled while an earlier row runs.
  const rows: Array<[string, () => Promise<Buffer>, string, boolean, RegExp]> = [
    ['one byte over the cap', () => gunzipCapped(zlib.gzipSync(body), 999), 'ERR_XMLRPC_GZIP_TOO_LARGE', true, /^gzip body decodes to more than 999 bytes$/],
    ['a bomb: 8 MiB of zeros against a 1 KiB cap', () => gunzipCapped(zlib.gzipSync(Buffer.alloc(8 << 20)), 1024), 'ERR_XMLRPC_GZIP_TOO_LARGE', true, /more than 1024 bytes/],
    ['not gzip at all', () => gunzipCapped(Buffer.from('<methodCall/>'), 1 << 20), 'ERR_XMLRPC_GZIP_CORRUPT', false, /^gzip body is corrupt: /],
    ['a truncated gzip stream', () => gunzipCapped(zlib.gzipSync(body).subarray(0, 20), 1 << 20), 'ERR_XMLRPC_GZIP_CORRUPT', false, /^gzip body is corrupt: /],
  ];
  for (const [name, decode, code, tooLarge, message] of rows) {
    const err = await rejection(decode());
    t.ok(err instanceof GzipBodyError, `${name}: a GzipBodyError`);
    t.ok(err instanceof XmlRpcError, `${name}: in the catalogue`);
    t.equal((err as GzipBodyError).code, code, `${name}: ${code}`);
    t.equal((err as GzipBodyError).tooLarge, tooLarge, `${name}: tooLarge ${tooLarge}`);
    t.match((err as Error).message, message, `${name}: message`);
    t.ok((err as Error).cause instanceof Error, `${name}: zlib's error as the cause`);
  }
});
