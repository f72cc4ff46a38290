/**
 * Messages between the simulator panel's host (the extension) and its UI (the
 * webview), and the lane layout both sides agree on. Plain data: it crosses
 * postMessage and is persisted by the webview for the panel serializer.
 */
import { RULE_IDS, WITNESS_ROLES, type RelatedLocation, type RuleId, type ScenarioVariant } from '../engine/types';
import type { FindingSimulation } from './finding';
import type { PanelView, RepairPanelView } from './panel-view';
import type { SimContract, SimFault, SimThread, SimulationResult } from './types';

/** The finding a panel request comes from: what simulateFinding() needs, JSON-safe. */
export interface PanelFinding {
  ruleId: RuleId;
  message: string;
  file: string;
  line: number;
  function?: string;
  /** Its related locations: the witness the simulation replays. */
  related?: RelatedLocation[];
  /** `none`: why the rule has no simulation. */
  reason?: string;
}

/** What the panel simulates: a variant and its settings, maybe from a finding. */
export interface PanelRequest {
  variant: ScenarioVariant;
  threads: SimThread[];
  faults: SimFault[];
  contract: SimContract;
  /** from-source: the function whose steps are replayed. */
  file?: string;
  function?: string;
  /** The finding the panel was opened from: shown as its title, its witness replayed. */
  finding?: PanelFinding;
  /** The invariant the finding expects violated: its counterexample is shown first. */
  invariant?: string;
}

export type HostMessage =
  /** `view` is what the UI shows; `result` (a variant run) or `simulation` (a finding's) is the data behind it. */
  | {
      type: 'result';
      request: PanelRequest;
      view: PanelView;
      result?: SimulationResult;
      simulation?: FindingSimulation;
    }
  | { type: 'error'; request: PanelRequest; message: string }
  | { type: 'running'; request: PanelRequest }
  /** The repair search of the request's function: running (cancellable), its view, or why it could not run. */
  | { type: 'repairRunning'; request: PanelRequest }
  | { type: 'repair'; request: PanelRequest; repair: RepairPanelView }
  | { type: 'repairError'; request: PanelRequest; message: string };

export type UiMessage =
  | { type: 'ready' }
  | { type: 'run'; request: PanelRequest }
  /** `follow`: the editor follows the selected step (the panel keeps the focus). */
  | { type: 'openSource'; file: string; line: number; follow?: boolean }
  /**
   * The repair actions. They carry no data: the host acts on the request and
   * the proposal it holds itself, never on anything the webview sends back.
   */
  | { type: 'findRepair' }
  | { type: 'cancelRepair' }
  | { type: 'applyRepair' }
  | { type: 'insertRepair' };

/** What the webview persists (vscode.setState) so the serializer can restore it. */
export interface PanelState {
  request: PanelRequest;
}

/** A request whose function can be searched for a repair: a replace helper replayed from its source. */
export function canRepair(r: PanelRequest | undefined): boolean {
  return !!r && r.variant === 'from-source' && !!(r.function ?? r.finding?.function) && !!(r.file ?? r.finding?.file);
}

const VARIANTS: readonly ScenarioVariant[] = [
  'merged',
  'v8',
  'v7',
  'unmap-under-lock',
  'from-source',
  'lock-model',
  'none',
];
const THREADS: readonly SimThread[] = ['replacer', 'driver', 'user-unmap', 'detach', 'destroy'];
const FAULTS: readonly SimFault[] = ['add-access', 'lookup', 'reattach'];
const CONTRACTS: readonly SimContract[] = ['status-quo', 'usable'];

/**
 * Checks a request that came from the webview or from persisted state: both are
 * untrusted input to the host. Returns the cleaned request or why it is bad.
 */
export function validateRequest(raw: unknown): PanelRequest | string {
  if (typeof raw !== 'object' || raw === null) return 'request is not an object';
  const r = raw as Record<string, unknown>;
  if (!VARIANTS.includes(r.variant as ScenarioVariant)) return `unknown variant ${String(r.variant)}`;
  const list = <T>(v: unknown, allowed: readonly T[], what: string): T[] | string => {
    if (!Array.isArray(v) || !v.every((x) => allowed.includes(x as T))) return `bad ${what}`;
    return allowed.filter((a) => v.includes(a));
  };
  const threads = list(r.threads, THREADS, 'threads');
  if (typeof threads === 'string') return threads;
  if (!threads.includes('replacer')) return 'the replacer thread is required';
  const faults = list(r.faults, FAULTS, 'faults');
  if (typeof faults === 'string') return faults;
  if (!CONTRACTS.includes(r.contract as SimContract)) return `unknown contract ${String(r.contract)}`;
  const out: PanelRequest = {
    variant: r.variant as ScenarioVariant,
    threads,
    faults,
    contract: r.contract as SimContract,
  };
  if (typeof r.file === 'string') out.file = r.file;
  if (typeof r.function === 'string') out.function = r.function;
  if (typeof r.invariant === 'string') out.invariant = r.invariant;
  const f = r.finding as Record<string, unknown> | undefined;
  if (
    f &&
    typeof f === 'object' &&
    RULE_IDS.includes(f.ruleId as RuleId) &&
    typeof f.message === 'string' &&
    typeof f.file === 'string' &&
    typeof f.line === 'number'
  ) {
    out.finding = { ruleId: f.ruleId as RuleId, message: f.message, file: f.file, line: f.line };
    if (typeof f.function === 'string') out.finding.function = f.function;
    if (typeof f.reason === 'string') out.finding.reason = f.reason;
    if (Array.isArray(f.related)) out.finding.related = f.related.filter(isRelated).map(cleanRelated);
  }
  if (out.variant === 'from-source' && !out.function) return 'from-source needs a function';
  if ((out.variant === 'lock-model' || out.variant === 'none') && !out.finding)
    return `${out.variant} simulates a finding: it needs one`;
  return out;
}

function isRelated(x: unknown): x is RelatedLocation {
  const r = x as Record<string, unknown>;
  return (
    typeof r === 'object' &&
    r !== null &&
    typeof r.file === 'string' &&
    typeof r.line === 'number' &&
    typeof r.message === 'string'
  );
}

/** Only the fields a related location has, each of its type. */
function cleanRelated(r: RelatedLocation): RelatedLocation {
  const out: RelatedLocation = { file: r.file, line: r.line, message: r.message };
  if (WITNESS_ROLES.includes(r.role as never)) out.role = r.role;
  if (typeof r.lock === 'string') out.lock = r.lock;
  if (typeof r.path === 'number') out.path = r.path;
  return out;
}
