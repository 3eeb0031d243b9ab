// Checking the numeric options every layer takes, in one place: a limit is a
// non-negative number, a timeout also fits Node's timers (a larger delay
// would fire after 1 ms, not never).

/** The longest delay setTimeout honours (2^31 - 1 ms, about 24.8 days). */
export const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/** A byte, count or size limit: a non-negative number (Infinity only where allowed). */
export function nonNegative(name: string, value: unknown, allowInfinity = false): number {
  if (typeof value !== 'number' || Number.isNaN(value) || value < 0 || (!allowInfinity && !Number.isFinite(value))) {
    throw new RangeError(`${name} must be a non-negative number, got ${String(value)}`);
  }
  return value;
}

/** A timeout in ms: 0 to MAX_TIMEOUT_MS. */
export function timeoutMs(name: string, value: unknown): number {
  const ms = nonNegative(name, value);
  if (ms > MAX_TIMEOUT_MS) throw new RangeError(`${name} must be at most ${MAX_TIMEOUT_MS} ms, got ${ms}`);
  return ms;
}

/** The options that are set: an explicit `undefined` falls back to the default. */
export function definedOnly<T extends object>(options: T): Partial<T> {
  const out: Partial<T> = {};
  for (const key of Object.keys(options) as (keyof T)[]) {
    if (options[key] !== undefined) out[key] = options[key];
  }
  return out;
}
