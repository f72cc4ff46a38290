/** Timing helpers for the *.bench.ts modules: warm-up, repetitions, percentiles. */
import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';

export interface Timing {
  samples: number[];
  median: number;
  p95: number;
  min: number;
  /**
   * Median CPU time (user + system) of the same runs, when known. On a busy
   * machine wall time includes waiting for a core; CPU time does not, so it
   * is the better estimate of what an idle machine shows.
   */
  cpuMedian?: number;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

export function summarise(samples: number[], cpuSamples?: number[]): Timing {
  const sorted = [...samples].sort((a, b) => a - b);
  const t: Timing = { samples, median: percentile(sorted, 50), p95: percentile(sorted, 95), min: sorted[0] };
  if (cpuSamples && cpuSamples.length > 0)
    t.cpuMedian = percentile(
      [...cpuSamples].sort((a, b) => a - b),
      50,
    );
  return t;
}

/** Runs `fn` `warmup` times unmeasured, then `reps` times measured (ms). */
export async function measure(fn: () => unknown, options: { warmup?: number; reps?: number } = {}): Promise<Timing> {
  const { warmup = 3, reps = 10 } = options;
  for (let i = 0; i < warmup; i++) await fn();
  const samples: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < reps; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await fn();
    samples.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }
  return summarise(samples, cpu);
}

/** "wall (cpu N)" for a table cell. */
export function wallCpu(t: Timing, pick: 'median' | 'p95' = 'median'): string {
  const wall = ms(t[pick]);
  return pick === 'median' && t.cpuMedian !== undefined ? `${wall} (cpu ${ms(t.cpuMedian)})` : String(wall);
}

/** Milliseconds, rounded for a table. */
export function ms(n: number): number {
  return n >= 100 ? Math.round(n) : Math.round(n * 10) / 10;
}

export function ratio(a: number, b: number): string {
  return `${(a / b).toFixed(2)}x`;
}

export interface Measured {
  wallMs: number;
  cpuMs: number;
  peakKiB: number;
  stdout: string;
}

/** Runs a command under GNU time: wall, user + system CPU, and the peak resident set of the child. */
export function timedRun(argv: string[], cwd: string, ok: (status: number) => boolean): Measured {
  const r = spawnSync('/usr/bin/time', ['-f', '@@time %e %U %S %M', ...argv], {
    cwd,
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  if (r.error) throw r.error;
  const m = /@@time ([\d.]+) ([\d.]+) ([\d.]+) (\d+)/.exec(r.stderr);
  if (!m || !ok(r.status ?? -1))
    throw new Error(`${argv.join(' ').slice(0, 200)} exited ${r.status}: ${r.stderr.slice(0, 2000)}`);
  return {
    wallMs: Number(m[1]) * 1000,
    cpuMs: (Number(m[2]) + Number(m[3])) * 1000,
    peakKiB: Number(m[4]),
    stdout: r.stdout,
  };
}
