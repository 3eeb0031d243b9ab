// lib/options.ts: the validators every layer uses, the server's limits with
// their defaults, and the Server refusing a bad limit when it is made.

import t from 'tap';
import { inspect } from 'node:util';
import { DEFAULT_PARSER_LIMITS } from '../lib/http/parser.js';
import {
  DEFAULT_SERVER_LIMITS,
  MAX_TIMEOUT_MS,
  definedOnly,
  integerIn,
  nonNegative,
  positiveInteger,
  serverLimits,
  timeoutMs,
  type ServerLimits,
} from '../lib/options.js';
import { Server } from '../lib/server/server.js';

t.test('nonNegative takes zero and positive numbers, and Infinity only when allowed', async (t) => {
  for (const value of [0, 1, 1.5, 2 ** 53]) t.equal(nonNegative('x', value), value, String(value));
  t.equal(nonNegative('x', Infinity, true), Infinity);
  for (const value of [-1, -0.5, NaN, Infinity, -Infinity, '1', null, undefined, {}]) {
    t.throws(() => nonNegative('x', value), RangeError, inspect(value));
  }
  t.throws(() => nonNegative('x', -Infinity, true), RangeError, '-Infinity even when Infinity is allowed');
  t.throws(() => nonNegative('maxHeaders', -1), { message: 'maxHeaders must be a non-negative number, got -1' }, 'the message names the option and the value');
});

t.test('timeoutMs takes 0 up to the longest delay a Node timer honours', async (t) => {
  t.equal(MAX_TIMEOUT_MS, 2 ** 31 - 1);
  for (const value of [0, 1, 1000.5, MAX_TIMEOUT_MS]) t.equal(timeoutMs('x', value), value, String(value));
  for (const value of [MAX_TIMEOUT_MS + 1, 3e9, Infinity, NaN, -1, '10']) t.throws(() => timeoutMs('x', value), RangeError, String(value));
  t.throws(() => timeoutMs('keepAliveTimeout', 3e9), { message: `keepAliveTimeout must be at most ${MAX_TIMEOUT_MS} ms, got 3000000000` });
  t.throws(() => timeoutMs('keepAliveTimeout', NaN), { message: 'keepAliveTimeout must be a non-negative number, got NaN' });
});

t.test('positiveInteger takes integers from 1, and Infinity only when allowed', async (t) => {
  for (const value of [1, 2, 2 ** 53]) t.equal(positiveInteger('x', value), value, String(value));
  t.equal(positiveInteger('x', Infinity, true), Infinity);
  for (const value of [0, -1, 1.5, NaN, Infinity, -Infinity, '1', null, undefined]) t.throws(() => positiveInteger('x', value), RangeError, inspect(value));
  t.throws(() => positiveInteger('depth', 0), { message: 'depth must be a positive integer, got 0' });
  t.throws(() => positiveInteger('concurrency', 0.5, true), { message: 'concurrency must be a positive integer or Infinity, got 0.5' });
});

t.test('integerIn takes the integers of a closed range', async (t) => {
  for (const value of [0, 1, 1000]) t.equal(integerIn('x', value, 0, 1000), value, String(value));
  for (const value of [-1, 1001, 1.5, NaN, Infinity, '1', null]) t.throws(() => integerIn('x', value, 0, 1000), RangeError, inspect(value));
  t.throws(() => integerIn('maxDepth', 1001, 0, 1000), { message: 'maxDepth must be an integer in [0, 1000], got 1001' });
});

t.test('definedOnly drops the options set to undefined and keeps every other value', async (t) => {
  t.same(definedOnly({ a: 1, b: undefined, c: null, d: 0, e: false, f: '' }), { a: 1, c: null, d: 0, e: false, f: '' });
  t.notOk('b' in definedOnly({ a: 1, b: undefined }), 'the key is gone, not set to undefined');
  const options = { a: 1, b: undefined };
  t.not(definedOnly(options), options, 'a new object');
  t.same(options, { a: 1, b: undefined }, 'the options are left as they were');
});

