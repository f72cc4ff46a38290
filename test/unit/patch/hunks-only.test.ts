/**
 * Hunks only (no repository, no tree): functions rebuilt from what the hunks
 * show, the unseen lines treated as unknown. The diffs are our own kernel-style C.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildFragments } from '../../../src/patch/fragments';
import { parseMailDiff } from '../../../src/patch/diff';
import { plainDiffMail } from '../../../src/patch/mail';
import { parseSeries, reviewSeries } from '../../../src/patch/index';
import { wasmParser } from './engine-helpers';
import { lineOf } from './helpers';

async function hunksOnly(diff: string, name = 'fix.diff') {
  const review = await reviewSeries(await parseSeries(diff, name), { parser: await wasmParser() });
  assert.equal(review.patches.length, 1);
  assert.equal(review.patches[0].preimage, 'hunks');
  return review.patches[0];
}

test("a detach-first change whose function head is above the hunk: unmap-before-rollback on the fallible call's patch line", async () => {
  const diff = [
    'diff --git a/drivers/iommu/iommufd/device.c b/drivers/iommu/iommufd/device.c',
    '--- a/drivers/iommu/iommufd/device.c',
    '+++ b/drivers/iommu/iommufd/device.c',
    '@@ -140,9 +140,11 @@ static int mydev_move_access(struct iommufd_access *access, struct iommufd_ioas *new_ioas)',
    ' \tstruct iommufd_ioas *cur_ioas = access->ioas;',
    ' \tint rc;',
    ' ',
    '-\trc = iopt_add_access(&new_ioas->iopt, access);',
    '-\tif (rc)',
    '-\t\treturn rc;',
    ' \tiopt_remove_access(&cur_ioas->iopt, access, access->iopt_access_list_id);',
    '+\trc = iopt_add_access(&new_ioas->iopt, access);',
    '+\tif (rc) {',
    '+\t\tiopt_add_access(&cur_ioas->iopt, access);',
    '+\t\treturn rc;',
    '+\t}',
    ' \taccess->ioas = new_ioas;',
    ' \treturn 0;',
    '',
  ].join('\n');
  const patch = await hunksOnly(diff);
  const found = patch.findings.filter((f) => f.ruleId === 'unmap-before-rollback');
  assert.equal(found.length, 1, JSON.stringify(patch.findings.map((f) => [f.ruleId, f.status, f.confidence])));
  const [f] = found;
  assert.equal(f.status, 'introduced');
  assert.equal(f.function, 'mydev_move_access');
  assert.equal(f.context, 'partial');
  assert.equal(f.confidence, 'medium');
  assert.equal(f.patchLine, lineOf(diff, '+\trc = iopt_add_access(&new_ioas->iopt, access);'));
  assert.ok(
    f.related.some(
      (r) =>
        r.patchLine === lineOf(diff, ' \tiopt_remove_access(&cur_ioas->iopt, access, access->iopt_access_list_id);'),
    ),
  );
  // Lines as the hunk header numbers them: the fallible call is the file's line 144.
  assert.equal(f.imageLine, 144);
});

const UNLOCK_FIX = [
  'diff --git a/drivers/vfio/mydev.c b/drivers/vfio/mydev.c',
  '--- a/drivers/vfio/mydev.c',
  '+++ b/drivers/vfio/mydev.c',
  '@@ -60,6 +60,7 @@ static int mydev_set_state(struct mydev *dev, int state)',
  ' \tif (!mydev_state_valid(dev, state)) {',
  '+\t\tmutex_unlock(&dev->state_lock);',
  ' \t\treturn -EINVAL;',
  ' \t}',
  ' \tdev->state = state;',
  ' \tdev->changes++;',
  ' \tmydev_notify(dev);',
];

test('a hunk that adds an unlock on an early return is reported as fixing a lock-leak, on the changed line', async () => {
  // The lock is taken above the hunk and released below it: neither is shown.
  const diff = [...UNLOCK_FIX, ''].join('\n');
  const patch = await hunksOnly(diff);
  const leaks = patch.findings.filter((f) => f.ruleId === 'lock-leak');
  assert.deepEqual(
    leaks.map((f) => [f.status, f.function, f.context, f.confidence]),
    [['fixed', 'mydev_set_state', 'partial', 'medium']],
  );
  // The fixed finding sits on the early return the pre-image leaked through (a context line, shown as it was).
  assert.equal(leaks[0].patchLine, lineOf(diff, ' \t\treturn -EINVAL;'));
  assert.match(
    leaks[0].message,
    /^`mydev_set_state\(\)` returns `-EINVAL` at line 61 with `mydev\.state_lock` still held/,
  );
});

test("the same fix whose hunk shows the function's own unlock and end: fixed as well", async () => {
  const diff = [...UNLOCK_FIX, ' \tmutex_unlock(&dev->state_lock);', ' \treturn 0;', ' }', '']
    .join('\n')
    .replace('@@ -60,6 +60,7 @@', '@@ -60,9 +60,10 @@');
  const patch = await hunksOnly(diff);
  assert.deepEqual(
    patch.findings.filter((f) => f.ruleId === 'lock-leak').map((f) => [f.status, f.function]),
    [['fixed', 'mydev_set_state']],
  );
});

test('fragments: unseen lines between hunks of one function are unknown: the nesting resumes from indentation, a lock retaken there is inferred', () => {
  const diff = [
    '--- a/d.c',
    '+++ b/d.c',
    '@@ -10,5 +10,5 @@ static void mydev_reset(struct mydev *dev)',
    ' \tdev->busy = true;',
    ' \tmutex_unlock(&dev->lock);',
    '-\tmydev_wait(dev);',
    '+\tmydev_wait_idle(dev);',
    ' \tif (dev->error) {',
    ' \t\tdev->failed++;',
    '@@ -30,4 +30,4 @@ static void mydev_reset(struct mydev *dev)',
    ' \tdev->count = 0;',
    '-\tdev->gen++;',
    '+\tdev->gen += 2;',
    ' \tmutex_unlock(&dev->lock);',
    ' }',
    '',
  ].join('\n');
  const { old: pre, new: post } = buildFragments(parseMailDiff(plainDiffMail(diff, 'd.diff')).files[0]);
  assert.equal(
    post.text,
    [
      'static void mydev_reset(struct mydev *dev)',
      '{',
      // Released in view without being taken in view: the unseen head took it.
      '\tmutex_lock(&dev->lock);',
      '\tdev->busy = true;',
      '\tmutex_unlock(&dev->lock);',
      '\tmydev_wait_idle(dev);',
      '\tif (dev->error) {',
      '\t\tdev->failed++;',
      // The gap: back to the body's level (the next shown line is indented once), and the lock released below was retaken in it.
      '}',
      '\tmutex_lock(&dev->lock);',
      '\tdev->count = 0;',
      '\tdev->gen += 2;',
      '\tmutex_unlock(&dev->lock);',
      '}',
      '',
    ].join('\n'),
  );
  assert.match(pre.text, /\tdev->gen\+\+;\n\tmutex_unlock/);
  assert.deepEqual([...post.partial], ['mydev_reset']);
});
