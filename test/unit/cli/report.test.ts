import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { RULE_IDS } from '../../../src/engine/types';
import { formatJson, toJsonReport } from '../../../src/report/json';
import { artifactUri, physicalLocation, sarifLog, toSarif } from '../../../src/report/sarif';
import { formatText } from '../../../src/report/text';
import { emptyResult, sampleResult } from './sample-result';
import { validateSarif } from './sarif-schema';

test('text: compiler-style finding lines, witness notes, problems and a coverage summary', () => {
  const lines = formatText(sampleResult()).trimEnd().split('\n');
  assert.equal(
    lines[0],
    "drivers/demo/demo access.c:34:8: warning: [unmap-before-rollback] `demo_detach()` unmaps the driver's pages (line 30) before `iopt_add_access()` can fail (line 34) (confidence: high; in demo_change_ioas())",
  );
  assert.equal(lines[1], '  drivers/demo/demo access.c:30: note: irreversible: the driver drops its pins');
  assert.equal(lines[2], '  drivers/demo/demo access.c:38: note: error path tries to re-attach');
  assert.match(lines[3], /^\/abs\/path\/lock\.c:5:2: error: \[lock-order\] /);
  assert.equal(lines[4], 'blob.c: note: skipped: binary file (contains NUL bytes)');
  assert.equal(lines[5], 'x.c:20: note: c() skipped: parse timed out');
  assert.equal(lines[6], '2 findings; coverage: 2 files, 5 functions: 3 parsed, 1 partial, 1 skipped; 1 file problem');
  assert.equal(lines.length, 7);
});

test('text: --verbose also lists partial functions', () => {
  const out = formatText(sampleResult(), { verbose: true });
  assert.ok(out.includes('x.c:10: note: b() partial: syntax error at line 12\n'));
});

test('text: --lock-graph prints each edge with up to three sites', () => {
  const r = sampleResult();
  r.lockGraph.edges.push({ from: 'a.x', to: 'b.y', sites: [1, 2, 3, 4, 5].map((line) => ({ file: 'm.c', line })) });
  const lines = formatText(r, { lockGraph: true }).trimEnd().split('\n');
  assert.deepEqual(lines.slice(-3, -1), [
    'lock-graph: iommufd_access.ioas_lock -> io_pagetable.iova_rwsem (drivers/demo/demo access.c:31, x.c:2)',
    'lock-graph: a.x -> b.y (m.c:1, m.c:2, m.c:3, 2 more)',
  ]);
  assert.ok(!formatText(r).includes('lock-graph:'));
});

test('text: a clean run is one summary line', () => {
  assert.equal(
    formatText(emptyResult()),
    '0 findings; coverage: 1 file, 2 functions: 2 parsed, 0 partial, 0 skipped\n',
  );
});

test('json: exactly the documented keys, in order, 1-based lines', () => {
  const report = JSON.parse(formatJson(sampleResult()));
  assert.deepEqual(Object.keys(report), ['findings', 'lockGraph', 'coverage']);
  assert.deepEqual(Object.keys(report.findings[0]), [
    'ruleId',
    'severity',
    'confidence',
    'message',
    'file',
    'line',
    'column',
    'function',
    'fingerprint',
    'related',
    'scenario',
  ]);
  assert.deepEqual(report.findings[0].related[0], {
    file: 'drivers/demo/demo access.c',
    line: 30,
    message: 'irreversible: the driver drops its pins',
  });
  assert.equal(report.findings[0].line, 34);
  assert.deepEqual(report.lockGraph, {
    edges: [
      {
        from: 'iommufd_access.ioas_lock',
        to: 'io_pagetable.iova_rwsem',
        sites: [
          { file: 'drivers/demo/demo access.c', line: 31 },
          { file: 'x.c', line: 2 },
        ],
      },
    ],
  });
  assert.deepEqual(Object.keys(report.coverage), ['files', 'functions', 'entries', 'problems']);
  assert.deepEqual(report.coverage.functions, { parsed: 3, partial: 1, skipped: 1 });
});

