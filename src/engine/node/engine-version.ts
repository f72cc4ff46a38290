/**
 * Node-only: a fingerprint of the running engine build, part of every index
 * key, so facts written by another build (other model code, other parser) are
 * never read. It hashes the code itself rather than trusting a version number
 * someone must remember to bump: the bundle this module was bundled into
 * (dist/cli.js), or, when running from compiled sources (out/), every
 * compiled engine module; the parser packages' versions are added (fixed in
 * the bundle at build time, so a copy of dist/ elsewhere has the same
 * version; read from the installed packages when running from out/).
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';

let cached: string | undefined;

/** Set by scripts/build.mjs (esbuild `define`) in bundles; undeclared when running from out/. */
declare const IOMMUFD_REVIEW_PARSER_VERSIONS: string | undefined;

export function engineVersion(): string {
  if (cached) return cached;
  const hash = createHash('sha256');
  const bundled = path.basename(__filename) !== 'engine-version.js';
  const files = bundled ? [__filename] : listJs(path.resolve(__dirname, '..'));
  for (const f of files) {
    hash.update(path.basename(f)).update('\u0000');
    hash.update(fs.readFileSync(f));
  }
  if (typeof IOMMUFD_REVIEW_PARSER_VERSIONS === 'string') {
    hash.update(IOMMUFD_REVIEW_PARSER_VERSIONS);
    cached = hash.digest('hex').slice(0, 16);
    return cached;
  }
  for (const pkg of ['web-tree-sitter', 'tree-sitter-c', 'tree-sitter']) hash.update(installedVersion(pkg));
  cached = hash.digest('hex').slice(0, 16);
  return cached;
}

/**
 * An installed package's version: its package.json found from the package's
 * node_modules folder up (web-tree-sitter's `exports` does not list its
 * package.json, so `require.resolve('x/package.json')` cannot be used).
 */
function installedVersion(pkg: string): string {
  for (const dir of require.resolve.paths(pkg) ?? []) {
    try {
      return `${pkg}@${(JSON.parse(fs.readFileSync(path.join(dir, pkg, 'package.json'), 'utf8')) as { version: string }).version}`;
    } catch {
      // not in this folder: the next one up
    }
  }
  return `${pkg}:absent`;
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
