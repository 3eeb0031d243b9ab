// Instructions per encoded response, the encoder alone: what a server's
// `bufferDumps([result], { methodResponse: true })` costs for a workload's
// value as the server has it (decoded from the request by `loads`, as the
// echo method returns it). Runs itself under `valgrind --tool=callgrind`;
// after a warm-up the counters are zeroed (callgrind_control -z), N documents
// are encoded and the count is dumped (-d): the main thread's count / N.
// usage: node dist/bench/encode-instructions.js [workload ...]   (add, struct, array, base64)
// Environment: ENC_WARMUP (documents, default 5000), ENC_N (default 2000),
// ENC_KEEP=1 keeps the dump, for callgrind_annotate; ENC_FIRST=1 encodes the
// value of the first decode (a struct then is a dictionary-mode object);
// ENC_FRESH=1 encodes a value of its own each time, decoded before the
// counted window, as the server's echo does: its text that held an entity
// is then a cons string the encoder's first read flattens, not a string
// flattened by the documents before.

import { fileURLToPath } from 'node:url';
import { loads } from '../lib/xmlrpc/decode.js';
import { bufferDumps } from '../lib/xmlrpc/encode.js';
import { callgrindControl, measureInside } from './callgrind.js';
import { WORKLOADS, requestBody } from './workloads.js';

const WARMUP = Number(process.env['ENC_WARMUP'] ?? 5000);
const N = Number(process.env['ENC_N'] ?? 2000);

/** Under valgrind: encode, with the counters zeroed after the warm-up and dumped after N. */
async function encodeLoop(id: string): Promise<void> {
  const w = WORKLOADS.find((x) => x.id === id);
  if (w === undefined) throw new Error(`no workload ${id}`);
  // Decoded three times, the last one kept: a struct of a kind the decoder
  // has met before is a fast-properties copy of a template (shapes.ts), as
  // the server's echo returns it; the first is a dictionary-mode object.
  const body = requestBody(w);
  let value = loads(body).params[0];
  if (process.env['ENC_FIRST'] === undefined) for (let i = 0; i < 2; i++) value = loads(body).params[0];
  const options = { methodResponse: true };
  const fresh = process.env['ENC_FRESH'] !== undefined;
  const values = (n: number): unknown[] => (fresh ? Array.from({ length: n }, () => loads(body).params[0]) : new Array<unknown>(n).fill(value));
  let bytes = 0;
  for (const v of values(WARMUP)) bytes += bufferDumps([v], options).length;
  const counted = values(N);
  await callgrindControl('-z', process.pid);
  for (const v of counted) bytes += bufferDumps([v], options).length;
  await callgrindControl('-d', process.pid);
  if (bytes === 0) throw new Error('nothing encoded');
}

const args = process.argv.slice(2);
if (args[0] === '--inside') {
  await encodeLoop(args[1] as string);
} else {
  for (const id of args.length === 0 ? ['struct'] : args) {
    process.stdout.write(
      `${id}: ${Math.round(measureInside(fileURLToPath(import.meta.url), id, N, 'ENC_KEEP')).toLocaleString('en')} instructions per response, main thread (warm-up ${WARMUP}, N ${N})\n`,
    );
  }
}
