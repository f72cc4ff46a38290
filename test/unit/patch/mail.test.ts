import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseSeries, parseSeriesFiles } from '../../../src/patch/series';
import { parseSubject } from '../../../src/patch/subject';
import { splitMbox } from '../../../src/patch/mbox';
import { fixture, fixtureText, formatPatchFiles, lineOf } from './helpers';

test('subject tags: version, index, RFC, RESEND, extra words, replies', () => {
  assert.deepEqual(parseSubject('[PATCH v8 2/4] iommufd: Add iommufd_access_replace() API'), {
    tags: { patch: true, rfc: false, resend: false, version: 8, index: 2, total: 4, extra: [], reply: false },
    title: 'iommufd: Add iommufd_access_replace() API',
  });
  const rfc = parseSubject('Re: [RFC PATCH net-next RESEND v3 01/10] x: y');
  assert.equal(rfc.tags.reply, true);
  assert.equal(rfc.tags.rfc, true);
  assert.equal(rfc.tags.resend, true);
  assert.equal(rfc.tags.version, 3);
  assert.equal(rfc.tags.index, 1);
  assert.equal(rfc.tags.total, 10);
  assert.deepEqual(rfc.tags.extra, ['net-next']);
  assert.equal(rfc.title, 'x: y');
  assert.equal(parseSubject('[PATCHv2 0/3] z').tags.version, 2);
  assert.equal(parseSubject('plain words').tags.patch, false);
});

test('mbox split: From separators only before headers, >From unquoted', () => {
  const text =
    'From a@b Mon Jan  1 00:00:00 2001\nSubject: one\n\nFrom the start, a body line\n>From quoted\n\nFrom b@c Mon Jan  1 00:00:00 2001\nSubject: two\n\nbody\n';
  const msgs = splitMbox(text);
  assert.equal(msgs.length, 2);
  assert.equal(msgs[0].startLine, 1);
  assert.equal(msgs[1].startLine, 7);
  assert.match(msgs[0].text, /^Subject: one\n\nFrom the start, a body line\nFrom quoted\n/);
});

test('the v8 mbox: cover, three patches in series order, the reply set aside', async () => {
  const series = await parseSeries(fixture('v8.mbox'), 'v8.mbox');
  assert.equal(series.title, 'iommufd: Add iommufd_access_replace()');
  assert.equal(series.version, 8);
  assert.equal(series.total, 3);
  assert.equal(series.baseCommit, 'c1e9d6605c84a31bfcb89bdf5534b610c13d0359');
  assert.equal(series.cover?.tags.index, 0);
  assert.deepEqual(
    series.patches.map((p) => [p.tags.index, p.title]),
    [
      [1, 'iommufd: Factor out __iommufd_access_detach()'],
      [2, 'iommufd: Attach through iommufd_access_change_ioas_id()'],
      [3, 'iommufd: Add iommufd_access_replace()'],
    ],
  );
  assert.deepEqual(
    series.setAside.map((s) => [s.kind, s.subject, s.reason]),
    [['reply', 'Re: [PATCH v8 2/3] iommufd: Attach through iommufd_access_change_ioas_id()', 'a reply, not a patch']],
  );
  assert.deepEqual(series.problems, []);
  const p2 = series.patches[1];
  assert.equal(p2.kind, 'patch');
  assert.equal(p2.inReplyTo, series.cover?.messageId);
  assert.deepEqual(p2.trailers, [{ key: 'Signed-off-by', value: 'Alex Reviewer <alex@example.org>' }]);
  assert.match(p2.commitMessage, /^Move the lookup/);
  assert.doesNotMatch(p2.commitMessage, /Signed-off-by: .*\n---/);
  // Body lines map to the mbox's own lines.
  const mbox = fixtureText('v8.mbox');
  const body = p2.body.split('\n');
  const at = body.indexOf('+static int iommufd_access_change_ioas_id(struct iommufd_access *access, u32 id)');
  assert.equal(
    p2.bodyLines[at],
    lineOf(mbox, '+static int iommufd_access_change_ioas_id(struct iommufd_access *access, u32 id)'),
  );
  // The diff ends before the `-- ` signature.
  assert.equal(body[p2.diffEnd], '-- ');
});

