import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { parseSeries, parseSeriesFiles, reviewSeries } from '../../../src/patch/index';
import { parseMailDiff } from '../../../src/patch/diff';
import { fsTree } from '../../../src/patch/node/fs-tree';
import { wasmParser } from './engine-helpers';
import { fixtures, fixtureText, formatPatchFiles, lineOf, malformed, malformedText } from './helpers';

const tree = () => fsTree(path.join(fixtures, 'tree'));
const m = (name: string) => ({ name: `malformed/${name}`, content: malformed(`${name}`) });

test('a truncated mbox: the cut patch is reported with its line, the others are still analysed', async () => {
  const parser = await wasmParser();
  const series = await parseSeries(malformed('truncated.mbox'), 'truncated.mbox');
  assert.deepEqual(
    series.patches.map((p) => p.tags.index),
    [1, 2, 3],
  );
  const review = await reviewSeries(series, { parser, base: tree() });
  const text = malformedText('truncated.mbox');
  const hunk = lineOf(
    text,
    '@@ -18,49 +18,64 @@ struct iommufd_access *iommufd_access_create(struct iommufd_ctx *ictx,',
  );
  assert.deepEqual(review.patches[1].problems, [
    {
      source: 'truncated.mbox',
      line: hunk,
      message: `the diff of drivers/iommu/iommufd/device.c is truncated: the hunk at patch line ${hunk} announces 49 old and 64 new lines, but the input ends after 19 lines of it; this file is left out`,
    },
  ]);
  assert.deepEqual(review.patches[1].findings, []);
  assert.deepEqual(review.patches[0].problems, []);
  assert.deepEqual(review.patches[2].problems, []);
  assert.deepEqual(review.patches[2].files, ['drivers/iommu/iommufd/device.c', 'include/linux/iommufd.h']);
  assert.equal(review.patches[0].findings.filter((f) => f.status === 'introduced').length >= 0, true);
});

test('a patch that does not apply: the hunk is named; the series around it is still analysed', async () => {
  const parser = await wasmParser();
  const files = formatPatchFiles('v8');
  // v8 1/3 and 3/3 with a 2/3 whose context is not in the tree.
  const series = await parseSeriesFiles([files[1], m('does-not-apply.patch'), files[3]]);
  assert.deepEqual(
    series.patches.map((p) => p.tags.index),
    [1, 2, 3],
  );
  const review = await reviewSeries(series, { parser, base: tree() });
  const text = malformedText('does-not-apply.patch');
  const hunk = lineOf(
    text,
    '@@ -200,7 +200,7 @@ int iommufd_access_rw(struct iommufd_access *access, unsigned long iova,',
  );
  assert.deepEqual(review.patches[1].problems, [
    {
      source: 'malformed/does-not-apply.patch',
      line: hunk,
      message: `hunk #1 of drivers/iommu/iommufd/device.c (@@ -200,7 +200,7 @@, patch line ${hunk}) does not apply: its 7 context and removed lines were not found, even ignoring 2 lines of context at each end`,
    },
  ]);
  assert.deepEqual(review.patches[1].findings, []);
  assert.deepEqual(review.patches[2].problems, []);
  assert.ok(review.patches[2].files.includes('include/linux/iommufd.h'));
});

test('binary, rename-only and mode-only patches: said, not analysed as C, no crash', async () => {
  const parser = await wasmParser();
  const bin = await reviewSeries(await parseSeriesFiles([m('binary.patch')]), { parser, base: tree() });
  const text = malformedText('binary.patch');
  assert.deepEqual(bin.patches[0].problems, [
    {
      source: 'malformed/binary.patch',
      line: lineOf(text, 'diff --git a/drivers/iommu/iommufd/blob.bin b/drivers/iommu/iommufd/blob.bin'),
      message: 'drivers/iommu/iommufd/blob.bin: binary diff, not applied and not analysed',
    },
  ]);
  assert.deepEqual(bin.patches[0].files, ['drivers/iommu/iommufd/blob.bin', 'drivers/iommu/iommufd/device.c']);
  assert.deepEqual(bin.patches[0].findings, []);

  const renameMode = await reviewSeries(await parseSeriesFiles([m('rename-only.patch'), m('mode-only.patch')]), {
    parser,
    base: tree(),
  });
  assert.deepEqual(
    renameMode.patches.map((p) => [p.index, p.files, p.problems, p.findings]),
    [
      [1, ['drivers/iommu/iommufd/pagetable.c'], [], []],
      [2, ['drivers/iommu/iommufd/device.c'], [], []],
    ],
  );
  assert.deepEqual(
    parseMailDiff((await parseSeriesFiles([m('rename-only.patch')])).patches[0]).files.map((f) => [
      f.kind,
      f.oldPath,
      f.newPath,
    ]),
    [['rename', 'drivers/iommu/iommufd/io_pagetable.c', 'drivers/iommu/iommufd/pagetable.c']],
  );
});

test('a renamed file keeps its findings unchanged, not fixed and introduced again', async () => {
  const parser = await wasmParser();
  const files = formatPatchFiles('v8');
  const rename = Buffer.from(malformed('rename-only.patch'))
    .toString('latin1')
    .replace(/io_pagetable\.c/g, 'device.c')
    .replace('[PATCH 1/2]', '[PATCH v8 4/4]')
    .replace(/\bpagetable\.c/g, 'access.c');
  const review = await reviewSeries(await parseSeriesFiles([...files, { name: 'rename.patch', content: rename }]), {
    parser,
    base: tree(),
  });
  assert.deepEqual(review.patches[3].files, ['drivers/iommu/iommufd/access.c']);
  assert.deepEqual(
    review.patches[3].findings.filter((f) => f.status !== 'unchanged'),
    [],
  );
});

