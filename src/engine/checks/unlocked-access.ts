/**
 * unlocked-access: a field touched without the lock that protects it.
 *
 * Protection comes from the knowledge (`protectedBy`) or is inferred from the
 * code, the way Engler et al.'s "bugs as deviant behaviour" and the locksets
 * of Eraser and RacerD do: a field whose accesses in view are made under lock
 * L at a clear majority of their sites, one of them a write, is protected by
 * L, and a site that reaches it without L deviates.
 *
 * A site is where the lock question is decided. An access is locked when L is
 * held there on every path. Otherwise its function's callers are asked: a
 * call made with L held is a locked site; a caller that is itself never
 * called with L held is where the access is reached unprotected (that caller
 * calls the helper without the lock). A function no caller in view calls
 * with L is itself the unlocked site, so a read inside a small helper
 * (`is_intx(vdev)` reading `vdev->irq_type`) counts for the function that
 * calls the helper without the lock, and a function every caller of which
 * holds L is locked.
 *
 * Not counted: accesses marked lockless (`READ_ONCE()`, `WRITE_ONCE()`,
 * `smp_load_acquire()`, `rcu_dereference()`, atomics: any such access makes
 * the whole field lockless by intent), fields of stack objects (only chains
 * through a pointer are accesses), objects the function allocated itself
 * (not published yet), and unlocked sites in set-up and tear-down functions
 * (init, alloc, create, probe, setup, open, destroy, release, free, close,
 * exit, cleanup, ... by name: the object is not shared yet, or not any more).
 */
import type { Block, FieldAccess, FileModel, FunctionModel } from '../model/types';
import type { Confidence, Finding, RelatedLocation } from '../types';
import type { Check, CheckContext } from './check';
import { fingerprint, lineRef, lowerConfidence } from './check';
import { callSites, calleesThroughPointers, type CallSite } from './call-sites';
import { scenarioFor } from './scenario';
import { chainRoot } from '../text-scan';
import { joinListsAgain } from './joined-lists';
import { sameMembers } from './patched-map';

/**
 * Consensus: at least this many locked sites, and at least this share of all
 * sites locked. Three sites is the smallest count where "the code's habit" is
 * more than a coincidence of two callers; 75% leaves room for one deviant in
 * four (the bug) while a field touched locklessly at a third of its sites or
 * more is treated as one the code does not protect.
 */
export const MIN_LOCKED_SITES = 3;
export const MIN_LOCKED_SHARE = 0.75;
/** Strong consensus (with a write deviating) is high confidence. */
const STRONG_LOCKED_SITES = 5;
const STRONG_LOCKED_SHARE = 0.9;
/**
 * Inferred protection is reported at low confidence for now: on Linux 6.12
 * the consensus rule still leaves 10 medium candidates (and 61 more on the
 * precision corpus) that are not all triaged (see docs/engine.md), and an
 * untriaged default-confidence finding is a failure. Knowledge-backed
 * findings are high.
 */
const INFERRED_CEILING: Confidence = 'low';
/** How many caller levels are followed up from an access. */
const MAX_UP = 4;

/**
 * Container calls that change the container named by an argument (index):
 * the hash table, list head or xarray is written, though no `=` shows it.
 */
const MUTATORS: Record<string, number> = {
  hash_add: 0,
  hash_add_rcu: 0,
  list_add: 1,
  list_add_tail: 1,
  list_add_rcu: 1,
  list_add_tail_rcu: 1,
  list_move: 1,
  list_move_tail: 1,
  list_splice: 1,
  list_splice_tail: 1,
  list_splice_init: 1,
  list_splice_tail_init: 1,
  hlist_add_head: 1,
  hlist_add_head_rcu: 1,
  xa_store: 0,
  xa_insert: 0,
  xa_erase: 0,
  xa_alloc: 0,
  xa_alloc_cyclic: 0,
  idr_alloc: 0,
  idr_alloc_u32: 0,
  idr_remove: 0,
  rb_insert_color: 1,
  rb_erase: 1,
};

/** Set-up and tear-down by name: a token of the function's name. */
const LIFECYCLE = new Set([
  'init',
  'alloc',
  'create',
  'probe',
  'setup',
  'new',
  'open',
  'register',
  'enable',
  'disable',
  'suspend',
  'resume',
  'destroy',
  'release',
  'free',
  'close',
  'exit',
  'fini',
  'cleanup',
  'teardown',
  'uninit',
  'unregister',
  'shutdown',
  'remove',
]);

/** Calls whose result is a fresh object, not yet reachable by another thread. */
const ALLOCATOR =
  /(?:^k[mvz]?[mz]?alloc\w*|^kv[mz]alloc\w*|^kmemdup\w*|^kmem_cache_z?alloc\w*|_alloc$|_alloc_\w+|_new$|_create$)/;

