/**
 * Node-only: a fingerprint of the running engine build, part of every index
 * key, so facts written by another build (other model code, other parser) are
 * never read. It hashes the code itself rather than trusting a version number
 * someone must remember to bump: the bundle this module was bundled into
 * (dist/cli.js), or, when running from compiled sources (out/), every
 * compiled engine module; the parser packages' versions are added.
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';

let cached: string | undefined;

export function engineVersion(): string {
  if (cached) return cached;
  const hash = createHash('sha256');
  const bundled = path.basename(__filename) !== 'engine-version.js';
  const files = bundled ? [__filename] : listJs(path.resolve(__dirname, '..'));
  for (const f of files) {
    hash.update(path.basename(f)).update('\u0000');
    hash.update(fs.readFileSync(f));
  }
  for (const pkg of ['web-tree-sitter/package.json', 'tree-sitter-c/package.json', 'tree-sitter/package.json']) {
    try {
      hash.update((JSON.parse(fs.readFileSync(require.resolve(pkg), 'utf8')) as { version: string }).version);
    } catch {
      hash.update(`${pkg}:absent`);
    }
  }
  cached = hash.digest('hex').slice(0, 16);
  return cached;
}

function listJs(dir: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listJs(p));
    else if (entry.name.endsWith('.js')) out.push(p);
  }
  return out;
}
