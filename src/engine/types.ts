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

export interface RelatedLocation {
  file: string;
  line: number;
  message: string;
}

export type SimVariant = 'merged' | 'v8' | 'v7' | 'unmap-under-lock' | 'from-source';
export type SimFault = 'add-access' | 'lookup' | 'reattach';
export type SimThread = 'replacer' | 'driver' | 'user-unmap' | 'detach' | 'destroy';
export type SimContract = 'status-quo' | 'usable';

/** The simulator scenario a finding maps to (see src/sim). */
export interface Scenario {
  variant: SimVariant;
  /** For `from-source`: the function the step list is extracted from. */
  file?: string;
  function?: string;
  threads: SimThread[];
  faults: SimFault[];
  contract: SimContract;
  /** The invariant the scenario is expected to show violated, if any. */
  invariant?: string;
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