function isLifecycle(name: string): boolean {
  return name.split('_').some((t) => LIFECYCLE.has(t));
}

/** One access of a field, where it is. */
interface Access {
  fn: FunctionModel;
  block: Block;
  at: number;
  field: string;
  kind: 'read' | 'write';
  text: string;
  line: number;
  column: number;
}

/** A site where the lock question is decided. */
interface LockedSite {
  fn: FunctionModel;
  line: number;
}
interface UnlockedSite {
  fn: FunctionModel;
  /** The line where it accesses the field or calls down towards it. */
  line?: number;
  /** The function it calls without the lock, on the way to the access. */
  callee?: string;
}
interface Decision {
  locked: LockedSite[];
  unlocked: UnlockedSite[];
  /** Every caller in view holds the lock (and there is one): the function runs under it. */
  allLocked: boolean;
  /** Every caller in view is a set-up or tear-down function, or runs only inside one. */
  lifecycleOnly?: true;
}

interface Index {
  /** Every unmarked access by field, lockless fields included (skip those in `lockless`). */
  byField: ReadonlyMap<string, Access[]>;
  /** Fields with an access through a lockless primitive somewhere in view. */
  lockless: ReadonlySet<string>;
}

/** Locals the function assigns from an allocator, or from a constructor in view: objects it made itself. */
function freshLocals(fn: FunctionModel, constructors: ReadonlySet<string> = new Set()): Set<string> {
  const out = new Set<string>();
  for (const b of fn.blocks)
    for (const e of b.events)
      if (e.kind === 'call' && e.resultVar && (ALLOCATOR.test(e.callee) || constructors.has(e.callee)))
        out.add(e.resultVar);
  for (const p of fn.params ?? []) out.delete(p);
  return out;
}

/** Does `fn` return an object it allocated (`x = kzalloc(...); ... return x;`)? Per model. */
const returnsFresh = new WeakMap<FunctionModel, boolean>();

function isConstructor(fn: FunctionModel): boolean {
  let hit = returnsFresh.get(fn);
  if (hit === undefined) {
    const fresh = freshLocals(fn);
    hit =
      fresh.size > 0 && fn.blocks.some((b) => b.events.some((e) => e.kind === 'return' && fresh.has(e.value.trim())));
    returnsFresh.set(fn, hit);
  }
  return hit;
}

/**
 * Functions in view that return an object they allocated: their caller gets
 * a fresh object, not yet reachable by another thread, as from an
 * allocator. One level: a constructor's own constructors are not followed.
 */
function constructorsInView(ctx: CheckContext): Set<string> {
  const out = new Set<string>();
  for (const file of ctx.files) for (const fn of file.functions) if (isConstructor(fn)) out.add(fn.name);
  return out;
}

/**
 * One function's part of the index, kept per model (an edit redoes only the
 * functions it changed). Which locals are fresh depends on the constructors
 * in view: the entry says which of the function's callees were constructors
 * when it was built, and is rebuilt when that changes.
 */
interface OwnAccesses {
  constructorsKey: string;
  accesses: Access[];
  /** Fields this function touches through a lockless primitive. */
  lockless: string[];
}
const ownAccesses = new WeakMap<FunctionModel, OwnAccesses>();
/** Per model: callees whose result the function keeps in a local, not allocators by name (constructors, maybe). */
const resultCallees = new WeakMap<FunctionModel, string[]>();

function constructorsKey(fn: FunctionModel, constructors: ReadonlySet<string>): string {
  let callees = resultCallees.get(fn);
  if (!callees) {
    callees = [];
    for (const b of fn.blocks)
      for (const e of b.events)
        if (e.kind === 'call' && e.resultVar && !ALLOCATOR.test(e.callee) && !callees.includes(e.callee))
          callees.push(e.callee);
    resultCallees.set(fn, callees);
  }
  return callees.filter((c) => constructors.has(c)).join(',');
}

