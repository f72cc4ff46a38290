/**
 * A helper's step list as the repair search edits it: the main path (the
 * success side of every fallible step, ending in its return) and one error
 * path per fallible step. Every step remembers which step of the original
 * list it is (`origin`), so an edited flow can be mapped back to the source
 * lines it came from; steps the search adds have none.
 */
import type { SourceStep, StepOp } from '../types';

export interface RepairStep extends SourceStep {
  /** Index of the step in the list the search started from; absent for an added step. */
  origin?: number;
  /** For a fallible step of the main path: index of its error path in `Flow.handlers`. */
  handler?: number;
}

export interface Flow {
  main: RepairStep[];
  handlers: RepairStep[][];
}

/** Steps that read or write what `ioas_lock` protects: they must run where the lock is held. */
const NEEDS_LOCK = new Set<StepOp>([
  'save-cur',
  'save-id',
  'busy-check',
  'same-check',
  'clear-ioas',
  'add-access',
  'remove-access',
  'set-ioas',
  'restore-ioas',
  'reattach',
]);

export function needsLock(s: SourceStep): boolean {
  return NEEDS_LOCK.has(s.op);
}

/** Does the step read the saved `access->ioas` local? */
export function usesCur(s: SourceStep): boolean {
  return (
    s.target === 'cur' ||
    s.op === 'restore-ioas' ||
    s.op === 'busy-check' ||
    s.op === 'same-check' ||
    s.op === 'reattach'
  );
}

/** Does the step read the saved list id local? */
export function usesSavedId(s: SourceStep): boolean {
  return s.op === 'remove-access' && s.listId === 'saved';
}

/**
 * Splits a step list into a flow; undefined when an error path has a
 * fallible step of its own (the search does not edit nested error paths).
 */
export function toFlow(steps: readonly SourceStep[]): Flow | undefined {
  const firstReturn = steps.findIndex((s) => s.op === 'return');
  if (firstReturn < 0) return undefined;
  const main: RepairStep[] = steps.slice(0, firstReturn + 1).map((s, i) => ({ ...s, origin: i }));
  const handlers: RepairStep[][] = [];
  for (const s of main) {
    if (typeof s.onFail !== 'number') continue;
    const block: RepairStep[] = [];
    for (let i = s.onFail; i < steps.length; i++) {
      if (typeof steps[i].onFail === 'number') return undefined;
      block.push({ ...steps[i], origin: i });
      if (steps[i].op === 'return') break;
    }
    if (block.at(-1)?.op !== 'return') return undefined;
    s.handler = handlers.push(block) - 1;
    delete s.onFail;
  }
  return { main, handlers };
}

/** The flow as the simulator's step list: the main path, then each error path. */
export function fromFlow(flow: Flow): RepairStep[] {
  const out: RepairStep[] = flow.main.map((s) => ({ ...s }));
  for (const s of out) {
    if (s.handler === undefined) continue;
    const block = flow.handlers[s.handler];
    s.onFail = out.length;
    out.push(...block.map((b) => ({ ...b, handler: undefined })));
  }
  return out.map(({ handler: _h, ...rest }) => rest);
}

/** A key that tells two flows apart by what they run (not by their text). */
export function flowKey(flow: Flow): string {
  const one = (s: RepairStep): string =>
    `${s.op}:${s.target ?? ''}:${s.listId ?? ''}:${s.error ?? ''}:${s.origin ?? '+'}`;
  return [
    flow.main
      .map((s) => one(s) + (s.handler !== undefined ? `[${flow.handlers[s.handler].map(one).join(',')}]` : ''))
      .join(' '),
  ].join('');
}

export function cloneFlow(flow: Flow): Flow {
  return { main: flow.main.map((s) => ({ ...s })), handlers: flow.handlers.map((h) => h.map((s) => ({ ...s }))) };
}

/** Whether `ioas_lock` is held before each main-path step (the replacer holds it on entry). */
export function lockHeldBefore(main: readonly RepairStep[]): boolean[] {
  const held: boolean[] = [];
  let h = true;
  for (const s of main) {
    held.push(h);
    if (s.op === 'unlock') h = false;
    else if (s.op === 'lock') h = true;
  }
  return held;
}
