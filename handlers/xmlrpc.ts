#!/usr/bin/env node
// `xmlrpc`: the package's command-line client (xmlrpc-c's `xmlrpc` tool,
// made friendlier), and `xmlrpc serve`, the demo server of `npm start`.
//
//   xmlrpc call URL METHOD [ARG...]              one call; ARG grammar in lib/cli/values.ts
//   xmlrpc call --all URL... -- METHOD [ARG...]  the same call on every URL at once
//   xmlrpc call --targets FILE METHOD [ARG...]   ... on every URL of FILE (one a line)
//   xmlrpc list URL                              system.listMethods
//   xmlrpc help URL METHOD                       system.methodSignature and methodHelp
//   xmlrpc multicall URL FILE                    the calls of FILE (JSON) as one system.multicall
//   xmlrpc serve [--port 8182 ...]               the demo server, with npm start's flags
//
// Exit status: 0 success, 1 a fault (any target's or slot's), 2 a transport
// or protocol error, 64 a usage error. Every error is one line on stderr.

import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { parseArgs } from 'node:util';
import { EncodeError, Fault, XmlRpcError } from '../lib/errors.js';
import { MultiCall } from '../lib/client/multicall.js';
import { ParallelServerProxy, target } from '../lib/client/parallel.js';
import { ServerProxy } from '../lib/client/proxy.js';
import { Transport, type TransportOptions } from '../lib/client/transport.js';
import type { IncomingResponse, OutgoingRequest } from '../lib/client/request.js';
import { UsageError, jsonValue, oneLine, parseArg, show, toJson } from '../lib/cli/values.js';
import type { XmlRpcValue } from '../lib/xmlrpc/values.js';

const USAGE = `usage: xmlrpc call [options] URL METHOD [ARG...]
       xmlrpc call [options] --all URL... -- METHOD [ARG...]
       xmlrpc call [options] --targets FILE METHOD [ARG...]
       xmlrpc list [options] URL
       xmlrpc help [options] URL METHOD
       xmlrpc multicall [options] URL FILE
       xmlrpc serve [--host 127.0.0.1] [--port 8182] [--path /RPC2] [...]  (npm start's flags; serve --help)

ARG: i/42 i8/… d/1.5 b/true s/text n/ dt/20260102T03:04:05 b64/aGk= or JSON ([1, "a"], {"k": 1});
     bare numbers and true/false are typed, anything else is a string
options:
  --json             the result as JSON instead of typed text
  --timeout SECONDS  per call (default: none)
  --header 'Name: value'  an extra request header (repeatable)
  --user USER:PASS   HTTP basic credentials (or http://user:pass@host/ in the URL)
  --ca FILE          trust this CA certificate (PEM) for https:
  --insecure         do not verify the server's certificate
  --verbose, -v      the request and response bytes on stderr
exit status: 0 success, 1 fault, 2 transport or protocol error, 64 usage`;

interface Options {
  json: boolean;
  verbose: boolean;
  timeout: number | undefined;
  headers: Record<string, string>;
  user: string | undefined;
  tls: TransportOptions['tls'];
}

