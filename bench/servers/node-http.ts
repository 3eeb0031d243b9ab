// Ceiling: a node:http server answering each request with a fixed,
// precomputed methodResponse (chosen by the request's Content-Length). Not an
// XML-RPC server: it bounds what any node:http-based server can do.
// usage: node dist/bench/servers/node-http.js [port]

import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { responseBodiesByRequestLength } from './fixed-responses.js';

const bodies = responseBodiesByRequestLength();

const server = http.createServer((req, res) => {
  const body = bodies.get(Number(req.headers['content-length']));
  req.resume(); // read and drop the request body
  req.on('end', () => {
    if (body === undefined) {
      res.writeHead(400, { 'Content-Length': 0, Connection: 'close' }).end();
      return;
    }
    res.writeHead(200, { 'Content-Type': 'text/xml', 'Content-Length': body.length }).end(body);
  });
});
server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => {
  process.stdout.write(`${(server.address() as AddressInfo).port}\n`);
});
