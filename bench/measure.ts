// Timing and table helpers shared by the benchmarks (and the machine line
// they print first): every loop is bounded in count and in time, and figures
// are medians of several rounds.

import { readFileSync } from 'node:fs';
import * as os from 'node:os';

export interface Rate {
  /** Operations per second (median of the rounds). */
  opsPerSec: number;
  /** Microseconds per operation. */
  usPerOp: number;
}

/** One timed round: at most `maxOps` operations, for about `roundMs`. */
class Round {
  private ops = 0;
  private readonly start = process.hrtime.bigint();
  private readonly deadline: bigint;
  private now = this.start;

  constructor(
    roundMs: number,
    private readonly maxOps: number,
  ) {
    this.deadline = this.start + BigInt(roundMs) * 1_000_000n;
  }

  /** Counts `ops` done; false once the round is over. */
  more(ops: number): boolean {
    this.ops += ops;
    this.now = process.hrtime.bigint();
    return this.ops < this.maxOps && this.now < this.deadline;
  }

  perSecond(): number {
    return (this.ops * 1e9) / Number(this.now - this.start);
  }
}

export function median(samples: number[]): number {
  return [...samples].sort((a, b) => a - b)[Math.floor(samples.length / 2)]!;
}

/** Runs `fn` in rounds of about `roundMs` (at most `maxOps` calls each) and returns the median rate. */
export function rate(fn: () => unknown, { rounds = 5, roundMs = 200, maxOps = 1_000_000 } = {}): Rate {
  for (let i = 0; i < 3; i++) fn(); // warm up the JIT
  const samples: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const round = new Round(roundMs, maxOps);
    for (let done = 0; round.more(done); done = 1) fn();
    samples.push(round.perSecond());
  }
  const opsPerSec = median(samples);
  return { opsPerSec, usPerOp: 1e6 / opsPerSec };
}

/** Awaits `once` in rounds as `rate` does (each call counting `perCall` operations) after 50 warm-up calls; the median operations/s. */
export async function asyncRate(once: () => Promise<unknown>, { rounds = 5, roundMs = 200, maxOps = 200_000, perCall = 1 } = {}): Promise<number> {
  for (let i = 0; i < 50; i++) await once();
  const samples: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const round = new Round(roundMs, maxOps);
    for (let done = 0; round.more(done); done = perCall) await once();
    samples.push(round.perSecond());
  }
  return median(samples);
}

export function formatRate(r: number): string {
  if (r >= 1e6) return `${(r / 1e6).toFixed(2)}M/s`;
  if (r >= 1e3) return `${(r / 1e3).toFixed(1)}k/s`;
  return `${r.toFixed(1)}/s`;
}

/** A plain-text table, columns padded to their widest cell. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** The line every bench output starts with: Node, cores and CPU model, OS. */
export function machine(): string {
  let model = os.cpus()[0]?.model ?? 'unknown CPU';
  try {
    model = /^model name\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'latin1'))?.[1] ?? model;
  } catch {
    /* not Linux */
  }
  return `node ${process.version}, ${os.availableParallelism()} x ${model}, ${os.platform()} ${os.release()}`;
}
