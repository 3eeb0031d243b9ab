// The attacking side of bench/attack.ts, run as its own process (its sockets
// and its loop are not the server's, and it may need thousands of fds).
// usage: node dist/bench/attacker.js SCENARIO PORT COUNT
// Prints {"started": true} as it opens its first socket, {"ready": true, "ms": n}
// once every socket has sent what the scenario sends (or failed), then holds
// them. On a "stop" line on stdin (or after MAX_LIFE_MS) it prints one
// AttackResult line, destroys its sockets and exits.

import { randomBytes } from 'node:crypto';
import * as net from 'node:net';
import * as readline from 'node:readline';
import { gzipSync } from 'node:zlib';
import { dumps } from '../lib/xmlrpc/encode.js';

const SCENARIO_IDS = ['pipelined-gzip', 'declared-8mib', 'nearly-complete', 'one-byte', 'gzip-bomb'] as const;
export type ScenarioId = (typeof SCENARIO_IDS)[number];

export interface AttackResult {
  /** Connections asked for, opened, and refused at connect (EMFILE, ECONNREFUSED...). */
  connections: number;
  connected: number;
  connectFailed: number;
  firstError: string | null;
  /** Responses the attacker's sockets received, by status. */
  statuses: Record<string, number>;
  /** Sockets the server closed (FIN) or reset without a response on them. */
  closed: number;
  reset: number;
  /** Sockets still open and unanswered when told to stop. */
  held: number;
  /** How long setting every socket up took, ms (null: not finished when stopped). */
  rampMs: number | null;
  /** What was sent, in words. */
  sent: string;
}

/** The server's default maxBodyBytes (8 MiB), which the scenarios aim at. */
export const MAX_BODY = 8 * 1024 * 1024;
/** Pipelined requests per connection in the first scenario. */
const PIPELINE_DEPTH = 32;
/** The first scenario reads its sockets only after the stop, this long, to count its answers. */
const DRAIN_MS = 1000;
/** Sockets connecting at once, well under any listen backlog. */
const PARALLEL = 256;
/** Exit on our own if the parent never says stop. */
const MAX_LIFE_MS = 120_000;

const scenario = process.argv[2] as ScenarioId;
const port = Number(process.argv[3]);
const count = Number(process.argv[4]);

/**
 * Counts the responses on a socket from their heads alone: a body is skipped
 * by its Content-Length without being kept; a response without one is read
 * until close (nothing more is counted on that socket).
 */
class StatusScanner {
  private head: Buffer = Buffer.alloc(0);
  private skip = 0;
  private untilClose = false;

  push(chunk: Buffer, found: (status: number) => void): void {
    while (chunk.length > 0 && !this.untilClose) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.length);
        this.skip -= n;
        chunk = chunk.subarray(n);
        continue;
      }
      this.head = this.head.length === 0 ? chunk : Buffer.concat([this.head, chunk]);
      const end = this.head.indexOf('\r\n\r\n');
      if (end < 0) {
        if (this.head.length > 64 * 1024) this.untilClose = true;
        return;
      }
      const text = this.head.toString('latin1', 0, end);
      chunk = this.head.subarray(end + 4);
      this.head = Buffer.alloc(0);
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? NaN);
      if (Number.isNaN(status)) {
        this.untilClose = true;
        return;
      }
      if (status >= 100 && status < 200) continue; // interim: the final response follows
      found(status);
      const length = /\r\ncontent-length:[ \t]*(\d+)/i.exec(text);
      if (length !== null) this.skip = Number(length[1]);
      else if (status !== 204 && status !== 304) this.untilClose = true;
    }
  }
}

const statuses: Record<string, number> = {};
const result: AttackResult = {
  connections: count,
  connected: 0,
  connectFailed: 0,
  firstError: null,
  statuses,
  closed: 0,
  reset: 0,
  held: 0,
  rampMs: null,
  sent: '',
};

/** One attacking connection and what became of it. */
class Attacker {
  readonly socket: net.Socket;
  answers = 0;
  connected = false;
  closedByPeer = false;
  resetByPeer = false;
  failedToConnect = false;
  private readonly scanner = new StatusScanner();

  constructor(
    private readonly payload: Buffer[],
    onSetUp: () => void,
    private readonly readsAsItGoes: boolean,
  ) {
    const socket = net.connect({ port, host: '127.0.0.1', noDelay: true });
    this.socket = socket;
    let setUp = false;
    const settle = () => {
      if (setUp) return;
      setUp = true;
      onSetUp();
    };
    socket.on('connect', () => {
      this.connected = true;
      result.connected++;
      // The last write's callback: everything reached the kernel, or failed.
      for (let i = 0; i < this.payload.length; i++) socket.write(this.payload[i]!, i === this.payload.length - 1 ? settle : undefined);
      // The pipelining scenario does not wait for its 32 bodies to be taken: a server that stops reading would hold the ramp forever.
      if (!this.readsAsItGoes) settle();
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (!this.connected) {
        this.failedToConnect = true;
        result.connectFailed++;
      } else if (this.answers === 0) {
        this.resetByPeer = true;
      }
      result.firstError ??= err.code ?? err.message;
      settle();
    });
    socket.on('end', () => {
      if (this.answers === 0) this.closedByPeer = true;
    });
    if (readsAsItGoes) this.read();
  }

