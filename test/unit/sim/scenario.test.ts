import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Engine } from '../../../src/engine';
import type { Scenario } from '../../../src/engine';
import { createParser } from '../../../src/engine/node/create-parser';
import { requestFromScenario, simulate } from '../../../src/sim';

const FIXTURES = path.resolve(__dirname, '../../../../test/fixtures/sim');

test("a finding's Simulate link: the engine's unmap-before-rollback on the v8-like helper replays to a broken failure contract", async () => {
  const parser = await createParser('wasm');
  const engine = new Engine({ parser });
  try {
    const file = path.join(FIXTURES, 'v8-like.c');
    engine.setFile(file, readFileSync(file, 'utf8'));
    const finding = engine.analyze().findings.find((f) => f.ruleId === 'unmap-before-rollback');
    assert.ok(finding, 'the engine flags the v8-like helper');
    assert.equal(finding.scenario.variant, 'from-source');
    const req = requestFromScenario(finding.scenario, engine.fileModel(finding.scenario.file!));
    assert.ok(req.steps && req.steps.length > 10);
    const r = simulate(req);
    const inv = r.invariants.find((i) => i.id === finding.scenario.invariant)!;
    assert.equal(inv.holds, false);
    assert.ok(
      inv.counterexample!.steps.some((s) => s.line === finding.line),
      'the trace passes the line the finding points at',
    );

    const merged = path.join(FIXTURES, 'merged-like.c');
    engine.setFile(merged, readFileSync(merged, 'utf8'));
    assert.deepEqual(
      engine.analyze({ paths: [merged] }).findings.map((f) => f.ruleId),
      [],
    );
  } finally {
    engine.dispose();
    parser.dispose();
  }
});

test('built-in scenarios need no model; from-source without one is an error', () => {
  const s: Scenario = { variant: 'v7', threads: ['replacer'], faults: [], contract: 'status-quo' };
  assert.deepEqual(requestFromScenario(s), {
    variant: 'v7',
    threads: ['replacer'],
    faults: [],
    contract: 'status-quo',
  });
  assert.throws(
    () => requestFromScenario({ ...s, variant: 'from-source', file: 'a.c', function: 'f' }),
    /no model of f in a\.c/,
  );
});
