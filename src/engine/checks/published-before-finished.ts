/**
 * published-before-finished: an object made reachable by other threads (put
 * on a list, in an xarray, an IDR, a hash table or an rbtree) while a lock L
 * is held, then L dropped before the object is fully set up: a field of it
 * written, or its construction finished (`iommufd_object_finalize()`), after
 * the unlock. Another thread that takes L and walks the container finds the
 * object half-built.
 *
 * What publishes and what finishes are API facts from the knowledge
 * (`publishes`, `finishes`); the rest comes from the code:
 * - the object must be fresh: allocated in this function (a call whose name
 *   says it allocates), or handed back by a callee that publishes what it
 *   returns; an object the caller passed in may be long finished;
 * - a callee in view publishes its return value or a parameter when its own
 *   body does so with a lock held (the callee's publication summary, one call
 *   deep); the lock is the caller's when the callee holds it on entry
 *   (`lockdep_assert_held`, `__must_hold`), else the callee drops it itself;
 * - the container must be shared: a list head that is a local of the
 *   function (`LIST_HEAD(tmp)`) publishes nothing.
 *
 * Not a finding: publication as the last step; a write made with L held again
 * (a later relock sets the field under the lock readers take); steps after
 * the object's construction ended (finalize under L, or an abort on the
 * failure path); steps before a gate readers check (the object's refcount
 * set, a `ready`/`live` flag written, a release store): until the gate
 * opens, readers skip the object.
 */
import { functionKnowledge, protectingLock } from '../knowledge/lookup';
import { identifierBefore } from '../text-scan';
import type { CallEvent, Event, FunctionModel } from '../model/types';
import type { Confidence, Finding, RelatedLocation } from '../types';
import type { CheckContext } from './check';
import {
  findFunction,
  fingerprint,
  fnName,
  lineRef,
  lowerConfidence,
  perFunctionCheck,
  PerFunctionCache,
} from './check';
import { baseVariable, flowPathsOf, type EventRef, type FlowPaths } from './flow-paths';
import { UNLINKS, usesVariable } from './held-values';
import { ERROR_LABEL } from './irreversible-steps';
import { withoutSpaces } from '../model/syntax-util';
import { ALLOCATES, reachableAvoiding } from './missing-undo';
import { outParamWrites } from './out-params';
import { fieldStore } from './rollback-steps';
import { scenarioFor } from './scenario';

/** A publication inside a function: what it publishes, where, under which lock. */
interface Publication {
  ref: EventRef<CallEvent>;
  /** The object as this function names it (a local or a parameter). */
  object: string;
  /** The container expression (`&hub->sensors`). */
  into: string;
  /** The publishing API (`list_add_tail`). */
  api: string;
  /** Lock classes held there, with how each came to be held. */
  held: { lock: string; callers: boolean }[];
}

/** What a call to a function publishes, as its caller sees it (one call deep). */
interface PublicationSummary {
  /** `return`, or the parameter index whose object is published. */
  what: 'return' | number;
  /** The lock held at the publication. */
  lock: string;
  /** True when the lock is the caller's (held on entry): the caller drops it. */
  callers: boolean;
  /** Where the callee publishes, and where it drops the lock itself when it does. */
  file: string;
  line: number;
  api: string;
  into: string;
  releaseLine?: number;
}

/** Steps that open the object to readers that check them: its refcount set, a flag readers test, a release store. */
const GATE_CALLS = /^(?:refcount_set|kref_init|atomic_set|atomic_set_release|smp_store_release|complete_all|complete)$/;
const GATE_FIELD = /(?:^|_)(?:ready|live|valid|active|initiali[sz]ed|online|registered|published|visible|alive)$/;

const IDENTIFIER = /^[A-Za-z_]\w*$/;

/** Calls by which readers take a reference only from an object already live: a zero count makes them skip it. */
const TRY_GET = /inc_not_zero|get_unless_zero|tryget/;
const COUNTER_TYPE = /\brefcount_t\b|\bstruct\s+kref\b|\batomic_t\b|\bstruct\s+percpu_ref\b/;

