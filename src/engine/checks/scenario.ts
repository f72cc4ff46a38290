/**
 * The simulator scenario each rule maps to, in one place so every check (and
 * the simulator's "Simulate" link) agrees on it. A scenario must replay to
 * show its finding's problem: the invariant it names is one the simulator
 * breaks on that scenario (test/unit/engine/scenario-replay.test.ts).
 */
import type { FileModel, FunctionModel } from '../model/types';
import type { Finding, RuleId, Scenario } from '../types';
import { witnessOf } from '../witness';

export interface ScenarioInput {
  /** File and function the finding points at (used by `from-source`). */
  file: string;
  function: string;
  /** callback-under-lock: the function is a replace/change helper, so its own steps are simulated. */
  changeHelper?: boolean;
  /**
   * Whether the function (with the same-file helpers it calls) adds the access
   * to an IOAS, i.e. is a replace flow the simulator can replay from source;
   * undefined: not known yet (assume so).
   */
  replaceFlow?: boolean;
  /** callback-under-lock: the held lock and the callback, to tell the replace flow's unmap under `ioas_lock` from others. */
  lock?: string;
  callback?: string;
  /** unrestored-state: the field left changed (`iommufd_access.ioas`, `iommufd_access.iopt_access_list_id`, ...). */
  field?: string;
  /** missing-undo: a leak with no error path (an owning field overwritten, entries a teardown leaves). */
  leak?: boolean;
}

/** Replace, change, attach and detach helpers of an access: their step list can be replayed. */
export function isChangeHelper(name: string): boolean {
  return /(?:replace|change|attach|detach)/.test(name);
}

/** The call that puts an access on an IOAS's access list: what makes a function a replace flow. */
const ADD_ACCESS = 'iopt_add_access';
/** How deep same-file callees are looked into (the simulator's from-source inlines as deep). */
const MAX_INLINE = 3;

/**
 * Whether `fn`, or a same-file function it calls (as deep as the simulator's
 * extraction follows), calls `iopt_add_access()`: then its step list has a
 * replace to replay. Read off the engine's own model, so the engine needs
 * nothing from the simulator to decide.
 */
export function addsAccess(
  fn: FunctionModel,
  file: { functions: readonly FunctionModel[] } | undefined,
  depth = 0,
): boolean {
  for (const b of fn.blocks) {
    for (const e of b.events) {
      if (e.kind !== 'call') continue;
      if (e.callee === ADD_ACCESS) return true;
      if (depth >= MAX_INLINE || e.callee === fn.name) continue;
      const callee = file?.functions.find((f) => f.name === e.callee);
      if (callee && addsAccess(callee, file, depth + 1)) return true;
    }
  }
  return false;
}

/** A from-source replay needs a replace helper (one that adds the access somewhere); unknown: assume so. */
function replays(input: ScenarioInput): boolean {
  return input.replaceFlow !== false;
}

/**
 * The generic lock model of the witness: one thread per witness path (plus the
 * other thread the rule's claim needs), every interleaving explored. For
 * findings outside the replace flow.
 */
function lockModel(invariant?: string): Scenario {
  return {
    variant: 'lock-model',
    threads: [],
    faults: [],
    contract: 'status-quo',
    ...(invariant ? { invariant } : {}),
  };
}

