/**
 * Precision on kernel code the engine was not tuned on: `check` (the bundle)
 * at the default confidence over each tree of the precision corpus (all IOMMU
 * drivers, RDMA core, mm, KVM, s390 cio, vfio) from Debian's linux-source-6.12.
 * Every finding must be triaged in README.md's "Findings beyond iommufd"
 * (real or false, with the code's reasoning); no high-confidence finding may
 * be a false positive, and at most one in ten overall.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { before, test } from 'node:test';
import type { JsonReport } from '../../src/report/json';
import { checkJson, kernelDir, PRECISION_TREES, readmeSection } from './kernel-corpus';

interface TreeRun {
  tree: string;
  status: number | null;
  stderr: string;
  report: JsonReport;
}

const runs: TreeRun[] = [];

/** README rows: a `file:line` and rule, then the confidence, then the verdict in bold (real or false) and its reason. */
function triage(): Map<string, { confidence: string; verdict: 'real' | 'false' }> {
  const out = new Map<string, { confidence: string; verdict: 'real' | 'false' }>();
  const section = readmeSection('## Findings beyond iommufd');
  for (const m of section.matchAll(
    /^\| `([^`\s]+:\d+)` ([a-z-]+)[^|]*\| (high|medium|low) \| \*\*(real|false)\*\*/gm,
  )) {
    out.set(`${m[1]} ${m[2]}`, { confidence: m[3], verdict: m[4] as 'real' | 'false' });
  }
  return out;
}

before(() => {
  const kernel = kernelDir();
  for (const tree of PRECISION_TREES) {
    assert.ok(
      existsSync(path.join(kernel, tree)),
      `${tree} is not in ${kernel}: npm test unpacks it (scripts/ensure.mjs)`,
    );
    const { run, report } = checkJson(tree, [tree], kernel, 180_000);
    runs.push({ tree, status: run.status, stderr: run.stderr, report });
  }
});

test('every tree of the precision corpus is checked to the end, with coverage', () => {
  for (const r of runs) {
    assert.ok(r.status === 0 || r.status === 1, `${r.tree}: exit ${r.status}\n${r.stderr}`);
    assert.ok(r.report.coverage.files >= 10, `${r.tree}: ${r.report.coverage.files} files`);
    const { parsed, partial, skipped } = r.report.coverage.functions;
    assert.ok(parsed / (parsed + partial + skipped) > 0.9, `${r.tree}: ${JSON.stringify(r.report.coverage.functions)}`);
  }
});

test('every default-confidence finding is triaged in README.md, with the confidence it has', () => {
  const known = triage();
  const untriaged: string[] = [];
  for (const r of runs) {
    for (const f of r.report.findings) {
      const key = `${f.file}:${f.line} ${f.ruleId}`;
      const t = known.get(key);
      if (!t) untriaged.push(`${key} (${f.confidence}): ${f.message}`);
      else assert.equal(t.confidence, f.confidence, key);
    }
  }
  assert.deepEqual(untriaged, []);
});

test('no high-confidence false positive, and at most one false positive in ten findings', () => {
  const known = triage();
  const all = runs.flatMap((r) => r.report.findings);
  const falses = all.filter((f) => known.get(`${f.file}:${f.line} ${f.ruleId}`)?.verdict === 'false');
  assert.deepEqual(
    falses.filter((f) => f.confidence === 'high').map((f) => `${f.file}:${f.line} ${f.ruleId}`),
    [],
  );
  assert.ok(falses.length * 10 <= all.length, `${falses.length} false of ${all.length}`);
});

test('Intel VT-d: the intel_iommu.lock / dmar_domain.lock class inversion is kept; the parent/child s1_lock nesting is gone', () => {
  const iommu = runs.find((r) => r.tree === 'drivers/iommu')!.report;
  const lockOrder = iommu.findings.filter((f) => f.ruleId === 'lock-order');
  assert.deepEqual(
    lockOrder.map((f) => [f.file, f.function, f.confidence, f.fingerprint]),
    [
      [
        'drivers/iommu/intel/iommu.c',
        'domain_attach_iommu',
        'high',
        'lock-order:domain_attach_iommu:dmar_domain.lock,intel_iommu.lock',
      ],
    ],
  );
  assert.match(
    lockOrder[0].message,
    /`intel_iommu\.lock` → `dmar_domain\.lock` here, in `domain_attach_iommu\(\)`.*but `dmar_domain\.lock` → `intel_iommu\.lock` in `intel_iommu_enforce_cache_coherency\(\)`/,
  );
  // The s1 nesting (a parent domain's lock, then s1_lock, then each child's lock) is no edge cycle at all.
  assert.ok(!iommu.findings.some((f) => f.fingerprint.includes('dmar_domain.s1_lock')));
});

test("RDMA: two files' `static ... lock` are two classes, and the lock dropped around rdma_destroy_id() adds no edge", () => {
  const rdma = runs.find((r) => r.tree === 'drivers/infiniband/core')!.report;
  const classes = new Set(
    rdma.lockGraph.edges.flatMap((e) => [e.from, e.to]).filter((c) => c.startsWith('file-scope:')),
  );
  assert.ok(classes.has('file-scope:core/cma.c:lock'), [...classes].join(' '));
  assert.ok(!classes.has('file-scope:lock'));
  assert.ok(
    !rdma.lockGraph.edges.some(
      (e) =>
        e.from === 'file-scope:core/cma.c:lock' &&
        e.to === 'rdma_id_private.handler_mutex' &&
        e.sites.some((s) => s.line === 1955),
    ),
  );
});
