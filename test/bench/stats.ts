/** Timing helpers for the *.bench.ts modules: warm-up, repetitions, percentiles. */
import { performance } from 'node:perf_hooks';

export interface Timing {
  samples: number[];
  median: number;
  p95: number;
  min: number;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

export function summarise(samples: number[]): Timing {
  const sorted = [...samples].sort((a, b) => a - b);
  return { samples, median: percentile(sorted, 50), p95: percentile(sorted, 95), min: sorted[0] };
}

/** Runs `fn` `warmup` times unmeasured, then `reps` times measured (ms). */
export async function measure(fn: () => unknown, options: { warmup?: number; reps?: number } = {}): Promise<Timing> {
  const { warmup = 3, reps = 10 } = options;
  for (let i = 0; i < warmup; i++) await fn();
  const samples: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await fn();
    samples.push(performance.now() - t0);
  }
  return summarise(samples);
}

/** Milliseconds, rounded for a table. */
export function ms(n: number): number {
  return n >= 100 ? Math.round(n) : Math.round(n * 10) / 10;
}

export function ratio(a: number, b: number): string {
  return `${(a / b).toFixed(2)}x`;
}