function accessesOf(fn: FunctionModel, constructors: ReadonlySet<string>): OwnAccesses {
  const key = constructorsKey(fn, constructors);
  const hit = ownAccesses.get(fn);
  if (hit && hit.constructorsKey === key) return hit;
  const out: OwnAccesses = { constructorsKey: key, accesses: [], lockless: [] };
  const add = (a: Access): void => {
    out.accesses.push(a);
  };
  let fresh: Set<string> | undefined;
  for (const block of fn.blocks) {
    const accesses: readonly FieldAccess[] = block.accesses ?? [];
    for (const a of accesses) {
      if (a.marked) {
        out.lockless.push(a.field);
        continue;
      }
      fresh ??= freshLocals(fn, constructors);
      if (a.root && fresh.has(a.root)) continue;
      const call = block.events[a.at];
      const mutated =
        call?.kind === 'call' &&
        MUTATORS[call.callee] !== undefined &&
        call.args[MUTATORS[call.callee]]?.trim() === a.text;
      add({
        fn,
        block,
        at: a.at,
        field: a.field,
        kind: mutated ? 'write' : a.kind,
        text: a.text,
        line: a.line,
        column: a.column,
      });
    }
    // `list_add(&e->node, &obj->head)`: the list head is written through its address.
    block.events.forEach((e, i) => {
      if (e.kind !== 'call' || !e.addressed) return;
      const k = MUTATORS[e.callee];
      const field = k === undefined ? undefined : e.addressed[k];
      if (!field) return;
      const root = chainRoot(e.args[k] ?? '');
      fresh ??= freshLocals(fn, constructors);
      if (root && fresh.has(root)) return;
      add({
        fn,
        block,
        at: i,
        field,
        kind: 'write',
        text: (e.args[k] ?? '').trim().slice(1).trim(),
        line: e.line,
        column: e.column,
      });
    });
  }
  // Cut to size: kept for every function in view.
  out.accesses = out.accesses.slice();
  out.lockless = out.lockless.slice();
  ownAccesses.set(fn, out);
  return out;
}

/**
 * Per model: the fields a function may access unmarked (a superset of its
 * accesses: objects it made itself are left out later) and those it touches
 * through a lockless primitive. Small and kept for every function in view,
 * so the accesses themselves need only be built for the functions that touch
 * a field in question.
 */
interface Touched {
  fields: readonly string[];
  lockless: readonly string[];
}
const touchedCache = new WeakMap<FunctionModel, Touched>();
const NONE: readonly string[] = [];

function touchedBy(fn: FunctionModel): Touched {
  let out = touchedCache.get(fn);
  if (out) return out;
  const fields = new Set<string>();
  const lockless = new Set<string>();
  for (const block of fn.blocks) {
    for (const a of block.accesses ?? []) (a.marked ? lockless : fields).add(a.field);
    for (const e of block.events) {
      if (e.kind !== 'call' || !e.addressed) continue;
      const k = MUTATORS[e.callee];
      const field = k === undefined ? undefined : e.addressed[k];
      if (field) fields.add(field);
    }
  }
  out = {
    fields: fields.size > 0 ? [...fields] : NONE,
    lockless: lockless.size > 0 ? [...lockless] : NONE,
  };
  touchedCache.set(fn, out);
  return out;
}

/** One file's lockless fields, kept per file model. */
const locklessPerFile = new WeakMap<FileModel, ReadonlySet<string>>();

function fileLockless(file: FileModel): ReadonlySet<string> {
  let out = locklessPerFile.get(file);
  if (!out) {
    const set = new Set<string>();
    for (const fn of file.functions) for (const f of touchedBy(fn).lockless) set.add(f);
    locklessPerFile.set(file, (out = set));
  }
  return out;
}

/** The fields in question: every field (all files reported), or those the functions near the reported ones access. */
interface Wanted {
  fields: ReadonlySet<string>;
  /** Their digest, one string while it stays the same. */
  key: string;
}

/**
 * One file's accesses by field, kept per file model with the constructors in
 * view and the fields in question it was built against (an edit replaces one
 * file's model; the others keep theirs). With fields in question, only the
 * functions that touch one of them have their accesses built: over a whole
 * tree as context, the accesses of every function were the largest state of
 * any rule.
 */
const perFile = new WeakMap<FileModel, { constructors: string; wanted: string; byField: Map<string, Access[]> }>();
/** The last constructors digest, so equal digests are one string and compare at once. */
let lastConstructors = '';
/** The last digest of the fields in question, likewise. */
let lastWanted = '';

function fileAccesses(
  file: FileModel,
  constructors: ReadonlySet<string>,
  digest: string,
  wanted: Wanted | undefined,
): Map<string, Access[]> {
  const wantedKey = wanted?.key ?? '';
  const hit = perFile.get(file);
  if (hit && hit.constructors === digest && hit.wanted === wantedKey) return hit.byField;
  const byField = new Map<string, Access[]>();
  for (const fn of file.functions) {
    if (wanted && !touchedBy(fn).fields.some((f) => wanted.fields.has(f))) continue;
    for (const a of accessesOf(fn, constructors).accesses) {
      if (wanted && !wanted.fields.has(a.field)) continue;
      const list = byField.get(a.field);
      if (list) list.push(a);
      else byField.set(a.field, [a]);
    }
  }
  // Lists grown by push, cut to their size: kept for every file in view.
  for (const [field, list] of byField) if (list.length > 1) byField.set(field, list.slice());
  perFile.set(file, { constructors: digest, wanted: wantedKey, byField });
  return byField;
}

/** The last join of the files' accesses: an edit replaces one file's part, the rest is reused. */
let lastJoin: { parts: ReadonlyMap<string, Access[]>[]; out: ReadonlyMap<string, Access[]> } | undefined;

