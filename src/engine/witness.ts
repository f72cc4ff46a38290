/**
 * A finding's witness as the simulator and the reports read it: the related
 * locations that have a role, in the order the checks put them (the order
 * the steps run, path after path).
 */
import type { RelatedLocation, WitnessStep } from './types';

export function witnessOf(f: { related: readonly RelatedLocation[] }): WitnessStep[] {
  return f.related.filter((r): r is WitnessStep => r.role !== undefined);
}

/** The witness split into its paths (path 0 first); each path keeps its order. */
export function witnessPaths(f: { related: readonly RelatedLocation[] }): WitnessStep[][] {
  const out: WitnessStep[][] = [];
  for (const s of witnessOf(f)) (out[s.path ?? 0] ??= []).push(s);
  return out.filter((p) => p !== undefined);
}
