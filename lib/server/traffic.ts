// What the server counts for operators (Server#stats, the status page, the
// metrics): plain numbers every connection bumps in place, so counting costs
// no allocation on the request path.

/** What every connection adds to. */
export interface Traffic {
  /** Responses written, request bytes received and response bytes written since the server was made. */
  requests: number;
  bytesIn: number;
  bytesOut: number;
  /** Requests the HTTP parser refused (400, 413 by Content-Length, 414, 431, 501...). */
  parseErrors: number;
  /** Responses by status: 408 (a head or body too slow), 413 (a body too large), 503 (no room in the memory budget; refusals at accept are ServerStats#refusedConnections). */
  timeouts: number;
  tooLarge: number;
  unavailable: number;
}

/** A connection's state as the status page shows it. */
export type ConnectionState = 'idle' | 'reading' | 'handling' | 'writing' | 'closing';

export function newTraffic(): Traffic {
  return { requests: 0, bytesIn: 0, bytesOut: 0, parseErrors: 0, timeouts: 0, tooLarge: 0, unavailable: 0 };
}

/** One response of `status` and `bytesOut` bytes (head included) written. */
export function countResponse(traffic: Traffic, status: number, bytesOut: number): void {
  traffic.requests++;
  traffic.bytesOut += bytesOut;
  if (status === 408) traffic.timeouts++;
  else if (status === 413) traffic.tooLarge++;
  else if (status === 503) traffic.unavailable++;
}
