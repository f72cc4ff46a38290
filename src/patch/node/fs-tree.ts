/** Node-only: a TreeReader over a directory on disk (`--base DIR`). */
import { promises as fs } from 'fs';
import * as path from 'path';
import type { TreeReader } from '../tree';

export function fsTree(root: string): TreeReader {
  const inside = (p: string) => {
    const full = path.resolve(root, p);
    // A patch names paths; it must not read outside the tree (`../../etc/passwd`).
    if (full !== path.resolve(root) && !full.startsWith(path.resolve(root) + path.sep)) return undefined;
    return full;
  };
  return {
    async readFile(p) {
      const full = inside(p);
      if (!full) return undefined;
      try {
        const stat = await fs.stat(full);
        if (!stat.isFile()) return undefined;
        return new Uint8Array(await fs.readFile(full));
      } catch {
        return undefined;
      }
    },
    async listDir(dir) {
      const full = inside(dir || '.');
      if (!full) return [];
      try {
        return (await fs.readdir(full, { withFileTypes: true })).filter((e) => e.isFile()).map((e) => e.name);
      } catch {
        return [];
      }
    },
  };
}
