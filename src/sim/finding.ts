/**
 * A finding's simulation: what its Simulate link runs. The scenario the
 * engine chose says which model (the replace flow from the function's own
 * source, the generic witness model, or none); the finding's witness says
 * which steps must happen. The result says, in the finding's words, what
 * broke, and where each witness step sits in the counterexample.
 *
 * The simulator reads the engine's findings and models; the engine never
 * reads the simulator.
 */
import type { FunctionModel } from '../engine/model/types';
import type { Finding, RuleId, WitnessStep } from '../engine/types';
import { witnessOf } from '../engine/witness';
import { stepsFromSource } from './from-source';
import { simulate } from './simulate';
import type { InvariantId, SimulationRequest, SimulationResult, StateView, TraceStep } from './types';
import {
  exploreWitness,
  WITNESS_INVARIANTS,
  witnessThreads,
  type WitnessInvariant,
  type WitnessModelResult,
  type WitnessTraceStep,
} from './witness-model';

export type FindingSimKind = 'replace-flow' | 'lock-model' | 'none';

export interface FindingSimulation {
  kind: FindingSimKind;
  /** The panel's first line: what broke, in the finding's words (or why nothing runs). */
  headline: string;
  /** The invariant the finding names. */
  invariant?: string;
  /** Whether that invariant breaks in the simulation. */
  broken: boolean;
  replace?: SimulationResult;
  model?: WitnessModelResult;
  /** The witness, and for each of its steps the index of the counterexample step that replays it. */
  witness: WitnessStep[];
  placed: (number | undefined)[];
  /** Why the generic model ran instead of the replace flow, or why nothing runs. */
  note?: string;
}

/** What of a finding its simulation reads. */
export type FindingInput = Pick<Finding, 'ruleId' | 'function' | 'file' | 'line' | 'message' | 'related' | 'scenario'>;

/** The shape both models' counterexample steps share. */
export type AnyTraceStep = TraceStep | WitnessTraceStep;

/** What the finding claims breaks, in its words: the headline's opening (rules added later: by the invariant). */
const CLAIM: Partial<Record<RuleId, string>> = {
  'unmap-before-rollback': 'Cannot be undone',
  'unrestored-state': 'State left changed',
  'lock-order': 'Deadlock',
  'callback-under-lock': 'Deadlock',
  'stale-after-relock': 'A freed or replaced object is used',
  'lock-leak': 'Lock never released',
  'assert-held': 'No simulation',
  'published-before-finished': 'No simulation',
  'missing-undo': 'Cannot be undone',
  'unlocked-access': 'No simulation',
};

/** The lock model's invariant of each rule (a replace-flow invariant it has not, such as list-id-consistent, maps here). */
const RULE_INVARIANT: Partial<Record<RuleId, WitnessInvariant>> = {
  'unmap-before-rollback': 'failure-contract',
  'unrestored-state': 'failure-contract',
  'stale-after-relock': 'no-use-after-free',
  'lock-order': 'no-deadlock',
  'callback-under-lock': 'no-deadlock',
  'lock-leak': 'no-deadlock',
};

const CLAIM_BY_INVARIANT: Record<string, string> = {
  'no-deadlock': 'Deadlock',
  'failure-contract': 'Cannot be undone',
  'no-use-after-free': 'A freed or replaced object is used',
  'list-id-consistent': 'State left changed',
  'no-leak': 'Allocation leaked',
};

function claimOf(f: FindingInput, message: string, invariant: string | undefined): string {
  if (f.ruleId === 'unmap-before-rollback' && /pinned pages are gone|\bpins\b|unpins/.test(message))
    return 'The pins are gone';
  // one rule, two claims: missing-undo's overwrite form loses an allocation, it has no error path to undo
  if (invariant === 'no-leak') return CLAIM_BY_INVARIANT[invariant];
  return CLAIM[f.ruleId] ?? CLAIM_BY_INVARIANT[invariant ?? ''] ?? 'Broken';
}

