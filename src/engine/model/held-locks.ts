/**
 * Which locks are held before each event of a function: a forward dataflow
 * over the CFG. `must` is what every path holds (the basis of findings:
 * precision first); `may` what some path holds (used to be sure a path
 * really released a lock). Trylocks count only on their success edge;
 * `lockdep_assert_held` counts as held from the assertion on; `__must_hold`
 * locks are held on entry.
 */
import type { Block, FunctionModel, LockMode, LockRef } from './types';

export interface HeldLock {
  lock: LockRef;
  mode: LockMode;
  /** Where it was taken (or asserted, or the function's first line for __must_hold). */
  line: number;
  column: number;
  nested: boolean;
  /** How it came to be held. */
  how: 'acquire' | 'assert' | 'entry' | 'guard' | 'callee';
  /**
   * How many instances of the class are held (two `handler_mutex`es, the
   * second taken `_nested`): releasing one leaves the class held. Absent: 1.
   */
  depth?: number;
}

/**
 * What a call does to the caller's held locks, from the callee's summary:
 * lock helpers (`get_update_locks_for_mdev()`) leave locks held, their
 * counterparts release locks they did not take.
 */
export interface CallLockEffect {
  acquires: { lock: LockRef; mode: LockMode }[];
  releases: string[];
  /**
   * What the call does only when it fails / succeeds (a helper that drops
   * the caller's lock on its error returns, a lock-on-success wrapper):
   * applied on the call's error / ok edge; where the result is not tested,
   * the lock counts as held on some paths only.
   */
  onError?: OutcomeLockEffect;
  onOk?: OutcomeLockEffect;
  /** Released on some of the callee's returns only: no longer held on every path after the call. */
  mayRelease?: string[];
}

export interface OutcomeLockEffect {
  acquires: { lock: LockRef; mode: LockMode }[];
  releases: string[];
}

export type CallLockEffects = (callee: string) => CallLockEffect | undefined;

type State = Map<string, HeldLock>;

export interface HeldLocks {
  /** Locks held on every path reaching event `index` of block `block`, just before it runs. */
  before(block: number, index: number): readonly HeldLock[];
  /** Locks held on at least one path reaching that point. */
  mayBefore(block: number, index: number): readonly HeldLock[];
  /** Whether the block is reachable from the entry. */
  reachable(block: number): boolean;
  /** True when no lock is ever held in the function (checks skip it). */
  readonly none: boolean;
  /** Visits every event of every reachable block in order, with the locks held on every path just before it. */
  forEachEvent(visit: (block: Block, index: number, held: readonly HeldLock[]) => void): void;
}

function keyOf(lock: LockRef): string {
  return lock.id;
}

/** Instances beyond this are not counted (a lock taken in a loop must not grow the state forever). */
const MAX_DEPTH = 3;

const depthOf = (h: HeldLock | undefined): number => h?.depth ?? 1;

/** Takes one more instance of a class: counted when already held, else added as `fresh`. */
function take(state: State, key: string, fresh: HeldLock): void {
  const had = state.get(key);
  if (!had) state.set(key, fresh);
  else if (depthOf(had) < MAX_DEPTH) state.set(key, { ...had, depth: depthOf(had) + 1 });
}

/** Releases one instance of a class: the class stays held while another instance is. */
function drop(state: State, key: string): void {
  const had = state.get(key);
  if (!had) return;
  if (depthOf(had) > 1) state.set(key, { ...had, depth: depthOf(had) - 1 });
  else state.delete(key);
}

/** Acquire (trylock) and call events whose outcome-dependent effect is carried by conditioned edges instead. */
function conditionedEvents(blocks: Block[]): Set<string> {
  const out = new Set<string>();
  for (const b of blocks) {
    for (const e of b.succ) if (e.when) out.add(`${b.id}:${e.when.event}`);
  }
  return out;
}

function applyOutcome(state: State, effect: OutcomeLockEffect, at: { line: number; column: number }): void {
  for (const id of effect.releases) drop(state, id);
  for (const a of effect.acquires) {
    if (!state.has(keyOf(a.lock)))
      state.set(keyOf(a.lock), {
        lock: a.lock,
        mode: a.mode,
        line: at.line,
        column: at.column,
        nested: false,
        how: 'callee',
      });
  }
}

/**
 * One event's effect on the held set. `must`: the state is what every path
 * holds (an effect that only some outcomes of an untested call have drops a
 * lock there, and adds none), else what some path holds.
 */
