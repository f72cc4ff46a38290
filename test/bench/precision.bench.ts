/**
 * The precision corpus (kernel trees the engine was not tuned on): per tree,
 * a cold `check` at the default confidence (wall time, CPU time, peak
 * memory, findings) beside Coccinelle's `mini_lock.cocci` in report mode on
 * the same tree (the lock script closest to what lock-leak finds).
 */
import path from 'node:path';
import { PRECISION_TREES } from '../corpus/kernel-corpus';
import { ms, timedRun as timed, type Measured } from './stats';

const root = path.resolve(__dirname, '../../..');
const cli = path.join(root, 'dist/cli.js');

export async function run(ctx: { kernelDir: string }) {
  const mini = path.join(ctx.kernelDir, 'scripts/coccinelle/locks/mini_lock.cocci');
  const rows: (string | number)[][] = [];
  const json: Record<string, unknown>[] = [];
  for (const tree of PRECISION_TREES) {
    const check = timed(
      [process.execPath, cli, 'check', '--format', 'json', '--no-index', tree],
      ctx.kernelDir,
      (s) => s === 0 || s === 1,
    );
    const report = JSON.parse(check.stdout) as { findings: unknown[]; coverage: { files: number } };
    const cocci = timed(
      ['spatch', '--sp-file', mini, '-D', 'report', '--no-includes', '--include-headers', '--dir', tree],
      ctx.kernelDir,
      (s) => s === 0,
    );
    const reports = cocci.stdout.split('\n').filter((l) => /^\S+:\d+:\d+-\d+: /.test(l)).length;
    rows.push([
      tree,
      report.coverage.files,
      `${ms(check.wallMs)} (cpu ${ms(check.cpuMs)})`,
      Math.round(check.peakKiB / 1024),
      report.findings.length,
      `${ms(cocci.wallMs)} (cpu ${ms(cocci.cpuMs)})`,
      Math.round(cocci.peakKiB / 1024),
      reports,
    ]);
    json.push({
      tree,
      files: report.coverage.files,
      check,
      cocci: { ...cocci, stdout: undefined, reports },
      findings: report.findings.length,
    });
  }
  return {
    title:
      'Precision corpus (Linux 6.12, each tree on its own): cold check at the default confidence vs Coccinelle mini_lock.cocci',
    columns: [
      'tree',
      'files',
      'check ms',
      'check peak MiB',
      'findings',
      'mini_lock ms',
      'mini_lock peak MiB',
      'mini_lock reports',
    ],
    rows,
    json: json.map((j) => ({ ...j, check: { ...(j.check as Measured), stdout: undefined } })),
  };
}
