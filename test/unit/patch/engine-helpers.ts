import { cpSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { createWasmParser } from '../../../src/engine/parse/wasm-parser';
import { readWasmFromDisk } from '../../../src/engine/parse/node-wasm';
import type { CParser } from '../../../src/engine/index';
import { fixtures } from './helpers';

let parser: Promise<CParser> | undefined;
export function wasmParser(): Promise<CParser> {
  parser ??= createWasmParser(readWasmFromDisk());
  return parser;
}

/** A copy of the fixture tree with format-patch files applied by git itself (an independent applier). */
export function gitAppliedTree(patchFiles: string[]): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'iommufd-review-tree-'));
  cpSync(path.join(fixtures, 'tree'), dir, { recursive: true });
  for (const p of patchFiles) execFileSync('git', ['apply', path.join(fixtures, p)], { cwd: dir });
  return dir;
}

/** Every C file under these directories of a tree, as engine sources. */
export function cFilesOf(root: string, dirs: string[]): { path: string; text: string }[] {
  const out: { path: string; text: string }[] = [];
  for (const d of dirs) {
    for (const name of readdirSync(path.join(root, d)).sort()) {
      const full = path.join(root, d, name);
      if (statSync(full).isFile() && /\.[ch]$/.test(name))
        out.push({ path: `${d}/${name}`, text: readFileSync(full, 'utf8') });
    }
  }
  return out;
}