function step(
  state: State,
  block: Block,
  index: number,
  conditioned: Set<string>,
  effects: CallLockEffects | undefined,
  must: boolean,
): void {
  const ev = block.events[index];
  switch (ev.kind) {
    case 'call': {
      const effect = effects?.(ev.callee);
      if (!effect) return;
      applyOutcome(state, effect, ev);
      if (must) for (const id of effect.mayRelease ?? []) drop(state, id);
      if ((effect.onError || effect.onOk) && !conditioned.has(`${block.id}:${index}`)) {
        for (const o of [effect.onError, effect.onOk]) {
          if (!o) continue;
          if (must) for (const id of o.releases) drop(state, id);
          else applyOutcome(state, { acquires: o.acquires, releases: [] }, ev);
        }
      }
      return;
    }
    case 'acquire':
      if (ev.trylock && conditioned.has(`${block.id}:${index}`)) return;
      take(state, keyOf(ev.lock), {
        lock: ev.lock,
        mode: ev.mode,
        line: ev.line,
        column: ev.column,
        nested: ev.nested,
        how: ev.scope ? 'guard' : 'acquire',
      });
      return;
    case 'release':
      drop(state, keyOf(ev.lock));
      return;
    case 'assert':
      if (ev.expect === 'not-held') state.delete(keyOf(ev.lock));
      else if (!state.has(keyOf(ev.lock))) {
        state.set(keyOf(ev.lock), {
          lock: ev.lock,
          mode: ev.expect === 'read' ? 'read' : ev.expect === 'write' ? 'write' : 'exclusive',
          line: ev.line,
          column: ev.column,
          nested: false,
          how: 'assert',
        });
      }
      return;
    default:
      return;
  }
}

/** The meet of two states; never changes either (states in `inStates` are shared, copied before a change). */
function meet(into: State | undefined, from: State, must: boolean): State {
  if (!into) return from;
  const out: State = new Map();
  if (must) {
    for (const [k, v] of into) {
      const w = from.get(k);
      if (w) out.set(k, depthOf(w) < depthOf(v) ? w : v);
    }
  } else {
    for (const [k, v] of into) {
      const w = from.get(k);
      out.set(k, w && depthOf(w) > depthOf(v) ? w : v);
    }
    for (const [k, v] of from) if (!out.has(k)) out.set(k, v);
  }
  return out;
}

function sameKeys(a: State | undefined, b: State): boolean {
  if (!a || a.size !== b.size) return false;
  for (const [k, v] of b) {
    const w = a.get(k);
    if (!w || depthOf(w) !== depthOf(v)) return false;
  }
  return true;
}

/** Whether any event of the block can change the held set (what `step` acts on). */
function changesHeld(block: Block, effects: CallLockEffects | undefined): boolean {
  for (const ev of block.events) {
    if (ev.kind === 'acquire' || ev.kind === 'release' || ev.kind === 'assert') return true;
    if (ev.kind === 'call' && effects?.(ev.callee)) return true;
  }
  return false;
}

