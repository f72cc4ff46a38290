/**
 * The rollback family of rules (unmap-before-rollback, unrestored-state,
 * stale-after-relock) on kernel-style fixtures, through the whole engine.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { analyzeFixtures, ofRule, relatedLines } from './engine-fixtures';
import { analyze, lineOf } from './engine-helpers';
import type { Finding } from '../../../src/engine/types';

const ROLLBACK_RULES = ['unmap-before-rollback', 'unrestored-state', 'stale-after-relock'] as const;

/**
 * The relock half's findings only: these fixtures are about values used after a
 * retake; their uses inside the unlocked window (passed to the callback, low) are
 * the use-after-unlock half's, tested in use-after-unlock.test.ts.
 */
function relockHalf(findings: readonly Finding[]): Finding[] {
  return findings.filter((f) => f.ruleId === 'stale-after-relock' && !f.fingerprint.includes('after-unlock'));
}

test('unmap-before-rollback: v8-like helper detaches (unmap, remove, put) before iopt_add_access can fail', async () => {
  const r = await analyzeFixtures(['unmap-before-rollback/v8-detach-first.c']);
  const [f, ...rest] = ofRule(r, 'unmap-before-rollback');
  assert.equal(rest.length, 0);
  assert.equal(f.file, 'v8-detach-first.c');
  assert.equal(f.function, 'emu_access_set_ioas');
  assert.equal(f.line, 33);
  assert.equal(f.confidence, 'high');
  assert.equal(
    f.message,
    "`__emu_access_detach()` unmaps the driver's pages, removes the access from the IOAS and drops the reference to the old object (line 31) " +
      'before `iopt_add_access()` can fail (line 33); the error path (line 36) calls `emu_access_set_ioas()` again to re-attach `prev_ioas` ' +
      'but cannot give the driver its pins back.',
  );
  // The detach call, each step inside it, the fallible call, the restore, the use-after-put hazard, the error return.
  assert.deepEqual(relatedLines(f), [31, 12, 14, 15, 33, 36, 36, 36, 44]);
  assert.match(
    f.related[1].message,
    /^`acc->ops->unmap\(\)` unmaps the driver's pages \(inside `__emu_access_detach\(\)`\)$/,
  );
  assert.match(
    f.related[6].message,
    /reads `prev_ioas` after `refcount_dec\(\)` dropped the reference to it \(line 15\)/,
  );
  assert.equal(f.related[7].message, '`emu_access_set_ioas()` can fail as well, and then nothing is restored');
  assert.equal(f.scenario.variant, 'from-source');
  assert.equal(f.scenario.function, 'emu_access_set_ioas');
  assert.equal(f.fingerprint, 'unmap-before-rollback:emu_access_set_ioas:__emu_access_detach,iopt_add_access');
  // The recursive re-attach inside WARN_ON is part of the error path, not a second fallible step;
  // the detach helper's own saved pointer is claimed (ioas = NULL) before the drop: no stale use.
  assert.deepEqual(ofRule(r, 'unrestored-state'), []);
  assert.deepEqual(ofRule(r, 'stale-after-relock'), []);
});

test('unmap-before-rollback: a driver drops its pin before the new pin can fail (goto unwinding)', async () => {
  const r = await analyzeFixtures(['unmap-before-rollback/unpin-then-pin.c']);
  const found = ofRule(r, 'unmap-before-rollback');
  assert.equal(found.length, 1);
  const f = found[0];
  assert.equal(f.function, 'ring_buf_move');
  assert.equal(f.line, 21);
  assert.equal(
    f.message,
    '`vfio_unpin_pages()` unpins the pages (line 19) before `vfio_pin_pages()` can fail (line 21); ' +
      'the error path (line 30) returns an error but cannot re-pin the pages that were unpinned.',
  );
  assert.deepEqual(relatedLines(f), [19, 21, 30]);
  // `return err` after `err = npinned`: the model cannot prove it is the error, so not high.
  assert.equal(f.confidence, 'medium');
});

test('unmap-before-rollback: inline detach (callback, remove) before the add; the error path re-adds the old IOAS', async () => {
  const r = await analyzeFixtures(['unmap-before-rollback/inline-detach-readd.c'], { minConfidence: 'low' });
  assert.deepEqual(
    r.findings.map((f) => `${f.ruleId}:${f.line}`),
    ['unmap-before-rollback:18'],
  );
  const f = r.findings[0];
  assert.equal(f.confidence, 'high');
  assert.equal(
    f.message,
    "`ac->ops->unmap()` unmaps the driver's pages (line 14) before `iopt_add_access()` can fail (line 18); " +
      'the error path (line 28) calls `iopt_add_access()` on `was` to put it back but cannot give the driver its pins back.',
  );
  assert.deepEqual(relatedLines(f), [14, 16, 18, 28, 28, 31]);
  assert.equal(
    f.related[1].message,
    '`iopt_remove_access()` removes the access from the IOAS: cannot be undone either',
  );
  // Stable across renames of the access variable.
  assert.equal(f.fingerprint, 'unmap-before-rollback:vdev_acc_rebind:iommufd_access_ops.unmap,iopt_add_access');
});

