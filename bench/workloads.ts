// The payloads every benchmark uses: the codec bench encodes and decodes
// them, the server bench sends them to each server as methodCalls, and the
// ceiling servers answer them with a precomputed methodResponse.

import { dumps } from '../lib/xmlrpc/encode.js';

export function mixedStruct(): Record<string, unknown> {
  const s: Record<string, unknown> = {};
  for (let i = 0; i < 50; i++) {
    switch (i % 5) {
      case 0:
        s[`int${i}`] = i * 1000;
        break;
      case 1:
        s[`str${i}`] = `value <${i}> & more`;
        break;
      case 2:
        s[`dbl${i}`] = i + 0.25;
        break;
      case 3:
        s[`bool${i}`] = i % 2 === 0;
        break;
      default:
        s[`arr${i}`] = [i, `x${i}`];
        break;
    }
  }
  return s;
}

/** The codec bench's payloads: a name and the params of a call. */
// prettier-ignore
export const PAYLOADS: [string, unknown[]][] = [
  ['add(40, 2)', [40, 2]],
  ['struct of 50 members', [mixedStruct()]],
  ['array of 10,000 ints', [Array.from({ length: 10_000 }, (_, i) => i * 7 - 5000)]],
  ['1 MB base64', [Buffer.alloc(1 << 20, 0xa5)]],
];

export interface Workload {
  /** Short id, for BENCH_WORKLOADS and file names. */
  id: string;
  /** What the table calls it. */
  title: string;
  method: string;
  params: unknown[];
  /** The value a correct server answers. */
  result: unknown;
  /** Over ~100 KB: shorter runs, no pipelined run by default. */
  big: boolean;
}

export const WORKLOADS: readonly Workload[] = PAYLOADS.map(([title, params], i): Workload => {
  const id = ['add', 'struct', 'array', 'base64'][i]!;
  const method = id === 'add' ? 'add' : 'echo';
  const result = id === 'add' ? 42 : params[0];
  return { id, title: id === 'add' ? title : `echo(${title})`, method, params, result, big: i >= 2 };
});

/** The methodCall document a client sends for this workload. */
export function requestBody(w: Workload): Buffer {
  return Buffer.from(dumps(w.params, w.method));
}

/** The methodResponse a correct server could send (ours, byte for byte). */
export function responseBody(w: Workload): Buffer {
  return Buffer.from(dumps([w.result], { methodResponse: true }));
}
