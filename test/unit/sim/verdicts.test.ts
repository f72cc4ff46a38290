import { test } from 'node:test';
import assert from 'node:assert/strict';
import { simulate, SIM_FAULTS, SIM_THREADS } from '../../../src/sim';
import type { InvariantId, SimulationRequest, SimulationResult } from '../../../src/sim';

const ALL_THREADS = [...SIM_THREADS];
const ALL_FAULTS = [...SIM_FAULTS];

function verdicts(r: SimulationResult): Record<InvariantId, boolean> {
  return Object.fromEntries(r.invariants.map((i) => [i.id, i.holds])) as Record<InvariantId, boolean>;
}
function inv(r: SimulationResult, id: InvariantId) {
  const i = r.invariants.find((x) => x.id === id);
  assert.ok(i, `no result for ${id}`);
  return i;
}
const run = (req: Partial<SimulationRequest> & Pick<SimulationRequest, 'variant'>): SimulationResult =>
  simulate({ threads: ['replacer'], faults: [], contract: 'status-quo', ...req });

test('v8 + add-access under status-quo: the failure contract breaks because the driver lost its pins, in 23 steps', () => {
  const r = run({ variant: 'v8', faults: ['add-access'] });
  assert.equal(r.complete, true);
  assert.deepEqual(verdicts(r), {
    'no-deadlock': true,
    'failure-contract': false,
    'pin-attached': true,
    'no-use-after-free': true,
    'list-id-consistent': true,
  });
  const cx = inv(r, 'failure-contract').counterexample!;
  assert.match(cx.message, /-ENOMEM/);
  assert.match(cx.message, /pinned pages are gone/);
  // shortest: every step is the replacer's own, nothing wasted
  assert.equal(cx.steps.length, 23);
  assert.ok(cx.steps.every((s) => s.thread === 'replacer'));
  const unpin = cx.steps.findIndex((s) => s.action.includes('unpin all'));
  const add = cx.steps.findIndex((s) => s.action.startsWith('iopt_add_access(&new_ioas'));
  assert.ok(unpin >= 0 && add > unpin, 'the unpin comes before the failing add');
  assert.equal(cx.steps[unpin - 1].state.pins.A, 1);
  assert.equal(cx.steps[unpin].state.pins.A, 0);
  // the failed add leaves the access detached from both IOASes before the re-attach
  assert.deepEqual(cx.steps[add].state.lists, { A: null, B: null });
  assert.equal(cx.steps[add].state.ioas, null);
  const last = cx.steps[cx.steps.length - 1];
  assert.equal(last.violation, 'failure-contract');
  assert.equal(last.action, 'mutex_unlock(&access->ioas_lock); return rc');
  // re-attached, so the usable contract would be met here: only the pins are gone
  assert.equal(last.state.ioas, 'A');
  assert.equal(last.state.pins.A, 0);
});

test('v8 + add-access under usable holds with the re-attach succeeding, breaks when it fails', () => {
  assert.equal(inv(run({ variant: 'v8', faults: ['add-access'], contract: 'usable' }), 'failure-contract').holds, true);
  const r = run({ variant: 'v8', faults: ['add-access', 'reattach'], contract: 'usable' });
  const cx = inv(r, 'failure-contract').counterexample!;
  assert.match(cx.message, /left access->ioas NULL \(ioas_unpin A\)/);
  assert.equal(cx.steps[cx.steps.length - 1].state.ioas, null);
  assert.equal(cx.steps[cx.steps.length - 1].state.ioasUnpin, 'A');
});

test('v8 + concurrent destroy: the error path reads the old IOAS id after its reference was dropped', () => {
  const r = run({ variant: 'v8', threads: ['replacer', 'destroy'], faults: ['add-access'] });
  const cx = inv(r, 'no-use-after-free').counterexample!;
  assert.match(cx.message, /reads cur_ioas->obj.id after it dropped its reference on IOAS A/);
  const destroy = cx.steps.findIndex((s) => s.thread === 'destroy');
  const put = cx.steps.findIndex((s) => s.action === 'refcount_dec(&cur_ioas->obj.users)');
  assert.ok(put >= 0 && destroy > put, 'destroy succeeds only after the reference is dropped');
  assert.deepEqual(cx.steps[destroy].state.destroyed, ['A']);
  const last = cx.steps[cx.steps.length - 1];
  assert.equal(last.violation, 'no-use-after-free');
  assert.match(last.action, /cur_ioas->obj.id/);
  // without the destroy thread nothing is freed
  assert.equal(inv(run({ variant: 'v8', faults: ['add-access'] }), 'no-use-after-free').holds, true);
});

for (const contract of ['status-quo', 'usable'] as const) {
  test(`merged holds every invariant under ${contract} with every thread and fault`, () => {
    const r = simulate({ variant: 'merged', threads: ALL_THREADS, faults: ALL_FAULTS, contract });
    assert.equal(r.complete, true);
    assert.ok(r.states > 1000, `explored ${r.states} states`);
    for (const i of r.invariants) assert.equal(i.holds, true, `${i.id}: ${i.counterexample?.message}`);
    // the accepted behaviour is reported, not counted as a breach
    const obs = r.observations.find((o) => o.id === 'pin-enoent');
    assert.ok(obs, 'pin -ENOENT in the unlocked window is observed');
    const last = obs.example.steps[obs.example.steps.length - 1];
    assert.equal(last.thread, 'driver');
    assert.equal(last.state.ioas, null);
  });
}

test('unmap-under-lock deadlocks: the unpin path retakes ioas_lock', () => {
  const r = run({ variant: 'unmap-under-lock' });
  const cx = inv(r, 'no-deadlock').counterexample!;
  assert.equal(cx.message, 'deadlock: replacer waits for ioas_lock held by itself');
  const last = cx.steps[cx.steps.length - 1];
  assert.ok(last.state.locks.includes('ioas_lock@replacer'));
  assert.ok(last.state.locks.includes('drv_lock@replacer'));
  // with the driver thread too: an ABBA between drv_lock and ioas_lock is also reachable, the self-deadlock stays
  const all = simulate({ variant: 'unmap-under-lock', threads: ALL_THREADS, faults: [], contract: 'status-quo' });
  assert.equal(inv(all, 'no-deadlock').holds, false);
});

test('v7 breaks list-id-consistent: the remove from the old IOAS uses the overwritten id', () => {
  const r = run({ variant: 'v7' });
  assert.deepEqual(verdicts(r), {
    'no-deadlock': true,
    'failure-contract': true,
    'pin-attached': true,
    'no-use-after-free': true,
    'list-id-consistent': false,
  });
  const cx = inv(r, 'list-id-consistent').counterexample!;
  assert.match(cx.message, /removes list id 2 from A, but the access sits at slot 1/);
  const last = cx.steps[cx.steps.length - 1];
  assert.deepEqual(last.state.lists, { A: 1, B: 2 });
});

test('the search is deterministic and bounded by maxStates', () => {
  const req: SimulationRequest = { variant: 'v8', threads: ALL_THREADS, faults: ALL_FAULTS, contract: 'usable' };
  const a = simulate(req);
  const b = simulate(req);
  assert.equal(a.states, b.states);
  assert.deepEqual(a.invariants, b.invariants);
  const cut = simulate({ ...req, maxStates: 100 });
  assert.equal(cut.complete, false);
  assert.equal(cut.states, 100);
});

test('the result is plain JSON', () => {
  const r = run({ variant: 'v8', faults: ['add-access'] });
  assert.deepEqual(JSON.parse(JSON.stringify(r)), r);
});