  read(): void {
    this.socket.on('data', (chunk: Buffer) =>
      this.scanner.push(chunk, (status) => {
        this.answers++;
        statuses[status] = (statuses[status] ?? 0) + 1;
      }),
    );
  }

  /** Counts this socket as closed, reset, held or failed; answered ones are in `statuses` already. */
  tally(): void {
    if (this.answers > 0 || this.failedToConnect) return;
    if (this.resetByPeer) result.reset++;
    else if (this.closedByPeer || this.socket.destroyed) result.closed++;
    else if (this.connected) result.held++;
  }
}

function httpHead(headers: string): string {
  return `POST /RPC2 HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: text/xml\r\nUser-Agent: medusa-bench-attack\r\n${headers}\r\n`;
}

const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;

/** What each connection sends, and whether it reads its socket as it goes. */
function plan(): { payload: Buffer[]; read: boolean; sent: string } {
  switch (scenario) {
    case 'pipelined-gzip': {
      // An echo of 8,000,000 random base64 characters: just under 8 MiB as a
      // methodCall, and a gzipped answer still about 6 MB.
      const body = Buffer.from(dumps([randomBytes(6_000_000).toString('base64')], 'echo'));
      if (body.length >= MAX_BODY) throw new Error(`the echo body is ${body.length} bytes, not under ${MAX_BODY}`);
      const request = Buffer.concat([Buffer.from(httpHead(`Accept-Encoding: gzip\r\nContent-Length: ${body.length}\r\n`), 'latin1'), body]);
      // The same Buffer 32 times: the attacker's memory stays one request.
      const payload = Array.from({ length: PIPELINE_DEPTH }, () => request);
      return {
        payload,
        read: false,
        sent: `${PIPELINE_DEPTH} pipelined echoes of ${mb(body.length)} with Accept-Encoding: gzip, reading nothing until stopped, then for ${DRAIN_MS / 1000} s`,
      };
    }
    case 'declared-8mib':
      return {
        payload: [Buffer.from(`${httpHead(`Content-Length: ${MAX_BODY}\r\n`)}<`, 'latin1')],
        read: true,
        sent: `head + 1 byte of an ${MAX_BODY}-byte body`,
      };
    case 'nearly-complete': {
      const missing = 16;
      const prefix = `<?xml version="1.0"?><methodCall><methodName>echo</methodName><params><param><value><string>`;
      const body = Buffer.alloc(MAX_BODY - missing, 'a');
      body.write(prefix, 'latin1');
      return {
        payload: [Buffer.from(httpHead(`Content-Length: ${MAX_BODY}\r\n`), 'latin1'), body],
        read: true,
        sent: `all but the last ${missing} bytes of an ${MAX_BODY}-byte body`,
      };
    }
    case 'one-byte':
      return { payload: [Buffer.from('P', 'latin1')], read: true, sent: '1 byte of a request head' };
    case 'gzip-bomb': {
      // gzip members may follow one another (RFC 1952 §2.2) and decode as one
      // body: 128 members of 8 MiB of spaces, about 1 MB inflating to 1 GiB.
      const member = gzipSync(Buffer.alloc(MAX_BODY, 0x20), { level: 9 });
      const body = Buffer.concat(Array.from({ length: 128 }, () => member));
      const head = httpHead(`Content-Encoding: gzip\r\nContent-Length: ${body.length}\r\n`);
      return { payload: [Buffer.from(head, 'latin1'), body], read: true, sent: `a gzip body of ${mb(body.length)} inflating to 1 GiB of spaces` };
    }
    default:
      throw new Error(`unknown scenario ${String(scenario)}; one of ${SCENARIO_IDS.join(', ')}`);
  }
}

function main(): void {
  const { payload, read, sent } = plan();
  result.sent = sent;
  const attackers: Attacker[] = [];
  const start = performance.now();
  let opened = 0;
  let setUp = 0;
  const next = () => {
    if (opened < count) {
      opened++;
      attackers.push(new Attacker(payload, onSetUp, read));
    }
  };
  const onSetUp = () => {
    setUp++;
    if (setUp === count) {
      result.rampMs = Math.round(performance.now() - start);
      process.stdout.write(`${JSON.stringify({ ready: true, ms: result.rampMs })}\n`);
    }
    next();
  };
  process.stdout.write(`${JSON.stringify({ started: true })}\n`);
  for (let i = 0; i < Math.min(PARALLEL, count); i++) next();

  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    const report = () => {
      for (const a of attackers) a.tally();
      process.stdout.write(`${JSON.stringify(result)}\n`);
      for (const a of attackers) a.socket.destroy();
      process.exit(0);
    };
    if (read) return report();
    // Read at last, for a while, to count what the server answered.
    for (const a of attackers) a.read();
    setTimeout(report, DRAIN_MS);
  };
  const lines = readline.createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    if (line.trim() === 'stop') stop();
  });
  lines.on('close', stop);
  setTimeout(stop, MAX_LIFE_MS).unref();
}

main();
