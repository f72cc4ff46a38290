/**
 * The generic model of a finding's witness, for findings outside the replace
 * flow (a driver's own ops, vfio, any lock): one thread per witness path, in
 * the manner of lockdep's CPU0/CPU1 table, but every interleaving explored.
 *
 * Each witness step is one instruction: an acquire blocks while another
 * thread (or the same one: a self-deadlock) holds the lock; a fallible step
 * takes both outcomes; a step that cannot be undone, a write of shared state,
 * a value read and its later use are remembered so the error return or the
 * use can be judged. The rule's claim adds the other thread it needs: the
 * documented order for a one-edge inversion, another caller of a lock left
 * held, a concurrent user that frees the object a stale pointer points to,
 * a later call of the same function for a field that owns an allocation
 * (each store numbers its allocation; a store over one the field still owns
 * leaves that one unreachable: no-leak breaks).
 *
 * Plain data in, plain data out; no Node or vscode imports.
 */
import type { Finding, WitnessStep } from '../engine/types';
import { witnessPaths } from '../engine/witness';
import type { CallSite } from './types';

export type WitnessInvariant = 'no-deadlock' | 'failure-contract' | 'no-use-after-free' | 'no-leak';
export const WITNESS_INVARIANTS: readonly WitnessInvariant[] = [
  'no-deadlock',
  'failure-contract',
  'no-use-after-free',
  'no-leak',
];

type WOp =
  | { k: 'acquire'; lock: string }
  | { k: 'release'; lock: string }
  /** a step the model tracks nothing of (a call on the way, a restore that cannot undo the loss) */
  | { k: 'step' }
  /** something the error path cannot undo */
  | { k: 'lose' }
  /** shared state changed */
  | { k: 'write' }
  /** both outcomes: failure goes on to the next instruction (the error path), success to `ok` */
  | { k: 'fallible'; ok: number }
  /** the value the thread will use later is read: remember which object it is */
  | { k: 'read' }
  /** the remembered value used: breaks no-use-after-free when the object was replaced since */
  | { k: 'use' }
  /** another thread frees or replaces the object */
  | { k: 'replace' }
  /** a fresh allocation or entry (numbered in order; `from` says where it came from) stored in a field that owns it */
  | { k: 'store'; field: string; from: string }
  /** wait until every other thread is done: a teardown runs once the last reference is dropped */
  | { k: 'await' }
  /** the object is freed: what its fields still own is lost */
  | { k: 'drop' }
  /** leave the function: `error` judges the failure contract; `keep` leaves the locks held */
  | { k: 'return'; error: boolean; keep: boolean }
  /** the path's end: release whatever the thread still holds, in reverse order */
  | { k: 'end' };

export interface WitnessInstr {
  op: WOp;
  action: string;
  file?: string;
  line?: number;
  /** The index of the witness step this instruction replays (into witnessOf(finding)). */
  witness?: number;
  /** The witness step's own words (its related-location message). */
  note?: string;
}

export interface WitnessThread {
  name: string;
  /** What the thread is, in words (`toy_notify_range_gone()`, `another caller`). */
  role: string;
  instrs: WitnessInstr[];
}

/** A trace step of the witness model, shaped like the replace flow's (thread, action, file, line, state). */
export interface WitnessTraceStep {
  thread: string;
  action: string;
  file?: string;
  line?: number;
  via?: CallSite[];
  witness?: number;
  state: WitnessStateView;
  violation?: string;
}

export interface WitnessStateView {
  /** `lock@thread` */
  locks: string[];
  /** Steps done that the error path cannot undo, shared state changed, the object replaced. */
  lost: boolean;
  written: boolean;
  replaced: boolean;
  /** What each owning field holds (`s->saved: #1`); empty outside the overwrite story. */
  owns: string[];
  /** Allocations no field holds any more (`#1 from kmemdup()`). */
  leaked: string[];
}

export interface WitnessModelResult {
  threads: string[];
  threadRoles: string[];
  states: number;
  transitions: number;
  complete: boolean;
  elapsedMs: number;
  invariants: {
    id: WitnessInvariant;
    holds: boolean;
    counterexample?: { message: string; steps: WitnessTraceStep[] };
  }[];
}

/** The locks a step list takes, in order, without repeats. */
function takenLocks(instrs: readonly WitnessInstr[]): string[] {
  const out: string[] = [];
  for (const i of instrs) if (i.op.k === 'acquire' && !out.includes(i.op.lock)) out.push(i.op.lock);
  return out;
}