function solve(
  fn: FunctionModel,
  must: boolean,
  conditioned: Set<string>,
  effects?: CallLockEffects,
  callerHeld: LockRef[] = [],
): (State | undefined)[] {
  const entry: State = new Map();
  for (const l of [...fn.mustHold, ...callerHeld])
    entry.set(keyOf(l), { lock: l, mode: 'exclusive', line: fn.line, column: 1, nested: false, how: 'entry' });
  // lockdep_assert_held at the top of a function (before any acquire or release
  // of that lock) states that the caller holds it: held from the entry on,
  // so reads in the declarations above the assertion count as under the lock.
  for (const ev of fn.blocks[fn.entry]?.events ?? []) {
    if (ev.kind === 'acquire' || ev.kind === 'release') {
      if (!entry.has(keyOf(ev.lock))) entry.set(keyOf(ev.lock), undefined as unknown as HeldLock);
      continue;
    }
    if (ev.kind === 'assert' && ev.expect !== 'not-held' && !entry.has(keyOf(ev.lock))) {
      entry.set(keyOf(ev.lock), {
        lock: ev.lock,
        mode: ev.expect === 'read' ? 'read' : ev.expect === 'write' ? 'write' : 'exclusive',
        line: ev.line,
        column: ev.column,
        nested: false,
        how: 'assert',
      });
    }
  }
  for (const [k, v] of [...entry]) if (v === undefined) entry.delete(k);
  const inStates: (State | undefined)[] = new Array(fn.blocks.length).fill(undefined);
  inStates[fn.entry] = entry;
  const work: number[] = [fn.entry];
  const queued = new Set<number>(work);
  let budget = fn.blocks.length * 64 + 1000;
  while (work.length > 0 && budget-- > 0) {
    const id = work.shift()!;
    queued.delete(id);
    const block = fn.blocks[id];
    // Most blocks change nothing that is held: they pass their state on without a copy.
    const start = inStates[id] ?? new Map<string, HeldLock>();
    const state: State = changesHeld(block, effects) ? new Map(start) : start;
    if (state !== start)
      for (let i = 0; i < block.events.length; i++) step(state, block, i, conditioned, effects, must);
    for (const edge of block.succ) {
      let out = state;
      if (edge.when?.on === 'locked') {
        const ev = block.events[edge.when.event];
        if (ev && ev.kind === 'acquire') {
          out = new Map(state);
          take(out, keyOf(ev.lock), {
            lock: ev.lock,
            mode: ev.mode,
            line: ev.line,
            column: ev.column,
            nested: ev.nested,
            how: 'acquire',
          });
        }
      } else if (edge.when && effects) {
        // The error / ok edge of a call whose lock effect depends on its outcome.
        const ev = block.events[edge.when.event];
        const effect = ev?.kind === 'call' ? effects(ev.callee) : undefined;
        const outcome = edge.when.on === 'error' ? effect?.onError : edge.when.on === 'ok' ? effect?.onOk : undefined;
        if (ev && outcome) {
          out = new Map(state);
          applyOutcome(out, outcome, ev);
        }
      }
      if (edge.failed) {
        const ev = fn.blocks[edge.failed.block]?.events[edge.failed.event];
        if (ev?.kind === 'acquire') {
          if (out === state) out = new Map(state);
          drop(out, keyOf(ev.lock));
        }
      }
      const next = meet(inStates[edge.to], out, must);
      if (!sameKeys(inStates[edge.to], next) || inStates[edge.to] === undefined) {
        inStates[edge.to] = next;
        if (!queued.has(edge.to)) {
          queued.add(edge.to);
          work.push(edge.to);
        }
      }
    }
  }
  return inStates;
}

function releasedUntaken(
  fn: FunctionModel,
  mayIn: (State | undefined)[],
  conditioned: Set<string>,
  effects?: CallLockEffects,
): LockRef[] {
  const out = new Map<string, LockRef>();
  for (const b of fn.blocks) {
    const start = mayIn[b.id];
    if (!start || !b.events.some((e) => e.kind === 'release' && !e.implicit)) continue;
    const state: State = new Map(start);
    for (let i = 0; i < b.events.length; i++) {
      const ev = b.events[i];
      if (ev.kind === 'release' && !ev.implicit && !state.has(keyOf(ev.lock)) && ev.lock.resolved)
        out.set(keyOf(ev.lock), ev.lock);
      step(state, b, i, conditioned, effects, false);
    }
  }
  return [...out.values()];
}

const NOTHING_HELD: readonly HeldLock[] = [];

/**
 * The locks held before each event of a block (index i: before event i; the
 * last entry: after the block), from the state at its start. Consecutive
 * points with the same state share one array.
 */
function replayBlock(
  fn: FunctionModel,
  start: State | undefined,
  block: number,
  conditioned: Set<string>,
  effects: CallLockEffects | undefined,
  must: boolean,
): readonly (readonly HeldLock[])[] {
  if (!start) return [NOTHING_HELD];
  const b = fn.blocks[block];
  const state: State = new Map(start);
  let last: readonly HeldLock[] = [...state.values()];
  const out: (readonly HeldLock[])[] = [last];
  for (let i = 0; i < b.events.length; i++) {
    step(state, b, i, conditioned, effects, must);
    if (!sameState(state, last)) last = [...state.values()];
    out.push(last);
  }
  return out;
}

/** Whether `state` holds exactly `held`, in the same order (so its values would give an equal array). */
function sameState(state: State, held: readonly HeldLock[]): boolean {
  if (state.size !== held.length) return false;
  let i = 0;
  for (const h of state.values()) if (h !== held[i++]) return false;
  return true;
}

const ownCache = new WeakMap<FunctionModel, HeldLocks>();

/**
 * Held locks from the function's own lock operations only, computed once per
 * model: the summaries need them (a lock helper's net effect) and so does the
 * engine for every function whose callees have no lock effect (most of them).
 */
