/**
 * The editor's engine thread (src/extension/node/engine-thread.ts running the
 * built dist/engine-worker.js): the same results as the engine in this
 * thread, the persistent index answering a second session without a parse,
 * and a bad index (corrupt entries, a folder that cannot be written) giving a
 * note while the results stay the same.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Engine } from '../../../src/engine/engine';
import { createParser } from '../../../src/engine/node/create-parser';
import type { LiveEngine } from '../../../src/extension/analysis/engine-api';
import { workerLiveEngine } from '../../../src/extension/node/engine-thread';

const root = path.resolve(__dirname, '../../../..');
const dist = path.join(root, 'dist');
const WS = path.join(root, 'test/fixtures/e2e-workspace');
const FILES = ['split/relay_move.c', 'split/relay_drop.c', 'mdev_switch.c'].map((f) => path.join(WS, f));
const OPEN = [FILES[0], FILES[2]];
let dir = '';

before(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'iommufd-engine-thread-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** Sets every file, analyses the open ones; how many came from the index. */
async function session(
  engine: LiveEngine,
): Promise<{ fromIndex: number; findings: string[]; json: string; notes: string[] }> {
  try {
    let fromIndex = 0;
    for (const f of FILES) if ((await engine.setFile(f, readFileSync(f, 'utf8'))).fromIndex) fromIndex++;
    const result = await engine.analyze({ paths: OPEN, minConfidence: 'low' });
    return {
      fromIndex,
      findings: result.findings.map((f) => `${path.relative(WS, f.file)}:${f.line} ${f.ruleId}`),
      json: JSON.stringify(result.findings),
      notes: await engine.indexNotes(),
    };
  } finally {
    engine.dispose();
  }
}

function entries(index: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const n of readdirSync(d)) {
      const p = path.join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(p);
    }
  };
  walk(index);
  return out.sort();
}

test('the engine thread reports what the engine in this thread does, and the index answers the next session', async () => {
  const parser = await createParser('wasm');
  const here = new Engine({ parser });
  for (const f of FILES) here.setFile(f, readFileSync(f, 'utf8'));
  const expected = JSON.stringify(here.analyze({ paths: OPEN, minConfidence: 'low' }).findings);
  here.dispose();
  parser.dispose();

  const index = path.join(dir, 'warm');
  const cold = await session(workerLiveEngine(dist, { indexDir: index }));
  assert.equal(cold.json, expected);
  assert.deepEqual(cold.findings, [
    'mdev_switch.c:30 unmap-before-rollback',
    'split/relay_move.c:19 unmap-before-rollback',
  ]);
  assert.equal(cold.fromIndex, 0);
  const written = entries(index);
  assert.ok(written.length >= FILES.length, `an entry per file: ${written.length}`);
  const warm = await session(workerLiveEngine(dist, { indexDir: index }));
  assert.equal(warm.fromIndex, FILES.length, 'no file parsed again');
  assert.equal(warm.json, expected);
  assert.deepEqual(entries(index), written, 'a warm session writes nothing new');
});

test('typing into a file writes nothing to the index (one entry per keystroke would grow it without end)', async () => {
  const index = path.join(dir, 'typing');
  await session(workerLiveEngine(dist, { indexDir: index }));
  const written = entries(index);
  const engine = workerLiveEngine(dist, { indexDir: index });
  try {
    for (const f of FILES) await engine.setFile(f, readFileSync(f, 'utf8'));
    const text = readFileSync(OPEN[0], 'utf8');
    const at = text.indexOf('\trc = iopt_add_access(');
    for (let i = 0; i < 6; i++) {
      await engine.editFile(OPEN[0], [{ start: at, deletedLength: 0, inserted: ' ' }]);
      const r = await engine.analyze({ paths: OPEN, minConfidence: 'low' });
      // still analysed on every keystroke: the finding follows the text
      assert.equal(r.findings.find((f) => f.file === OPEN[0])?.line, 19);
    }
  } finally {
    engine.dispose();
  }
  assert.deepEqual(entries(index), written);
});

test('corrupt index entries are set aside with a note, rebuilt, and the results are unchanged', async () => {
  const index = path.join(dir, 'corrupt');
  const cold = await session(workerLiveEngine(dist, { indexDir: index }));
  assert.deepEqual(cold.notes, []);
  for (const e of entries(index)) writeFileSync(e, 'not an index entry\n');
  const again = await session(workerLiveEngine(dist, { indexDir: index }));
  assert.equal(again.json, cold.json);
  assert.equal(again.fromIndex, 0);
  assert.equal(again.notes.length, 1, again.notes.join('\n'));
  assert.match(again.notes[0], /set aside/);
  assert.ok(
    entries(index).some((p) => /\.set-aside-/.test(p)),
    'the bad entries are kept aside, not deleted',
  );
  const rebuilt = await session(workerLiveEngine(dist, { indexDir: index }));
  assert.equal(rebuilt.fromIndex, FILES.length);
  assert.deepEqual(rebuilt.notes, []);
  assert.equal(rebuilt.json, cold.json);
});

test('an index folder that cannot be written gives one note, and the results are unchanged', async () => {
  const blocker = path.join(dir, 'a-file');
  writeFileSync(blocker, 'not a folder\n');
  const engine = workerLiveEngine(dist, { indexDir: path.join(blocker, 'index') });
  let fromIndex = 0;
  for (const f of FILES) if ((await engine.setFile(f, readFileSync(f, 'utf8'))).fromIndex) fromIndex++;
  const result = await engine.analyze({ paths: OPEN, minConfidence: 'low' });
  const notes = await engine.indexNotes();
  engine.dispose();
  assert.equal(fromIndex, 0);
  assert.deepEqual(
    result.findings.map((f) => `${path.relative(WS, f.file)}:${f.line} ${f.ruleId}`),
    ['mdev_switch.c:30 unmap-before-rollback', 'split/relay_move.c:19 unmap-before-rollback'],
  );
  assert.equal(notes.length, 1, notes.join('\n'));
  assert.match(
    notes[0],
    /cannot be written \(ENOTDIR\): results are computed as usual but not stored for the next run/,
  );
});

test('a call after the thread was disposed is refused with the reason, never left hanging', async () => {
  const engine = workerLiveEngine(dist, {});
  engine.dispose();
  await assert.rejects(engine.analyze({}), /the engine was disposed/);
});
