/** Node-only: the server host over the local disk (see host.ts). */
import { promises as fs, existsSync, statSync } from 'fs';
import * as path from 'path';
import { createParser } from '../engine/node/create-parser';
import { CONFIG_FILE_NAME, findConfigFile, loadConfigFile } from '../engine/node/find-config';
import { decodeText } from '../patch/bytes';
import { fsTree } from '../patch/node/fs-tree';
import { isCFile } from '../engine/editor/context-files';
import { engineDocsUri, packageInfo } from '../cli/package-info';
import type { ServerHost } from './host';
import { DiskFactsStore } from '../engine/node/facts-disk-store';
import { workerRepairRunner } from './repair-thread';

function isKernelTree(dir: string): boolean {
  try {
    return statSync(path.join(dir, 'drivers', 'iommu', 'iommufd')).isDirectory();
  } catch {
    return false;
  }
}

/**
 * `indexDir`: keep the persistent facts index there (the extension's global
 * storage); `configFiles: false`: read no configuration file (an untrusted
 * workspace: built-in knowledge only).
 */
export function nodeHost(options: { indexDir?: string; configFiles?: boolean } = {}): ServerHost {
  const index = options.indexDir ? new DiskFactsStore({ dir: options.indexDir }) : undefined;
  return {
    facts: index && {
      store: index,
      loaded: () => index.stats.loaded,
      notes: () => index.notes,
      getResult: (key) => index.getResult(key),
      putResult: (key, value) => index.putResult(key, value),
    },
    // dist/repair-worker.js, beside the bundle this runs from (dist/lsp-server.js or dist/cli.js)
    repair: workerRepairRunner(__dirname),
    // The wasm parser: what the editor measured fastest for edits (docs/cli.md, "Backend choice").
    createParser: () => createParser('wasm'),
    readable: (key) => key.startsWith('/'),
    async readText(p) {
      try {
        const bytes = await fs.readFile(p);
        return decodeText(new Uint8Array(bytes)).text;
      } catch {
        return undefined;
      }
    },
    async listFiles(dir) {
      try {
        return (await fs.readdir(dir, { withFileTypes: true })).filter((e) => e.isFile()).map((e) => e.name);
      } catch {
        return [];
      }
    },
    async kernelRoot(p, roots) {
      for (const r of roots) if ((p === r || p.startsWith(r.endsWith('/') ? r : `${r}/`)) && isKernelTree(r)) return r;
      for (let dir = path.dirname(p); ; dir = path.dirname(dir)) {
        if (isKernelTree(dir)) return dir;
        if (path.dirname(dir) === dir) return undefined;
      }
    },
    async listTree(root, entries, limit) {
      const found: string[] = [];
      const walk = async (rel: string): Promise<void> => {
        if (found.length >= limit) return;
        let items;
        try {
          items = await fs.readdir(path.join(root, rel), { withFileTypes: true });
        } catch {
          return;
        }
        items.sort((a, b) => a.name.localeCompare(b.name));
        for (const e of items) {
          if (found.length >= limit) return;
          const child = `${rel}/${e.name}`;
          if (e.isDirectory()) await walk(child);
          else if (e.isFile() && isCFile(e.name)) found.push(child);
        }
      };
      for (const entry of entries) {
        if (found.length >= limit) break;
        const rel = entry.replace(/\/$/, '');
        if (entry.endsWith('/')) await walk(rel);
        else if (existsSync(path.join(root, rel))) found.push(rel);
      }
      return found;
    },
    loadConfig(configFile, roots, paths) {
      if (options.configFiles === false) return { problems: [] };
      if (configFile) {
        const explicit = path.isAbsolute(configFile)
          ? configFile
          : roots[0]
            ? path.join(roots[0], configFile)
            : undefined;
        if (explicit && existsSync(explicit)) return loadConfigFile(explicit);
        // The default name that is not at the root may still be found upward from the files.
        if (path.basename(configFile) !== CONFIG_FILE_NAME) return { problems: [] };
      }
      const found = paths.length > 0 ? findConfigFile(paths) : undefined;
      return found ? loadConfigFile(found) : { problems: [] };
    },
    tree: (root) => fsTree(root),
    docsBaseUri: engineDocsUri(),
    version: packageInfo().version,
  };
}
