/**
 * Git repositories built at test time: the example series' base tree
 * committed, its patches applied by `git am`, and the series written back
 * out by `git format-patch`, so the diffs carry real blob ids and a real
 * base-commit. Nothing here is committed to the project.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fixtures } from './helpers';

const ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: 'Test Author',
  GIT_AUTHOR_EMAIL: 'author@example.org',
  GIT_COMMITTER_NAME: 'Test Author',
  GIT_COMMITTER_EMAIL: 'author@example.org',
  GIT_AUTHOR_DATE: '2026-01-01T00:00:00Z',
  GIT_COMMITTER_DATE: '2026-01-01T00:00:00Z',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
};

export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, env: ENV, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
}

export function tempDir(prefix: string): string {
  return mkdtempSync(path.join(os.tmpdir(), `iommufd-review-${prefix}-`));
}

/** A repository whose first commit holds `files` (path → text); returns the directory and the commit. */
export function repoWith(files: Record<string, string>): { dir: string; base: string } {
  const dir = tempDir('repo');
  git(dir, 'init', '-q', '-b', 'main');
  for (const [p, text] of Object.entries(files)) {
    execFileSync('mkdir', ['-p', path.dirname(path.join(dir, p))]);
    writeFileSync(path.join(dir, p), text);
  }
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '--allow-empty', '-m', 'base');
  return { dir, base: git(dir, 'rev-parse', 'HEAD').trim() };
}

export interface ExampleRepo {
  dir: string;
  /** The commit holding examples/series/tree. */
  base: string;
  /** `git format-patch --cover-letter --base` output: cover first, then the patches. */
  files: { name: string; text: string }[];
}

/**
 * examples/series/tree committed, the v8 format-patch files applied on top
 * with `git am`, and written out again by `git format-patch`: real blob ids,
 * a real base-commit. The work tree is left at the series' tip, so only the
 * repository (not the work tree) has the pre-images.
 */
export function exampleRepo(): ExampleRepo {
  const dir = tempDir('example-repo');
  cpSync(path.join(fixtures, 'tree'), dir, { recursive: true });
  git(dir, 'init', '-q', '-b', 'main');
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'base');
  const base = git(dir, 'rev-parse', 'HEAD').trim();
  const v8 = path.join(fixtures, 'v8');
  const patches = readdirSync(v8)
    .filter((n) => /^v8-000[1-9].*\.patch$/.test(n))
    .sort()
    .map((n) => path.join(v8, n));
  git(dir, 'am', '-q', ...patches);
  const out = tempDir('format-patch');
  git(dir, 'format-patch', '-q', '--cover-letter', `--base=${base}`, '-o', out, `${base}..HEAD`);
  const files = readdirSync(out)
    .sort()
    .map((n) => ({ name: n, text: readFileSync(path.join(out, n), 'utf8') }));
  return { dir, base, files };
}

/** Drops every `index` line (a diff without blob ids, as `diff -u` or some mail tools give). */
export function withoutIndexLines(text: string): string {
  return text
    .split('\n')
    .filter((l) => !/^index [0-9a-f]+\.\.[0-9a-f]+/.test(l))
    .join('\n');
}

/** Replaces the pre-image id of every `index` line. */
export function withPreBlob(text: string, id: string): string {
  return text.replace(/^index [0-9a-f]+\.\./gm, `index ${id}..`);
}