/** The constructors in view, with their digest (one string while it stays the same). */
function constructorsOf(ctx: CheckContext): { constructors: Set<string>; digest: string } {
  const constructors = constructorsInView(ctx);
  const digest = [...constructors].join(',');
  if (digest !== lastConstructors) lastConstructors = digest;
  return { constructors, digest: lastConstructors };
}

/**
 * Every unmarked access in view of the fields in question (all fields when
 * `wanted` is undefined), by field, and the fields with a marked access
 * anywhere in view (to be left out).
 */
function buildIndex(
  ctx: CheckContext,
  constructors: ReadonlySet<string>,
  digest: string,
  wanted: Wanted | undefined,
): Index {
  // Each file's accesses are one run of the whole walk, joined in file order.
  const parts = ctx.files.map((file) => fileAccesses(file, constructors, digest, wanted));
  const byField = joinListsAgain(parts, lastJoin);
  lastJoin = { parts, out: byField };
  return { byField, lockless: locklessInView(ctx.files.map(fileLockless)) };
}

/** The last union of the files' lockless fields, with the per-file sets it was made from. */
let lastLockless: { sets: readonly ReadonlySet<string>[]; out: ReadonlySet<string> } | undefined;

/**
 * The union of the files' lockless fields. After an edit whose files mark
 * the same fields lockless as before (nearly every edit), the last union is
 * the answer: with a whole tree in view, rebuilding it was a quarter of a
 * second per re-check.
 */
function locklessInView(sets: readonly ReadonlySet<string>[]): ReadonlySet<string> {
  const last = lastLockless;
  if (
    last &&
    last.sets.length === sets.length &&
    sets.every((set, i) => set === last.sets[i] || sameMembers(set, last.sets[i]))
  ) {
    lastLockless = { sets, out: last.out };
    return last.out;
  }
  const out = new Set<string>();
  for (const set of sets) for (const f of set) out.add(f);
  lastLockless = { sets, out };
  return out;
}

/** Call sites of `fn` that call this definition (a static function of another file is another function). */
function callersOf(ctx: CheckContext, fn: FunctionModel): CallSite[] {
  const sites = callSites(ctx, true).get(fn.name) ?? [];
  const defs = ctx.functions.get(fn.name) ?? [];
  if (defs.length <= 1) return sites;
  return sites.filter((s) => s.fn.file === fn.file || !defs.some((d) => d.file === s.fn.file));
}

function holds(
  ctx: CheckContext,
  fn: FunctionModel,
  block: number,
  index: number,
  lock: string,
): 'yes' | 'no' | 'some' {
  const held = ctx.held(fn);
  if (held.before(block, index).some((h) => h.lock.id === lock)) return 'yes';
  if (held.mayBefore(block, index).some((h) => h.lock.id === lock)) return 'some';
  return 'no';
}

/** Locks that callers (up to MAX_UP levels) hold at some call site of `fn`: candidates for its protection. */
function callerLocks(
  ctx: CheckContext,
  fn: FunctionModel,
  depth: number,
  seen: Set<FunctionModel>,
  out: Set<string>,
): void {
  if (depth >= MAX_UP || seen.has(fn)) return;
  seen.add(fn);
  for (const s of callersOf(ctx, fn)) {
    const held = ctx.held(s.fn);
    if (!held.reachable(s.block)) continue;
    for (const h of held.before(s.block, s.index)) if (h.lock.resolved) out.add(h.lock.id);
    callerLocks(ctx, s.fn, depth + 1, seen, out);
  }
}

class Decider {
  private readonly memo = new Map<string, Decision>();
  private readonly upLocks = new Map<FunctionModel, string[]>();
  private readonly direct = new Map<string, Set<string>>();
  constructor(private readonly ctx: CheckContext) {}

  /** The direct call sites of `name`, as keys (asked again for every lock and depth `decide` is asked about). */
  private directSites(name: string): ReadonlySet<string> {
    let keys = this.direct.get(name);
    if (!keys) {
      keys = new Set(
        (callSites(this.ctx, false).get(name) ?? []).map((d) => `${d.fn.file}:${d.fn.name}:${d.block}:${d.index}`),
      );
      this.direct.set(name, keys);
    }
    return keys;
  }

  /**
   * `callerLocks` from `fn` (depth 0), in the order found: the same walk is
   * asked for at every write of every field a function writes.
   */
  callerLocks(fn: FunctionModel): readonly string[] {
    let hit = this.upLocks.get(fn);
    if (!hit) {
      const out = new Set<string>();
      callerLocks(this.ctx, fn, 0, new Set(), out);
      this.upLocks.set(fn, (hit = [...out]));
    }
    return hit;
  }

