/**
 * `check` end to end through the bundle, on the kernel-style examples under
 * examples/c (written for this project): exact findings, formats, exit codes,
 * configuration, both backends.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type * as Sarif from 'sarif';
import type { JsonReport } from '../../../src/report/json';
import { repoRoot, runCli } from './run-cli';
import { validateSarif } from './sarif-schema';

const EXAMPLES = 'examples/c';
let dir = '';

before(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'iommufd-review-check-'));
  cpSync(path.join(repoRoot, EXAMPLES), path.join(dir, 'c'), { recursive: true });
});
after(() => rmSync(dir, { recursive: true, force: true }));

function jsonOf(args: string[], cwd = repoRoot): { status: number | null; report: JsonReport } {
  const r = runCli(['check', '--format', 'json', ...args], { cwd });
  assert.equal(r.stderr, '');
  return { status: r.status, report: JSON.parse(r.stdout) as JsonReport };
}

const summary = (report: JsonReport) => report.findings.map((f) => `${path.basename(f.file)}:${f.line} ${f.ruleId}`);

test('examples: the v8-like helper, the ops callback under ioas_lock and the early-return leak; nothing in the merged-like helper', () => {
  const { status, report } = jsonOf([EXAMPLES]);
  assert.equal(status, 1);
  assert.deepEqual(summary(report), EXPECTED_EXAMPLE_FINDINGS);
  assert.ok(!report.findings.some((f) => f.file.endsWith('toy_replace_attach_first.c')));
  assert.equal(report.coverage.files, 3);
  assert.equal(report.coverage.functions.skipped, 0);
});

// Checked line by line against the examples: the early `return -EBUSY` with
// pin_lock held, `->unmap()` under ioas_lock, and `iopt_add_access()` after the detach.
const EXPECTED_EXAMPLE_FINDINGS: string[] = [
  'toy_mdev.c:43 lock-leak',
  'toy_mdev.c:63 callback-under-lock',
  'toy_replace_detach_first.c:34 unmap-before-rollback',
];

test('text format: compiler-style lines with witness notes, summary last', () => {
  const r = runCli(['check', EXAMPLES]);
  assert.equal(r.status, 1, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  const heads = lines.filter((l) => /^\S+:\d+:\d+: (error|warning|note): \[[a-z-]+\] /.test(l));
  assert.equal(heads.length, EXPECTED_EXAMPLE_FINDINGS.length);
  assert.ok(
    lines.some((l) => /^ {2}examples\/c\/\S+\.c:\d+: note: /.test(l)),
    'no witness lines',
  );
  assert.match(
    lines[lines.length - 1],
    new RegExp(
      `^${EXPECTED_EXAMPLE_FINDINGS.length} findings; coverage: 3 files, \\d+ functions: \\d+ parsed, 0 partial, 0 skipped$`,
    ),
  );
});

test('sarif format: schema-valid, same results as JSON, rules for all ids', () => {
  const r = runCli(['check', '--format', 'sarif', EXAMPLES]);
  assert.equal(r.status, 1, r.stderr);
  const log = JSON.parse(r.stdout) as Sarif.Log;
  const { valid, errors } = validateSarif(log);
  assert.ok(valid, errors);
  const { report } = jsonOf([EXAMPLES]);
  const results = log.runs[0].results ?? [];
  assert.deepEqual(
    results.map(
      (x) =>
        `${x.locations?.[0].physicalLocation?.artifactLocation?.uri}:${x.locations?.[0].physicalLocation?.region?.startLine} ${x.ruleId}`,
    ),
    report.findings.map((f) => `${f.file}:${f.line} ${f.ruleId}`),
  );
  assert.deepEqual(
    results.map((x) => x.partialFingerprints?.['iommufdReview/v1']),
    report.findings.map((f) => f.fingerprint),
  );
  assert.equal(log.runs[0].tool.driver.rules?.length, 10);
  assert.match(log.runs[0].tool.driver.rules?.[0].helpUri ?? '', /^file:\/\/.*\/docs\/engine\.md#lock-order$/);
});

test('--lock-graph shows the edges the examples create', () => {
  const r = runCli(['check', '--lock-graph', EXAMPLES]);
  assert.equal(r.status, 1, r.stderr);
  assert.match(
    r.stdout,
    /^lock-graph: toy_mdev\.pin_lock -> iommufd_access\.ioas_lock \(.*examples\/c\/toy_mdev\.c:26[,)]/m,
  );
});

test('a clean file exits 0', () => {
  const r = runCli(['check', `${EXAMPLES}/toy_replace_attach_first.c`]);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /^0 findings; coverage: 1 file, 2 functions: 2 parsed, 0 partial, 0 skipped\n$/);
});

test('--min-confidence high keeps only high-confidence findings', () => {
  const all = jsonOf(['--min-confidence', 'low', EXAMPLES]).report.findings;
  const high = jsonOf(['--min-confidence', 'high', EXAMPLES]).report.findings;
  assert.deepEqual(
    high,
    all.filter((f) => f.confidence === 'high'),
  );
});

test('.iommufd-review.json is found upward and applied; --config overrides it', () => {
  writeFileSync(path.join(dir, '.iommufd-review.json'), JSON.stringify({ disabledRules: ['lock-leak'] }));
  writeFileSync(path.join(dir, 'other.json'), JSON.stringify({ disabledRules: ['callback-under-lock'] }));
  const found = jsonOf(['c'], dir).report;
  assert.ok(found.findings.length > 0);
  assert.ok(!found.findings.some((f) => f.ruleId === 'lock-leak'), 'lock-leak should be disabled');
  assert.ok(found.findings.some((f) => f.ruleId === 'callback-under-lock'));
  const explicit = jsonOf(['--config', 'other.json', 'c'], dir).report;
  assert.ok(explicit.findings.some((f) => f.ruleId === 'lock-leak'));
  assert.ok(!explicit.findings.some((f) => f.ruleId === 'callback-under-lock'));
  rmSync(path.join(dir, '.iommufd-review.json'));
});

test('wasm and native backends agree on the examples', () => {
  const wasm = jsonOf(['--backend', 'wasm', EXAMPLES]);
  const native = jsonOf(['--backend', 'native', EXAMPLES]);
  assert.equal(native.status, wasm.status);
  assert.deepEqual(native.report, wasm.report);
});
