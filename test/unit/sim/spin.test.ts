import { test } from 'node:test';
import assert from 'node:assert/strict';
import { programsFor, simulate, SIM_FAULTS, SIM_THREADS } from '../../../src/sim';
import type { InvariantId, SimulationRequest } from '../../../src/sim';
import { emitPromela } from '../../../src/sim/promela';
import { parsePan, runSpin } from '../../../src/cli/spin-check';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Engine } from '../../../src/engine';
import { createParser } from '../../../src/engine/node/create-parser';
import { stepsFromSource } from '../../../src/sim/from-source';

const ALL = { threads: [...SIM_THREADS], faults: [...SIM_FAULTS] };

function crossCheck(req: SimulationRequest, expectBroken: InvariantId[]): void {
  const ours = simulate(req);
  assert.equal(ours.complete, true);
  const explorer = Object.fromEntries(ours.invariants.map((i) => [i.id, i.holds]));
  const spin = runSpin(emitPromela(programsFor(req), req.contract, `${req.variant} cross-check`));
  assert.ok(spin.states >= ours.states / 2, `spin explored ${spin.states} states, the explorer ${ours.states}`);
  assert.deepEqual(spin.verdicts, explorer, `spin and the explorer disagree\n${spin.output}`);
  // and both say what the protocol analysis expects, so the agreement is not vacuous
  const broken = Object.entries(explorer)
    .filter(([, holds]) => !holds)
    .map(([id]) => id)
    .sort();
  assert.deepEqual(broken, [...expectBroken].sort());
}

test('spin agrees with the explorer on merged (status-quo), every thread and fault', () => {
  crossCheck({ variant: 'merged', contract: 'status-quo', ...ALL }, []);
});

test('spin agrees with the explorer on merged (usable), every thread and fault', () => {
  crossCheck({ variant: 'merged', contract: 'usable', ...ALL }, []);
});

test('spin agrees with the explorer on v8 (status-quo), every thread and fault', () => {
  crossCheck({ variant: 'v8', contract: 'status-quo', ...ALL }, ['failure-contract', 'no-use-after-free']);
});

test('spin agrees with the explorer on v8 (usable) without the destroy thread', () => {
  crossCheck(
    {
      variant: 'v8',
      contract: 'usable',
      threads: ['replacer', 'driver', 'user-unmap', 'detach'],
      faults: ['add-access', 'reattach'],
    },
    ['failure-contract'],
  );
});

test('spin agrees on the deadlock of unmap-under-lock (pan: invalid end state)', () => {
  crossCheck({ variant: 'unmap-under-lock', contract: 'status-quo', threads: ['replacer', 'driver'], faults: [] }, [
    'no-deadlock',
  ]);
});

test('spin agrees with the explorer on from-source steps of the v8-like fixture', async () => {
  const parser = await createParser('wasm');
  const engine = new Engine({ parser });
  try {
    const file = path.resolve(__dirname, '../../../../test/fixtures/sim/v8-like.c');
    engine.setFile(file, readFileSync(file, 'utf8'));
    const model = engine.fileModel(file)!;
    const steps = stepsFromSource(
      model.functions.find((f) => f.name === 'demo_move_ioas')!,
      model,
    );
    crossCheck(
      {
        variant: 'from-source',
        steps,
        contract: 'usable',
        threads: ['replacer', 'driver', 'destroy'],
        faults: ['add-access'],
      },
      ['failure-contract', 'no-use-after-free'],
    );
  } finally {
    engine.dispose();
    parser.dispose();
  }
});

test('parsePan reads every reported breach and the state count', () => {
  const out = [
    'pan:1: assertion violated no_use_after_free (at depth 19)',
    'pan:2: assertion violated (failure_contract) (at depth 23)',
    'pan:3: invalid end state (at depth 12)',
    'State-vector 64 byte, depth reached 40, errors: 3',
    '    70589 states, stored',
  ].join('\n');
  const r = parsePan(out);
  assert.equal(r.states, 70589);
  assert.deepEqual(r.verdicts, {
    'no-deadlock': false,
    'failure-contract': false,
    'pin-attached': true,
    'no-use-after-free': false,
    'list-id-consistent': true,
  });
  assert.throws(
    () => parsePan('pan:1: assertion violated (something_else) (at depth 1)\nerrors: 1\n 3 states, stored'),
    /does not make/,
  );
});

test('the emitted model is deterministic and has one proctype per thread', () => {
  const req: SimulationRequest = { variant: 'v8', contract: 'status-quo', ...ALL };
  const a = emitPromela(programsFor(req), 'status-quo');
  assert.equal(a, emitPromela(programsFor(req), 'status-quo'));
  assert.deepEqual(
    [...a.matchAll(/^proctype (\w+)\(\)/gm)].map((m) => m[1]),
    ['replacer', 'driver', 'user_unmap', 'detach', 'destroy'],
  );
  assert.match(a, /assert\(no_use_after_free\)/);
});
