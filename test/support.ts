// The one test support module: a raw loopback client that writes exact bytes
// and reads responses with our own parser, server fixtures (ours with a
// request log, a scripted raw server for misbehaving peers), a self-signed
// certificate, Python peers, and bounded polling. Loopback and port 0 only.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { HttpParser, type MessageHead } from '../lib/http/parser.js';
import { getHeader } from '../lib/http/headers.js';
import { Server, type ServerOptions } from '../lib/server/server.js';
import type { Handler, Request, Response } from '../lib/server/request.js';
import { DemoHandler } from '../handlers/demo.js';
import { XmlRpcDispatcher } from '../lib/rpc/dispatcher.js';
import type { Clock, ClockTimer } from '../lib/clock.js';

export interface RawResponse {
  status: number;
  headers: string[];
  body: Buffer;
  header(name: string): string | undefined;
  text(): string;
}

/**
 * Conditions a fixture re-checks on every event it sees (and every 5 ms, for
 * state that changes without one), each bounded by a generous limit that
 * only a stalled machine reaches: a failure bound, not a timing window.
 */

/**
 * The fixtures' default failure bound. 3 s was reached on a loaded 2-core
 * machine (cli.test's 300 KB echo through a codec worker, load 10): a bound
 * only a stalled machine reaches must be far above what a slow one takes.
 */
const STALL_MS = 30_000;
class Waiters {
  private list: (() => void)[] = [];

  until(test: () => boolean, what: string, ms: number): Promise<void> {
    if (test()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        clearInterval(poll);
        this.list = this.list.filter((w) => w !== check);
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
      this.list.push(check);
    });
  }

  wake(): void {
    for (const waiter of [...this.list]) waiter();
  }
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
  private readonly waiters = new Waiters();
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
  responsesCount(n: number, ms = STALL_MS): Promise<RawResponse[]> {
    return this.until(() => this.responses.length >= n, ms, `${n} responses`).then(() => this.responses.slice(0, n));
  }

  /** Resolves once the server has closed the connection. */
  whenClosed(ms = STALL_MS): Promise<void> {
    return this.until(() => this.closed, ms, 'the connection to close');
  }

  /** Waits for `test` to hold: checked on every socket event and every 5 ms. */
  until(test: () => boolean, ms: number, what: string): Promise<void> {
    return this.waiters.until(test, what, ms);
  }

  private wake(): void {
    this.waiters.wake();
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** A handler from two functions, for tests. */
export function handler(match: (request: Request) => boolean, handle: (request: Request) => Response | Promise<Response>): Handler {
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

/** A CLI child started by startCli: its URL once it printed one, its exit, and what it printed. */
export interface Running {
  child: ChildProcess;
  url: URL;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string }>;
  /** Resolves once the child has printed a line matching `pattern`; rejects if it exits first. */
  printed: (pattern: RegExp) => Promise<void>;
  /** Its stdout so far. */
  stdout: () => string;
}

/** Starts a server CLI (`command args`) and resolves once it prints "listening on URL"; killed after 60 s at most. */
export function startCli(command: string, args: string[], options: { cwd?: string } = {}): Promise<Running> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: options.cwd });
  let stdout = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string }>((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal, stdout }));
  });
  // A bound on a child that hangs, not a measure of anything.
  const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  void exited.then(() => clearTimeout(killer));
  const printed = (pattern: RegExp) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (!pattern.test(stdout)) return;
        child.stdout.off('data', check);
        resolve();
      };
      child.stdout.on('data', check);
      check();
      void exited.then(() => reject(new Error(`the CLI exited before printing ${String(pattern)}: ${stdout}`)));
    });
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  return printed(/listening on (\S+)/).then(() => ({ child, url: new URL(/listening on (\S+)/.exec(stdout)![1]!), exited, printed, stdout: () => stdout }));
}

