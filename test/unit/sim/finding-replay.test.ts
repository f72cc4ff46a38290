/**
 * A finding's Simulate link replays that finding: for every finding of every
 * engine fixture and of examples/, the simulation its scenario names breaks
 * the invariant the scenario names, its counterexample contains every step of
 * the finding's witness (file and line, in the witness's order), and the
 * panel's first line says what the finding claims: pins lost for
 * unmap-before-rollback, state left changed for unrestored-state, a deadlock
 * for lock-order and callback-under-lock, a freed or replaced object used for
 * stale-after-relock, a lock never released for lock-leak; assert-held says
 * plainly that it has no simulation.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Engine } from '../../../src/engine/engine';
import type { RuleId } from '../../../src/engine/types';
import { findingCounterexample, simulateFinding } from '../../../src/sim/finding';
import { assertReplaysWitness, CLAIMS } from './replay-assert';
import { engineFixtures, fixtureSource, sharedParser } from '../engine/engine-fixtures';

const root = path.resolve(__dirname, '../../../..');

function fixtureFiles(): string[] {
  const out: string[] = [];
  for (const dir of readdirSync(engineFixtures).sort()) {
    for (const f of readdirSync(path.join(engineFixtures, dir)).sort()) if (f.endsWith('.c')) out.push(`${dir}/${f}`);
  }
  return out;
}

test('every engine-fixture finding: its simulation replays its witness and breaks what it claims', async () => {
  const parser = await sharedParser();
  const seen = new Map<RuleId, Set<string>>();
  for (const rel of fixtureFiles()) {
    const src = fixtureSource(rel);
    const engine = new Engine({ parser });
    try {
      engine.setFile(src.path, src.text);
      for (const f of engine.analyze({ minConfidence: 'low' }).findings) {
        const sim = simulateFinding(f, engine.fileModel(f.scenario.file ?? f.file));
        assertReplaysWitness(f, sim, `${rel}: ${f.ruleId} in ${f.function}() line ${f.line}`);
        (seen.get(f.ruleId) ?? seen.set(f.ruleId, new Set()).get(f.ruleId)!).add(sim.kind);
      }
    } finally {
      engine.dispose();
    }
  }
  // every rule is exercised, and both models are (guards against an empty loop)
  for (const rule of Object.keys(CLAIMS) as RuleId[]) assert.ok(seen.has(rule), `no fixture finding of ${rule}`);
  assert.ok(
    seen.get('unmap-before-rollback')!.has('replace-flow'),
    'an unmap-before-rollback fixture replays on the replace flow',
  );
  assert.ok(seen.get('lock-order')!.has('lock-model'), 'lock-order replays on the lock model');
});

test('examples/c: every finding replays its witness; the detach-first toy shows line 32 and the pins gone', async () => {
  const parser = await sharedParser();
  const dir = path.join(root, 'examples/c');
  const engine = new Engine({ parser });
  try {
    for (const name of readdirSync(dir)
      .filter((n) => n.endsWith('.c'))
      .sort())
      engine.setFile(`examples/c/${name}`, readFileSync(path.join(dir, name), 'utf8'));
    const findings = engine.analyze({ minConfidence: 'low' }).findings;
    assert.ok(findings.length >= 3);
    for (const f of findings)
      assertReplaysWitness(
        f,
        simulateFinding(f, engine.fileModel(f.scenario.file ?? f.file)),
        `examples: ${f.ruleId} in ${f.function}() line ${f.line}`,
      );

    const ubr = findings.find(
      (f) => f.ruleId === 'unmap-before-rollback' && f.file === 'examples/c/toy_replace_detach_first.c',
    );
    assert.ok(ubr);
    const sim = simulateFinding(ubr, engine.fileModel(ubr.file));
    assert.equal(sim.kind, 'replace-flow');
    assert.match(
      sim.headline,
      /^The pins are gone: replace failed with -ENOMEM but did not leave things as they were: the driver's pinned pages are gone/,
    );
    const steps = findingCounterexample(sim)!.steps;
    // toy_detach_locked() at line 32 runs (its steps are reached through that call), the pins drop inside it,
    // iopt_add_access() at line 34 fails, the error path at 37 and 38 runs
    const replacer = steps.filter((s) => s.thread === 'replacer');
    const through32 = replacer.filter((s) => s.via?.some((v) => v.line === 32));
    assert.ok(through32.length >= 5, 'the detach helper called at line 32 is replayed step by step');
    const drop = steps.findIndex(
      (s, i) =>
        i > 0 &&
        s.state &&
        'pins' in s.state &&
        'pins' in steps[i - 1].state &&
        (s.state as { pins: Record<string, number> }).pins.A <
          (steps[i - 1].state as { pins: Record<string, number> }).pins.A,
    );
    assert.ok(drop > 0 && steps[drop].via?.some((v) => v.line === 32), 'the pins drop inside the call at line 32');
    const lines = replacer.map((s) => s.line);
    assert.ok(lines.indexOf(34) > drop, 'the fallible add comes after the drop');
    assert.ok(lines.indexOf(37) > lines.indexOf(34) && lines.indexOf(38) > lines.indexOf(37), 'then the error path');
  } finally {
    engine.dispose();
  }
});

test('a rule the simulator has never heard of replays on the lock model from its witness roles alone', () => {
  // what a later rule (a missing undo on an error path, say) fills in: related locations with roles
  const f = {
    ruleId: 'missing-undo' as RuleId,
    function: 'drv_setup',
    file: 'drv.c',
    line: 20,
    message: '`drv_pin()` pins at line 12, and the error return at line 20 leaves them pinned.',
    related: [
      { file: 'drv.c', line: 10, message: '`drv->lock` taken here', role: 'acquire' as const, lock: 'drv.lock' },
      { file: 'drv.c', line: 12, message: '`drv_pin()` pins the pages', role: 'irreversible' as const },
      { file: 'drv.c', line: 15, message: '`drv_map()` can fail here', role: 'fallible' as const },
      { file: 'drv.c', line: 20, message: 'returns without unpinning', role: 'return' as const },
      { file: 'drv.c', line: 30, message: 'the success path unpins here' },
    ],
    scenario: { variant: 'lock-model' as const, threads: [], faults: [], contract: 'status-quo' as const },
  };
  const sim = simulateFinding(f);
  assert.equal(sim.kind, 'lock-model');
  assert.equal(sim.invariant, 'failure-contract');
  assert.equal(
    sim.headline,
    'Cannot be undone: the error path returns the error (line 20), but what it did before cannot be undone: `drv_pin()` pins the pages (line 12)',
  );
  // the four witness steps, in order, and the context location is no step
  assert.deepEqual(
    sim.witness.map((w) => w.line),
    [10, 12, 15, 20],
  );
  const steps = findingCounterexample(sim)!.steps;
  assert.deepEqual(
    sim.placed.map((p) => steps[p!].line),
    [10, 12, 15, 20],
  );
  // the lock taken at line 10 is released when the path ends: one thread, no deadlock
  assert.equal(sim.model!.invariants.find((i) => i.id === 'no-deadlock')!.holds, true);
});