/** What the whole view says, computed once per analysis: fields readers try-get, and the locks held where each field is written. */
interface ViewFacts {
  /** `struct.field`s some call in view takes with a try-get (`refcount_inc_not_zero(&s->refcount)`). */
  triedCounters: Set<string>;
  /** struct name → field → type text, over every file in view. */
  structs: Map<string, Record<string, string>>;
  /** `struct.field` → the functions writing it (for the lock evidence, computed on demand). */
  writers: Map<string, { fn: FunctionModel; ref: EventRef }[]>;
  /** `struct.field` → locks held at every write of it somewhere in view (other than the function asking). */
  lockedWrites: Map<string, Map<string, FunctionModel[]>>;
}

const viewCache = new WeakMap<object, ViewFacts>();

function viewFacts(ctx: CheckContext): ViewFacts {
  const hit = viewCache.get(ctx.summaries);
  if (hit) return hit;
  const facts: ViewFacts = {
    triedCounters: new Set(),
    structs: new Map(),
    writers: new Map(),
    lockedWrites: new Map(),
  };
  for (const [name, fields] of Object.entries(ctx.knowledge.structs)) facts.structs.set(name, { ...fields });
  for (const file of ctx.files) {
    for (const [name, fields] of Object.entries(file.structs))
      facts.structs.set(name, { ...facts.structs.get(name), ...fields });
    for (const fn of file.functions) {
      for (const b of fn.blocks) {
        b.events.forEach((ev, index) => {
          if (ev.kind === 'call' && TRY_GET.test(ev.callee) && ev.addressed)
            for (const f of Object.values(ev.addressed)) facts.triedCounters.add(f);
          const store = fieldStore(fn, ev);
          if (store?.field)
            facts.writers.set(store.field, [
              ...(facts.writers.get(store.field) ?? []),
              { fn, ref: { block: b.id, index, event: ev } },
            ]);
        });
      }
    }
  }
  viewCache.set(ctx.summaries, facts);
  return facts;
}

/**
 * Whether `lock` protects `field` for its readers: the knowledge says so, or
 * the field's writes in other functions in view hold the lock, at least half
 * of them (deviant-behaviour inference: one locked write among many unlocked
 * ones, iscsi's command state set wherever a command moves on, says the lock
 * happens to be held there, not that it guards the field).
 */
function protectedBy(ctx: CheckContext, field: string | undefined, lock: string, asking: FunctionModel): boolean {
  if (!field) return false;
  if (protectingLock(ctx.knowledge, field) === lock) return true;
  const facts = viewFacts(ctx);
  const others = (facts.writers.get(field) ?? []).filter((w) => w.fn !== asking);
  const locked = others.filter((w) =>
    ctx
      .held(w.fn)
      .before(w.ref.block, w.ref.index)
      .some((h) => h.lock.id === lock),
  ).length;
  return locked > 0 && locked * 2 >= others.length;
}

/**
 * Counters of the object's struct that readers take with a try-get and that
 * are not set before the publication: readers skip the object until the count
 * is set, so only steps after that set can be seen half-done.
 */
function unsetCounters(ctx: CheckContext, type: string | undefined, setBefore: (field: string) => boolean): string[] {
  if (!type) return [];
  const facts = viewFacts(ctx);
  const fields = facts.structs.get(type) ?? {};
  return Object.entries(fields)
    .filter(([f, t]) => COUNTER_TYPE.test(t) && facts.triedCounters.has(`${type}.${f}`) && !setBefore(`${type}.${f}`))
    .map(([f]) => `${type}.${f}`);
}

/** Names of one object in a function: the local and the locals set to the address of one of its members. */
function namesOf(fn: FunctionModel, object: string): Set<string> {
  const names = new Set([object]);
  for (const a of fn.memberAliases ?? []) if (a.of === object) names.add(a.name);
  return names;
}

/** The object an argument or lvalue is about (`&p->item` → `p`, `hwpt->obj.id` → `hwpt`). */
function objectOf(expr: string): string | undefined {
  const t = expr.trim();
  if (t.includes('->') || t.includes('.')) return baseVariable(t);
  // `p`, `&p`, `(p)`: the object itself; anything else (`XA_ZERO_ENTRY | 1`, a call) is no local object.
  let bare = t.startsWith('&') ? t.slice(1).trim() : t;
  if (bare.startsWith('(') && bare.endsWith(')')) bare = bare.slice(1, -1).trim();
  return IDENTIFIER.test(bare) ? bare : undefined;
}