/** One witness path as instructions; `base` is the index of its first step in witnessOf(finding). */
function pathInstrs(steps: readonly WitnessStep[], base: number): WitnessInstr[] {
  const out: WitnessInstr[] = [];
  const okFixups: number[] = [];
  steps.forEach((s, n) => {
    const at = { file: s.file, line: s.line, witness: base + n, note: s.message };
    switch (s.role) {
      case 'acquire':
        out.push(
          s.lock
            ? { op: { k: 'acquire', lock: s.lock }, action: `lock ${s.lock}`, ...at }
            : { op: { k: 'step' }, action: s.message, ...at },
        );
        break;
      case 'assert':
        // held on entry: the caller took it; in the model this thread holds it from here
        out.push(
          s.lock
            ? { op: { k: 'acquire', lock: s.lock }, action: `${s.lock} held (asserted)`, ...at }
            : { op: { k: 'step' }, action: s.message, ...at },
        );
        break;
      case 'release':
        out.push(
          s.lock
            ? { op: { k: 'release', lock: s.lock }, action: `unlock ${s.lock}`, ...at }
            : { op: { k: 'step' }, action: s.message, ...at },
        );
        break;
      case 'call':
      case 'callback':
        out.push({ op: { k: 'step' }, action: s.role === 'callback' ? 'call the callback' : 'call', ...at });
        // the callee takes a lock and no step inside it is in the witness: take it here
        if (s.lock) out.push({ op: { k: 'acquire', lock: s.lock }, action: `inside: lock ${s.lock}`, ...at });
        break;
      case 'irreversible':
        out.push({ op: { k: 'lose' }, action: 'cannot be undone', ...at });
        break;
      case 'write':
        out.push({ op: { k: 'write' }, action: 'shared state changed', ...at });
        break;
      case 'fallible':
        okFixups.push(out.length);
        out.push({ op: { k: 'fallible', ok: -1 }, action: 'can fail', ...at });
        break;
      case 'restore':
        out.push({ op: { k: 'step' }, action: 'the error path tries to restore', ...at });
        break;
      case 'return':
        out.push({ op: { k: 'return', error: true, keep: false }, action: 'return the error', ...at });
        break;
      case 'read':
        out.push({ op: { k: 'read' }, action: 'value obtained', ...at });
        break;
      case 'use':
        out.push({ op: { k: 'use' }, action: 'value used', ...at });
        break;
      case 'store': {
        // the step's words name the field, then where the allocation or entry comes from
        const [field, from] = [...s.message.matchAll(/`([^`]+)`/g)].map((m) => m[1]);
        out.push(
          field
            ? { op: { k: 'store', field, from: from ?? 'an allocator' }, action: s.message, ...at }
            : { op: { k: 'step' }, action: s.message, ...at },
        );
        break;
      }
      case 'drop':
        out.push({ op: { k: 'drop' }, action: s.message, ...at });
        break;
    }
  });
  // success of a fallible step: the path goes on as the success path (out of the witness)
  const end = out.length;
  for (const i of okFixups) out[i].op = { k: 'fallible', ok: end };
  return out;
}

/**
 * The threads of a finding's witness model. Returns undefined when the
 * witness has no step the model can run (no roles at all).
 */
export function witnessThreads(
  f: Pick<Finding, 'ruleId' | 'function' | 'file' | 'line' | 'related'>,
): WitnessThread[] | undefined {
  const paths = witnessPaths(f);
  if (paths.length === 0) return undefined;
  const threads: WitnessThread[] = [];
  let base = 0;
  paths.forEach((steps, p) => {
    const instrs = pathInstrs(steps, base);
    base += steps.length;
    threads.push({ name: `CPU${p}`, role: p === 0 ? `${f.function}()` : `path ${p + 1} of the witness`, instrs });
  });
  const own = threads[0];
  if (f.ruleId === 'lock-leak') {
    // the finding's own return keeps the lock: the claim is that nothing releases it
    own.instrs.push({
      op: { k: 'return', error: false, keep: true },
      action: 'return with the lock held',
      file: f.file,
      line: f.line,
    });
    for (const lock of takenLocks(own.instrs)) {
      threads.push({
        name: `CPU${threads.length}`,
        role: 'another caller',
        instrs: [
          { op: { k: 'acquire', lock }, action: `lock ${lock}` },
          { op: { k: 'end' }, action: `unlock ${lock}` },
        ],
      });
    }
    return threads;
  }
  for (const t of threads) t.instrs.push({ op: { k: 'end' }, action: 'leave (release what is held)' });
  const locks = takenLocks(own.instrs);
  if ((f.ruleId === 'lock-order' || f.ruleId === 'callback-under-lock') && threads.length === 1 && locks.length >= 2) {
    // a one-edge inversion: the other thread follows the documented order, the reverse of this one
    const order = [...locks].reverse();
    threads.push({
      name: 'CPU1',
      role: 'a path in the documented order',
      instrs: [
        ...order.map((lock): WitnessInstr => ({ op: { k: 'acquire', lock }, action: `lock ${lock}` })),
        { op: { k: 'end' }, action: 'unlock all' },
      ],
    });
  }
  if (own.instrs.some((i) => i.op.k === 'drop')) {
    // a teardown runs once the last reference is gone: after every other thread of the witness
    own.instrs.unshift({ op: { k: 'await' }, action: 'the last reference is dropped: the teardown runs' });
  } else if (own.instrs.some((i) => i.op.k === 'store')) {
    // the field keeps what the call stored past its return: the function called again runs the same store
    threads.push({
      name: `CPU${threads.length}`,
      role: `${f.function}() called again`,
      instrs: own.instrs.map((i) => ({ ...i })),
    });
  }
  if (f.ruleId === 'stale-after-relock') {
    const dropped = own.instrs.find((i) => i.op.k === 'release');
    const lock = dropped?.op.k === 'release' ? dropped.op.lock : undefined;
    const user: WitnessInstr[] = lock ? [{ op: { k: 'acquire', lock }, action: `lock ${lock}` }] : [];
    user.push({ op: { k: 'replace' }, action: 'free or replace the object' });
    if (lock) user.push({ op: { k: 'release', lock }, action: `unlock ${lock}` });
    threads.push({ name: `CPU${threads.length}`, role: 'a concurrent user', instrs: user });
  }
  return threads;
}

// ---- exploration ----------------------------------------------------------------

interface WState {
  pc: number[];
  /** lock → holder thread index */
  held: Record<string, number>;
  /** per thread: the order it took its locks (to release them in reverse) */
  order: string[][];
  /** per thread: read a value (0: no; 1: read, object current; 2: read, object replaced since) */
  value: number[];
  lost: boolean[];
  written: boolean[];
  replaced: boolean;
  done: boolean[];
  /** owning field → the number of the allocation it holds */
  owns: Record<string, number>;
  /** allocations made so far (the next one is numbered allocs + 1), and where each came from */
  allocs: string[];
  /** who stored each (`CPU0 at line 25`) */
  storedBy: string[];
  /** numbers of the allocations nothing holds any more */
  leaked: number[];
}

const keyOf = (s: WState): string => JSON.stringify(s);

interface Arrival {
  parent: number;
  thread: number;
  pc: number;
}

interface Breach {
  id: WitnessInvariant;
  message: string;
}

function clone(s: WState): WState {
  return {
    pc: [...s.pc],
    held: { ...s.held },
    order: s.order.map((o) => [...o]),
    value: [...s.value],
    lost: [...s.lost],
    written: [...s.written],
    replaced: s.replaced,
    done: [...s.done],
    owns: { ...s.owns },
    allocs: [...s.allocs],
    storedBy: [...s.storedBy],
    leaked: [...s.leaked],
  };
}

function where(i: WitnessInstr): string {
  return i.line !== undefined ? ` (line ${i.line})` : '';
}

/** Successors of thread t; empty when blocked or done. */
function stepThread(
  s: WState,
  t: number,
  threads: readonly WitnessThread[],
  say: (t: number, i: number) => string,
): { next: WState; breach?: Breach }[] {
  const instrs = threads[t].instrs;
  if (s.done[t]) return [];
  const pc = s.pc[t];
  if (pc >= instrs.length) {
    const n = clone(s);
    n.done[t] = true;
    return [{ next: n }];
  }
  const i = instrs[pc];
  const n = clone(s);
  n.pc[t] = pc + 1;
  switch (i.op.k) {
    case 'acquire': {
      if (s.held[i.op.lock] !== undefined) return []; // blocks, on another thread or on itself
      n.held[i.op.lock] = t;
      n.order[t].push(i.op.lock);
      return [{ next: n }];
    }
    case 'release': {
      const lock = i.op.lock;
      if (s.held[lock] === t) {
        delete n.held[lock];
        n.order[t] = n.order[t].filter((l) => l !== lock);
      }
      return [{ next: n }];
    }
    case 'lose':
      n.lost[t] = true;
      return [{ next: n }];
    case 'write':
      n.written[t] = true;
      return [{ next: n }];
    case 'fallible': {
      const ok = clone(s);
      ok.pc[t] = i.op.ok;
      return [{ next: n }, { next: ok }];
    }
    case 'read':
      n.value[t] = 1;
      return [{ next: n }];
    case 'use':
      if (s.value[t] === 2)
        return [
          {
            next: n,
            breach: {
              id: 'no-use-after-free',
              message: `${say(t, pc)} uses the value read before the lock was dropped, but a concurrent user freed or replaced that object while the lock was not held`,
            },
          },
        ];
      return [{ next: n }];
    case 'replace':
      n.replaced = true;
      n.value = n.value.map((v) => (v === 1 ? 2 : v));
      return [{ next: n }];
    case 'return': {
      if (!i.op.keep) {
        for (const l of n.order[t]) delete n.held[l];
        n.order[t] = [];
      }
      n.done[t] = true;
      if (i.op.error && (s.lost[t] || s.written[t])) {
        const what = s.lost[t]
          ? `what it did before cannot be undone: ${firstOf(instrs, 'lose')}`
          : `${firstOf(instrs, 'write')}, and is left changed`;
        return [
          {
            next: n,
            breach: { id: 'failure-contract', message: `the error path returns the error${where(i)}, but ${what}` },
          },
        ];
      }
      return [{ next: n }];
    }
    case 'end':
      for (const l of [...n.order[t]].reverse()) delete n.held[l];
      n.order[t] = [];
      n.done[t] = true;
      return [{ next: n }];
    case 'store': {
      const { field, from } = i.op;
      n.allocs.push(from);
      n.storedBy.push(say(t, pc));
      const mine = n.allocs.length;
      n.owns[field] = mine;
      const old = s.owns[field];
      if (old === undefined) return [{ next: n }];
      n.leaked.push(old);
      return [
        {
          next: n,
          breach: {
            id: 'no-leak',
            message:
              `${say(t, pc)} stores ${noun(from)} #${mine} ${origin(from)} in \`${field}\`, which still holds ` +
              `${held(s, old)}: nothing released it in between, so #${old} is unreachable: leaked`,
          },
        },
      ];
    }
    case 'await':
      // blocks until every other thread has finished
      return s.done.every((d, k) => d || k === t) ? [{ next: n }] : [];
    case 'drop': {
      n.done[t] = true;
      const owned = Object.entries(s.owns);
      if (owned.length === 0) return [{ next: n }];
      n.owns = {};
      n.leaked.push(...owned.map(([, k]) => k));
      const what = owned.map(([field, k]) => `\`${field}\` still holds ${held(s, k)}`).join(', ');
      const lost = owned.map(([, k]) => `#${k}`).join(', ');
      return [
        {
          next: n,
          breach: {
            id: 'no-leak',
            message: `${say(t, pc)} frees the object while ${what}: nothing freed it, so ${lost} is unreachable: leaked`,
          },
        },
      ];
    }
    case 'step':
      return [{ next: n }];
  }
}

