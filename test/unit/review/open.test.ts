import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { nodeStoreFs } from '../../../src/review/node-fs';
import { findPreviousRevision, openSeriesSession, restoreAll, splitSeriesName } from '../../../src/review/open';
import { saveSession } from '../../../src/review/store';
import { fixtureSeries, REVIEWER } from './helpers';
import { LOCK_LEAK, PATCH2, reviewedV8, STALE, UNMAP_FIRST } from './scenario';

const CLOCK = () => new Date('2026-07-09T08:00:00.000Z');
const V8 = '.vscode/iommufd-review/iommufd-demo-access-replace-v8.json';
const V9 = '.vscode/iommufd-review/iommufd-demo-access-replace-v9.json';
const V9_PATCH2 = '20260708090000.1002-2-ada@example.org';

async function inTemp(fn: (root: string) => Promise<void>): Promise<void> {
  const root = mkdtempSync(path.join(os.tmpdir(), 'iommufd-review-open-'));
  try {
    await fn(root);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

test('series names split into stem and revision', () => {
  assert.deepEqual(splitSeriesName('iommufd-demo-access-replace-v9'), {
    stem: 'iommufd-demo-access-replace',
    version: 9,
  });
  assert.equal(splitSeriesName('x'), undefined);
});

test('nothing saved: a new session', () =>
  inTemp(async (root) => {
    const r = await openSeriesSession(nodeStoreFs(root), await fixtureSeries('v8.mbox'), REVIEWER, {
      [PATCH2]: [UNMAP_FIRST],
    });
    assert.equal(r.origin, 'new');
    assert.equal(r.path, V8);
    assert.deepEqual(
      r.session.reviews[PATCH2].suggestions.map((s) => s.state),
      ['pending'],
    );
  }));

test('a saved session is resumed, with fresh findings merged in by fingerprint', () =>
  inTemp(async (root) => {
    const fs = nodeStoreFs(root);
    const series = await fixtureSeries('v8.mbox');
    await saveSession(fs, V8, reviewedV8(series));
    const again = { ...UNMAP_FIRST, message: 'reworded' };
    const r = await openSeriesSession(fs, { ...series, source: 'mail/v8.mbox' }, REVIEWER, {
      [PATCH2]: [again, LOCK_LEAK],
    });
    assert.equal(r.origin, 'restored');
    assert.equal(r.session.series.source, 'mail/v8.mbox');
    assert.deepEqual(
      r.session.reviews[PATCH2].suggestions.map((s) => [s.fingerprint, s.state, s.message]),
      [
        [UNMAP_FIRST.fingerprint, 'adopted', 'reworded'],
        [LOCK_LEAK.fingerprint, 'dismissed', LOCK_LEAK.message],
      ],
    );
    assert.equal(r.session.reviews[PATCH2].state, 'done');
    assert.equal(r.session.reviews[PATCH2].threads.length, 3);
  }));

test('v9 with a reviewed v8 saved: carried over from the latest earlier revision', () =>
  inTemp(async (root) => {
    const fs = nodeStoreFs(root);
    await saveSession(fs, V8, reviewedV8(await fixtureSeries('v8.mbox')));
    // An older, unrelated and a same-stem-but-later file must not be picked.
    await saveSession(
      fs,
      '.vscode/iommufd-review/iommufd-demo-access-replace-v7.json',
      reviewedV8(await fixtureSeries('v8.mbox')),
    );
    await saveSession(fs, '.vscode/iommufd-review/other-series-v8.json', reviewedV8(await fixtureSeries('v8.mbox')));
    assert.equal(await findPreviousRevision(fs, 'iommufd-demo-access-replace-v9'), V8);
    const r = await openSeriesSession(fs, await fixtureSeries('v9.mbox'), REVIEWER, { [V9_PATCH2]: [STALE] });
    assert.equal(r.origin, 'carried');
    assert.equal(r.previousPath, V8);
    assert.deepEqual(r.carry?.carried, { threads: 2, dismissals: 0, adoptions: 0 });
    assert.deepEqual(
      r.carry?.notCarried.map((n) => n.what),
      ['thread', 'dismissal'],
    );
  }));

test('an unreadable own session is moved aside and reported; the review starts over', () =>
  inTemp(async (root) => {
    const fs = nodeStoreFs(root);
    await fs.mkdirp('.vscode/iommufd-review');
    writeFileSync(path.join(root, V8), '{ not json');
    const r = await openSeriesSession(fs, await fixtureSeries('v8.mbox'), REVIEWER, {}, CLOCK);
    assert.equal(r.origin, 'new');
    assert.deepEqual(
      r.setAside.map((x) => [x.path, x.movedTo]),
      [[V8, '.vscode/iommufd-review/iommufd-demo-access-replace-v8.corrupt-20260709T080000000Z.json']],
    );
    assert.match(r.setAside[0].reason, /^not valid JSON/);
  }));

test('restoring a workspace loads every session and sets the broken ones aside', () =>
  inTemp(async (root) => {
    const fs = nodeStoreFs(root);
    const v8 = reviewedV8(await fixtureSeries('v8.mbox'));
    await saveSession(fs, V8, v8);
    writeFileSync(path.join(root, V9), JSON.stringify({ format: 'iommufd-review-session', version: 3, session: {} }));
    const r = await restoreAll(fs, CLOCK);
    assert.deepEqual(r.sessions, [{ path: V8, session: v8 }]);
    assert.deepEqual(
      r.setAside.map((x) => x.movedTo),
      ['.vscode/iommufd-review/iommufd-demo-access-replace-v9.corrupt-20260709T080000000Z.json'],
    );
    // A second start does not touch what was set aside.
    const again = await restoreAll(fs, CLOCK);
    assert.deepEqual([again.sessions.length, again.setAside.length], [1, 0]);
    assert.deepEqual(readdirSync(path.join(root, '.vscode/iommufd-review')).sort(), [
      'iommufd-demo-access-replace-v8.json',
      'iommufd-demo-access-replace-v9.corrupt-20260709T080000000Z.json',
    ]);
  }));
