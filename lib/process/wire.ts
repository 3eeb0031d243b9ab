// The IPC messages between spawnProcess (spawn.ts) and its child
// (child-main.ts). The token travels here, never in argv or the environment.

/** Parent -> child, once, first: what to serve. */
export interface StartMessage {
  type: 'start';
  name: string;
  token: string;
  /** Port to bind on 127.0.0.1 (0: any free port). */
  port: number;
  /** objects.import name -> file URL (the allow-list, every alias of each entry). */
  modules: Record<string, string>;
  /** Class name -> [file URL, export name]. */
  classes: Record<string, [string, string]>;
  /** objects.import may load any local file (an absolute path or file: URL, or a path relative to the child's cwd). */
  allowAnyModule: boolean;
  /** The ObjectServer's limits (sessionTtl, maxRefs...). */
  objectOptions: Record<string, number | boolean>;
}

/** Parent -> child: answer what is in flight, close, exit. */
export interface StopMessage {
  type: 'stop';
}

export type ToChild = StartMessage | StopMessage;

/** An error as sent across: enough to rebuild it with its stack. */
export interface WireError {
  name: string;
  message: string;
  stack?: string;
  code?: string;
}

export type FromChild = { type: 'ready'; url: string } | { type: 'failed'; error: WireError };

export function toWireError(err: unknown): WireError {
  if (err instanceof Error) {
    const out: WireError = { name: err.name, message: err.message };
    if (err.stack !== undefined) out.stack = err.stack;
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string') out.code = code;
    return out;
  }
  return { name: 'Error', message: `a non-Error was thrown: ${String(err)}` };
}

/** The child's error on this side: its name, message, code and stack as they were there. */
export function fromWireError(wire: WireError): Error {
  const err = new Error(wire.message);
  err.name = wire.name;
  if (wire.code !== undefined) (err as Error & { code?: string }).code = wire.code;
  err.stack = wire.stack ?? `${wire.name}: ${wire.message}`;
  return err;
}