test('unmap-before-rollback: a driver ops callback whose implementation in view unpins', async () => {
  const r = await analyzeFixtures(['unmap-before-rollback/driver-ops-invalidate.c'], { minConfidence: 'low' });
  assert.deepEqual(
    r.findings.map((f) => `${f.ruleId}:${f.line}:${f.confidence}`),
    ['unmap-before-rollback:29:high'],
  );
  const f = r.findings[0];
  assert.equal(
    f.message,
    '`gs->ops->invalidate()` runs `gpu_slot_invalidate()`, which unpins the pages (line 28) before `vfio_pin_pages()` can fail (line 29); ' +
      'the error path (line 31) returns an error but cannot re-pin the pages that were unpinned.',
  );
  assert.deepEqual(relatedLines(f), [28, 17, 29, 31]);
  assert.equal(f.related[1].message, '`vfio_unpin_pages()` unpins the pages (inside `gpu_slot_invalidate()`)');
  assert.equal(f.fingerprint, 'unmap-before-rollback:gpu_slot_move:gpu_slot_ops.invalidate,vfio_pin_pages');
});

test('unmap-before-rollback: quiet when every fallible step comes first, or the failure after a put or a removal is only logged', async () => {
  const r = await analyzeFixtures(['unmap-before-rollback/pin-then-unpin.c'], { minConfidence: 'low' });
  assert.deepEqual(
    r.findings.map((f) => `${f.ruleId}:${f.line}`),
    [],
  );
  assert.deepEqual(r.coverage.functions, { parsed: 3, partial: 0, skipped: 0 });
});

test('unmap-before-rollback: the same removal is reported once the failure is returned', async () => {
  const { fixtureSource, sharedParser } = await import('./engine-fixtures');
  const { analyzeSources } = await import('../../../src/engine/engine');
  const src = fixtureSource('unmap-before-rollback/pin-then-unpin.c');
  const text = src.text.replace('\t\tpr_warn("sq: slot %u not reserved: %d\\n", slot, rc);', '\t\treturn rc;');
  assert.notEqual(text, src.text);
  const found = analyzeSources(await sharedParser(), [{ path: src.path, text }]).findings;
  assert.deepEqual(
    found.map((f) => `${f.ruleId}:${f.function}:${f.line}:${f.confidence}`),
    ['unmap-before-rollback:sq_ctx_detach:50:high'],
  );
  assert.equal(
    found[0].message,
    '`iopt_remove_access()` removes the access from the IOAS (line 49) before `xa_insert()` can fail (line 50); the error path (line 52) returns an error but cannot undo the removal.',
  );
});

test('the merged-like helper gives no rollback-family finding, even at low confidence', async () => {
  const r = await analyzeFixtures(['clean/merged-change.c'], { minConfidence: 'low' });
  for (const rule of ROLLBACK_RULES) assert.deepEqual(ofRule(r, rule), [], rule);
  assert.deepEqual(r.coverage.functions, { parsed: 2, partial: 0, skipped: 0 });
});

test('unrestored-state: v7-like add overwrites the list id the later remove needs', async () => {
  const r = await analyzeFixtures(['unrestored-state/v7-list-id.c']);
  const found = ofRule(r, 'unrestored-state');
  assert.equal(found.length, 1);
  const f = found[0];
  assert.equal(f.function, 'mdev_access_move');
  assert.equal(f.line, 12);
  assert.equal(f.confidence, 'high');
  assert.equal(
    f.message,
    '`iopt_add_access()` overwrites `access->iopt_access_list_id` (line 12) and nothing saves or restores the old value; ' +
      '`iopt_remove_access()` at line 21 then uses `access->iopt_access_list_id` with the old `from`, ' +
      'so it gets the new value instead of the one that belonged to `from`.',
  );
  assert.deepEqual(relatedLines(f), [12, 21]);
  assert.equal(
    f.fingerprint,
    'unrestored-state:mdev_access_move:iommufd_access.iopt_access_list_id,iopt_add_access,iopt_remove_access',
  );
});