/** Allocations into locals (`p = kzalloc(...)`, `p = iommufd_object_alloc(...)`): local name → the allocating calls. */
function allocations(paths: FlowPaths): Map<string, EventRef<CallEvent>[]> {
  const out = new Map<string, EventRef<CallEvent>[]>();
  for (const r of paths.events()) {
    const ev = r.event;
    if (ev.kind === 'call' && ev.resultVar && ALLOCATES.test(ev.callee))
      out.set(ev.resultVar, [...(out.get(ev.resultVar) ?? []), r as EventRef<CallEvent>]);
  }
  return out;
}

/** True when `object` (or the local it is a member alias of) holds a fresh allocation at `at`: allocated before it on the path. */
function freshAt(
  fn: FunctionModel,
  paths: FlowPaths,
  allocs: Map<string, EventRef<CallEvent>[]>,
  object: string,
  at: EventRef,
): boolean {
  for (const [name, refs] of allocs) {
    if (namesOf(fn, name).has(object) && refs.some((a) => paths.before(a, at))) return true;
  }
  return false;
}

/** A container that is a local of the function (`LIST_HEAD(tmp)`, `struct list_head tmp`): nobody else can reach it. */
function localContainer(fn: FunctionModel, paths: FlowPaths, into: string): boolean {
  const t = into.trim();
  if (/->|\./.test(t)) return false;
  const name = baseVariable(t);
  if (!name || fn.params?.includes(name)) return false;
  if (fn.types[name] !== undefined) return true;
  return paths
    .events()
    .some(
      (r) =>
        r.event.kind === 'call' &&
        /^(?:LIST_HEAD|HLIST_HEAD|DEFINE_XARRAY\w*|DEFINE_IDR|RB_ROOT)$/.test(r.event.callee) &&
        r.event.args[0]?.trim() === name,
    );
}

/**
 * A file's own container (`&user_list`) guarded by a lock only that file can
 * take (`static DEFINE_SPINLOCK`), which no function there reads: every
 * mention is an add or a removal. Nobody can take the lock and walk it, so
 * nobody finds the object half-built.
 */
function neverWalked(ctx: CheckContext, file: string, into: string, lock: string): boolean {
  if (!lock.startsWith('file-scope:') || lock.indexOf(':', 'file-scope:'.length) < 0) return false;
  const t = into.trim();
  if (/->|\./.test(t)) return false;
  const name = baseVariable(t);
  if (!name) return false;
  for (const f of ctx.files) {
    if (f.file !== file) continue;
    for (const fn of f.functions) {
      if (fn.types[name] !== undefined || fn.params?.includes(name)) continue;
      for (const b of fn.blocks) {
        for (const e of b.events) {
          if (!usesVariable(e, name)) continue;
          if (e.kind === 'call' && (functionKnowledge(ctx.knowledge, e.callee)?.publishes || UNLINKS.test(e.callee)))
            continue;
          return false;
        }
      }
    }
  }
  return true;
}

/** The publications a function makes itself, with the locks held at each. */
function ownPublications(ctx: CheckContext, fn: FunctionModel): Publication[] {
  const paths = flowPathsOf(fn);
  const out: Publication[] = [];
  let held: ReturnType<CheckContext['held']> | undefined;
  for (const r of paths.events()) {
    const ev = r.event;
    if (ev.kind !== 'call') continue;
    const pub = functionKnowledge(ctx.knowledge, ev.callee)?.publishes;
    if (!pub) continue;
    const objArg = ev.args[pub.object];
    const into = ev.args[pub.into];
    if (objArg === undefined || into === undefined || localContainer(fn, paths, into)) continue;
    const object = objectOf(objArg);
    if (!object) continue;
    held ??= ctx.held(fn);
    const locks = held.before(r.block, r.index).filter((h) => h.lock.resolved);
    if (locks.length === 0) continue;
    out.push({
      ref: r as EventRef<CallEvent>,
      object,
      into: into.trim(),
      api: ev.callee,
      held: locks.map((h) => ({ lock: h.lock.id, callers: h.how === 'assert' || h.how === 'entry' })),
    });
  }
  return out;
}

const summaryCache = new PerFunctionCache<PublicationSummary[]>();

/**
 * What a call to `fn` publishes: its return value or a parameter, when its
 * own body publishes a fresh object it returns, or a parameter, with a lock
 * held. When the lock is its own, the release it makes before returning.
 */
