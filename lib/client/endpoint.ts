// Where a call goes: the `host` string of Transport.request ('127.0.0.1:8182',
// '[::1]:8182', 'user:pass@host:port', 'host') and the URL of a ServerProxy,
// parsed once into an Endpoint. Credentials never appear in `origin`, which
// is what error messages show.

import { Buffer } from 'node:buffer';
import * as net from 'node:net';

export interface Endpoint {
  /** HTTPS (the transport's `secure` option). */
  readonly secure: boolean;
  /** The name or address to connect to, without brackets. */
  readonly hostname: string;
  readonly port: number;
  /** The Host header: hostname (bracketed if IPv6) and the port when it is not the default. */
  readonly hostHeader: string;
  /** 'http://127.0.0.1:8182': scheme and authority without credentials, for messages. */
  readonly origin: string;
  /** The pool key: connections are shared only between calls with the same key. */
  readonly key: string;
  /** `Basic …` built from percent-decoded `user:pass@`, or null. */
  readonly authorization: string | null;
}

/** Request-target bytes: VCHAR only (no space, no control, no non-ASCII). */
const TARGET = /^[\x21-\x7e]+$/;
/** A registered name or IPv4 address (RFC 3986 reg-name without sub-delims, which no resolver takes). */
const REG_NAME = /^[A-Za-z0-9._~-]+$/;
const PORT = /^[0-9]{1,5}$/;

/**
 * Parses `[user[:pass]@]host[:port]`. The credentials are percent-decoded
 * (as Python's `unquote_to_bytes`) and sent as Basic auth on every request.
 * Throws TypeError for anything else.
 */
export function parseHost(host: string, secure: boolean): Endpoint {
  if (typeof host !== 'string') throw new TypeError(`host must be a string, got ${typeof host}`);
  let rest = host;
  let authorization: string | null = null;
  const at = rest.lastIndexOf('@');
  if (at !== -1) {
    const userinfo = rest.slice(0, at);
    if (!TARGET.test(userinfo)) throw new TypeError(`invalid credentials in host ${JSON.stringify(redact(host))}`);
    authorization = 'Basic ' + percentDecode(userinfo).toString('base64');
    rest = rest.slice(at + 1);
  }
  const defaultPort = secure ? 443 : 80;
  let hostname: string;
  let portText = '';
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close === -1) throw badHost(host);
    hostname = rest.slice(1, close);
    const after = rest.slice(close + 1);
    if (after !== '') {
      if (!after.startsWith(':')) throw badHost(host);
      portText = after.slice(1);
    }
    if (net.isIPv6(hostname.replace(/%[A-Za-z0-9._~-]+$/, '')) === false) throw badHost(host);
  } else if (net.isIPv6(rest)) {
    hostname = rest; // a bare IPv6 address: the default port
  } else {
    const colon = rest.lastIndexOf(':');
    hostname = colon === -1 ? rest : rest.slice(0, colon);
    if (colon !== -1) portText = rest.slice(colon + 1);
    if (!REG_NAME.test(hostname)) throw badHost(host);
  }
  let port = defaultPort;
  if (portText !== '') {
    if (!PORT.test(portText)) throw badHost(host);
    port = Number(portText);
    if (port < 1 || port > 65535) throw badHost(host);
  }
  const ipv6 = hostname.includes(':');
  // A zone id (fe80::1%eth0) is for the local stack only: never in Host or URLs.
  const shown = ipv6 ? `[${hostname.replace(/%.*$/, '')}]` : hostname.toLowerCase();
  const authority = port === defaultPort ? shown : `${shown}:${port}`;
  const scheme = secure ? 'https' : 'http';
  return {
    secure,
    hostname,
    port,
    hostHeader: authority,
    origin: `${scheme}://${authority}`,
    key: `${scheme}://${ipv6 ? `[${hostname}]` : hostname.toLowerCase()}:${port}`,
    authorization,
  };
}

export interface ParsedUrl {
  secure: boolean;
  /** The `host` argument for Transport.request: `[user:pass@]host[:port]`. */
  host: string;
  /** The request-target: path and query ('/RPC2' when the URL has no path, as in Python). */
  path: string;
  /** The URL without credentials or fragment, for messages. */
  display: string;
}

/** A ServerProxy URL: http or https, optional credentials, path defaulting to /RPC2. */
export function parseUrl(url: string): ParsedUrl {
  if (typeof url !== 'string') throw new TypeError(`url must be a string, got ${typeof url}`);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TypeError(`invalid URL ${JSON.stringify(redact(url))}`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new TypeError(`unsupported XML-RPC protocol ${JSON.stringify(parsed.protocol)} (http: or https: only)`);
  }
  const secure = parsed.protocol === 'https:';
  // URL keeps the userinfo percent-encoded; parseHost decodes it.
  const userinfo = parsed.username === '' && parsed.password === '' ? '' : `${parsed.username}${parsed.password === '' ? '' : `:${parsed.password}`}@`;
  const noPath = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*(#.*)?$/.test(url.trim());
  const path = noPath ? '/RPC2' : parsed.pathname + parsed.search;
  return {
    secure,
    host: userinfo + parsed.host,
    path,
    display: `${parsed.protocol}//${parsed.host}${path}`,
  };
}

/** Checks a request-target before it goes into a request line. */
export function checkPath(path: string): void {
  if (typeof path !== 'string' || !TARGET.test(path)) {
    throw new TypeError(`invalid path (request-target) ${JSON.stringify(path)}: printable ASCII without spaces`);
  }
}

const LOOPBACK = new net.BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');
LOOPBACK.addSubnet('::ffff:127.0.0.0', 104, 'ipv6');

/** 127.0.0.0/8, ::1 (any spelling), ::ffff:127.x, and `localhost`. */
export function isLoopback(hostname: string): boolean {
  const name = hostname.toLowerCase();
  if (name === 'localhost' || name.endsWith('.localhost')) return true;
  const family = net.isIP(name);
  if (family === 4) return LOOPBACK.check(name, 'ipv4');
  if (family === 6) return LOOPBACK.check(name, 'ipv6');
  return false;
}

/** %XX sequences to bytes; anything else (a stray %) kept as is. */
function percentDecode(text: string): Buffer {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x25 && i + 2 < text.length && /^[0-9A-Fa-f]{2}$/.test(text.slice(i + 1, i + 3))) {
      bytes.push(parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(c);
    }
  }
  return Buffer.from(bytes);
}

/** The host or URL with any password replaced, for messages. */
function redact(text: string): string {
  return text.replace(/^([^@/]*\/\/)?[^@/]*@/, (_m, scheme: string | undefined) => `${scheme ?? ''}***@`);
}

function badHost(host: string): TypeError {
  return new TypeError(`invalid host ${JSON.stringify(redact(host))}: expected [user:pass@]host[:port]`);
}
