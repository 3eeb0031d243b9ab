// `npm start`: the demo server on http://127.0.0.1:8182/RPC2 (the Medusa
// recipe's port). Flags: --host, --port, --path. SIGINT/SIGTERM close it
// gracefully: in-flight calls are answered first.

import { parseArgs } from 'node:util';
import { Server } from '../lib/server/server.js';
import { DemoHandler } from './demo.js';

const USAGE = 'usage: npm start -- [--host 127.0.0.1] [--port 8182] [--path /RPC2]';

async function main(argv: string[]): Promise<void> {
  let values: { host?: string; port?: string; path?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        host: { type: 'string' },
        port: { type: 'string' },
        path: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
    process.exitCode = 2;
    return;
  }
  if (values.help === true) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const host = values.host ?? '127.0.0.1';
  const port = Number(values.port ?? 8182);
  const path = values.path ?? '/RPC2';
  if (!Number.isInteger(port) || port < 0 || port > 65535 || !path.startsWith('/')) {
    process.stderr.write(`bad --port or --path\n${USAGE}\n`);
    process.exitCode = 2;
    return;
  }
  const server = new Server({ handlers: [new DemoHandler({ path })] });
  const address = await server.listen(port, host);
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  process.stdout.write(`XML-RPC server listening on http://${shown}:${address.port}${path}\n`);
  const stop = (signal: string) => {
    process.stdout.write(`${signal}: closing\n`);
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
