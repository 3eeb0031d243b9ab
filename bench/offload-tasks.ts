// The task module of the offload bench (compiled to dist/bench/offload-tasks.js):
// a no-op, and a CPU-bound job of a fixed amount of work (pbkdf2Sync, whose
// iteration count the bench calibrates to about 20 ms on the main thread).
// Each is a named export for WorkerPool.run and for piscina's `name` option.

import { pbkdf2Sync } from 'node:crypto';

export function noop(): void {}

/** `iterations` rounds of PBKDF2-SHA256 on the calling thread; returns the key's first byte. */
export function work(iterations: number): number {
  return pbkdf2Sync('medusa-xmlrpc', 'offload-bench', iterations, 32, 'sha256')[0]!;
}
