/**
 * missing-undo's overwrite form replayed: the witness model calls the
 * function twice; the first call's allocation is still owned by the field
 * when the second stores over it, so no-leak breaks, in the finding's words.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findingCounterexample, simulateFinding } from '../../../src/sim/finding';
import { viewOfFinding } from '../../../src/sim/panel-view';
import { analyzeFixtures, lineOf } from '../engine/engine-fixtures';
import { assertReplaysWitness } from './replay-assert';

const OWNED = 'missing-undo/owned-field.c';

test('an owned field overwritten: two calls, allocation #1 still owned when #2 is stored over it, leaked', async () => {
  const found = (await analyzeFixtures([OWNED], { minConfidence: 'low' })).findings.filter(
    (x) => x.ruleId === 'missing-undo',
  );
  assert.equal(found.length, 1);
  const [f] = found;
  const store = lineOf(OWNED, 's->saved = kmemdup(');
  assert.equal(f.scenario.invariant, 'no-leak');
  const sim = simulateFinding(f);
  assertReplaysWitness(f, sim, 'owned-field.c');
  assert.equal(sim.kind, 'lock-model');
  const leak =
    `CPU1 at line ${store} stores allocation #2 from \`kmemdup()\` in \`s->saved\`, which still holds allocation #1 ` +
    `(from \`kmemdup()\`, stored by CPU0 at line ${store}): nothing released it in between, so #1 is unreachable: leaked`;
  assert.equal(sim.headline, `Allocation leaked: ${leak}`);
  assert.deepEqual(sim.model?.threadRoles, ['sensor_set_state()', 'sensor_set_state() called again']);
  // the other invariants hold: no error path, no lock, no stale use
  assert.deepEqual(
    sim.model?.invariants.map((i) => `${i.id}:${i.holds}`),
    ['no-deadlock:true', 'failure-contract:true', 'no-use-after-free:true', 'no-leak:false'],
  );
  const c = findingCounterexample(sim)!;
  assert.equal(c.message, leak);
  assert.deepEqual(
    c.steps.map((s) => {
      const st = s.state as { owns: string[]; leaked: string[] };
      return `${s.thread} ${s.line} ${s.action} | owns ${st.owns.join(', ')} | leaked ${st.leaked.join(', ') || '-'}${s.violation ? ` <-- ${s.violation}` : ''}`;
    }),
    [
      `CPU0 ${store} \`s->saved\` given a new allocation from \`kmemdup()\` | owns s->saved: #1 | leaked -`,
      `CPU1 ${store} \`s->saved\` given a new allocation from \`kmemdup()\` | owns s->saved: #2 | leaked #1 from kmemdup() <-- no-leak`,
    ],
  );
  assert.deepEqual(sim.placed, [0]);
  // the panel: one lane per call, the owning field and the lost allocation as the state columns
  const view = viewOfFinding(sim);
  const [trace] = view.traces;
  assert.deepEqual(trace.lanes, ['CPU0 sensor_set_state()', 'CPU1 sensor_set_state() called again']);
  assert.deepEqual(
    trace.rows.map((r) =>
      r.state
        .filter((c) => c.owner === 'shared')
        .map((c) => `${c.key}=${c.value}${c.changed ? '*' : ''}`)
        .join(' '),
    ),
    ['owns=s->saved: #1* leaked=-', 'owns=s->saved: #2* leaked=#1 from kmemdup()*'],
  );
  assert.deepEqual(
    trace.rows.map((r) => [r.lane, r.line, r.violation]),
    [
      [0, store, undefined],
      [1, store, 'no-leak'],
    ],
  );
});

test('a lock-model trace without an owning field keeps its columns (undoable, changed, object)', () => {
  const sim = simulateFinding({
    ruleId: 'missing-undo',
    function: 'drv_setup',
    file: 'drv.c',
    line: 20,
    message: '`drv_pin()` pins at line 12, and the error return at line 20 leaves them pinned.',
    related: [
      { file: 'drv.c', line: 12, message: '`drv_pin()` pins the pages', role: 'irreversible' },
      { file: 'drv.c', line: 14, message: '`drv_map()` can fail', role: 'fallible' },
      { file: 'drv.c', line: 20, message: 'returns the error', role: 'return' },
    ],
    scenario: { variant: 'lock-model', threads: [], faults: [], contract: 'status-quo', invariant: 'failure-contract' },
  });
  assert.equal(sim.model?.invariants.find((i) => i.id === 'no-leak')?.holds, true);
  const [trace] = viewOfFinding(sim).traces;
  assert.deepEqual(
    trace.rows[0].state.filter((c) => c.owner === 'shared').map((c) => c.key),
    ['undoable', 'changed', 'object'],
  );
});

const TEARDOWN = 'missing-undo/teardown-entries.c';

test('a teardown that leaves a container: the mover parks entry #1, then the last reference goes and the object is freed with it', async () => {
  const [f] = (await analyzeFixtures([TEARDOWN], { minConfidence: 'low' })).findings.filter(
    (x) => x.ruleId === 'missing-undo',
  );
  assert.ok(f);
  const drain = lineOf(TEARDOWN, 'list_for_each_entry_safe(req, next, &mb->queue, node)');
  const end = lineOf(TEARDOWN, 'mutex_destroy(&mb->mutex);') + 1;
  const move = lineOf(TEARDOWN, 'rc = xa_alloc(&mb->parked');
  const sim = simulateFinding(f);
  assertReplaysWitness(f, sim, 'teardown-entries.c');
  const leak =
    `CPU0 at line ${end} frees the object while \`mb->parked\` still holds entry #1 (moved from \`mb->queue\`, ` +
    `stored by CPU1 at line ${move}): nothing freed it, so #1 is unreachable: leaked`;
  assert.equal(sim.headline, `Allocation leaked: ${leak}`);
  const c = findingCounterexample(sim)!;
  assert.deepEqual(
    c.steps.map((s) => {
      const st = s.state as { owns: string[]; leaked: string[] };
      return `${s.thread} ${s.line ?? '-'} ${s.action} | owns ${st.owns.join(', ') || '-'} | leaked ${st.leaked.join(', ') || '-'}${s.violation ? ` <-- ${s.violation}` : ''}`;
    }),
    [
      `CPU1 ${move} \`mb->parked\` given an entry moved from \`mb->queue\` | owns mb->parked: #1 | leaked -`,
      'CPU1 - leave (release what is held) | owns mb->parked: #1 | leaked -',
      'CPU0 - the last reference is dropped: the teardown runs | owns mb->parked: #1 | leaked -',
      `CPU0 ${drain} call | owns mb->parked: #1 | leaked -`,
      `CPU0 ${end} \`mbox_destroy()\` returns: the object is gone, \`mb->parked\` not emptied | owns - | leaked #1 from mb->queue <-- no-leak`,
    ],
  );
  // the witness: the drain and the teardown's end on CPU0, the move on CPU1
  assert.deepEqual(sim.placed, [3, 4, 0]);
});
