/**
 * The CLI through V8's code cache (dist/cli.js runs dist/cli-main.js, its
 * workers dist/facts-worker-main.js: src/engine/node/code-cache.ts): the first
 * run writes one file per bundle, later runs use them unchanged, a stale or
 * corrupt file is replaced, a folder that cannot be written changes nothing;
 * the report is the same every time and nothing is printed about the cache.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { codeCacheFile } from '../../../src/engine/node/code-cache';
import { repoRoot, runCli } from './run-cli';

/**
 * One file reported with its directory as context: context files always go to
 * a worker (this thread never holds their texts), so a run starts one however
 * small the files.
 */
const FIXTURES = path.join(repoRoot, 'test/fixtures/engine/precision');
const REPORTED = path.join(FIXTURES, 'callback-edge.c');
const dist = path.join(repoRoot, 'dist');
let cacheRoot = '';

before(() => {
  cacheRoot = mkdtempSync(path.join(tmpdir(), 'iommufd-review-code-cache-'));
});
after(() => rmSync(cacheRoot, { recursive: true, force: true }));

function check(root: string): string {
  const r = runCli(['check', '--format', 'json', '--no-index', '--jobs', '2', '--tree', FIXTURES, REPORTED], {
    env: { ...process.env, IOMMUFD_REVIEW_CACHE: root },
  });
  assert.ok(r.status === 0 || r.status === 1, r.stderr);
  assert.equal(r.stderr, '');
  return r.stdout;
}

const cacheFiles = (root: string): string[] => {
  const dir = path.join(root, 'code-cache');
  return ['cli-main.js', 'facts-worker-main.js'].map((b) => codeCacheFile(path.join(dist, b), dir));
};

test('the first run writes a cache per bundle, the next uses them unchanged, with the same report', () => {
  const first = check(cacheRoot);
  const files = cacheFiles(cacheRoot);
  assert.deepEqual(readdirSync(path.join(cacheRoot, 'code-cache')).sort(), files.map((f) => path.basename(f)).sort());
  const written = files.map((f) => statSync(f).mtimeMs);
  assert.equal(check(cacheRoot), first);
  assert.deepEqual(
    files.map((f) => statSync(f).mtimeMs),
    written,
  );
});

test('a cache of another bundle text, or one V8 rejects, is replaced; the report stays the same', () => {
  const expected = check(cacheRoot);
  const [cli, worker] = cacheFiles(cacheRoot);
  const good = readFileSync(cli);
  // another text's digest (a rebuilt bundle of the same length passes V8's own check)
  writeFileSync(cli, Buffer.concat([Buffer.alloc(20, 7), good.subarray(20)]));
  // the right digest, data V8 cannot use
  const workerGood = readFileSync(worker);
  writeFileSync(worker, Buffer.concat([workerGood.subarray(0, 20), Buffer.from('not a code cache')]));
  assert.equal(check(cacheRoot), expected);
  assert.deepEqual(readFileSync(cli).subarray(0, 20), good.subarray(0, 20));
  assert.ok(readFileSync(cli).length > 1000);
  assert.deepEqual(readFileSync(worker).subarray(0, 20), workerGood.subarray(0, 20));
  assert.ok(readFileSync(worker).length > 1000);
});

test('a cache folder that cannot be made changes nothing and says nothing', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'iommufd-review-code-cache-blocked-'));
  try {
    // a file where the folder should be: mkdir fails even for root
    writeFileSync(path.join(root, 'code-cache'), '');
    assert.equal(check(root), check(cacheRoot));
    assert.equal(readFileSync(path.join(root, 'code-cache'), 'utf8'), '');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
