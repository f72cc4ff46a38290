/**
 * The simulator's entry point: a scenario in, verdicts and shortest
 * counterexamples out, as plain data.
 */
import { buildPrograms } from './program';
import type { ThreadProgram } from './program';
import { explore } from './explore';
import type { Exploration, Witness } from './explore';
import { viewState } from './state';
import { variantSteps } from './variants';
import { INVARIANT_IDS, SIM_THREADS } from './types';
import type { InvariantResult, SimulationRequest, SimulationResult, SourceStep, TraceStep } from './types';

/** The helper steps a request runs: the built-in variant's, or the ones given for from-source. */
export function requestSteps(req: SimulationRequest): SourceStep[] {
  if (req.variant === 'from-source') {
    if (!req.steps || req.steps.length === 0)
      throw new Error('simulate: variant from-source needs steps (see stepsFromSource)');
    return req.steps;
  }
  return variantSteps(req.variant);
}

/** The threads of a request, deduplicated, in their canonical order. */
export function requestThreads(req: SimulationRequest): SimulationRequest['threads'] {
  return SIM_THREADS.filter((t) => req.threads.includes(t));
}

export function programsFor(req: SimulationRequest): ThreadProgram[] {
  return buildPrograms(requestThreads(req), requestSteps(req), req.faults);
}

/** Reads a witness's path back from the arrivals, one trace step per transition. */
function traceOf(x: Exploration, w: Witness, programs: ThreadProgram[], violation?: string): TraceStep[] {
  const path: { thread: number; pc: number; state: Uint8Array }[] = [];
  for (let i = w.state; x.arrival(i).parent >= 0; i = x.arrival(i).parent) {
    const a = x.arrival(i);
    path.push({ thread: a.thread, pc: a.pc, state: x.stateAt(i) });
  }
  path.reverse();
  if (w.last) path.push({ thread: w.last.thread, pc: w.last.pc, state: w.last.next });
  return path.map((p, n) => {
    const instr = programs[p.thread].instrs[p.pc];
    // key order as in the documented JSON: thread, action, file, line, state
    const st: TraceStep = {
      thread: programs[p.thread].thread,
      action: instr.action,
      ...(instr.file ? { file: instr.file } : {}),
      ...(instr.line ? { line: instr.line } : {}),
      ...(instr.via ? { via: instr.via } : {}),
      state: viewState(p.state, programs),
    };
    if (violation && w.last && n === path.length - 1) st.violation = violation;
    return st;
  });
}

export function simulate(req: SimulationRequest): SimulationResult {
  const started = Date.now();
  const programs = programsFor(req);
  const prefer = req.prefer ? { invariant: req.prefer.invariant, pattern: new RegExp(req.prefer.pattern) } : undefined;
  const x = explore({ programs, contract: req.contract }, req.maxStates, prefer);
  const invariants: InvariantResult[] = INVARIANT_IDS.map((id) => {
    const w = x.breaches.get(id);
    if (!w) return { id, holds: true };
    return { id, holds: false, counterexample: { message: w.message, steps: traceOf(x, w, programs, id) } };
  });
  const observations = [...x.observations.entries()].map(([id, w]) => ({
    id,
    message: w.message,
    example: { steps: traceOf(x, w, programs) },
  }));
  return {
    variant: req.variant,
    contract: req.contract,
    threads: requestThreads(req),
    faults: req.faults.filter((f, i) => req.faults.indexOf(f) === i),
    states: x.states,
    transitions: x.transitions,
    complete: x.complete,
    elapsedMs: Date.now() - started,
    invariants,
    observations,
  };
}