test('unrestored-state: the older two-argument remove reads the slot the add overwrote', async () => {
  const r = await analyzeFixtures(['unrestored-state/v7-implicit-slot.c'], { minConfidence: 'low' });
  assert.deepEqual(
    r.findings.map((f) => `${f.ruleId}:${f.line}:${f.confidence}`),
    ['unrestored-state:15:high'],
  );
  assert.equal(
    r.findings[0].message,
    '`iopt_add_access()` overwrites `iacc->iopt_access_list_id` (line 15) and nothing saves or restores the old value; ' +
      '`iopt_remove_access()` at line 22 then reads `iacc->iopt_access_list_id` itself with the old `stale_ioas`, ' +
      'so it gets the new value instead of the one that belonged to `stale_ioas`.',
  );
  assert.deepEqual(relatedLines(r.findings[0]), [15, 22]);
});

test('unrestored-state: the pin-blocking NULL is left behind when the add fails (WARN_ON check)', async () => {
  const r = await analyzeFixtures(['unrestored-state/null-left-behind.c']);
  const found = ofRule(r, 'unrestored-state');
  assert.equal(found.length, 1);
  const f = found[0];
  assert.equal(f.function, 'emu_dev_retarget');
  assert.equal(f.line, 19);
  assert.equal(f.confidence, 'high');
  assert.equal(
    f.message,
    '`acc->ioas` is set to `NULL` (line 19) before `iopt_add_access()` can fail (line 20); ' +
      'the error path returns at line 23 without restoring it, so it stays `NULL`.',
  );
  assert.deepEqual(relatedLines(f), [19, 20, 23]);
});

test('unrestored-state: a driver swaps a saved field and a goto error path leaves the swap half done (medium)', async () => {
  const r = await analyzeFixtures(['unrestored-state/swap-left-half-done.c'], { minConfidence: 'low' });
  assert.deepEqual(
    r.findings.map((f) => `${f.ruleId}:${f.line}:${f.confidence}`),
    ['unrestored-state:21:medium'],
  );
  assert.equal(
    r.findings[0].message,
    '`fd->active` is set to `next` (line 21) before `xa_insert()` can fail (line 22); the error path returns at line 32 without restoring it, so it stays `next`.',
  );
  assert.deepEqual(relatedLines(r.findings[0]), [21, 22, 32]);
});

test('unrestored-state: quiet when goto unwinding restores the saved fields, for objects not yet published, for stack copies', async () => {
  const r = await analyzeFixtures(['unrestored-state/restored-by-unwind.c'], { minConfidence: 'low' });
  assert.deepEqual(ofRule(r, 'unrestored-state'), []);
  assert.deepEqual(r.coverage.functions, { parsed: 3, partial: 0, skipped: 0 });
});

test('unrestored-state: the stack copy turned into the shared table is reported', async () => {
  const { fixtureSource, sharedParser } = await import('./engine-fixtures');
  const { analyzeSources } = await import('../../../src/engine/engine');
  const src = fixtureSource('unrestored-state/restored-by-unwind.c');
  const text = src.text.replace(/scratch\.state/g, 'tbl->state');
  const found = ofRule(analyzeSources(await sharedParser(), [{ path: src.path, text }]), 'unrestored-state');
  assert.deepEqual(
    found.map((f) => `${f.function}:${f.line}:${f.confidence}`),
    ['port_tbl_probe:71:medium'],
  );
  assert.equal(
    found[0].message,
    '`tbl->state` is set to `was + 1` (line 71) before `xa_alloc()` can fail (line 72); the error path returns at line 74 without restoring it, so it stays `was + 1`.',
  );
  assert.deepEqual(relatedLines(found[0]), [71, 72, 74]);
});

test('stale-after-relock: an area found under iova_rwsem is used after the rwsem is dropped and retaken', async () => {
  const r = await analyzeFixtures(['stale-after-relock/area-after-relock.c']);
  const found = ofRule(r, 'stale-after-relock');
  assert.equal(found.length, 1);
  const f = found[0];
  assert.equal(f.function, 'shadow_map_sync');
  assert.equal(f.line, 32);
  assert.equal(f.confidence, 'high');
  assert.equal(
    f.message,
    '`area` is found by `iopt_area_iter_first()` under `io_pagetable.iova_rwsem` (line 22); the lock is dropped at line 27 ' +
      'around `sm->ops->flush()` and retaken at line 31, and `area` is used at line 32 without being looked up again: ' +
      'it may have changed or been freed meanwhile.',
  );
  assert.deepEqual(relatedLines(f), [22, 27, 29, 31, 32]);
  assert.equal(f.fingerprint, 'stale-after-relock:shadow_map_sync:io_pagetable.iova_rwsem,iopt_area_iter_first');
});

