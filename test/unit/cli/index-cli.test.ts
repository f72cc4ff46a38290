/**
 * The persistent index and --tree through the bundle: a warm run gives the
 * same report, bad index entries are set aside with a note (never deleted),
 * an index folder that cannot be written (read-only, or full: ENOSPC) gives a
 * note and the same results,
 * and a caller in another directory of the --tree settles an assert-held.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import { after, before, test } from 'node:test';
import type { JsonReport } from '../../../src/report/json';
import { INDEX_SCHEMA } from '../../../src/engine/node/facts-disk-store';
import { cliBundle, repoRoot, runCli } from './run-cli';

const TREE = path.join(repoRoot, 'test/fixtures/tree');
let dir = '';

before(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'iommufd-review-index-'));
});
after(() => {
  // The read-only test leaves a folder without write permission.
  spawnSync('chmod', ['-R', 'u+w', dir]);
  rmSync(dir, { recursive: true, force: true });
});

function check(args: string[]): { status: number | null; stderr: string; report: JsonReport } {
  const r = runCli(['check', '--format', 'json', '-c', 'low', ...args]);
  return { status: r.status, stderr: r.stderr, report: JSON.parse(r.stdout) as JsonReport };
}

/** Every entry file of an index folder (any engine version), set-aside ones included. */
function entries(index: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const n of readdirSync(d)) {
      const p = path.join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(p);
    }
  };
  if (existsSync(index)) walk(index);
  return out.sort();
}

const summary = (r: JsonReport) =>
  r.findings.map((f) => `${path.basename(f.file)}:${f.line} ${f.ruleId} ${f.confidence}`);

test('index: a warm run reads every file from the index and reports exactly what the cold run did', () => {
  const index = path.join(dir, 'warm');
  const cold = check(['--index', index, TREE]);
  assert.equal(cold.stderr, '');
  const written = entries(index);
  // One entry per analysed file (the header, the two C files) and one for the run's answer.
  assert.equal(written.length, 4);
  assert.equal(written.filter((p) => p.includes(`${path.sep}results${path.sep}`)).length, 1);
  const warm = check(['--index', index, TREE]);
  assert.equal(warm.stderr, '');
  assert.deepEqual(warm.report, cold.report);
  assert.deepEqual(entries(index), written, 'a warm run writes nothing new');
  assert.deepEqual(summary(cold.report), ['reset.c:22 lock-leak high']);
  const none = check(['--no-index', TREE]);
  assert.deepEqual(none.report, cold.report);
});

test('index: the bundle carries its parser versions, so a copy of dist/ elsewhere keeps the same index version', () => {
  const index = path.join(dir, 'moved');
  const copy = path.join(dir, 'moved-dist');
  spawnSync('cp', ['-r', path.dirname(cliBundle), copy]);
  const here = check(['--index', index, TREE]);
  const moved = runCli(['check', '--format', 'json', '-c', 'low', '--index', index, TREE], {
    bundle: path.join(copy, path.basename(cliBundle)),
  });
  assert.equal(moved.status, here.status);
  assert.deepEqual(JSON.parse(moved.stdout), here.report);
  // One version folder: the copy read what the checkout's bundle wrote.
  assert.equal(readdirSync(index).length, 1, readdirSync(index).join(', '));
});