/** Runs the command line; resolves to the exit status. Output goes to `out` and `err`. */
export async function run(argv: string[], out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<number> {
  const [command, ...rest] = argv;
  if (command === 'serve') return serve(rest);
  if (command === undefined || command === '--help' || command === '-h' || (command === 'help' && rest.length === 0)) {
    out.write(`${USAGE}\n`);
    return command === undefined ? 64 : 0;
  }
  try {
    const { values, positionals } = parseArgs({
      args: rest,
      allowPositionals: true,
      strict: true,
      options: {
        json: { type: 'boolean' },
        verbose: { type: 'boolean', short: 'v' },
        timeout: { type: 'string' },
        header: { type: 'string', multiple: true },
        user: { type: 'string' },
        ca: { type: 'string' },
        insecure: { type: 'boolean' },
        all: { type: 'boolean' },
        targets: { type: 'string' },
      },
    });
    const options = commonOptions(values);
    const ctx: Context = { options, out, err };
    switch (command) {
      case 'call':
        if (values.all === true || values.targets !== undefined) return await callAll(ctx, positionals, values.targets);
        return await call(ctx, positionals);
      case 'list':
        return await list(ctx, positionals);
      case 'help':
        return await help(ctx, positionals);
      case 'multicall':
        return await multicall(ctx, positionals);
      default:
        throw new UsageError(`unknown command ${JSON.stringify(command)} (call, list, help, multicall, serve)`);
    }
  } catch (e) {
    return report(e, err);
  }
}

interface Context {
  options: Options;
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
}

function commonOptions(values: {
  json?: boolean;
  verbose?: boolean;
  timeout?: string;
  header?: string[];
  user?: string;
  ca?: string;
  insecure?: boolean;
}): Options {
  let timeout: number | undefined;
  if (values.timeout !== undefined) {
    const seconds = Number(values.timeout);
    if (!/^[0-9]+(\.[0-9]+)?$/.test(values.timeout) || seconds <= 0)
      throw new UsageError(`bad --timeout ${JSON.stringify(values.timeout)}: a number of seconds`);
    timeout = Math.round(seconds * 1000);
  }
  const headers: Record<string, string> = {};
  for (const h of values.header ?? []) {
    const colon = h.indexOf(':');
    if (colon <= 0) throw new UsageError(`bad --header ${JSON.stringify(h)}: 'Name: value'`);
    headers[h.slice(0, colon).trim()] = h.slice(colon + 1).trim();
  }
  if (values.user !== undefined && !values.user.includes(':')) throw new UsageError('bad --user: USER:PASS');
  let tls: TransportOptions['tls'];
  if (values.ca !== undefined || values.insecure === true) {
    tls = {};
    if (values.ca !== undefined) {
      try {
        tls.ca = readFileSync(values.ca);
      } catch (e) {
        throw new UsageError(`cannot read --ca ${values.ca}: ${(e as Error).message}`);
      }
    }
    if (values.insecure === true) tls.rejectUnauthorized = false;
  }
  return { json: values.json === true, verbose: values.verbose === true, timeout, headers, user: values.user, tls };
}

/** The URL with --user's credentials in it (credentials already in the URL win). */
function withUser(url: string, user: string | undefined): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`bad URL ${JSON.stringify(url)}`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new UsageError(`bad URL ${JSON.stringify(url)}: http: or https: only`);
  if (user === undefined || parsed.username !== '') return url;
  const colon = user.indexOf(':');
  parsed.username = encodeURIComponent(user.slice(0, colon));
  parsed.password = encodeURIComponent(user.slice(colon + 1));
  return parsed.href;
}

/**
 * The transport the CLI calls through: with --verbose, every request and
 * response on stderr as it goes (Python's `verbose=True`); doubles decoded
 * as Double, so that a result shows its wire type.
 */
class CliTransport extends Transport {
  readonly #verbose: NodeJS.WritableStream | null;
  /** When an answer (or a refused connect) came, per URL: for the table and progress bar of `call --all`. */
  readonly answeredAt = new Map<string, number>();

  constructor(ctx: Context, secure: boolean) {
    super({ secure, tls: ctx.options.tls, headers: ctx.options.headers, timeout: ctx.options.timeout, wrapDoubles: true });
    this.#verbose = ctx.options.verbose ? ctx.err : null;
  }

  override encodeRequest(req: OutgoingRequest): Buffer {
    const bytes = super.encodeRequest(req);
    this.#verbose?.write(`> ${req.url}\n${bytes.toString('latin1')}\n`);
    return bytes;
  }

  protected override connect(req: OutgoingRequest): Promise<Socket> {
    return super.connect(req).catch((e: unknown) => {
      this.answeredAt.set(req.url, performance.now());
      throw e;
    });
  }

  protected override parseResponse(response: IncomingResponse, req: OutgoingRequest): Promise<XmlRpcValue> {
    this.answeredAt.set(req.url, performance.now());
    if (this.#verbose !== null) {
      const head = [`HTTP/1.${response.versionMinor} ${response.status} ${response.reason}`];
      for (let i = 0; i < response.headers.length; i += 2) head.push(`${response.headers[i]}: ${response.headers[i + 1]}`);
      this.#verbose.write(`< ${req.url}\n${head.join('\r\n')}\r\n\r\n${response.body.toString('latin1')}\n`);
    }
    return super.parseResponse(response, req);
  }
}

function proxyFor(ctx: Context, url: string): ServerProxy {
  const full = withUser(url, ctx.options.user);
  return new ServerProxy(full, { transport: new CliTransport(ctx, full.startsWith('https:')) });
}

function print(ctx: Context, value: XmlRpcValue): void {
  ctx.out.write(ctx.options.json ? `${JSON.stringify(toJson(value), null, 2)}\n` : `${show(value)}\n`);
}

async function call(ctx: Context, positionals: string[]): Promise<number> {
  const [url, method, ...args] = positionals;
  if (url === undefined || method === undefined) throw new UsageError('call needs a URL and a METHOD');
  const params = args.map(parseArg);
  await using proxy = proxyFor(ctx, url);
  const result = await proxy.call(method, ...params);
  print(ctx, result);
  return 0;
}