test('json: extra engine fields (endLine) do not leak into the documented shape', () => {
  const r = sampleResult();
  r.findings[0].endLine = 40;
  assert.equal('endLine' in toJsonReport(r).findings[0], false);
});

const sarifOptions = { toolVersion: '0.1.0', docsBaseUri: 'file:///opt/iommufd-review/docs/engine.md' };

test('sarif: valid against the official SARIF 2.1.0 schema', () => {
  for (const result of [sampleResult(), emptyResult()]) {
    const { valid, errors } = validateSarif(toSarif(result, sarifOptions));
    assert.ok(valid, errors);
  }
});

test('sarif: the schema check really rejects a broken log', () => {
  const log = toSarif(sampleResult(), sarifOptions) as unknown as { runs: { results: { level: string }[] }[] };
  log.runs[0].results[0].level = 'fatal';
  assert.equal(validateSarif(log).valid, false);
});

test('sarif: all 7 rules with help links, results with related locations and fingerprints', () => {
  const log = toSarif(sampleResult(), sarifOptions);
  const run = log.runs[0];
  const rules = run.tool.driver.rules ?? [];
  assert.deepEqual(
    rules.map((r) => r.id),
    [...RULE_IDS],
  );
  assert.equal(rules[0].helpUri, 'file:///opt/iommufd-review/docs/engine.md#lock-order');
  assert.equal(rules[2].helpUri, 'file:///opt/iommufd-review/docs/engine.md#unmap-before-rollback');
  const [first, second] = run.results ?? [];
  assert.equal(first.ruleId, 'unmap-before-rollback');
  assert.equal(first.ruleIndex, 2);
  assert.equal(first.level, 'warning');
  assert.deepEqual(first.locations?.[0].physicalLocation?.region, { startLine: 34, startColumn: 8 });
  assert.equal(first.locations?.[0].physicalLocation?.artifactLocation?.uri, 'drivers/demo/demo%20access.c');
  assert.deepEqual(
    first.relatedLocations?.map((l) => [l.id, l.physicalLocation?.region?.startLine, l.message?.text]),
    [
      [1, 30, 'irreversible: the driver drops its pins'],
      [2, 38, 'error path tries to re-attach'],
    ],
  );
  assert.deepEqual(first.partialFingerprints, {
    'iommufdReview/v1': 'unmap-before-rollback:demo_change_ioas:demo_detach>iopt_add_access',
  });
  assert.equal(second.level, 'error');
  assert.equal(second.locations?.[0].physicalLocation?.artifactLocation?.uri, 'file:///abs/path/lock.c');
  assert.deepEqual(
    run.invocations?.[0].toolExecutionNotifications?.[0].message.text,
    'skipped: binary file (contains NUL bytes)',
  );
  assert.deepEqual((run.properties as { coverage: unknown }).coverage, sampleResult().coverage);
});

test('every rule help link lands on a heading in docs/engine.md', () => {
  const docs = readFileSync(path.resolve(__dirname, '../../../../docs/engine.md'), 'utf8');
  const anchors = new Set(
    [...docs.matchAll(/^#+ +(.+)$/gm)].map((m) =>
      m[1]
        .trim()
        .toLowerCase()
        .replace(/[^a-z0-9 -]/g, '')
        .replace(/ /g, '-'),
    ),
  );
  const rules = toSarif(emptyResult(), sarifOptions).runs[0].tool.driver.rules ?? [];
  assert.deepEqual(
    rules.map((r) => r.helpUri?.split('#')[1]).filter((a) => !a || !anchors.has(a)),
    [],
  );
});

test('sarif building blocks compose a valid log for other reports', () => {
  assert.equal(artifactUri('a b/c#d.c'), 'a%20b/c%23d.c');
  const log = sarifLog([
    {
      tool: { driver: { name: 'iommufd-review-sim' } },
      results: [{ message: { text: 'x' }, locations: [{ physicalLocation: physicalLocation('f.c', 3, 1) }] }],
    },
  ]);
  assert.equal(log.version, '2.1.0');
  assert.ok(validateSarif(log).valid);
});
