/**
 * The real thing: `check` (the bundle) over Linux 6.12's iommufd, vfio and the
 * emulated-device drivers. It must finish, report coverage, find the
 * documented lock order, report exactly the triaged lock-order cycles, give the same answer on
 * both parser backends, and every finding must be triaged in the README.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { before, test } from 'node:test';
import type { JsonReport } from '../../src/report/json';
import type { CliRun } from '../unit/cli/run-cli';
import { checkJson, checkPaths, kernelDir, readmeSection } from './kernel-corpus';

const DOCUMENTED_EDGES: [string, string][] = [
  ['iommufd_access.ioas_lock', 'io_pagetable.domains_rwsem'],
  ['io_pagetable.domains_rwsem', 'io_pagetable.iova_rwsem'],
  ['io_pagetable.iova_rwsem', 'iopt_pages.mutex'],
  ['iommufd_access.ioas_lock', 'io_pagetable.iova_rwsem'],
];

const runs: Record<'wasm' | 'native', { run: CliRun; report: JsonReport }> = {} as never;

before(() => {
  const kernel = kernelDir();
  const args = checkPaths(kernel).map((p) => path.relative(kernel, p));
  for (const backend of ['wasm', 'native'] as const) {
    const { run, report } = checkJson(backend, ['--backend', backend, ...args], kernel, 180_000);
    runs[backend] = { run, report };
  }
});

test('finishes without an exception, exit 0 or 1', () => {
  for (const [backend, { run }] of Object.entries(runs)) {
    assert.equal(run.signal, null, backend);
    assert.ok(run.status === 0 || run.status === 1, `${backend}: exit ${run.status}\n${run.stderr}`);
    assert.equal(run.stderr, '', backend);
  }
});

test('reports coverage for every file and function', () => {
  const { coverage } = runs.wasm.report;
  assert.ok(coverage.files >= 50, `only ${coverage.files} files`);
  const { parsed, partial, skipped } = coverage.functions;
  assert.equal(parsed + partial + skipped, coverage.entries.length);
  assert.ok(parsed > 1000, `only ${parsed} functions parsed`);
  // Most of the corpus must really be understood, not merely listed.
  assert.ok(parsed / (parsed + partial + skipped) > 0.9, JSON.stringify(coverage.functions));
  for (const file of [
    'drivers/iommu/iommufd/device.c',
    'drivers/iommu/iommufd/pages.c',
    'drivers/vfio/vfio_main.c',
    'drivers/s390/crypto/vfio_ap_ops.c',
  ]) {
    assert.ok(
      coverage.entries.some((e) => e.file === file),
      `${file} missing from coverage`,
    );
  }
  assert.ok(
    coverage.entries.some(
      (e) =>
        e.file === 'drivers/iommu/iommufd/device.c' &&
        e.function === 'iommufd_access_change_ioas' &&
        e.status === 'parsed',
    ),
  );
});

test('the lock graph has the documented iommufd order, with sites', () => {
  const edges = runs.wasm.report.lockGraph.edges;
  for (const [from, to] of DOCUMENTED_EDGES) {
    const edge = edges.find((e) => e.from === from && e.to === to);
    assert.ok(edge, `missing ${from} -> ${to}`);
    assert.ok(edge.sites.length > 0, `${from} -> ${to} has no site`);
    for (const s of edge.sites) assert.ok(s.line >= 1 && s.file.length > 0);
  }
});

test('the lock-order cycles on the kernel as released are exactly the triaged ones, each edge with its site', () => {
  const lockOrder = runs.wasm.report.findings.filter((f) => f.ruleId === 'lock-order');
  // Triaged cycles: README rows naming a `file:line` lock-order finding.
  const triaged = [...readmeSection('## Findings on Linux 6.12').matchAll(/`([^`\s]+:\d+)` lock-order/g)]
    .map((m) => m[1])
    .sort();
  assert.deepEqual(lockOrder.map((f) => `${f.file}:${f.line}`).sort(), triaged);
  const type1 = lockOrder.find((f) => f.function === 'vfio_notify_dma_unmap');
  assert.ok(type1, 'the vfio type1 inversion through ->dma_unmap() is reported');
  assert.equal(type1.fingerprint, 'lock-order:vfio_notify_dma_unmap:vfio_iommu.device_list_lock,vfio_iommu.lock');
  // Every edge's sites: both acquisitions in vfio_notify_dma_unmap(), the driver's
  // implementation, the container's second ops hop, and the unpin that takes iommu->lock.
  const sites = type1.related.map((r) => `${r.file}:${r.line}`);
  for (const site of [
    'drivers/vfio/vfio_iommu_type1.c:1260',
    'drivers/vfio/vfio_iommu_type1.c:1246',
    'drivers/vfio/container.c:556',
    'drivers/vfio/vfio_iommu_type1.c:918',
  ]) {
    assert.ok(sites.includes(site), `${site} missing from ${sites.join(' ')}`);
  }
  assert.match(
    type1.message,
    /`vfio_iommu\.device_list_lock` → `vfio_iommu\.lock` here, in `vfio_notify_dma_unmap\(\)` \(line 1264, through `\w+_dma_unmap\(\)` → `vfio_iommu_type1_unpin_pages\(\)`\)/,
  );
  assert.match(
    type1.message,
    /Two threads: one in `vfio_notify_dma_unmap\(\)` holds `vfio_iommu\.device_list_lock` and waits for `vfio_iommu\.lock` inside `vfio_device_ops\.dma_unmap`/,
  );
});

test('wasm and native backends give identical findings, lock graphs and coverage', () => {
  const w = runs.wasm.report;
  const n = runs.native.report;
  assert.deepEqual(n.findings, w.findings);
  assert.deepEqual(n.lockGraph, w.lockGraph);
  assert.deepEqual(n.coverage, w.coverage);
});

test('every finding on Linux 6.12 is triaged in README.md', () => {
  const section = readmeSection('## Findings on Linux 6.12');
  const missing = runs.wasm.report.findings
    .map((f) => `\`${f.file}:${f.line}\` ${f.ruleId}`)
    .filter((key) => !section.includes(key));
  assert.deepEqual(missing, []);
});
