/**
 * The end-to-end scenario without the editor: the real analyzer's findings on
 * the v8 fixture become suggestions; adopting the unmap-before-rollback one and
 * commenting on the WARN_ON line gives exactly test/fixtures/review/e2e-reply.eml,
 * the file the end-to-end test compares the editor's reply with. When the
 * analyzer's wording changes, this test says so in milliseconds.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseSeries, reviewSeries } from '../../../src/patch/index';
import { createWasmParser } from '../../../src/engine/parse/wasm-parser';
import { readWasmFromDisk } from '../../../src/engine/parse/node-wasm';
import { composeSessionReply } from '../../../src/report/reply';
import { anchorAtPatchLine } from '../../../src/review/diff-lines';
import { findingsByPatch } from '../../../src/review/from-series';
import * as S from '../../../src/review/session';
import { fixtureSeries, fixtureText, NOW, REVIEWER } from './helpers';
import { PATCH2 } from './scenario';

export const E2E_C_COMMENT = 'Set both only once the old IOAS is gone?';
export const E2E_COMMENT =
  'If this re-add fails too, acc->ioas stays NULL while ioas_unpin still points at the old IOAS.';

test('the analyzer on v8: adopt unmap-before-rollback, comment on WARN_ON → e2e-reply.eml', async () => {
  const series = await fixtureSeries('v8.mbox');
  const review = await reviewSeries(await parseSeries(fixtureText('v8.mbox'), 'v8.mbox'), {
    parser: await createWasmParser(readWasmFromDisk()),
  });
  let s = S.createSession(series, REVIEWER, findingsByPatch(series, review));
  const unmap = s.reviews[PATCH2].suggestions.find((x) => x.ruleId === 'unmap-before-rollback');
  assert.ok(unmap, `rules found: ${s.reviews[PATCH2].suggestions.map((x) => x.ruleId).join(', ')}`);
  assert.deepEqual(unmap.anchor, {
    kind: 'diff',
    file: 'drivers/iommu/iommufd/device.c',
    side: 'new',
    line: 116,
    text: '\trc = iopt_add_access(&new_ioas->iopt, acc);',
  });
  s = S.adoptSuggestion(s, PATCH2, unmap.fingerprint, NOW).session;
  const warnLine =
    fixtureText('v8.mbox')
      .split('\n')
      .findIndex((l) => l.includes('WARN_ON(iopt_add_access(')) + 1;
  const anchor = anchorAtPatchLine(S.patchById(s, PATCH2), warnLine);
  assert.ok(anchor);
  s = S.addThread(s, PATCH2, anchor, E2E_COMMENT, NOW).session;
  assert.equal(composeSessionReply(s, PATCH2), fixtureText('e2e-reply.eml'));

  // Then a comment on the same statement in the checkout's C file, which the patch shows.
  const cFile = 'checkout/drivers/iommu/iommufd/device.c';
  const cText = fixtureText(cFile).split('\n')[122];
  const target = S.patchForSourceFile(s, cFile);
  assert.equal(target?.id, PATCH2);
  s = S.addThread(s, PATCH2, { kind: 'source', file: cFile, line: 123, text: cText }, E2E_C_COMMENT, NOW).session;
  assert.equal(composeSessionReply(s, PATCH2), fixtureText('e2e-reply-2.eml'));
});
