/**
 * Scaling of `patch` and `check` on generated input (test/fuzz/big-inputs.ts:
 * kernel-style helpers and format-patch mails, never committed): against
 * input size (1, 5, 20 MB) and against the count of patches, files and
 * hunks. Each row is one run of the built CLI bundle as a user runs it
 * (`--format json`), with its CPU time, wall time and peak memory; the
 * per-MB or per-item column shows whether growth is linear.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { cFile, gitDiff, patchMail, seriesMbox } from '../fuzz/big-inputs';
import { runCliMeasured } from '../fuzz/harness';

const MB = 1024 * 1024;

interface Row {
  command: string;
  axis: string;
  n: number;
  bytes: number;
  wallMs: number;
  cpuMs: number;
  peakMb: number;
}

/** A series of about `bytes` bytes: patches of 2 files with 10 hunks each (about 6 KB a patch). */
function mboxOfSize(bytes: number): string {
  const one = seriesMbox(1, 2, 10).length;
  return seriesMbox(Math.max(1, Math.round(bytes / one)), 2, 10);
}

/** C files of about 256 KB each (a driver directory, not one giant file, which the parser's time cap would skip), `bytes` in all. */
function cTreeOfSize(dir: string, bytes: number): { paths: string[]; bytes: number } {
  const perHelper = cFile(2).length - cFile(1).length;
  const perFile = Math.round((256 * 1024) / perHelper);
  const files = Math.max(1, Math.round(bytes / (perFile * perHelper)));
  const paths: string[] = [];
  let total = 0;
  for (let k = 0; k < files; k++) {
    const name = `c/demo${k}.c`;
    const text = cFile(perFile, `demo${k}`);
    writeFileSync(path.join(dir, name), text);
    paths.push(name);
    total += text.length;
  }
  return { paths, bytes: total };
}

function measureArgs(
  dir: string,
  command: 'patch' | 'check',
  axis: string,
  n: number,
  args: string[],
  bytes: number,
): Row {
  const r = runCliMeasured([command, '--format', 'json', '--no-index', ...args], dir, 15 * 60_000);
  if (r.status === null || r.status > 1)
    throw new Error(`${command} ${axis} ${n}: exit ${r.status}: ${r.stderr.slice(0, 500)}`);
  const out = JSON.parse(r.stdout) as {
    coverage?: { functions: { parsed: number; partial: number }; problems: unknown[] };
  };
  // A check row counts only if everything was analysed (no file skipped by a cap).
  if (command === 'check' && (out.coverage?.problems.length ?? 0) > 0)
    throw new Error(`check ${axis} ${n}: coverage problems ${JSON.stringify(out.coverage?.problems).slice(0, 300)}`);
  return { command, axis, n, bytes, wallMs: r.wallMs, cpuMs: r.cpuMs, peakMb: r.maxRssKb / 1024 };
}

function measure(dir: string, command: 'patch', axis: string, n: number, name: string, content: string): Row {
  writeFileSync(path.join(dir, name), content);
  return measureArgs(dir, command, axis, n, [name], content.length);
}

export async function run(): Promise<{ title: string; columns: string[]; rows: (string | number)[][]; json: unknown }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'iommufd-scale-'));
  const rows: Row[] = [];
  try {
    for (const mb of [1, 5, 20]) rows.push(measure(dir, 'patch', 'MB of mbox', mb, 'series.mbox', mboxOfSize(mb * MB)));
    for (const mb of [1, 5, 20]) {
      rmSync(path.join(dir, 'c'), { recursive: true, force: true });
      mkdirSync(path.join(dir, 'c'));
      const tree = cTreeOfSize(dir, mb * MB);
      rows.push(measureArgs(dir, 'check', `MB of C (${tree.paths.length} files)`, mb, tree.paths, tree.bytes));
    }
    for (const n of [100, 400, 1600])
      rows.push(measure(dir, 'patch', 'patches (1 file, 1 hunk each)', n, 'series.mbox', seriesMbox(n, 1, 1)));
    for (const n of [100, 400, 1600])
      rows.push(
        measure(dir, 'patch', 'files in one patch (1 hunk each)', n, 'one.mbox', patchMail({ diff: gitDiff(n, 1) })),
      );
    for (const n of [1000, 4000, 16000])
      rows.push(measure(dir, 'patch', 'hunks in one file', n, 'one.mbox', patchMail({ diff: gitDiff(1, n) })));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const r1 = (x: number) => Math.round(x * 10) / 10;
  return {
    title:
      'Scaling: patch and check against input size and counts (CPU and wall ms, peak MB; per-unit CPU shows linear growth)',
    columns: ['command', 'axis', 'n', 'input MB', 'cpu ms', 'wall ms', 'cpu ms per n', 'peak MB'],
    rows: rows.map((r) => [
      r.command,
      r.axis,
      r.n,
      r1(r.bytes / MB),
      Math.round(r.cpuMs),
      Math.round(r.wallMs),
      r1(r.cpuMs / r.n),
      Math.round(r.peakMb),
    ]),
    json: rows,
  };
}
