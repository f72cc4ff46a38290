import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  addressList,
  findingsByPatch,
  messageIds,
  readHeaders,
  seriesFileName,
  shortHash,
} from '../../../src/review/from-series';
import { createSession, patchForSourceFile } from '../../../src/review/session';
import type { PatchFinding, SeriesReview } from '../../../src/patch/types';
import { fixtureSeries, REVIEWER } from './helpers';
import { DEVICE_C, PATCH2, UNMAP_FIRST } from './scenario';

test('headers: folded values, repeated names, address lists with commas in quotes', () => {
  const h = readHeaders(
    'From x Mon\nTo: "Doe, Jane" <j@x.org>,\n  b@x.org\nCc: c@x.org\nCc: d@x.org\nReferences: <a@x> <b@x>\n\nTo: body@x',
  );
  assert.deepEqual(addressList(h.get('to')?.join(', ')), ['"Doe, Jane" <j@x.org>', 'b@x.org']);
  assert.deepEqual(addressList(h.get('cc')?.join(', ')), ['c@x.org', 'd@x.org']);
  assert.deepEqual(messageIds(h.get('references')?.[0]), ['a@x', 'b@x']);
});

test('series file names and fallback patch ids', () => {
  assert.equal(seriesFileName('iommufd: demo access replace', 8), 'iommufd-demo-access-replace-v8');
  assert.equal(seriesFileName('***', 1), 'series-v1');
  assert.equal(shortHash('abc'), '1a47e90b');
});

test('findings per patch: only what the patch introduces, at its post-image line', async () => {
  const series = await fixtureSeries('v8.mbox');
  const f = (status: PatchFinding['status'], fingerprint: string): PatchFinding =>
    ({
      ruleId: 'unmap-before-rollback',
      severity: 'error',
      confidence: 'high',
      message: UNMAP_FIRST.message,
      file: 'patch.c',
      line: 3,
      column: 1,
      function: 'demo_access_replace',
      fingerprint,
      related: [],
      scenario: { variant: 'v8', threads: ['replacer'], faults: ['add-access'], contract: 'status-quo' },
      status,
      imageFile: DEVICE_C,
      imageLine: 116,
      context: 'partial',
    }) as PatchFinding;
  const review = {
    series: { title: series.title, version: 8, rfc: false, total: 2, setAside: [], problems: [], notes: [] },
    patches: [
      {
        subject: '',
        title: '',
        index: 2,
        total: 2,
        source: 'v8.mbox',
        messageId: `<${PATCH2}>`,
        files: [],
        mode: 'hunks',
        preimage: 'hunks',
        preimageFiles: [],
        fixes: [],
        findings: [f('introduced', 'a'), f('unchanged', 'b'), f('fixed', 'c')],
        problems: [],
        notes: [],
      },
    ],
  } as SeriesReview;
  assert.deepEqual(findingsByPatch(series, review), {
    [PATCH2]: [
      {
        fingerprint: 'a',
        ruleId: 'unmap-before-rollback',
        severity: 'error',
        confidence: 'high',
        message: UNMAP_FIRST.message,
        file: DEVICE_C,
        line: 116,
      },
    ],
  });
});

test('a comment on a C file goes to the patch being read if it touches the file, else to the first that does', async () => {
  const s = createSession(await fixtureSeries('v8.mbox'), REVIEWER);
  const [p1, p2] = s.series.patches;
  assert.equal(patchForSourceFile(s, `/src/linux/${DEVICE_C}`, p1.id)?.id, p2.id);
  assert.equal(patchForSourceFile(s, 'drivers/iommu/iommufd/demo_private.h', p2.id)?.id, p1.id);
  assert.equal(patchForSourceFile(s, 'drivers/other.c', p2.id)?.id, p2.id);
  assert.equal(patchForSourceFile(s, 'drivers/other.c')?.id, p1.id);
});