test('stale-after-relock: a pointer read from a locked field, used after a callback that ran unlocked (medium)', async () => {
  const r = await analyzeFixtures(['stale-after-relock/cursor-after-relock.c']);
  const found = ofRule(r, 'stale-after-relock');
  assert.equal(found.length, 1);
  const f = found[0];
  assert.equal(f.line, 33);
  assert.equal(f.confidence, 'medium');
  assert.equal(f.fingerprint, 'stale-after-relock:slot_table_quiesce:slot_table.current_slot,slot_table.slot_lock');
  assert.match(
    f.message,
    /^`cur` is read from `st->current_slot` under `slot_table\.slot_lock` \(line 27\); the lock is dropped at line 30 around `st->ops->quiesce\(\)` and retaken at line 32/,
  );
  assert.deepEqual(relatedLines(f), [27, 30, 31, 32, 33]);
});

test('stale-after-relock: v7-like helper uses the old IOAS pointer after the unlocked unmap with nothing claiming it', async () => {
  const r = await analyzeFixtures(['unrestored-state/v7-list-id.c']);
  const found = ofRule(r, 'stale-after-relock');
  assert.equal(found.length, 1);
  assert.equal(found[0].line, 21);
  assert.equal(found[0].confidence, 'medium');
  assert.deepEqual(relatedLines(found[0]), [7, 18, 19, 20, 21]);
});

test('stale-after-relock: quiet after a fresh lookup, a comparison with the source, or a reference taken before the drop', async () => {
  const r = await analyzeFixtures(['stale-after-relock/revalidated.c'], { minConfidence: 'low' });
  assert.deepEqual(ofRule(r, 'stale-after-relock'), []);
  assert.deepEqual(r.coverage.functions, { parsed: 3, partial: 0, skipped: 0 });
});

test('a configuration can make a driver helper irreversible and another fallible', async () => {
  const { analyzeSources } = await import('../../../src/engine/engine');
  const { sharedParser } = await import('./engine-fixtures');
  const text = [
    'int cfg_dev_swap(struct cfg_dev *cd, u32 slot)',
    '{',
    '\tint rc;',
    '',
    '\tcfg_dev_evict(cd);',
    '\trc = cfg_dev_claim(cd, slot);',
    '\tif (rc)',
    '\t\treturn rc;',
    '\treturn 0;',
    '}',
    '',
  ].join('\n');
  const files = [{ path: 'cfg.c', text }];
  const parser = await sharedParser();
  assert.deepEqual(analyzeSources(parser, files, { minConfidence: 'low' }).findings, []);
  const config = {
    functions: { cfg_dev_evict: { irreversible: 'evicts the cached slot' }, cfg_dev_claim: { fallible: true } },
  };
  const found = analyzeSources(parser, files, { config }).findings;
  assert.deepEqual(
    found.map((f) => `${f.ruleId}:${f.line}:${f.confidence}`),
    ['unmap-before-rollback:6:high'],
  );
  assert.equal(
    found[0].message,
    '`cfg_dev_evict()` evicts the cached slot (line 5) before `cfg_dev_claim()` can fail (line 6); the error path (line 8) returns an error but cannot undo it.',
  );
});

test("docs/knowledge.md's example configuration is valid and does what the text says", async () => {
  const { readFileSync } = await import('node:fs');
  const path = await import('node:path');
  const { parseConfig } = await import('../../../src/engine/knowledge/config');
  const { analyzeSources } = await import('../../../src/engine/engine');
  const { sharedParser } = await import('./engine-fixtures');
  const doc = readFileSync(path.resolve(__dirname, '../../../../docs/knowledge.md'), 'utf8');
  const json = /```json\n([\s\S]*?)```/.exec(doc)?.[1];
  assert.ok(json, 'the example block');
  const { config, problems } = parseConfig(json, 'docs/knowledge.md');
  assert.deepEqual(problems, []);
  const text = [
    'struct mydrv_state;',
    'struct mydrv_ops {',
    '\tvoid (*invalidate)(struct mydrv_state *st);',
    '};',
    'struct mydrv_state {',
    '\tstruct mutex cache_lock;',
    '\tconst struct mydrv_ops *ops;',
    '};',
    '',
    'int mydrv_reset(struct mydrv_state *st)',
    '{',
    '\tint rc;',
    '',
    '\tmydrv_flush_cache(st);',
    '\trc = mydrv_rebind(st);',
    '\tif (rc)',
    '\t\treturn rc;',
    '\tmutex_lock(&st->cache_lock);',
    '\tst->ops->invalidate(st);',
    '\tmutex_unlock(&st->cache_lock);',
    '\treturn 0;',
    '}',
    '',
  ].join('\n');
  const found = analyzeSources(await sharedParser(), [{ path: 'mydrv.c', text }], { config }).findings;
  assert.deepEqual(
    found.map((f) => `${f.ruleId}:${f.line}`),
    ['unmap-before-rollback:15', 'callback-under-lock:19'],
  );
  assert.match(
    found[0].message,
    /^`mydrv_flush_cache\(\)` drops every cached translation \(line 14\) before `mydrv_rebind\(\)` can fail \(line 15\)/,
  );
});

