// Turning one response into bytes on the socket: its head and body in as few
// writes as possible (one where it is cheap), and the body's memory handed
// back to its maker once the kernel has it. The connection decides
// keep-alive, pauses on drain, counts and records; this only sends.

import { Buffer } from 'node:buffer';
import type { Socket } from 'node:net';
import { formatHead, framedResponse, framedText } from '../http/response.js';
import type { Request, Response } from './request.js';
import { bodyLength } from './responses.js';

/** Where a failure met while sending goes (the server's reportError); it never throws. */
export interface SendErrors {
  reportError(err: unknown, request: Request | null): void;
}

/** What send() put on the socket; one object, overwritten by the next call. */
export interface Sent {
  /** The status that went out: the response's, or 500 when its headers could not be sent. */
  status: number;
  /** Head and body bytes written. */
  bytes: number;
}

const sent: Sent = { status: 0, bytes: 0 };
const ASCII_ONLY = /^[\x00-\x7f]*$/;
/** A Buffer body up to this size is copied behind its head, to go out in one write. */
const SMALL_BODY = 16 * 1024;

/**
 * Writes `response` to `socket`, head and body in one write where it can.
 * `connection` is the Connection header's value ('' for none); a HEAD
 * request gets the head alone. `written` is called as each write the socket
 * holds when it returns reaches the kernel (not for one the kernel took at
 * once: the socket's writableLength says so). Returns what went out, valid
 * until the next call.
 */
export function send(
  socket: Socket,
  response: Response,
  connection: 'keep-alive' | 'close' | '',
  headRequest: boolean,
  written: () => void,
  errors: SendErrors,
  request: Request | null,
  held: HeldText,
): Sent {
  let body = response.body ?? '';
  // A string marked latin1: one byte per character, so its length is its byte count.
  const latin1 = response.latin1 === true && typeof body === 'string';
  let length = bodyLength(response.status, body, latin1);
  let head = '';
  let status = response.status;
  const withBody = length > 0 && !headRequest;
  // A small Buffer body with frozen headers: head and body made as one Buffer
  // (response.ts); a small latin1 one, as one latin1 string, which Node writes
  // through a buffer on its stack: no Buffer at all.
  let framed: Buffer | string | null = null;
  try {
    if (withBody && length <= SMALL_BODY) {
      if (typeof body !== 'string') framed = framedResponse(status, response.headers, connection, body);
      else if (latin1) framed = framedText(status, response.headers, connection, body);
    }
    if (framed === null) head = formatHead(status, response.headers, length, connection);
  } catch (err) {
    // A handler produced an unsendable header: still answer, as a 500.
    errors.reportError(err, request);
    body = '';
    length = 0;
    status = 500;
    head = formatHead(500, undefined, length, connection);
  }
  // One write per response where it is cheap: a single write skips
  // writev's per-call arrays on the hot path.
  if (typeof framed === 'string' && socket.writableCorked > 0 && held.text.length + framed.length <= SMALL_BODY) {
    // Corked (a pipelined batch): gathered, to leave with the others as one string (HeldText).
    held.text += framed;
  } else {
    // Every other write goes after the text gathered before it, or the responses would leave out of order.
    writeHeld(socket, held, written);
    if (framed !== null) {
      put(socket, framed, 'latin1', written);
    } else if (withBody && length > 0 && typeof body === 'string' && (latin1 || ASCII_ONLY.test(head))) {
      // An ASCII head reads the same as UTF-8 and as latin1.
      put(socket, head + body, latin1 ? 'latin1' : 'utf8', written);
    } else if (withBody && length > 0 && typeof body !== 'string' && body.byteLength <= SMALL_BODY) {
      const bytes = Buffer.allocUnsafe(head.length + body.byteLength);
      bytes.write(head, 0, 'latin1');
      bytes.set(body, head.length);
      put(socket, bytes, 'latin1', written);
    } else {
      // The head is latin1 by construction (a header may hold obs-text); a string body is UTF-8 unless marked latin1.
      socket.cork();
      socket.write(head, 'latin1', written);
      if (withBody && length > 0) {
        if (typeof body === 'string') socket.write(body, latin1 ? 'latin1' : 'utf8', written);
        else socket.write(body, written);
      }
      socket.uncork();
    }
  }
  // Written through to the kernel: the body's maker may reuse its memory (a large document's buffer, say).
  if (response.reuse !== undefined && typeof body !== 'string' && socket.writableLength === 0) {
    try {
      response.reuse(body);
    } catch (err) {
      // A handler's callback: its failure is reported, the response is out already.
      errors.reportError(err, request);
    }
  }
  sent.status = status;
  sent.bytes = framed !== null ? framed.length : head.length + (withBody && length > 0 ? length : 0);
  return sent;
}

const EMPTY = Buffer.alloc(0);

/**
 * Framed text responses written while the socket is corked (the responses
 * to one read's pipelined requests), gathered into one latin1 string: they
 * leave as one string write when the connection writes them (writeHeld),
 * which it must do before it uncorks, ends or writes anything else, or the
 * responses would go out of order. Until then they are owed as much as bytes
 * in the socket, though socket.writableLength does not count them. A writev
 * of strings costs Node a lookup of each one's encoding and a copy into
 * memory it allocates; a single string goes through a buffer on its stack.
 * At most SMALL_BODY characters are held: past that the socket takes them,
 * and counts them against its high-water mark as before.
 */
export class HeldText {
  text = '';
}

/** Writes what `held` gathered, if anything (`written` called once it has reached the kernel); dropped if the socket is destroyed. */
export function writeHeld(socket: Socket, held: HeldText, written: () => void): void {
  const text = held.text;
  if (text === '') return;
  held.text = '';
  if (!socket.destroyed) socket.write(text, 'latin1', written);
}

/**
 * One write of `data` (a string goes out in `encoding`), `written` called
 * once it has reached the kernel. A write the kernel takes at once has, by
 * the time socket.write returns (the caller counts the socket's bytes after
 * sending); a callback on it would cost a tick of Node's (an object, a
 * nextTick, a call) per response for nothing. So it goes without one, and
 * only a write the socket still holds after it gets `written`, on an empty
 * write queued behind it (the callbacks run in order). Behind other bytes
 * or corked, the write itself takes it: it will wait in the socket anyway,
 * and the callbacks of a corked batch share one tick.
 */
function put(socket: Socket, data: Buffer | string, encoding: 'latin1' | 'utf8', written: () => void): void {
  if (socket.writableLength > 0 || socket.writableCorked > 0) {
    if (typeof data === 'string') socket.write(data, encoding, written);
    else socket.write(data, written);
    return;
  }
  if (typeof data === 'string') socket.write(data, encoding);
  else socket.write(data);
  if (socket.writableLength > 0) socket.write(EMPTY, written);
}
