/**
 * Every finding's "Simulate" link must show its problem: the scenario it
 * carries, replayed in the simulator against the model of the file it points
 * at, violates exactly the invariant the scenario names. Runs every finding of
 * every engine fixture (each fixture analysed on its own, at low confidence so
 * none is left out).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { Engine } from '../../../src/engine/engine';
import type { Finding } from '../../../src/engine/types';
import { requestFromScenario, simulate } from '../../../src/sim';
import { engineFixtures, fixtureSource, sharedParser } from './engine-fixtures';

function fixtureFiles(): string[] {
  const out: string[] = [];
  for (const dir of readdirSync(engineFixtures).sort()) {
    for (const f of readdirSync(path.join(engineFixtures, dir)).sort()) if (f.endsWith('.c')) out.push(`${dir}/${f}`);
  }
  return out;
}

test('every fixture finding replays in the simulator and breaks the invariant its scenario names', async () => {
  const parser = await sharedParser();
  const replayed: string[] = [];
  for (const rel of fixtureFiles()) {
    const src = fixtureSource(rel);
    const engine = new Engine({ parser });
    try {
      engine.setFile(src.path, src.text);
      const { findings } = engine.analyze({ minConfidence: 'low' });
      for (const f of findings) {
        replayed.push(`${rel}: ${f.ruleId}`);
        assertReplays(f, engine, rel);
      }
    } finally {
      engine.dispose();
    }
  }
  // every rule with a fixture is exercised (guards against an empty loop)
  for (const rule of ['lock-order', 'callback-under-lock', 'unmap-before-rollback', 'unrestored-state', 'stale-after-relock', 'lock-leak', 'assert-held']) {
    assert.ok(replayed.some((r) => r.endsWith(`: ${rule}`)), `no fixture finding of ${rule} was replayed`);
  }
});

function assertReplays(f: Finding, engine: Engine, rel: string): void {
  const where = `${rel}: ${f.ruleId} in ${f.function}() line ${f.line} (scenario ${f.scenario.variant})`;
  const invariant = f.scenario.invariant;
  assert.ok(invariant, `${where}: the scenario names no invariant`);
  const model = f.scenario.file ? engine.fileModel(f.scenario.file) : undefined;
  const result = simulate(requestFromScenario(f.scenario, model));
  const verdict = result.invariants.find((i) => i.id === invariant);
  assert.ok(verdict, `${where}: the simulator has no invariant ${invariant}`);
  const broken = result.invariants.filter((i) => !i.holds).map((i) => i.id);
  assert.equal(verdict.holds, false, `${where}: ${invariant} holds (broken: ${broken.join(', ') || 'none'})`);
}
