/**
 * Exhaustive breadth-first search over all interleavings. Breadth-first makes
 * the first breach found of each invariant a shortest counterexample; states
 * are hashed by their bytes so each is expanded once. Deterministic: threads
 * are tried in a fixed order and so are a step's outcomes.
 */
import { step, blockedOn } from './semantics';
import type { Breach, StepContext } from './semantics';
import { initialState, threadBase, T } from './state';
import type { InvariantId } from './types';

/** How a state was reached: from `parent` by thread `thread` running its instruction `pc`. */
export interface Arrival {
  parent: number;
  thread: number;
  pc: number;
}

export interface Witness {
  /** The state the witness ends in (its path is read back through arrivals). */
  state: number;
  /** The last step, when the witness is a transition rather than a state. */
  last?: { thread: number; pc: number; next: Uint8Array };
  message: string;
}

export interface Exploration {
  states: Uint8Array[];
  arrivals: Arrival[];
  transitions: number;
  complete: boolean;
  breaches: Map<InvariantId, Witness>;
  observations: Map<string, Witness>;
}

/** A state's hash key: its bytes as a string (states are a few dozen bytes). */
const keyOf = (s: Uint8Array): string => String.fromCharCode.apply(null, s as unknown as number[]);

export function explore(ctx: StepContext, maxStates = 2_000_000): Exploration {
  const threads = ctx.programs.length;
  const init = initialState(threads);
  const states: Uint8Array[] = [init];
  const arrivals: Arrival[] = [{ parent: -1, thread: -1, pc: -1 }];
  const seen = new Map<string, number>([[keyOf(init), 0]]);
  const breaches = new Map<InvariantId, Witness>();
  const observations = new Map<string, Witness>();
  let transitions = 0;
  let complete = true;

  const note = (from: number, t: number, pc: number, next: Uint8Array, br: Breach[]): void => {
    for (const b of br) if (!breaches.has(b.id)) breaches.set(b.id, { state: from, last: { thread: t, pc, next }, message: b.message });
  };

  for (let head = 0; head < states.length; head++) {
    const s = states[head];
    let moved = false;
    let running = false;
    for (let t = 0; t < threads; t++) {
      const pc = s[threadBase(t) + T.PC];
      if (pc < ctx.programs[t].instrs.length) running = true;
      const outs = step(s, t, ctx);
      for (const o of outs) {
        moved = true;
        transitions++;
        if (o.breaches) note(head, t, pc, o.next, o.breaches);
        if (o.observation && !observations.has(o.observation.id)) {
          observations.set(o.observation.id, { state: head, last: { thread: t, pc, next: o.next }, message: o.observation.message });
        }
        const k = keyOf(o.next);
        if (seen.has(k)) continue;
        if (states.length >= maxStates) {
          complete = false;
          continue;
        }
        seen.set(k, states.length);
        states.push(o.next);
        arrivals.push({ parent: head, thread: t, pc });
      }
    }
    if (!moved && running && !breaches.has('no-deadlock')) {
      const why: string[] = [];
      for (let t = 0; t < threads; t++) {
        const w = blockedOn(s, t, ctx);
        if (w) why.push(w);
      }
      breaches.set('no-deadlock', { state: head, message: `deadlock: ${why.join('; ')}` });
    }
  }
  return { states, arrivals, transitions, complete, breaches, observations };
}
