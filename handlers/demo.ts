// The demo server's handler: the Medusa recipe's `add`, an `echo` of any
// value, the validator1 suite and the system.* methods.

import { Fault, FaultCode } from '../lib/errors.js';
import { XmlRpcDispatcher } from '../lib/rpc/dispatcher.js';
import { Double } from '../lib/xmlrpc/values.js';
import type { XmlRpcHandlerOptions } from '../lib/rpc/handler.js';
import { registerValidator1 } from './validator1.js';

export function add(a: unknown, b: unknown): unknown {
  if (isNumber(a) && isNumber(b)) {
    const sum = a.valueOf() + b.valueOf();
    // double + anything is a double, as in Python: 1.0 + 2 is 3.0.
    return a instanceof Double || b instanceof Double ? new Double(sum) : sum;
  }
  if (typeof a === 'bigint' && typeof b === 'bigint') return a + b;
  if (typeof a === 'string' && typeof b === 'string') return a + b;
  throw new Fault(FaultCode.INVALID_PARAMS, 'add takes two numbers, two i8s or two strings');
}

function isNumber(x: unknown): x is number | Double {
  return typeof x === 'number' || x instanceof Double;
}

export function echo(value: unknown): unknown {
  return value;
}

// One signature per type, not `any` (no XML-RPC type): introspection
// clients read a list of [returnType, paramType] pairs, and the one
// parameter is still enforced (fault -32602 otherwise).
const ECHO_SIGNATURES = ['int', 'i8', 'boolean', 'string', 'double', 'dateTime.iso8601', 'base64', 'struct', 'array', 'nil'].map((type) => [type, type]);

export class DemoHandler extends XmlRpcDispatcher {
  constructor(options: XmlRpcHandlerOptions = {}) {
    // Doubles stay Doubles, so echo(2.0) answers <double>, not <int>.
    super({ wrapDoubles: true, ...options });
    this.registerFunction(add, 'add', {
      help: 'add(a, b): the sum of two numbers (or the concatenation of two strings).',
      signatures: [
        ['int', 'int', 'int'],
        ['double', 'double', 'double'],
        ['i8', 'i8', 'i8'],
        ['string', 'string', 'string'],
      ],
    });
    this.registerFunction(echo, 'echo', {
      help: 'echo(x): returns its argument unchanged, whatever its type.',
      signatures: ECHO_SIGNATURES,
    });
    registerValidator1(this);
  }
}
