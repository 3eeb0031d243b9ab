// The servers of the server bench: ours, the XML-RPC peers, and two
// ceilings. Each is a small program under bench/servers/ that takes a port
// (0: any) and prints its bound port. prepare() finds what a peer needs (and
// builds the C one); it returns the command, or why the peer is skipped.

import * as path from 'node:path';
import { capture, run, which } from './procs.js';

export interface Paths {
  /** The repository's root. */
  root: string;
  /** dist/bench, where the compiled servers are. */
  dist: string;
  /** A temp dir outside the repository, removed at the end. */
  tmp: string;
}

export interface Peer {
  id: string;
  label: string;
  /** A ceiling answers a fixed response: not an XML-RPC server. */
  ceiling: boolean;
  /** The command that starts it (argv, before pinning), or why it cannot run. */
  prepare(paths: Paths): Promise<{ argv: string[] } | { skip: string }>;
}

function nodeServer(id: string, label: string, file: string, ceiling = false): Peer {
  return {
    id,
    label,
    ceiling,
    prepare: (paths) => Promise.resolve({ argv: [process.execPath, path.join(paths.dist, 'servers', file), '0'] }),
  };
}

export const OURS = nodeServer('ours', 'ours (medusa-xmlrpc)', 'ours.js');

// prettier-ignore
export const PEERS: readonly Peer[] = [
  OURS,
  nodeServer('node-xmlrpc', 'node-xmlrpc', 'node-xmlrpc.js'),
  nodeServer('foxglove', '@foxglove/xmlrpc', 'foxglove.js'),
  {
    id: 'python',
    label: 'Python SimpleXMLRPCServer',
    ceiling: false,
    prepare: (paths) => {
      // The interpreter itself, not a wrapper script (pyenv's shim), so that
      // the pid we sample is the server's.
      const python = which('python3') === null ? null : capture(['python3', '-c', 'import sys; print(sys.executable)']);
      if (python === null || python === '') return Promise.resolve({ skip: 'python3 not found' });
      return Promise.resolve({ argv: [python, path.join(paths.root, 'bench', 'servers', 'python.py'), '0'] });
    },
  },
  {
    id: 'xmlrpc-c',
    label: 'xmlrpc-c (C, Abyss)',
    ceiling: false,
    prepare: async (paths) => {
      const cc = which('cc') ?? which('gcc');
      if (cc === null) return { skip: 'no C compiler (cc)' };
      if (which('xmlrpc-c-config') === null) {
        return { skip: 'xmlrpc-c-config not found (apt-get install libxmlrpc-core-c3-dev)' };
      }
      const flags = capture(['xmlrpc-c-config', 'abyss-server', '--cflags', '--libs']);
      if (flags === null) return { skip: 'xmlrpc-c-config abyss-server failed' };
      const out = path.join(paths.tmp, 'xmlrpc-c-server');
      const source = path.join(paths.root, 'bench', 'servers', 'xmlrpc-c.c');
      const r = await run([cc, '-O2', '-o', out, source, ...flags.split(/\s+/).filter((f) => f !== '')], 60_000);
      if (r.code !== 0) return { skip: `build failed: ${r.stderr.trim().split('\n').slice(0, 2).join(' | ')}` };
      return { argv: [out, '0'] };
    },
  },
  nodeServer('node-http', 'ceiling: node:http, fixed reply', 'node-http.js', true),
  nodeServer('node-net', 'ceiling: node:net, fixed reply', 'node-net.js', true),
];