function publicationSummary(ctx: CheckContext, fn: FunctionModel): PublicationSummary[] {
  return summaryCache.get(ctx, fn, () => {
    const pubs = ownPublications(ctx, fn);
    if (pubs.length === 0) return [];
    const paths = flowPathsOf(fn);
    const allocs = allocations(paths);
    const out: PublicationSummary[] = [];
    for (const p of pubs) {
      const returned = paths
        .returnsAfter(p.ref)
        .some((r) => !r.event.isError && namesOf(fn, p.object).has(r.event.value.trim()));
      const param = fn.params?.indexOf(p.object) ?? -1;
      const what: PublicationSummary['what'] | undefined =
        returned && freshAt(fn, paths, allocs, p.object, p.ref) ? 'return' : param >= 0 ? param : undefined;
      if (what === undefined) continue;
      for (const h of p.held) {
        const base = {
          what,
          lock: h.lock,
          callers: h.callers,
          file: fn.file,
          line: p.ref.event.line,
          api: p.api,
          into: p.into,
        };
        if (h.callers) {
          out.push(base);
          continue;
        }
        // Its own lock: published and dropped inside; the caller sees a published object and no lock.
        const release = paths
          .events()
          .find((x) => x.event.kind === 'release' && x.event.lock.id === h.lock && paths.before(p.ref, x));
        if (release) out.push({ ...base, releaseLine: release.event.line });
      }
    }
    return out;
  });
}

/** One publication seen from the function under check, with the lock whose release opens the window. */
interface Window {
  ref: EventRef<CallEvent>;
  object: string;
  lock: string;
  /** The publication is inside this callee (one call deep). */
  callee?: { fn: FunctionModel; summary: PublicationSummary };
  /** For a callee that can fail: the blocks its success edge enters (the model's `ok` edges); none seen, nothing counts. */
  okTargets?: number[];
  api: string;
  into: string;
}

function windowsOf(ctx: CheckContext, fn: FunctionModel, paths: FlowPaths): Window[] {
  const allocs = allocations(paths);
  const out: Window[] = [];
  for (const p of ownPublications(ctx, fn)) {
    if (!freshAt(fn, paths, allocs, p.object, p.ref)) continue;
    for (const h of p.held) {
      if (neverWalked(ctx, fn.file, p.into, h.lock)) continue;
      out.push({ ref: p.ref, object: p.object, lock: h.lock, api: p.api, into: p.into });
    }
  }
  let held: ReturnType<CheckContext['held']> | undefined;
  for (const r of paths.events()) {
    const ev = r.event;
    if (ev.kind !== 'call' || ev.callee === fn.name || functionKnowledge(ctx.knowledge, ev.callee)?.publishes) continue;
    const body = findFunction(ctx, ev.callee, fn.file);
    if (!body) continue;
    for (const s of publicationSummary(ctx, body)) {
      // A parameter counts when the argument is the object itself: `&outer->member` publishes the member, not `outer`.
      const arg = s.what === 'return' ? undefined : (ev.args[s.what] ?? '').trim();
      const object = s.what === 'return' ? ev.resultVar : arg && IDENTIFIER.test(arg) ? arg : undefined;
      if (!object || neverWalked(ctx, body.file, s.into, s.lock)) continue;
      if (s.what !== 'return' && !freshAt(fn, paths, allocs, object, r)) continue;
      if (s.callers) {
        // The caller's lock: it must hold it at the call, and drops it later itself.
        held ??= ctx.held(fn);
        if (!held.before(r.block, r.index).some((h) => h.lock.id === s.lock)) continue;
      }
      // A callee that can fail publishes only when it succeeds: its steps must follow the success test.
      const okTargets = ctx.summaries.get(ev.callee, fn.file)?.fallible
        ? (fn.blocks[r.block]?.succ ?? [])
            .filter((e) => e.when?.on === 'ok' && e.when.event === r.index)
            .map((e) => e.to)
        : undefined;
      out.push({
        ref: r as EventRef<CallEvent>,
        object,
        lock: s.lock,
        callee: { fn: body, summary: s },
        api: s.api,
        into: s.into,
        ...(okTargets ? { okTargets } : {}),
      });
    }
  }
  return out;
}

/** A step that sets the object up: a field written, an out-parameter store into it, or its construction finished. */
interface Unfinished {
  ref: EventRef;
  what: string;
  /** The `struct.field` set, when known. */
  field?: string;
  role: 'write' | 'call';
  finish: boolean;
}

