import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { createTwoFilesPatch } from 'diff';
import { analyzeSources } from '../../../src/engine/index';
import { applyFileDiff } from '../../../src/patch/apply';
import { parseMailDiff } from '../../../src/patch/diff';
import {
  compareRevisions,
  inputProblems,
  parseSeries,
  parseSeriesFiles,
  reviewSeries,
  type PatchFinding,
  type SeriesReview,
} from '../../../src/patch/index';
import { fsTree } from '../../../src/patch/node/fs-tree';
import { toPatchSarif } from '../../../src/report/patch-sarif';
import { validateSarif } from '../cli/sarif-schema';
import { cFilesOf, gitAppliedTree, wasmParser } from './engine-helpers';
import { fixture, fixtures, fixtureText, formatPatchFiles, lineOf } from './helpers';

const tree = () => fsTree(path.join(fixtures, 'tree'));
const DEVICE = 'drivers/iommu/iommufd/device.c';
const IRREVERSIBLE = '+\t\t__iommufd_access_detach(access);';
const FALLIBLE = ' \trc = iopt_add_access(&new_ioas->iopt, access);';

const rollbacks = (r: SeriesReview, index: number) =>
  r.patches[index - 1].findings.filter((f) => f.ruleId === 'unmap-before-rollback');

/** The must-show shape: on the fallible or the irreversible call's patch line, the other one related. */
function assertOnCallLines(f: PatchFinding, patchText: string, from: number): void {
  const irreversible = lineOf(patchText, IRREVERSIBLE, from);
  const fallible = lineOf(patchText, FALLIBLE, from);
  assert.ok(
    [irreversible, fallible].includes(f.patchLine!),
    `patchLine ${f.patchLine} is neither ${irreversible} nor ${fallible}`,
  );
  const other = f.patchLine === fallible ? irreversible : fallible;
  assert.ok(
    f.related.some((r) => r.patchLine === other),
    `no related location on patch line ${other}`,
  );
  assert.match(f.message, /`__iommufd_access_detach\(\)`.*before `iopt_add_access\(\)` can fail/);
}

test('v8 mbox with --base: patch 2 introduces unmap-before-rollback on its call lines', async () => {
  const parser = await wasmParser();
  const review = await reviewSeries(await parseSeries(fixture('v8.mbox'), 'v8.mbox'), { parser, base: tree() });
  assert.deepEqual(
    review.patches.map((p) => [p.index, p.mode, p.problems]),
    [
      [1, 'base', []],
      [2, 'base', []],
      [3, 'base', []],
    ],
  );
  assert.deepEqual(rollbacks(review, 1), []);
  const [f] = rollbacks(review, 2);
  assert.equal(rollbacks(review, 2).length, 1);
  assert.equal(f.status, 'introduced');
  assert.equal(f.context, 'full');
  assert.equal(f.confidence, 'high');
  assert.equal(f.function, 'iommufd_access_change_ioas_id');
  assert.equal(
    f.fingerprint,
    'unmap-before-rollback:iommufd_access_change_ioas_id:__iommufd_access_detach,iopt_add_access',
  );
  const mbox = fixtureText('v8.mbox');
  assertOnCallLines(f, mbox, lineOf(mbox, 'Subject: [PATCH v8 2/3] iommufd: Attach through'));
  // The post-image line is the applied file's line of the same call.
  const patched = gitAppliedTree([
    'v8/v8-0001-iommufd-Factor-out-__iommufd_access_detach.patch',
    'v8/v8-0002-iommufd-Attach-through-iommufd_access_change_ioas.patch',
  ]);
  const device = cFilesOf(patched, ['drivers/iommu/iommufd']).find((s) => s.path === DEVICE)!.text;
  assert.equal(f.imageFile, DEVICE);
  assert.ok(
    [
      lineOf(device, '\trc = iopt_add_access(&new_ioas->iopt, access);'),
      lineOf(device, '\t\t__iommufd_access_detach(access);'),
    ].includes(f.imageLine),
  );
  // Patch 3 does not touch that function: the finding is not repeated there.
  assert.deepEqual(rollbacks(review, 3), []);
});

