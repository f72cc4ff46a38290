/**
 * The real-kernel corpus the corpus tests and the benchmarks read: Debian's
 * linux-source-6.12, unpacked by scripts/ensure.mjs, its path handed over in
 * IOMMUFD_REVIEW_KERNEL. Missing means a broken setup: fail loudly.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { JsonReport } from '../../src/report/json';
import { runCli, type CliRun } from '../unit/cli/run-cli';

export function kernelDir(): string {
  const dir = process.env.IOMMUFD_REVIEW_KERNEL;
  if (!dir) {
    throw new Error(
      'IOMMUFD_REVIEW_KERNEL is not set: run the tests with `npm test` (it unpacks linux-source-6.12), or set it to an unpacked kernel tree',
    );
  }
  if (!existsSync(path.join(dir, 'drivers/iommu/iommufd'))) {
    throw new Error(
      `IOMMUFD_REVIEW_KERNEL=${dir} has no drivers/iommu/iommufd: unpack linux-source-6.12 there (npm test does it)`,
    );
  }
  return dir;
}

function listDir(dir: string, match: (name: string) => boolean): string[] {
  return readdirSync(dir)
    .filter((n) => match(n) && statSync(path.join(dir, n)).isFile())
    .sort()
    .map((n) => path.join(dir, n));
}

/**
 * The benchmark's files, relative to the kernel tree: iommufd itself, its
 * header, vfio's iommufd glue and core, and the three emulated-device
 * drivers' main files. Only those that exist in this tree.
 */
export function benchFiles(kernel: string): string[] {
  const iommufd = listDir(path.join(kernel, 'drivers/iommu/iommufd'), (n) => /\.[ch]$/.test(n));
  const rest = [
    'include/linux/iommufd.h',
    'drivers/vfio/iommufd.c',
    'drivers/vfio/vfio_main.c',
    'drivers/gpu/drm/i915/gvt/kvmgt.c',
    'drivers/s390/cio/vfio_ccw_ops.c',
    'drivers/s390/crypto/vfio_ap_ops.c',
  ].map((p) => path.join(kernel, p));
  return [...iommufd, ...rest.filter((p) => existsSync(p))];
}

/**
 * The `check` arguments of the real-thing test: iommufd, its header, all of
 * vfio, i915 GVT, and vfio-ccw and vfio-ap (only their vfio_* files: the rest
 * of cio and crypto is unrelated to iommufd).
 */
export function checkPaths(kernel: string): string[] {
  return [
    path.join(kernel, 'drivers/iommu/iommufd'),
    path.join(kernel, 'include/linux/iommufd.h'),
    path.join(kernel, 'drivers/vfio'),
    path.join(kernel, 'drivers/gpu/drm/i915/gvt'),
    ...listDir(path.join(kernel, 'drivers/s390/cio'), (n) => /^vfio_ccw.*\.[ch]$/.test(n)),
    ...listDir(path.join(kernel, 'drivers/s390/crypto'), (n) => /^vfio_ap.*\.[ch]$/.test(n)),
  ];
}

/**
 * The precision corpus: kernel code the engine was not tuned on, which the
 * people who review iommufd also maintain. Each tree is checked on its own.
 */
export const PRECISION_TREES = [
  'drivers/iommu',
  'drivers/infiniband/core',
  'mm',
  'virt/kvm',
  'drivers/s390/cio',
  'drivers/vfio',
  'drivers/infiniband/sw',
  'drivers/infiniband/ulp',
  'drivers/accel',
  'drivers/dma-buf',
];

/** The text of README.md under `heading` (a `## ` heading), up to the next `## ` heading: where findings are triaged. */
export function readmeSection(heading: string): string {
  const docs = readFileSync(path.resolve(__dirname, '../../../README.md'), 'utf8');
  const start = docs.indexOf(`${heading}\n`);
  if (start < 0) throw new Error(`README.md has no "${heading}" section`);
  const end = docs.indexOf('\n## ', start + 1);
  return docs.slice(start, end < 0 ? docs.length : end);
}

/** Runs the CLI's `check --format json` on the kernel tree; a run that prints no JSON fails with its stderr, named. */
export function checkJson(
  name: string,
  args: readonly string[],
  kernel: string,
  timeoutMs: number,
): { run: CliRun; report: JsonReport } {
  const run = runCli(['check', '--format', 'json', ...args], { cwd: kernel, timeoutMs });
  try {
    return { run, report: JSON.parse(run.stdout) as JsonReport };
  } catch {
    throw new Error(`${name}: exit ${run.status} signal ${run.signal}, no JSON; stderr:\n${run.stderr.slice(0, 4000)}`);
  }
}
