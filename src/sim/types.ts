/**
 * Public data of the replace-flow simulator. Plain, JSON-serialisable data:
 * the extension's simulator panel, the CLI and the reports all consume it.
 */
import type { SimContract, SimFault, SimThread, SimVariant } from '../engine/types';

export type { SimContract, SimFault, SimThread, SimVariant };

export const INVARIANT_IDS = [
  'no-deadlock',
  'failure-contract',
  'pin-attached',
  'no-use-after-free',
  'list-id-consistent',
] as const;
export type InvariantId = (typeof INVARIANT_IDS)[number];

export const SIM_VARIANTS: readonly SimVariant[] = ['merged', 'v8', 'v7', 'unmap-under-lock', 'from-source'];
export const SIM_THREADS: readonly SimThread[] = ['replacer', 'driver', 'user-unmap', 'detach', 'destroy'];
export const SIM_FAULTS: readonly SimFault[] = ['add-access', 'lookup', 'reattach'];
export const SIM_CONTRACTS: readonly SimContract[] = ['status-quo', 'usable'];

/**
 * One step of the replace helper (`iommufd_access_change_ioas()` and kin): the
 * vocabulary both the built-in variants and the from-source extraction speak.
 * The replacer thread runs: take `ioas_lock`, check attached, look up the new
 * IOAS, then these steps, then release the lock and return.
 */
export type StepOp =
  /** `cur = access->ioas` */
  | 'save-cur'
  /** `saved_id = access->iopt_access_list_id` */
  | 'save-id'
  /** `if (cur != access->ioas_unpin) return -EBUSY` */
  | 'busy-check'
  /** `if (cur == new) return 0` */
  | 'same-check'
  /** `access->ioas = NULL` */
  | 'clear-ioas'
  /** `iopt_add_access(&X->iopt, access)`: fallible, overwrites the list id */
  | 'add-access'
  /** take a users reference on X */
  | 'get-ref'
  /** drop a users reference on X (the last one lets X be destroyed) */
  | 'put-ref'
  /** `mutex_unlock(&access->ioas_lock)` */
  | 'unlock'
  /** `mutex_lock(&access->ioas_lock)` */
  | 'lock'
  /** `access->ops->unmap(data, 0, ULONG_MAX)`: the driver unpins everything */
  | 'unmap-callback'
  /** `iopt_remove_access(&cur->iopt, access, id)` with the saved or the current list id */
  | 'remove-access'
  /** `access->ioas = access->ioas_unpin = X` */
  | 'set-ioas'
  /** `access->ioas = cur` (the merged error path's whole undo) */
  | 'restore-ioas'
  /** re-attach the old IOAS by its id (v8's recursive call), result ignored */
  | 'reattach'
  /** leave the helper: with `error` the error already recorded, else 0 */
  | 'return';

export interface SourceStep {
  op: StepOp;
  /** Which IOAS the step acts on (add-access, get-ref, put-ref, remove-access, set-ioas; set-ioas also to NULL). */
  target?: 'new' | 'cur' | 'null';
  /** remove-access: the id saved on entry, or `access->iopt_access_list_id` as it is now. */
  listId?: 'saved' | 'field';
  /** Fallible steps and checks: where the failure continues (index into the steps), or 'return'. */
  onFail?: number | 'return';
  /** return: whether it returns an error. */
  error?: boolean;
  /** What the step does, as the source says it (`iopt_add_access(&new_ioas->iopt, access)`). */
  action: string;
  file?: string;
  line?: number;
  /** A step of a same-file helper walked inline: the calls it was reached through, outermost first (`toy_detach_locked(access)` at line 32). */
  via?: CallSite[];
}

/** A call a step was reached through. */
export interface CallSite {
  action: string;
  file: string;
  line: number;
}

export interface SimulationRequest {
  variant: SimVariant;
  /** The helper's step list for `from-source` (see stepsFromSource). */
  steps?: SourceStep[];
  threads: SimThread[];
  faults: SimFault[];
  contract: SimContract;
  /** Stop after this many distinct states (the result then says `complete: false`). */
  maxStates?: number;
  /**
   * The breach a finding is about: of the named invariant, the shortest
   * counterexample whose message matches `pattern` (a regular expression) is
   * shown, not merely the shortest (a failed replace can leave several things
   * changed; the finding names one).
   */
  prefer?: { invariant: InvariantId; pattern: string };
}

/** The state after a step, for trace lanes. IOASes are named A (old) and B (new). */
export interface StateView {
  ioas: string | null;
  ioasUnpin: string | null;
  listId: number;
  /** `lock@thread`, rwsem sides as `iova_rwsem(A):W@thread`. */
  locks: string[];
  /** Pages the driver has pinned, per IOAS. */
  pins: Record<string, number>;
  /** The access's slot in each IOAS's access list (null: not in the list). */
  lists: Record<string, number | null>;
  /** users references per IOAS. */
  users: Record<string, number>;
  destroyed: string[];
}

export interface TraceStep {
  thread: SimThread;
  action: string;
  file?: string;
  line?: number;
  /** The calls the step was reached through (from-source helpers walked inline). */
  via?: CallSite[];
  state: StateView;
  /** Set on the step that breaks the invariant. */
  violation?: string;
}

export interface Counterexample {
  message: string;
  steps: TraceStep[];
}

export interface InvariantResult {
  id: InvariantId;
  holds: boolean;
  counterexample?: Counterexample;
}

export interface Observation {
  id: string;
  message: string;
  /** The shortest trace that shows it. */
  example: { steps: TraceStep[] };
}

export interface SimulationResult {
  variant: SimVariant;
  contract: SimContract;
  threads: SimThread[];
  faults: SimFault[];
  /** Distinct states explored. */
  states: number;
  transitions: number;
  /** False when maxStates stopped the search before it was exhaustive. */
  complete: boolean;
  elapsedMs: number;
  invariants: InvariantResult[];
  observations: Observation[];
}
