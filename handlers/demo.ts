// The demo server's handler: the Medusa recipe's `add`, an `echo` of any
// value, the validator1 suite and the system.* methods.

import { Fault, FaultCode } from '../lib/errors.js';
import { XmlRpcDispatcher } from '../lib/xmlrpc/dispatcher.js';
import type { XmlRpcHandlerOptions } from '../lib/xmlrpc/handler.js';
import { registerValidator1 } from './validator1.js';

export function add(a: unknown, b: unknown): unknown {
  if (typeof a === 'number' && typeof b === 'number') return a + b;
  if (typeof a === 'bigint' && typeof b === 'bigint') return a + b;
  if (typeof a === 'string' && typeof b === 'string') return a + b;
  throw new Fault(FaultCode.INVALID_PARAMS, 'add takes two numbers, two i8s or two strings');
}

export function echo(value: unknown): unknown {
  return value;
}

export class DemoHandler extends XmlRpcDispatcher {
  constructor(options: XmlRpcHandlerOptions = {}) {
    super(options);
    this.registerFunction(add, 'add', {
      help: 'add(a, b): the sum of two numbers (or the concatenation of two strings).',
      signatures: [['int', 'int', 'int'], ['double', 'double', 'double']],
    });
    this.registerFunction(echo, 'echo', {
      help: 'echo(x): returns its argument unchanged, whatever its type.',
      signatures: [['any', 'any']],
    });
    registerValidator1(this);
  }
}