test('CRLF, quoted-printable and base64 mails give the same diff as the plain one', async () => {
  const plain = parseMailDiff((await parseSeriesFiles([formatPatchFiles('v8')[1]])).patches[0]);
  for (const name of ['crlf.patch', 'quoted-printable.patch', 'base64.patch']) {
    const series = await parseSeriesFiles([m(name)]);
    assert.equal(series.patches.length, 1, name);
    assert.equal(series.patches[0].title, 'iommufd: Factor out __iommufd_access_detach()');
    const d = parseMailDiff(series.patches[0]);
    const strip = (x: typeof d) =>
      x.files.map((f) => ({
        ...f,
        headerLine: 0,
        hunks: f.hunks.map((h) => ({ ...h, headerLine: 0, lines: h.lines.map((l) => ({ ...l, patchLine: 0 })) })),
      }));
    assert.deepEqual(strip(d), strip(plain), name);
  }
  // CRLF keeps exact patch lines; QP lines still point into the mail.
  const crlf = parseMailDiff((await parseSeriesFiles([m('crlf.patch')])).patches[0]);
  assert.deepEqual(
    crlf.files[0].hunks.map((h) => h.headerLine),
    plain.files[0].hunks.map((h) => h.headerLine),
  );
  const qp = parseMailDiff((await parseSeriesFiles([m('quoted-printable.patch')])).patches[0]);
  const qpLines = malformedText('quoted-printable.patch').split('\n').length;
  assert.ok(qp.files[0].hunks.every((h) => h.headerLine > 0 && h.headerLine <= qpLines));
});

test('a non-UTF-8 mail is read as ISO-8859-1, said so, and still applies and is analysed', async () => {
  const parser = await wasmParser();
  const series = await parseSeriesFiles([m('non-utf8.patch')]);
  assert.equal(series.patches.length, 1);
  assert.match(series.patches[0].commitMessage, /Ren\u00e9/);
  const review = await reviewSeries(series, { parser, base: tree() });
  assert.deepEqual(
    review.patches[0].problems.map((p) => p.message),
    ['the body is not valid UTF-8 and names no charset: read as ISO-8859-1'],
  );
  assert.deepEqual(review.patches[0].files, ['drivers/iommu/iommufd/device.c']);
});

test('an empty mail and an empty input: clear problems, nothing to review', async () => {
  const parser = await wasmParser();
  const empty = await parseSeriesFiles([m('empty.eml')]);
  assert.deepEqual(empty.patches, []);
  assert.deepEqual(
    empty.problems.map((p) => p.message),
    ['empty.eml: set aside: empty input', 'no patch found in the input'],
  );
  const review = await reviewSeries(empty, { parser });
  assert.deepEqual(review.patches, []);
  // An empty message inside an mbox is set aside; the patches around it are kept.
  const text = fixtureText('v8.mbox').replace(
    '\nFrom reviewer@example.net',
    '\nFrom nobody Fri Nov 27 14:00:00 2026\nX-Empty: yes\n\nFrom reviewer@example.net',
  );
  const series = await parseSeries(text, 'v8-with-empty.mbox');
  assert.equal(series.patches.length, 3);
  assert.equal(series.setAside.length, 2);
});

test('a 5 MB mbox generated here: every patch found, replies set aside', { timeout: 120_000 }, async () => {
  const parts = [fixtureText('v8.mbox')];
  const reply = (i: number) =>
    [
      `From r${i}@example.net Fri Nov 27 14:10:00 2026`,
      `From: R${i} <r${i}@example.net>`,
      `Subject: Re: [PATCH v8 2/3] iommufd: Attach through iommufd_access_change_ioas_id()`,
      `Message-Id: <r${i}@example.net>`,
      '',
      ...Array.from({ length: 40 }, (_, k) => `> quoted line ${k} of reply ${i}: ${'x'.repeat(40)}`),
      'Agreed.',
      '',
    ].join('\n');
  let size = parts[0].length;
  for (let i = 0; size < 5 * 1024 * 1024; i++) {
    const r = reply(i);
    parts.push(r);
    size += r.length + 1;
  }
  const series = await parseSeries(parts.join('\n'), 'big.mbox');
  assert.deepEqual(
    series.patches.map((p) => p.tags.index),
    [1, 2, 3],
  );
  // The reply already in v8.mbox plus every generated one.
  assert.equal(series.setAside.length, parts.length);
  assert.ok(series.setAside.every((s) => s.kind === 'reply'));
});

test('the v8 mbox cut at 60 places, and mangled: never a crash, every cut reported or reviewed', async () => {
  const parser = await wasmParser();
  const text = fixtureText('v8.mbox');
  const cuts = Array.from({ length: 60 }, (_, i) => Math.floor(((i + 1) * text.length) / 61));
  for (const at of cuts) {
    for (const variant of [text.slice(0, at), text.slice(0, at) + '\n@@ -1,3 +1,3 @@\n+x\n', text.slice(at)]) {
      const series = await parseSeries(variant, 'cut.mbox');
      const review = await reviewSeries(series, { parser, base: tree() });
      assert.equal(review.patches.length, series.patches.length);
      for (const p of review.patches)
        for (const f of p.findings) assert.ok(f.patchLine === undefined || f.patchLine >= 1);
    }
  }
});
