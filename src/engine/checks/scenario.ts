/**
 * The simulator scenario each rule maps to, in one place so every check (and
 * the simulator's "Simulate" link) agrees on it.
 */
import type { RuleId, Scenario } from '../types';

export interface ScenarioInput {
  /** File and function the finding points at (used by `from-source`). */
  file: string;
  function: string;
  /** callback-under-lock: the function is a replace/change helper, so its own steps are simulated. */
  changeHelper?: boolean;
}

/** Replace, change, attach and detach helpers of an access: their step list can be replayed. */
export function isChangeHelper(name: string): boolean {
  return /(?:replace|change|attach|detach)/.test(name);
}

export function scenarioFor(rule: RuleId, input: ScenarioInput): Scenario {
  switch (rule) {
    case 'unmap-before-rollback':
      return {
        variant: 'from-source',
        file: input.file,
        function: input.function,
        threads: ['replacer', 'driver'],
        faults: ['add-access'],
        contract: 'status-quo',
        invariant: 'failure-contract',
      };
    case 'callback-under-lock': {
      const fromSource = input.changeHelper ?? isChangeHelper(input.function);
      return {
        variant: fromSource ? 'from-source' : 'unmap-under-lock',
        ...(fromSource ? { file: input.file, function: input.function } : {}),
        threads: ['replacer', 'driver', 'user-unmap'],
        faults: [],
        contract: 'status-quo',
        invariant: 'no-deadlock',
      };
    }
    case 'unrestored-state':
      return {
        variant: 'from-source',
        file: input.file,
        function: input.function,
        threads: ['replacer', 'driver'],
        faults: ['add-access'],
        contract: 'status-quo',
        invariant: 'list-id-consistent',
      };
    case 'stale-after-relock':
      return {
        variant: 'from-source',
        file: input.file,
        function: input.function,
        threads: ['replacer', 'driver', 'destroy'],
        faults: [],
        contract: 'status-quo',
        invariant: 'no-use-after-free',
      };
    case 'lock-order':
      return {
        variant: 'unmap-under-lock',
        threads: ['replacer', 'driver', 'user-unmap'],
        faults: [],
        contract: 'status-quo',
        invariant: 'no-deadlock',
      };
    case 'lock-leak':
    case 'assert-held':
      return {
        variant: 'merged',
        threads: ['replacer', 'driver'],
        faults: [],
        contract: 'status-quo',
        invariant: 'no-deadlock',
      };
  }
}
