// Ceiling: a bare node:net server answering each request with a fixed,
// precomputed HTTP response. It parses only enough to find where each request
// ends (the head's blank line, then Content-Length bytes of body, which it
// skips without buffering), so it handles pipelined requests: all the
// responses owed after one read go out in one write. Not an HTTP server to
// use, and not XML-RPC: it bounds what any server on node:net can do.
// usage: node dist/bench/servers/node-net.js [port]

import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import { BAD_REQUEST, fullResponse, responseBodiesByRequestLength } from './fixed-responses.js';

const responses = new Map<number, Buffer>();
for (const [length, body] of responseBodiesByRequestLength()) responses.set(length, fullResponse(body));

const MAX_HEAD = 16 * 1024;
const CRLFCRLF = Buffer.from('\r\n\r\n');
const CONTENT_LENGTH = /\r\ncontent-length:[ \t]*(\d+)/i;

function serve(socket: net.Socket): void {
  let head: Buffer = Buffer.alloc(0); // bytes of an unfinished head
  let skip = 0; // body bytes still to drop
  let owed: Buffer | null = null; // the response of the request whose body is being skipped
  socket.on('error', () => socket.destroy());
  socket.on('data', (chunk: Buffer) => {
    const out: Buffer[] = [];
    let at = 0;
    while (at < chunk.length) {
      if (skip > 0) {
        const n = Math.min(skip, chunk.length - at);
        skip -= n;
        at += n;
        if (skip === 0 && owed !== null) {
          out.push(owed);
          owed = null;
        }
        continue;
      }
      const rest = chunk.subarray(at);
      const data = head.length === 0 ? rest : Buffer.concat([head, rest]);
      const end = data.indexOf(CRLFCRLF);
      if (end < 0) {
        if (data.length > MAX_HEAD) return fail(socket, out);
        head = Buffer.from(data);
        break;
      }
      const match = CONTENT_LENGTH.exec(data.toString('latin1', 0, end + 2));
      const response = match === null ? undefined : responses.get(Number(match[1]));
      if (response === undefined) return fail(socket, out);
      at += end + 4 - head.length;
      head = Buffer.alloc(0);
      skip = Number(match![1]);
      if (skip === 0) out.push(response);
      else owed = response;
    }
    if (out.length === 1) socket.write(out[0]!);
    else if (out.length > 1) socket.write(Buffer.concat(out));
  });
}

function fail(socket: net.Socket, out: Buffer[]): void {
  out.push(BAD_REQUEST);
  socket.end(Buffer.concat(out));
}

const server = net.createServer({ noDelay: true }, serve);
server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => {
  process.stdout.write(`${(server.address() as AddressInfo).port}\n`);
});
