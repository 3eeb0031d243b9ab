// Shared by the tests: a raw loopback client that writes exact bytes and
// reads responses with our own parser, and small server fixtures.

import { spawn } from 'node:child_process';
import * as net from 'node:net';
import { HttpParser, type MessageHead } from '../lib/http/parser.js';
import { getHeader } from '../lib/http/headers.js';
import { Server, type ServerOptions } from '../lib/server/server.js';
import type { Handler, Request, Response } from '../lib/server/request.js';

export interface RawResponse {
  status: number;
  headers: string[];
  body: Buffer;
  header(name: string): string | undefined;
  text(): string;
}

/**
 * A client socket that writes exact bytes and parses whatever comes back.
 * Every wait is bounded in time, so a broken server fails a test rather
 * than hanging it.
 */
export class RawClient {
  readonly socket: net.Socket;
  readonly responses: RawResponse[] = [];
  readonly informational: MessageHead[] = [];
  closed = false;
  /** How many coming responses answer HEAD requests (and so have no body). */
  headResponses = 0;
  parseError: Error | null = null;
  private readonly parser: HttpParser;
  private waiters: (() => void)[] = [];
  private readonly ready: Promise<void>;

  constructor(port: number, host = '127.0.0.1') {
    let head: MessageHead | null = null;
    let chunks: Buffer[] = [];
    this.parser = new HttpParser('response', {
      onHead: (h) => {
        head = h;
        chunks = [];
        if (this.headResponses === 0) return false;
        this.headResponses--;
        return true;
      },
      onBody: (chunk) => chunks.push(Buffer.from(chunk)),
      onComplete: () => {
        const h = head!;
        const body = Buffer.concat(chunks);
        this.responses.push({
          status: h.status,
          headers: h.headers,
          body,
          header: (name) => getHeader(h.headers, name.toLowerCase()),
          text: () => body.toString('utf8'),
        });
        this.wake();
      },
      onInformational: (h) => {
        this.informational.push(h);
        this.wake();
      },
    });
    this.socket = net.connect(port, host);
    this.socket.on('data', (chunk: Buffer) => {
      try {
        this.parser.execute(chunk);
      } catch (err) {
        this.parseError = err as Error;
      }
      this.wake();
    });
    this.socket.on('error', () => {});
    this.socket.on('close', () => {
      this.closed = true;
      try {
        this.parser.finish();
      } catch (err) {
        this.parseError ??= err as Error;
      }
      this.wake();
    });
    this.ready = new Promise((resolve, reject) => {
      this.socket.once('connect', () => resolve());
      this.socket.once('error', reject);
    });
  }

  static async open(port: number, host?: string): Promise<RawClient> {
    const client = new RawClient(port, host);
    await client.ready;
    return client;
  }

  write(data: string | Buffer): void {
    this.socket.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
  }

  /** Resolves when `n` responses have arrived (or rejects after `ms`). */
  responsesCount(n: number, ms = 3000): Promise<RawResponse[]> {
    return this.until(() => this.responses.length >= n, ms, `${n} responses`).then(() => this.responses.slice(0, n));
  }

  /** Resolves once the server has closed the connection. */
  whenClosed(ms = 3000): Promise<void> {
    return this.until(() => this.closed, ms, 'the connection to close');
  }

  /** Waits for `test` to hold: checked on every socket event and every 5 ms. */
  until(test: () => boolean, ms: number, what: string): Promise<void> {
    if (test()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        clearInterval(poll);
        this.waiters = this.waiters.filter((w) => w !== check);
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out after ${ms} ms waiting for ${what}`));
      }, ms);
      const poll = setInterval(() => check(), 5);
      const check = () => {
        if (!test()) return;
        done();
        resolve();
      };
      this.waiters.push(check);
    });
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** A handler from two functions, for tests. */
export function handler(
  match: (request: Request) => boolean,
  handle: (request: Request) => Response | Promise<Response>,
): Handler {
  return { match, handle };
}

/** Starts a server on 127.0.0.1 port 0; the returned `close` must be awaited (t.teardown). */
export async function startServer(options: ServerOptions = {}): Promise<{ server: Server; port: number }> {
  const server = new Server({ onError: () => {}, ...options });
  const address = await server.listen(0, '127.0.0.1');
  return { server, port: address.port };
}

export function post(path: string, body: string, extra = ''): string {
  return `POST ${path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/xml\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** One XML-RPC call over a fresh raw connection: the decoded response body. */
export async function rpc(port: number, body: string, path = '/RPC2'): Promise<RawResponse> {
  const c = await RawClient.open(port);
  try {
    c.write(post(path, body));
    const [r] = await c.responsesCount(1);
    return r!;
  } finally {
    c.destroy();
  }
}

/**
 * Reads a paused socket slowly, at most `perTick` bytes every `tickMs`, until
 * it closes, `want` bytes have come, or `ms` pass. Resolves to the bytes read.
 */
export async function readSlowly(socket: net.Socket, opts: { perTick: number; tickMs: number; want: number; ms: number }): Promise<number> {
  socket.pause();
  let got = 0;
  let closed = false;
  socket.once('close', () => (closed = true));
  const until = Date.now() + opts.ms;
  while (!closed && got < opts.want && Date.now() < until) {
    let taken = 0;
    let chunk: Buffer | null;
    while (taken < opts.perTick && (chunk = socket.read() as Buffer | null) !== null) {
      got += chunk.length;
      taken += chunk.length;
    }
    await sleep(opts.tickMs);
  }
  return got;
}

/**
 * Starts a child program that prints the port it listens on as its first
 * line (a Python peer, say); it is stopped in `t`'s teardown (SIGTERM, then
 * SIGKILL after 3 s). Rejects if it exits or stays silent for 10 s.
 */
export async function spawnListening(t: { teardown(fn: () => unknown): void }, command: string, args: string[]): Promise<number> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  t.teardown(async () => {
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(killer);
  });
  return new Promise<number>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${command} did not start: ${stderr}`)), 10_000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (!out.includes('\n')) return;
      clearTimeout(timer);
      resolve(Number(out.split('\n')[0]));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${command} exited ${String(code)}: ${stderr}`));
    });
  });
}