  /**
   * Who provides `lock` when `fn` runs: the call sites above it that hold it
   * (a caller whose own callers all hold it is one site, its call), and the
   * functions that reach `fn` without it (one never called with it is one
   * site, itself).
   */
  decide(fn: FunctionModel, lock: string, depth = 0, visiting = new Set<FunctionModel>()): Decision {
    // The depth is part of the answer: the same function seen nearer the limit knows fewer callers.
    const key = `${fn.file}\u0000${fn.name}\u0000${lock}\u0000${depth}`;
    const hit = this.memo.get(key);
    if (hit) return hit;
    const sites = depth >= MAX_UP ? [] : callersOf(this.ctx, fn);
    const locked: LockedSite[] = [];
    const unlocked: UnlockedSite[] = [];
    visiting.add(fn);
    let cut = false;
    // Callers that are set-up or tear-down (or run only inside them): they neither give nor withhold the lock.
    let lifecycleCallers = 0;
    let otherCallers = 0;
    const direct = this.directSites(fn.name);
    for (const s of sites) {
      if (!this.ctx.held(s.fn).reachable(s.block)) continue;
      const h = holds(this.ctx, s.fn, s.block, s.index, lock);
      if (h === 'yes') {
        otherCallers++;
        locked.push({ fn: s.fn, line: s.line });
        continue;
      }
      // Set-up and tear-down callers run before or after the object is shared: they neither give nor withhold the lock.
      if (isLifecycle(s.fn.name)) {
        // Only a direct call runs inside it: a handler registered there (an IRQ, a work item) runs later, shared.
        if (direct.has(`${s.fn.file}:${s.fn.name}:${s.block}:${s.index}`)) lifecycleCallers++;
        else otherCallers++;
        continue;
      }
      otherCallers++;
      if (h === 'some') continue;
      if (visiting.has(s.fn)) {
        cut = true;
        continue;
      }
      const up = this.decide(s.fn, lock, depth + 1, visiting);
      if (up.lifecycleOnly) {
        lifecycleCallers++;
        otherCallers--;
        continue;
      }
      if (up.allLocked) locked.push({ fn: s.fn, line: s.line });
      else if (up.locked.length === 0) unlocked.push({ fn: s.fn, line: s.line, callee: fn.name });
      else {
        locked.push(...up.locked);
        unlocked.push(...up.unlocked);
      }
    }
    visiting.delete(fn);
    // Called in view only from set-up and tear-down: it is part of them, and decides nothing.
    // Never called with the lock (or not called in view): the function itself is where it goes without.
    const out: Decision =
      lifecycleCallers > 0 && otherCallers === 0
        ? { locked: [], unlocked: [], allLocked: false, lifecycleOnly: true }
        : locked.length === 0
          ? { locked: [], unlocked: [{ fn }], allLocked: false }
          : { locked, unlocked, allLocked: unlocked.length === 0 };
    if (!cut) this.memo.set(key, out);
    return out;
  }
}

/**
 * Locks held at every write of the field besides its candidate lock: the
 * writers take both, so either one serialises a reader against them (a
 * write lock and a read-side lock, or a mutex for the slow path and a
 * spinlock for the fast one). Writes in set-up and tear-down functions
 * that hold no lock are left out (nobody else sees the object then); a
 * tear-down write under locks is one the readers must be serialised with.
 */
function writerLocks(ctx: CheckContext, decider: Decider, accesses: readonly Access[], lock: string): Set<string> {
  let common: Set<string> | undefined;
  for (const a of accesses) {
    if (a.kind !== 'write') continue;
    const held = ctx.held(a.fn).before(a.block.id, a.at);
    // A set-up or tear-down write under no lock runs before or after sharing; one under locks is shared.
    if (isLifecycle(a.fn.name) && held.length === 0) continue;
    const here = new Set<string>();
    for (const h of held) if (h.lock.resolved && h.lock.id !== lock) here.add(h.lock.id);
    // Locks every caller provides count too (a helper run under both).
    for (const l of decider.callerLocks(a.fn))
      if (l !== lock && !here.has(l) && decider.decide(a.fn, l).allLocked) here.add(l);
    common = common === undefined ? here : new Set([...common].filter((l) => here.has(l)));
    if (common.size === 0) return common;
  }
  return common ?? new Set();
}

/** Is `other` held where `a` is reached (at the access, or by every caller of its function)? */
function readUnder(ctx: CheckContext, decider: Decider, a: Access, other: ReadonlySet<string>): boolean {
  for (const l of other) {
    if (holds(ctx, a.fn, a.block.id, a.at, l) === 'yes') return true;
    if (decider.decide(a.fn, l).allLocked) return true;
  }
  return false;
}

interface Verdict {
  lock: string;
  locked: LockedSite[];
  /** Unlocked sites with the access they reach. */
  unlocked: { site: UnlockedSite; access: Access }[];
  lockedWrite: boolean;
}

