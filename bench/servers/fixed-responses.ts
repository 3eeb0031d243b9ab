// What the two ceiling servers answer: for each workload, the whole HTTP
// response (head and methodResponse), computed once at start-up. A request is
// matched to its workload by its body length, which differs between workloads.

import { WORKLOADS, requestBody, responseBody } from '../workloads.js';

/** The body of each workload's response, by the byte length of its request body. */
export function responseBodiesByRequestLength(): Map<number, Buffer> {
  const byLength = new Map<number, Buffer>();
  for (const w of WORKLOADS) {
    const length = requestBody(w).length;
    if (byLength.has(length)) throw new Error(`two workloads with request bodies of ${length} bytes`);
    byLength.set(length, responseBody(w));
  }
  return byLength;
}

/** Head and body of a 200 methodResponse, in one buffer. */
export function fullResponse(body: Buffer): Buffer {
  const head = `HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: ${body.length}\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), body]);
}

export const BAD_REQUEST = Buffer.from('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n', 'latin1');
