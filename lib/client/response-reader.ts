// Reading a client connection's responses (connection.ts): the response
// parser of lib/http, the head and body chunks of the response being read,
// and the first byte the server sent. Which request a response answers, and
// what it does to the connection, is the connection's business; here, only
// the bytes. A module of its own: how responses are read changes for other
// reasons than how requests are carried.

import { Buffer } from 'node:buffer';
import { HttpParser, type MessageHead } from '../http/parser.js';
import { looksLikeTls } from './failures.js';

const EMPTY = Buffer.alloc(0);

/** Thrown from read() (the parser's onHead): a response when no request is outstanding. */
export const STRAY = new Error('a response to no request');

export class ResponseReader {
  readonly #parser: HttpParser;
  #head: MessageHead | null = null;
  #chunks: Buffer[] = [];
  /** The first byte the server sent on this connection: a TLS record type (0x15, 0x16) means https: was meant. */
  #firstByte: number | undefined;

  /**
   * `awaited`: whether a response is awaited now (a head that starts when
   * none is throws STRAY). `onResponse` gets each complete response, its
   * body in one buffer (the chunk itself when it came in one).
   */
  constructor(maxBodyBytes: number, awaited: () => boolean, onResponse: (head: MessageHead, body: Buffer) => void) {
    this.#parser = new HttpParser(
      'response',
      {
        onHead: (head) => {
          if (!awaited()) throw STRAY;
          this.#head = head;
          this.#chunks = [];
        },
        onBody: (chunk) => {
          this.#chunks.push(chunk);
        },
        onComplete: () => {
          const head = this.#head!;
          const body = this.#chunks.length === 0 ? EMPTY : this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks);
          this.#head = null;
          this.#chunks = [];
          onResponse(head, body);
        },
      },
      { maxBodyBytes },
    );
  }

  /** Reads a chunk of the server's bytes; throws what the parser refused, or STRAY. */
  read(chunk: Buffer): void {
    this.#firstByte ??= chunk[0];
    this.#parser.execute(chunk);
  }

  /** The server closed: completes a response read until close; throws if one was cut short. */
  finish(): void {
    this.#parser.finish();
  }

  /** Reads nothing more of the current chunk (the server closes after the response just read). */
  pause(): void {
    this.#parser.pause();
  }

  /** Between responses: no byte of another read. */
  get idle(): boolean {
    return this.#parser.idle;
  }

  /** Bytes of a response have been read that did not make a whole one. */
  get started(): boolean {
    return this.#head !== null || this.#chunks.length > 0 || !this.#parser.idle;
  }

  /** The server's first bytes were a TLS record. */
  get tlsFirst(): boolean {
    return looksLikeTls(this.#firstByte);
  }
}