// ---------------------------------------------------------------------------
// Client-side fixtures
/** Waits for `test` to hold, checking every 2 ms; rejects after `ms`. */
export async function pollUntil(test: () => boolean, what: string, ms = STALL_MS): Promise<void> {
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
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=IP:127.0.0.1,DNS:localhost',
        '-days',
        '1',
        '-keyout',
        keyFile,
        '-out',
        certFile,
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

/**
 * The active resources now that were not there at `before` (a snapshot of
 * process.getActiveResourcesInfo()), counted by kind: what a test left behind.
 * A resource of `before` that has closed meanwhile (a port of an earlier
 * test, torn down late) is no leak.
 */
export function leftSince(before: readonly string[]): string[] {
  const owed = new Map<string, number>();
  for (const r of before) owed.set(r, (owed.get(r) ?? 0) + 1);
  const left: string[] = [];
  for (const r of process.getActiveResourcesInfo().sort()) {
    const n = owed.get(r) ?? 0;
    if (n > 0) owed.set(r, n - 1);
    else left.push(r);
  }
  return left;
}

// ---------------------------------------------------------------------------
// Time as an input

/**
 * A clock the test moves by hand: `advance(ms)` runs, in deadline order, every
 * timer that falls due, so a timeout is tested without waiting for one.
 */
export class ManualClock implements Clock {
  private time = 0;
  private nextId = 1;
  private readonly timers = new Map<number, { at: number; every: number; fn: () => void }>();

  now(): number {
    return this.time;
  }

  setTimeout(fn: () => void, ms: number): ClockTimer {
    return this.arm(fn, ms, 0);
  }

  setInterval(fn: () => void, ms: number): ClockTimer {
    return this.arm(fn, ms, Math.max(1, ms));
  }

  clearTimeout(timer: ClockTimer): void {
    this.timers.delete((timer as ManualTimer).id);
  }

  clearInterval(timer: ClockTimer): void {
    this.timers.delete((timer as ManualTimer).id);
  }

  /** Timers armed and not yet fired or cleared. */
  get pending(): number {
    return this.timers.size;
  }

  /** Moves time forward by `ms`, firing what falls due on the way. */
  advance(ms: number): void {
    const end = this.time + ms;
    for (let fired = 0; fired < 100_000; fired++) {
      let id = 0;
      let at = Infinity;
      for (const [key, timer] of this.timers) {
        if (timer.at < at) {
          at = timer.at;
          id = key;
        }
      }
      if (id === 0 || at > end) break;
      const timer = this.timers.get(id)!;
      this.time = Math.max(this.time, at);
      if (timer.every > 0) timer.at += timer.every;
      else this.timers.delete(id);
      timer.fn();
    }
    this.time = end;
  }

  private arm(fn: () => void, ms: number, every: number): ClockTimer {
    const id = this.nextId++;
    this.timers.set(id, { at: this.time + Math.max(0, ms), every, fn });
    return new ManualTimer(id);
  }
}

class ManualTimer implements ClockTimer {
  constructor(readonly id: number) {}
  unref(): this {
    return this;
  }
}

/**
 * A ManualClock that also says which armed timers fall due by a given time,
 * so a test can wait until exactly the timers it expects are armed before it
 * advances the clock.
 */
export class WatchedClock extends ManualClock {
  private readonly due = new Map<ClockTimer, number>();

  override setTimeout(fn: () => void, ms: number): ClockTimer {
    const timer: ClockTimer = super.setTimeout(() => {
      this.due.delete(timer);
      fn();
    }, ms);
    this.due.set(timer, this.now() + Math.max(0, ms));
    return timer;
  }

  override clearTimeout(timer: ClockTimer): void {
    this.due.delete(timer);
    super.clearTimeout(timer);
  }

  /** One-shot timers armed now that fall due by `at` (clock time). */
  dueBy(at: number): number {
    let n = 0;
    for (const when of this.due.values()) if (when <= at) n++;
    return n;
  }
}

// ---------------------------------------------------------------------------
// Ordering server tests by events, never by the wall clock

/** A promise the test opens when it chooses: a handler awaits it, the test decides when it finishes. */
export interface Gate<T = void> {
  readonly promise: Promise<T>;
  readonly open: (value: T) => void;
}

export function gate<T = void>(): Gate<T> {
  let open!: (value: T) => void;
  const promise = new Promise<T>((resolve) => (open = resolve));
  return { promise, open };
}

/**
 * POST /hold, answered `body` once the test opens `release`: a request that
 * stays in flight as long as the test wants. `held()` counts those that
 * reached the handler.
 */
export function holdHandler(body = 'answered'): { handler: Handler; release: Gate; held: () => number } {
  const release = gate();
  let held = 0;
  const hold = handler(
    (r) => r.path === '/hold',
    async () => (held++, await release.promise, { status: 200, body }),
  );
  return { handler: hold, release, held: () => held };
}

/**
 * Lets the event loop run `n` whole turns (timers, I/O, setImmediate), so
 * that whatever is already due has happened. Counts turns, not milliseconds.
 */
export async function turns(n = 1): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** The server's side of one accepted connection, as the test sees it. */
export interface ServerSide {
  readonly socket: net.Socket;
  /** Chunks, and bytes, the server has read from this connection so far. */
  reads: number;
  bytes: number;
  /** The client's FIN has reached the server. */
  ended: boolean;
}

/**
 * Watches the server's side of every connection `server` accepts from now
 * on, so a test can wait until the server has read the bytes it sent, or
 * seen its FIN, before it goes on (instead of sleeping and hoping). Our
 * listeners are added after the server's own, so when one fires the server
 * has already handled the same event. Reads the server's private listener:
 * the one place a test reaches inside Server.
 */
export class ServerSides {
  readonly sides: ServerSide[] = [];
  private readonly waiters = new Waiters();

  constructor(server: Server) {
    const listener = (server as unknown as { listener: net.Server }).listener;
    listener.on('connection', (socket: net.Socket) => {
      const side: ServerSide = { socket, reads: 0, bytes: 0, ended: false };
      this.sides.push(side);
      socket.on('data', (chunk: Buffer) => {
        side.reads++;
        side.bytes += chunk.length;
        this.wake();
      });
      socket.on('end', () => {
        side.ended = true;
        this.wake();
      });
      this.wake();
    });
  }

  /** The server's side of the connection `client` opened. */
  async of(client: net.Socket, ms = 5000): Promise<ServerSide> {
    const find = () => this.sides.find((s) => s.socket.remotePort === client.localPort);
    await this.until(() => find() !== undefined, 'the server to accept the connection', ms);
    return find()!;
  }

  /** Waits for `test` to hold, checked after each server-side event (and every 5 ms); rejects after `ms`. */
  until(test: () => boolean, what: string, ms = 5000): Promise<void> {
    return this.waiters.until(test, what, ms);
  }

  private wake(): void {
    this.waiters.wake();
  }
}

/**
 * Reads a paused socket in steps of about `perStep` bytes, calling `between`
 * after each step that took bytes (to advance a test's clock while the rest
 * of a response is still on its way, say), until it closes or `want` bytes
 * have come. Each step waits for the bytes to arrive, not for a time. Resolves
 * to the bytes read; rejects after `ms` (a bound, not a measure).
 */
export function readInSteps(socket: net.Socket, opts: { perStep: number; want: number; between?: () => void; ms?: number }): Promise<number> {
  socket.pause();
  let got = 0;
  let done = false;
  return new Promise((resolve, reject) => {
    const finish = (err?: Error) => {
      done = true;
      clearTimeout(timer);
      socket.off('readable', step);
      socket.off('close', closed);
      if (err === undefined) resolve(got);
      else reject(err);
    };
    const timer = setTimeout(() => finish(new Error(`read ${got} of ${opts.want} bytes before the bound`)), opts.ms ?? 20_000);
    const closed = () => {
      // What is still buffered came before the close.
      for (let chunk: Buffer | null; (chunk = socket.read() as Buffer | null) !== null;) got += chunk.length;
      finish();
    };
    const step = () => {
      if (done) return;
      let taken = 0;
      for (let chunk: Buffer | null; taken < opts.perStep && (chunk = socket.read() as Buffer | null) !== null;) {
        got += chunk.length;
        taken += chunk.length;
      }
      if (got >= opts.want) return finish();
      if (taken > 0) opts.between?.();
      // Bytes left in the buffer raise no new 'readable': take them on the next turn.
      if (socket.readableLength > 0) setImmediate(step);
    };
    socket.on('readable', step);
    socket.once('close', closed);
    step();
  });
}

/** Answers POST /echo with the request body (server tests). */
export const echoBody: Handler = handler(
  (r) => r.path === '/echo',
  (r) => ({ status: 200, headers: { 'Content-Type': 'text/plain' }, body: r.body }),
);

/** A response body larger than the socket buffers hold, so it is still going out while the client reads. */
export const big = Buffer.alloc(4 << 20, 'x');
export const bigBody: Handler = handler(
  () => true,
  () => ({ status: 200, headers: { 'Content-Type': 'text/plain' }, body: big }),
);

/**
 * Sends `request` on a fresh socket that reads nothing until the first
 * response bytes have arrived, calls `onFirstBytes` then (the response is
 * surely still going out), and reads the rest with readInSteps, calling
 * `between` after each step. Resolves to the bytes read.
 */
export async function bigGet(port: number, request: string, opts: { onFirstBytes?: (socket: net.Socket) => void; between?: () => void } = {}): Promise<number> {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => {});
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.pause();
  socket.write(request);
  try {
    if (opts.onFirstBytes !== undefined) {
      await new Promise((resolve) => socket.once('readable', resolve));
      opts.onFirstBytes(socket);
    }
    return await readInSteps(socket, { perStep: 128 << 10, want: big.length + 40, between: opts.between });
  } finally {
    socket.destroy();
  }
}