export function scenarioFor(rule: RuleId, input: ScenarioInput): Scenario {
  const source = { file: input.file, function: input.function };
  switch (rule) {
    case 'unmap-before-rollback':
      // a replace flow replays its own steps; any other function its witness
      if (!replays(input)) return lockModel('failure-contract');
      return {
        variant: 'from-source',
        ...source,
        threads: ['replacer', 'driver'],
        faults: ['add-access'],
        contract: 'status-quo',
        invariant: 'failure-contract',
      };
    case 'callback-under-lock': {
      const helper = input.changeHelper ?? isChangeHelper(input.function);
      // the replace flow's own mistake: the driver's unmap called with ioas_lock held inside a change helper
      const underIoasLock =
        (input.lock === undefined || input.lock === 'iommufd_access.ioas_lock') &&
        (input.callback === undefined || /\.unmap$/.test(input.callback));
      if (!(helper && underIoasLock)) return lockModel('no-deadlock');
      return {
        variant: 'from-source',
        ...source,
        threads: ['replacer', 'driver', 'user-unmap'],
        faults: [],
        contract: 'status-quo',
        invariant: 'no-deadlock',
      };
    }
    case 'unrestored-state': {
      // Which invariant shows the damage depends on the field: a stale list id
      // removes the wrong slot later; `ioas` left NULL (or new) on the error
      // path breaks the failure contract.
      if (!replays(input)) return lockModel('failure-contract');
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
      // In the replace flow the stale pointer is the old IOAS: it is freed when a
      // concurrent detach (merged order) or the helper's own drop (v8 order) lets
      // a destroy in, and then used; the add-access fault reaches v8's rollback use.
      if (!replays(input)) return lockModel('no-use-after-free');
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
      return lockModel('no-deadlock');
    case 'missing-undo':
      // The acquire stays done on the leaking error path: the failure contract breaks. The overwrite form has
      // no error path: a second call stores over what the field still owns, and nothing owned may be lost.
      return lockModel(input.leak ? 'no-leak' : 'failure-contract');
    case 'published-before-finished':
      return {
        variant: 'none',
        threads: [],
        faults: [],
        contract: 'status-quo',
        reason: 'a half-built object found by another thread does harm through its fields, which neither model knows',
      };
    case 'assert-held':
    case 'unlocked-access':
      return {
        variant: 'none',
        threads: [],
        faults: [],
        contract: 'status-quo',
        reason:
          'a lock not held where it is required is a race whose harm depends on the data the lock protects, which neither model knows',
      };
    default:
      // A rule added later: the lock model of its witness, which infers the invariant from the witness's roles.
      return lockModel();
  }
}

/** The field an unrestored-state finding is about: the first `struct.field` of its fingerprint. */
function fieldOf(f: Finding): string | undefined {
  const involved = f.fingerprint.split(':').slice(2).join(':').split(',');
  return involved.find((x) => /^[A-Za-z_]\w*\.\w+$/.test(x));
}

/** callback-under-lock: the callback (`ops_struct.field`) and the held lock, from its fingerprint. */
function callbackAndLock(f: Finding): { callback?: string; lock?: string } {
  // the held lock is the witness's first step; the fingerprint's other part is the callback
  const lock = witnessOf(f).find((s) => s.role === 'acquire' || s.role === 'assert')?.lock;
  const callback = f.fingerprint
    .split(':')
    .slice(2)
    .join(':')
    .split(',')
    .find((x) => x !== lock);
  return { ...(callback ? { callback } : {}), ...(lock ? { lock } : {}) };
}

/**
 * A finding's scenario decided with the model in hand: from-source only when
 * the function is a replace flow (it adds the access to an IOAS), else the
 * matching other scenario. Returns the finding itself when nothing changes.
 */
export function withReplayableScenario(f: Finding, file: FileModel | undefined): Finding {
  if (f.scenario.variant !== 'from-source' && f.ruleId !== 'callback-under-lock') return f;
  const name = f.scenario.function ?? f.function;
  const fn = file?.functions.find((x) => x.name === name);
  const replaceFlow = !!fn && addsAccess(fn, file);
  const field = f.ruleId === 'unrestored-state' ? fieldOf(f) : undefined;
  const extra = f.ruleId === 'callback-under-lock' ? callbackAndLock(f) : {};
  const scenario = scenarioFor(f.ruleId, {
    file: f.scenario.file ?? f.file,
    function: name,
    replaceFlow,
    ...extra,
    ...(field ? { field } : {}),
  });
  return sameScenario(scenario, f.scenario) ? f : { ...f, scenario };
}

function sameScenario(a: Scenario, b: Scenario): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