export function ownHeldLocks(fn: FunctionModel): HeldLocks {
  let held = ownCache.get(fn);
  if (!held) {
    held = computeHeldLocks(fn);
    ownCache.set(fn, held);
  }
  return held;
}

/**
 * Held locks of one function. With `effects`, calls to lock helpers change
 * what is held after them (interprocedural); without, only the function's
 * own lock operations count.
 */
export function computeHeldLocks(fn: FunctionModel, effects?: CallLockEffects): HeldLocks {
  const conditioned = conditionedEvents(fn.blocks);
  let mustIn = solve(fn, true, conditioned, effects);
  let mayIn = solve(fn, false, conditioned, effects);
  // A lock released where no path has taken it was held by the caller (dropped
  // and retaken around a callback, or an unlock helper): held from the entry.
  const callerHeld = releasedUntaken(fn, mayIn, conditioned, effects);
  if (callerHeld.length > 0) {
    mustIn = solve(fn, true, conditioned, effects, callerHeld);
    mayIn = solve(fn, false, conditioned, effects, callerHeld);
  }
  // The rules ask about the same blocks again and again (every call site, every
  // field access): each block is replayed once, and the locks before each of
  // its events kept, one array shared while nothing changes.
  const replayed = (states: (State | undefined)[], must: boolean) => {
    const byBlock: (readonly (readonly HeldLock[])[] | undefined)[] = [];
    return (block: number, index: number): readonly HeldLock[] => {
      let prefixes = byBlock[block];
      if (!prefixes) {
        prefixes = replayBlock(fn, states[block], block, conditioned, effects, must);
        byBlock[block] = prefixes;
      }
      return prefixes[Math.max(0, Math.min(index, prefixes.length - 1))];
    };
  };
  const before = replayed(mustIn, true);
  const mayBefore = replayed(mayIn, false);
  return {
    none: false,
    before,
    mayBefore,
    reachable: (block) => mustIn[block] !== undefined,
    forEachEvent: (visit) => {
      for (const b of fn.blocks) {
        if (!mustIn[b.id]) continue;
        // The same replay `before` keeps: one shared array while nothing changes.
        for (let i = 0; i < b.events.length; i++) visit(b, i, before(b.id, i));
      }
    },
  };
}

const lockFree = new WeakMap<FunctionModel, boolean>();

/** True when no lock can ever be held in `fn` (no acquire, no assertion, no `__must_hold`): checks skip it. */
export function holdsNoLocks(fn: FunctionModel): boolean {
  let v = lockFree.get(fn);
  if (v === undefined) {
    v =
      fn.mustHold.length === 0 &&
      !fn.blocks.some((b) => b.events.some((e) => e.kind === 'acquire' || e.kind === 'assert'));
    lockFree.set(fn, v);
  }
  return v;
}

/** The held locks of a function in which no lock is ever held. */
export function noHeldLocks(fn: FunctionModel): HeldLocks {
  const reach = new Set<number>();
  const work = [fn.entry];
  while (work.length > 0) {
    const b = work.pop()!;
    if (reach.has(b)) continue;
    reach.add(b);
    for (const e of fn.blocks[b]?.succ ?? []) work.push(e.to);
  }
  // Every block reached, each at its own index (the common case): the set is not kept.
  const all = reach.size === fn.blocks.length && fn.blocks.every((b, i) => b.id === i && reach.has(i));
  return new NoHeldLocks(fn, all ? undefined : reach);
}

/**
 * One object per function, with its methods shared: the engine keeps one
 * for every lock-free function in view (most of a whole tree's), where
 * closures and a set of blocks cost several hundred bytes each.
 */
class NoHeldLocks implements HeldLocks {
  readonly none = true;

  /** `reach` undefined: every block is reachable and block ids are indices. */
  constructor(
    private readonly fn: FunctionModel,
    private readonly reach: ReadonlySet<number> | undefined,
  ) {}

  before(): readonly HeldLock[] {
    return NOTHING_HELD;
  }

  mayBefore(): readonly HeldLock[] {
    return NOTHING_HELD;
  }

  reachable(block: number): boolean {
    return this.reach ? this.reach.has(block) : this.fn.blocks[block]?.id === block;
  }

  forEachEvent(visit: (block: Block, index: number, held: readonly HeldLock[]) => void): void {
    for (const b of this.fn.blocks) {
      if (!this.reachable(b.id)) continue;
      for (let i = 0; i < b.events.length; i++) visit(b, i, NOTHING_HELD);
    }
  }
}
