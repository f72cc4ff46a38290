/**
 * Runs one fuzz case through the built CLI bundle (dist/cli.js) as a child
 * process, in a fresh folder holding its files, and judges it. A failure is
 * an exit status outside 0-2 (3 is the CLI's own internal error), a signal,
 * more than 10 s of CPU time or a hang, a stack trace on stderr, or with --format json and
 * status 0 or 1, stdout that is not JSON. Failing cases can be saved with
 * the command that reproduces them.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { cliBundle } from '../unit/cli/run-cli';
import type { FuzzCase } from './generators';

/**
 * One input may take at most this much CPU time (the bound for bad input).
 * CPU, not wall time: on a shared two-core machine a 1.5 s run can take 11 s
 * of wall time. A case still running after HANG_MS of wall time is a hang.
 */
export const CASE_LIMIT_MS = 10_000;
export const HANG_MS = 60_000;

/** Preloaded into the CLI's process: writes its own CPU time (all threads) and peak memory to $IOMMUFD_MEASURE at exit. */
const MEASURE_PRELOAD = `process.on('exit', () => { const u = process.resourceUsage(); require('fs').writeFileSync(process.env.IOMMUFD_MEASURE, JSON.stringify({ cpuMs: (u.userCPUTime + u.systemCPUTime) / 1000, maxRssKb: u.maxRSS })); });\n`;

export interface Verdict {
  ok: boolean;
  /** Why it failed, in words. */
  reason?: string;
  status: number | null;
  /** CPU time of the CLI process, ms. */
  ms: number;
  stderr: string;
}

const STACK_LINE = /^\s+at .+(:\d+:\d+\)?|\(native\)|<anonymous>\)?)$/m;

export function judge(
  c: FuzzCase,
  r: { status: number | null; signal: string | null; stdout: string; stderr: string; ms: number; timedOut: boolean },
): Verdict {
  const base = { status: r.status, ms: r.ms, stderr: r.stderr };
  if (r.timedOut) return { ...base, ok: false, reason: `still running after ${HANG_MS / 1000} s` };
  if (r.ms > CASE_LIMIT_MS) return { ...base, ok: false, reason: `took over ${CASE_LIMIT_MS / 1000} s` };
  if (r.signal) return { ...base, ok: false, reason: `killed by ${r.signal}` };
  if (r.status === null || r.status < 0 || r.status > 2)
    return { ...base, ok: false, reason: `exit status ${r.status}` };
  if (STACK_LINE.test(r.stderr) || /internal error/.test(r.stderr))
    return { ...base, ok: false, reason: 'a stack trace or internal error on stderr' };
  if (r.status === 2 && r.stderr.trim() === '') return { ...base, ok: false, reason: 'exit 2 without a message' };
  if (c.json && r.status !== 2) {
    try {
      JSON.parse(r.stdout);
    } catch (e) {
      return { ...base, ok: false, reason: `stdout is not JSON: ${(e as Error).message}` };
    }
  }
  return { ...base, ok: true };
}

export interface MeasuredRun {
  status: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  wallMs: number;
  /** CPU time of the CLI process (all its threads), ms; the wall time if it did not exit normally. */
  cpuMs: number;
  /** Peak resident memory of the CLI process, KiB (0 if it did not exit normally). */
  maxRssKb: number;
  timedOut: boolean;
}

/** Runs the CLI bundle in `cwd` with a preload that reports its own CPU time and peak memory. */
export function runCliMeasured(args: readonly string[], cwd: string, hangMs = HANG_MS): MeasuredRun {
  const preload = path.join(cwd, '.measure-preload.js');
  const report = path.join(cwd, '.measure.json');
  writeFileSync(preload, MEASURE_PRELOAD);
  rmSync(report, { force: true });
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ['--require', preload, cliBundle, ...args], {
    cwd,
    encoding: 'utf8',
    timeout: hangMs,
    maxBuffer: 512 * 1024 * 1024,
    env: { ...process.env, IOMMUFD_MEASURE: report },
  });
  const wallMs = performance.now() - t0;
  const timedOut = (r.error as NodeJS.ErrnoException | undefined)?.code === 'ETIMEDOUT';
  if (r.error && !timedOut) throw r.error;
  const m = existsSync(report)
    ? (JSON.parse(readFileSync(report, 'utf8')) as { cpuMs: number; maxRssKb: number })
    : { cpuMs: wallMs, maxRssKb: 0 };
  return {
    status: r.status,
    signal: r.signal,
    stdout: r.stdout ?? '',
    stderr: r.stderr ?? '',
    wallMs,
    cpuMs: m.cpuMs,
    maxRssKb: m.maxRssKb,
    timedOut,
  };
}

export function runCase(c: FuzzCase): Verdict {
  const dir = mkdtempSync(path.join(tmpdir(), 'iommufd-fuzz-'));
  try {
    for (const f of c.files) writeFileSync(path.join(dir, f.name), f.content);
    const r = runCliMeasured(c.args, dir);
    return judge(c, {
      status: r.status,
      signal: r.signal,
      stdout: r.stdout,
      stderr: r.stderr,
      ms: r.cpuMs,
      timedOut: r.timedOut,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Saves a failing case under `root` (fuzz-failures/): its files, the command, and the verdict. Returns its folder. */
export function saveFailure(root: string, c: FuzzCase, v: Verdict, seed: number): string {
  const hash = createHash('sha256');
  for (const f of c.files) hash.update(f.name).update(f.content);
  hash.update(c.args.join('\0'));
  const dir = path.join(root, `${c.target}-${hash.digest('hex').slice(0, 12)}`);
  mkdirSync(dir, { recursive: true });
  for (const f of c.files) writeFileSync(path.join(dir, f.name), f.content);
  const command = `cd ${JSON.stringify(dir)} && node ${JSON.stringify(cliBundle)} ${c.args.map((a) => JSON.stringify(a)).join(' ')}`;
  writeFileSync(path.join(dir, 'command.sh'), `#!/bin/sh\n# ${v.reason} (seed ${seed})\n${command}\n`);
  writeFileSync(
    path.join(dir, 'verdict.json'),
    JSON.stringify(
      {
        seed,
        target: c.target,
        args: c.args,
        reason: v.reason,
        status: v.status,
        ms: Math.round(v.ms),
        stderr: v.stderr.slice(0, 4000),
      },
      null,
      2,
    ) + '\n',
  );
  return dir;
}
