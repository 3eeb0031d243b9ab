// Opening a client socket (Transport.connect's own work): TCP with
// `node:net`, or TLS with `node:tls` for an https endpoint (certificates
// verified unless the options say otherwise, SNI from the host name), under
// a signal that gives up the attempt. A module of its own: how a socket is
// opened changes for other reasons than the steps of a call.

import * as net from 'node:net';
import * as tls from 'node:tls';
import type { Endpoint } from './endpoint.js';

/** The `node:tls` options a client may set (certificates are verified unless `rejectUnauthorized: false`). */
export type TlsClientOptions = Pick<
  tls.ConnectionOptions,
  'ca' | 'cert' | 'key' | 'passphrase' | 'pfx' | 'rejectUnauthorized' | 'servername' | 'checkServerIdentity' | 'minVersion' | 'maxVersion' | 'ciphers'
>;

/**
 * A socket to `endpoint`, resolved once it can carry a request (after the
 * TLS handshake for HTTPS), with Nagle off. On `signal` abort the socket is
 * destroyed and the promise rejects with the signal's reason.
 */
export function dial(endpoint: Endpoint, tlsOptions: Readonly<TlsClientOptions>, signal: AbortSignal): Promise<net.Socket> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    let socket: net.Socket;
    let ready: string;
    if (endpoint.secure) {
      const servername = tlsOptions.servername ?? (net.isIP(endpoint.hostname) === 0 ? endpoint.hostname : undefined);
      socket = tls.connect({ ...tlsOptions, host: endpoint.hostname, port: endpoint.port, servername, ALPNProtocols: ['http/1.1'] });
      ready = 'secureConnect';
    } else {
      socket = net.connect({ host: endpoint.hostname, port: endpoint.port });
      ready = 'connect';
    }
    const cleanup = () => {
      socket.off(ready, onReady);
      socket.off('error', onError);
      signal.removeEventListener('abort', onAbort);
    };
    const giveUp = (err: unknown) => {
      cleanup();
      socket.on('error', noop); // nothing more to report from this socket
      socket.destroy();
      reject(err);
    };
    const onReady = () => {
      cleanup();
      socket.setNoDelay(true);
      resolve(socket);
    };
    const onError = (err: Error) => giveUp(err);
    const onAbort = () => giveUp(signal.reason);
    socket.once(ready, onReady);
    socket.once('error', onError);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function noop(): void {}
