/**
 * StoreFs on Node's fs, for the CLI and the tests. The only Node-only module of
 * src/review: the extension uses vscode.workspace.fs instead (see
 * src/extension/review/workspace-fs.ts), so the browser bundle never reaches this.
 */
import { promises as fsp } from 'node:fs';
import * as nodePath from 'node:path';
import type { StoreFs } from './store';

export function nodeStoreFs(root: string): StoreFs {
  const at = (p: string): string => nodePath.resolve(root, p);
  return {
    async readText(p) {
      try {
        return await fsp.readFile(at(p), 'utf8');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw e;
      }
    },
    async writeTextDurable(p, text) {
      const fh = await fsp.open(at(p), 'w');
      try {
        await fh.writeFile(text, 'utf8');
        await fh.sync();
      } finally {
        await fh.close();
      }
    },
    async rename(from, to) {
      await fsp.rename(at(from), at(to));
      // Flush the directory too, so the rename itself survives a power cut.
      const dir = await fsp.open(nodePath.dirname(at(to)), 'r');
      try {
        await dir.sync();
      } catch {
        // Some file systems refuse fsync on a directory; the rename is still atomic.
      } finally {
        await dir.close();
      }
    },
    async mkdirp(dir) {
      await fsp.mkdir(at(dir), { recursive: true });
    },
    async list(dir) {
      try {
        return await fsp.readdir(at(dir));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
        throw e;
      }
    },
    async remove(p) {
      await fsp.rm(at(p), { force: true });
    },
  };
}
