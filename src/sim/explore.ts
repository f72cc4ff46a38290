/**
 * Exhaustive breadth-first search over all interleavings. Breadth-first makes
 * the first breach found of each invariant a shortest counterexample; states
 * are hashed by their bytes so each is expanded once. Deterministic: threads
 * are tried in a fixed order and so are a step's outcomes.
 */
import { step, blockedOn } from './semantics';
import type { Breach, StepContext } from './semantics';
import { initialState, threadBase, T } from './state';
import { StateStore } from './state-store';
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
  states: number;
  /** State n's bytes. */
  stateAt(n: number): Uint8Array;
  /** How state n was reached (parent -1 for the initial state). */
  arrival(n: number): Arrival;
  transitions: number;
  complete: boolean;
  breaches: Map<InvariantId, Witness>;
  observations: Map<string, Witness>;
}

/** Parent links, one entry per state, in typed arrays that grow with the store. */
class Arrivals {
  parent = new Int32Array(4096);
  thread = new Uint8Array(4096);
  pc = new Uint16Array(4096);
  set(n: number, parent: number, thread: number, pc: number): void {
    if (n >= this.parent.length) {
      const grow = <A extends Int32Array | Uint8Array | Uint16Array>(a: A): A => {
        const b = new (a.constructor as new (n: number) => A)(a.length * 2);
        b.set(a);
        return b;
      };
      this.parent = grow(this.parent);
      this.thread = grow(this.thread);
      this.pc = grow(this.pc);
    }
    this.parent[n] = parent;
    this.thread[n] = thread;
    this.pc[n] = pc;
  }
}

/**
 * `prefer`: of this invariant, keep the first breach whose message matches
 * (breadth-first, so the shortest such) over the first breach of any kind.
 */
export function explore(
  ctx: StepContext,
  maxStates = 2_000_000,
  prefer?: { invariant: InvariantId; pattern: RegExp },
): Exploration {
  const threads = ctx.programs.length;
  const init = initialState(threads);
  const store = new StateStore(init.length);
  const arrivals = new Arrivals();
  store.add(init);
  arrivals.set(0, -1, 0, 0);
  const breaches = new Map<InvariantId, Witness>();
  const observations = new Map<string, Witness>();
  let transitions = 0;
  let complete = true;

  const note = (from: number, t: number, pc: number, next: Uint8Array, br: Breach[]): void => {
    for (const b of br) {
      const had = breaches.get(b.id);
      const better =
        !!had && prefer?.invariant === b.id && !prefer.pattern.test(had.message) && prefer.pattern.test(b.message);
      if (!had || better) breaches.set(b.id, { state: from, last: { thread: t, pc, next }, message: b.message });
    }
  };

  for (let head = 0; head < store.count; head++) {
    // a copy: the store's buffer may move while this state's successors are added
    const s = store.get(head).slice();
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
          observations.set(o.observation.id, {
            state: head,
            last: { thread: t, pc, next: o.next },
            message: o.observation.message,
          });
        }
        if (store.find(o.next) >= 0) continue;
        if (store.count >= maxStates) {
          complete = false;
          continue;
        }
        arrivals.set(store.add(o.next), head, t, pc);
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
  return {
    states: store.count,
    stateAt: (n) => store.get(n).slice(),
    arrival: (n) => ({ parent: arrivals.parent[n], thread: arrivals.thread[n], pc: arrivals.pc[n] }),
    transitions,
    complete,
    breaches,
    observations,
  };
}
