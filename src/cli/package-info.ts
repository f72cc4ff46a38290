/**
 * Where the installed package lives (docs/ for SARIF help links) and its
 * version. Found by walking up from this module, because the same code runs
 * bundled (dist/cli.js) and compiled for tests (out/src/cli/*.js).
 */
import * as fs from 'fs';
import * as path from 'path';
import { pathToFileURL } from 'url';

export interface PackageInfo {
  root: string;
  name: string;
  version: string;
}

let cached: PackageInfo | undefined;

export function packageInfo(): PackageInfo {
  if (cached) return cached;
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json');
    if (fs.existsSync(manifest)) {
      const json = JSON.parse(fs.readFileSync(manifest, 'utf8')) as { name?: string; version?: string };
      if (json.name === 'iommufd-review') {
        cached = { root: dir, name: json.name, version: json.version ?? '0.0.0' };
        return cached;
      }
    }
    if (path.dirname(dir) === dir) break;
  }
  cached = { root: path.dirname(__dirname), name: 'iommufd-review', version: '0.0.0' };
  return cached;
}

/** Absolute file URI of docs/engine.md, the target of every rule's help link. */
export function engineDocsUri(): string {
  return pathToFileURL(path.join(packageInfo().root, 'docs', 'engine.md')).href;
}
