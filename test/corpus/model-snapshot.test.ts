/**
 * A refactoring guard: what the engine builds and reports on the Linux 6.12
 * corpus must not change unless someone means it to. Compared with a snapshot
 * stored in test/corpus/snapshots/model-snapshot.json:
 * - `check --format json --min-confidence low` (the bundle) over the iommufd
 *   corpus: every finding in full, the lock graph and coverage as digests;
 * - the same over each tree of the precision corpus: one digest of the
 *   findings per file, the lock graph and coverage as digests;
 * - every file's model (FileModel: functions, CFG blocks, events, edges,
 *   accesses), built in process, one digest per file, so a failure names the
 *   files whose model moved.
 * Digests are sha256 of canonical JSON (keys sorted), cut to 16 hex digits.
 * Paths are relative to the kernel tree; nothing machine-specific is stored.
 *
 * To regenerate after a deliberate change of behaviour (never automatically):
 *   UPDATE_SNAPSHOT=1 npm test -- test/corpus/model-snapshot
 * then review the diff of the snapshot file and commit it with the change.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { before, test } from 'node:test';
import { Engine } from '../../src/engine/engine';
import { readSources } from '../../src/engine/node/read-sources';
import type { JsonFinding, JsonReport } from '../../src/report/json';
import { repoRoot } from '../unit/cli/run-cli';
import { sharedParser } from '../unit/engine/engine-fixtures';
import { checkJson, checkPaths, kernelDir, PRECISION_TREES } from './kernel-corpus';

const SNAPSHOT = path.join(repoRoot, 'test/corpus/snapshots/model-snapshot.json');
const UPDATE = process.env.UPDATE_SNAPSHOT === '1';

interface CheckSnapshot {
  /** The iommufd corpus: every finding in full. */
  findings?: JsonFinding[];
  /** A precision tree: file → digest of that file's findings. */
  findingsByFile?: Record<string, string>;
  findingCount: number;
  lockGraph: string;
  coverage: string;
}

interface Snapshot {
  regenerate: string;
  /** Run name (`iommufd` or a precision tree) → its check output. */
  check: Record<string, CheckSnapshot>;
  /** `run name: file` → digest of the file's model. */
  models: Record<string, string>;
}

/** JSON with every object's keys sorted: the same value gives the same text whatever order it was built in. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    const sorted: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) sorted[k] = (v as Record<string, unknown>)[k];
    return sorted;
  });
}

function digest(value: unknown): string {
  return createHash('sha256').update(canonical(value)).digest('hex').slice(0, 16);
}

/** The runs: the iommufd corpus as the real-thing test checks it, then each precision tree on its own. */
function runs(kernel: string): { name: string; args: string[] }[] {
  return [
    { name: 'iommufd', args: checkPaths(kernel).map((p) => path.relative(kernel, p)) },
    ...PRECISION_TREES.map((tree) => ({ name: tree, args: [tree] })),
  ];
}

function checkSnapshot(name: string, report: JsonReport): CheckSnapshot {
  const out: CheckSnapshot = {
    findingCount: report.findings.length,
    lockGraph: digest(report.lockGraph),
    coverage: digest(report.coverage),
  };
  if (name === 'iommufd') out.findings = report.findings;
  else {
    const byFile = new Map<string, JsonFinding[]>();
    for (const f of report.findings) byFile.set(f.file, [...(byFile.get(f.file) ?? []), f]);
    out.findingsByFile = Object.fromEntries([...byFile.keys()].sort().map((file) => [file, digest(byFile.get(file))]));
  }
  return out;
}

/** Every file of a run modelled in one engine (as `check` does: layouts are shared across the run's files). */
async function modelDigests(kernel: string, name: string, args: string[], into: Record<string, string>): Promise<void> {
  const read = readSources(args.map((a) => path.join(kernel, a)));
  assert.deepEqual(read.missing, [], `${name}: missing paths`);
  // A generous parse timeout: a slow machine must not turn a parsed file into a timed-out one.
  const engine = new Engine({ parser: await sharedParser(), parseTimeoutMs: 120_000 });
  try {
    const files = read.files.map((f) => ({ rel: path.relative(kernel, f.path), text: f.text }));
    for (const f of files) engine.setFile(f.rel, f.text);
    for (const f of files) into[`${name}: ${f.rel}`] = digest(engine.fileModel(f.rel) ?? null);
  } finally {
    engine.dispose();
  }
}

let current: Snapshot;

before(async () => {
  const kernel = kernelDir();
  current = {
    regenerate: 'UPDATE_SNAPSHOT=1 npm test -- test/corpus/model-snapshot (only after a deliberate change)',
    check: {},
    models: {},
  };
  for (const { name, args } of runs(kernel)) {
    const { run, report } = checkJson(name, ['--min-confidence', 'low', '--no-index', ...args], kernel, 300_000);
    assert.ok(run.status === 0 || run.status === 1, `${name}: exit ${run.status}\n${run.stderr}`);
    current.check[name] = checkSnapshot(name, report);
    await modelDigests(kernel, name, args, current.models);
  }
  if (UPDATE) {
    mkdirSync(path.dirname(SNAPSHOT), { recursive: true });
    writeFileSync(SNAPSHOT, JSON.stringify(current, null, 1) + '\n');
  }
});

function stored(): Snapshot {
  assert.ok(
    existsSync(SNAPSHOT),
    `${path.relative(repoRoot, SNAPSHOT)} is missing: UPDATE_SNAPSHOT=1 npm test -- test/corpus/model-snapshot`,
  );
  return JSON.parse(readFileSync(SNAPSHOT, 'utf8')) as Snapshot;
}

test('the snapshot holds nothing machine-specific: kernel-relative paths only', () => {
  const text = readFileSync(SNAPSHOT, 'utf8');
  assert.ok(!text.includes(kernelDir()), 'the kernel tree path is in the snapshot');
  assert.ok(!text.includes(repoRoot), 'the repository path is in the snapshot');
  assert.doesNotMatch(text, /"\/(home|root|tmp|usr|work)\//);
});

test('the iommufd corpus: the same findings, in full, at low confidence', () => {
  const want = stored().check.iommufd;
  const got = current.check.iommufd;
  assert.ok(want && got);
  assert.ok(got.findingCount > 0, 'no findings at all: the run did not analyse the corpus');
  assert.deepEqual(got.findings, want.findings);
  assert.equal(got.findingCount, want.findingCount);
});

test('every run: the same lock graph and coverage', () => {
  const want = stored().check;
  assert.deepEqual(Object.keys(current.check), Object.keys(want));
  for (const [name, got] of Object.entries(current.check)) {
    assert.equal(got.lockGraph, want[name].lockGraph, `${name}: the lock graph changed`);
    assert.equal(got.coverage, want[name].coverage, `${name}: coverage changed`);
  }
});

test('each precision tree: the same findings in every file', () => {
  const want = stored().check;
  for (const [name, got] of Object.entries(current.check)) {
    if (name === 'iommufd') continue;
    assert.equal(got.findingCount, want[name].findingCount, `${name}: number of findings`);
    assert.deepEqual(got.findingsByFile, want[name].findingsByFile, `${name}: files whose findings changed`);
  }
});

test('every file: the same model (functions, blocks, events, edges, accesses)', () => {
  const want = stored().models;
  assert.ok(Object.keys(current.models).length > 300, `only ${Object.keys(current.models).length} files modelled`);
  const changed = Object.keys({ ...want, ...current.models })
    .filter((k) => want[k] !== current.models[k])
    .sort();
  assert.deepEqual(changed, [], `files whose model changed (or appeared, or went): ${changed.join(', ')}`);
});