test('index: the answer is remembered only for the same inputs: a changed file, configuration or option is analysed again', () => {
  const index = path.join(dir, 'answers');
  const copy = path.join(dir, 'answers-tree');
  spawnSync('cp', ['-r', TREE, copy]);
  const cold = check(['--index', index, copy]);
  assert.deepEqual(summary(cold.report), ['reset.c:22 lock-leak high']);
  const answers = () => entries(index).filter((p) => p.includes(`${path.sep}results${path.sep}`)).length;
  assert.equal(answers(), 1);
  // One file changed: a new answer, equal to a run without the index, and only that file's facts are new.
  const reset = path.join(copy, 'drivers/widget/hw/reset.c');
  const before = readFileSync(reset, 'utf8');
  // The leak fixed: the early return unlocks.
  const fixed = before.replace(
    '\tif (wd->state == 2)\n\t\treturn -EBUSY;\n',
    '\tif (wd->state == 2) {\n\t\tmutex_unlock(&wd->state_lock);\n\t\treturn -EBUSY;\n\t}\n',
  );
  assert.notEqual(fixed, before, 'the edit must change the file');
  writeFileSync(reset, fixed);
  const facts = entries(index).length;
  const edited = check(['--index', index, copy]);
  assert.deepEqual(edited.report, check(['--no-index', copy]).report);
  assert.deepEqual(summary(edited.report), []);
  assert.equal(answers(), 2);
  assert.equal(entries(index).length, facts + 2, 'one new file entry and one new answer');
  // Back to the first text: the first answer again, nothing written.
  writeFileSync(reset, before);
  const all = entries(index);
  assert.deepEqual(check(['--index', index, copy]).report, cold.report);
  assert.deepEqual(entries(index), all);
  // Another option: another answer (a size limit that leaves state.c, 579 bytes, out).
  const limited = check(['--max-file-size', '560', '--index', index, copy]);
  assert.deepEqual(limited.report, check(['--max-file-size', '560', '--no-index', copy]).report);
  assert.equal(limited.report.coverage.files, cold.report.coverage.files - 1);
  assert.equal(answers(), 3);
  // A configuration file: its content is part of the inputs.
  writeFileSync(path.join(copy, '.iommufd-review.json'), JSON.stringify({ disabledRules: ['lock-leak'] }));
  const configured = check(['--index', index, copy]);
  assert.deepEqual(configured.report.findings, []);
  assert.deepEqual(configured.report, check(['--no-index', copy]).report);
  assert.equal(answers(), 4);
});

test('index: corrupt, truncated, foreign and newer entries are renamed aside with one note each, and results are unchanged', () => {
  const index = path.join(dir, 'bad');
  const baseline = check(['--index', index, TREE]).report;
  // The per-file facts sort first, the run's answer (under results/) last.
  const [a, b, c, answer] = entries(index);
  assert.match(answer, /[\\/]results[\\/]/);
  // A well-formed entry whose payload is not a run's answer.
  const answerHeader = readFileSync(answer).subarray(0, readFileSync(answer).indexOf(10) + 1);
  writeFileSync(answer, Buffer.concat([answerHeader, v8.serialize(42)]));
  const bytes = readFileSync(b);
  writeFileSync(a, bytes.subarray(0, Math.floor(bytes.length / 2))); // truncated: the header of b, half its body
  writeFileSync(b, 'this is not an index entry\n');
  const header = readFileSync(c).toString('latin1');
  const nl = header.indexOf('\n');
  const [magic, , version, key] = header.slice(0, nl).split(' ');
  writeFileSync(c, Buffer.concat([Buffer.from(`${magic} 99 ${version} ${key}\n`), readFileSync(c).subarray(nl + 1)]));
  const r = check(['--index', index, TREE]);
  assert.deepEqual(r.report, baseline);
  const notes = r.stderr.trim().split('\n');
  assert.equal(notes.length, 4, r.stderr);
  assert.ok(
    notes.every((n) => n.startsWith('iommufd-review check: note: index entry ')),
    r.stderr,
  );
  assert.match(r.stderr, /not an index entry of this tool \(foreign or corrupt\)/);
  assert.match(r.stderr, /results[\\/].*its content does not match its name \(foreign or corrupt\)/);
  assert.ok(
    r.stderr.includes(`written by a newer version (index schema 99, this one reads ${INDEX_SCHEMA})`),
    r.stderr,
  );
  // The truncated copy of b sits under a's name: foreign key or a failed decode, either way set aside.
  assert.match(r.stderr, /belongs to another engine build or file \(foreign\)|corrupt or truncated/);
  const after = entries(index);
  // Nothing deleted: the four bad files are kept aside, and four good entries were written again.
  assert.equal(after.filter((p) => /\.set-aside-/.test(p)).length, 4);
  assert.equal(after.filter((p) => !/\.set-aside-/.test(p)).length, 4);
  // The next run is clean.
  assert.equal(check(['--index', index, TREE]).stderr, '');
});

