/**
 * The engine's public data types. Plain data only: these cross every layer
 * (patch, sim, report, cli, extension) and are serialised as-is into JSON output.
 * Lines and columns are 1-based everywhere outside the parse layer.
 */

export const RULE_IDS = [
  'lock-order',
  'callback-under-lock',
  'unmap-before-rollback',
  'unrestored-state',
  'stale-after-relock',
  'lock-leak',
  'assert-held',
  'missing-undo',
  'published-before-finished',
  'unlocked-access',
] as const;
export type RuleId = (typeof RULE_IDS)[number];

export type Severity = 'error' | 'warning' | 'note';
export type Confidence = 'low' | 'medium' | 'high';
export const CONFIDENCE_ORDER: readonly Confidence[] = ['low', 'medium', 'high'];

/** A C source given to the engine. `path` is how it is reported back. */
export interface SourceFile {
  path: string;
  text: string;
}

/**
 * What a related location is in the finding's story. Related locations with a
 * role are the finding's witness: the steps that make the problem happen, in
 * the order they run (a path after the other for multi-path rules). The
 * simulator replays exactly these steps; locations without a role are context.
 */
export const WITNESS_ROLES = [
  /** a lock taken (or held on entry): `lock` names its class */
  'acquire',
  /** a lock dropped: `lock` names its class */
  'release',
  /** a lock asserted held (`lockdep_assert_held`) */
  'assert',
  /** a call the path goes through, or a step inside a callee or callback implementation */
  'call',
  /** an ops callback called (`x->ops->fn()`) */
  'callback',
  /** a step the error path cannot undo (unmap, unpin, remove, last put, destroy) */
  'irreversible',
  /** a step that can fail */
  'fallible',
  /** the error path's attempt to undo */
  'restore',
  /** an error returned to the caller */
  'return',
  /** shared state written */
  'write',
  /** a value read or obtained (to be used later) */
  'read',
  /** a value or a field used (the stale use, the unprotected access) */
  'use',
  /**
   * a fresh allocation stored in a field that owns what it holds, the old value
   * not released first; the message names the field, then the allocator, in
   * backquotes (`obj->buf` ... `kmalloc()`)
   */
  'store',
  /** the object freed (its teardown returns): whatever its fields still own is lost */
  'drop',
] as const;
export type WitnessRole = (typeof WITNESS_ROLES)[number];

export interface RelatedLocation {
  file: string;
  line: number;
  message: string;
  /** The location's role in the witness; absent for context that is no step. */
  role?: WitnessRole;
  /**
   * acquire, release, assert: the lock class (`struct.field`) the step is about;
   * call, callback: a lock the callee takes, when no step inside it is in the witness.
   */
  lock?: string;
  /**
   * Which path of the witness the step is on: 0 (or absent) the finding's own,
   * 1, 2, ... the other paths a multi-path problem needs (each edge of a
   * lock-order cycle after the first). The simulator runs each path as a thread.
   */
  path?: number;
}

/** A witness step: a related location with a role. */
export type WitnessStep = RelatedLocation & { role: WitnessRole };

export type SimVariant = 'merged' | 'v8' | 'v7' | 'unmap-under-lock' | 'from-source';
/**
 * What a finding's Simulate link runs: a replace-flow variant, the generic lock
 * model built from the witness paths (`lock-model`: one thread per path, every
 * interleaving, for lock-order and callback findings outside the replace flow),
 * or nothing (`none`: the rule has no simulation; `reason` says why).
 */
export type ScenarioVariant = SimVariant | 'lock-model' | 'none';
export type SimFault = 'add-access' | 'lookup' | 'reattach';
export type SimThread = 'replacer' | 'driver' | 'user-unmap' | 'detach' | 'destroy';
export type SimContract = 'status-quo' | 'usable';

/** The simulator scenario a finding maps to (see src/sim). */
export interface Scenario {
  variant: ScenarioVariant;
  /** For `from-source`: the function the step list is extracted from. */
  file?: string;
  function?: string;
  threads: SimThread[];
  faults: SimFault[];
  contract: SimContract;
  /** The invariant the scenario is expected to show violated, if any. */
  invariant?: string;
  /** `none`: why there is no simulation, in words for the panel. */
  reason?: string;
}

export interface Finding {
  ruleId: RuleId;
  severity: Severity;
  confidence: Confidence;
  message: string;
  file: string;
  line: number;
  column: number;
  endLine?: number;
  endColumn?: number;
  function: string;
  /** Stable across line moves: rule, function, the locks or calls involved. */
  fingerprint: string;
  related: RelatedLocation[];
  scenario: Scenario;
}

export interface LockSite {
  file: string;
  line: number;
}

export interface LockEdge {
  from: string;
  to: string;
  sites: LockSite[];
}

export interface LockGraph {
  edges: LockEdge[];
}

export type CoverageStatus = 'parsed' | 'partial' | 'skipped';

export interface FunctionCoverage {
  file: string;
  function: string;
  line: number;
  status: CoverageStatus;
  /** Why partial or skipped, in words a user can act on. */
  reason?: string;
}

/** A whole-file problem: unreadable, binary, too large, parse timed out. */
export interface FileProblem {
  file: string;
  message: string;
}

export interface Coverage {
  files: number;
  functions: { parsed: number; partial: number; skipped: number };
  entries: FunctionCoverage[];
  problems: FileProblem[];
}

export interface AnalysisResult {
  findings: Finding[];
  lockGraph: LockGraph;
  coverage: Coverage;
}