/** What a numbered thing is: an allocation from a call (`kmemdup()`), else an entry from a container. */
function noun(from: string | undefined): string {
  return from?.endsWith('()') ? 'allocation' : 'entry';
}

function origin(from: string): string {
  return from.endsWith('()') ? `from \`${from}\`` : `moved from \`${from}\``;
}

/** `allocation #1 (from `kmemdup()`, stored by CPU0 at line 25)` */
function held(s: WState, k: number): string {
  const from = s.allocs[k - 1];
  return `${noun(from)} #${k} (${origin(from)}, stored by ${s.storedBy[k - 1]})`;
}

/** The first instruction of a kind, in the witness's words: "`x` is changed here (line 21)". */
function firstOf(instrs: readonly WitnessInstr[], k: WOp['k']): string {
  const i = instrs.find((x) => x.op.k === k);
  if (!i) return 'an earlier step';
  const words = (i.note ?? i.action).replace(/: cannot be undone$/, '');
  return `${words}${where(i)}`;
}

function blockedOn(
  s: WState,
  t: number,
  threads: readonly WitnessThread[],
  say: (t: number, i: number) => string,
): string | undefined {
  const i = threads[t].instrs[s.pc[t]];
  if (!i || s.done[t] || i.op.k !== 'acquire') return undefined;
  const holder = s.held[i.op.lock];
  if (holder === undefined) return undefined;
  const me = say(t, s.pc[t]);
  if (holder === t) return `${me} waits for ${i.op.lock}, held by itself`;
  const h = threads[holder];
  if (s.done[holder]) return `${me} waits forever for ${i.op.lock}: ${h.name} (${h.role}) returned still holding it`;
  return `${me} waits for ${i.op.lock}, held by ${h.name} (${h.role})`;
}

