/**
 * The real-bug benchmark: each bug of test/corpus/real-bugs.ts is put back
 * into Linux 6.12 (its anchored edits applied to the files `check` reads) and
 * the engine runs over the whole corpus at the default confidence. A bug
 * marked `caught` must give a finding of its rule in its function on the
 * edited tree and none on 6.12; a bug marked `missed` must still give none,
 * so README's table stays true. An anchor that no longer matches exactly
 * once fails the test.
 *
 * Each bug is analysed alone (one engine, the bug's files swapped in and
 * back out: the incremental path equals a fresh analysis), so a finding is
 * attributed to the bug that caused it. The CLI bundle then runs once over a
 * temporary copy of the corpus with every put-back edit applied, as a user
 * would run `check` on such a tree.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Engine } from '../../src/engine/engine';
import { readSources } from '../../src/engine/node/read-sources';
import type { Finding } from '../../src/engine/types';
import type { JsonReport } from '../../src/report/json';
import { repoRoot, runCli } from '../unit/cli/run-cli';
import { sharedParser } from '../unit/engine/engine-fixtures';
import { simulateFinding, type FindingSimulation } from '../../src/sim/finding';
import { assertReplaysWitness } from '../unit/sim/replay-assert';
import { checkPaths, kernelDir } from './kernel-corpus';
import {
  AnchorError,
  applyEdits,
  bugImages,
  goneBugs,
  presentBugs,
  REAL_BUGS,
  realBugsTable,
  type BugFileImage,
  type PresentBug,
  type RealBug,
} from './real-bugs';

interface Outcome {
  images?: BugFileImage[];
  anchorError?: string;
  /** Findings of the bug's rule in its functions, on 6.12 and on the edited tree. */
  before: Finding[];
  after: Finding[];
  /** Each finding on the edited tree replayed by its Simulate link (with the edited file's model). */
  simulations: FindingSimulation[];
}

let kernel = '';
const outcomes = new Map<string, Outcome>();

function inBug(bug: RealBug, f: Finding): boolean {
  return f.ruleId === bug.rule && f.file === bug.file && bug.functions.includes(f.function);
}

function show(fs: Finding[]): string[] {
  return fs.map((f) => `${f.ruleId} ${f.function} ${f.file}:${f.line} [${f.confidence}] ${f.message}`);
}

before(async () => {
  kernel = kernelDir();
  const { files } = readSources(checkPaths(kernel));
  const engine = new Engine({ parser: await sharedParser() });
  try {
    const original = new Map<string, string>();
    for (const f of files) {
      const rel = path.relative(kernel, f.path);
      original.set(rel, f.text);
      engine.setFile(rel, f.text);
    }
    const baseline = engine.analyze().findings;
    for (const bug of presentBugs()) {
      const outcome: Outcome = { before: baseline.filter((f) => inBug(bug, f)), after: [], simulations: [] };
      outcomes.set(bug.id, outcome);
      try {
        outcome.images = bugImages(kernel, bug);
      } catch (e) {
        if (!(e instanceof AnchorError)) throw e;
        outcome.anchorError = e.message;
        continue;
      }
      for (const img of outcome.images) {
        assert.ok(original.has(img.path), `${bug.id}: ${img.path} is not among the files check reads`);
        engine.setFile(img.path, img.pre);
      }
      try {
        outcome.after = engine.analyze().findings.filter((f) => inBug(bug, f));
        outcome.simulations = outcome.after.map((f) => simulateFinding(f, engine.fileModel(f.scenario.file ?? f.file)));
      } finally {
        for (const img of outcome.images) engine.setFile(img.path, original.get(img.path)!);
      }
    }
  } finally {
    engine.dispose();
  }
});

test('the benchmark holds at least 10 real bugs present in 6.12, each well described', () => {
  const present = presentBugs();
  assert.ok(present.length >= 10, `only ${present.length} bugs with a put-back edit`);
  const ids = REAL_BUGS.map((b) => b.id);
  assert.deepEqual([...new Set(ids)], ids, 'bug ids must be unique');
  for (const bug of REAL_BUGS) {
    assert.match(bug.origin.date, /^20(2[2-5])-\d\d(-\d\d)?$/, `${bug.id}: date`);
    assert.ok(bug.origin.commit || bug.origin.messageId || bug.origin.reported, `${bug.id}: no origin`);
    assert.ok(bug.functions.length > 0 && bug.what.length > 40, `${bug.id}: describe the function and what went wrong`);
  }
  for (const bug of present) {
    assert.ok(
      bug.edits.length > 0 && bug.edits.every((e) => e.find.length > 0 && e.find !== e.replace),
      `${bug.id}: edits`,
    );
    if (bug.status === 'missed')
      assert.ok((bug.reason ?? '').length > 40, `${bug.id}: a missed bug says what the model lacks`);
  }
  for (const bug of goneBugs())
    assert.ok(
      bug.gone.length > 20 && bug.fixture.length > 40,
      `${bug.id}: gone bugs keep facts and a fixture description`,
    );
});

