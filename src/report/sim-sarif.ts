/**
 * The simulator's SARIF 2.1.0 report: one result per broken invariant, its
 * counterexample as one codeFlow with one threadFlow per thread. Steps keep
 * their global order in `executionOrder` and the state after them in `state`.
 * Reuses the log and location builders of the analysis report (sarif.ts).
 */
import type * as Sarif from 'sarif';
import { physicalLocation, sarifLog, TOOL_NAME } from './sarif';
import { formatState } from './sim-text';
import { INVARIANT_IDS } from '../sim/types';
import type { SimulationResult, StateView, TraceStep } from '../sim/types';

const DESCRIPTIONS: Record<(typeof INVARIANT_IDS)[number], string> = {
  'no-deadlock': 'Every interleaving can run to completion: no thread waits forever for a lock.',
  'failure-contract': 'A failed replace leaves the access as its contract promises (status quo, or usable).',
  'pin-attached': 'The driver never pins into an IOAS whose access list does not hold the access.',
  'no-use-after-free': 'No IOAS is used after its last reference was dropped and it was destroyed.',
  'list-id-consistent': "The list id used to remove the access is the access's slot in that IOAS's list.",
};

function stateProperties(s: StateView): Record<string, Sarif.MultiformatMessageString> {
  return {
    ioas: { text: s.ioas ?? 'NULL' },
    ioas_unpin: { text: s.ioasUnpin ?? 'NULL' },
    list_id: { text: String(s.listId) },
    locks: { text: s.locks.join(', ') || '-' },
    pins: { text: `A:${s.pins.A} B:${s.pins.B}` },
    summary: { text: formatState(s) },
  };
}

function flowLocation(st: TraceStep, order: number): Sarif.ThreadFlowLocation {
  const location: Sarif.Location = {
    message: { text: st.violation ? `${st.action} [breaks ${st.violation}]` : st.action },
  };
  if (st.file && st.line) location.physicalLocation = physicalLocation(st.file, st.line);
  return { location, executionOrder: order, state: stateProperties(st.state) };
}

/** A counterexample as a codeFlow: one threadFlow per thread, in order of first appearance. */
export function codeFlow(message: string, steps: TraceStep[]): Sarif.CodeFlow {
  const threads = [...new Set(steps.map((s) => s.thread))];
  return {
    message: { text: message },
    threadFlows: threads.map((t) => ({
      id: t,
      message: { text: t },
      locations: steps
        .map((s, i) => [s, i + 1] as const)
        .filter(([s]) => s.thread === t)
        .map(([s, n]) => flowLocation(s, n)),
    })),
  };
}

export function toSimSarif(r: SimulationResult, toolVersion: string): Sarif.Log {
  const rules = INVARIANT_IDS.map((id) => ({
    id: `sim/${id}`,
    name: id,
    shortDescription: { text: DESCRIPTIONS[id] },
  }));
  const results: Sarif.Result[] = r.invariants
    .filter((i) => !i.holds && i.counterexample)
    .map((i) => {
      const steps = i.counterexample!.steps;
      const last = [...steps].reverse().find((s) => s.file && s.line);
      const result: Sarif.Result = {
        ruleId: `sim/${i.id}`,
        ruleIndex: INVARIANT_IDS.indexOf(i.id),
        level: 'error',
        message: { text: `${r.variant}: ${i.counterexample!.message}` },
        codeFlows: [codeFlow(i.counterexample!.message, steps)],
        properties: {
          variant: r.variant,
          contract: r.contract,
          threads: r.threads,
          faults: r.faults,
          steps: steps.length,
        },
      };
      if (last) result.locations = [{ physicalLocation: physicalLocation(last.file!, last.line!) }];
      return result;
    });
  const run: Sarif.Run = {
    tool: { driver: { name: `${TOOL_NAME} simulator`, version: toolVersion, semanticVersion: toolVersion, rules } },
    results,
    properties: {
      variant: r.variant,
      contract: r.contract,
      states: r.states,
      complete: r.complete,
      elapsedMs: r.elapsedMs,
      verdicts: Object.fromEntries(r.invariants.map((i) => [i.id, i.holds])),
      observations: r.observations.map((o) => ({ id: o.id, message: o.message })),
    },
  };
  return sarifLog([run]);
}

export function formatSimSarif(r: SimulationResult, toolVersion: string): string {
  return JSON.stringify(toSimSarif(r, toolVersion), null, 2) + '\n';
}