/**
 * A server whose one method, `second(tag)`, answers `tag` one second of
 * `clock` later (the test advances it); `received()` counts the calls that
 * reached it.
 */
export async function oneSecondServer(clock: ManualClock): Promise<{ server: Server; port: number; received: () => number }> {
  let received = 0;
  const rpc = new XmlRpcDispatcher();
  rpc.registerFunction((tag: unknown) => {
    received++;
    return new Promise((resolve) => clock.setTimeout(() => resolve(tag), 1000));
  }, 'second');
  const { server, port } = await startServer({ handlers: [rpc] });
  return { server, port, received: () => received };
}

/** The error `promise` rejects with (fails the test if it resolves). */
export async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected the call to fail');
}

/** Runs a Python script (`python3 -c script ...args`) that prints one JSON document; resolves to it (killed after 60 s). */
export function runPythonJson<T>(script: string, ...args: string[]): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn('python3', ['-c', script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) reject(new Error(`python3 exited ${code}: ${stderr}`));
      else resolve(JSON.parse(stdout) as T);
    });
  });
}

/**
 * The process `pid` has exited. Our own children are reaped by Node (ESRCH);
 * an orphan is reaped by init, and this container's init does not reap, so
 * an orphan that has exited stays a zombie ('Z' in /proc/<pid>/stat).
 */
