// Checks that a server answers a workload correctly before it is loaded: the
// same request bytes the load generator sends, over a raw socket, and every
// response read back (Content-Length or chunked), decoded and compared with
// the expected value. The same exchange with N requests in one write tells
// whether a server handles pipelining.

import * as net from 'node:net';
import { parseMethodResponse } from '../lib/xmlrpc/decode.js';
import type { Workload } from './workloads.js';

export interface RawResponse {
  status: number;
  headers: Map<string, string>;
  body: Buffer;
}

/** The request a load generator sends: POST /RPC2, keep-alive, a Content-Length. */
export function httpRequest(port: number, body: Buffer): Buffer {
  const head =
    `POST /RPC2 HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: text/xml\r\n` + `User-Agent: medusa-bench\r\nContent-Length: ${body.length}\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), body]);
}

/**
 * Writes `request` (which may hold several requests) in one write and reads
 * `count` responses. Resolves with what arrived and, if fewer, why.
 */
export function exchange(port: number, request: Buffer, count: number, timeoutMs: number): Promise<{ responses: RawResponse[]; error: string | null }> {
  return new Promise((resolve) => {
    const responses: RawResponse[] = [];
    const reader = new ResponseReader();
    const socket = net.connect({ port, host: '127.0.0.1', noDelay: true });
    let settled = false;
    const done = (error: string | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ responses, error });
    };
    const timer = setTimeout(() => done(`only ${responses.length} of ${count} responses within ${timeoutMs / 1000} s`), timeoutMs);
    socket.on('connect', () => socket.write(request));
    socket.on('data', (chunk: Buffer) => {
      try {
        for (const r of reader.push(chunk)) {
          responses.push(r);
          if (responses.length === count) return done(null);
        }
      } catch (err) {
        done((err as Error).message);
      }
    });
    socket.on('end', () => done(`connection closed after ${responses.length} of ${count} responses`));
    socket.on('error', (err) => done(err.message));
  });
}

/** Is this the correct methodResponse for the workload? null if so, else what is wrong. */
export function checkResponse(response: RawResponse, w: Workload): string | null {
  if (response.status !== 200) return `HTTP ${response.status}`;
  let value: unknown;
  try {
    value = parseMethodResponse(response.body);
  } catch (err) {
    const e = err as { faultCode?: number; message: string };
    return e.faultCode !== undefined ? `fault ${e.faultCode}: ${e.message}` : `bad methodResponse: ${e.message}`;
  }
  const diff = difference(value, w.result, 'result');
  return diff === null ? null : `wrong ${diff}`;
}

/** Where two decoded values differ, or null. Structs compare as sets of members. */
function difference(got: unknown, want: unknown, where: string): string | null {
  if (Buffer.isBuffer(want)) {
    return Buffer.isBuffer(got) && got.equals(want) ? null : `${where} (base64)`;
  }
  if (Array.isArray(want)) {
    if (!Array.isArray(got) || got.length !== want.length) return `${where} (array length)`;
    for (let i = 0; i < want.length; i++) {
      const d = difference(got[i], want[i], `${where}[${i}]`);
      if (d !== null) return d;
    }
    return null;
  }
  if (typeof want === 'object' && want !== null) {
    if (typeof got !== 'object' || got === null || Array.isArray(got)) return `${where} (not a struct)`;
    const g = got as Record<string, unknown>;
    const keys = Object.keys(want);
    if (Object.keys(g).length !== keys.length) return `${where} (member count)`;
    for (const k of keys) {
      const d = difference(g[k], (want as Record<string, unknown>)[k], `${where}.${k}`);
      if (d !== null) return d;
    }
    return null;
  }
  return Object.is(got, want) ? null : `${where}: ${String(got)} instead of ${String(want)}`;
}

const MAX_HEAD = 64 * 1024;

/** A minimal HTTP/1.1 response reader: status, headers, and a body by Content-Length or chunked. */
export class ResponseReader {
  private buffer: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): RawResponse[] {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const out: RawResponse[] = [];
    for (;;) {
      const r = this.next();
      if (r === null) return out;
      out.push(r);
    }
  }

  private next(): RawResponse | null {
    const buf = this.buffer;
    const end = buf.indexOf('\r\n\r\n');
    if (end < 0) {
      if (buf.length > MAX_HEAD) throw new Error('response head too long');
      return null;
    }
    const lines = buf.toString('latin1', 0, end).split('\r\n');
    const status = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0]!);
    if (status === null) throw new Error(`bad status line ${JSON.stringify(lines[0]!.slice(0, 60))}`);
    const headers = new Map<string, string>();
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }
    let at = end + 4;
    let body: Buffer;
    if (/chunked/i.test(headers.get('transfer-encoding') ?? '')) {
      const parts: Buffer[] = [];
      for (;;) {
        const lineEnd = buf.indexOf('\r\n', at);
        if (lineEnd < 0) return null;
        const size = parseInt(buf.toString('latin1', at, lineEnd), 16);
        if (!Number.isFinite(size)) throw new Error('bad chunk size');
        if (size === 0) {
          // The last chunk's line ends a (possibly empty) trailer section.
          const trailerEnd = buf.indexOf('\r\n\r\n', lineEnd);
          if (trailerEnd < 0) return null;
          at = trailerEnd + 4;
          break;
        }
        if (buf.length < lineEnd + 2 + size + 2) return null;
        parts.push(buf.subarray(lineEnd + 2, lineEnd + 2 + size));
        at = lineEnd + 2 + size + 2;
      }
      body = Buffer.concat(parts);
    } else if (headers.has('content-length')) {
      const length = Number(headers.get('content-length'));
      if (buf.length < at + length) return null;
      body = buf.subarray(at, at + length);
      at += length;
    } else {
      throw new Error('response with neither Content-Length nor chunked (read to close: not supported here)');
    }
    this.buffer = buf.subarray(at);
    return { status: Number(status[1]), headers, body };
  }
}

/**
 * Warms a server up (its JIT, its buffers): the same call again and again on
 * one keep-alive connection, one at a time, for at most `maxCalls` calls and
 * `maxMs`. Resolves with the number of calls answered; stops early, without
 * failing, if the server closes the connection or answers an error.
 */
export function warmUp(port: number, request: Buffer, maxCalls: number, maxMs: number): Promise<number> {
  return new Promise((resolve) => {
    const reader = new ResponseReader();
    const socket = net.connect({ port, host: '127.0.0.1', noDelay: true });
    const deadline = Date.now() + maxMs;
    let calls = 0;
    let settled = false;
    const done = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(calls);
    };
    const timer = setTimeout(done, maxMs + 1000);
    socket.on('connect', () => socket.write(request));
    socket.on('data', (chunk: Buffer) => {
      let responses: RawResponse[];
      try {
        responses = reader.push(chunk);
      } catch {
        return done();
      }
      for (const r of responses) {
        calls++;
        if (r.status !== 200 || calls >= maxCalls || Date.now() >= deadline) return done();
        socket.write(request);
      }
    });
    socket.on('end', done);
    socket.on('error', done);
  });
}
