// Bench peer: @foxglove/xmlrpc's XmlRpcServer over its node:http adapter
// (HttpServerNodejs), add and echo. It answers any path.
// usage: node dist/bench/servers/foxglove.js [port]

import { XmlRpcServer, type XmlRpcValue } from '@foxglove/xmlrpc';
import { HttpServerNodejs } from '@foxglove/xmlrpc/nodejs';

const server = new XmlRpcServer(new HttpServerNodejs());
server.setHandler('add', (_method, args) => Promise.resolve((args[0] as number) + (args[1] as number)));
server.setHandler('echo', (_method, args) => Promise.resolve(args[0] as XmlRpcValue));
await server.listen(Number(process.argv[2] ?? 0), '127.0.0.1');
process.stdout.write(`${server.port()}\n`);
