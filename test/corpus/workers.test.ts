/**
 * Worker threads and the index on real code: `check` of Linux 6.12's iommufd,
 * vfio and the emulated-device (mdev) drivers gives byte-identical JSON with
 * 1 and 2 workers, and again from a warm index built by the 2-worker run;
 * `patch --base` over the iommufd directory the same with 1 and 2 workers.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import type { JsonReport } from '../../src/report/json';
import { runCli } from '../unit/cli/run-cli';
import { generateSeries } from '../bench/patch.bench';
import { checkPaths, kernelDir } from './kernel-corpus';

const index = mkdtempSync(path.join(tmpdir(), 'iommufd-review-workers-'));
after(() => rmSync(index, { recursive: true, force: true }));

test('iommufd + vfio + mdev drivers: 1 and 2 workers, and a warm index, give identical JSON', () => {
  const kernel = kernelDir();
  const args = checkPaths(kernel).map((p) => path.relative(kernel, p));
  const run = (extra: string[]) => {
    const r = runCli(['check', '--format', 'json', '-c', 'low', ...extra, ...args], {
      cwd: kernel,
      timeoutMs: 300_000,
    });
    assert.ok(r.status === 0 || r.status === 1, `exit ${r.status}: ${r.stderr.slice(0, 2000)}`);
    assert.equal(r.stderr, '');
    return r.stdout;
  };
  const one = run(['--no-index', '--jobs', '1']);
  const two = run(['--index', index, '--jobs', '2']);
  assert.equal(two, one);
  const warm = run(['--index', index, '--jobs', '2']);
  assert.equal(warm, one);
  const report = JSON.parse(one) as JsonReport;
  // Not a vacuous comparison: the subset is large, and has findings of several rules and confidences.
  assert.ok(report.coverage.files > 100, `only ${report.coverage.files} files`);
  assert.ok(report.coverage.functions.parsed > 2000, `only ${report.coverage.functions.parsed} functions`);
  for (const c of ['low', 'medium'])
    assert.ok(
      report.findings.some((f) => f.confidence === c),
      `no ${c} finding`,
    );
  assert.ok(new Set(report.findings.map((f) => f.ruleId)).size >= 3);
});

test('patch --base on the iommufd tree: the context parsed on 1 or 2 workers gives identical JSON', () => {
  const kernel = kernelDir();
  const { mbox } = generateSeries(kernel);
  const file = path.join(index, 'series.mbox');
  writeFileSync(file, mbox);
  const run = (jobs: string) => {
    const r = runCli(['patch', '--format', 'json', '--no-git', '--base', kernel, '--no-index', '--jobs', jobs, file], {
      cwd: kernel,
      timeoutMs: 300_000,
    });
    assert.ok(r.status === 0 || r.status === 1, `exit ${r.status}: ${r.stderr.slice(0, 2000)}`);
    assert.equal(r.stderr, '');
    return r.stdout;
  };
  const one = run('1');
  assert.equal(run('2'), one);
  const report = JSON.parse(one) as { patches: { findings: unknown[] }[] };
  assert.equal(report.patches.length, 4);
});
