// lib/server/request.ts without a socket: what a Request makes of its head.

import t from 'tap';
import type { MessageHead } from '../lib/http/parser.js';
import { Request } from '../lib/server/request.js';

function request(target: string): Request {
  const head = { method: 'POST', target, versionMinor: 1, headers: [], keepAlive: true } as unknown as MessageHead;
  return new Request(head, '127.0.0.1', 1);
}

// target -> [path, query]
const TARGETS: Array<[string, string, string]> = [
  ['/RPC2', '/RPC2', ''],
  ['/RPC2?x=1', '/RPC2', 'x=1'],
  ['/RPC2#frag', '/RPC2', ''],
  ['/RPC2?x=1#frag', '/RPC2', 'x=1'],
  ['/', '/', ''],
  ['/?', '/', ''],
  ['/a/b?c?d', '/a/b', 'c?d'],
  ['http://example.com/RPC2?y=2', '/RPC2', 'y=2'],
  ['http://example.com', '/', ''],
  ['http://example.com?z', '/', 'z'],
  ['*', '*', ''],
  ['example.com:443', 'example.com:443', ''],
];

t.test("a request's path and query are its target's, whatever target came before it", async (t) => {
  let seed = 7;
  const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
  for (let i = 0; i < 2000; i++) {
    // Runs of the same target (a keep-alive client's), then another.
    const [target, path, query] = TARGETS[next() % TARGETS.length]!;
    for (let k = next() % 3; k >= 0; k--) {
      // Equal text in a string of its own, as well as the same string.
      const r = request(k === 1 ? [...target].join('') : target);
      if (r.path !== path || r.query !== query) {
        t.fail(`${target}: ${r.path} ${r.query}`);
        return;
      }
    }
  }
  t.pass('every target split as its own');
});
