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

/** Runs `fn` in rounds of about `roundMs` (at most `maxOps` calls each) and returns the median rate. */
export function rate(fn: () => unknown, { rounds = 5, roundMs = 200, maxOps = 1_000_000 } = {}): Rate {
  for (let i = 0; i < 3; i++) fn(); // warm up the JIT
  const samples: number[] = [];
  for (let r = 0; r < rounds; r++) {
    let ops = 0;
    const start = process.hrtime.bigint();
    const deadline = start + BigInt(roundMs) * 1_000_000n;
    let now = start;
    while (ops < maxOps && now < deadline) {
      fn();
      ops++;
      now = process.hrtime.bigint();
    }
    samples.push((ops * 1e9) / Number(now - start));
  }
  samples.sort((a, b) => a - b);
  const opsPerSec = samples[Math.floor(samples.length / 2)]!;
  return { opsPerSec, usPerOp: 1e6 / opsPerSec };
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
