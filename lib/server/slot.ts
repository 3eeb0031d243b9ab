// One request on a connection's queue, and later its response, with the
// bytes it holds against the server's budget until they are sent.

import type { BodyBuffer } from './body.js';
import type { Handler, Request, Response } from './request.js';

export /** A request in the queue, and later its response. */
class Slot {
  response: Response | null = null;
  handler: Handler | null = null;
  /** The body as it arrives; null when it is not kept. */
  body: BodyBuffer | null = null;
  /** The buffer holding the body, to give back to the server's pool once the response is ready; null: the handler keeps the body. */
  lent: Buffer | null = null;
  /** Bytes charged to the budget for the body (received, then decoded), until the response is ready. */
  bodyHeld = 0;
  /** Bytes charged for the response, until it is handed to the socket. */
  responseHeld = 0;
  /** Read the body but do not keep it: the answer is already known (404). */
  discard = false;
  wantsContinue = false;
  continueSent = false;
  /** The request's number on its connection, from 1. */
  number = 0;
  /** When its first byte came (host.precise(); kept only while records are made). */
  start = 0;
  /** Head and body bytes received. */
  bytesIn = 0;
  constructor(
    readonly request: Request | null,
    readonly keepAlive: boolean,
    readonly headRequest: boolean,
  ) {}
}
