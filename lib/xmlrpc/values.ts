/**
 * XML-RPC values as JavaScript sees them, and the wrappers that force a
 * wire type when the JavaScript type alone would choose another.
 *
 * | XML-RPC | decoded JS | encoded from |
 * |---|---|---|
 * | `<int>`/`<i4>` (32-bit signed) | number | an integral number in [-2^31, 2^31-1] (not -0) |
 * | `<i8>` / `<ex:i8>` (64-bit) | bigint | a bigint in the int64 range, or `new I8(x)` (x number/bigint/decimal string) |
 * | `<double>` | number | any other finite number (including -0, integral numbers outside int32, 1e300), or `new Double(x)` to force a double for an integral value |
 * | `<boolean>` 0/1 | boolean | boolean |
 * | `<string>` or untyped `<value>` | string | string |
 * | `<dateTime.iso8601>` | Date (UTC) | Date (written in UTC as `YYYYMMDDTHH:MM:SS`, milliseconds dropped), or `new DateTime(text)` to send a given string verbatim (validated) |
 * | `<base64>` | Buffer | Buffer / Uint8Array / ArrayBuffer views (and a bare ArrayBuffer) |
 * | `<struct>` | object with null prototype | plain object (own enumerable string keys), Map with string keys |
 * | `<array>` | array | array |
 * | `<nil/>` / `<ex:nil/>` | null | null and undefined |
 *
 * Doubles go out in decimal notation with a decimal point and no exponent
 * (`1e300` is a 1 followed by 300 zeros and `.0`), using the shortest digits
 * that read back to the same number. NaN and the infinities cannot be sent.
 * A struct member whose value is `undefined` is left out (as JSON does);
 * `undefined` anywhere else is sent as nil.
 */

import { EncodeError } from '../errors.js';

/** A struct as decoded: an object with a null prototype. */
export interface XmlRpcStruct {
  [member: string]: XmlRpcValue;
}

/** Everything `loads` can produce. */
export type XmlRpcValue =
  | number
  | bigint
  | boolean
  | string
  | Date
  | Buffer
  | null
  | Double // only with the `wrapDoubles` decode option
  | XmlRpcValue[]
  | XmlRpcStruct;

/** Everything `dumps` / `encodeValue` accept (checked again at run time). */
export type Encodable =
  | number
  | bigint
  | boolean
  | string
  | Date
  | null
  | undefined
  | Double
  | I8
  | DateTime
  | ArrayBufferView
  | ArrayBuffer
  | readonly Encodable[]
  | ReadonlyMap<string, Encodable>
  | { readonly [member: string]: Encodable };

/** Sends a number as `<double>` even when it is integral (`new Double(2)` -> `<double>2.0</double>`). */
export class Double {
  readonly value: number;
  constructor(value: number) {
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new EncodeError(`Double needs a finite number, got ${describe(value)}`);
    }
    this.value = value;
  }

  /** Arithmetic and comparisons see the number: `new Double(2) + 1 === 3`. */
  valueOf(): number {
    return this.value;
  }

  toJSON(): number {
    return this.value;
  }
}

export const INT32_MIN = -2147483648;
export const INT32_MAX = 2147483647;
export const INT64_MIN = -(2n ** 63n);
export const INT64_MAX = 2n ** 63n - 1n;

const DECIMAL_INTEGER = /^[+-]?[0-9]+$/;

/** Sends an integer as `<i8>`: a number, bigint or decimal string in the int64 range. */
export class I8 {
  readonly value: bigint;
  constructor(value: number | bigint | string) {
    let big: bigint;
    if (typeof value === 'bigint') {
      big = value;
    } else if (typeof value === 'number') {
      if (!Number.isInteger(value)) throw new EncodeError(`I8 needs an integer, got ${describe(value)}`);
      big = BigInt(value);
    } else if (typeof value === 'string') {
      if (!DECIMAL_INTEGER.test(value)) throw new EncodeError(`I8 needs a decimal integer, got ${JSON.stringify(value)}`);
      big = BigInt(value);
    } else {
      throw new EncodeError(`I8 needs a number, bigint or decimal string, got ${describe(value)}`);
    }
    if (big < INT64_MIN || big > INT64_MAX) throw new EncodeError(`${big} is out of the i8 (int64) range`);
    this.value = big;
  }
}

/**
 * Sends `text` verbatim as `<dateTime.iso8601>`, for a server that wants a
 * given form or a local time. The text must be one of the forms `loads`
 * accepts (see `parseDateTime`).
 */
export class DateTime {
  readonly value: string;
  constructor(text: string) {
    if (typeof text !== 'string' || parseDateTime(text) === null) {
      throw new EncodeError(`not an ISO 8601 dateTime: ${typeof text === 'string' ? JSON.stringify(text) : describe(text)}`);
    }
    this.value = text;
  }
  /** The instant the text names (UTC when it carries no zone). */
  toDate(): Date {
    return parseDateTime(this.value) as Date;
  }
}

// 19980717T14:08:55, 1998-07-17T14:08:55, 19980717T140855, optional .fraction,
// optional Z, +HH:MM or +HHMM. The date and the time each pick one form.
const DATE_TIME =
  /^([0-9]{4})(?:-([0-9]{2})-([0-9]{2})|([0-9]{2})([0-9]{2}))T([0-9]{2})(?::([0-9]{2}):([0-9]{2})|([0-9]{2})([0-9]{2}))(?:\.([0-9]+))?(Z|([+-])([0-9]{2}):?([0-9]{2}))?$/;

/**
 * Reads an XML-RPC dateTime (already trimmed); `null` if it is not one of
 * the accepted forms or names no real date. No zone means UTC.
 */
export function parseDateTime(text: string): Date | null {
  const m = DATE_TIME.exec(text);
  if (m === null) return null;
  const year = Number(m[1]);
  const month = Number(m[2] ?? m[4]);
  const day = Number(m[3] ?? m[5]);
  const hour = Number(m[6]);
  const minute = Number(m[7] ?? m[9]);
  const second = Number(m[8] ?? m[10]);
  const ms = m[11] === undefined ? 0 : Number(m[11].slice(0, 3).padEnd(3, '0'));
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null;
  if (hour > 23 || minute > 59 || second > 59) return null;
  let offsetMinutes = 0;
  if (m[13] !== undefined) {
    const zh = Number(m[14]);
    const zm = Number(m[15]);
    if (zh > 23 || zm > 59) return null;
    offsetMinutes = (m[13] === '-' ? -1 : 1) * (zh * 60 + zm);
  }
  // setUTCFullYear, not Date.UTC: Date.UTC maps years 0-99 to 1900-1999.
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute - offsetMinutes, second, ms);
  return date;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** A short name for a value's type, for error messages. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'function':
      return value.name ? `function ${value.name}` : 'a function';
    case 'symbol':
      return value.toString();
    case 'object': {
      const proto: unknown = Object.getPrototypeOf(value);
      const ctor = proto !== null && typeof proto === 'object' ? (proto as { constructor?: unknown }).constructor : undefined;
      const name = typeof ctor === 'function' && ctor.name ? ctor.name : 'object';
      return `an instance of ${name}`;
    }
    case 'number':
      return String(value);
    default:
      return typeof value;
  }
}