test('index: a folder that cannot be written gives one note and the same results', () => {
  const index = path.join(dir, 'readonly');
  mkdirSync(index);
  chmodSync(index, 0o555);
  chmodSync(dir, 0o755); // nobody (below) may enter the test folder, not write the index
  const baseline = check(['--no-index', TREE]).report;
  const args = [cliBundle, 'check', '--format', 'json', '-c', 'low', '--index', index, TREE];
  // Root ignores permissions: run as nobody then, so the folder really is read-only.
  const asNobody = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
  const r = spawnSync(process.execPath, args, { cwd: repoRoot, encoding: 'utf8', ...asNobody });
  assert.deepEqual(JSON.parse(r.stdout), baseline);
  assert.equal(
    r.stderr,
    `iommufd-review check: note: index folder ${index} cannot be written (EACCES): results are computed as usual but not stored for the next run\n`,
  );
  assert.deepEqual(entries(index), []);
});

test('index: a full index folder (ENOSPC) gives one note and the same results, and keeps what was written', () => {
  // A real full filesystem: an 8 KiB tmpfs (two pages) mounted in a private
  // mount namespace (as root, or as the namespace's root through a user
  // namespace), so the index's writes really fail with ENOSPC part-way.
  const index = path.join(dir, 'full');
  const roomy = path.join(dir, 'roomy');
  mkdirSync(index);
  const baseline = check(['--no-index', TREE]).report;
  check(['--index', roomy, TREE]);
  const all = entries(roomy).length;
  const q = JSON.stringify;
  const out = (name: string) => q(path.join(dir, name));
  const run = `${q(process.execPath)} ${q(cliBundle)} check --format json -c low --index ${q(index)} ${q(TREE)}`;
  // `check` exits 1 when it has findings: the steps are sequenced with `;`, and the mount with `||`.
  const script = [
    `mount -t tmpfs -o size=8k iommufd-review-full ${q(index)} || exit 9`,
    `${run} > ${out('full-1.json')} 2> ${out('full-1.err')}`,
    `${run} > ${out('full-2.json')} 2> ${out('full-2.err')}`,
    `find ${q(index)} -type f ! -name '*.tmp-*' | wc -l > ${out('full-entries')}`,
    `find ${q(index)} -name '*.tmp-*' | wc -l >> ${out('full-entries')}`,
  ].join('\n');
  const unshare = process.getuid?.() === 0 ? ['-m'] : ['-r', '-m'];
  const r = spawnSync('unshare', [...unshare, 'sh', '-c', script], { cwd: repoRoot, encoding: 'utf8' });
  assert.equal(r.status, 0, `could not mount a small tmpfs (unshare ${unshare.join(' ')}): ${r.stderr}`);
  const note = `iommufd-review check: note: index folder ${index} cannot be written (ENOSPC): results are computed as usual but not stored for the next run\n`;
  for (const n of [1, 2]) {
    assert.deepEqual(JSON.parse(readFileSync(path.join(dir, `full-${n}.json`), 'utf8')), baseline, `run ${n}`);
    assert.equal(readFileSync(path.join(dir, `full-${n}.err`), 'utf8'), note, `run ${n}: other notes`);
  }
  // Some entries fit before the folder filled, not all; none is left half-written.
  const [written, partial] = readFileSync(path.join(dir, 'full-entries'), 'utf8').trim().split('\n').map(Number);
  assert.ok(written > 0 && written < all, `${written} of ${all} entries written`);
  assert.equal(partial, 0);
});

test('--tree: a caller in another directory that holds the lock settles the assert-held of a helper', () => {
  const core = path.join(TREE, 'drivers/widget/core');
  const alone = check(['--no-index', core, path.join(TREE, 'include')]);
  assert.deepEqual(summary(alone.report), ['state.c:13 assert-held low']);
  assert.equal(
    alone.report.findings[0].message,
    '`widget_refresh()` calls `widget_bump_generation()` at line 13 without holding `widget_dev.state_lock`, which `widget_bump_generation()` requires held (it asserts it at line 7).',
  );
  const inTree = check(['--no-index', '--tree', TREE, core]);
  assert.deepEqual(summary(inTree.report), []);
  // Only the asked-for directory is reported (reset.c's lock-leak is context, not a finding here).
  assert.equal(inTree.report.coverage.files, 1);
  assert.equal(inTree.status, 0);
});

test('--tree and --jobs: bad values are usage errors with a clear message', () => {
  let r = runCli(['check', '--tree', path.join(dir, 'nope'), TREE]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--tree: no such directory: .*nope/);
  r = runCli(['check', '--jobs', '0', TREE]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /invalid --jobs '0': expected a whole number from 1 to 256/);
  r = runCli(['check', '--index', dir, '--no-index', TREE]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--index and --no-index contradict each other/);
});
