// `npm test`: brings what the tests need beyond npm packages, builds, then
// runs node's test runner over the compiled tests. Its summary is the last
// thing printed. `npm test -- PATTERN...` runs only test files whose path
// contains one of the patterns (the prerequisites are still ensured).
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureAll } from './ensure.mjs';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const patterns = process.argv.slice(2);

// The whole run (no pattern) checks style first, as CI does: ESLint and
// Prettier's check, each named with the command that fixes what it found.
if (patterns.length === 0) {
  for (const [what, args, fix] of [
    [
      'ESLint',
      ['node_modules/eslint/bin/eslint.js', '.'],
      'fix it, or `npm run lint -- --fix` for what ESLint can fix itself',
    ],
    ['Prettier', ['node_modules/prettier/bin/prettier.cjs', '--check', '.'], 'run `npm run format`'],
  ]) {
    const r = spawnSync(
      process.execPath,
      args.map((a, i) => (i === 0 ? path.join(root, a) : a)),
      { stdio: 'inherit', cwd: root },
    );
    if (r.status !== 0) {
      console.error(`${what} found problems (above): ${fix}`);
      console.log('0 passed, 1 failed');
      process.exit(1);
    }
    console.log(`${what}: clean`);
  }
}

const env = { ...process.env, ...(await ensureAll({ patterns })) };
// The CLI's persistent index goes to a scratch folder for this run: every build
// has its own index, and test runs must neither fill the user's cache nor
// read facts a previous run left.
const scratchIndex = mkdtempSync(path.join(os.tmpdir(), 'iommufd-review-test-index-'));
env.IOMMUFD_REVIEW_INDEX = scratchIndex;
// Temporary folders too (every mkdtemp of a test, the browsers' and servers' own): one
// folder per run, removed at its end, so runs do not pile folders up in /tmp.
// Open to others as /tmp is: a test runs the CLI as `nobody` on a read-only index below it.
const scratchTmp = mkdtempSync(path.join(os.tmpdir(), 'iommufd-review-test-tmp-'));
chmodSync(scratchTmp, 0o755);
env.TMPDIR = scratchTmp;
process.on('exit', () => {
  rmSync(scratchIndex, { recursive: true, force: true });
  rmSync(scratchTmp, { recursive: true, force: true });
});

const build = spawnSync(process.execPath, [path.join(root, 'scripts/build.mjs')], { stdio: 'inherit', cwd: root, env });
if (build.status !== 0) {
  console.error('build failed');
  console.log('0 passed, 1 failed');
  process.exit(1);
}

function collect(dir) {
  const found = [];
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) found.push(...collect(p));
    else if (name.endsWith('.test.js')) found.push(p);
  }
  return found;
}

const files = collect(path.join(root, 'out/test'))
  .filter((f) => patterns.length === 0 || patterns.some((p) => f.includes(p)))
  .sort();
if (files.length === 0) {
  console.error(`no test files match ${patterns.join(' ')}`);
  console.log('0 passed, 1 failed');
  process.exit(1);
}

// One file at a time: the end-to-end files start servers and browsers, and
// these machines have two cores. A file whose tests have all finished is
// ended even if a handle (a server's pipe, a browser) would keep it alive,
// and a test that hangs fails after 20 minutes: a stuck process must cost
// one failure, never the whole run (once seen: server.test.js idle for 16
// minutes after its last test passed, under load).
const run = spawnSync(
  process.execPath,
  ['--test', '--test-reporter=spec', '--test-concurrency=1', '--test-force-exit', '--test-timeout=1200000', ...files],
  {
    stdio: 'inherit',
    cwd: root,
    env,
  },
);
process.exit(run.status ?? 1);
