/**
 * The lock rules (lock-order, callback-under-lock, lock-leak, assert-held),
 * the must-show cases of the engine issue across every rule, and bad input,
 * on kernel-style fixtures through the whole engine.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { analyzeFixtures, ofRule, relatedLines } from './engine-fixtures';

test('merged-like helper: nothing at all, from any rule, even at low confidence', async () => {
  const r = await analyzeFixtures(['clean/merged-change.c'], { minConfidence: 'low' });
  assert.deepEqual(
    r.findings.map((f) => `${f.ruleId}:${f.line}: ${f.message}`),
    [],
  );
});

test('v8-like helper: unmap-before-rollback and nothing else', async () => {
  const r = await analyzeFixtures(['unmap-before-rollback/v8-detach-first.c']);
  assert.deepEqual(
    r.findings.map((f) => `${f.ruleId}:${f.line}`),
    ['unmap-before-rollback:33'],
  );
});

test('callback-under-lock: ops->unmap with ioas_lock held, plainly and inside scoped_guard', async () => {
  const r = await analyzeFixtures(['callback-under-lock/unmap-under-ioas-lock.c']);
  const found = ofRule(r, 'callback-under-lock');
  assert.deepEqual(
    found.map((f) => `${f.function}:${f.line}`),
    ['acc_flush_all:9', 'acc_flush_range:22'],
  );
  assert.equal(
    found[0].message,
    '`access->ops->unmap()` is called in `acc_flush_all()` (line 9) with `iommufd_access.ioas_lock` held (taken at line 7); ' +
      'its implementations (per the knowledge of `iommufd_access_ops.unmap`) take `iommufd_access.ioas_lock` again: self-deadlock.',
  );
  assert.deepEqual(relatedLines(found[0]), [7, 9]);
  assert.match(found[1].message, /with `iommufd_access\.ioas_lock` held \(taken at line 19\)/);
  assert.deepEqual(relatedLines(found[1]), [19, 22]);
  assert.equal(r.findings.length, 2);
});

test('callback-under-lock: a driver ops table whose implementation in view takes the held lock', async () => {
  const r = await analyzeFixtures(['callback-under-lock/driver-ops-in-view.c']);
  const found = ofRule(r, 'callback-under-lock');
  assert.equal(found.length, 1, 'the stats callback under stat_lock and the unlocked unmap are fine');
  const f = found[0];
  assert.equal(f.function, 'gvt_shadow_invalidate');
  assert.equal(f.line, 41);
  assert.equal(f.confidence, 'high');
  assert.equal(
    f.message,
    '`gs->ops->unmap()` is called in `gvt_shadow_invalidate()` (line 41) with `gvt_shadow.cache_lock` held (taken at line 39); ' +
      '`gvt_shadow_unmap()` takes `gvt_shadow.cache_lock` again: self-deadlock.',
  );
  // the held lock, the implementation (context), then the witness: the callback call, the lock taken again inside
  assert.deepEqual(relatedLines(f), [39, 33, 41, 22]);
  assert.deepEqual(
    f.related.map((x) => x.role ?? '-'),
    ['acquire', '-', 'callback', 'acquire'],
  );
});

test('callback-under-lock: quiet when the lock is dropped around the callback', async () => {
  const r = await analyzeFixtures(['callback-under-lock/unlocked-around-unmap.c'], { minConfidence: 'low' });
  assert.deepEqual(r.findings, []);
});

test('lock-order: ABBA through a helper call is one finding with both edges and their sites', async () => {
  const r = await analyzeFixtures(['lock-order/abba-through-helper.c']);
  const found = ofRule(r, 'lock-order');
  assert.equal(found.length, 1);
  const f = found[0];
  assert.equal(f.line, 27);
  assert.equal(f.confidence, 'high');
  assert.equal(
    f.message,
    '`nic_port.cfg_lock` → `nic_port.map_rwsem` here, in `nic_port_set_mtu()` (line 27, through `nic_port_count_maps()`), ' +
      'but `nic_port.map_rwsem` → `nic_port.cfg_lock` in `nic_port_add_map()` (line 39): possible ABBA deadlock.',
  );
  // Both acquisition sites of each edge, and the acquisition inside the helper.
  assert.deepEqual(relatedLines(f), [26, 27, 16, 37, 39]);
  const edges = r.lockGraph.edges.map((e) => `${e.from}>${e.to}`).sort();
  assert.deepEqual(edges, ['nic_port.cfg_lock>nic_port.map_rwsem', 'nic_port.map_rwsem>nic_port.cfg_lock']);
});

test('lock-order: consistent order, _nested same-class nesting and a reverse trylock give nothing', async () => {
  const r = await analyzeFixtures(['lock-order/consistent-order.c'], { minConfidence: 'low' });
  assert.deepEqual(
    r.findings.map((f) => `${f.ruleId}:${f.line}`),
    [],
  );
});

test('lock-leak: a missing unlock on an early return', async () => {
  const r = await analyzeFixtures(['lock-leak/early-return.c']);
  const found = ofRule(r, 'lock-leak');
  assert.equal(found.length, 1);
  const f = found[0];
  assert.equal(f.line, 15);
  assert.equal(f.confidence, 'high');
  assert.equal(
    f.message,
    '`dma_window_resize()` returns `-EINVAL` at line 15 with `dma_window.win_lock` still held (taken at line 13), but its return at line 22 releases it: missing unlock on this path.',
  );
  assert.deepEqual(relatedLines(f), [13, 22]);
});

test('lock-leak: goto unwinding, guard(), scoped_guard() and a failed trylock give nothing', async () => {
  const r = await analyzeFixtures(['lock-leak/balanced.c'], { minConfidence: 'low' });
  assert.deepEqual(
    r.findings.map((f) => `${f.ruleId}:${f.line}`),
    [],
  );
});

test('assert-held: a helper asserting its lock, called without it: confident when the caller takes it on another path, low when it never does', async () => {
  const r = await analyzeFixtures(['assert-held/caller-without-lock.c'], { minConfidence: 'low' });
  const found = ofRule(r, 'assert-held');
  // The locked caller (line 19) and the asserting caller (line 34) are fine, so is the locked call at line 45.
  assert.deepEqual(
    found.map((f) => `${f.function}:${f.line}:${f.confidence}`),
    ['mbox_chan_kick:27:low', 'mbox_chan_retry:41:high'],
  );
  assert.equal(
    found[1].message,
    '`mbox_chan_retry()` calls `mbox_chan_queue()` at line 41 without holding `mbox_chan.tx_lock`, which `mbox_chan_queue()` requires held (it asserts it at line 12).',
  );
  assert.deepEqual(relatedLines(found[1]), [12]);
  // At the default confidence only the confident one is shown.
  const shown = ofRule(await analyzeFixtures(['assert-held/caller-without-lock.c']), 'assert-held');
  assert.deepEqual(
    shown.map((f) => `${f.function}:${f.line}`),
    ['mbox_chan_retry:41'],
  );
});

test('bad input: an empty file is counted and gives nothing', async () => {
  const r = await analyzeFixtures(['bad-input/empty.c']);
  assert.equal(r.coverage.files, 1);
  assert.deepEqual(r.coverage.functions, { parsed: 0, partial: 0, skipped: 0 });
  assert.deepEqual(r.findings, []);
});

test('bad input: macro soup is a partial function with a reason, not a crash', async () => {
  const r = await analyzeFixtures(['bad-input/macro-soup.c'], { minConfidence: 'low' });
  assert.deepEqual(
    r.coverage.entries.map((e) => `${e.function}:${e.line}:${e.status}`),
    ['soup_stir:10:partial'],
  );
  assert.match(r.coverage.entries[0].reason ?? '', /line 16/);
  assert.deepEqual(r.findings, []);
});

test('bad input: unbalanced braces leave both functions in the coverage, the swallowing one partial', async () => {
  const r = await analyzeFixtures(['bad-input/unbalanced-braces.c']);
  const byName = new Map(r.coverage.entries.map((e) => [e.function, e]));
  assert.equal(byName.get('cut_dev_half')?.status, 'partial');
  assert.ok(byName.has('cut_dev_whole'), 'the function swallowed by the unclosed body is still listed');
  // Exactly: the swallowed one is skipped at its own head line, with the line in the reason.
  assert.equal(byName.get('cut_dev_half')?.line, 10);
  assert.equal(byName.get('cut_dev_whole')?.status, 'skipped');
  assert.equal(byName.get('cut_dev_whole')?.line, 18);
  assert.match(byName.get('cut_dev_whole')?.reason ?? '', /before line 18/);
  assert.deepEqual(r.coverage.functions, { parsed: 0, partial: 1, skipped: 1 });
  assert.deepEqual(r.findings, [], 'nothing at the default confidence from a body the parser could not close');
});
