/**
 * Which locals an iterator moves, and the lock its cursors are valid under.
 * Iterator macros are call events at their loop head (model: a `for_each`
 * head renamed to `while`); iterator functions (`iopt_area_iter_first()`)
 * are ordinary calls. The knowledge says which arguments are cursors; an
 * unknown `*for_each*` macro moves its first argument when that is a plain
 * local (`list_for_each_entry(pos, ...)`, `for_each_set_bit(bit, ...)`).
 */
import { functionKnowledge } from '../knowledge/lookup';
import type { Knowledge } from '../knowledge/types';
import type { CallEvent } from '../model/types';

const FOR_EACH = /for_each/;

export interface IteratorStep {
  /** The locals it gives a new value (the call's result included). */
  cursors: string[];
  /** The lock class the cursors are valid under only, when the knowledge says. */
  validUnder?: string;
}

/** `&iter` / `area` → the local; anything else (an expression) is not a cursor. */
function cursorName(arg: string | undefined): string | undefined {
  if (arg === undefined) return undefined;
  let t = arg.trim();
  if (t.startsWith('&')) t = t.slice(1).trimStart();
  return /^[A-Za-z_]\w*$/.test(t) ? t : undefined;
}

export function iteratorStep(knowledge: Knowledge, ev: CallEvent): IteratorStep | undefined {
  const known = functionKnowledge(knowledge, ev.callee)?.iterator;
  if (known) {
    const cursors = known.cursors.map((i) => cursorName(ev.args[i])).filter((v): v is string => v !== undefined);
    if (ev.resultVar) cursors.push(ev.resultVar);
    return { cursors, ...(known.validUnder ? { validUnder: known.validUnder } : {}) };
  }
  if (!FOR_EACH.test(ev.callee)) return undefined;
  const first = cursorName(ev.args[0]);
  return { cursors: first ? [first] : [] };
}

/** True when the call moves `v` (an iterator step, whatever the knowledge says about validity). */
export function movesCursor(knowledge: Knowledge, ev: CallEvent, v: string): boolean {
  const step = iteratorStep(knowledge, ev);
  if (step) return step.cursors.includes(v);
  return false;
}
