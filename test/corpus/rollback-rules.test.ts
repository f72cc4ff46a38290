/**
 * The rollback-family rules on the real iommufd code: the merged replace
 * helper (`iommufd_access_change_ioas`: add first, drop ioas_lock around the
 * driver's unmap, restore `ioas` on failure) and everything else in the
 * corpus give no unmap-before-rollback, unrestored-state or stale-after-relock
 * finding at the default confidence, but for the one use after unlock triaged as real.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { analyzeSources } from '../../src/engine/engine';
import { readSources } from '../../src/engine/node/read-sources';
import { sharedParser } from '../unit/engine/engine-fixtures';
import { checkPaths, kernelDir } from './kernel-corpus';

const ROLLBACK = new Set(['unmap-before-rollback', 'unrestored-state', 'stale-after-relock']);

test('no rollback-family finding on Linux 6.12 iommufd, vfio and the emulated-device drivers at the default confidence', async () => {
  const kernel = kernelDir();
  const { files } = readSources(checkPaths(kernel));
  assert.ok(files.length >= 20, `read ${files.length} files`);
  const r = analyzeSources(await sharedParser(), files);
  // Only the use after unlock triaged as real in README ("Findings on Linux 6.12"): the
  // test-only syzkaller IOVA helper reads an area after dropping iova_rwsem.
  assert.deepEqual(
    r.findings
      .filter((f) => ROLLBACK.has(f.ruleId))
      .map((f) => `${path.relative(kernel, f.file)}:${f.line} ${f.ruleId} ${f.confidence}`),
    ['drivers/iommu/iommufd/selftest.c:84 stale-after-relock high'],
  );
  assert.ok(r.coverage.functions.parsed > 500, `parsed ${r.coverage.functions.parsed}`);
});

test('the merged change helper gives nothing from the rollback-family rules, even at low confidence', async () => {
  const kernel = kernelDir();
  const device = path.join(kernel, 'drivers/iommu/iommufd/device.c');
  const files = [
    device,
    path.join(kernel, 'drivers/iommu/iommufd/iommufd_private.h'),
    path.join(kernel, 'include/linux/iommufd.h'),
  ].map((p) => ({
    path: path.relative(kernel, p),
    text: readFileSync(p, 'utf8'),
  }));
  const r = analyzeSources(await sharedParser(), files, { minConfidence: 'low' });
  const inHelper = r.findings.filter(
    (f) => ROLLBACK.has(f.ruleId) && /iommufd_access_(change_ioas|replace|attach|detach)/.test(f.function),
  );
  assert.deepEqual(
    inHelper.map((f) => `${f.ruleId}:${f.function}:${f.line}`),
    [],
  );
  assert.ok(r.coverage.entries.some((e) => e.function === 'iommufd_access_change_ioas' && e.status === 'parsed'));
});
