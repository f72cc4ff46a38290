import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { applyFileDiff } from '../../../src/patch/apply';
import { parseMailDiff } from '../../../src/patch/diff';
import { plainDiffMail } from '../../../src/patch/mail';
import { parseSeries } from '../../../src/patch/series';
import { fixtures, fixture, fixtureText, lineOf } from './helpers';

const base = (p: string) => readFileSync(path.join(fixtures, 'tree', p), 'utf8');

test('hunk lines know their line in the patch file', async () => {
  const series = await parseSeries(fixture('v8.mbox'), 'v8.mbox');
  const diff = parseMailDiff(series.patches[1]);
  assert.deepEqual(diff.problems, []);
  assert.equal(diff.files.length, 1);
  const f = diff.files[0];
  assert.equal(f.oldPath, 'drivers/iommu/iommufd/device.c');
  assert.equal(f.newPath, 'drivers/iommu/iommufd/device.c');
  assert.equal(f.kind, 'modify');
  const mbox = fixtureText('v8.mbox');
  const start = lineOf(mbox, 'Subject: [PATCH v8 2/3] iommufd: Attach through');
  assert.equal(
    f.hunks[0].headerLine,
    lineOf(mbox, '@@ -18,49 +18,64 @@ struct iommufd_access *iommufd_access_create(struct iommufd_ctx *ictx,', start),
  );
  assert.equal(f.hunks[0].section, 'struct iommufd_access *iommufd_access_create(struct iommufd_ctx *ictx,');
  const added = f.hunks[0].lines.find((l) => l.op === '+' && l.text === '\t\t__iommufd_access_detach(access);');
  assert.equal(added?.patchLine, lineOf(mbox, '+\t\t__iommufd_access_detach(access);', start));
});

test("the v8 series applies to the fixture tree and gives git's result", async () => {
  const series = await parseSeries(fixture('v8.mbox'), 'v8.mbox');
  let device = base('drivers/iommu/iommufd/device.c');
  for (const mail of series.patches) {
    for (const f of parseMailDiff(mail).files) {
      if (f.newPath !== 'drivers/iommu/iommufd/device.c') continue;
      const r = applyFileDiff(device, f);
      assert.ok(r.placements.every((p) => p.applied && p.offset === 0 && !p.fuzzed));
      device = r.text!;
    }
  }
  assert.match(device, /int iommufd_access_replace\(struct iommufd_access \*access, u32 ioas_id\)/);
  assert.match(device, /static int iommufd_access_change_ioas_id/);
});

test('offset and fuzz: a hunk still applies where its context moved or changed a little', () => {
  const original = Array.from({ length: 30 }, (_, i) => `line ${i + 1}`).join('\n') + '\n';
  const diffText = [
    '--- a/f.c',
    '+++ b/f.c',
    '@@ -10,7 +10,8 @@',
    ' line 10',
    ' line 11',
    ' line 12',
    '+added',
    ' line 13',
    ' line 14',
    ' line 15',
    ' line 16',
    '',
  ].join('\n');
  const mail = plainDiffMail(diffText, 'x.diff');
  const file = parseMailDiff(mail).files[0];
  // Five lines inserted above: offset +5.
  const shifted = ['a', 'b', 'c', 'd', 'e', ...original.split('\n')].join('\n');
  const r1 = applyFileDiff(shifted, file);
  assert.deepEqual(
    r1.placements.map((p) => [p.applied, p.offset, p.fuzzed, p.postStart]),
    [[true, 5, false, 15]],
  );
  assert.match(r1.text!, /line 12\nadded\nline 13/);
  // A context line edited: applies with fuzz.
  const edited = original.replace('line 10\n', 'line ten\n');
  const r2 = applyFileDiff(edited, file);
  assert.deepEqual(
    r2.placements.map((p) => [p.applied, p.fuzzed]),
    [[true, true]],
  );
  assert.match(r2.text!, /line 12\nadded\nline 13/);
});

