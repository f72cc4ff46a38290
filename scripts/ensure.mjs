// Prerequisites beyond npm packages. Each is installed when missing and this
// process can (root with apt-get, or a cache folder); otherwise we stop with
// the one command that installs it. Nothing is skipped silently.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, renameSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const cacheDir = process.env.IOMMUFD_REVIEW_CACHE || path.join(os.homedir(), '.cache', 'iommufd-review');
const KERNEL_TARBALL = '/usr/src/linux-source-6.12.tar.xz';
const KERNEL_DIR = path.join(cacheDir, 'linux-source-6.12');

// The corpus: what the issues name, plus Coccinelle's lock scripts, plus the
// precision corpus (code the engine was not tuned on: all IOMMU drivers, RDMA
// core, mm, KVM's generic code; vfio and s390 cio are already above; the RDMA
// software drivers and upper layers, accel and dma-buf since 2026-12-08).
export const KERNEL_PATHS = [
  'drivers/iommu',
  'include/linux/iommufd.h',
  // The vfio headers' layouts (`struct vfio_device`, `struct vfio_pci_core_device`):
  // context for `check --tree`, which resolves locks reached through them.
  'include/linux/vfio.h',
  'include/linux/vfio_pci_core.h',
  'include/linux/mdev.h',
  'drivers/vfio',
  'drivers/gpu/drm/i915/gvt',
  'drivers/s390/cio',
  'drivers/s390/crypto',
  'drivers/infiniband/core',
  'mm',
  'virt/kvm',
  'drivers/infiniband/sw',
  'drivers/infiniband/ulp',
  'drivers/accel',
  'drivers/dma-buf',
  'tools/testing/selftests/iommu',
  'scripts/coccinelle/locks',
];
// Bumped whenever KERNEL_PATHS changes, so a cache unpacked from an older list
// is unpacked again. `.complete` and the older versions' markers are written
// too, for older checkouts sharing the cache (the list only grows).
const CORPUS_VERSION = 4;

function fail(what, command) {
  console.error(`\n${what} is missing and could not be installed here.\nInstall it with:\n  ${command}\n`);
  console.log('0 passed, 1 failed');
  process.exit(1);
}

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
let aptUpdated = false;

/** Installs Debian packages when `present()` is false. */
export function ensureApt(packages, present, label = packages.join(' ')) {
  if (present()) return;
  const command = `apt-get install -y ${packages.join(' ')}`;
  if (!isRoot) fail(label, `sudo ${command}`);
  console.error(`installing ${label} (${command})`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  let r = spawnSync('apt-get', ['install', '-y', ...packages], { stdio: ['ignore', 'ignore', 'inherit'], env });
  if (r.status !== 0 && !aptUpdated) {
    aptUpdated = true;
    spawnSync('apt-get', ['update'], { stdio: ['ignore', 'ignore', 'inherit'], env });
    r = spawnSync('apt-get', ['install', '-y', ...packages], { stdio: ['ignore', 'ignore', 'inherit'], env });
  }
  if (r.status !== 0 || !present()) fail(label, command);
}

const onPath = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;

/** Unpacks the corpus subset of Debian's linux-source-6.12 into the cache. */
export function ensureKernelCorpus() {
  const marker = path.join(KERNEL_DIR, `.complete-v${CORPUS_VERSION}`);
  if (existsSync(marker)) return KERNEL_DIR;
  ensureApt(['linux-source-6.12'], () => existsSync(KERNEL_TARBALL));
  console.error(`unpacking the kernel corpus into ${KERNEL_DIR}`);
  const tmp = `${KERNEL_DIR}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  execFileSync('tar', [
    '-xJf',
    KERNEL_TARBALL,
    '-C',
    tmp,
    '--strip-components=1',
    '--wildcards',
    ...KERNEL_PATHS.map((p) => `linux-source-6.12/${p}`),
  ]);
  // Every older version's marker too: the list only grows, so a checkout that
  // wants an older list finds what it needs and does not unpack it again.
  const markers = Array.from({ length: CORPUS_VERSION }, (_, i) => path.join(tmp, `.complete-v${i + 1}`));
  execFileSync('touch', [path.join(tmp, '.complete'), ...markers]);
  rmSync(KERNEL_DIR, { recursive: true, force: true });
  renameSync(tmp, KERNEL_DIR);
  return KERNEL_DIR;
}

export async function ensureAll() {
  const env = {};
  env.IOMMUFD_REVIEW_KERNEL = ensureKernelCorpus();
  ensureApt(['coccinelle'], () => onPath('spatch'));
  ensureApt(['spin'], () => onPath('spin'));
  // Further prerequisites (chromium, code-server) are added by the extension tests' setup.
  const extra = path.join(path.dirname(new URL(import.meta.url).pathname), 'ensure-extra');
  if (existsSync(extra)) {
    for (const name of readdirSync(extra)
      .filter((n) => n.endsWith('.mjs'))
      .sort()) {
      const mod = await import(path.join(extra, name));
      Object.assign(env, await mod.ensure({ cacheDir, ensureApt, fail }));
    }
  }
  return env;
}
