// Host strings and ServerProxy URLs, parsed without a socket: one row per case.

import t from 'tap';
import { checkPath, isLoopback, parseHost, parseUrl } from '../lib/client/endpoint.js';

const basic = (userinfo: string) => `Basic ${Buffer.from(userinfo).toString('base64')}`;

t.test('parses every accepted host form', async (t) => {
  const rows: [string, boolean, { hostname: string; port: number; hostHeader: string; origin: string; key: string; authorization: string | null }][] = [
    [
      '127.0.0.1:8182',
      false,
      { hostname: '127.0.0.1', port: 8182, hostHeader: '127.0.0.1:8182', origin: 'http://127.0.0.1:8182', key: 'http://127.0.0.1:8182', authorization: null },
    ],
    [
      'localhost',
      false,
      { hostname: 'localhost', port: 80, hostHeader: 'localhost', origin: 'http://localhost', key: 'http://localhost:80', authorization: null },
    ],
    [
      'localhost:',
      false,
      { hostname: 'localhost', port: 80, hostHeader: 'localhost', origin: 'http://localhost', key: 'http://localhost:80', authorization: null },
    ], // an empty port is the default, as in Python
    [
      'localhost',
      true,
      { hostname: 'localhost', port: 443, hostHeader: 'localhost', origin: 'https://localhost', key: 'https://localhost:443', authorization: null },
    ],
    [
      'Example.COM:443',
      true,
      { hostname: 'Example.COM', port: 443, hostHeader: 'example.com', origin: 'https://example.com', key: 'https://example.com:443', authorization: null },
    ],
    [
      '[::1]:8182',
      false,
      { hostname: '::1', port: 8182, hostHeader: '[::1]:8182', origin: 'http://[::1]:8182', key: 'http://[::1]:8182', authorization: null },
    ],
    ['[::1]', false, { hostname: '::1', port: 80, hostHeader: '[::1]', origin: 'http://[::1]', key: 'http://[::1]:80', authorization: null }],
    ['::1', false, { hostname: '::1', port: 80, hostHeader: '[::1]', origin: 'http://[::1]', key: 'http://[::1]:80', authorization: null }],
    [
      '[fe80::1%eth0]:9',
      false,
      { hostname: 'fe80::1%eth0', port: 9, hostHeader: '[fe80::1]:9', origin: 'http://[fe80::1]:9', key: 'http://[fe80::1%eth0]:9', authorization: null },
    ],
    [
      'user:pass@host:1',
      false,
      { hostname: 'host', port: 1, hostHeader: 'host:1', origin: 'http://host:1', key: 'http://host:1', authorization: basic('user:pass') },
    ],
    [
      'us%40er:p%3As%20s@host',
      false,
      { hostname: 'host', port: 80, hostHeader: 'host', origin: 'http://host', key: 'http://host:80', authorization: basic('us@er:p:s s') },
    ],
    ['a@b:c@host', false, { hostname: 'host', port: 80, hostHeader: 'host', origin: 'http://host', key: 'http://host:80', authorization: basic('a@b:c') }],
    ['token@host', false, { hostname: 'host', port: 80, hostHeader: 'host', origin: 'http://host', key: 'http://host:80', authorization: basic('token') }],
    [
      '%e2%82%ac:%zz@host',
      false,
      { hostname: 'host', port: 80, hostHeader: 'host', origin: 'http://host', key: 'http://host:80', authorization: basic('\u20ac:%zz') },
    ],
  ];
  for (const [host, secure, expected] of rows) {
    t.same(parseHost(host, secure), { secure, ...expected }, `${host} (${secure ? 'https' : 'http'})`);
  }
});

t.test('refuses malformed hosts, and never echoes a password in the message', async (t) => {
  for (const host of [
    '',
    ':80',
    'host:0',
    'host:65536',
    'host:8o',
    'a b',
    'host/RPC2',
    'host?x',
    '[::1',
    '[::1]80',
    '[nothost]:1',
    'h\r\nX: y',
    'user:secret@',
    'user:secret@a b',
  ]) {
    t.throws(() => parseHost(host, false), TypeError, JSON.stringify(host));
    try {
      parseHost(host, false);
    } catch (err) {
      t.notMatch((err as Error).message, 'secret', 'no password in the message');
    }
  }
});

t.test('parses ServerProxy URLs as Python does: /RPC2 when there is no path', async (t) => {
  const rows: [string, { secure: boolean; host: string; path: string; display: string }][] = [
    ['http://127.0.0.1:8182/RPC2', { secure: false, host: '127.0.0.1:8182', path: '/RPC2', display: 'http://127.0.0.1:8182/RPC2' }],
    ['http://127.0.0.1:8182', { secure: false, host: '127.0.0.1:8182', path: '/RPC2', display: 'http://127.0.0.1:8182/RPC2' }],
    ['http://127.0.0.1:8182/', { secure: false, host: '127.0.0.1:8182', path: '/', display: 'http://127.0.0.1:8182/' }],
    ['https://h/xmlrpc?key=1#frag', { secure: true, host: 'h', path: '/xmlrpc?key=1', display: 'https://h/xmlrpc?key=1' }],
    ['https://h:443/x', { secure: true, host: 'h', path: '/x', display: 'https://h/x' }],
    ['http://u%40x:p%3Aw@[::1]:9/R', { secure: false, host: 'u%40x:p%3Aw@[::1]:9', path: '/R', display: 'http://[::1]:9/R' }],
    ['http://h/caf\u00e9 x', { secure: false, host: 'h', path: '/caf%C3%A9%20x', display: 'http://h/caf%C3%A9%20x' }],
  ];
  for (const [url, expected] of rows) t.same(parseUrl(url), expected, url);
  t.throws(() => parseUrl('ftp://h/'), { name: 'TypeError', message: /unsupported XML-RPC protocol "ftp:"/ });
  t.throws(() => parseUrl('not a url'), TypeError);
  t.throws(() => parseUrl('http://user:secret@h:99999/'), { message: /^(?!.*secret)/ });
});

t.test('a path must be printable ASCII without spaces', async (t) => {
  for (const ok of ['/RPC2', '/', '/a?b=c', 'http://proxied/RPC2']) t.doesNotThrow(() => checkPath(ok), ok);
  for (const bad of ['', '/a b', '/a\tb', '/caf\u00e9', '/a\r\nHost: x']) t.throws(() => checkPath(bad), TypeError, JSON.stringify(bad));
});

t.test('isLoopback knows 127/8, ::1 in any spelling, mapped 127 and localhost', async (t) => {
  for (const host of ['127.0.0.1', '127.9.8.7', '::1', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1', 'localhost', 'LOCALHOST', 'api.localhost']) {
    t.equal(isLoopback(host), true, host);
  }
  for (const host of ['10.0.0.1', '128.0.0.1', '::2', '::ffff:10.0.0.1', 'example.com', 'localhost.example.com']) {
    t.equal(isLoopback(host), false, host);
  }
});
