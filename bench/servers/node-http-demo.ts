// Bench peer for bench/attack.ts: the same XML-RPC demo as ours (the
// DemoHandler of handlers/demo.ts) served by `node:http` with its defaults.
// Nothing is bounded beyond what node:http bounds by itself: the body is
// collected whole (node:http has no body limit), a gzip body is inflated by
// zlib with its defaults (no output cap), and a large response goes out
// gzipped to a client that accepts it, at ours' threshold and level, so the
// two servers do the same work. What a plain node:http XML-RPC server does.
// usage: node dist/bench/servers/node-http-demo.js [port]

import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import * as zlib from 'node:zlib';
import { DemoHandler } from '../../handlers/demo.js';
import { Request, type Response } from '../../lib/server/request.js';

const gunzip = promisify(zlib.gunzip);
const gzip = promisify(zlib.gzip);
/** Ours' default gzipThreshold and its level. */
const GZIP_THRESHOLD = 1400;
const GZIP_LEVEL = 1;

const handler = new DemoHandler();

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    answer(req, Buffer.concat(chunks)).then(
      (response) => send(res, response),
      (err: unknown) => send(res, { response: { status: 500, body: `${(err as Error).message}\n` }, gzipOk: false }),
    );
  });
});
// A client gone mid-request is its own business.
server.on('clientError', (_err, socket) => socket.destroy());
server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => {
  process.stdout.write(`${(server.address() as AddressInfo).port}\n`);
});

async function answer(req: http.IncomingMessage, raw: Buffer): Promise<{ response: Response; gzipOk: boolean }> {
  const headers: string[] = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) headers.push(req.rawHeaders[i]!.toLowerCase(), req.rawHeaders[i + 1]!);
  const request = new Request(
    {
      method: req.method ?? 'GET',
      target: req.url ?? '/',
      status: 0,
      reason: '',
      versionMinor: req.httpVersionMinor,
      headers,
      contentLength: raw.length,
      chunked: false,
      keepAlive: true,
      expectContinue: false,
    },
    req.socket.remoteAddress,
    req.socket.remotePort,
  );
  const coding = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  if (coding === 'gzip') {
    try {
      request.body = await gunzip(raw);
    } catch (err) {
      return { response: { status: 400, body: `bad gzip body: ${(err as Error).message}\n` }, gzipOk: false };
    }
  } else if (coding !== 'identity') {
    return { response: { status: 415, body: 'only gzip bodies are decoded\n' }, gzipOk: false };
  } else {
    request.body = raw;
  }
  if (!handler.match(request)) return { response: { status: 404, body: 'Not Found\n' }, gzipOk: false };
  const gzipOk = /\bgzip\b/i.test(req.headers['accept-encoding'] ?? '');
  return { response: await handler.handle(request), gzipOk };
}

function send(res: http.ServerResponse, { response, gzipOk }: { response: Response; gzipOk: boolean }): void {
  const headers = { 'Content-Type': 'text/plain', ...response.headers };
  const body = response.body ?? '';
  if (!gzipOk || Buffer.byteLength(body) < GZIP_THRESHOLD) {
    res.writeHead(response.status, headers).end(body);
    return;
  }
  gzip(body, { level: GZIP_LEVEL }).then(
    (compressed) => res.writeHead(response.status, { ...headers, 'Content-Encoding': 'gzip', Vary: 'Accept-Encoding' }).end(compressed),
    () => res.writeHead(500).end(),
  );
}