async function list(ctx: Context, positionals: string[]): Promise<number> {
  if (positionals.length !== 1) throw new UsageError('list needs one URL');
  await using proxy = proxyFor(ctx, positionals[0]!);
  const names = await proxy.call('system.listMethods');
  if (ctx.options.json) print(ctx, names);
  else if (Array.isArray(names)) ctx.out.write(names.map((n) => `${text(n)}\n`).join(''));
  else print(ctx, names);
  return 0;
}

async function help(ctx: Context, positionals: string[]): Promise<number> {
  if (positionals.length !== 2) throw new UsageError('help needs a URL and a METHOD');
  const [url, method] = positionals as [string, string];
  await using proxy = proxyFor(ctx, url);
  const signatures = await proxy.call('system.methodSignature', method);
  const helpText = await proxy.call('system.methodHelp', method);
  if (ctx.options.json) {
    print(ctx, { signatures, help: helpText });
    return 0;
  }
  if (Array.isArray(signatures)) {
    for (const sig of signatures) {
      if (Array.isArray(sig) && sig.length > 0) ctx.out.write(`${method}(${sig.slice(1).map(text).join(', ')}) -> ${text(sig[0]!)}\n`);
    }
  } else {
    ctx.out.write(`${method}: no signature (${show(signatures)})\n`);
  }
  ctx.out.write(`${text(helpText)}\n`);
  return 0;
}

/** FILE: a JSON array of calls, each `{"methodName": "add", "params": [1, 2]}` or `["add", 1, 2]`. */
async function multicall(ctx: Context, positionals: string[]): Promise<number> {
  if (positionals.length !== 2) throw new UsageError('multicall needs a URL and a FILE');
  const [url, file] = positionals as [string, string];
  const calls = readCalls(file);
  await using proxy = proxyFor(ctx, url);
  const multi = new MultiCall(proxy);
  for (const [name, params] of calls) multi.queue(name, ...params);
  const results = await multi.run();
  let status = 0;
  const shown = results.map((r) => {
    if (r instanceof Fault) {
      status = 1;
      return ctx.options.json ? { faultCode: r.faultCode, faultString: r.faultString } : `fault ${r.faultCode}: ${r.faultString}`;
    }
    if (r instanceof Error) {
      status = 2;
      return ctx.options.json ? { error: r.message } : `error: ${r.message}`;
    }
    return ctx.options.json ? toJson(r) : show(r);
  });
  if (ctx.options.json) ctx.out.write(`${JSON.stringify(shown, null, 2)}\n`);
  else shown.forEach((s, i) => ctx.out.write(`[${i}] ${calls[i]![0]}: ${String(s)}\n`));
  return status;
}

function readCalls(file: string): [string, unknown[]][] {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new UsageError(`cannot read the calls in ${file}: ${(e as Error).message}`);
  }
  if (!Array.isArray(doc) || doc.length === 0) throw new UsageError(`${file}: expected a JSON array of calls`);
  return doc.map((c: unknown, i) => {
    if (Array.isArray(c) && typeof c[0] === 'string') return [c[0], c.slice(1).map(jsonValue)];
    if (c !== null && typeof c === 'object' && typeof (c as { methodName?: unknown }).methodName === 'string') {
      const { methodName, params = [] } = c as { methodName: string; params?: unknown };
      if (Array.isArray(params)) return [methodName, params.map(jsonValue)];
    }
    throw new UsageError(`${file}: call ${i} is neither {"methodName": ..., "params": [...]} nor ["method", arg...]`);
  });
}

