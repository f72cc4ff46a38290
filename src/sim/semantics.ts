/**
 * What one instruction does: from a state, the states a thread can step to.
 * An empty list means the thread is blocked (on a mutex or an rwsem) or done.
 * Invariant breaches found by a step come back with it; the explorer turns the
 * first (shortest) one of each invariant into a counterexample.
 */
import { IOAS_A, IOAS_B, IOAS_NAMES, RC, RC_NAMES } from './program';
import type { Instr, ThreadProgram } from './program';
import { G, T, threadBase } from './state';
import type { InvariantId, SimContract } from './types';

export interface Breach {
  id: InvariantId;
  message: string;
}

export interface Outcome {
  next: Uint8Array;
  breaches?: Breach[];
  observation?: { id: string; message: string };
}

export interface StepContext {
  programs: ThreadProgram[];
  contract: SimContract;
}

const slot = (x: number): number => G.SLOT + x - 1;
const refs = (x: number): number => G.REFS + x - 1;
const alive = (x: number): number => G.ALIVE + x - 1;
const pins = (x: number): number => G.PINS + x - 1;
const nm = (x: number): string => IOAS_NAMES[x];

/** Is IOAS x's iova_rwsem free of writers (what a reader or an add/remove waits for)? */
const iovaFree = (s: Uint8Array, x: number): boolean => x !== IOAS_A || s[G.IOVA_W] === 0;

/** A use of IOAS x that is only legal while it exists. */
function useOf(s: Uint8Array, x: number, what: string, out: Breach[]): void {
  if (x !== 0 && !s[alive(x)])
    out.push({
      id: 'no-use-after-free',
      message: `${what} uses IOAS ${nm(x)} after its last reference was dropped and it was destroyed`,
    });
}

/** The failure contract, checked when the replacer returns an error (still holding ioas_lock). */
export function contractBreach(s: Uint8Array, contract: SimContract, rc: number): Breach | undefined {
  if (!s[G.SNAP]) return undefined;
  const err = RC_NAMES[rc];
  if (contract === 'usable') {
    if (s[G.S_IOAS] === 0) return undefined; // not attached before: nothing to keep usable
    const x = s[G.IOAS];
    if (x === 0)
      return {
        id: 'failure-contract',
        message: `replace failed with ${err} and left access->ioas NULL (ioas_unpin ${nm(s[G.UNPIN])}): new pins fail with -ENOENT for good`,
      };
    if (!s[alive(x)])
      return {
        id: 'failure-contract',
        message: `replace failed with ${err} and left the access on destroyed IOAS ${nm(x)}`,
      };
    if (!s[slot(x)])
      return {
        id: 'failure-contract',
        message: `replace failed with ${err} and left access->ioas at ${nm(x)}, whose access list does not hold the access`,
      };
    if (s[G.UNPIN] !== x)
      return {
        id: 'failure-contract',
        message: `replace failed with ${err}: pins go to ${nm(x)} but unpins to ${nm(s[G.UNPIN])}`,
      };
    return undefined;
  }
  const diffs: string[] = [];
  if (s[G.DROPPED])
    diffs.push("the driver's pinned pages are gone (its unmap callback unpinned them and nothing pins them back)");
  if (s[G.IOAS] !== s[G.S_IOAS]) diffs.push(`access->ioas is ${nm(s[G.IOAS])}, was ${nm(s[G.S_IOAS])}`);
  if (s[G.UNPIN] !== s[G.S_UNPIN]) diffs.push(`access->ioas_unpin is ${nm(s[G.UNPIN])}, was ${nm(s[G.S_UNPIN])}`);
  if (s[G.LID] !== s[G.S_LID]) diffs.push(`the list id is ${s[G.LID]}, was ${s[G.S_LID]}`);
  for (const x of [IOAS_A, IOAS_B]) {
    if (s[slot(x)] !== s[G.S_SLOT + x - 1])
      diffs.push(`${nm(x)}'s access list ${s[slot(x)] ? 'holds' : 'no longer holds'} the access`);
    if (s[refs(x)] !== s[G.S_REFS + x - 1])
      diffs.push(`the access holds ${s[refs(x)]} reference(s) on ${nm(x)}, was ${s[G.S_REFS + x - 1]}`);
    if (s[G.S_SLOT + x - 1] && !s[alive(x)]) diffs.push(`IOAS ${nm(x)} was destroyed`);
  }
  if (diffs.length === 0) return undefined;
  return {
    id: 'failure-contract',
    message: `replace failed with ${err} but did not leave things as they were: ${diffs.join('; ')}`,
  };
}