export function processGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
  try {
    return fs
      .readFileSync(`/proc/${pid}/stat`, 'utf8')
      .replace(/^.*\) /s, '')
      .startsWith('Z');
  } catch {
    return true;
  }
}

/**
 * The parent-death checks of the offload and process layers: runs `script`
 * (a fixture that starts its children, prints `child <pid>` for each and
 * then `ready`), kills it with SIGKILL, and resolves to the children's pids
 * once every one has exited by itself (it throws when one is missing before
 * the kill). The teardown kills whatever is left.
 */
export async function orphansAfterParentKill(t: { teardown(fn: () => void): void }, script: string, children: number, what: string): Promise<number[]> {
  const parent = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const pids: number[] = [];
  t.teardown(() => {
    // Whatever failed, nothing stays behind.
    parent.kill('SIGKILL');
    for (const pid of pids) if (!processGone(pid)) process.kill(pid, 'SIGKILL');
  });
  let text = '';
  await new Promise<void>((resolve, reject) => {
    parent.once('exit', (code, signal) => reject(new Error(`the parent ended early (${code ?? signal})`)));
    parent.stdout!.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      if (text.includes('ready\n')) resolve();
    });
  });
  for (const match of text.matchAll(/child (\d+)/g)) pids.push(Number(match[1]));
  if (pids.length !== children) throw new Error(`${what}: ${pids.length} children started, not ${children}`);
  if (!pids.every((pid) => !processGone(pid))) throw new Error(`${what}: a child was gone before its parent was killed`);
  const exited = new Promise((resolve) => parent.once('exit', resolve));
  parent.kill('SIGKILL');
  await exited;
  await pollUntil(() => pids.every(processGone), `${what}: every child of the killed parent to exit`, 20_000);
  return pids;
}

/** How a command ended: its exit code (null when killed) and what it wrote. */
export interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end, collecting its output; SIGKILLed past `timeout` ms (a bound for a stuck test, not a measure). */
export function runCommand(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeout: number }): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'], env: options.env ?? process.env });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeout);
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
