/**
 * The whole tree as context (issue 14, part 4) on Linux 6.12: `check --tree`
 * over the corpus brings in the vfio headers' layouts and every caller and
 * callback dispatcher in it. The assert-held findings README triaged as "a
 * caller holds it" must then be gone, and what stays below the default must
 * be only the cases the tree cannot settle (a condition on the assertion, a
 * caller chain deeper than the walk).
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { before, test } from 'node:test';
import type { JsonReport } from '../../src/report/json';
import { checkJson, checkPaths, kernelDir, readmeSection } from './kernel-corpus';

let withTree: JsonReport;
let without: JsonReport;

before(() => {
  const kernel = kernelDir();
  const args = checkPaths(kernel).map((p) => path.relative(kernel, p));
  without = checkJson('without the tree', ['-c', 'low', '--no-index', ...args], kernel, 300_000).report;
  withTree = checkJson('with the tree', ['-c', 'low', '--no-index', '--tree', '.', ...args], kernel, 300_000).report;
});

const assertHeld = (r: JsonReport): string[] =>
  r.findings
    .filter((f) => f.ruleId === 'assert-held')
    .map((f) => `${f.file}:${f.line} ${f.function}`)
    .sort();

test('the tree resolves the member chain and the dispatchers that hold the lock: those assert-held findings are gone', () => {
  const before = assertHeld(without);
  const after = assertHeld(withTree);
  // Gone with the tree: `device->group->group_lock` resolves through
  // `struct vfio_device` (its `group` member sits under `#if`), so the group
  // open path holds `group_lock`; `->close_device()` runs under `dev_set->lock`
  // in vfio core; the bus walk's callback under the walker's caller's lock.
  const resolvedByTree = [
    'drivers/vfio/group.c:173 vfio_df_group_open',
    'drivers/vfio/pci/vfio_pci_core.c:2557 vfio_pci_dev_set_needs_reset',
    'drivers/vfio/pci/vfio_pci_core.c:2581 vfio_pci_dev_set_try_reset',
    'drivers/vfio/pci/vfio_pci_core.c:839 vfio_pci_fill_devs',
    'drivers/vfio/vfio_main.c:525 vfio_df_device_first_open',
    'drivers/vfio/vfio_main.c:540 vfio_df_device_first_open',
    'drivers/vfio/vfio_main.c:558 vfio_df_device_last_close',
  ];
  for (const f of resolvedByTree) assert.ok(before.includes(f), `without the tree, ${f} should still be there`);
  // Left below the default, each for a reason the tree does not change: the
  // assertion depends on the requested power state (D0 needs no lock), and the
  // GVT caller that holds vgpu_lock is more than four calls up.
  assert.deepEqual(after, [
    'drivers/gpu/drm/i915/gvt/scheduler.c:1757 intel_vgpu_create_workload',
    'drivers/vfio/pci/vfio_pci_core.c:2229 vfio_pci_core_register_device',
    'drivers/vfio/pci/vfio_pci_core.c:626 vfio_pci_core_disable',
  ]);
  // Findings are still reported only for the paths asked for.
  assert.deepEqual(withTree.coverage, without.coverage);
});

test('with the tree, every default-confidence finding is still a triaged one', () => {
  const section = readmeSection('## Findings on Linux 6.12');
  const untriaged = withTree.findings
    .filter((f) => f.confidence !== 'low')
    .map((f) => `\`${f.file}:${f.line}\` ${f.ruleId}`)
    .filter((key) => !section.includes(key));
  assert.deepEqual(untriaged, []);
});