function setupStep(ctx: CheckContext, fn: FunctionModel, names: Set<string>, ref: EventRef): Unfinished | undefined {
  const ev: Event = ref.event;
  const store = fieldStore(fn, ev);
  if (store && /->|\./.test(store.target) && names.has(baseVariable(store.target) ?? '')) {
    if (ev.kind === 'call' && ev.callee === 'smp_store_release') return undefined;
    return {
      ref,
      what: `\`${store.target}\` is set`,
      role: 'write',
      finish: false,
      ...(store.field ? { field: store.field } : {}),
    };
  }
  if (ev.kind !== 'call') return undefined;
  const fin = functionKnowledge(ctx.knowledge, ev.callee)?.finishes;
  if (fin && !fin.aborts && names.has(objectOf(ev.args[fin.object] ?? '') ?? ''))
    return { ref, what: `${fnName(ev.callee)} finishes it`, role: 'call', finish: true };
  const out = outParamWrites(ctx, ev, fn.file).find((w) => names.has(baseVariable(w.target) ?? ''));
  if (out)
    return {
      ref,
      what: `${fnName(ev.callee)} sets \`${out.target}\``,
      role: 'write',
      finish: false,
      ...(out.field ? { field: out.field } : {}),
    };
  return undefined;
}

/**
 * Whether a success return is reachable from the publication without
 * passing any block that writes what `step` writes (the same target): the
 * function then finishes, on that path, without it, so the write is no part
 * of the object's construction. A field set in both branches of an `if` is
 * set on every path and counts.
 */
function skippedOnSuccess(
  fn: FunctionModel,
  paths: FlowPaths,
  names: Set<string>,
  from: EventRef,
  step: Unfinished,
  events: readonly EventRef[],
): boolean {
  const target = targetOf(fn, step.ref.event);
  if (target === undefined) return false;
  const writing = new Set<number>();
  for (const x of events)
    if (paths.before(from, x) && targetOf(fn, x.event) === target && writesObjectField(fn, names, x))
      writing.add(x.block);
  if (writing.has(from.block)) return false;
  // Failure branches (a call's error edge, a failed trylock, a jump to an unwinding label such as
  // `err_abort`) are not followed: a return shared by the error paths and the success path
  // (`out: return rc;`) would otherwise look like finishing without the write.
  const onward = (b: number): number[] =>
    (fn.blocks[b]?.succ ?? [])
      .filter((e) => !e.failed && e.when?.on !== 'error' && e.when?.on !== 'unlocked')
      .map((e) => e.to)
      .filter((to) => !ERROR_LABEL.test(fn.blocks[to]?.label ?? ''));
  const seen = new Set<number>();
  const work = onward(from.block);
  while (work.length > 0) {
    const b = work.pop()!;
    if (seen.has(b) || writing.has(b)) continue;
    seen.add(b);
    const block = fn.blocks[b];
    if (!block) continue;
    if (block.events.some((ev) => ev.kind === 'return' && !ev.isError)) return true;
    work.push(...onward(b));
  }
  return false;
}

/**
 * The function stores `object` into a field (`map->passive.accept_map =
 * map2`) and elsewhere reads it back from that field into the same local
 * (`map2 = map->passive.accept_map`): a construction resumed on a later call.
 */
function resumesStashed(fn: FunctionModel, events: readonly EventRef[], object: string): boolean {
  const stashes = new Set<string>();
  for (const x of events) {
    const store = fieldStore(fn, x.event);
    if (store && withoutSpaces(store.value) === object) stashes.add(withoutSpaces(store.target));
  }
  return (
    stashes.size > 0 &&
    events.some((x) => x.event.kind === 'read' && x.event.into === object && stashes.has(withoutSpaces(x.event.source)))
  );
}

/** The target a field store writes, spaces dropped. */
function targetOf(fn: FunctionModel, ev: Event): string | undefined {
  const store = fieldStore(fn, ev);
  return store ? withoutSpaces(store.target) : undefined;
}

/** A store into a field of the object (`setupStep`'s write case, which needs no knowledge). */
function writesObjectField(fn: FunctionModel, names: Set<string>, x: EventRef): boolean {
  const store = fieldStore(fn, x.event);
  return store !== undefined && /->|\./.test(store.target) && names.has(baseVariable(store.target) ?? '');
}

