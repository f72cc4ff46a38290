/** Runs the BUNDLE (dist/cli.js) the way a user does, so bundling bugs fail tests. */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

export const repoRoot = path.resolve(__dirname, '../../../..');
export const cliBundle = path.join(repoRoot, 'dist/cli.js');

export interface CliRun {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export function runCli(
  args: string[],
  options: {
    cwd?: string;
    timeoutMs?: number;
    viaShebang?: boolean;
    env?: NodeJS.ProcessEnv;
    /** Another copy of dist/cli.js (a moved install). */
    bundle?: string;
  } = {},
): CliRun {
  const bundle = options.bundle ?? cliBundle;
  if (!existsSync(bundle)) throw new Error(`${bundle} is missing: build first (node scripts/build.mjs)`);
  const t0 = performance.now();
  const [cmd, argv] = options.viaShebang ? [bundle, args] : [process.execPath, [bundle, ...args]];
  const r = spawnSync(cmd, argv, {
    cwd: options.cwd ?? repoRoot,
    env: options.env ?? process.env,
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 60_000,
    maxBuffer: 256 * 1024 * 1024,
  });
  if (r.error && (r.error as NodeJS.ErrnoException).code !== 'ETIMEDOUT') throw r.error;
  return {
    status: r.status,
    signal: r.signal,
    stdout: r.stdout ?? '',
    stderr: r.stderr ?? '',
    ms: performance.now() - t0,
  };
}
