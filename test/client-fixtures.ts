// Shared by the client tests (client-*.test.ts): our server with a request
// log, a scripted raw server for misbehaving peers, a self-signed
// certificate, and bounded waits. Loopback and port 0 only.

import * as net from 'node:net';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { HttpParser, type MessageHead } from '../lib/http/parser.js';
import { Server, type ServerOptions } from '../lib/server/server.js';
import type { Handler, Request } from '../lib/server/request.js';
import { DemoHandler } from '../handlers/demo.js';

/** Waits for `test` to hold, checking every 2 ms; rejects after `ms`. */
export async function waitFor(test: () => boolean, what: string, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

export interface DemoServer {
  server: Server;
  port: number;
  /** Every request the XML-RPC handler saw, in order. */
  requests: Request[];
  /** Distinct client sockets (remote ports) that sent requests. */
  sockets(): number;
  close(): Promise<void>;
}

/** Our server with the demo handler (add, echo, validator1, system.*), logging requests. */
export async function demoServer(options: ServerOptions = {}, extra: Handler[] = []): Promise<DemoServer> {
  const demo = new DemoHandler();
  const requests: Request[] = [];
  const logged: Handler = {
    match: (request) => demo.match(request),
    handle: (request) => {
      requests.push(request);
      return demo.handle(request);
    },
  };
  const server = new Server({ onError: () => {}, ...options, handlers: [...extra, logged] });
  const { port } = await server.listen(0, '127.0.0.1');
  return {
    server,
    port,
    requests,
    sockets: () => new Set(requests.map((r) => r.remotePort)).size,
    close: async () => {
      // A TLS socket whose handshake the client abandoned stays open (and
      // unref'd) until the server's handshakeTimeout: keep the loop alive
      // meanwhile, or the process would exit with close() pending.
      const keepAlive = setInterval(() => {}, 50);
      try {
        await server.close();
      } finally {
        clearInterval(keepAlive);
      }
    },
  };
}

export interface RawRequest {
  head: MessageHead;
  body: Buffer;
  socket: net.Socket;
  /** Which connection (0, 1, ...) and which request on it (0, 1, ...). */
  connection: number;
  index: number;
}

export interface ScriptedServer {
  port: number;
  /** Every complete request received. */
  requests: RawRequest[];
  /** Connections accepted, and how many of them have closed. */
  connections: number;
  closed: number;
  /** Bytes received per connection (whole or partial requests). */
  received: Buffer[][];
  close(): Promise<void>;
}

/**
 * A raw TCP server that parses requests with our parser and lets `script`
 * answer each one with exact bytes (or not at all).
 */
export async function scriptedServer(script: (request: RawRequest) => void, onConnection?: (socket: net.Socket) => void): Promise<ScriptedServer> {
  const sockets = new Set<net.Socket>();
  const state: ScriptedServer = {
    port: 0,
    requests: [],
    connections: 0,
    closed: 0,
    received: [],
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => listener.close(() => resolve()));
    },
  };
  const listener = net.createServer((socket) => {
    const connection = state.connections++;
    const received: Buffer[] = [];
    state.received.push(received);
    sockets.add(socket);
    let index = 0;
    let head: MessageHead | null = null;
    let chunks: Buffer[] = [];
    const parser = new HttpParser('request', {
      onHead: (h) => {
        head = h;
        chunks = [];
      },
      onBody: (chunk) => chunks.push(Buffer.from(chunk)),
      onComplete: () => {
        const request: RawRequest = { head: head!, body: Buffer.concat(chunks), socket, connection, index: index++ };
        state.requests.push(request);
        script(request);
      },
    });
    socket.on('data', (chunk: Buffer) => {
      received.push(chunk);
      try {
        parser.execute(chunk);
      } catch {
        socket.destroy();
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      sockets.delete(socket);
      state.closed++;
    });
    onConnection?.(socket);
  });
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', () => resolve()));
  state.port = (listener.address() as net.AddressInfo).port;
  return state;
}

/** A TCP server that accepts connections and never sends a byte (a TLS handshake that never completes). */
export async function silentServer(): Promise<{ port: number; connections: () => number; closed: () => number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  let connections = 0;
  let closed = 0;
  const listener = net.createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.resume(); // read and drop, so that the client's close is seen
    socket.on('error', () => {});
    socket.on('close', () => {
      sockets.delete(socket);
      closed++;
    });
  });
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', () => resolve()));
  return {
    port: (listener.address() as net.AddressInfo).port,
    connections: () => connections,
    closed: () => closed,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => listener.close(() => resolve()));
    },
  };
}

/** An HTTP/1.1 response with a Content-Length. */
export function httpResponse(body: string | Buffer, status = '200 OK', headers: Record<string, string> = {}): Buffer {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  let head = `HTTP/1.1 ${status}\r\nContent-Type: text/xml\r\nContent-Length: ${bytes.length}\r\n`;
  for (const [name, value] of Object.entries(headers)) head += `${name}: ${value}\r\n`;
  return Buffer.concat([Buffer.from(head + '\r\n', 'latin1'), bytes]);
}

export function xmlResult(valueXml: string): string {
  return `<?xml version="1.0"?><methodResponse><params><param><value>${valueXml}</value></param></params></methodResponse>`;
}

/** A TCP port nobody listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', () => resolve()));
  const { port } = s.address() as net.AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

export interface Certificate {
  key: Buffer;
  cert: Buffer;
}

/**
 * A self-signed P-256 certificate for localhost and 127.0.0.1, made with
 * openssl in a temporary directory (removed at once). A string says why
 * there is none.
 */
export function selfSignedCertificate(): Certificate | string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xmlrpc-client-cert-'));
  try {
    const keyFile = path.join(dir, 'key.pem');
    const certFile = path.join(dir, 'cert.pem');
    const r = spawnSync(
      'openssl',
      [
        'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
        '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-days', '1',
        '-keyout', keyFile, '-out', certFile,
      ],
      { encoding: 'utf8', timeout: 10_000 },
    );
    if (r.error !== undefined) return `openssl is not available: ${r.error.message}`;
    if (r.status !== 0) return `openssl failed: ${r.stderr.trim()}`;
    return { key: fs.readFileSync(keyFile), cert: fs.readFileSync(certFile) };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** How many active resources of a kind the process has ('TCPSocketWrap', 'TLSWrap', 'Timeout'). */
export function resources(kind: string): number {
  return process.getActiveResourcesInfo().filter((r) => r === kind).length;
}