/** Ends the object's construction (finalize, abort) or opens it to readers that check a gate. */
function endsOrGates(ctx: CheckContext, fn: FunctionModel, names: Set<string>, ev: Event): 'end' | 'gate' | undefined {
  if (ev.kind === 'call') {
    const fin = functionKnowledge(ctx.knowledge, ev.callee)?.finishes;
    if (fin && names.has(objectOf(ev.args[fin.object] ?? '') ?? '')) return 'end';
    if (GATE_CALLS.test(ev.callee) && names.has(objectOf(ev.args[0] ?? '') ?? '')) return 'gate';
  }
  const store = fieldStore(fn, ev);
  if (store && names.has(baseVariable(store.target) ?? '')) {
    const field = identifierBefore(store.target, store.target.length) ?? '';
    if (GATE_FIELD.test(field) || (ev.kind === 'call' && ev.callee === 'smp_store_release')) return 'gate';
  }
  return undefined;
}

function checkFunction(ctx: CheckContext, fn: FunctionModel): Finding[] {
  const paths = flowPathsOf(fn);
  const windows = windowsOf(ctx, fn, paths);
  if (windows.length === 0) return [];
  const held = ctx.held(fn);
  const events = paths.events();
  const out: Finding[] = [];
  const reported = new Set<string>();
  for (const w of windows) {
    const names = namesOf(fn, w.object);
    const ownRelease = w.callee && !w.callee.summary.callers;
    const releases = ownRelease
      ? []
      : events.filter((x) => x.event.kind === 'release' && x.event.lock.id === w.lock && paths.before(w.ref, x));
    if (!ownRelease && releases.length === 0) continue;
    const ends = events.filter((x) => paths.before(w.ref, x) && endsOrGates(ctx, fn, names, x.event) === 'end');
    const gates = events.filter((x) => paths.before(w.ref, x) && endsOrGates(ctx, fn, names, x.event) === 'gate');
    const counterSets = (field: string) =>
      events.filter((x) => x.event.kind === 'call' && Object.values(x.event.addressed ?? {}).includes(field));
    const setIn = (body: FunctionModel, field: string, at?: EventRef) =>
      flowPathsOf(body)
        .events()
        .some(
          (x) =>
            x.event.kind === 'call' &&
            Object.values(x.event.addressed ?? {}).includes(field) &&
            (at === undefined || flowPathsOf(body).before(x, at)),
        );
    const counters = unsetCounters(
      ctx,
      fn.types[w.object],
      (field) => setIn(fn, field, w.ref) || (w.callee !== undefined && setIn(w.callee.fn, field)),
    );
    const reallocated = allocations(paths).get(w.object) ?? [];
    let hit: { step: Unfinished; release?: EventRef; confidence: Confidence } | undefined;
    let unpublished: Set<number> | undefined;
    for (const x of events) {
      if (!paths.before(w.ref, x)) continue;
      if (
        w.okTargets &&
        !w.okTargets.some((t) => x.block === t || paths.before({ block: t, index: -1, event: x.event }, x))
      )
        continue;
      // The local holds another object by then.
      if (reallocated.some((a) => paths.before(w.ref, a) && paths.before(a, x))) continue;
      const step = setupStep(ctx, fn, names, x);
      if (!step) continue;
      // Set on some successful paths only: an update of a live object (a timestamp taken when a wait
      // finds its event already done), not part of building it.
      if (step.role === 'write' && skippedOnSuccess(fn, paths, names, w.ref, step, events)) continue;
      // Made with the lock held again: readers under the lock see it done.
      if (held.mayBefore(x.block, x.index).some((h) => h.lock.id === w.lock)) continue;
      if (endsOrGates(ctx, fn, names, x.event) === 'gate') continue;
      const release = ownRelease ? undefined : releases.find((r) => paths.before(r, x));
      if (!ownRelease && !release) continue;
      // Construction already ended before this step (finalized under the lock, or aborted).
      if (
        ends.some(
          (e) => e !== x && paths.before(e, x) && (release === undefined || paths.before(w.ref, e)) && !step.finish,
        )
      )
        continue;
      if (step.finish && ends.some((e) => e !== x && paths.before(e, x))) continue;
      // Readers skip the object until a gate after this step opens it.
      if (gates.some((g) => paths.before(x, g))) continue;
      // Readers try-get a count still zero: the object is invisible to them until it is set.
      if (
        counters.length > 0 &&
        !counters.some((c) => counterSets(c).some((g) => paths.before(w.ref, g) && paths.before(g, x)))
      )
        continue;
      // A field write matters to readers under the lock when the lock protects that field; a finish always does.
      // A write the function also makes on a path that did not publish (the object found by a lookup instead
      // of made: `b = find(); if (!b) { b = alloc_and_hash(); } b->parent = p;`) updates whatever object it
      // has, made or found: not a step of building it, so a guess.
      // Not when the other path takes back what this function stashed after publishing it (`map->pending = new;`
      // ... `new = map->pending; goto resume;`): that resumes building its own object, left half-built between calls.
      const alsoFound =
        step.role === 'write' &&
        (unpublished ??= reachableAvoiding(fn, w.ref.block)).has(x.block) &&
        !resumesStashed(fn, events, w.object);
      const confidence: Confidence =
        !alsoFound && (step.finish || protectedBy(ctx, step.field, w.lock, fn))
          ? w.callee
            ? 'medium'
            : 'high'
          : 'low';
      if (hit && confidence === 'low') continue;
      hit = { step, ...(release ? { release } : {}), confidence };
      if (confidence !== 'low') break;
    }
    if (!hit) continue;
    const key = `${w.object}:${w.lock}`;
    if (reported.has(key)) continue;
    reported.add(key);
    out.push(finding(fn, w, hit.step, hit.release, hit.confidence));
  }
  return out;
}

