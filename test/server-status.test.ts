// The status page and the Prometheus metrics: a known sequence of requests
// (calls of set durations on a ManualClock, faults, a 404, a 405, a 400, a
// 413, a 408), then the JSON status and /metrics, parsed by a strict
// exposition-format parser below, must count exactly that.

import t from 'tap';
import { Registry } from 'prom-client';
import { XMLValidator } from 'fast-xml-parser';
import { ManualClock, RawClient, ServerSides, pollUntil, post } from './support.js';
import { Server } from '../lib/server/server.js';
import { StatusHandler, type StatusSnapshot } from '../lib/server/status.js';
import { MetricsHandler, ServerMetrics } from '../lib/server/metrics.js';
import { DemoHandler } from '../handlers/demo.js';
import { dumps } from '../lib/xmlrpc/encode.js';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/**
 * Prometheus text exposition format 0.0.4, strictly: HELP and TYPE comments
 * before their samples, one TYPE per family, names and labels by the
 * grammar, escaped label values, numeric values. Throws on anything else.
 */
function parseExposition(text: string): { samples: Sample[]; types: Map<string, string> } {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
  const sampleLine = new RegExp(`^(${NAME})(?:\\{(.*)\\})? (\\S+)(?: -?\\d+)?$`);
  const label = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)/;
  if (!text.endsWith('\n')) throw new Error('the exposition must end with a newline');
  for (const line of text.slice(0, -1).split('\n')) {
    if (line === '') continue;
    if (line.startsWith('#')) {
      const m = new RegExp(`^# (HELP|TYPE) (${NAME}) (.*)$`).exec(line);
      if (m === null) throw new Error(`bad comment: ${line}`);
      if (m[1] === 'TYPE') {
        if (!['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(m[3]!)) throw new Error(`bad type: ${line}`);
        if (types.has(m[2]!)) throw new Error(`second TYPE for ${m[2]}`);
        types.set(m[2]!, m[3]!);
      }
      continue;
    }
    const m = sampleLine.exec(line);
    if (m === null) throw new Error(`bad sample: ${line}`);
    const labels: Record<string, string> = {};
    let rest = m[2] ?? '';
    while (rest !== '') {
      const l = label.exec(rest);
      if (l === null) throw new Error(`bad labels: ${line}`);
      labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
      rest = rest.slice(l[0].length);
    }
    const value = m[3] === '+Inf' ? Infinity : m[3] === '-Inf' ? -Infinity : Number(m[3]);
    if (Number.isNaN(value) && m[3] !== 'NaN') throw new Error(`bad value: ${line}`);
    const family = m[1]!.replace(/_(bucket|sum|count)$/, '');
    if (!types.has(m[1]!) && !types.has(family)) throw new Error(`sample before its TYPE: ${line}`);
    samples.push({ name: m[1]!, labels, value });
  }
  return { samples, types };
}

function value(samples: Sample[], name: string, labels: Record<string, string>): number | undefined {
  return samples.find(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v) && Object.keys(s.labels).length === Object.keys(labels).length,
  )?.value;
}

