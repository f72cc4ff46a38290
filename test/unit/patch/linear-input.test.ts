/**
 * Reading a patch must be linear in its size: a mail is untrusted input.
 * Each case is an input on which the code before the fix took far over 10 s
 * (quadratic trailing-blank regexes on mail lines and on applied lines;
 * images rebuilt by rescanning the whole file for every hunk), checked by its
 * result and by a wall limit many times under the old time.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { performance } from 'node:perf_hooks';
import { applyFileDiff } from '../../../src/patch/apply';
import { parseMailDiff } from '../../../src/patch/diff';
import { imagesFromHunks } from '../../../src/patch/images';
import { parseSeries } from '../../../src/patch/index';
import { gitDiff, mailWithBlankRuns } from '../../fuzz/big-inputs';

async function timed<T>(f: () => Promise<T> | T): Promise<{ value: T; ms: number }> {
  const t0 = performance.now();
  const value = await f();
  return { value, ms: performance.now() - t0 };
}

for (const [blank, name] of [
  [' ', 'spaces'],
  ['\t', 'tabs'],
] as const) {
  test(`a mail with runs of 400,000 ${name} in its message and trailers is read in linear time`, async () => {
    // Before: 20 s for one 160,000-space line; these are four lines of 400,000.
    const { value: series, ms } = await timed(() => parseSeries(mailWithBlankRuns(400_000, blank), 'blank.mbox'));
    assert.equal(series.patches.length, 1);
    const mail = series.patches[0];
    assert.deepEqual(mail.trailers, [
      { key: 'Signed-off-by', value: 'A Developer <dev@example.org>' },
      { key: 'Reviewed-by', value: 'Some One <one@example.org>' },
    ]);
    const message = mail.commitMessage.split('\n');
    assert.equal(message[1], blank.repeat(400_000) + 'x');
    assert.equal(message[message.length - 1], 'Reviewed-by: Some One <one@example.org>', 'trailing blanks trimmed');
    assert.ok(ms < 5000, `read in ${ms.toFixed(0)} ms`);
  });
}

test('applying a hunk next to a 300,000-blank line compares lines in linear time', () => {
  // sameLine() trimmed both sides with /\s+$/ for every candidate place: quadratic on the blank run.
  const blanks = ' '.repeat(300_000) + 'x';
  const base = ['int a;', blanks, 'int b;', 'int c;', ''].join('\n');
  // Declared two lines early: the offset search compares the blank line with the hunk's first line.
  const hunk = {
    oldStart: 1,
    oldLines: 2,
    newStart: 1,
    newLines: 2,
    section: '',
    headerLine: 1,
    lines: [
      { op: ' ' as const, text: 'int b;', patchLine: 2 },
      { op: '-' as const, text: 'int c;', patchLine: 3 },
      { op: '+' as const, text: 'int d;', patchLine: 4 },
    ],
  };
  const t0 = performance.now();
  const r = applyFileDiff(base, { oldPath: 'x.c', newPath: 'x.c', kind: 'modify', hunks: [hunk], headerLine: 1 });
  const ms = performance.now() - t0;
  assert.equal(r.text, ['int a;', blanks, 'int b;', 'int d;', ''].join('\n'));
  assert.deepEqual(
    r.placements.map((p) => [p.applied, p.preStart, p.offset]),
    [[true, 3, 2]],
  );
  assert.ok(ms < 2000, `applied in ${ms.toFixed(0)} ms`);
});

test('20,000 hunks of one file are imaged in one pass, each hunk on its own lines', async () => {
  // Before: every hunk rescanned every image line: 86 s at 20,000 hunks.
  const series = await parseSeries(gitDiff(1, 20_000), 'hunks.diff');
  const diff = parseMailDiff(series.patches[0]);
  const hunks = diff.files[0].hunks;
  assert.equal(hunks.length, 20_000);
  const { value: images, ms } = await timed(() => imagesFromHunks(diff, 'hunks.diff'));
  const file = images.touched[0];
  assert.equal(file.spans.length, 20_000);
  let prev = 0;
  file.spans.forEach((s, k) => {
    // Each hunk shows 5 lines per side (3 context above, the changed line, 1 context below).
    assert.equal(s.preTo - s.preFrom, 4, `hunk ${k} pre`);
    assert.equal(s.postTo - s.postFrom, 4, `hunk ${k} post`);
    assert.ok(s.postFrom > prev, `hunk ${k} after hunk ${k - 1}`);
    prev = s.postTo;
    assert.equal(file.postOrigin.get(s.postFrom), hunks[k].lines[0].patchLine);
    assert.equal(file.preOrigin.get(s.preTo), hunks[k].lines[hunks[k].lines.length - 1].patchLine);
    assert.equal(s.firstPatchLine, hunks[k].headerLine);
  });
  const post = file.postText!.split('\n');
  assert.equal(post[file.spans[19_999].postFrom + 2], '\tobj->state = val + 19999 + 1;');
  assert.ok(ms < 8000, `imaged in ${ms.toFixed(0)} ms`);
});