test('the format-patch files give the same finding, on the lines of their own file', async () => {
  const parser = await wasmParser();
  const review = await reviewSeries(await parseSeriesFiles(formatPatchFiles('v8', [2, 0, 3, 1])), {
    parser,
    base: tree(),
  });
  const [f] = rollbacks(review, 2);
  assert.equal(f.status, 'introduced');
  assert.equal(review.patches[1].source, 'v8/v8-0002-iommufd-Attach-through-iommufd_access_change_ioas.patch');
  assertOnCallLines(f, fixtureText(review.patches[1].source), 1);
});

test('without --base: the same finding from the hunks alone, partial context, confidence capped', async () => {
  const parser = await wasmParser();
  const review = await reviewSeries(await parseSeries(fixture('v8.mbox'), 'v8.mbox'), { parser });
  const [f] = rollbacks(review, 2);
  assert.equal(f.status, 'introduced');
  assert.equal(f.context, 'partial');
  assert.equal(f.confidence, 'medium');
  assert.equal(f.originalConfidence, 'high');
  assert.equal(
    f.fingerprint,
    'unmap-before-rollback:iommufd_access_change_ioas_id:__iommufd_access_detach,iopt_add_access',
  );
  const mbox = fixtureText('v8.mbox');
  assertOnCallLines(f, mbox, lineOf(mbox, 'Subject: [PATCH v8 2/3] iommufd: Attach through'));
  assert.ok(
    review.patches[1].problems.some(
      (p) =>
        p.message === 'no base tree: analysed from what the hunks show (partial context); confidence capped at medium',
    ),
  );
  // A fact about the mode, not a problem of the input: the notification and the language server leave it out.
  assert.ok(review.patches[1].problems.some((p) => p.kind === 'context' && p.message.startsWith('no base tree: ')));
  assert.deepEqual(
    inputProblems(review).filter((p) => p.message.startsWith('no base tree: ')),
    [],
  );
  // Patch 1 moves a body between two hunks of one function: what the gap hides
  // (the re-lock after the unmap) must not turn into a finding.
  assert.deepEqual(review.patches[0].findings, []);
  assert.deepEqual(review.patches[2].findings, []);
});

test("the v9-like revision: no unmap-before-rollback, and the comparison reports v8's fixed with the same fingerprint", async () => {
  const parser = await wasmParser();
  const v8 = await reviewSeries(await parseSeries(fixture('v8.mbox'), 'v8.mbox'), { parser, base: tree() });
  const v9 = await reviewSeries(await parseSeries(fixture('v9.mbox'), 'v9.mbox'), { parser, base: tree() });
  assert.equal(v9.series.version, 9);
  for (const i of [1, 2, 3]) assert.deepEqual(rollbacks(v9, i), []);
  const cmp = compareRevisions(v8, v9);
  assert.equal(cmp.previousVersion, 8);
  assert.equal(cmp.version, 9);
  const p2 = cmp.patches.find((p) => p.index === 2)!;
  assert.equal(p2.previousIndex, 2);
  const fixed = p2.fixed.filter((f) => f.ruleId === 'unmap-before-rollback');
  assert.deepEqual(
    fixed.map((f) => [f.status, f.fingerprint]),
    [['fixed', rollbacks(v8, 2)[0].fingerprint]],
  );
  assert.deepEqual(
    p2.introduced.filter((f) => f.ruleId === 'unmap-before-rollback'),
    [],
  );
});

