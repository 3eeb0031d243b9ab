// lib/xmlrpc/values.ts: the wrappers that force a wire type (Double, I8,
// DateTime), the dateTime forms `parseDateTime` reads, the range constants
// and `describe`, the type names of error messages. Fed values directly.

import t from 'tap';
import { EncodeError } from '../lib/errors.js';
import { DateTime, Double, I8, INT32_MAX, INT32_MIN, INT64_MAX, INT64_MIN, describe, parseDateTime } from '../lib/xmlrpc/values.js';

t.test('the range constants are the int32 and int64 bounds', async (t) => {
  t.equal(INT32_MIN, -(2 ** 31));
  t.equal(INT32_MAX, 2 ** 31 - 1);
  t.equal(INT64_MIN, -(2n ** 63n));
  t.equal(INT64_MAX, 2n ** 63n - 1n);
});

t.test('Double holds any finite number and acts as it in arithmetic and JSON', async (t) => {
  for (const n of [0, -0, 2, -1.5, 1e300, 5e-324, Number.MAX_SAFE_INTEGER + 2]) {
    const d = new Double(n);
    t.ok(Object.is(d.value, n), `value ${n}`);
    t.ok(Object.is(d.valueOf(), n), `valueOf ${n}`);
  }
  const two = new Double(2);
  t.equal(+two + 1, 3);
  t.ok((two as unknown as number) < (new Double(3) as unknown as number) && (two as unknown as number) > 1, 'comparisons see the number');
  t.equal(JSON.stringify({ x: two }), '{"x":2}');
});

t.test('Double refuses what is not a finite number, naming it', async (t) => {
  const cases: Array<[value: unknown, message: RegExp]> = [
    [NaN, /got NaN/],
    [Infinity, /got Infinity/],
    [-Infinity, /got -Infinity/],
    ['2', /got string/],
    [2n, /got bigint/],
    [null, /got null/],
    [undefined, /got undefined/],
    [new Double(1), /got an instance of Double/],
  ];
  for (const [value, message] of cases) t.throws(() => new Double(value as number), { name: 'EncodeError', message }, String(value));
});

t.test('I8 takes an integral number, a bigint or a decimal string in the int64 range', async (t) => {
  const cases: Array<[value: number | bigint | string, expected: bigint]> = [
    [0, 0n],
    [-0, 0n],
    [42, 42n],
    [-7, -7n],
    [2 ** 53, 2n ** 53n],
    [INT64_MAX, INT64_MAX],
    [INT64_MIN, INT64_MIN],
    ['9223372036854775807', INT64_MAX],
    ['-9223372036854775808', INT64_MIN],
    ['+5', 5n],
    ['007', 7n],
    ['-0', 0n],
  ];
  for (const [value, expected] of cases) t.equal(new I8(value).value, expected, `${String(value)}`);
});

t.test('I8 refuses fractions, other notations, other types and values past int64, with an EncodeError', async (t) => {
  // prettier-ignore
  const cases: Array<[value: unknown, message: RegExp]> = [
    [1.5, /I8 needs an integer, got 1\.5/], [NaN, /needs an integer/], [Infinity, /needs an integer/],
    ['1.0', /decimal integer, got "1\.0"/], ['0x10', /decimal integer/], [' 1', /decimal integer/], ['1 ', /decimal integer/], ['', /decimal integer/], ['1e3', /decimal integer/],
    [INT64_MAX + 1n, /9223372036854775808 is out of the i8 \(int64\) range/], [INT64_MIN - 1n, /out of the i8/], ['9223372036854775808', /out of the i8/], [2 ** 63, /out of the i8/],
    [true, /number, bigint or decimal string, got boolean/], [null, /got null/], [{}, /got an instance of Object/],
  ];
  for (const [value, message] of cases) {
    t.throws(() => new I8(value as number), { message }, String(value));
    t.throws(() => new I8(value as number), EncodeError);
  }
});

t.test('DateTime keeps its text verbatim and names the instant it reads', async (t) => {
  // prettier-ignore
  const cases: Array<[text: string, iso: string]> = [
    ['19980717T14:08:55', '1998-07-17T14:08:55.000Z'],
    ['1998-07-17T14:08:55+02:00', '1998-07-17T12:08:55.000Z'],
    ['19980717T140855.25Z', '1998-07-17T14:08:55.250Z'],
  ];
  for (const [text, iso] of cases) {
    const d = new DateTime(text);
    t.equal(d.value, text, `${text} verbatim`);
    t.equal(d.toDate().toISOString(), iso, `${text} as a Date`);
  }
});