test("a hunk that does not apply is named, and the file's other hunks still apply", () => {
  const original = Array.from({ length: 60 }, (_, i) => `line ${i + 1}`).join('\n') + '\n';
  const diffText = [
    '--- a/f.c',
    '+++ b/f.c',
    '@@ -5,3 +5,3 @@ int f(void)',
    ' nothing',
    '-like',
    '+alike',
    ' this',
    '@@ -40,3 +40,4 @@ int g(void)',
    ' line 40',
    '+new',
    ' line 41',
    ' line 42',
    '',
  ].join('\n');
  const file = parseMailDiff(plainDiffMail(diffText, 'x.diff')).files[0];
  const r = applyFileDiff(original, file);
  assert.equal(r.placements[0].applied, false);
  assert.equal(
    r.placements[0].failure,
    'hunk #1 of f.c (@@ -5,3 +5,3 @@, patch line 3) does not apply: its 3 context and removed lines were not found, even ignoring 2 lines of context at each end',
  );
  assert.equal(r.placements[1].applied, true);
  assert.match(r.text!, /line 40\nnew\nline 41/);
});

test('git extended headers: binary, rename-only, mode-only, new and deleted files', () => {
  const diffText = [
    'diff --git a/img.bin b/img.bin',
    'index 1111111..2222222 100644',
    'Binary files a/img.bin and b/img.bin differ',
    'diff --git a/old.c b/new.c',
    'similarity index 100%',
    'rename from old.c',
    'rename to new.c',
    'diff --git a/run.sh b/run.sh',
    'old mode 100644',
    'new mode 100755',
    'diff --git a/added.c b/added.c',
    'new file mode 100644',
    'index 0000000..3333333',
    '--- /dev/null',
    '+++ b/added.c',
    '@@ -0,0 +1,2 @@',
    '+int x;',
    '+int y;',
    'diff --git a/gone.c b/gone.c',
    'deleted file mode 100644',
    'index 4444444..0000000',
    '--- a/gone.c',
    '+++ /dev/null',
    '@@ -1 +0,0 @@',
    '-int z;',
    '',
  ].join('\n');
  const d = parseMailDiff(plainDiffMail(diffText, 'git.diff'));
  assert.deepEqual(d.problems, []);
  assert.deepEqual(
    d.files.map((f) => [f.kind, f.oldPath, f.newPath, f.newMode, f.headerLine]),
    [
      ['binary', 'img.bin', 'img.bin', undefined, 1],
      ['rename', 'old.c', 'new.c', undefined, 4],
      ['mode', 'run.sh', 'run.sh', '100755', 8],
      ['create', undefined, 'added.c', '100644', 11],
      ['delete', 'gone.c', undefined, undefined, 19],
    ],
  );
  assert.equal(applyFileDiff(undefined, d.files[3]).text, 'int x;\nint y;\n');
  assert.equal(applyFileDiff('int z;\n', d.files[4]).text, undefined);
});

test('a truncated hunk is a problem with its line; the next file is still read', () => {
  const diffText = [
    'diff --git a/a.c b/a.c',
    '--- a/a.c',
    '+++ b/a.c',
    '@@ -1,4 +1,4 @@',
    ' a',
    '-b',
    'diff --git a/b.c b/b.c',
    '--- a/b.c',
    '+++ b/b.c',
    '@@ -1 +1 @@',
    '-x',
    '+y',
    '',
  ].join('\n');
  const d = parseMailDiff(plainDiffMail(diffText, 't.diff'));
  assert.deepEqual(
    d.files.map((f) => f.newPath),
    ['b.c'],
  );
  assert.deepEqual(d.problems, [
    {
      source: 't.diff',
      line: 4,
      message:
        'the diff of a.c is truncated: the hunk at patch line 4 announces 4 old and 4 new lines, but the input ends after 2 lines of it; this file is left out',
    },
  ]);
});

test('a CRLF diff applies to a CRLF file (line ends are not content)', () => {
  const base = 'int a;\r\nint b;\r\nint c;\r\n';
  const diffText = '--- a/w.c\r\n+++ b/w.c\r\n@@ -1,3 +1,3 @@\r\n int a;\r\n-int b;\r\n+int bb;\r\n int c;\r\n';
  const file = parseMailDiff(plainDiffMail(diffText, 'w.diff')).files[0];
  const r = applyFileDiff(base, file);
  assert.deepEqual(
    r.placements.map((p) => [p.applied, p.offset, p.fuzzed]),
    [[true, 0, false]],
  );
  assert.match(r.text!, /^int a;\r\nint bb;?\r?\nint c;\r\n$/);
});