/** The breach of the named invariant a finding is about, when the invariant can break in several ways. */
function preferFor(f: FindingInput, invariant: string | undefined): SimulationRequest['prefer'] {
  if (invariant !== 'failure-contract') return undefined;
  if (f.ruleId === 'unmap-before-rollback' && /pins|pinned|unpin|unmap/.test(f.message))
    return { invariant, pattern: 'pinned pages are gone' };
  if (f.ruleId === 'unrestored-state') {
    const field = /`([^`]*->\s*(\w+))`/.exec(f.message)?.[2];
    if (field === 'ioas' || field === 'ioas_unpin') return { invariant, pattern: `access->${field} is` };
  }
  return undefined;
}

/** What a replace-flow state holds that a step can lose: pins, list membership, references, liveness. */
function loses(a: StateView, b: StateView): boolean {
  const total = (r: Record<string, number>): number => Object.values(r).reduce((x, v) => x + v, 0);
  const members = (r: Record<string, number | null>): number => Object.values(r).filter((v) => v !== null).length;
  return (
    total(b.pins) < total(a.pins) ||
    members(b.lists) < members(a.lists) ||
    total(b.users) < total(a.users) ||
    b.destroyed.length > a.destroyed.length
  );
}

/**
 * Where each witness step sits in a counterexample, in order within its path: the step at
 * its file and line (or reached through a call at that line); a step that
 * cannot be undone and whose line the model has not (the driver's
 * implementation of a callback, in its own file) sits where the model loses
 * what it loses. Undefined: not replayed.
 */
export function placeWitness(witness: readonly WitnessStep[], steps: readonly AnyTraceStep[]): (number | undefined)[] {
  const out: (number | undefined)[] = [];
  // each path of the witness is in order; paths interleave with each other
  const cursor = new Map<number, number>();
  for (let w = 0; w < witness.length; w++) {
    const ws = witness[w];
    const from = cursor.get(ws.path ?? 0) ?? 0;
    let at = -1;
    for (let k = from; k < steps.length && at < 0; k++) {
      const s = steps[k];
      if ('witness' in s && s.witness === w) at = k;
      else if (
        !('witness' in s && s.witness !== undefined) &&
        s.file === ws.file &&
        (s.line === ws.line || s.via?.some((v) => v.file === ws.file && v.line === ws.line))
      )
        at = k;
    }
    if (at < 0 && (ws.role === 'irreversible' || ws.role === 'call')) {
      for (let k = Math.max(from, 1); k < steps.length && at < 0; k++) {
        const a = steps[k - 1].state;
        const b = steps[k].state;
        if ('pins' in a && 'pins' in b && loses(a, b)) at = k;
      }
    }
    if (at < 0) out.push(undefined);
    else {
      out.push(at);
      cursor.set(ws.path ?? 0, at);
    }
  }
  return out;
}

function counterexampleSteps(sim: FindingSimulation): AnyTraceStep[] {
  const inv = sim.invariant;
  if (sim.replace) return sim.replace.invariants.find((i) => i.id === inv)?.counterexample?.steps ?? [];
  if (sim.model) return sim.model.invariants.find((i) => i.id === inv)?.counterexample?.steps ?? [];
  return [];
}

/** The counterexample a finding's simulation shows first (the named invariant's). */
export function findingCounterexample(sim: FindingSimulation): { message: string; steps: AnyTraceStep[] } | undefined {
  const list = sim.replace?.invariants ?? sim.model?.invariants ?? [];
  const c = list.find((i) => i.id === sim.invariant)?.counterexample;
  return c ? { message: c.message, steps: counterexampleSteps(sim) } : undefined;
}

function finish(f: FindingInput, sim: Omit<FindingSimulation, 'headline' | 'placed' | 'broken'>): FindingSimulation {
  const partial: FindingSimulation = { ...sim, headline: '', placed: [], broken: false };
  const c = findingCounterexample(partial);
  const broken = !!c;
  const placed = c ? placeWitness(sim.witness, c.steps) : sim.witness.map(() => undefined);
  const headline = c
    ? `${claimOf(f, c.message, sim.invariant)}: ${c.message}`
    : `Not reproduced: every interleaving ran and ${sim.invariant ?? 'the invariant'} holds, so the simulation does not show what this ${f.ruleId} finding claims.`;
  return { ...partial, headline, placed, broken };
}

function witnessModel(f: FindingInput, note?: string): FindingSimulation {
  const witness = witnessOf(f);
  const threads = witnessThreads(f);
  if (!threads)
    return {
      kind: 'none',
      headline: `No simulation: this ${f.ruleId} finding carries no witness steps to replay.`,
      broken: false,
      witness,
      placed: [],
    };
  const model = exploreWitness(threads);
  // the scenario's invariant; for a rule that names none, what its witness can break: an error path after a
  // loss or a change, a use of a value after the lock was dropped, else the locks
  const roles = new Set(witness.map((w) => w.role));
  const inferred =
    roles.has('fallible') && (roles.has('irreversible') || roles.has('write'))
      ? 'failure-contract'
      : roles.has('use') && roles.has('release')
        ? 'no-use-after-free'
        : 'no-deadlock';
  const named = WITNESS_INVARIANTS.find((i) => i === f.scenario.invariant);
  const invariant = named ?? RULE_INVARIANT[f.ruleId] ?? inferred;
  return finish(f, { kind: 'lock-model', invariant, model, witness, ...(note ? { note } : {}) });
}

/**
 * Runs a finding's simulation. `fileModel` is the engine's model of the file
 * the scenario names (for the replace flow from source).
 */
export function simulateFinding(f: FindingInput, fileModel?: { functions: FunctionModel[] }): FindingSimulation {
  const s = f.scenario;
  const witness = witnessOf(f);
  if (s.variant === 'none') {
    const reason = s.reason ?? `the simulator has no model of what a ${f.ruleId} finding is about`;
    return {
      kind: 'none',
      headline: `No simulation for ${f.ruleId}: ${reason}`,
      broken: false,
      witness,
      placed: witness.map(() => undefined),
      note: reason,
    };
  }
  if (s.variant === 'lock-model') return witnessModel(f);
  const req: SimulationRequest = {
    variant: s.variant,
    threads: [...s.threads],
    faults: [...s.faults],
    contract: s.contract,
  };
  if (s.variant === 'from-source') {
    const fn = fileModel?.functions.find((x) => x.name === s.function);
    const steps = fn && fileModel ? stepsFromSource(fn, fileModel) : [];
    if (steps.length === 0)
      return witnessModel(
        f,
        `${s.function ?? f.function}() has no replace-flow step the simulator recognises; the witness is replayed on the generic model`,
      );
    req.steps = steps;
  }
  const prefer = preferFor(f, s.invariant);
  if (prefer) req.prefer = prefer;
  const replace = simulate(req);
  const sim = finish(f, { kind: 'replace-flow', invariant: s.invariant as InvariantId | undefined, replace, witness });
  // The replace flow must tell this finding's story: its invariant broken, every witness step in the trace.
  if (sim.broken && sim.placed.every((p) => p !== undefined)) return sim;
  const missing = witness.filter((_, i) => sim.placed[i] === undefined).map((w) => `line ${w.line}`);
  const why = !sim.broken
    ? `${s.invariant} holds in the replace flow`
    : `the replace flow has no step for ${missing.join(', ')}`;
  const fallback = witnessModel(f, `${why}; the witness is replayed on the generic model`);
  return fallback.kind === 'none' ? sim : fallback;
}
