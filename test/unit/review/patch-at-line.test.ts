/**
 * Composing a reply from the palette answers the patch under the cursor: the
 * message holding the line decides, whatever order the mbox has its patches
 * in; a cover letter or a reply in the mbox is no patch (the command then asks).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseMailDiff } from '../../../src/patch/diff';
import { parseSeries } from '../../../src/patch/series';
import { patchAtMailLine } from '../../../src/review/diff-lines';
import { reviewSeriesFrom } from '../../../src/review/from-series';
import { fixtures, root } from './helpers';

// the bundled example has its patches out of order and a reply between them
for (const file of [path.join(fixtures, 'v8.mbox'), path.join(root, 'examples/series/v8.mbox')])
  test(`the patch whose message holds a line of the mbox; none on the cover letter or a reply (${path.relative(root, file)})`, async () => {
    const text = readFileSync(file, 'utf8');
    const parsed = await parseSeries(text, 'v8.mbox');
    const series = reviewSeriesFrom(parsed, parsed.patches.map(parseMailDiff), { 'v8.mbox': text });
    const lines = text.split('\n');
    const lineOf = (re: RegExp, from = 0): number => lines.findIndex((l, i) => i >= from && re.test(l)) + 1;
    for (const p of series.patches) {
      // its Subject: line (above the diff), and the last line of its message
      const subject = lineOf(new RegExp(`^Subject: \\[PATCH.* ${p.index}/${p.total}\\]`));
      assert.ok(subject > 0, `patch ${p.index}'s subject`);
      assert.equal(
        patchAtMailLine(series.patches, text, subject)?.index,
        p.index,
        `the subject line of ${p.index}/${p.total}`,
      );
      const next = lines.findIndex((l, i) => i >= subject && /^From \S+/.test(l) && lines[i - 1] === '');
      const last = next < 0 ? lines.length : next;
      assert.equal(
        patchAtMailLine(series.patches, text, last)?.index,
        p.index,
        `the last line of ${p.index}/${p.total}`,
      );
    }
    const cover = lineOf(/^Subject: .* 0\/\d+\]/);
    if (cover > 0)
      assert.equal(patchAtMailLine(series.patches, text, cover), undefined, 'the cover letter is no patch');
    const reply = lineOf(/^Subject: Re: /);
    if (reply > 0) assert.equal(patchAtMailLine(series.patches, text, reply), undefined, 'a reply is no patch');
  });
