// The node flags a forked child takes from this process: shared by the
// WorkerPool's process children (lib/offload) and spawnProcess (lib/process).

import type { ResourceLimits } from 'node:worker_threads';

/** Flags of this process a child must not repeat: they run code, wait for a debugger, or are not for a module entry. */
const NOT_INHERITED = /^(-e|--eval|-p|--print|-c|--check|-i|--interactive|--test|--watch|--inspect|--debug)/;
const WITH_VALUE = new Set(['-e', '--eval', '-p', '--print']);

/** This process's flags a child keeps (loaders, --enable-source-maps...), and resourceLimits as V8 flags. */
export function childExecArgv(parent: readonly string[], limits: ResourceLimits | undefined): string[] {
  const argv: string[] = [];
  for (let i = 0; i < parent.length; i++) {
    const flag = parent[i]!;
    if (!NOT_INHERITED.test(flag)) argv.push(flag);
    else if (WITH_VALUE.has(flag)) i++;
  }
  if (limits?.maxOldGenerationSizeMb !== undefined) argv.push(`--max-old-space-size=${Math.max(1, Math.ceil(limits.maxOldGenerationSizeMb))}`);
  if (limits?.maxYoungGenerationSizeMb !== undefined) argv.push(`--max-semi-space-size=${Math.max(1, Math.ceil(limits.maxYoungGenerationSizeMb / 3))}`);
  return argv;
}
