/**
 * The simulator's JSON report: the SimulationResult itself, keys in a fixed
 * order (the shape: variant, contract, states, elapsedMs, invariants,
 * observations), so diffs between runs stay readable.
 */
import type { SimulationResult } from '../sim/types';

export function toSimJson(r: SimulationResult): SimulationResult {
  return {
    variant: r.variant,
    contract: r.contract,
    threads: r.threads,
    faults: r.faults,
    states: r.states,
    transitions: r.transitions,
    complete: r.complete,
    elapsedMs: r.elapsedMs,
    invariants: r.invariants,
    observations: r.observations,
  };
}

export function formatSimJson(r: SimulationResult): string {
  return JSON.stringify(toSimJson(r), null, 2) + '\n';
}
