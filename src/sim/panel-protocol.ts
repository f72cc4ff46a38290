/**
 * Messages between the simulator panel's host (the extension) and its UI (the
 * webview), and the lane layout both sides agree on. Plain data: it crosses
 * postMessage and is persisted by the webview for the panel serializer.
 */
import type { RuleId } from '../engine/types';
import type { SimContract, SimFault, SimThread, SimVariant, SimulationResult, TraceStep } from './types';

/** What the panel simulates: a variant and its settings, maybe from a finding. */
export interface PanelRequest {
  variant: SimVariant;
  threads: SimThread[];
  faults: SimFault[];
  contract: SimContract;
  /** from-source: the function whose steps are replayed. */
  file?: string;
  function?: string;
  /** The finding the panel was opened from, shown as its title. */
  finding?: { ruleId: RuleId; message: string; file: string; line: number };
  /** The invariant the finding expects violated: its counterexample is shown first. */
  invariant?: string;
}

export type HostMessage =
  | { type: 'result'; request: PanelRequest; result: SimulationResult }
  | { type: 'error'; request: PanelRequest; message: string }
  | { type: 'running'; request: PanelRequest };

export type UiMessage =
  | { type: 'ready' }
  | { type: 'run'; request: PanelRequest }
  | { type: 'openSource'; file: string; line: number };

/** What the webview persists (vscode.setState) so the serializer can restore it. */
export interface PanelState {
  request: PanelRequest;
}

export interface LaneRow {
  index: number;
  /** Column of the acting thread in `LaneLayout.threads`. */
  lane: number;
  step: TraceStep;
}

export interface LaneLayout {
  threads: SimThread[];
  rows: LaneRow[];
}

/** Lays a trace out as one lane per thread, in the order the result names its threads. */
export function laneLayout(threads: readonly SimThread[], steps: readonly TraceStep[]): LaneLayout {
  const order = [...threads];
  for (const s of steps) if (!order.includes(s.thread)) order.push(s.thread);
  return { threads: order, rows: steps.map((step, index) => ({ index, lane: order.indexOf(step.thread), step })) };
}

/** The invariant shown first: the finding's when it is broken, else the first broken one. */
export function primaryInvariant(result: SimulationResult, preferred?: string): string | undefined {
  const broken = result.invariants.filter((i) => !i.holds);
  return (broken.find((i) => i.id === preferred) ?? broken[0])?.id;
}

/** One line summing up a state for a lane row. */
export function stateSummary(s: TraceStep['state']): string {
  const pins = Object.entries(s.pins).map(([k, v]) => `${k}:${v}`).join(' ');
  const users = Object.entries(s.users).map(([k, v]) => `${k}:${v}`).join(' ');
  return [
    `ioas=${s.ioas ?? 'NULL'}`,
    `ioas_unpin=${s.ioasUnpin ?? 'NULL'}`,
    `locks=[${s.locks.join(', ')}]`,
    `pins{${pins}}`,
    `users{${users}}`,
    ...(s.destroyed.length ? [`destroyed=[${s.destroyed.join(', ')}]`] : []),
  ].join('  ');
}

const VARIANTS: readonly SimVariant[] = ['merged', 'v8', 'v7', 'unmap-under-lock', 'from-source'];
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
  if (!VARIANTS.includes(r.variant as SimVariant)) return `unknown variant ${String(r.variant)}`;
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
  const out: PanelRequest = { variant: r.variant as SimVariant, threads, faults, contract: r.contract as SimContract };
  if (typeof r.file === 'string') out.file = r.file;
  if (typeof r.function === 'string') out.function = r.function;
  if (typeof r.invariant === 'string') out.invariant = r.invariant;
  const f = r.finding as Record<string, unknown> | undefined;
  if (f && typeof f === 'object' && typeof f.ruleId === 'string' && typeof f.message === 'string' && typeof f.file === 'string' && typeof f.line === 'number') {
    out.finding = { ruleId: f.ruleId as RuleId, message: f.message, file: f.file, line: f.line };
  }
  if (out.variant === 'from-source' && !out.function) return 'from-source needs a function';
  return out;
}