t.test('DateTime refuses a text loads would refuse, and what is not a string', async (t) => {
  for (const value of ['', '1998-07-17', '19980717T25:00:00', '19980230T00:00:00', ' 19980717T14:08:55', 'yesterday']) {
    t.throws(
      () => new DateTime(value),
      { name: 'EncodeError', message: new RegExp(`not an ISO 8601 dateTime: ${JSON.stringify(value).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`) },
      JSON.stringify(value),
    );
  }
  t.throws(() => new DateTime(new Date(0) as never), { name: 'EncodeError', message: /an instance of Date/ });
  t.throws(() => new DateTime(19980717 as never), { name: 'EncodeError', message: /19980717/ });
});

// One row per form: the text, and the instant (ISO) or null.
// prettier-ignore
const DATE_TIMES: Array<[text: string, iso: string | null]> = [
  // the date and the time each in the basic or the extended form
  ['19980717T14:08:55', '1998-07-17T14:08:55.000Z'],
  ['1998-07-17T14:08:55', '1998-07-17T14:08:55.000Z'],
  ['19980717T140855', '1998-07-17T14:08:55.000Z'],
  ['1998-07-17T140855', '1998-07-17T14:08:55.000Z'],
  ['1998-0717T14:08:55', null],
  ['19980717T14:0855', null],
  // fractions: milliseconds, truncated
  ['19980717T14:08:55.5', '1998-07-17T14:08:55.500Z'],
  ['19980717T14:08:55.123', '1998-07-17T14:08:55.123Z'],
  ['19980717T14:08:55.1239', '1998-07-17T14:08:55.123Z'],
  ['19980717T14:08:55.', null],
  // zones: none and Z are UTC; offsets with or without a colon
  ['19980717T14:08:55Z', '1998-07-17T14:08:55.000Z'],
  ['19980717T14:08:55+01:00', '1998-07-17T13:08:55.000Z'],
  ['19980717T14:08:55-0130', '1998-07-17T15:38:55.000Z'],
  ['19980717T00:00:00+23:59', '1998-07-16T00:01:00.000Z'],
  ['19980717T14:08:55+24:00', null],
  ['19980717T14:08:55+01:60', null],
  ['19980717T14:08:55+1', null],
  ['19980717T14:08:55z', null],
  // the calendar
  ['20000229T00:00:00', '2000-02-29T00:00:00.000Z'],
  ['20240229T00:00:00', '2024-02-29T00:00:00.000Z'],
  ['19000229T00:00:00', null],
  ['20230229T00:00:00', null],
  ['20230431T00:00:00', null],
  ['20231301T00:00:00', null],
  ['20230001T00:00:00', null],
  ['20230100T00:00:00', null],
  ['20230101T24:00:00', null],
  ['20230101T23:60:00', null],
  ['20230101T23:59:60', null],
  // years 0 to 99 are years 0 to 99, not 1900 to 1999
  ['00000101T00:00:00', '0000-01-01T00:00:00.000Z'],
  ['00990101T00:00:00', '0099-01-01T00:00:00.000Z'],
  ['99991231T23:59:59', '9999-12-31T23:59:59.000Z'],
  // nothing around it: the caller trims XML white space
  [' 19980717T14:08:55', null],
  ['19980717 14:08:55', null],
  ['19980717t14:08:55', null],
  ['', null],
];

t.test('parseDateTime reads every accepted form and refuses the others', async (t) => {
  for (const [text, iso] of DATE_TIMES) {
    const date = parseDateTime(text);
    t.equal(date === null ? null : date.toISOString(), iso, JSON.stringify(text));
  }
});

t.test('describe names a value by its type for error messages', async (t) => {
  class Custom {}
  // prettier-ignore
  const cases: Array<[value: unknown, name: string]> = [
    [null, 'null'], [undefined, 'undefined'], [true, 'boolean'], ['s', 'string'], [1n, 'bigint'], [NaN, 'NaN'], [-1.5, '-1.5'],
    [Symbol('tag'), 'Symbol(tag)'], [function named() {}, 'function named'], [() => 1, 'function '], [{}, 'an instance of Object'],
    [Object.create(null), 'an instance of object'], [new Custom(), 'an instance of Custom'], [[], 'an instance of Array'], [new Map(), 'an instance of Map'],
  ];
  for (const [value, name] of cases) {
    if (name === 'function ') t.match(describe(value), /^(a function|function \w*)$/, 'an arrow function');
    else t.equal(describe(value), name, name);
  }
});