test('stale-after-relock: quiet for an unlinked item, a swapped-out pointer, a reassigned value, another lock instance', async () => {
  const r = await analyzeFixtures(['stale-after-relock/owned-or-replaced.c'], { minConfidence: 'low' });
  assert.deepEqual(relockHalf(r.findings), []);
  // `nxt = s->next` passed on after the unlock with nothing keeping it: only low.
  assert.deepEqual(
    ofRule(r, 'stale-after-relock').map((f) => `${f.function}:${f.line}:${f.confidence}`),
    ['evt_sink_walk:86:low'],
  );
  assert.deepEqual(r.coverage.functions, { parsed: 4, partial: 0, skipped: 0 });
});

test('stale-after-relock: the same code without the unlink or the swap is reported', async () => {
  const { fixtureSource, sharedParser } = await import('./engine-fixtures');
  const { analyzeSources } = await import('../../../src/engine/engine');
  const src = fixtureSource('stale-after-relock/owned-or-replaced.c');
  // Blank the protective lines, keeping line numbers.
  const text = src.text.replace('\t\tlist_del(&it->node);', '').replace('\trcu_assign_pointer(q->sink, fresh);', '');
  const r = analyzeSources(await sharedParser(), [{ path: src.path, text }], { minConfidence: 'low' });
  assert.deepEqual(
    relockHalf(r.findings).map((f) => `${f.function}:${f.line}:${f.confidence}`),
    ['evt_queue_drain:39:high', 'evt_queue_retire_sink:55:high'],
  );
});

test("unmap-before-rollback: v8's detach helper from knowledge when its body is not in view", async () => {
  const { analyzeSources } = await import('../../../src/engine/engine');
  const { sharedParser } = await import('./engine-fixtures');
  const text = [
    'static int acc_move(struct iommufd_access *a, struct iommufd_ioas *dst)',
    '{',
    '\tstruct iommufd_ioas *src = a->ioas;',
    '\tint ret;',
    '',
    '\tlockdep_assert_held(&a->ioas_lock);',
    '\t__iommufd_access_detach(a);',
    '\tret = iopt_add_access(&dst->iopt, a);',
    '\tif (ret) {',
    '\t\tWARN_ON(acc_move(a, src));',
    '\t\treturn ret;',
    '\t}',
    '\ta->ioas = dst;',
    '\treturn 0;',
    '}',
    '',
  ].join('\n');
  const found = analyzeSources(await sharedParser(), [{ path: 'move.c', text }]).findings;
  assert.deepEqual(
    found.map((f) => `${f.ruleId}:${f.line}:${f.confidence}`),
    ['unmap-before-rollback:8:high'],
  );
  assert.equal(
    found[0].message,
    "`__iommufd_access_detach()` unmaps the driver's pages and removes the access from its IOAS (line 7) before `iopt_add_access()` can fail (line 8); " +
      'the error path (line 10) calls `acc_move()` again to re-attach `src` but cannot give the driver its pins back.',
  );
  assert.deepEqual(relatedLines(found[0]), [7, 8, 10, 10, 11]);
});

test('unmap-before-rollback follows an edit of the callee in another file (incremental engine)', async () => {
  const { Engine } = await import('../../../src/engine/engine');
  const { sharedParser } = await import('./engine-fixtures');
  const caller = [
    'int set_ioas(struct iommufd_access *acc, struct iommufd_ioas *n)',
    '{',
    '\tint ret;',
    '',
    '\thelper_detach(acc);',
    '\tret = iopt_add_access(&n->iopt, acc);',
    '\tif (ret)',
    '\t\treturn ret;',
    '\treturn 0;',
    '}',
    '',
  ].join('\n');
  const detaching = [
    'void helper_detach(struct iommufd_access *acc)',
    '{',
    '\tstruct iommufd_ioas *old = acc->ioas;',
    '',
    '\tacc->ioas = NULL;',
    '\tiopt_remove_access(&old->iopt, acc, acc->iopt_access_list_id);',
    '}',
    '',
  ].join('\n');
  const harmless = detaching.replace(
    '\tiopt_remove_access(&old->iopt, acc, acc->iopt_access_list_id);',
    '\tpr_debug("%p\\n", old);',
  );
  const engine = new Engine({ parser: await sharedParser() });
  try {
    engine.setFile('a.c', caller);
    engine.setFile('b.c', detaching);
    const first = engine.analyze().findings;
    assert.deepEqual(
      first.map((f) => `${f.file}:${f.line}:${f.ruleId}`),
      ['a.c:6:unmap-before-rollback'],
    );
    assert.deepEqual(
      first[0].related.map((r) => `${r.file}:${r.line}`),
      ['a.c:5', 'b.c:6', 'a.c:6', 'a.c:8'],
    );
    engine.setFile('b.c', harmless);
    assert.deepEqual(engine.analyze().findings, []);
    engine.setFile('b.c', detaching);
    assert.deepEqual(
      engine.analyze().findings.map((f) => `${f.file}:${f.line}:${f.ruleId}`),
      ['a.c:6:unmap-before-rollback'],
    );
  } finally {
    engine.dispose();
  }
});

