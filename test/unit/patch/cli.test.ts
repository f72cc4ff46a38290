import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { validateSarif } from '../cli/sarif-schema';
import { HELP, exitCodeFor, formatPatchRun, parsePatchArgs, runPatch } from '../../../src/cli/patch';
import { UsageError } from '../../../src/cli/usage-error';
import { fixtures, fixtureText, lineOf, root } from './helpers';

const patchModule = path.join(root, 'out/src/cli/patch.js');

/** Runs the `patch` command's module as a separate process (for standard input). */
function patchCliProcess(
  args: string[],
  input?: Buffer | string,
): { status: number | null; stdout: string; stderr: string } {
  const script = `require(${JSON.stringify(patchModule)}).run(process.argv.slice(1)).then((c) => { process.exitCode = c; }, (e) => { process.stderr.write(e.message + '\\n'); process.exitCode = e.name === 'UsageError' ? 2 : 3; });`;
  const r = spawnSync(process.execPath, ['-e', script, '--', ...args], {
    cwd: root,
    input,
    encoding: 'utf8',
    timeout: 120_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The command in this process, as run() does it, without printing (the test runner owns stdout). */
async function patchCli(args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  const cwd = process.cwd();
  process.chdir(root);
  try {
    const options = parsePatchArgs(args);
    if (!options) return { status: 0, stdout: HELP, stderr: '' };
    const result = await runPatch(options);
    return { status: exitCodeFor(result, options.format), stdout: formatPatchRun(result, options.format), stderr: '' };
  } catch (e) {
    if (e instanceof UsageError) return { status: 2, stdout: '', stderr: e.message };
    throw e;
  } finally {
    process.chdir(cwd);
  }
}

const V8 = 'examples/series/v8.mbox';
const V9 = 'examples/series/v9.mbox';
const TREE = 'examples/series/tree';

test("text: findings on the patch file's lines, exit 1 when a patch introduces one", async () => {
  const r = await patchCli(['--base', TREE, V8]);
  assert.equal(r.stderr, '');
  assert.equal(r.status, 1);
  const mbox = fixtureText('v8.mbox');
  const from = lineOf(mbox, 'Subject: [PATCH v8 2/3] iommufd: Attach through');
  const fallible = lineOf(mbox, ' \trc = iopt_add_access(&new_ioas->iopt, access);', from);
  const irreversible = lineOf(mbox, '+\t\t__iommufd_access_detach(access);', from);
  assert.match(
    r.stdout,
    /^series: iommufd: Add iommufd_access_replace\(\) \(v8, 3 of 3 patches, base c1e9d6605c84\)\n/,
  );
  assert.match(
    r.stdout,
    new RegExp(
      `\\n${V8.replace(/[./]/g, '\\$&')}:(${fallible}|${irreversible}): \\w+: introduced: \\[unmap-before-rollback\\] `,
    ),
  );
  assert.match(r.stdout, /\n1 introduced finding in 3 patches\n$/);
});

test('the v9-like revision exits 0; with --previous it says what it fixed', async () => {
  const clean = await patchCli(['--base', TREE, V9]);
  assert.equal(clean.stderr, '');
  assert.equal(clean.status, 0);
  const r = await patchCli(['--base', TREE, '--previous', V8, V9]);
  assert.equal(r.status, 0);
  assert.match(
    r.stdout,
    /\nsince v8:\n {2}fixed in \[2\] iommufd: Attach through iommufd_access_change_ioas_id\(\): \[unmap-before-rollback\] iommufd_access_change_ioas_id\(\) \(unmap-before-rollback:iommufd_access_change_ioas_id:__iommufd_access_detach,iopt_add_access\)\n/,
  );
});

test('json: the documented shape, statuses and patch lines', async () => {
  const r = await patchCli(['--format', 'json', '--base', TREE, V8]);
  assert.equal(r.status, 1);
  const json = JSON.parse(r.stdout);
  assert.deepEqual(Object.keys(json), ['series', 'patches']);
  assert.equal(json.series.title, 'iommufd: Add iommufd_access_replace()');
  assert.deepEqual(
    json.patches.map((p: { index: number; subject: string }) => [p.index, p.subject]),
    [
      [1, '[PATCH v8 1/3] iommufd: Factor out __iommufd_access_detach()'],
      [2, '[PATCH v8 2/3] iommufd: Attach through iommufd_access_change_ioas_id()'],
      [3, '[PATCH v8 3/3] iommufd: Add iommufd_access_replace()'],
    ],
  );
  const f = json.patches[1].findings.find((x: { ruleId: string }) => x.ruleId === 'unmap-before-rollback');
  assert.equal(f.status, 'introduced');
  assert.equal(typeof f.patchLine, 'number');
  assert.equal(
    f.fingerprint,
    'unmap-before-rollback:iommufd_access_change_ioas_id:__iommufd_access_detach,iopt_add_access',
  );
  for (const key of [
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
    'status',
    'patchLine',
  ])
    assert.ok(key in f, key);
});

test('sarif: valid 2.1.0, baselineState new for the introduced finding, the patch line as a related location', async () => {
  const r = await patchCli(['--format', 'sarif', '--base', TREE, V8]);
  assert.equal(r.status, 1);
  const log = JSON.parse(r.stdout);
  const v = validateSarif(log);
  assert.equal(v.valid, true, v.errors);
  const results = log.runs[0].results.filter((x: { ruleId: string }) => x.ruleId === 'unmap-before-rollback');
  assert.equal(results.length, 1);
  assert.equal(results[0].baselineState, 'new');
  assert.equal(results[0].properties.patchIndex, 2);
  assert.ok(
    results[0].relatedLocations.some(
      (l: { physicalLocation: { artifactLocation: { uri: string }; region: { startLine: number } } }) =>
        l.physicalLocation.artifactLocation.uri === 'examples/series/v8.mbox' &&
        l.physicalLocation.region.startLine === results[0].properties.patchLine,
    ),
  );
});

test("b4: one patch mail on stdin gives b4's check JSON array", () => {
  const mail = readFileSync(path.join(fixtures, 'v8/v8-0002-iommufd-Attach-through-iommufd_access_change_ioas.patch'));
  const r = patchCliProcess(['--format', 'b4'], mail);
  assert.equal(r.status, 0);
  const out = JSON.parse(r.stdout);
  assert.equal(out.length, 1);
  assert.deepEqual(Object.keys(out[0]).sort(), ['details', 'status', 'summary', 'tool', 'url']);
  assert.equal(out[0].tool, 'iommufd-review');
  assert.ok(out[0].status === 'warn' || out[0].status === 'fail');
  assert.match(out[0].summary, /^introduces 1 finding \(unmap-before-rollback\); 1 problem$/);
  // Which pre-image the verdict rests on comes first (no repository holds this patch's blobs: its hunks).
  assert.match(
    out[0].details,
    /^pre-image: hunks\nintroduced: drivers\/iommu\/iommufd\/device\.c:\d+: \w+: \[unmap-before-rollback\] /,
  );
  assert.match(
    out[0].details,
    /note: no base tree: analysed from what the hunks show \(partial context\); confidence capped at medium$/,
  );
  // A cover letter alone: nothing to report.
  const cover = patchCliProcess(['--format', 'b4'], readFileSync(path.join(fixtures, 'v8/v8-0000-cover-letter.patch')));
  assert.equal(cover.status, 0);
  assert.deepEqual(JSON.parse(cover.stdout), []);
});

test('usage errors exit 2 with a message', async () => {
  const none = await patchCli([]);
  assert.equal(none.status, 2);
  assert.match(none.stderr, /no FILE given/);
  const base = await patchCli(['--base', 'no/such/dir', V8]);
  assert.equal(base.status, 2);
  assert.match(base.stderr, /--base no\/such\/dir: not a directory/);
  const missing = await patchCli(['missing.mbox']);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /no such file: missing\.mbox/);
  const notDir = await patchCli(['--git', 'no/such/repo', V8]);
  assert.equal(notDir.status, 2);
  assert.match(notDir.stderr, /--git no\/such\/repo: not a directory/);
  const notRepo = await patchCli(['--git', os.tmpdir(), V8]);
  assert.equal(notRepo.status, 2);
  assert.match(notRepo.stderr, /--git \S+: fatal: not a git repository/);
  const both = await patchCli(['--git', '.', '--no-git', V8]);
  assert.equal(both.status, 2);
  assert.match(both.stderr, /--git and --no-git contradict each other/);
  const format = await patchCli(['--format', 'xml', V8]);
  assert.equal(format.status, 2);
  assert.match(format.stderr, /invalid --format 'xml': expected one of text, json, sarif, b4/);
});