test('format-patch files in any order give the same series', async () => {
  const a = await parseSeriesFiles(formatPatchFiles('v8'));
  const b = await parseSeriesFiles(formatPatchFiles('v8', [3, 1, 0, 2]));
  assert.deepEqual(
    a.patches.map((p) => p.title),
    b.patches.map((p) => p.title),
  );
  assert.deepEqual(
    b.patches.map((p) => p.source),
    [
      'v8/v8-0001-iommufd-Factor-out-__iommufd_access_detach.patch',
      'v8/v8-0002-iommufd-Attach-through-iommufd_access_change_ioas.patch',
      'v8/v8-0003-iommufd-Add-iommufd_access_replace.patch',
    ],
  );
  assert.equal(b.cover?.source, 'v8/v8-0000-cover-letter.patch');
  // In its own file, a patch's lines are that file's lines.
  const p2 = b.patches[1];
  const own = Buffer.from(formatPatchFiles('v8')[2].content as Uint8Array).toString('utf8');
  const body = p2.body.split('\n');
  const at = body.indexOf('+		__iommufd_access_detach(access);');
  assert.equal(p2.bodyLines[at], lineOf(own, '+		__iommufd_access_detach(access);'));
});

test('two revisions in one input: the newest is reviewed, the other set aside', async () => {
  const series = await parseSeriesFiles([...formatPatchFiles('v8'), ...formatPatchFiles('v9')]);
  assert.equal(series.version, 9);
  assert.equal(series.patches.length, 3);
  assert.ok(series.patches.every((p) => p.tags.version === 9));
  assert.equal(series.setAside.filter((s) => /revision v8; the series is reviewed at v9/.test(s.reason)).length, 4);
});

test('a RESEND of one patch replaces the earlier copy', async () => {
  const files = formatPatchFiles('v8');
  const again = Buffer.from(files[1].content as Uint8Array)
    .toString('utf8')
    .replace('[PATCH v8 1/3]', '[PATCH RESEND v8 1/3]');
  const series = await parseSeriesFiles([...files, { name: 'resend.patch', content: again }]);
  assert.equal(series.patches[0].source, 'resend.patch');
  assert.equal(series.patches[0].tags.resend, true);
  assert.deepEqual(
    series.setAside.map((s) => s.reason),
    ['patch 1 appears again later in the input; the later copy is used'],
  );
});

test('a plain `git diff` file is one patch named after the file', async () => {
  const diff =
    'diff --git a/d/a.c b/d/a.c\nindex 1..2 100644\n--- a/d/a.c\n+++ b/d/a.c\n@@ -1,2 +1,2 @@\n int x;\n-int y;\n+int z;\n';
  const series = await parseSeries(diff, 'work/changes.diff');
  assert.deepEqual(series.problems, []);
  assert.equal(series.patches.length, 1);
  assert.equal(series.patches[0].title, 'changes.diff');
  assert.equal(series.patches[0].diffStart, 0);
  assert.deepEqual(series.patches[0].bodyLines.slice(0, 3), [1, 2, 3]);
});

test('lore-style separators (From mboxrd@z ...) and mboxrd quoting', async () => {
  const one = fixtureText('v8/v8-0001-iommufd-Factor-out-__iommufd_access_detach.patch').replace(
    /^From \S+ Mon Sep 17 00:00:00 2001/,
    'From mboxrd@z Thu Jan  1 00:00:00 1970',
  );
  const two = fixtureText('v8/v8-0003-iommufd-Add-iommufd_access_replace.patch')
    .replace(/^From \S+ Mon Sep 17 00:00:00 2001/, 'From mboxrd@z Thu Jan  1 00:00:00 1970')
    .replace('Emulated devices need', '>>From here on, emulated devices need');
  const series = await parseSeries(one + '\n' + two, 'lore.mbox');
  assert.deepEqual(
    series.patches.map((p) => p.tags.index),
    [1, 3],
  );
  assert.match(series.patches[1].commitMessage, /^>From here on, emulated devices need/);
  assert.deepEqual(
    series.problems.map((p) => p.message),
    ['patch 2/3 is missing from the input'],
  );
});