test('stale-after-relock: a claim made with WRITE_ONCE() or smp_store_release() before the drop keeps it quiet; no claim is reported', async () => {
  const r = await analyzeFixtures(['stale-after-relock/claimed-with-write-once.c'], { minConfidence: 'low' });
  const found = relockHalf(r.findings);
  // chan_table_retire (WRITE_ONCE at line 32) and chan_table_retire_release (line 50) claim the entry: only the unclaimed one remains.
  assert.deepEqual(
    found.map((f) => [f.function, f.line, f.confidence]),
    [['chan_table_poke', 74, 'high']],
  );
  assert.deepEqual(relatedLines(found[0]), [66, 71, 72, 73, 74]);
  // For the unlock half a flag claims nothing: the entry handed to `quiesce()` unlocked is low
  // in the two claiming functions (in chan_table_poke that use is part of the relock finding).
  assert.deepEqual(
    r.findings.filter((f) => !found.includes(f)).map((f) => [f.ruleId, f.function, f.line, f.confidence]),
    [
      ['stale-after-relock', 'chan_table_retire', 34, 'low'],
      ['stale-after-relock', 'chan_table_retire_release', 52, 'low'],
    ],
  );
});

/** A pointer found under the lock, then replaced by another local while the lock is dropped. */
const SWAPPED_FOR_LOCAL = `// SPDX-License-Identifier: MIT
struct chan_entry {
	unsigned int busy;
};

struct chan_ops {
	void (*quiesce)(struct chan_entry *ent);
};

struct chan_table {
	struct mutex tbl_lock;
	struct xarray entries;
	const struct chan_ops *ops;
};

int chan_table_swap(struct chan_table *tbl, unsigned long id, struct chan_entry *spare)
{
	struct chan_entry *ent;

	mutex_lock(&tbl->tbl_lock);
	ent = xa_load(&tbl->entries, id);
	mutex_unlock(&tbl->tbl_lock);
	tbl->ops->quiesce(ent);
	ent = spare;
	mutex_lock(&tbl->tbl_lock);
	ent->busy = 0;
	mutex_unlock(&tbl->tbl_lock);
	return 0;
}
`;

test('stale-after-relock: a local reassigned from another local (`ent = spare`) while the lock is dropped is not the stale value', async () => {
  const quiet = await analyze({ 'swap.c': SWAPPED_FOR_LOCAL }, 'low');
  assert.deepEqual(relockHalf(quiet.findings), []);
  // `quiesce(ent)` in the unlocked window is the unlock half's (low: a lookup with nothing in view freeing entries).
  assert.deepEqual(
    quiet.findings.map((f) => [f.function, f.line, f.confidence]),
    [['chan_table_swap', 23, 'low']],
  );
  // Without the copy the same code is reported at the use (line 25): the copy is what keeps it quiet.
  const loud = await analyze({ 'swap.c': SWAPPED_FOR_LOCAL.replace('\tent = spare;\n', '') }, 'low');
  assert.deepEqual(
    relockHalf(loud.findings).map((f) => [f.ruleId, f.function, f.line]),
    [['stale-after-relock', 'chan_table_swap', 25]],
  );
});

/** Our own ring consumer: events taken off a queue under the ring's lock, handed up with it dropped. */
const RING_CONSUMER = `struct ring_evt {
	int code;
};

struct ring_dev {
	spinlock_t lock;
	bool live;
	struct ring_queue *q;
};

static void ring_drain(struct ring_dev *rd)
{
	struct ring_evt *evt;

	spin_lock(&rd->lock);
	while ((evt = ring_queue_pop(rd->q)) != NULL) {
		spin_unlock(&rd->lock);
		ring_report(evt->code);
		spin_lock(&rd->lock);
		if (!rd->live)
			continue;
		ring_queue_push(rd->q, evt);
	}
	spin_unlock(&rd->lock);
}
`;