function siteKey(fn: FunctionModel, line: number | undefined): string {
  return `${fn.file}:${fn.name}:${line ?? 0}`;
}

/** Counts the sites of `accesses` for `lock`. */
function verdict(ctx: CheckContext, decider: Decider, accesses: readonly Access[], lock: string): Verdict {
  const locked = new Map<string, LockedSite>();
  const unlocked = new Map<string, { site: UnlockedSite; access: Access }>();
  let lockedWrite = false;
  let alsoAtWriters: Set<string> | undefined;
  for (const a of accesses) {
    const h = holds(ctx, a.fn, a.block.id, a.at, lock);
    if (h === 'some') continue;
    if (h === 'yes') {
      locked.set(siteKey(a.fn, a.line), { fn: a.fn, line: a.line });
      if (a.kind === 'write') lockedWrite = true;
      continue;
    }
    const d = decider.decide(a.fn, lock);
    if (d.allLocked) {
      // Every caller holds it: the access itself is a locked site.
      locked.set(siteKey(a.fn, a.line), { fn: a.fn, line: a.line });
      if (a.kind === 'write') lockedWrite = true;
      continue;
    }
    if (a.kind === 'read') {
      // A read under another lock every writer also holds is serialised against them: no deviation.
      alsoAtWriters ??= writerLocks(ctx, decider, accesses, lock);
      if (alsoAtWriters.size > 0 && readUnder(ctx, decider, a, alsoAtWriters)) continue;
    }
    for (const l of d.locked) locked.set(siteKey(l.fn, l.line), l);
    for (const u of d.unlocked) {
      // Set-up and tear-down run before the object is shared or after it no longer is.
      if (isLifecycle(u.fn.name) || isLifecycle(a.fn.name)) continue;
      const line = u.line ?? a.line;
      const k = siteKey(u.fn, line);
      const had = unlocked.get(k);
      // A write deviating is the stronger evidence: keep it.
      if (!had || (had.access.kind === 'read' && a.kind === 'write'))
        unlocked.set(k, { site: { ...u, line }, access: a });
    }
  }
  return { lock, locked: [...locked.values()], unlocked: [...unlocked.values()], lockedWrite };
}

/** Does `fn` take or assert `lock` itself? (Then assert-held already speaks for knowledge fields.) */
function managesLock(fn: FunctionModel, lock: string): boolean {
  return fn.blocks.some((b) =>
    b.events.some((e) => (e.kind === 'acquire' || e.kind === 'assert') && e.lock.id === lock),
  );
}

function describe(fn: FunctionModel): string {
  return `\`${fn.name}()\``;
}

/**
 * One definition, by its file and name: a kept Decider's answers name the
 * function models of the analysis that made them, which an edit may since
 * have replaced with equal ones.
 */
function sameFunction(a: FunctionModel, b: FunctionModel): boolean {
  return a === b || (a.file === b.file && a.name === b.name);
}

