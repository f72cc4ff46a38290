/**
 * The simulator scenario each rule maps to, in one place so every check (and
 * the simulator's "Simulate" link) agrees on it. A scenario must replay to
 * show its finding's problem: the invariant it names is one the simulator
 * breaks on that scenario (test/unit/engine/scenario-replay.test.ts).
 */
import type { FileModel } from '../model/types';
import type { Finding, RuleId, Scenario } from '../types';
// The Simulate link replays what from-source extracts from the function; asking
// the same extraction (plain, browser-safe code over the model) is the only way
// to know there is something to replay. Only reported findings pay for it.
import { isReplaceHelper, stepsFromSource } from '../../sim/from-source';
import type { SourceStep } from '../../sim/types';

export interface ScenarioInput {
  /** File and function the finding points at (used by `from-source`). */
  file: string;
  function: string;
  /** callback-under-lock: the function is a replace/change helper, so its own steps are simulated. */
  changeHelper?: boolean;
  /** The function's from-source step list, when known: decides between from-source and a built-in variant. */
  steps?: readonly SourceStep[];
  /** unrestored-state: the field left changed (`iommufd_access.ioas`, `iommufd_access.iopt_access_list_id`, ...). */
  field?: string;
}

/** Replace, change, attach and detach helpers of an access: their step list can be replayed. */
export function isChangeHelper(name: string): boolean {
  return /(?:replace|change|attach|detach)/.test(name);
}

/**
 * Whether the main path of the steps calls the driver's unmap callback while
 * the replacer still holds `ioas_lock` (it holds it on entry, as
 * iommufd_access_replace() does): only then does the from-source replay deadlock.
 */
function unmapsUnderLock(steps: readonly SourceStep[]): boolean {
  let held = true;
  for (const s of steps) {
    if (s.op === 'unlock') held = false;
    else if (s.op === 'lock') held = true;
    else if (s.op === 'unmap-callback' && held) return true;
    else if (s.op === 'return') break; // the main path ends here; error sides follow
  }
  return false;
}

/** A from-source replay needs a replace helper (one that adds the access somewhere); unknown steps: assume so. */
function replays(input: ScenarioInput): boolean {
  return input.steps === undefined || isReplaceHelper(input.steps);
}

export function scenarioFor(rule: RuleId, input: ScenarioInput): Scenario {
  const source = { file: input.file, function: input.function };
  switch (rule) {
    case 'unmap-before-rollback':
      // v8 is the built-in variant of this very mistake (unmap and detach before the fallible add).
      return {
        variant: replays(input) ? 'from-source' : 'v8',
        ...(replays(input) ? source : {}),
        threads: ['replacer', 'driver'],
        faults: ['add-access'],
        contract: 'status-quo',
        invariant: 'failure-contract',
      };
    case 'callback-under-lock': {
      // Other functions (a driver's flush, a notifier) are not a replace flow: the
      // built-in unmap-under-lock variant tells their story better than their few steps.
      const helper = input.changeHelper ?? isChangeHelper(input.function);
      const fromSource = helper && (input.steps === undefined || unmapsUnderLock(input.steps));
      return {
        variant: fromSource ? 'from-source' : 'unmap-under-lock',
        ...(fromSource ? source : {}),
        threads: ['replacer', 'driver', 'user-unmap'],
        faults: [],
        contract: 'status-quo',
        invariant: 'no-deadlock',
      };
    }
    case 'unrestored-state': {
      // Which invariant shows the damage depends on the field: a stale list id
      // removes the wrong slot later; `ioas` left NULL (or new) on the error
      // path breaks the failure contract. Other fields: v7, the built-in case.
      if (!replays(input)) return { variant: 'v7', threads: ['replacer', 'driver'], faults: [], contract: 'status-quo', invariant: 'list-id-consistent' };
      const pointer = input.field === 'iommufd_access.ioas' || input.field === 'iommufd_access.ioas_unpin';
      return {
        variant: 'from-source',
        ...source,
        threads: ['replacer', 'driver'],
        faults: ['add-access'],
        contract: 'status-quo',
        invariant: pointer ? 'failure-contract' : 'list-id-consistent',
      };
    }
    case 'stale-after-relock':
      // The stale pointer is the old IOAS: it is freed when a concurrent detach
      // (merged order) or the helper's own drop (v8 order) lets a destroy in,
      // and then used; the add-access fault reaches v8's rollback use.
      if (!replays(input)) return { variant: 'v8', threads: ['replacer', 'driver', 'destroy'], faults: ['add-access'], contract: 'status-quo', invariant: 'no-use-after-free' };
      return {
        variant: 'from-source',
        ...source,
        threads: ['replacer', 'driver', 'detach', 'destroy'],
        faults: ['add-access'],
        contract: 'status-quo',
        invariant: 'no-use-after-free',
      };
    case 'lock-order':
    case 'lock-leak':
    case 'assert-held':
      // The simulator has no scenario of these functions; the built-in one
      // where a lock still held blocks the driver's unpin path shows what a
      // lock held where it should not be costs: a deadlock (`merged` would
      // hold everything and show nothing).
      return {
        variant: 'unmap-under-lock',
        threads: ['replacer', 'driver', 'user-unmap'],
        faults: [],
        contract: 'status-quo',
        invariant: 'no-deadlock',
      };
  }
}

/** The field an unrestored-state finding is about: the first `struct.field` of its fingerprint. */
function fieldOf(f: Finding): string | undefined {
  const involved = f.fingerprint.split(':').slice(2).join(':').split(',');
  return involved.find((x) => /^[A-Za-z_]\w*\.\w+$/.test(x));
}

/**
 * A finding's scenario decided with the model in hand: from-source only when
 * the function's extracted steps have something to replay, else the matching
 * built-in variant. Returns the finding itself when nothing changes.
 */
export function withReplayableScenario(f: Finding, file: FileModel | undefined): Finding {
  if (f.scenario.variant !== 'from-source' && f.ruleId !== 'callback-under-lock') return f;
  const name = f.scenario.function ?? f.function;
  const fn = file?.functions.find((x) => x.name === name);
  const steps = fn && file ? stepsFromSource(fn, file) : [];
  const field = f.ruleId === 'unrestored-state' ? fieldOf(f) : undefined;
  const scenario = scenarioFor(f.ruleId, { file: f.scenario.file ?? f.file, function: name, steps, ...(field ? { field } : {}) });
  return sameScenario(scenario, f.scenario) ? f : { ...f, scenario };
}

function sameScenario(a: Scenario, b: Scenario): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