test("stale-after-relock: a check of the lock's own object under the retaken lock (`if (!rd->live) continue;`) revalidates", async () => {
  const quiet = await analyze({ 'ring.c': RING_CONSUMER }, 'low');
  assert.deepEqual(relockHalf(quiet.findings), []);
  // Without the check the same code is reported at the use after the retake.
  const unchecked = RING_CONSUMER.replace('\t\tif (!rd->live)\n\t\t\tcontinue;\n', '');
  const loud = await analyze({ 'ring.c': unchecked }, 'low');
  assert.deepEqual(
    relockHalf(loud.findings).map((f) => [f.ruleId, f.function, f.line]),
    [['stale-after-relock', 'ring_drain', lineOf(unchecked, 'ring_queue_push(rd->q, evt)')]],
  );
});

test('unrestored-state: a local overwritten before the failing step was an input, not a backup of the field', async () => {
  const { fixtureSource, sharedParser } = await import('./engine-fixtures');
  const { analyzeSources } = await import('../../../src/engine/engine');
  const src = fixtureSource('unrestored-state/swap-left-half-done.c');
  // `prev` given another value before xa_insert(): nothing holds the old table any more,
  // so the function cannot have meant to put it back (the unmodified fixture is reported, above).
  const text = src.text.replace('\tfd->active = next;\n', '\tfd->active = next;\n\tprev = fw_table_spare(fd);\n');
  assert.notEqual(text, src.text);
  const r = analyzeSources(await sharedParser(), [{ path: src.path, text }], { minConfidence: 'low' });
  assert.deepEqual(ofRule(r, 'unrestored-state'), []);
});

/** Our own deferred-work list: producers add jobs under the lock, one worker drains them. */
const JOB_DRAIN = `struct job {
	struct list_head node;
	int op;
};

struct job_queue {
	spinlock_t lock;
	struct list_head pending;
};

void job_queue_add(struct job_queue *q, struct job *j)
{
	spin_lock(&q->lock);
	list_add_tail(&j->node, &q->pending);
	spin_unlock(&q->lock);
}

static void job_queue_work(struct job_queue *q)
{
	struct job *j;

	spin_lock(&q->lock);
	while (!list_empty(&q->pending)) {
		j = list_first_entry(&q->pending, struct job, node);
		spin_unlock(&q->lock);
		job_prepare(j->op);
		spin_lock(&q->lock);
		list_del_init(&j->node);
		spin_unlock(&q->lock);
		job_run(j);
		spin_lock(&q->lock);
	}
	spin_unlock(&q->lock);
}
`;

test('stale-after-relock: an entry drained by the only function in view that takes entries off its list is not stale', async () => {
  const quiet = await analyze({ 'jobs.c': JOB_DRAIN }, 'low');
  assert.deepEqual(
    quiet.findings.filter((f) => f.ruleId === 'stale-after-relock'),
    [],
  );
  // Another function that also takes jobs off the list (and may free them): the entry can go stale.
  const cancel = `${JOB_DRAIN}
void job_queue_cancel(struct job_queue *q, struct job *j)
{
	spin_lock(&q->lock);
	list_del(&j->node);
	spin_unlock(&q->lock);
	kfree(j);
}
`;
  const loud = await analyze({ 'jobs.c': cancel }, 'low');
  assert.deepEqual(
    relockHalf(loud.findings).map((f) => [f.function, f.line]),
    [['job_queue_work', lineOf(cancel, 'list_del_init(&j->node);')]],
  );
});

test("unrestored-state: an mmap handler filling in the core's new VMA and then failing leaves nothing behind; the same on another object is reported", async () => {
  // The page offset carries a block id: read it, clear it, then a step that can fail.
  const src = `// SPDX-License-Identifier: MIT
struct blk_map {
	u32 block;
	unsigned long pgoff;
};

int blk_dev_mmap(struct blk_dev *bd, struct vm_area_struct *vma)
{
	struct blk_map *map;
	u32 block;

	block = vma->vm_pgoff;
	vma->vm_pgoff = 0;
	map = kzalloc(sizeof(*map), GFP_KERNEL);
	if (!map)
		return -ENOMEM;
	map->block = block;
	return blk_dev_remap(bd, vma, map, block);
}
`;
  const quiet = await analyze({ 'blk.c': src }, 'low');
  assert.deepEqual(ofRule(quiet, 'unrestored-state'), []);
  // Not an mmap handler: the VMA is a live mapping, and its offset stays cleared.
  const live = src.replace('int blk_dev_mmap(', 'int blk_dev_rebind(');
  const loud = ofRule(await analyze({ 'blk.c': live }, 'low'), 'unrestored-state');
  assert.deepEqual(
    loud.map((f) => [f.function, f.line, f.message]),
    [
      [
        'blk_dev_rebind',
        lineOf(live, 'vma->vm_pgoff = 0;'),
        `\`vma->vm_pgoff\` is set to \`0\` (line ${lineOf(live, 'vma->vm_pgoff = 0;')}) before \`kzalloc()\` can fail (line ${lineOf(live, 'map = kzalloc')}); ` +
          `the error path returns at line ${lineOf(live, 'return -ENOMEM;')} without restoring it, so it stays \`0\`.`,
      ],
    ],
  );
});

