import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Engine } from '../../../src/engine';
import type { CParser } from '../../../src/engine';
import { createParser } from '../../../src/engine/node/create-parser';
import { simulate, variantSteps, SIM_FAULTS, SIM_THREADS } from '../../../src/sim';
import type { SimContract, SimFault, SimThread, SimulationRequest, SourceStep } from '../../../src/sim';
import { isReplaceHelper, stepsFromSource } from '../../../src/sim/from-source';

const FIXTURES = path.resolve(__dirname, '../../../../test/fixtures/sim');

let parser: CParser;
let engine: Engine;
before(async () => {
  parser = await createParser('wasm');
  engine = new Engine({ parser });
});
after(() => {
  engine.dispose();
  parser.dispose();
});

function stepsOf(file: string, fn: string, dir = FIXTURES): SourceStep[] {
  const p = path.join(dir, file);
  engine.setFile(p, readFileSync(p, 'utf8'));
  const fileModel = engine.fileModel(p)!;
  const model = fileModel.functions.find((f) => f.name === fn);
  assert.ok(model, `${fn} in ${file}`);
  return stepsFromSource(model, fileModel);
}

/** The parts of a step that drive the simulation (not its text or line). */
const shape = (steps: SourceStep[]) =>
  steps.map(({ op, target, listId, onFail, error }) => ({ op, target, listId, onFail, error }));

const verdicts = (req: SimulationRequest) => simulate(req).invariants.map((i) => `${i.id}:${i.holds}`);

const SCENARIOS: { threads: SimThread[]; faults: SimFault[]; contract: SimContract }[] = [
  { threads: ['replacer'], faults: ['add-access'], contract: 'status-quo' },
  { threads: ['replacer', 'destroy'], faults: ['add-access'], contract: 'usable' },
  { threads: ['replacer'], faults: ['add-access', 'reattach'], contract: 'usable' },
  { threads: [...SIM_THREADS], faults: [...SIM_FAULTS], contract: 'status-quo' },
  { threads: [...SIM_THREADS], faults: [...SIM_FAULTS], contract: 'usable' },
];

test('the merged-like fixture yields the merged step list, with its source lines', () => {
  const steps = stepsOf('merged-like.c', 'demo_switch_ioas');
  assert.deepEqual(shape(steps), shape(variantSteps('merged')));
  const line = (op: string) => steps.find((s) => s.op === op)!.line;
  assert.equal(line('add-access'), 57);
  assert.equal(line('unmap-callback'), 67);
  assert.equal(line('remove-access'), 70);
  assert.equal(line('restore-ioas'), 60);
  assert.ok(steps.every((s) => s.file?.endsWith('merged-like.c') && typeof s.line === 'number'));
  assert.equal(steps.find((s) => s.op === 'remove-access')!.listId, 'saved');
});

test('the v8-like fixture yields the v8 step list: detach first, re-attach by id on failure', () => {
  const steps = stepsOf('v8-like.c', 'demo_move_ioas');
  assert.deepEqual(shape(steps), shape(variantSteps('v8')));
  const reattach = steps.find((s) => s.op === 'reattach')!;
  assert.equal(reattach.line, 69);
  assert.equal(reattach.action, 'demo_move_ioas(access, prev->obj.id)');
  assert.equal(steps.find((s) => s.op === 'remove-access')!.listId, 'field');
});

for (const [file, fn, builtin] of [
  ['merged-like.c', 'demo_switch_ioas', 'merged'],
  ['v8-like.c', 'demo_move_ioas', 'v8'],
] as const) {
  test(`from-source on ${file} gives the same verdicts as the built-in ${builtin}`, () => {
    const steps = stepsOf(file, fn);
    for (const sc of SCENARIOS) {
      assert.deepEqual(
        verdicts({ variant: 'from-source', steps, ...sc }),
        verdicts({ variant: builtin, ...sc }),
        JSON.stringify(sc),
      );
    }
  });
}

// The engine's own rule fixtures, written by another hand: the same mapping must hold.
const ENGINE_FIXTURES = path.resolve(__dirname, '../../../../test/fixtures/engine');

