// Bench peer: our Server with the demo handler (add, echo) on /RPC2.
// usage: node dist/bench/servers/ours.js [port] [--keep-alive-ms N] [--max-connections N]
// Prints the bound port on stdout, then serves until killed.

import { parseArgs } from 'node:util';
import { Server } from '../../lib/server/server.js';
import { DemoHandler } from '../../handlers/demo.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    'keep-alive-ms': { type: 'string' },
    'max-connections': { type: 'string' },
  },
});

const server = new Server({
  handlers: [new DemoHandler()],
  keepAliveTimeout: optionalInt(values['keep-alive-ms']),
  maxConnections: optionalInt(values['max-connections']),
});
const { port } = await server.listen(Number(positionals[0] ?? 0), '127.0.0.1');
process.stdout.write(`${port}\n`);

function optionalInt(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`not a positive integer: ${text}`);
  return n;
}