for (const bug of presentBugs()) {
  test(`${bug.id} (${bug.class}, ${bug.rule}): ${bug.status}`, () => {
    const o = outcomes.get(bug.id);
    assert.ok(o, 'not analysed');
    assert.equal(o.anchorError, undefined, o.anchorError);
    for (const img of o.images!) assert.notEqual(img.pre, img.post, `${img.path}: the edit changed nothing`);
    assert.deepEqual(
      show(o.before),
      [],
      `6.12 as released already has a ${bug.rule} finding in ${bug.functions.join('/')}`,
    );
    if (bug.status === 'caught') {
      assert.ok(
        o.after.length > 0,
        `expected a ${bug.rule} finding in ${bug.functions.join('/')} on the edited tree; none (mark it missed with a reason?)`,
      );
    } else {
      assert.deepEqual(
        show(o.after),
        [],
        'now caught: set status "caught" in test/corpus/real-bugs.ts and update README\'s table',
      );
    }
  });
}

test('a put-back anchor that is missing or ambiguous is an error, never a silent skip', () => {
  const text = 'a();\nb();\na();\n';
  assert.equal(applyEdits('f.c', text, [{ file: 'f.c', find: 'b();\n', replace: '' }]), 'a();\na();\n');
  assert.equal(
    applyEdits('f.c', text, [{ file: 'g.c', find: 'zz', replace: '' }]),
    text,
    'edits of other files are not applied',
  );
  assert.throws(() => applyEdits('f.c', text, [{ file: 'f.c', find: 'c();', replace: '' }]), AnchorError);
  assert.throws(() => applyEdits('f.c', text, [{ file: 'f.c', find: 'a();', replace: '' }]), /occurs 2 times/);
  // A block between two short anchors, both included; the end anchor must follow the start.
  assert.equal(
    applyEdits('f.c', text, [{ file: 'f.c', find: 'b();', through: 'a();\n', replace: 'c();\n' }]),
    'a();\nc();\n',
  );
  assert.throws(
    () => applyEdits('f.c', text, [{ file: 'f.c', find: 'b();', through: 'z();', replace: '' }]),
    AnchorError,
  );
});

test('README has the real-bug table, generated from the data (one row per bug with its status and reason)', () => {
  const docs = readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
  const start = docs.indexOf('## Real bugs from kernel history');
  assert.ok(start >= 0, 'README.md has no "Real bugs from kernel history" section');
  const end = docs.indexOf('\n## ', start + 1);
  const section = docs.slice(start, end < 0 ? docs.length : end);
  assert.ok(
    section.includes(realBugsTable()),
    "README's real-bug tables differ from the data: regenerate them with\n  node -e \"console.log(require('./out/test/corpus/real-bugs').realBugsTable())\"",
  );
});

let tmp = '';
after(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

test('check (the CLI bundle) over a copy of the corpus with every bug put back reports each caught bug', () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'iommufd-real-bugs-'));
  const args = checkPaths(kernel).map((p) => path.relative(kernel, p));
  for (const rel of args) {
    mkdirSync(path.dirname(path.join(tmp, rel)), { recursive: true });
    cpSync(path.join(kernel, rel), path.join(tmp, rel), { recursive: true });
  }
  const present = presentBugs();
  const edits = present.flatMap((b) => b.edits);
  for (const rel of new Set(edits.map((e) => e.file))) {
    const file = path.join(tmp, rel);
    writeFileSync(file, applyEdits(rel, readFileSync(file, 'utf8'), edits));
  }
  const run = runCli(['check', '--format', 'json', ...args], { cwd: tmp, timeoutMs: 180_000 });
  assert.equal(run.signal, null);
  assert.ok(run.status === 0 || run.status === 1, `exit ${run.status}\n${run.stderr.slice(0, 2000)}`);
  const report = JSON.parse(run.stdout) as JsonReport;
  assert.ok(report.coverage.files >= 50, `only ${report.coverage.files} files`);
  const caught: PresentBug[] = present.filter((b) => b.status === 'caught');
  for (const bug of caught) {
    assert.ok(
      report.findings.some((f) => inBug(bug, f as Finding)),
      `${bug.id}: check on the edited tree reports no ${bug.rule} in ${bug.functions.join('/')}`,
    );
  }
});

test("every caught bug's finding replays in the simulator: its witness in order, the claim it makes broken", () => {
  // active as soon as a bug is caught: each caught bug gives at least one finding, and each is replayed
  const caught = presentBugs().filter((b) => b.status === 'caught').length;
  let replayed = 0;
  for (const bug of presentBugs()) {
    const o = outcomes.get(bug.id);
    if (!o || o.anchorError) continue;
    o.after.forEach((f, i) => {
      assertReplaysWitness(f, o.simulations[i], `${bug.id}: ${f.ruleId} in ${f.function}() ${f.file}:${f.line}`);
      replayed++;
    });
  }
  assert.ok(replayed >= caught, `${replayed} findings replayed for ${caught} caught bugs`);
});