test('a same-file detach helper is followed inline (v8 shape from the engine fixture)', () => {
  const steps = stepsOf('unmap-before-rollback/v8-detach-first.c', 'emu_access_set_ioas', ENGINE_FIXTURES);
  const ops = steps.map((s) => s.op);
  // the callee's own save of access->ioas shows up as a second save: harmless, the value is the same
  assert.deepEqual(
    ops.filter((op, i) => !(op === 'save-cur' && i > 0)),
    variantSteps('v8')
      .map((s) => s.op)
      .filter((op) => op !== 'same-check'),
  );
  assert.ok(
    steps.some((s) => s.op === 'unmap-callback' && s.line === 12),
    'the callback inside the callee keeps its line',
  );
  // the put of the lookup's reference on the new IOAS is not a users reference
  assert.ok(!steps.some((s) => s.op === 'put-ref' && s.target === 'new'));
  for (const sc of SCENARIOS)
    assert.deepEqual(
      verdicts({ variant: 'from-source', steps, ...sc }),
      verdicts({ variant: 'v8', ...sc }),
      JSON.stringify(sc),
    );
});

test('engine fixtures: the merged order holds everything, v7 loses the list id', () => {
  const merged = stepsOf('clean/merged-change.c', 'xacc_switch_ioas', ENGINE_FIXTURES);
  assert.deepEqual(shape(merged), shape(variantSteps('merged')));
  const v7 = stepsOf('unrestored-state/v7-list-id.c', 'mdev_access_move', ENGINE_FIXTURES);
  const r = simulate({
    variant: 'from-source',
    steps: v7,
    threads: ['replacer'],
    faults: ['add-access'],
    contract: 'status-quo',
  });
  assert.deepEqual(
    r.invariants.filter((i) => !i.holds).map((i) => i.id),
    ['list-id-consistent'],
  );
  assert.equal(r.invariants.find((i) => i.id === 'list-id-consistent')!.counterexample!.steps.at(-1)!.line, 21);
});

test('a function that takes ioas_lock itself has its own lock folded into the replacer prologue', () => {
  const steps = stepsOf('unmap-before-rollback/inline-detach-readd.c', 'vdev_acc_rebind', ENGINE_FIXTURES);
  assert.equal(steps[0].op, 'save-cur', 'the leading mutex_lock is the prologue now');
  assert.ok(
    !steps.some((s, i) => s.op === 'unlock' && steps[i + 1]?.op === 'return'),
    'no unlock right before a return',
  );
  const readd = steps.find((s) => s.op === 'add-access' && s.target === 'cur')!;
  assert.equal(readd.line, 28);
  // a failed add re-adds the old IOAS: usable holds, the pins are still gone
  const sq = simulate({
    variant: 'from-source',
    steps,
    threads: ['replacer'],
    faults: ['add-access'],
    contract: 'status-quo',
  });
  assert.match(
    sq.invariants.find((i) => i.id === 'failure-contract')!.counterexample!.message,
    /pinned pages are gone/,
  );
  const usable = simulate({
    variant: 'from-source',
    steps,
    threads: ['replacer'],
    faults: ['add-access'],
    contract: 'usable',
  });
  assert.ok(usable.invariants.every((i) => i.holds));
  // unless the re-add fails too
  const both = simulate({
    variant: 'from-source',
    steps,
    threads: ['replacer'],
    faults: ['add-access', 'reattach'],
    contract: 'usable',
  });
  assert.equal(both.invariants.find((i) => i.id === 'failure-contract')!.holds, false);
});

test("from-source traces point at the fixture's lines", () => {
  const steps = stepsOf('v8-like.c', 'demo_move_ioas');
  const r = simulate({
    variant: 'from-source',
    steps,
    threads: ['replacer'],
    faults: ['add-access'],
    contract: 'status-quo',
  });
  const cx = r.invariants.find((i) => i.id === 'failure-contract')!.counterexample!;
  assert.equal(cx.steps.length, 23);
  const unmap = cx.steps.filter((s) => s.line === 61);
  assert.ok(unmap.length >= 4, 'the callback steps carry the line of access->ops->unmap()');
  assert.ok(unmap.some((s) => s.action.includes('unpin all') && s.state.pins.A === 0));
  const add = cx.steps.find((s) => s.line === 66)!;
  assert.equal(add.action, 'iopt_add_access(&target->iopt, access)');
  assert.ok(add.file!.endsWith('v8-like.c'));
  // the prologue and epilogue are the simulator's own and have no line
  assert.equal(cx.steps[0].line, undefined);
});

test('isReplaceHelper tells a replace helper from other functions', () => {
  assert.equal(isReplaceHelper(stepsOf('merged-like.c', 'demo_switch_ioas')), true);
  assert.equal(
    isReplaceHelper(stepsOf('callback-under-lock/unmap-under-ioas-lock.c', 'acc_flush_all', ENGINE_FIXTURES)),
    false,
  );
});

test('simulate refuses from-source without steps', () => {
  assert.throws(
    () => simulate({ variant: 'from-source', threads: ['replacer'], faults: [], contract: 'usable' }),
    /needs steps/,
  );
});
