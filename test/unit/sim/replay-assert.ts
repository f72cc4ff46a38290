/**
 * What "a finding's simulation replays that finding" means, asserted: shared
 * by the fixture replay test and the real-bug benchmark.
 */
import assert from 'node:assert/strict';
import type { Finding, RuleId } from '../../../src/engine/types';
import { findingCounterexample, type FindingSimulation } from '../../../src/sim/finding';

/** The claim each rule makes, as the headline must say it. */
export const CLAIMS: Partial<Record<RuleId, RegExp>> = {
  'unmap-before-rollback': /^(The pins are gone|Cannot be undone): .*(pinned pages are gone|cannot be undone)/,
  'unrestored-state': /^State left changed: .*(left changed|access->ioas(_unpin)? is|removes id|list id)/,
  'lock-order': /^Deadlock: deadlock: .*waits for .*held by/,
  'callback-under-lock': /^Deadlock: deadlock: .*waits for .*held by/,
  'stale-after-relock': /^A freed or replaced object is used: .*(freed or replaced|destroyed)/,
  'lock-leak': /^Lock never released: deadlock: CPU1 waits forever for .*: CPU0 \(.*\) returned still holding it/,
  'assert-held': /^No simulation for assert-held: /,
  'published-before-finished': /^No simulation for published-before-finished: /,
  'unlocked-access': /^No simulation for unlocked-access: /,
  'missing-undo': /^(Cannot be undone: .*cannot be undone|Allocation leaked: .*unreachable: leaked)/,
};

export function assertReplaysWitness(f: Finding, sim: FindingSimulation, where: string): void {
  // a rule added later: its claim is the broken invariant's
  const claim =
    CLAIMS[f.ruleId] ?? /^(Deadlock|Cannot be undone|State left changed|A freed or replaced object is used): /;
  assert.match(sim.headline, claim, `${where}: headline ${sim.headline}`);
  if (f.ruleId === 'assert-held' || f.ruleId === 'published-before-finished' || f.ruleId === 'unlocked-access') {
    assert.equal(sim.kind, 'none', where);
    return;
  }
  assert.ok(sim.broken, `${where}: ${sim.invariant} holds`);
  assert.equal(sim.invariant, f.scenario.invariant, `${where}: the simulation judges the invariant the scenario names`);
  const c = findingCounterexample(sim);
  assert.ok(c, where);
  assert.ok(sim.witness.length > 0, `${where}: a witness`);
  // every witness step is in the counterexample, at its own file and line (or reached through a call there), in order
  sim.placed.forEach((at, i) => {
    const w = sim.witness[i];
    assert.notEqual(
      at,
      undefined,
      `${where}: witness step ${i} (${w.role} ${w.file}:${w.line} ${w.message}) is not in the counterexample`,
    );
    // in order within its path (the paths of a lock-order cycle interleave)
    let prev = i - 1;
    while (prev >= 0 && (sim.witness[prev].path ?? 0) !== (w.path ?? 0)) prev--;
    if (prev >= 0) assert.ok(at! >= sim.placed[prev]!, `${where}: witness step ${i} comes before step ${prev}`);
    const s = c.steps[at!];
    const atLine = s.file === w.file && (s.line === w.line || (s.via ?? []).some((v) => v.line === w.line));
    const replays = 'witness' in s && s.witness === i;
    // the one step placed by what it does rather than by its line: a loss inside the driver's callback, in another file
    const lossElsewhere = w.role === 'irreversible' || w.role === 'call' ? w.file !== f.file || !atLine : false;
    assert.ok(
      atLine || replays || lossElsewhere,
      `${where}: witness step ${i} (${w.file}:${w.line}) placed on ${s.file}:${s.line} ${s.action}`,
    );
  });
  // the counterexample ends by breaking the named invariant
  assert.equal(c.steps[c.steps.length - 1].violation, sim.invariant, `${where}: the last step breaks ${sim.invariant}`);
}