export function exploreWitness(threads: WitnessThread[], maxStates = 200_000): WitnessModelResult {
  const started = Date.now();
  const say = (t: number, i: number): string => {
    const ins = threads[t].instrs[i];
    return `${threads[t].name}${ins?.line !== undefined ? ` at line ${ins.line}` : ''}`;
  };
  const init: WState = {
    pc: threads.map(() => 0),
    held: {},
    order: threads.map(() => []),
    value: threads.map(() => 0),
    lost: threads.map(() => false),
    written: threads.map(() => false),
    replaced: false,
    done: threads.map(() => false),
    owns: {},
    allocs: [],
    storedBy: [],
    leaked: [],
  };
  const states: WState[] = [init];
  const arrivals: Arrival[] = [{ parent: -1, thread: 0, pc: 0 }];
  const index = new Map<string, number>([[keyOf(init), 0]]);
  const breaches = new Map<
    WitnessInvariant,
    { state: number; last?: { thread: number; pc: number; next: WState }; message: string }
  >();
  let transitions = 0;
  let complete = true;
  for (let head = 0; head < states.length; head++) {
    const s = states[head];
    let moved = false;
    for (let t = 0; t < threads.length; t++) {
      for (const o of stepThread(s, t, threads, say)) {
        moved = true;
        transitions++;
        if (o.breach && !breaches.has(o.breach.id))
          breaches.set(o.breach.id, {
            state: head,
            last: { thread: t, pc: s.pc[t], next: o.next },
            message: o.breach.message,
          });
        const k = keyOf(o.next);
        if (index.has(k)) continue;
        if (states.length >= maxStates) {
          complete = false;
          continue;
        }
        index.set(k, states.length);
        states.push(o.next);
        arrivals.push({ parent: head, thread: t, pc: s.pc[t] });
      }
    }
    if (!moved && s.done.some((d) => !d) && !breaches.has('no-deadlock')) {
      const why = threads.map((_, t) => blockedOn(s, t, threads, say)).filter((x): x is string => !!x);
      breaches.set('no-deadlock', { state: head, message: `deadlock: ${why.join('; ')}` });
    }
  }
  const view = (s: WState, t?: number): WitnessStateView => ({
    locks: Object.entries(s.held).map(([l, h]) => `${l}@${threads[h].name}`),
    lost: t !== undefined ? s.lost[t] : s.lost.some(Boolean),
    written: s.written.some(Boolean),
    replaced: s.replaced,
    owns: Object.entries(s.owns).map(([field, n]) => `${field}: #${n}`),
    leaked: s.leaked.map((n) => `#${n} from ${s.allocs[n - 1]}`),
  });
  const traceOf = (
    b: { state: number; last?: { thread: number; pc: number; next: WState } },
    violation: string,
  ): WitnessTraceStep[] => {
    const path: { thread: number; pc: number; state: WState }[] = [];
    for (let n = b.state; arrivals[n].parent >= 0; n = arrivals[n].parent)
      path.push({ thread: arrivals[n].thread, pc: arrivals[n].pc, state: states[n] });
    path.reverse();
    if (b.last) path.push({ thread: b.last.thread, pc: b.last.pc, state: b.last.next });
    // a thread running off its last instruction is bookkeeping, not a step
    const steps = path.filter((p) => p.pc < threads[p.thread].instrs.length);
    if (!b.last) {
      // a deadlock: the steps that wait close the trace (they never run), like lockdep's table
      const end = states[b.state];
      threads.forEach((_, t) => {
        if (!end.done[t] && blockedOn(end, t, threads, say)) steps.push({ thread: t, pc: end.pc[t], state: end });
      });
    }
    return steps.map((p, n) => {
      const i = threads[p.thread].instrs[p.pc];
      const waits =
        !b.last &&
        p.state === states[b.state] &&
        n >= steps.length - threads.length &&
        i.op.k === 'acquire' &&
        blockedOn(p.state, p.thread, threads, say) !== undefined;
      return {
        thread: threads[p.thread].name,
        action: waits ? `${i.action} (waits)` : i.action,
        ...(i.file ? { file: i.file } : {}),
        ...(i.line !== undefined ? { line: i.line } : {}),
        ...(i.witness !== undefined ? { witness: i.witness } : {}),
        state: view(p.state),
        ...(n === steps.length - 1 ? { violation } : {}),
      };
    });
  };
  return {
    threads: threads.map((t) => t.name),
    threadRoles: threads.map((t) => t.role),
    states: states.length,
    transitions,
    complete,
    elapsedMs: Date.now() - started,
    invariants: WITNESS_INVARIANTS.map((id) => {
      const b = breaches.get(id);
      return b
        ? { id, holds: false, counterexample: { message: b.message, steps: traceOf(b, id) } }
        : { id, holds: true };
    }),
  };
}