t.test('the status JSON and /metrics count a known sequence of requests', async (t) => {
  const clock = new ManualClock();
  const server = new Server({ handlers: [new DemoHandler()], clock, headersTimeout: 1000, maxBodyBytes: 4096, onError: () => {} });
  const status = new StatusHandler({ server, clock, version: '9.9.9' });
  server.addHandler(status).addHandler(new MetricsHandler({ server }));
  const { port } = await server.listen(0, '127.0.0.1');
  t.teardown(() => server.close({ timeout: 0 }));
  const sides = new ServerSides(server);
  let sent = 0;
  let received = 0;
  const open = async () => {
    const c = await RawClient.open(port);
    t.teardown(() => c.destroy());
    c.socket.on('data', (chunk: Buffer) => (received += chunk.length));
    return { c, side: await sides.of(c.socket) };
  };
  const send = (c: RawClient, bytes: string) => {
    sent += bytes.length;
    c.write(bytes);
  };

  // Four calls of add taking 10, 20, 30 and 40 ms of the clock (head, then the body that much later).
  const keep = await open();
  for (const [i, ms] of [10, 20, 30, 40].entries()) {
    const whole = post('/RPC2', dumps([i, 1], 'add'));
    const headEnd = whole.indexOf('\r\n\r\n') + 4;
    const before = keep.side.bytes;
    send(keep.c, whole.slice(0, headEnd));
    await sides.until(() => keep.side.bytes === before + headEnd, 'the head');
    clock.advance(ms);
    send(keep.c, whole.slice(headEnd));
    await keep.c.responsesCount(i + 1);
  }
  // A fault of add (no time), and a method that does not exist.
  send(keep.c, post('/RPC2', dumps(['a', 1], 'add')) + post('/RPC2', dumps([], '<script>alert(1)</script>')));
  await keep.c.responsesCount(6);
  // 404, 405, 400, 413, 408: each on its own connection, each closed.
  send(keep.c, 'GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n' + 'PUT /RPC2 HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n');
  await keep.c.responsesCount(8);
  for (const bad of ['GET / HTTP/1.1\r\nno colon\r\n\r\n', 'POST /RPC2 HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n']) {
    const { c } = await open();
    send(c, bad);
    await c.whenClosed();
  }
  {
    const { c, side } = await open();
    send(c, 'POST /RPC2 HTTP/1.1\r\n');
    await sides.until(() => side.bytes === 'POST /RPC2 HTTP/1.1\r\n'.length, 'the partial head');
    clock.advance(1250);
    await c.whenClosed();
  }
  // Only `keep` is open now (idle), and the status request's own connection.
  await pollUntil(() => server.connectionCount === 1, 'the closed connections to be forgotten');
  const receivedBefore = received;
  const { c: asker } = await open();
  const statusRequest = 'GET /status?format=json HTTP/1.1\r\nHost: x\r\n\r\n';
  send(asker, statusRequest);
  const [r] = await asker.responsesCount(1);
  t.equal(r!.status, 200);
  t.equal(r!.header('content-type'), 'application/json');
  const s = JSON.parse(r!.text()) as StatusSnapshot;
  t.equal(s.version, '9.9.9');
  t.equal(s.uptimeSeconds, (10 + 20 + 30 + 40 + 1250) / 1000, 'uptime on the clock');
  t.same(s.connections, { open: 2, idle: 1, reading: 0, handling: 1, writing: 0, closing: 0 });
  t.equal(s.requests, 11, '8 on the kept connection, 400, 413, 408');
  t.equal(s.faults, 2);
  t.equal(s.bytesIn, sent, 'every byte sent, the status request included');
  t.equal(s.bytesOut, receivedBefore, 'every byte received before this response');
  t.same(s.methods, [
    { method: 'add', calls: 5, faults: 1, p50Ms: 20, p99Ms: 40 },
    { method: '<script>alert(1)</script>', calls: 1, faults: 1, p50Ms: 0, p99Ms: 0 },
  ]);
  t.same(s.limits, { requestTimeouts: 1, bodyTooLarge: 1, memoryRefusals: 0, connectionRefusals: 0, parseErrors: 2 });

  // The same with Accept: application/json; HTML otherwise, every name escaped.
  send(asker, 'GET /status HTTP/1.1\r\nHost: x\r\nAccept: text/html, application/json;q=0.9\r\n\r\n');
  send(asker, 'GET /status HTTP/1.1\r\nHost: x\r\n\r\n');
  const [, json, html] = await asker.responsesCount(3);
  t.equal((JSON.parse(json!.text()) as StatusSnapshot).requests, 12);
  t.equal(html!.header('content-type'), 'text/html; charset=utf-8');
  const page = html!.text();
  t.match(page, /^<!DOCTYPE html>\n<html lang="en">/);
  t.notMatch(page, /<script>/, 'no markup from a method name');
  t.match(page, /<td>&lt;script&gt;alert\(1\)&lt;\/script&gt;<\/td>/);
  t.match(page, /<th>408 request timeouts<\/th>\s*<td>1<\/td>/);
  t.match(page, /<th>Version<\/th>\s*<td>9\.9\.9<\/td>/);
  t.equal(XMLValidator.validate(page.replace('<!DOCTYPE html>\n', '')), true, 'well-formed: every element closed, every attribute quoted');

  // /metrics: the same counts, parsed strictly.
  send(asker, 'GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n');
  const metricsResponse = (await asker.responsesCount(4))[3]!;
  t.match(metricsResponse.header('content-type'), /^text\/plain; version=0\.0\.4/);
  const { samples, types } = parseExposition(metricsResponse.text());
  t.equal(types.get('xmlrpc_requests_total'), 'counter');
  t.equal(types.get('xmlrpc_request_duration_seconds'), 'histogram');
  t.equal(value(samples, 'xmlrpc_requests_total', { method: 'add', status: '200' }), 5);
  t.equal(value(samples, 'xmlrpc_requests_total', { method: '<script>alert(1)</script>', status: '200' }), 1);
  for (const code of ['404', '405', '400', '413', '408'])
    t.equal(value(samples, 'xmlrpc_requests_total', { method: '(none)', status: code }), 1, `one ${code}`);
  t.equal(value(samples, 'xmlrpc_requests_total', { method: '(none)', status: '200' }), 3, 'the three status pages');
  t.equal(value(samples, 'xmlrpc_faults_total', { method: 'add' }), 1);
  t.equal(value(samples, 'xmlrpc_request_duration_seconds_count', { method: 'add', status: '200' }), 5);
  t.equal(value(samples, 'xmlrpc_request_duration_seconds_sum', { method: 'add', status: '200' }), 0.1);
  t.equal(value(samples, 'xmlrpc_request_duration_seconds_bucket', { method: 'add', status: '200', le: '0.01' }), 2, '0 and 10 ms');
  t.equal(value(samples, 'xmlrpc_request_duration_seconds_bucket', { method: 'add', status: '200', le: '0.025' }), 3);
  t.equal(value(samples, 'xmlrpc_request_duration_seconds_bucket', { method: 'add', status: '200', le: '+Inf' }), 5);
  t.equal(value(samples, 'xmlrpc_limits_hit_total', { limit: 'request_timeout' }), 1);
  t.equal(value(samples, 'xmlrpc_limits_hit_total', { limit: 'body_too_large' }), 1);
  t.equal(value(samples, 'xmlrpc_limits_hit_total', { limit: 'parse_error' }), 2);
  t.equal(value(samples, 'xmlrpc_open_connections', { state: 'handling' }), 1);
  t.equal(value(samples, 'xmlrpc_open_connections', { state: 'idle' }), 1);
  // A second scrape does not count the limits twice.
  send(asker, 'GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n');
  const again = parseExposition((await asker.responsesCount(5))[4]!.text()).samples;
  t.equal(value(again, 'xmlrpc_limits_hit_total', { limit: 'parse_error' }), 2);
  t.equal(value(again, 'xmlrpc_requests_total', { method: '(none)', status: '200' }), 4, 'the first scrape counted');
});