t.test('every server limit has its default', async (t) => {
  const expected: ServerLimits = {
    maxRequestLineBytes: 8192,
    maxHeaderBytes: 16384,
    maxHeaders: 100,
    maxBodyBytes: 8 * 1024 * 1024,
    maxChunkLineBytes: 1024,
    headersTimeout: 10_000,
    requestTimeout: 30_000,
    keepAliveTimeout: 5_000,
    lingerTimeout: 2_000,
    maxConnections: 10_000,
    maxConnectionsPerAddress: Infinity,
    maxBufferedBytes: 64 * 1024 * 1024,
    maxConnectionBufferedBytes: 8 * 1024 * 1024,
    maxPipelinedRequests: 32,
    gzipThreshold: 1400,
  };
  t.same({ ...DEFAULT_SERVER_LIMITS }, expected);
  for (const key of Object.keys(DEFAULT_PARSER_LIMITS) as (keyof typeof DEFAULT_PARSER_LIMITS)[]) {
    t.equal(DEFAULT_SERVER_LIMITS[key], DEFAULT_PARSER_LIMITS[key], `${key} is the parser's`);
  }
  t.ok(Object.isFrozen(DEFAULT_SERVER_LIMITS), 'frozen');
  t.same({ ...serverLimits() }, expected, 'serverLimits() with nothing set is the defaults');
  t.same({ ...new Server().options }, expected, 'and so is a Server made with no options');
});

t.test('serverLimits overrides what is set, keeps the default for undefined, and freezes the result', async (t) => {
  const limits = serverLimits({ keepAliveTimeout: 0, maxBodyBytes: 10, headersTimeout: undefined, gzipThreshold: Infinity });
  t.equal(limits.keepAliveTimeout, 0);
  t.equal(limits.maxBodyBytes, 10);
  t.equal(limits.headersTimeout, DEFAULT_SERVER_LIMITS.headersTimeout);
  t.equal(limits.gzipThreshold, Infinity, 'gzipThreshold may be Infinity: never gzip');
  t.ok(Object.isFrozen(limits));
  t.equal(serverLimits({ headersTimeout: MAX_TIMEOUT_MS }).headersTimeout, MAX_TIMEOUT_MS);
});

// One row per bad limit: the options, and the message that names what is wrong.
// prettier-ignore
const badLimits: [options: Partial<ServerLimits>, message: RegExp][] = [
  [{ headersTimeout: NaN }, /^headersTimeout must be a non-negative number, got NaN$/],
  [{ requestTimeout: -1 }, /^requestTimeout must be a non-negative number/],
  [{ keepAliveTimeout: MAX_TIMEOUT_MS + 1 }, /^keepAliveTimeout must be at most 2147483647 ms/],
  [{ lingerTimeout: Infinity }, /^lingerTimeout must be a non-negative number, got Infinity$/],
  [{ maxBodyBytes: -5 }, /^maxBodyBytes must be a non-negative number/],
  [{ maxBodyBytes: Infinity }, /^maxBodyBytes must be a non-negative number/],
  [{ maxHeaders: 'x' as unknown as number }, /^maxHeaders must be a non-negative number, got x$/],
  [{ maxHeaders: 1.5 }, /^maxHeaders must be a non-negative integer, got 1.5$/],
  [{ maxRequestLineBytes: 2 ** 60 }, /^maxRequestLineBytes must be a non-negative integer/],
  [{ gzipThreshold: -1 }, /^gzipThreshold must be a non-negative number/],
  [{ maxConnections: 0 }, /^maxConnections and maxPipelinedRequests must be at least 1$/],
  [{ maxConnections: 0.5 }, /^maxConnections and maxPipelinedRequests must be at least 1$/],
  [{ maxPipelinedRequests: 0 }, /^maxConnections and maxPipelinedRequests must be at least 1$/],
  [{ maxPipelinedRequests: NaN }, /^maxPipelinedRequests must be a non-negative number/],
  [{ maxConnectionsPerAddress: 0 }, /^maxConnectionsPerAddress must be at least 1, got 0$/],
  [{ maxConnectionsPerAddress: NaN }, /^maxConnectionsPerAddress must be a non-negative number, got NaN$/],
  [{ maxBufferedBytes: -1 }, /^maxBufferedBytes must be a non-negative number/],
  [{ maxBufferedBytes: Infinity }, /^maxBufferedBytes must be a non-negative number, got Infinity$/],
  [{ maxConnectionBufferedBytes: NaN }, /^maxConnectionBufferedBytes must be a non-negative number, got NaN$/],
];

t.test('every bad server limit is a RangeError that names it', async (t) => {
  for (const [options, message] of badLimits) {
    t.throws(
      () => serverLimits(options),
      { name: 'RangeError', message },
      JSON.stringify(options, (_, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v)),
    );
  }
});

t.test('every server limit is checked when the server is made', async (t) => {
  for (const bad of [
    { headersTimeout: NaN },
    { keepAliveTimeout: -1 },
    { requestTimeout: 3e9 },
    { maxBodyBytes: -5 },
    { maxConnections: 0 },
    { maxHeaders: 'x' as unknown as number },
  ]) {
    t.throws(() => new Server(bad), RangeError, JSON.stringify(bad));
  }
  t.doesNotThrow(() => new Server({ gzipThreshold: Infinity, keepAliveTimeout: undefined }));
});