test('a follow-up patch turning v8 into v9 reports the finding fixed, same fingerprint, on its removed line', async () => {
  const parser = await wasmParser();
  const v8 = await parseSeries(fixture('v8.mbox'), 'v8.mbox');
  const v9 = await parseSeries(fixture('v9.mbox'), 'v9.mbox');
  const postOf = (s: typeof v8) => {
    let text = fixtureText(`tree/${DEVICE}`);
    for (const m of s.patches)
      for (const f of parseMailDiff(m).files) if (f.newPath === DEVICE) text = applyFileDiff(text, f).text!;
    return text;
  };
  const diff = createTwoFilesPatch(`a/${DEVICE}`, `b/${DEVICE}`, postOf(v8), postOf(v9));
  const mail = [
    'From: Alex Reviewer <alex@example.org>',
    'Subject: [PATCH v8 4/4] iommufd: Add the new IOAS before leaving the old one',
    '',
    'Reorder so that nothing can fail after the driver unmapped.',
    '',
    '---',
    `diff --git a/${DEVICE} b/${DEVICE}`,
    // createTwoFilesPatch starts with a '====' line; git's header replaces it.
    ...diff.split('\n').slice(1),
  ].join('\n');
  const series = await parseSeriesFiles([
    { name: 'v8.mbox', content: fixture('v8.mbox') },
    { name: 'fixup.patch', content: mail },
  ]);
  assert.deepEqual(
    series.patches.map((p) => p.tags.index),
    [1, 2, 3, 4],
  );
  const review = await reviewSeries(series, { parser, base: tree() });
  const introduced = rollbacks(review, 2)[0];
  const [fixed] = rollbacks(review, 4);
  assert.equal(fixed.status, 'fixed');
  assert.equal(fixed.fingerprint, introduced.fingerprint);
  assert.notEqual(fixed.patchLine, undefined);
  const shown = mail.split('\n')[fixed.patchLine! - 1];
  assert.ok(
    shown === IRREVERSIBLE.replace('+', '-') || shown === FALLIBLE || shown === FALLIBLE.replace(' ', '-'),
    `patch line shows ${JSON.stringify(shown)}`,
  );
  // In SARIF: new for patch 2's, absent for patch 4's; a valid log.
  const log = toPatchSarif(review, { toolVersion: '0.0.0', docsBaseUri: 'file:///docs/engine.md' });
  assert.equal(validateSarif(log).valid, true, validateSarif(log).errors);
  const states = (log.runs[0].results ?? [])
    .filter((r) => r.ruleId === 'unmap-before-rollback')
    .map((r) => [r.properties?.patchIndex, r.baselineState]);
  assert.deepEqual(states, [
    [2, 'new'],
    [4, 'absent'],
  ]);
});

test('with --base, the series review agrees with the engine run on the tree git patched', async () => {
  const parser = await wasmParser();
  const names = formatPatchFiles('v8')
    .map((f) => f.name)
    .filter((n) => !n.includes('cover'));
  const review = await reviewSeries(await parseSeriesFiles(formatPatchFiles('v8')), { parser, base: tree() });
  const dirs = ['drivers/iommu/iommufd', 'include/linux'];
  const before = analyzeSources(parser, cFilesOf(path.join(fixtures, 'tree'), dirs)).findings;
  const after = analyzeSources(parser, cFilesOf(gitAppliedTree(names), dirs)).findings;
  // Base findings, plus what each patch introduced, minus what it fixed, is what the patched tree has.
  const key = (f: { file: string; fingerprint: string }) => `${f.file} ${f.fingerprint}`;
  const state = before.map(key);
  for (const p of review.patches) {
    for (const f of p.findings) {
      if (f.status === 'introduced') state.push(key(f));
      if (f.status === 'fixed') state.splice(state.indexOf(key(f)), 1);
    }
  }
  assert.deepEqual(state.sort(), after.map(key).sort());
  // And the last patch's findings sit on the same lines as the engine's.
  for (const f of review.patches[2].findings.filter((x) => x.status !== 'fixed')) {
    const same = after.find((a) => key(a) === key(f));
    assert.equal(f.line, same?.line, key(f));
    assert.equal(f.imageLine, same?.line);
  }
  assert.ok(after.some((f) => f.ruleId === 'unmap-before-rollback'));
});

test("a caller's warm engine gives the same review and gets its base tree back", async () => {
  const parser = await wasmParser();
  const { Engine } = await import('../../../src/engine/index');
  const engine = new Engine({ parser });
  const dirs = ['drivers/iommu/iommufd', 'include/linux'];
  for (const f of cFilesOf(path.join(fixtures, 'tree'), dirs)) engine.setFile(f.path, f.text);
  const before = engine.analyze().findings;
  const series = await parseSeries(fixture('v8.mbox'), 'v8.mbox');
  const fresh = await reviewSeries(series, { parser, base: tree() });
  const warm1 = await reviewSeries(series, { parser, base: tree(), engine });
  const warm2 = await reviewSeries(series, { parser, base: tree(), engine });
  assert.deepEqual(warm1, fresh);
  assert.deepEqual(warm2, fresh);
  for (let i = 0; i < 2; i++)
    assert.deepEqual(await reviewSeries(series, { parser, base: tree(), engine, rememberBase: true }), fresh);
  assert.deepEqual(engine.analyze().findings, before);
  engine.dispose();
});