t.test('the metrics go into a registry the user owns', async (t) => {
  const server = new Server({ handlers: [new DemoHandler()], onError: () => {} });
  const registry = new Registry();
  const metrics = new ServerMetrics(server, { registry, prefix: 'app_rpc_' });
  server.addHandler(new MetricsHandler({ metrics, path: '/m' }));
  const { port } = await server.listen(0, '127.0.0.1');
  t.teardown(() => server.close({ timeout: 0 }));
  const c = await RawClient.open(port);
  t.teardown(() => c.destroy());
  c.write(post('/RPC2', dumps([1, 2], 'add')));
  await c.responsesCount(1);
  const { samples } = parseExposition(await registry.metrics());
  t.equal(value(samples, 'app_rpc_requests_total', { method: 'add', status: '200' }), 1);
  c.write('GET /m HTTP/1.1\r\nHost: x\r\n\r\n');
  const [, r] = await c.responsesCount(2);
  t.match(r!.text(), /^app_rpc_requests_total\{method="add",status="200"\} 1$/m);
  metrics.close();
});

t.test('neither page is served unless added; a POST to them is a 405', async (t) => {
  const server = new Server({ handlers: [new DemoHandler()], onError: () => {} });
  const { port } = await server.listen(0, '127.0.0.1');
  t.teardown(() => server.close({ timeout: 0 }));
  const c = await RawClient.open(port);
  t.teardown(() => c.destroy());
  c.write('GET /status HTTP/1.1\r\nHost: x\r\n\r\nGET /metrics HTTP/1.1\r\nHost: x\r\n\r\n');
  const [a, b] = await c.responsesCount(2);
  t.equal(a!.status, 404);
  t.equal(b!.status, 404);
  server.addHandler(new StatusHandler({ server })).addHandler(new MetricsHandler({ server }));
  c.write(post('/status', 'x') + post('/metrics', 'x'));
  const [, , d, e] = await c.responsesCount(4);
  t.equal(d!.status, 405);
  t.equal(e!.status, 405);
});

t.test('a bad access log format is refused when the server is made', async (t) => {
  t.throws(() => new Server({ accessLog: { format: 'apache' as 'common', to: () => {} } }), RangeError);
});

t.test('the strict parser refuses what is not the exposition format', async (t) => {
  t.throws(() => parseExposition('a 1'), /newline/);
  t.throws(() => parseExposition('a 1\n'), /before its TYPE/);
  t.throws(() => parseExposition('# TYPE a counter\na{b=c} 1\n'), /bad labels/);
  t.throws(() => parseExposition('# TYPE a counter\na one\n'), /bad value/);
  t.throws(() => parseExposition('# TYPE a counter\n# TYPE a gauge\n'), /second TYPE/);
});