function finding(
  fn: FunctionModel,
  w: Window,
  step: Unfinished,
  release: EventRef | undefined,
  base: Confidence,
): Finding {
  const call = w.ref.event;
  const s = w.callee?.summary;
  const how = w.callee
    ? `${fnName(call.callee)} (line ${call.line}) makes \`${w.object}\` reachable: it puts it on \`${s!.into}\` with ${fnName(s!.api)} at ${lineRef(s!.file, s!.line, fn.file)}`
    : `\`${w.object}\` is put on \`${w.into}\` by ${fnName(w.api)} (line ${call.line})`;
  const dropped = release
    ? `\`${w.lock}\` is dropped at line ${release.event.line}`
    : `${fnName(call.callee)} drops \`${w.lock}\` before returning (${lineRef(s!.file, s!.releaseLine!, fn.file)})`;
  const message =
    `${how} with \`${w.lock}\` held, but ${dropped} before the object is finished: ${step.what} at line ${step.ref.event.line}. ` +
    `A thread that takes \`${w.lock}\` can find \`${w.object}\` half-built.`;
  const related: RelatedLocation[] = [
    {
      file: fn.file,
      line: call.line,
      message: w.callee
        ? `published here, through ${fnName(call.callee)}`
        : `published here: ${fnName(w.api)} makes \`${w.object}\` reachable`,
      role: 'call',
    },
    ...(w.callee
      ? [
          {
            file: s!.file,
            line: s!.line,
            message: `${fnName(s!.api)} puts it on \`${s!.into}\` here, with \`${w.lock}\` held`,
            role: 'call' as const,
          },
        ]
      : []),
    release
      ? {
          file: fn.file,
          line: release.event.line,
          message: `lock dropped here: \`${w.lock}\``,
          role: 'release' as const,
          lock: w.lock,
        }
      : {
          file: s!.file,
          line: s!.releaseLine!,
          message: `lock dropped here, inside ${fnName(call.callee)}: \`${w.lock}\``,
          role: 'release' as const,
          lock: w.lock,
        },
    {
      file: fn.file,
      line: step.ref.event.line,
      message: `finished here, after the unlock: ${step.what}`,
      role: step.role,
    },
  ];
  let confidence = base;
  if (fn.status === 'partial' || w.callee?.fn.status === 'partial') confidence = lowerConfidence(confidence);
  const primary = release?.event ?? step.ref.event;
  return {
    ruleId: 'published-before-finished',
    severity: 'warning',
    confidence,
    message,
    file: fn.file,
    line: primary.line,
    column: primary.column,
    function: fn.name,
    fingerprint: fingerprint('published-before-finished', fn.name, [w.lock, w.callee ? call.callee : w.api]),
    related,
    scenario: scenarioFor('published-before-finished', { file: fn.file, function: fn.name }),
  };
}

export const publishedBeforeFinished = perFunctionCheck(
  'published-before-finished',
  (_ctx, fn) => fn.blocks.some((b) => b.events.some((e) => e.kind === 'call')),
  checkFunction,
);