function findingsFor(ctx: CheckContext, field: string, v: Verdict, fromKnowledge: boolean): Finding[] {
  const total = v.locked.length + v.unlocked.length;
  const share = total === 0 ? 0 : v.locked.length / total;
  const out: Finding[] = [];
  const byFunction = new Map<string, { site: UnlockedSite; access: Access }>();
  for (const u of v.unlocked) {
    if (!ctx.reports(u.site.fn.file)) continue;
    // assert-held reports knowledge fields in functions that manage the lock themselves.
    if (fromKnowledge && sameFunction(u.site.fn, u.access.fn) && managesLock(u.site.fn, v.lock)) continue;
    const k = `${u.site.fn.file}:${u.site.fn.name}`;
    const had = byFunction.get(k);
    if (
      !had ||
      (had.access.kind === 'read' && u.access.kind === 'write') ||
      (had.access.kind === u.access.kind && (u.site.line ?? 0) < (had.site.line ?? 0))
    )
      byFunction.set(k, u);
  }
  for (const { site, access } of byFunction.values()) {
    const fn = site.fn;
    let confidence: Confidence;
    if (fromKnowledge) confidence = v.locked.length >= MIN_LOCKED_SITES ? 'high' : 'medium';
    else if (v.locked.length >= STRONG_LOCKED_SITES && share >= STRONG_LOCKED_SHARE && access.kind === 'write')
      confidence = INFERRED_CEILING === 'low' ? 'low' : 'high';
    else if (v.locked.length >= MIN_LOCKED_SITES && share >= MIN_LOCKED_SHARE && v.lockedWrite)
      confidence = INFERRED_CEILING === 'low' ? 'low' : 'medium';
    else confidence = 'low';
    if (fn.status === 'partial' || access.fn.status === 'partial') confidence = lowerConfidence(confidence);
    const verb = access.kind === 'read' ? 'reads' : 'writes';
    const where = lineRef(access.fn.file, access.line, fn.file);
    const why = fromKnowledge
      ? `which protects \`${field}\` (knowledge)`
      : `which protects \`${field}\` at ${v.locked.length} of its ${total} sites in view`;
    const line = site.line ?? access.line;
    const message =
      site.callee === undefined && sameFunction(access.fn, fn)
        ? `${describe(fn)} ${verb} \`${access.text}\` at line ${access.line} without holding \`${v.lock}\`, ${why}.`
        : site.callee !== undefined
          ? `${describe(fn)} calls \`${site.callee}()\` at line ${line} without holding \`${v.lock}\`; it ${verb === 'reads' ? 'reaches a read of' : 'reaches a write of'} \`${access.text}\` in ${describe(access.fn)} (${where}), ${why}.`
          : `${describe(fn)} ${verb} \`${access.text}\` through ${describe(access.fn)} (${where}) without holding \`${v.lock}\`, ${why}.`;
    const related: RelatedLocation[] = [];
    if (!sameFunction(access.fn, fn) || access.line !== line)
      related.push({
        file: access.fn.file,
        line: access.line,
        message: `\`${access.text}\` ${access.kind === 'read' ? 'read' : 'written'} here, in ${describe(access.fn)}`,
        role: 'use',
      });
    else
      related.push({
        file: fn.file,
        line,
        message: `\`${access.text}\` ${access.kind === 'read' ? 'read' : 'written'} without \`${v.lock}\``,
        role: 'use',
      });
    const evidence = [...v.locked].sort((a, b) => a.fn.file.localeCompare(b.fn.file) || a.line - b.line).slice(0, 4);
    for (const l of evidence)
      related.push({ file: l.fn.file, line: l.line, message: `\`${v.lock}\` held here, in ${describe(l.fn)}` });
    out.push({
      ruleId: 'unlocked-access',
      severity: 'warning',
      confidence,
      message,
      file: fn.file,
      line,
      column: site.callee === undefined && sameFunction(access.fn, fn) ? access.column : 1,
      function: fn.name,
      fingerprint: fingerprint('unlocked-access', fn.name, [field, v.lock]),
      related,
      scenario: scenarioFor('unlocked-access', { file: fn.file, function: fn.name }),
    });
  }
  return out;
}

/**
 * The functions a reported finding can come from, when some files in view
 * are context only: those of the reported files and their callees down to
 * MAX_UP calls (a finding sits at the access's own function or at a caller
 * at most MAX_UP calls above it). A field with no access among them cannot
 * give a reported finding, so its verdict is not worked out: the editor's
 * hundreds of context files count as sites, they are not judged on every
 * keystroke. Undefined when every file is reported.
 */
function reportable(ctx: CheckContext): Set<FunctionModel> | undefined {
  const own = ctx.files.filter((m) => ctx.reports(m.file));
  if (own.length === ctx.files.length) return undefined;
  const callees = calleesThroughPointers(ctx);
  let frontier = own.flatMap((m) => m.functions);
  const out = new Set(frontier);
  for (let depth = 0; depth < MAX_UP && frontier.length > 0; depth++) {
    const next: FunctionModel[] = [];
    for (const fn of frontier)
      for (const name of callees(fn))
        for (const d of ctx.functions.get(name) ?? [])
          if (!out.has(d)) {
            out.add(d);
            next.push(d);
          }
    frontier = next;
  }
  return out;
}

function fieldsAccessedBy(fns: Iterable<FunctionModel>, constructors: ReadonlySet<string>): Set<string> {
  const out = new Set<string>();
  for (const fn of fns) for (const a of accessesOf(fn, constructors).accesses) out.add(a.field);
  return out;
}

function analyse(ctx: CheckContext): Finding[] {
  const { constructors, digest } = constructorsOf(ctx);
  const near = reportable(ctx);
  // With context files in view, only the fields the near functions access are in question.
  let wanted: Wanted | undefined;
  if (near) {
    const fields = fieldsAccessedBy(near, constructors);
    // Marked, so that no fields in question (nothing reported) is not '', the key of "every field".
    const key = `\u0001${[...fields].join('\n')}`;
    if (key !== lastWanted) lastWanted = key;
    wanted = { fields, key: lastWanted };
  }
  const { byField, lockless } = buildIndex(ctx, constructors, digest, wanted);
  const kept = keptFields(ctx, digest);
  let decider: Decider | undefined;
  const out: Finding[] = [];
  for (const [field, accesses] of byField) {
    if (lockless.has(field)) continue;
    const hit = kept.get(field);
    if (hit && hit.accesses === accesses) {
      for (const f of hit.findings) out.push(f);
      continue;
    }
    decider ??= deciderFor(ctx);
    const found = fieldFindings(ctx, decider, field, accesses);
    kept.set(field, { accesses, findings: found });
    for (const f of found) out.push(f);
  }
  return out;
}