/** `call --all URL... -- METHOD ARG...` or `call --targets FILE METHOD ARG...`: every target at once, then a table. */
async function callAll(ctx: Context, positionals: string[], targetsFile: string | undefined): Promise<number> {
  let urls: string[];
  let rest: string[];
  if (targetsFile !== undefined) {
    try {
      urls = readFileSync(targetsFile, 'utf8')
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l !== '' && !l.startsWith('#'));
    } catch (e) {
      throw new UsageError(`cannot read --targets ${targetsFile}: ${(e as Error).message}`);
    }
    rest = positionals;
  } else {
    // The URLs run up to the first positional that is not a URL: the method.
    const split = positionals.findIndex((p) => !/^https?:\/\//i.test(p));
    if (split < 0) throw new UsageError('call --all needs URLs and then a METHOD');
    urls = positionals.slice(0, split);
    rest = positionals.slice(split);
  }
  const [method, ...args] = rest;
  if (urls.length === 0 || method === undefined) throw new UsageError('call --all needs at least one URL and a METHOD');
  const params = args.map(parseArg);
  const full = urls.map((u) => withUser(u, ctx.options.user));
  // A transport per target, so that each row's time is its own answer's.
  const transports = full.map((u) => new CliTransport(ctx, u.startsWith('https:')));
  const targets = full.map((u, i) => target(u, { transport: transports[i]! }));
  await using psp = new ParallelServerProxy(targets, ctx.options.timeout === undefined ? {} : { timeout: ctx.options.timeout });
  const started = performance.now();
  const bar = progressBar(ctx, urls.length, transports);
  let outcomes;
  try {
    outcomes = await psp.call(method, ...params);
  } finally {
    bar.stop();
  }
  const ended = performance.now();
  await Promise.all(transports.map((tr) => tr.close()));
  let status = 0;
  const rows = outcomes.map(([value, error], i) => {
    const url = psp.targets[i]!;
    const at = transports[i]!.answeredAt.get(url) ?? ended;
    const ms = Math.round(at - started);
    if (error === null) return { url, status: 'ok', ms, value: value as XmlRpcValue };
    if (error instanceof Fault) {
      status = Math.max(status, 1);
      return { url, status: `fault ${error.faultCode}`, ms, value: error.faultString };
    }
    status = 2;
    return { url, status: (error as XmlRpcError).code ?? 'error', ms, value: oneLineError(error) };
  });
  if (ctx.options.json) {
    const doc = rows.map((r) => ({ url: r.url, status: r.status, ms: r.ms, value: r.status === 'ok' ? toJson(r.value) : r.value }));
    ctx.out.write(`${JSON.stringify(doc, null, 2)}\n`);
    return status;
  }
  const cells = rows.map((r) => [r.url, r.status, `${r.ms} ms`, r.status === 'ok' ? oneLine(r.value) : text(r.value)]);
  const widths = [0, 1, 2].map((c) => Math.max(['target', 'status', 'time'][c]!.length, ...cells.map((row) => row[c]!.length)));
  const line = (row: string[]) =>
    row
      .map((cell, c) => (c < 3 ? cell.padEnd(widths[c]!) : cell))
      .join('  ')
      .trimEnd();
  ctx.out.write([line(['target', 'status', 'time', 'value or fault']), ...cells.map(line)].join('\n') + '\n');
  return status;
}

/** A progress bar on stderr when it is a terminal (nothing when piped): answers arrived out of the targets. Exported for its test. */
export function progressBar(ctx: Pick<Context, 'err' | 'options'>, total: number, transports: { answeredAt: ReadonlyMap<string, number> }[]): { stop(): void } {
  const stream = ctx.err as NodeJS.WriteStream;
  if (stream.isTTY !== true || ctx.options.verbose) return { stop() {} };
  const draw = () => {
    const done = Math.min(
      total,
      transports.reduce((n, t) => n + t.answeredAt.size, 0),
    );
    const width = 30;
    const filled = Math.round((done / total) * width);
    stream.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}`);
  };
  draw();
  const timer = setInterval(draw, 100);
  return {
    stop() {
      clearInterval(timer);
      stream.write('\r\x1b[K');
    },
  };
}

/** A string as it is, anything else with its type. */
function text(value: XmlRpcValue): string {
  return typeof value === 'string' ? value : show(value);
}

function oneLineError(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).replace(/\s+/g, ' ').trim();
}

/** One line on stderr for what went wrong; the exit status for it. */
function report(e: unknown, err: NodeJS.WritableStream): number {
  const usage =
    e instanceof UsageError ||
    e instanceof TypeError ||
    e instanceof EncodeError ||
    e instanceof RangeError ||
    (e instanceof Error && (e as { code?: unknown }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION');
  if (usage) {
    err.write(`xmlrpc: ${oneLineError(e)}\n(xmlrpc --help for usage)\n`);
    return 64;
  }
  if (e instanceof Fault) {
    err.write(`xmlrpc: fault ${e.faultCode}: ${oneLineError(e.faultString)}\n`);
    return 1;
  }
  // A transport or protocol error (XmlRpcError), or anything else.
  err.write(`xmlrpc: ${oneLineError(e)}\n`);
  return 2;
}

/** `xmlrpc serve ...`: the demo server's own command line (handlers/cli.ts), which starts as it is imported. */
async function serve(args: string[]): Promise<number> {
  process.argv = [process.argv[0]!, process.argv[1]!, ...args];
  await import('./cli.js');
  return -1;
}

// Run when executed (the bin, or `node dist/handlers/xmlrpc.js`), not when imported by a test.
const invokedAs = process.argv[1] ?? '';
if (/xmlrpc(\.js)?$/.test(invokedAs)) {
  run(process.argv.slice(2)).then(
    (code) => {
      if (code >= 0) process.exitCode = code;
    },
    (e: unknown) => {
      process.exitCode = report(e, process.stderr);
    },
  );
}
