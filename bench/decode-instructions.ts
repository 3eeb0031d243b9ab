// Instructions per decoded request, the decoder alone: what a server's
// `parseMethodCall(body, { wrapDoubles: true })` costs for a workload's
// request body (the demo handler's options). Runs itself under `valgrind
// --tool=callgrind`; after a warm-up the counters are zeroed
// (callgrind_control -z), N bodies are decoded and the count is dumped (-d):
// the main thread's count / N.
// usage: node dist/bench/decode-instructions.js [workload ...]   (add, struct, array, base64)
// Environment: DEC_WARMUP (documents, default 8000), DEC_N (default 2000),
// DEC_KEEP=1 keeps the dump, for callgrind_annotate.

import { fileURLToPath } from 'node:url';
import { parseMethodCall } from '../lib/xmlrpc/decode.js';
import { callgrindControl, measureInside } from './callgrind.js';
import { WORKLOADS, requestBody } from './workloads.js';

const WARMUP = Number(process.env['DEC_WARMUP'] ?? 8000);
const N = Number(process.env['DEC_N'] ?? 2000);

/** Under valgrind: decode, with the counters zeroed after the warm-up and dumped after N. */
async function decodeLoop(id: string): Promise<void> {
  const w = WORKLOADS.find((x) => x.id === id);
  if (w === undefined) throw new Error(`no workload ${id}`);
  // A fresh Buffer per request, as the server's body is; the same bytes.
  const body = requestBody(w);
  const options = { wrapDoubles: true };
  let params = 0;
  for (let i = 0; i < WARMUP; i++) params += parseMethodCall(Buffer.from(body), options).params.length;
  await callgrindControl('-z', process.pid);
  for (let i = 0; i < N; i++) params += parseMethodCall(Buffer.from(body), options).params.length;
  await callgrindControl('-d', process.pid);
  if (params === 0) throw new Error('nothing decoded');
}

const args = process.argv.slice(2);
if (args[0] === '--inside') {
  await decodeLoop(args[1] as string);
} else {
  for (const id of args.length === 0 ? ['struct'] : args) {
    process.stdout.write(
      `${id}: ${Math.round(measureInside(fileURLToPath(import.meta.url), id, N, 'DEC_KEEP')).toLocaleString('en')} instructions per request, main thread (warm-up ${WARMUP}, N ${N})\n`,
    );
  }
}
