/**
 * Which other C files to read as context for the file being edited: the
 * interprocedural checks need callees' bodies (a helper in a sibling file, the
 * unpin path in the kernel tree). Bounded, so a whole kernel checkout never
 * ends up in the editor's memory; ordered so the likely callees come first.
 */

export interface ContextBounds {
  /** Other C files of the edited file's directory. */
  maxDirectoryFiles: number;
  /** Files from the rest of the workspace's kernel tree. */
  maxWorkspaceFiles: number;
}

/** Kernel folders whose code the iommufd checks reason about, best first. */
export const KERNEL_CONTEXT_DIRS: readonly string[] = [
  'drivers/iommu/iommufd/',
  'include/linux/iommufd.h',
  'drivers/vfio/',
  'drivers/gpu/drm/i915/gvt/',
  'drivers/s390/cio/',
  'drivers/s390/crypto/',
  'tools/testing/selftests/iommu/',
];

export function isCFile(path: string): boolean {
  return /\.[ch]$/.test(path);
}

function dirOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? '' : path.slice(0, i + 1);
}

/** Rank of a workspace-relative path among KERNEL_CONTEXT_DIRS (lower first), or -1. */
export function kernelContextRank(relativePath: string): number {
  return KERNEL_CONTEXT_DIRS.findIndex((d) => relativePath === d || relativePath.startsWith(d));
}

/**
 * Picks context files. `directoryFiles` are absolute paths of the edited file's
 * directory; `workspaceFiles` are workspace-relative paths of the kernel tree
 * (joined back with `workspaceRoot`). The edited file is never its own context.
 */
export function selectContextFiles(
  editedPath: string,
  directoryFiles: readonly string[],
  workspaceRoot: string | undefined,
  workspaceFiles: readonly string[],
  bounds: ContextBounds,
): string[] {
  const dir = dirOf(editedPath);
  const chosen = new Set<string>();
  const siblings = directoryFiles
    .filter((p) => p !== editedPath && isCFile(p) && dirOf(p) === dir)
    // .c before .h: bodies matter more than prototypes.
    .sort((a, b) => Number(a.endsWith('.h')) - Number(b.endsWith('.h')) || a.localeCompare(b));
  for (const p of siblings.slice(0, Math.max(0, bounds.maxDirectoryFiles))) chosen.add(p);
  if (workspaceRoot !== undefined && bounds.maxWorkspaceFiles > 0) {
    const root = workspaceRoot.endsWith('/') ? workspaceRoot : `${workspaceRoot}/`;
    const ranked = workspaceFiles
      .filter((rel) => isCFile(rel) && kernelContextRank(rel) >= 0)
      .sort((a, b) => kernelContextRank(a) - kernelContextRank(b) || a.localeCompare(b));
    let added = 0;
    for (const rel of ranked) {
      if (added >= bounds.maxWorkspaceFiles) break;
      const abs = root + rel;
      if (abs === editedPath || chosen.has(abs)) continue;
      chosen.add(abs);
      added++;
    }
  }
  return [...chosen];
}
