// Shared by the interop tests with foreign peers (Ruby, Perl, PHP, C): the
// demo server with a few test methods, a tagged view of what our server
// decoded, and a runner for a peer's client script that prints JSON.

import { spawn, spawnSync } from 'node:child_process';
import { Server } from '../lib/server/server.js';
import { DemoHandler } from '../handlers/demo.js';
import { Fault } from '../lib/errors.js';
import { getHeader } from '../lib/http/headers.js';
import { Double } from '../lib/xmlrpc/values.js';
import type { Request } from '../lib/server/request.js';
import type { XmlRpcValue } from '../lib/xmlrpc/values.js';
import { runCommand } from './support.js';

/**
 * What our server decoded, with its XML-RPC type visible, as one string:
 * `int:7`, `i8:9007199254740993`, `double:3.25`, `bool:true`, `string:"a"`,
 * `date:1998-07-17T14:08:55.000Z`, `base64:00ff`, `nil`, `[a,b]`, `{k:v}`.
 */
export function kind(value: unknown): string {
  if (value === null) return 'nil';
  if (value instanceof Double) return `double:${Object.is(value.value, -0) ? '-0' : String(value.value)}`;
  if (typeof value === 'number') return `int:${value}`;
  if (typeof value === 'bigint') return `i8:${value}`;
  if (typeof value === 'boolean') return `bool:${value}`;
  if (typeof value === 'string') return `string:${JSON.stringify(value)}`;
  if (value instanceof Date) return `date:${value.toISOString()}`;
  if (Buffer.isBuffer(value)) return `base64:${value.toString('hex')}`;
  if (Array.isArray(value)) return `[${value.map(kind).join(',')}]`;
  const members = Object.keys(value as object).sort();
  return `{${members.map((k) => `${k}:${kind((value as Record<string, unknown>)[k])}`).join(',')}}`;
}

/** The HTTP framing of one request as the server saw it. */
export interface Framing {
  version: string;
  chunked: boolean;
  connection: string | undefined;
  expect: string | undefined;
  contentType: string | undefined;
  userAgent: string | undefined;
  remotePort: number | undefined;
}

/** The demo handler plus `kind(x)`, `fault(code, text)`, `boom()` and a record of each request's framing. */
export class PeerDemo extends DemoHandler {
  readonly framings: Framing[] = [];
  constructor() {
    super();
    this.registerFunction((x: unknown) => kind(x), 'kind', { help: 'kind(x): the type and value our server decoded.' });
    this.registerFunction((code: unknown) => String.fromCodePoint(Number(code)), 'char', {
      help: 'char(code): the one-character string with that code point.',
    });
    this.registerFunction((text: unknown) => BigInt(String(text)), 'i8', { help: 'i8(text): that decimal integer, sent as <i8>.' });
    this.registerFunction(
      (code: unknown, text: unknown) => {
        throw new Fault(Number(code), String(text));
      },
      'fault',
      { help: 'fault(code, text): answers that fault.' },
    );
    this.registerFunction(
      () => {
        throw new Error('boom');
      },
      'boom',
      { help: 'boom(): a handler that throws.' },
    );
  }
  override call(method: string, params: XmlRpcValue[], request?: Request): unknown {
    if (request !== undefined) {
      this.framings.push({
        version: `1.${request.versionMinor}`,
        chunked: /chunked/i.test(getHeader(request.headers, 'transfer-encoding') ?? ''),
        connection: getHeader(request.headers, 'connection'),
        expect: getHeader(request.headers, 'expect'),
        contentType: getHeader(request.headers, 'content-type'),
        userAgent: getHeader(request.headers, 'user-agent'),
        remotePort: request.remotePort,
      });
    }
    return super.call(method, params, request);
  }
}

/** Starts our Server with PeerDemo on 127.0.0.1, port 0; closed in teardown. */
export async function peerServer(t: { teardown(fn: () => unknown): void }): Promise<{ demo: PeerDemo; port: number; url: string }> {
  const demo = new PeerDemo();
  // A long keep-alive: a loaded test machine may pause a peer between calls.
  const server = new Server({ handlers: [demo], onError: () => {}, keepAliveTimeout: 120_000 });
  const { port } = await server.listen(0, '127.0.0.1');
  t.teardown(() => server.close());
  return { demo, port, url: `http://127.0.0.1:${port}/RPC2` };
}

/** A skip reason when `command args` does not exit 0 (the peer is not installed), or false. */
export function probe(command: string, args: string[], what: string): string | false {
  const r = spawnSync(command, args, { encoding: 'utf8', timeout: 20_000 });
  if (r.error !== undefined || r.status !== 0) {
    const reason = `${what} is not available on this machine (${(r.stderr ?? '').trim().split('\n')[0] || r.error?.message || `exit ${r.status}`})`;
    console.log(`# skip: ${reason}`);
    return reason;
  }
  return false;
}

/** Runs a peer's client script to its end (killed after 60 s) and parses the JSON it prints. */
export async function runJson<T>(command: string, args: string[]): Promise<T> {
  const r = await runCommand(command, args, { timeout: 60_000 });
  if (r.code !== 0) throw new Error(`${command} exited ${String(r.code)}: ${r.stderr}`);
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`${command} printed no JSON: ${r.stdout.slice(0, 500)} ${r.stderr.slice(0, 500)}`);
  }
}

/** What a peer's client script records per call. */
export type Outcome = { ok?: unknown; fault?: [number, string]; error?: string };
export type Outcomes = Record<string, Outcome>;

/**
 * Starts a peer server that names its port in a line on stdout or stderr
 * (`php -S 127.0.0.1:0` does, on stderr): resolves to the port `pattern`'s
 * first group captures. Stopped by pid in `t`'s teardown (SIGTERM, then
 * SIGKILL after 3 s); rejects if it exits first or stays silent for 10 s.
 */
export function spawnPeer(t: { teardown(fn: () => unknown): void }, command: string, args: string[], pattern: RegExp, cwd?: string): Promise<number> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], cwd });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(killer);
  });
  return new Promise<number>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${command} did not start: ${out}`)), 10_000);
    const read = (d: Buffer) => {
      out += d.toString();
      const m = pattern.exec(out);
      if (m === null) return;
      clearTimeout(timer);
      resolve(Number(m[1]));
    };
    child.stdout.on('data', read);
    child.stderr.on('data', read);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${command} exited ${String(code)}: ${out}`));
    });
  });
}