test("stale-after-relock: a slot a helper in view took off the free list and handed back is this thread's; one only looked at is stale", async () => {
  // Our own transmit-slot pool: the helper unlinks the first free slot and returns it.
  const src = `// SPDX-License-Identifier: MIT
struct tx_slot {
	struct list_head node;
	void *buf;
	int len;
};

struct tx_chan {
	spinlock_t lock;
	struct list_head free;
	unsigned int tag;
};

static struct tx_slot *tx_take_slot(struct tx_chan *ch)
{
	struct tx_slot *slot;

	if (list_empty(&ch->free))
		return NULL;
	slot = list_first_entry(&ch->free, struct tx_slot, node);
	list_del(&slot->node);
	return slot;
}

int tx_send_reset(struct tx_chan *ch)
{
	struct tx_slot *slot;

	spin_lock_irq(&ch->lock);
	slot = tx_take_slot(ch);
	spin_unlock_irq(&ch->lock);
	if (!slot)
		return -EBUSY;
	tx_fill_reset(slot->buf);
	spin_lock_irq(&ch->lock);
	ch->tag++;
	spin_unlock_irq(&ch->lock);
	slot->len = 16;
	return tx_post(ch, slot);
}
`;
  const quiet = await analyze({ 'tx.c': src }, 'low');
  assert.deepEqual(ofRule(quiet, 'stale-after-relock'), []);
  // The helper leaves the slot on the free list: another thread can take it while the lock is dropped.
  const peek = src.replace('\tlist_del(&slot->node);\n', '');
  assert.notEqual(peek, src);
  const loud = ofRule(await analyze({ 'tx.c': peek }, 'low'), 'stale-after-relock');
  assert.deepEqual(
    loud.map((f) => [f.function, f.line]),
    [['tx_send_reset', lineOf(peek, 'slot->len = 16;')]],
  );
});

test('unrestored-state: a list cursor (`cur = cur->next`) is where a walk starts, not a backup of the head it moves; one node moved with the head kept aside is reported', async () => {
  // Our own list move: each node goes from one list to the other, and a mirror node is made for it.
  const src = `// SPDX-License-Identifier: MIT
struct res_node {
	struct res_node *next;
	int from_mem;
};

struct res_bus {
	struct res_node *first;
	struct res_node *first_moved;
};

int res_bus_move_all(struct res_bus *bus)
{
	struct res_node *cur;
	struct res_node *mirror;

	for (cur = bus->first; cur; cur = cur->next) {
		cur->from_mem = 1;
		bus->first = cur->next;
		bus->first_moved = cur;
		mirror = kzalloc(sizeof(*mirror), GFP_KERNEL);
		if (!mirror)
			return -ENOMEM;
		res_add(mirror);
	}
	return 0;
}
`;
  assert.deepEqual(ofRule(await analyze({ 'res.c': src }, 'low'), 'unrestored-state'), []);
  // One node moved, the old head kept in a local the function hands on: reported.
  const one = src.replace(
    '\tfor (cur = bus->first; cur; cur = cur->next) {\n\t\tcur->from_mem = 1;\n\t\tbus->first = cur->next;\n\t\tbus->first_moved = cur;\n\t\tmirror = kzalloc(sizeof(*mirror), GFP_KERNEL);\n\t\tif (!mirror)\n\t\t\treturn -ENOMEM;\n\t\tres_add(mirror);\n\t}\n',
    '\tcur = bus->first;\n\tcur->from_mem = 1;\n\tbus->first = cur->next;\n\tbus->first_moved = cur;\n\tmirror = kzalloc(sizeof(*mirror), GFP_KERNEL);\n\tif (!mirror)\n\t\treturn -ENOMEM;\n\tres_add(mirror);\n',
  );
  assert.notEqual(one, src);
  const loud = ofRule(await analyze({ 'res.c': one }, 'low'), 'unrestored-state');
  assert.deepEqual(
    loud.map((f) => [f.function, f.line, f.confidence]),
    [['res_bus_move_all', lineOf(one, 'bus->first = cur->next;'), 'medium']],
  );
});