/**
 * Per global step: each field's findings and the list of its accesses they
 * were worked out from. A field keeps them while that list is the same array
 * (the join keeps the lists of fields no changed file touches), the
 * constructors in view and the reported files are the same: what else a
 * verdict reads (held locks, callers, call lines) is part of the functions'
 * global signatures, which a kept step has not seen change. An edit in one
 * file of a whole tree then works out the fields that file touches, not the
 * thousands in question.
 */
const fieldsKept = new WeakMap<
  object,
  { constructors: string; reported: string; byField: Map<string, { accesses: readonly Access[]; findings: Finding[] }> }
>();

function keptFields(
  ctx: CheckContext,
  constructors: string,
): Map<string, { accesses: readonly Access[]; findings: Finding[] }> {
  const reported = ctx.files
    .filter((m) => ctx.reports(m.file))
    .map((m) => m.file)
    .join('\n');
  let kept = fieldsKept.get(ctx.summaries);
  if (!kept || kept.constructors !== constructors || kept.reported !== reported) {
    kept = { constructors, reported, byField: new Map() };
    fieldsKept.set(ctx.summaries, kept);
  }
  return kept.byField;
}

/**
 * One Decider per global step: its answers (who holds a lock when a function
 * runs, by name and file) read call sites, held locks and callers, all part
 * of the global signatures, so they hold for every analysis that keeps the
 * step. It keeps the context it was made with: its call-site maps are those
 * of that analysis, equal to a later one's by the same signatures. Over a
 * whole tree, one field a changed function touches costs seconds of caller
 * walks when started afresh.
 */
const deciders = new WeakMap<object, Decider>();

function deciderFor(ctx: CheckContext): Decider {
  let d = deciders.get(ctx.summaries);
  if (!d) deciders.set(ctx.summaries, (d = new Decider(ctx)));
  return d;
}

/** One field's findings: the lock that protects it at most sites in view, and the sites that go without. */
function fieldFindings(ctx: CheckContext, decider: Decider, field: string, accesses: readonly Access[]): Finding[] {
  const known = ctx.knowledge.protectedBy[field];
  const writes = accesses.filter((a) => a.kind === 'write');
  if (!known && writes.length === 0) return [];
  // Candidate locks: held at a write, or by a write's callers.
  const candidates = new Set<string>();
  if (known) candidates.add(known);
  else {
    // A struct's lock protects that struct's fields (the kernel's habit):
    // a lock of another object held around the access is context, not protection.
    const owner = field.slice(0, field.lastIndexOf('.') + 1);
    for (const w of writes) {
      const held = ctx.held(w.fn);
      if (!held.reachable(w.block.id)) continue;
      for (const h of held.before(w.block.id, w.at)) if (h.lock.resolved) candidates.add(h.lock.id);
      for (const l of decider.callerLocks(w.fn)) candidates.add(l);
    }
    for (const c of candidates) if (!c.startsWith(owner)) candidates.delete(c);
  }
  let best: Verdict | undefined;
  for (const lock of candidates) {
    const v = verdict(ctx, decider, accesses, lock);
    if (!best || v.locked.length > best.locked.length) best = v;
  }
  if (!best || best.unlocked.length === 0) return [];
  // Even a lock the knowledge names needs a site in view that takes it for
  // this field: without one, the code in view may be a helper run entirely
  // under a caller's lock that is not in view.
  if (best.locked.length === 0) return [];
  if (!known) {
    const total = best.locked.length + best.unlocked.length;
    // Below this, even low confidence is noise: the code has no habit to deviate from.
    if (!best.lockedWrite || best.locked.length < 2 || best.locked.length / total < 0.5) return [];
  }
  return findingsFor(ctx, field, best, known !== undefined);
}

/** The last answer per global generation, kept while the same models are in view and reported. */
const lastRun = new WeakMap<object, { files: readonly unknown[]; reported: readonly boolean[]; findings: Finding[] }>();

export const unlockedAccess: Check = {
  id: 'unlocked-access',
  // Global: a field's sites are counted over every file in view, so the
  // engine runs this rule whole (like lock-order), and it keeps its last
  // answer while no model changed.
  global: true,
  run(ctx) {
    const files = ctx.files;
    const reported = files.map((m) => ctx.reports(m.file));
    const last = lastRun.get(ctx.summaries);
    if (
      last &&
      last.files.length === files.length &&
      last.files.every((f, i) => f === files[i] && last.reported[i] === reported[i])
    )
      return last.findings;
    const findings = analyse(ctx);
    lastRun.set(ctx.summaries, { files: [...files], reported, findings });
    return findings;
  },
};
