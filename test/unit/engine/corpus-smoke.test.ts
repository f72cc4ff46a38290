/**
 * The engine itself (no CLI) over Linux 6.12's iommufd, vfio and the emulated
 * device drivers: the model must hold up on real kernel C. The kernel tree is
 * only read here, never copied into the project.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { before, test } from 'node:test';
import { analyzeSources } from '../../../src/engine/engine';
import type { AnalysisResult, SourceFile } from '../../../src/engine/types';
import { checkPaths, kernelDir } from '../../corpus/kernel-corpus';
import { wasmParser } from './engine-helpers';

function walk(p: string): string[] {
  if (statSync(p).isFile()) return [p];
  return readdirSync(p)
    .sort()
    .flatMap((n) => walk(path.join(p, n)))
    .filter((f) => /\.[ch]$/.test(f));
}

let result: AnalysisResult;
let lowResult: AnalysisResult;
let files: SourceFile[];

before(async () => {
  const kernel = kernelDir();
  files = checkPaths(kernel)
    .flatMap(walk)
    .map((f) => ({ path: path.relative(kernel, f), text: readFileSync(f, 'utf8') }));
  const parser = await wasmParser();
  result = analyzeSources(parser, files);
  lowResult = analyzeSources(parser, files, { minConfidence: 'low' });
});

test('real corpus: every file is analysed, with coverage and no engine problem', () => {
  assert.ok(files.length > 100, `${files.length} files`);
  assert.equal(result.coverage.files, files.length);
  assert.deepEqual(result.coverage.problems, []);
  const { parsed, partial, skipped } = result.coverage.functions;
  assert.ok(parsed > 2000, `parsed ${parsed}`);
  // Nearly everything is modelled whole; what is not says why.
  assert.ok(partial + skipped < parsed / 100, `partial ${partial}, skipped ${skipped}`);
  for (const e of result.coverage.entries) if (e.status !== 'parsed') assert.match(e.reason ?? '', /\S/);
});

test('real corpus: the documented iommufd order is in the lock graph, with sites', () => {
  const has = (from: string, to: string) => result.lockGraph.edges.find((e) => e.from === from && e.to === to);
  for (const [from, to] of [
    ['iommufd_access.ioas_lock', 'io_pagetable.domains_rwsem'],
    ['io_pagetable.domains_rwsem', 'io_pagetable.iova_rwsem'],
    ['io_pagetable.iova_rwsem', 'iopt_pages.mutex'],
    ['iommufd_access.ioas_lock', 'io_pagetable.iova_rwsem'],
  ]) {
    const e = has(from, to);
    assert.ok(e, `${from} -> ${to}`);
    assert.ok(e.sites.length > 0 && e.sites.every((s) => s.line > 0 && files.some((f) => f.path === s.file)));
  }
  // Nothing inverts it.
  assert.equal(has('io_pagetable.iova_rwsem', 'iommufd_access.ioas_lock'), undefined);
  assert.equal(has('iopt_pages.mutex', 'io_pagetable.iova_rwsem'), undefined);
  assert.equal(has('io_pagetable.iova_rwsem', 'io_pagetable.domains_rwsem'), undefined);
});

test("real corpus: the one lock-order cycle at any confidence is vfio type1's, through the drivers' dma_unmap; the other core rules stay quiet at the default", () => {
  // device_list_lock is held across each driver's ->dma_unmap(), whose unpin path takes
  // iommu->lock (container ->unpin_pages() = vfio_iommu_type1_unpin_pages()); the
  // same function takes device_list_lock under iommu->lock.
  assert.deepEqual(
    lowResult.findings
      .filter((f) => f.ruleId === 'lock-order')
      .map((f) => [f.file, f.line, f.function, f.confidence, f.fingerprint]),
    [
      [
        'drivers/vfio/vfio_iommu_type1.c',
        1264,
        'vfio_notify_dma_unmap',
        'medium',
        'lock-order:vfio_notify_dma_unmap:vfio_iommu.device_list_lock,vfio_iommu.lock',
      ],
    ],
  );
  const core = new Set(['lock-order', 'callback-under-lock', 'lock-leak', 'assert-held']);
  assert.deepEqual(
    result.findings
      .filter((f) => core.has(f.ruleId) && f.ruleId !== 'lock-order')
      .map((f) => `${f.file}:${f.line} [${f.ruleId}] ${f.message}`),
    [],
  );
  // Every finding at any confidence is complete.
  for (const f of lowResult.findings) {
    assert.ok(
      f.message.length > 0 && f.line > 0 && f.column > 0 && f.function && f.fingerprint.startsWith(`${f.ruleId}:`),
    );
    // a simulation: a replace flow with its threads, the lock model of the witness (which has steps), or none with a reason
    const s = f.scenario;
    assert.ok(
      s.variant === 'none'
        ? !!s.reason
        : s.variant === 'lock-model'
          ? f.related.some((r) => r.role)
          : s.threads.length > 0,
      `${f.fingerprint}: ${JSON.stringify(s)}`,
    );
  }
});
