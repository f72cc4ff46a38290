/**
 * assert-held's confidence for a caller that never takes the lock the helper
 * asserts: medium when nothing tells its own callers to hold it, low when it
 * documents that they do (`*_locked`, "Caller must hold", "called with ...
 * held"), when its callers are out of view (none in view, or its address is
 * taken), or when the helper asserts only on some paths; nothing when its
 * callers in view hold it. Every documented or conditional caller here is
 * called without the lock by ring_ctx_close(), so only its own reason makes it low.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { documentsCallerHolds, commentsOf } from '../../../src/engine/model/lock-comments';
import { analyzeFixtures, lineOf, ofRule, relatedLines } from './engine-fixtures';

const FIXTURE = 'assert-held/undocumented-caller.c';

test('assert-held: an undocumented caller of an asserting helper is medium; documented, out-of-view or conditional ones are low', async () => {
  const r = await analyzeFixtures([FIXTURE], { minConfidence: 'low' });
  const found = ofRule(r, 'assert-held');
  const call = lineOf(FIXTURE, 'ring_ctx_commit(rc);');
  assert.deepEqual(
    found.map((f) => `${f.function}:${f.line}:${f.confidence}`),
    [
      `ring_ctx_flush:${call}:medium`,
      `ring_ctx_flush_locked:${lineOf(FIXTURE, 'ring_ctx_commit(rc);', 2)}:low`,
      `ring_ctx_drain:${lineOf(FIXTURE, 'ring_ctx_commit(rc);', 3)}:low`,
      `ring_ctx_reset:${lineOf(FIXTURE, 'ring_ctx_commit(rc);', 4)}:low`,
      `ring_ctx_idle:${lineOf(FIXTURE, 'ring_ctx_set_mode(rc, 0);')}:low`,
      `ring_ctx_orphan:${lineOf(FIXTURE, 'ring_ctx_commit(rc);', 6)}:low`,
      `ring_ctx_ops_flush:${lineOf(FIXTURE, 'ring_ctx_commit(rc);', 7)}:low`,
      `ring_ctx_peek:${lineOf(FIXTURE, 'ring_ctx_commit(rc);', 8)}:low`,
      `ring_ctx_settle:${lineOf(FIXTURE, 'ring_ctx_commit(rc);', 9)}:low`,
    ],
  );
  // ring_ctx_kick() (the 5th call) is only called under the lock by ring_ctx_poll(): nothing.
  assert.ok(!found.some((f) => f.function === 'ring_ctx_kick' || f.function === 'ring_ctx_poll'));
  const f = found[0];
  const asserted = lineOf(FIXTURE, 'lockdep_assert_held(&rc->lock);');
  assert.equal(
    f.message,
    `\`ring_ctx_flush()\` calls \`ring_ctx_commit()\` at line ${call} without holding \`ring_ctx.lock\`, which \`ring_ctx_commit()\` requires held (it asserts it at line ${asserted}).`,
  );
  assert.deepEqual(relatedLines(f), [asserted]);
  assert.equal(f.related[0].role, 'assert');
  assert.equal(f.fingerprint, 'assert-held:ring_ctx_flush:ring_ctx.lock,ring_ctx_commit');
  // At the default confidence only the undocumented caller is shown.
  const shown = ofRule(await analyzeFixtures([FIXTURE]), 'assert-held');
  assert.deepEqual(
    shown.map((x) => `${x.function}:${x.line}`),
    [`ring_ctx_flush:${call}`],
  );
});

test('assert-held: the comment forms that document a caller-held lock', () => {
  const says = [
    'Caller must hold dev->lock.',
    'The caller must hold the group mutex',
    'Callers need to hold ops_lock',
    'Must be called with ioas->mutex held',
    'called with the ring mutex held',
    'Called under iommu->lock',
    'Locking: the caller holds ...',
    'Context: Process context. Takes and releases nothing; dev->lock held.',
    'CALLED WITH THE RING MUTEX HELD',
    // U+212A (Kelvin sign) lower-cases to `k`: the quick word test before tokenising must see it too.
    'Invo\u212Aed holding the ring lock',
  ];
  for (const s of says) assert.ok(documentsCallerHolds(s), s);
  const silent = [
    'Flush the ring.',
    'Takes dev->lock and releases it before returning.',
    'Returns the number of held pages.',
    'must be held back until the device is ready',
  ];
  for (const s of silent) assert.ok(!documentsCallerHolds(s), s);
  assert.equal(commentsOf('int a; /* one */ b = c / d; // two\nx = "/";'), ' one \n two');
});

test('assert-held: a caller that takes the lock on some paths is high, unless the helper asserts only on some paths (low)', async () => {
  const file = 'assert-held/flag-gated-lock.c';
  const found = ofRule(await analyzeFixtures([file], { minConfidence: 'low' }), 'assert-held');
  assert.deepEqual(
    found.map((f) => [f.function, f.line, f.confidence]),
    [
      ['stack_dev_swap', lineOf(file, 'err = chain_validate(d, backing);'), 'low'],
      ['stack_dev_attach', lineOf(file, 'chain_relink(d, backing);'), 'high'],
    ],
  );
});
