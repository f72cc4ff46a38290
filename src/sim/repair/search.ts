/**
 * The repair search: edits of a helper's flow, fewest first, each explored
 * by the same simulator with the same threads, faults and contract as the
 * finding's own simulation. The first candidate that keeps every invariant
 * is the proposal. Candidates are screened on the replacer alone, then on
 * the replacer with each other thread, before the full run: the same
 * invariants on smaller state spaces, so a candidate that breaks one is
 * dropped after a few hundred states instead of tens of thousands.
 *
 * Bounded by the number of edits combined, the candidates tried and the
 * time spent; a result says which bound stopped it.
 */
import { simulate } from '../simulate';
import type { InvariantId, SimulationRequest, SimulationResult, SourceStep } from '../types';
import { candidatesOf } from './candidates';
import type { Candidate, RepairEdit } from './candidates';
import { flowKey, fromFlow, toFlow } from './flow';
import type { RepairStep } from './flow';

export interface RepairBounds {
  /** Most edits combined in one candidate (default 4). */
  maxEdits?: number;
  /** Most candidates screened (default 20000). */
  maxCandidates?: number;
  /** Wall-clock budget in milliseconds (default 10000). */
  maxMs?: number;
}

export interface RepairProposal {
  /** The repaired helper's step list (steps from the original keep `origin`). */
  steps: RepairStep[];
  edits: RepairEdit[];
  /** The full run that verified it: every invariant holds. */
  verification: SimulationResult;
}

export interface RepairResult {
  /** What the original step list breaks under the request (empty: nothing to repair). */
  broken: InvariantId[];
  proposal?: RepairProposal;
  /** Candidates screened, full explorations run, states explored over all runs. */
  candidates: number;
  /** Candidates that kept every invariant but that `accept` turned down (their edit re-analysed with a finding). */
  rejected: { edits: RepairEdit[]; why: string }[];
  fullRuns: number;
  states: number;
  elapsedMs: number;
  /** The bound that stopped the search before a proposal was found (never silent). */
  bound?: { kind: 'edits' | 'candidates' | 'time' | 'states'; message: string };
  /** Why no search ran (the steps cannot be edited as a flow). */
  note?: string;
}

const brokenOf = (r: SimulationResult): InvariantId[] => r.invariants.filter((i) => !i.holds).map((i) => i.id);

interface Queued extends Candidate {
  screen: number;
}

/**
 * Searches a repair of `req`'s from-source steps (or of `steps` run under
 * `req`'s threads, faults and contract).
 */
export function searchRepair(
  req: SimulationRequest,
  steps: readonly SourceStep[] = req.steps ?? [],
  bounds: RepairBounds = {},
  /** A last check of a candidate that keeps every invariant: undefined accepts it, a reason turns it down and the search goes on. */
  accept?: (p: RepairProposal) => string | undefined,
): RepairResult {
  const started = Date.now();
  const maxEdits = bounds.maxEdits ?? 4;
  const maxCandidates = bounds.maxCandidates ?? 20000;
  const maxMs = bounds.maxMs ?? 10000;
  let states = 0;
  let fullRuns = 0;
  let candidates = 0;
  const rejected: RepairResult['rejected'] = [];
  const run = (s: readonly SourceStep[], threads: SimulationRequest['threads']): SimulationResult => {
    const r = simulate({
      variant: 'from-source',
      steps: [...s],
      threads,
      faults: req.faults,
      contract: req.contract,
      ...(req.maxStates ? { maxStates: req.maxStates } : {}),
    });
    states += r.states;
    return r;
  };
  const original = run(steps, req.threads);
  fullRuns++;
  const result = (extra: Partial<RepairResult>): RepairResult => ({
    broken: brokenOf(original),
    candidates,
    rejected,
    fullRuns,
    states,
    elapsedMs: Date.now() - started,
    ...extra,
  });
  if (!original.complete)
    return result({
      bound: {
        kind: 'states',
        message: `the original exploration stopped at ${original.states} states (--max-states): nothing can be verified`,
      },
    });
  if (original.invariants.every((i) => i.holds)) return result({});
  const start = toFlow(steps);
  if (!start)
    return result({
      note: 'an error path of this helper has a fallible step of its own; the search does not edit nested error paths',
    });

  const others = req.threads.filter((t) => t !== 'replacer');
  // the screens, smallest state space first; the last is the request itself
  const screens: SimulationRequest['threads'][] = [
    ['replacer'],
    ...others.map((t) => ['replacer', t] as SimulationRequest['threads']),
    req.threads,
  ];
  /** Index of the first screen the steps fail (screens.length: they pass all), and that run's broken invariants. */
  const screen = (s: readonly SourceStep[]): { failed: number; last?: SimulationResult } => {
    for (let k = 0; k < screens.length; k++) {
      const full = k === screens.length - 1;
      if (full && screens.length > 1 && screens[k].length === screens[k - 1].length) return { failed: screens.length };
      const r = run(s, screens[k]);
      if (full) fullRuns++;
      if (!r.complete) return { failed: k, last: r };
      if (r.invariants.some((i) => !i.holds)) return { failed: k, last: r };
      if (full) return { failed: screens.length, last: r };
    }
    return { failed: screens.length };
  };

  const seen = new Set<string>([flowKey(start)]);
  let level: Queued[] = [{ flow: start, edits: [], screen: 0 }];
  for (let depth = 1; depth <= maxEdits; depth++) {
    const next: Queued[] = [];
    for (const parent of level) {
      for (const c of candidatesOf(parent.flow)) {
        const key = flowKey(c.flow);
        if (seen.has(key)) continue;
        seen.add(key);
        if (++candidates > maxCandidates)
          return result({
            bound: {
              kind: 'candidates',
              message: `stopped after ${maxCandidates} candidates without one that keeps every invariant`,
            },
          });
        if (Date.now() - started > maxMs)
          return result({
            bound: {
              kind: 'time',
              message: `stopped after ${maxMs} ms without a candidate that keeps every invariant`,
            },
          });
        const edits = [...parent.edits, ...c.edits];
        const s = fromFlow(c.flow);
        const { failed, last } = screen(s);
        if (failed === screens.length) {
          const verification = last && last.threads.length === req.threads.length ? last : run(s, req.threads);
          const proposal: RepairProposal = {
            steps: s,
            edits,
            verification: { ...verification, variant: 'from-source' },
          };
          const why = accept?.(proposal);
          if (why === undefined) return result({ proposal });
          rejected.push({ edits, why });
        }
        next.push({ flow: c.flow, edits, screen: failed });
      }
    }
    // the next level grows from the candidates that got furthest first
    level = next.sort((a, b) => b.screen - a.screen);
  }
  return result({
    bound: { kind: 'edits', message: `no combination of up to ${maxEdits} edits keeps every invariant` },
  });
}
