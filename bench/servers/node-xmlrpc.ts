// Bench peer: npm's `xmlrpc` (node-xmlrpc) server, add and echo.
// usage: node dist/bench/servers/node-xmlrpc.js [port]
// node-xmlrpc answers any path; it sends its responses chunked (no Content-Length).

import xmlrpc from 'xmlrpc';

const server = xmlrpc.createServer({ host: '127.0.0.1', port: Number(process.argv[2] ?? 0) }, () => {
  const address = server.httpServer.address();
  if (address === null || typeof address === 'string') throw new Error('no bound port');
  process.stdout.write(`${address.port}\n`);
});
server.on('add', (_err: unknown, params: number[], callback: (err: unknown, value: unknown) => void) => {
  callback(null, params[0]! + params[1]!);
});
server.on('echo', (_err: unknown, params: unknown[], callback: (err: unknown, value: unknown) => void) => {
  callback(null, params[0]);
});
