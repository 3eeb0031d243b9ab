// The eight methods of Userland's validator1 interoperability suite.

import { Fault, FaultCode } from '../lib/errors.js';
import type { XmlRpcDispatcher } from '../lib/rpc/dispatcher.js';

type Struct = Record<string, unknown>;

function struct(value: unknown, what: string): Struct {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || value instanceof Date || value instanceof Uint8Array) {
    throw new Fault(FaultCode.INVALID_PARAMS, `${what} must be a struct`);
  }
  return value as Struct;
}

function int(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) throw new Fault(FaultCode.INVALID_PARAMS, `${what} must be an int`);
  return value;
}

function stoogeSum(s: Struct, what: string): number {
  return int(s.moe, `${what}.moe`) + int(s.larry, `${what}.larry`) + int(s.curly, `${what}.curly`);
}

// Plain functions: none uses `this` (they are registered and called on their own).
export const validator1 = {
  arrayOfStructsTest(this: void, list: unknown): number {
    if (!Array.isArray(list)) throw new Fault(FaultCode.INVALID_PARAMS, 'arrayOfStructsTest takes an array of structs');
    let sum = 0;
    for (const [i, item] of list.entries()) sum += int(struct(item, `[${i}]`).curly, `[${i}].curly`);
    return sum;
  },

  countTheEntities(this: void, text: unknown): Struct {
    if (typeof text !== 'string') throw new Fault(FaultCode.INVALID_PARAMS, 'countTheEntities takes a string');
    const count = (c: string) => text.split(c).length - 1;
    return {
      ctLeftAngleBrackets: count('<'),
      ctRightAngleBrackets: count('>'),
      ctAmpersands: count('&'),
      ctApostrophes: count("'"),
      ctQuotes: count('"'),
    };
  },

  easyStructTest(this: void, s: unknown): number {
    return stoogeSum(struct(s, 'easyStructTest param'), 'struct');
  },

  echoStructTest(this: void, s: unknown): Struct {
    return struct(s, 'echoStructTest param');
  },

  manyTypesTest(this: void, n: unknown, b: unknown, s: unknown, d: unknown, dt: unknown, b64: unknown): unknown[] {
    return [n, b, s, d, dt, b64];
  },

  moderateSizeArrayCheck(this: void, list: unknown): string {
    if (!Array.isArray(list) || list.length === 0) throw new Fault(FaultCode.INVALID_PARAMS, 'moderateSizeArrayCheck takes a non-empty array');
    const first: unknown = list[0];
    const last: unknown = list[list.length - 1];
    if (typeof first !== 'string' || typeof last !== 'string') {
      throw new Fault(FaultCode.INVALID_PARAMS, 'moderateSizeArrayCheck takes an array of strings');
    }
    return first + last;
  },

  nestedStructTest(this: void, calendar: unknown): number {
    const year = struct(struct(calendar, 'calendar')['2000'], 'calendar["2000"]');
    const month = struct(year['04'], 'calendar["2000"]["04"]');
    return stoogeSum(struct(month['01'], 'calendar["2000"]["04"]["01"]'), 'day');
  },

  simpleStructReturnTest(this: void, n: unknown): Struct {
    const k = int(n, 'simpleStructReturnTest param');
    return { times10: k * 10, times100: k * 100, times1000: k * 1000 };
  },
};

const SIGNATURES: Record<keyof typeof validator1, string[][]> = {
  arrayOfStructsTest: [['int', 'array']],
  countTheEntities: [['struct', 'string']],
  easyStructTest: [['int', 'struct']],
  echoStructTest: [['struct', 'struct']],
  manyTypesTest: [['array', 'int', 'boolean', 'string', 'double', 'dateTime.iso8601', 'base64']],
  moderateSizeArrayCheck: [['string', 'array']],
  nestedStructTest: [['int', 'struct']],
  simpleStructReturnTest: [['struct', 'int']],
};

/** Registers the validator1 methods as `validator1.<name>`. */
export function registerValidator1(dispatcher: XmlRpcDispatcher): void {
  for (const name of Object.keys(validator1) as (keyof typeof validator1)[]) {
    dispatcher.registerFunction(validator1[name], `validator1.${name}`, {
      help: `validator1.${name}: see the Userland validator1 suite.`,
      signatures: SIGNATURES[name],
    });
  }
}
