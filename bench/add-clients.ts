// The add(i, 1) clients the parallel and fleet benches time, each over a list
// of server URLs (call i goes to urls[i % n]): sequential ServerProxy calls,
// runJobs with a strategy, and node-xmlrpc's client with Promise.all. Every
// call must succeed: a failed call would make a fast client look faster.

import * as http from 'node:http';
import xmlrpc from 'xmlrpc';
import { runJobs, type Job, type Strategy } from '../lib/client/parallel.js';
import { ServerProxy } from '../lib/client/proxy.js';
import { Transport } from '../lib/client/transport.js';

export type Client = (urls: string[], calls: number) => Promise<void>;

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`bench: ${what}`);
}

export const sequential: Client = async (urls, calls) => {
  const transport = new Transport();
  const proxies = urls.map((url) => new ServerProxy(url, { transport }));
  try {
    for (let i = 0; i < calls; i++) check((await proxies[i % proxies.length]!.add(i, 1)) === i + 1, 'sequential: wrong sum');
  } finally {
    await transport.close();
  }
};

/** runJobs with `name`; `timeout` per call (ms). */
export function strategy(name: Strategy, timeout = 30_000): Client {
  return async (urls, calls) => {
    const jobs: Job[] = [];
    for (let i = 0; i < calls; i++) jobs.push([urls[i % urls.length]!, 'add', [i, 1]]);
    const pairs = await runJobs(jobs, { strategy: name, timeout });
    check(
      pairs.every(([v, e], i) => e === null && v === i + 1),
      `${name}: a call failed: ${String(pairs.find(([, e]) => e !== null)?.[1])}`,
    );
  };
}

export const nodeXmlrpc: Client = async (urls, calls) => {
  // A fresh keep-alive agent per round: every client starts with no connection.
  const agent = new http.Agent({ keepAlive: true });
  try {
    const clients = urls.map((url) => {
      const { hostname, port, pathname } = new URL(url);
      // node-xmlrpc hands its options to http.request, so an `agent` goes through (its types omit it).
      return xmlrpc.createClient({ host: hostname, port: Number(port), path: pathname, agent } as Parameters<typeof xmlrpc.createClient>[0]);
    });
    const results = await Promise.all(
      Array.from(
        { length: calls },
        (_, i) =>
          new Promise<unknown>((resolve, reject) =>
            clients[i % clients.length]!.methodCall('add', [i, 1], (err: unknown, value: unknown) => (err ? reject(err as Error) : resolve(value))),
          ),
      ),
    );
    check(
      results.every((v, i) => v === i + 1),
      'node-xmlrpc: wrong sum',
    );
  } finally {
    agent.destroy();
  }
};