/** The successors of thread t's next instruction in state s. */
export function step(s: Uint8Array, t: number, ctx: StepContext): Outcome[] {
  const prog = ctx.programs[t];
  const b = threadBase(t);
  const pc = s[b + T.PC];
  if (pc >= prog.instrs.length) return [];
  const i: Instr = prog.instrs[pc];
  const me = t + 1;
  const isReplacer = prog.thread === 'replacer';
  const cur = s[b + T.CUR];
  const targetOf = (tg: 'new' | 'cur'): number => (tg === 'new' ? IOAS_B : cur);

  // every successor starts as a copy that moved on to the next instruction
  const fresh = (to = pc + 1): Uint8Array => {
    const n = s.slice();
    n[b + T.PC] = to;
    return n;
  };
  const one = (n: Uint8Array, breaches: Breach[] = []): Outcome[] => [
    breaches.length ? { next: n, breaches } : { next: n },
  ];

  switch (i.k) {
    case 'lock': {
      const at = i.lock === 'ioas_lock' ? G.L_IOAS : G.L_DRV;
      if (s[at] !== 0) return []; // blocks, also on a mutex this thread already holds
      const n = fresh();
      n[at] = me;
      return one(n);
    }
    case 'unlock': {
      const at = i.lock === 'ioas_lock' ? G.L_IOAS : G.L_DRV;
      const n = fresh();
      if (n[at] === me) n[at] = 0;
      return one(n);
    }
    case 'wlock': {
      if (s[G.IOVA_W] !== 0) return [];
      const n = fresh();
      n[G.IOVA_W] = me;
      return one(n);
    }
    case 'wunlock': {
      const n = fresh();
      if (n[G.IOVA_W] === me) n[G.IOVA_W] = 0;
      return one(n);
    }
    case 'check-attached': {
      const n = fresh();
      n[G.SNAP] = 1;
      n[G.S_IOAS] = s[G.IOAS];
      n[G.S_UNPIN] = s[G.UNPIN];
      n[G.S_LID] = s[G.LID];
      for (const x of [IOAS_A, IOAS_B]) {
        n[G.S_SLOT + x - 1] = s[slot(x)];
        n[G.S_REFS + x - 1] = s[refs(x)];
      }
      if (s[G.IOAS] === 0) {
        n[b + T.PC] = i.fail;
        n[b + T.RC] = RC.enoent;
      }
      return one(n);
    }
    case 'lookup': {
      const ok = fresh();
      if (!i.fault) return one(ok);
      const failed = fresh(i.fail);
      failed[b + T.RC] = RC.enoent;
      return [{ next: failed }, { next: ok }];
    }
    case 'save-cur': {
      const n = fresh();
      n[b + T.CUR] = s[G.IOAS];
      return one(n);
    }
    case 'save-id': {
      const n = fresh();
      n[b + T.SID] = s[G.LID];
      return one(n);
    }
    case 'busy-check': {
      if (cur === s[G.UNPIN]) return one(fresh());
      const n = fresh(i.fail);
      n[b + T.RC] = RC.ebusy;
      return one(n);
    }
    case 'same-check':
      return one(fresh(cur === IOAS_B ? i.done : pc + 1));
    case 'clear-ioas': {
      const n = fresh();
      n[G.IOAS] = 0;
      return one(n);
    }
    case 'add-access': {
      const x = targetOf(i.target);
      if (!iovaFree(s, x)) return [];
      const br: Breach[] = [];
      useOf(s, x, i.action, br);
      const ok = fresh();
      ok[slot(x)] = x; // the new slot: IOAS n hands out id n, so a slot tells which list it came from
      ok[G.LID] = x; // iopt_add_access() overwrites the access's list id
      const outs: Outcome[] = [br.length ? { next: ok, breaches: br } : { next: ok }];
      if (i.fault) {
        const failed = fresh(i.fail);
        if (i.rcOnFail) failed[b + T.RC] = i.rcOnFail;
        outs.unshift(br.length ? { next: failed, breaches: br } : { next: failed });
      }
      return outs;
    }
    case 'get-ref': {
      const x = targetOf(i.target);
      const br: Breach[] = [];
      useOf(s, x, i.action, br);
      const n = fresh();
      if (x) n[refs(x)]++;
      return one(n, br);
    }
    case 'put-ref': {
      const x = targetOf(i.target);
      const br: Breach[] = [];
      useOf(s, x, i.action, br);
      const n = fresh();
      if (x && n[refs(x)] > 0) n[refs(x)]--;
      return one(n, br);
    }
    case 'remove-access': {
      const x = cur;
      if (!iovaFree(s, x)) return [];
      const br: Breach[] = [];
      const n = fresh();
      if (x) {
        useOf(s, x, i.action, br);
        const id = i.listId === 'saved' ? s[b + T.SID] : s[G.LID];
        if (s[slot(x)] !== 0 && s[slot(x)] === id) n[slot(x)] = 0;
        else
          br.push({
            id: 'list-id-consistent',
            message: `${i.action} removes list id ${id} from ${nm(x)}, but the access sits at ${s[slot(x)] ? `slot ${s[slot(x)]}` : 'no slot'} of ${nm(x)}'s access list: its entry stays behind`,
          });
      }
      return one(n, br);
    }
    case 'set-ioas': {
      const n = fresh();
      const x = i.target === 'null' ? 0 : targetOf(i.target);
      n[G.IOAS] = x;
      n[G.UNPIN] = x;
      if (i.target === 'null') n[G.LID] = 0;
      return one(n);
    }
    case 'restore-ioas': {
      const n = fresh();
      n[G.IOAS] = cur;
      return one(n);
    }
    case 'read-id': {
      if (cur && !s[alive(cur)]) {
        return [
          {
            next: fresh(i.fail),
            breaches: [
              {
                id: 'no-use-after-free',
                message: `the error path reads cur_ioas->obj.id after it dropped its reference on IOAS ${nm(cur)}, and ${nm(cur)} was destroyed in between`,
              },
            ],
          },
        ];
      }
      if (!cur) return one(fresh(i.fail));
      return one(fresh());
    }
    case 'return': {
      const n = fresh(i.exit);
      if (!i.error) n[b + T.RC] = RC.ok;
      return one(n);
    }
    case 'exit': {
      const n = fresh(prog.instrs.length);
      if (n[G.L_IOAS] === me) n[G.L_IOAS] = 0;
      const rc = s[b + T.RC];
      const breach = rc !== RC.ok ? contractBreach(s, ctx.contract, rc) : undefined;
      return one(n, breach ? [breach] : []);
    }
    case 'skip-if-no-pins':
      return one(fresh(s[pins(IOAS_A)] + s[pins(IOAS_B)] === 0 ? i.to : pc + 1));
    case 'unpin-all': {
      const x = s[G.UNPIN];
      if (x === 0 || s[pins(x)] === 0) return one(fresh());
      if (!iovaFree(s, x)) return [];
      const br: Breach[] = [];
      useOf(s, x, i.action, br);
      const n = fresh();
      n[pins(x)] = 0;
      if (isReplacer) n[G.DROPPED] = 1;
      return one(n, br);
    }
    case 'pin': {
      const x = s[G.IOAS];
      if (x === 0) {
        const n = fresh(i.fail);
        n[b + T.RC] = RC.enoent;
        return [
          {
            next: n,
            observation: {
              id: 'pin-enoent',
              message:
                'a pin failed with -ENOENT while access->ioas was NULL during a change (accepted: the driver retries)',
            },
          },
        ];
      }
      if (!iovaFree(s, x)) return [];
      const br: Breach[] = [];
      useOf(s, x, i.action, br);
      if (!s[slot(x)])
        br.push({
          id: 'pin-attached',
          message: `the driver pinned a page into IOAS ${nm(x)}, whose access list does not hold the access`,
        });
      const n = fresh();
      n[pins(x)]++;
      return one(n, br);
    }
    case 'unpin-one': {
      const x = s[G.UNPIN];
      if (x === 0 || s[pins(x)] === 0) return one(fresh());
      if (!iovaFree(s, x)) return [];
      const br: Breach[] = [];
      useOf(s, x, i.action, br);
      const n = fresh();
      n[pins(x)]--;
      return one(n, br);
    }
    case 'uref-get': {
      if (!s[alive(IOAS_A)]) return one(fresh(i.fail));
      const n = fresh();
      n[G.UREF] = 1;
      return one(n);
    }
    case 'uref-put': {
      const n = fresh();
      n[G.UREF] = 0;
      return one(n);
    }
    case 'skip-if-unpinned':
      return one(fresh(s[pins(IOAS_A)] === 0 ? i.to : pc + 1));
    case 'notify':
      return one(fresh(s[slot(IOAS_A)] === 0 ? i.to : pc + 1));
    case 'detach-check': {
      const x = s[G.IOAS];
      if (x === 0 || x !== s[G.UNPIN]) return one(fresh(i.fail));
      const n = fresh();
      n[b + T.CUR] = x;
      n[b + T.SID] = s[G.LID];
      return one(n);
    }
    case 'destroy': {
      const n = fresh();
      if (s[refs(IOAS_A)] === 0 && s[G.UREF] === 0) n[alive(IOAS_A)] = 0;
      return one(n);
    }
  }
}

/** Why a thread cannot move: the lock it waits for and who holds it. */
export function blockedOn(s: Uint8Array, t: number, ctx: StepContext): string | undefined {
  const prog = ctx.programs[t];
  const pc = s[threadBase(t) + T.PC];
  if (pc >= prog.instrs.length) return undefined;
  const i = prog.instrs[pc];
  const who = (h: number): string => (h === t + 1 ? 'itself' : ctx.programs[h - 1].thread);
  if (i.k === 'lock')
    return `${prog.thread} waits for ${i.lock} held by ${who(s[i.lock === 'ioas_lock' ? G.L_IOAS : G.L_DRV])}`;
  if (s[G.IOVA_W]) return `${prog.thread} waits for A's iova_rwsem held for write by ${who(s[G.IOVA_W])}`;
  return `${prog.thread} cannot move at "${i.action}"`;
}
