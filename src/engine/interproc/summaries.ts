/**
 * Interprocedural summaries: what each function does as seen from a call
 * site (locks taken, locks required, fallible, irreversible, callbacks
 * reached), propagated to a fixpoint over the call graph of every function in
 * view, with the knowledge base standing in for bodies not in view.
 *
 * Per-function direct effects are computed once per FunctionModel (models are
 * cached per file text), so re-analysis after an edit only redoes the cheap
 * propagation.
 */
import type { Knowledge } from '../knowledge/types';
import { holdsNoLocks, ownHeldLocks } from '../model/held-locks';
import { baseVariable } from '../model/syntax-util';
import type { FileModel, FunctionModel, LockKind, LockMode, LockRef } from '../model/types';
import type {
  CallbackSummary,
  FunctionSummary,
  IrreversibleStep,
  ReachedCallback,
  RequiredLock,
  Summaries,
  TakenLock,
  ViaStep,
} from './types';
import { OTHER_OBJECT } from './types';
import {
  CalledCallback,
  CalledIrreversible,
  CalledTake,
  GUESS_WEAKNESS,
  ThroughCallback,
  dispatchLevel,
  guessBit,
  plainTake,
  betterRoute,
  betterWitness,
  routeDepth,
  strongerRoute,
  throughDispatch,
  weakness,
  withRoute,
} from './via-chain';

/** What a function body does itself, before propagation. */
interface DirectEffects {
  lockEffect: LockEffect;
  takes: TakenLock[];
  requires: RequiredLock[];
  calls: {
    callee: string;
    line: number;
    /** The call's argument texts (the call event's own list). */
    args: readonly string[];
    dropped?: string[];
    inlineOf?: { api: string; line: number };
  }[];
  callbacks: { callback: string; opsStruct?: string; field: string; line: number; dropped?: string[] }[];
  errorReturn: boolean;
}

const directCache = new WeakMap<FunctionModel, DirectEffects>();

function directEffects(fn: FunctionModel): DirectEffects {
  const cached = directCache.get(fn);
  if (cached) return cached;
  const takes: TakenLock[] = [];
  const requires: RequiredLock[] = [];
  const calls: DirectEffects['calls'] = [];
  const callbacks: DirectEffects['callbacks'] = [];
  const acquiredSoFar = new Set<string>();
  let errorReturn = false;
  const droppedAt = callerLocksDropped(fn);
  // Blocks are in source order closely enough for "asserted before acquired".
  for (const b of fn.blocks) {
    for (let i = 0; i < b.events.length; i++) {
      const ev = b.events[i];
      const dropped = droppedAt(b.id, i);
      switch (ev.kind) {
        case 'acquire': {
          acquiredSoFar.add(ev.lock.id);
          if (ev.trylock && ev.api.includes('trylock')) break;
          const object = lockObject(ev.lock.expr, fn.params);
          mergeTake(
            takes,
            ev.lock.id,
            ev.mode,
            dropped,
            ev.nested ? true : undefined,
            object === OTHER_OBJECT ? 2 : 0,
            0,
            (d, nested) => ({
              lock: ev.lock.id,
              kind: ev.lock.kind,
              mode: ev.mode,
              resolved: ev.lock.resolved,
              via: [{ function: fn.name, file: fn.file, line: ev.line, what: `takes \`${ev.lock.id}\`` }],
              fromKnowledge: false,
              ...(d ? { dropped: d } : {}),
              ...(nested ? { nested } : {}),
              ...(object !== undefined ? { object } : {}),
            }),
          );
          break;
        }
        case 'assert':
          if (
            ev.expect !== 'not-held' &&
            !acquiredSoFar.has(ev.lock.id) &&
            ev.lock.resolved &&
            !requires.some((r) => r.lock === ev.lock.id)
          ) {
            requires.push({ lock: ev.lock.id, expect: ev.expect, line: ev.line, file: fn.file });
          }
          break;
        case 'call':
          calls.push({
            callee: ev.callee,
            line: ev.line,
            args: ev.args,
            ...(dropped ? { dropped } : {}),
            ...(ev.inlineOf ? { inlineOf: ev.inlineOf } : {}),
          });
          // A call through a local function pointer (`func = handler; ... func(...)`) calls each function assigned to it.
          for (const t of ev.targets ?? [])
            calls.push({ callee: t, line: ev.line, args: ev.args, ...(dropped ? { dropped } : {}) });
          break;
        case 'callback':
          callbacks.push({
            callback: `${ev.opsStruct ?? '?'}.${ev.field}`,
            ...(ev.opsStruct ? { opsStruct: ev.opsStruct } : {}),
            field: ev.field,
            line: ev.line,
            ...(dropped ? { dropped } : {}),
          });
          break;
        case 'return':
          if (ev.isError) errorReturn = true;
          break;
        default:
          break;
      }
    }
  }
  for (const l of fn.mustHold) {
    if (l.resolved && !requires.some((r) => r.lock === l.id))
      requires.push({ lock: l.id, expect: 'held', line: fn.line, file: fn.file });
  }
  // Lists cut to size (an array grown by push keeps room for 16 more): kept for every function in view.
  const out = {
    takes: takes.slice(),
    requires: requires.slice(),
    calls: calls.slice(),
    callbacks: callbacks.slice(),
    errorReturn,
    lockEffect: netLockEffect(fn),
  };
  directCache.set(fn, out);
  return out;
}

/**
 * Which of the locks the caller holds on entry (asserted, `__must_hold`, or
 * released here without being taken) are no longer held on any path at an
 * event: the function dropped them around it (`mutex_unlock(&lock);
 * destroy(x); mutex_lock(&lock);` in a loop). Locks taken at such an event
 * are not taken under the caller's lock.
 */
function callerLocksDropped(fn: FunctionModel): (block: number, index: number) => string[] | undefined {
  const none = (): undefined => undefined;
  if (holdsNoLocks(fn) && !fn.blocks.some((b) => b.events.some((e) => e.kind === 'release'))) return none;
  const held = ownHeldLocks(fn);
  const entry = held
    .before(fn.entry, 0)
    .filter((h) => h.how === 'entry' || h.how === 'assert')
    .map((h) => h.lock.id);
  if (entry.length === 0) return none;
  const releases = new Set<string>();
  for (const b of fn.blocks) for (const e of b.events) if (e.kind === 'release' && !e.implicit) releases.add(e.lock.id);
  const candidates = entry.filter((id) => releases.has(id));
  if (candidates.length === 0) return none;
  return (block, index) => {
    const ev = fn.blocks[block].events[index];
    if (ev.kind !== 'acquire' && ev.kind !== 'call' && ev.kind !== 'callback') return undefined;
    const may = held.mayBefore(block, index);
    const dropped = candidates.filter((id) => !may.some((h) => h.lock.id === id));
    return dropped.length > 0 ? dropped : undefined;
  };
}

/**
 * Adds a taken lock to a list (one entry per lock and mode). A lock reached
 * both with and without the caller's lock dropped keeps only what every route
 * drops. A route with fewer weaknesses (`weak`, see `weakness()`: run inline
 * instead of deferred, another object's lock) replaces the witness of one
 * with more. Returns whether the list changed. The entry is made (`make`)
 * only when it goes in: a fixpoint offers the same routes again and again.
 */
function mergeTake(
  list: TakenLock[],
  lock: string,
  mode: LockMode,
  dropped: string[] | undefined,
  nested: true | undefined,
  weak: number,
  depth: number,
  make: (dropped: string[] | undefined, nested: true | undefined) => TakenLock,
): boolean {
  const i = list.findIndex((x) => x.lock === lock && x.mode === mode);
  if (i < 0) {
    list.push(make(dropped, nested));
    return true;
  }
  const had = weakness(list[i]);
  const kept = list[i].dropped?.filter((d) => dropped?.includes(d));
  const keptDropped = kept && kept.length > 0 ? kept : undefined;
  if (strongerRoute(weak, had)) {
    list[i] = make(keptDropped, list[i].nested && nested);
    return true;
  }
  // As weak a route, but fewer calls: the witness is the shortest route, not the first one met (on a whole tree
  // the first one met can wander hundreds of calls through unrelated code before it reaches the lock).
  if (weak === had && depth < routeDepth(list[i]) && (kept?.length ?? 0) === (list[i].dropped?.length ?? 0)) {
    list[i] = make(keptDropped, list[i].nested && nested);
    return true;
  }
  let changed = false;
  // Nested only if every route declares the nesting.
  if (list[i].nested && !nested) {
    list[i] = withRoute(list[i], list[i].dropped, undefined);
    changed = true;
  }
  const hadDropped = list[i].dropped;
  if (!hadDropped || !kept) return changed;
  if (kept.length === hadDropped.length) return changed;
  // The route that drops less becomes the witness, unless it is the weaker one.
  list[i] =
    (weak & ~had) !== 0
      ? withRoute(list[i], kept.length > 0 ? kept : undefined, list[i].nested)
      : make(kept.length > 0 ? kept : undefined, list[i].nested);
  return true;
}

/**
 * Whose lock a lock expression names, as the function sees it (see
 * `TakenLock.object`): `&p->lock`, `p->lock` or `&p->a.b.lock` with `p` its
 * parameter number k is k's; `&p->q->lock` (through a pointer `p` holds) is
 * another object's; anything else (a local, a global, an element of an array
 * of locks) is not known.
 */
function lockObject(expr: string, params: readonly string[] | undefined): number | undefined {
  if (!params || params.length === 0) return undefined;
  const m = /^&?\(?\s*([A-Za-z_]\w*)\s*->([^]*)$/.exec(expr.trim());
  if (!m) return undefined;
  const k = params.indexOf(m[1]);
  if (k < 0) return undefined;
  // `&p->locks[i]`: one of several locks of p itself, not known to be the one held.
  return /->/.test(m[2]) ? OTHER_OBJECT : /\[/.test(m[2]) ? undefined : k;
}

/**
 * The caller's view of the object a callee's lock belongs to: the callee's
 * parameter `object` was given argument `args[object]`. The caller's own
 * parameter passed as is keeps the object known; a pointer read from another
 * object (`array->fences[i]`, `dev->parent`), or a local the caller looked up
 * from an object of its own type (`inner = chain_inner(fence)`, see
 * `lookedUpLocals`), makes it another object's; any other argument (a local,
 * a call, an address) leaves it unknown.
 */
function callerObject(object: number | undefined, args: readonly string[], fn: FunctionModel): number | undefined {
  if (object === undefined || object === OTHER_OBJECT) return object;
  const arg = args[object]?.trim();
  if (!arg) return undefined;
  if (/^[A-Za-z_]\w*$/.test(arg)) {
    const k = fn.params?.indexOf(arg) ?? -1;
    if (k >= 0) return k;
    return lookedUpLocals(fn).has(arg) ? OTHER_OBJECT : undefined;
  }
  return arg.charCodeAt(0) !== 38 /* & */ && /->|\[/.test(arg) ? OTHER_OBJECT : undefined;
}

/** Calls whose result is the object they were given (a reference taken), not another one. */
const RETURNS_ITS_ARGUMENT = /(?:^|_)(?:get|ref|hold|grab)(?:_|$)/;

const lookedUp = new WeakMap<FunctionModel, ReadonlySet<string>>();

/**
 * Locals that only ever hold what a call returned when given an object of
 * the local's own struct type (`inner = chain_inner(fence)`, a parent, a
 * child, the next in a chain): another object of that type, not the one
 * given. A conversion to another type (`vdev = to_vdev(dev)`, container_of)
 * is the same object and does not count, nor a call that hands back its
 * argument with a reference taken (`f = fence_get(fence)`).
 */
function lookedUpLocals(fn: FunctionModel): ReadonlySet<string> {
  let out = lookedUp.get(fn);
  if (out) return out;
  const found = new Set<string>();
  const other = new Set<string>();
  for (const b of fn.blocks) {
    for (const ev of b.events) {
      if (ev.kind === 'read' && ev.into) other.add(ev.into);
      if (ev.kind !== 'call' || !ev.resultVar) continue;
      const v = ev.resultVar;
      const type = fn.types[v];
      const fromOwnType =
        type !== undefined &&
        !RETURNS_ITS_ARGUMENT.test(ev.callee) &&
        ev.args.some((a) => {
          const base = baseVariable(a);
          return base !== undefined && base !== v && fn.types[base] === type;
        });
      (fromOwnType ? found : other).add(v);
    }
  }
  for (const v of other) found.delete(v);
  lookedUp.set(fn, (out = found));
  return out;
}

/** A knowledge entry's view of a lock it reaches: which arguments it passes is not known, another object stays one. */
function unknownArgs(t: TakenLock): number | undefined {
  return t.object === OTHER_OBJECT ? OTHER_OBJECT : undefined;
}

/** The union of two dropped-lock lists (a callee's drops and its call site's). */
function joinDropped(a: string[] | undefined, b: string[] | undefined): string[] | undefined {
  if (!a) return b;
  if (!b) return a;
  return [...new Set([...a, ...b])];
}

type LockEffect = Pick<FunctionSummary, 'leavesHeld' | 'releasesHeld' | 'mayReleaseHeld' | 'onError' | 'onOk'>;

/**
 * A lock helper's net effect on its caller, read from the function's own
 * lock operations and returns (one level of helpers):
 * - locks it takes and still holds at every return (`leavesHeld`), and
 *   `__acquires()` locks (a lock API by contract);
 * - locks the caller holds on entry (asserted, `__must_hold`, or released
 *   here without being taken) that no return still holds (`releasesHeld`),
 *   and `__releases()` locks: a destroy helper that ends by unlocking;
 * - per outcome, where error and success returns differ: a caller's lock
 *   released on every error return and held on every success return
 *   (`onError`), a lock taken and held on every success return and released
 *   on every error return (`onOk`);
 * - a caller's lock released on some returns only, not told apart by
 *   outcome (`mayReleaseHeld`): no longer held for sure after the call.
 */
function netLockEffect(fn: FunctionModel): LockEffect {
  const acquired = new Set<string>();
  const released = new Set<string>();
  const asserted = new Set<string>(fn.mustHold.map((l) => l.id));
  for (const b of fn.blocks) {
    for (const ev of b.events) {
      if (ev.kind === 'acquire') acquired.add(ev.lock.id);
      else if (ev.kind === 'release' && !ev.implicit) released.add(ev.lock.id);
      else if (ev.kind === 'assert') asserted.add(ev.lock.id);
    }
  }
  const out: LockEffect = {};
  const releasesHeld = new Set<string>();
  const leavesHeld = new Map<string, { lock: LockRef; mode: LockMode }>();
  for (const l of fn.acquires ?? []) if (l.resolved) leavesHeld.set(l.id, { lock: l, mode: 'exclusive' });
  for (const l of fn.releases ?? []) if (l.resolved) releasesHeld.add(l.id);
  if ((acquired.size > 0 || released.size > 0) && !(holdsNoLocks(fn) && released.size === 0)) {
    const held = ownHeldLocks(fn);
    const entry = new Set(
      held
        .before(fn.entry, 0)
        .filter((h) => h.how === 'entry' || h.how === 'assert')
        .map((h) => h.lock.id),
    );
    const returns: {
      error: boolean;
      must: Map<string, { lock: LockRef; mode: LockMode; how: string }>;
      may: Set<string>;
    }[] = [];
    held.forEachEvent((block, index, must) => {
      const ev = block.events[index];
      if (ev.kind !== 'return') return;
      returns.push({
        error: ev.isError,
        must: new Map(must.map((h) => [h.lock.id, { lock: h.lock, mode: h.mode, how: h.how }])),
        may: new Set(held.mayBefore(block.id, index).map((h) => h.lock.id)),
      });
    });
    if (returns.length > 0) {
      // Taken here and held at every return: left held in the caller.
      for (const [id, h] of returns[0].must) {
        if (h.how === 'acquire' && !asserted.has(id) && h.lock.resolved && returns.every((r) => r.must.has(id)))
          leavesHeld.set(id, { lock: h.lock, mode: h.mode });
      }
      const callers = [...entry].filter((id) => released.has(id));
      for (const id of callers) if (returns.every((r) => !r.may.has(id))) releasesHeld.add(id);
      const errs = returns.filter((r) => r.error);
      const oks = returns.filter((r) => !r.error);
      if (errs.length > 0 && oks.length > 0) {
        const onError = { acquires: [] as { lock: LockRef; mode: LockMode }[], releases: [] as string[] };
        const onOk = { acquires: [] as { lock: LockRef; mode: LockMode }[], releases: [] as string[] };
        for (const id of callers) {
          if (releasesHeld.has(id)) continue;
          if (errs.every((r) => !r.may.has(id)) && oks.every((r) => r.must.has(id))) onError.releases.push(id);
          else if (oks.every((r) => !r.may.has(id)) && errs.every((r) => r.must.has(id))) onOk.releases.push(id);
        }
        for (const [id, h] of oks[0].must) {
          if (h.how !== 'acquire' || asserted.has(id) || !h.lock.resolved || leavesHeld.has(id)) continue;
          if (oks.every((r) => r.must.has(id)) && errs.every((r) => !r.may.has(id)))
            onOk.acquires.push({ lock: h.lock, mode: h.mode });
        }
        if (onError.releases.length > 0) out.onError = onError;
        if (onOk.releases.length > 0 || onOk.acquires.length > 0) out.onOk = onOk;
      }
      const byOutcome = new Set([...(out.onError?.releases ?? []), ...(out.onOk?.releases ?? [])]);
      const some = callers.filter(
        (id) => !releasesHeld.has(id) && !byOutcome.has(id) && returns.some((r) => !r.may.has(id)),
      );
      if (some.length > 0) out.mayReleaseHeld = some;
    }
  }
  if (leavesHeld.size > 0) out.leavesHeld = [...leavesHeld.values()];
  if (releasesHeld.size > 0) out.releasesHeld = [...releasesHeld];
  return out;
}

const signatureCache = new WeakMap<FunctionModel, string>();

/**
 * What the global steps (summaries, lock graph) and rules looking into other
 * functions read from a function: its lock, call, callback, write and return
 * events in order, and its edges. Two models
 * with the same signature give the same summaries and graph edges, so an
 * edit that keeps it (typing inside an expression) can reuse them.
 */
export function globalSignature(fn: FunctionModel): string {
  const hit = signatureCache.get(fn);
  if (hit !== undefined) return hit;
  const parts: string[] = [
    fn.name,
    fn.file,
    String(fn.line),
    fn.status,
    fn.mustHold.map((l) => l.id).join(','),
    (fn.acquires ?? []).map((l) => l.id).join(','),
    (fn.releases ?? []).map((l) => l.id).join(','),
    (fn.lockInits ?? []).map((i) => `${i.lock}@${i.line}`).join(','),
    (fn.memberAliases ?? []).map((a) => `${a.name}=${a.of}`).join(','),
  ];
  for (const b of fn.blocks) {
    parts.push(
      `#${b.succ.map((e) => `${e.to}${e.when ? `${e.when.on}${e.when.event}` : ''}${e.failed ? `f${e.failed.block}.${e.failed.event}` : ''}`).join(',')}`,
    );
    for (const ev of b.events) {
      switch (ev.kind) {
        case 'acquire':
        case 'release':
          parts.push(
            `${ev.kind[0]}${ev.lock.id}|${ev.mode}|${ev.line}|${ev.kind === 'acquire' ? `${ev.trylock}${ev.nested}${ev.api}` : ''}`,
          );
          break;
        case 'assert':
          parts.push(`a${ev.lock.id}|${ev.expect}|${ev.line}`);
          break;
        case 'call':
          // Arguments say which object a call publishes or finishes (published-before-finished reads callees' calls).
          parts.push(`c${ev.callee}${ev.targets ? `>${ev.targets.join('/')}` : ''}|${ev.line}|${ev.args.join(',')}`);
          break;
        case 'callback':
          parts.push(`k${ev.opsStruct ?? '?'}.${ev.field}|${ev.line}`);
          break;
        case 'return':
          // A returned local: what a callee hands back (and may have published).
          parts.push(`r${ev.isError}${/^\w+$/.test(ev.value) ? ev.value : ''}`);
          break;
        case 'write':
          // Rules read callees' writes (what a helper changes), so they count too.
          parts.push(`w${ev.field ?? ev.target}=${ev.value}|${ev.line}`);
          break;
        default:
          parts.push('.');
      }
    }
  }
  const sig = parts.join(';');
  signatureCache.set(fn, sig);
  return sig;
}

/**
 * Can a call by name in `fromFile` reach this definition? Not a `static`
 * function of another `.c` file (a header's static inline is every includer's):
 * across a whole tree, thousands of files have their own static `put()`,
 * `release()` or `fn()`, and a call in one file reached another's.
 */
export function visibleFrom(fn: FunctionModel, fromFile: string | undefined): boolean {
  return !fn.fileLocal || fn.file === fromFile || !fn.file.endsWith('.c');
}

const MAX_TAKES = 64;
const MAX_CALLBACKS = 16;

function kindOf(knowledge: Knowledge, lock: string): LockKind {
  return knowledge.lockKinds[lock] ?? 'unknown';
}

function prefix(step: ViaStep, via: ViaStep[]): ViaStep[] {
  return [step, ...via];
}

/** Every function in the models by name, in model order (a static name defined in several files: all of them). */
export function functionsByName(models: readonly FileModel[]): Map<string, FunctionModel[]> {
  const functions = new Map<string, FunctionModel[]>();
  for (const m of models) {
    for (const fn of m.functions) {
      const list = functions.get(fn.name);
      if (list) list.push(fn);
      else functions.set(fn.name, [fn]);
    }
  }
  return functions;
}

/**
 * Builds the summaries of every function in view plus every function the
 * knowledge base describes.
 */
export function computeSummaries(files: readonly FileModel[], knowledge: Knowledge): Summaries {
  const byName = functionsByName(files);
  // Function models are the keys (one object per definition).
  const key = (fn: FunctionModel): FunctionModel => fn;
  // A name defined in several files (static helpers: thousands of `*_probe`
  // across a whole tree) resolves to the caller's own file's first
  // definition: looked up by file, not by scanning the definitions per call.
  const sameFile = new Map<string, Map<string, FunctionModel>>();
  // Else the first definition another file can call: a `static` function in another `.c` file is not one.
  const shared = new Map<string, FunctionModel | undefined>();
  for (const [name, list] of byName) {
    if (list.length === 1) continue;
    const byFile = new Map<string, FunctionModel>();
    for (const fn of list) if (!byFile.has(fn.file)) byFile.set(fn.file, fn);
    sameFile.set(name, byFile);
    shared.set(
      name,
      list.find((fn) => visibleFrom(fn, undefined)),
    );
  }
  const resolve = (name: string, fromFile?: string): FunctionModel | undefined => {
    const list = byName.get(name);
    if (!list) return undefined;
    if (!fromFile) return list[0];
    if (list.length === 1) return visibleFrom(list[0], fromFile) ? list[0] : undefined;
    return sameFile.get(name)!.get(fromFile) ?? shared.get(name);
  };

  // Knowledge-only summaries (for names with no body in view), resolved lazily with `reaches`.
  const knowledgeCache = new Map<string, FunctionSummary>();
  const inView = new Map<FunctionModel, FunctionSummary>();

  const knowledgeSummary = (name: string, depth = 0): FunctionSummary | undefined => {
    const hit = knowledgeCache.get(name);
    if (hit) return hit;
    const k = knowledge.functions[name];
    if (!k) return undefined;
    const s: FunctionSummary = {
      name,
      inView: false,
      takes: [],
      requires: [],
      fallible: Boolean(k.fallible),
      restoring: Boolean(k.restoring),
      callbacks: [],
      partial: false,
    };
    knowledgeCache.set(name, s);
    for (const t of k.takes ?? []) {
      s.takes.push({
        lock: t.lock,
        kind: kindOf(knowledge, t.lock),
        mode: t.mode,
        resolved: true,
        via: [{ function: name, what: `takes \`${t.lock}\` (knowledge)` }],
        fromKnowledge: true,
      });
    }
    for (const r of k.requires ?? [])
      s.requires.push({ lock: r.lock, expect: r.mode === 'read' ? 'read' : r.mode === 'write' ? 'write' : 'held' });
    if (k.irreversible) s.irreversible = { why: k.irreversible, via: [{ function: name, what: k.irreversible }] };
    if (depth < 8) {
      for (const r of k.reaches ?? []) {
        const target = resolveSummary(r, undefined, depth + 1);
        if (!target) continue;
        const step: ViaStep = { function: name, what: `reaches \`${r}()\` (knowledge)`, reaches: r };
        for (const t of target.takes)
          if (!s.takes.some((x) => x.lock === t.lock && x.mode === t.mode))
            s.takes.push(plainTake(t, prefix(step, t.via), t.dropped, t.nested, true, unknownArgs(t)));
        if (!s.irreversible && target.irreversible)
          s.irreversible = { why: target.irreversible.why, via: prefix(step, target.irreversible.via) };
        if (target.fallible && k.fallible === undefined) s.fallible = true;
      }
    }
    return s;
  };

  const resolveSummary = (name: string, fromFile?: string, depth = 0): FunctionSummary | undefined => {
    // A bug report's path or lockdep's own hook: its body, even in view, adds nothing to its callers.
    if (knowledge.functions[name]?.outsideLockOrder) return knowledgeSummary(name, depth);
    const body = resolve(name, fromFile);
    if (body) return inView.get(key(body));
    return knowledgeSummary(name, depth);
  };

  // Seed in-view summaries with their direct effects and their own knowledge entry.
  const all: FunctionModel[] = [];
  for (const list of byName.values()) all.push(...list);
  const nestedClasses = new Set<string>();
  for (const fn of all) {
    const d = directEffects(fn);
    for (const t of d.takes) if (t.nested) nestedClasses.add(t.lock);
    const k = knowledge.functions[fn.name];
    const s: FunctionSummary = {
      name: fn.name,
      file: fn.file,
      line: fn.line,
      inView: true,
      takes: d.takes.map((t) => ({ ...t, kind: t.kind === 'unknown' ? kindOf(knowledge, t.lock) : t.kind })),
      requires: [...d.requires],
      fallible: d.errorReturn || Boolean(k?.fallible),
      restoring: Boolean(k?.restoring),
      callbacks: [],
      partial: fn.status === 'partial',
      ...d.lockEffect,
    };
    if (k?.irreversible)
      s.irreversible = {
        why: k.irreversible,
        via: [{ function: fn.name, file: fn.file, line: fn.line, what: k.irreversible }],
      };
    for (const r of k?.requires ?? []) {
      if (!s.requires.some((x) => x.lock === r.lock))
        s.requires.push({ lock: r.lock, expect: r.mode === 'read' ? 'read' : r.mode === 'write' ? 'write' : 'held' });
    }
    for (const cb of d.callbacks) {
      if (s.callbacks.length < MAX_CALLBACKS && !s.callbacks.some((c) => c.callback === cb.callback)) {
        s.callbacks.push({
          callback: cb.callback,
          via: [{ function: fn.name, file: fn.file, line: cb.line, what: `calls \`->${cb.field}()\`` }],
        });
      }
      const ck = knowledge.callbacks[cb.callback];
      if (!s.irreversible && ck?.irreversible)
        s.irreversible = {
          why: ck.irreversible,
          via: [{ function: fn.name, file: fn.file, line: cb.line, what: `calls \`->${cb.field}()\`` }],
        };
    }
    inView.set(key(fn), s);
  }

  // Callers of each in-view function, for the worklist.
  const callers = new Map<FunctionModel, FunctionModel[]>();
  for (const fn of all) {
    for (const c of directEffects(fn).calls) {
      const callee = resolve(c.callee, fn.file);
      if (!callee) continue;
      const k = key(callee);
      const list = callers.get(k);
      if (list) {
        if (list[list.length - 1] !== fn) list.push(fn);
      } else callers.set(k, [fn]);
    }
  }

  // Merging a callee's summary again when it has not changed since this
  // caller last merged it changes nothing (what a merge adds is there, what
  // it takes away from `dropped` and `nested` is gone), so each call site
  // remembers the callee's version it merged: a whole tree's functions are
  // absorbed several times each, and most of their callees are the same.
  const version = new Map<FunctionSummary, number>();
  const mergedBase = new Map<FunctionModel, number>();
  let sites = 0;
  for (const fn of all) {
    mergedBase.set(fn, sites);
    sites += directEffects(fn).calls.length;
  }
  let merged = new Int32Array(sites).fill(-1);
  // Each call site's callee summary, resolved once (summaries are changed in place, never replaced): a function is
  // absorbed again each time one of its callees changed, and resolving every call again was a tenth of the step.
  const calleeAt: (FunctionSummary | undefined)[] = [];
  for (const fn of all) for (const c of directEffects(fn).calls) calleeAt.push(resolveSummary(c.callee, fn.file));
  const absorb = (fn: FunctionModel): boolean => {
    const s = inView.get(key(fn))!;
    let changed = false;
    const calls = directEffects(fn).calls;
    const base = mergedBase.get(fn)!;
    for (let i = 0; i < calls.length; i++) {
      const c = calls[i];
      if (c.callee === fn.name) continue;
      const callee = calleeAt[base + i];
      if (!callee) continue;
      const v = version.get(callee) ?? 0;
      if (merged[base + i] === v) continue;
      merged[base + i] = v;
      // Made when something goes in: most offers repeat what the caller has.
      let step: ViaStep | undefined;
      const callStep = (): ViaStep =>
        (step ??= {
          function: fn.name,
          file: fn.file,
          line: c.line,
          what: `calls \`${c.callee}()\``,
          callee: c.callee,
          ...(c.inlineOf ? { inlineOf: c.inlineOf } : {}),
        });
      for (const t of callee.takes) {
        if (s.takes.length >= MAX_TAKES) break;
        const dropped = joinDropped(t.dropped, c.dropped);
        const object = callerObject(t.object, c.args, fn);
        const made = (d: string[] | undefined, nested: true | undefined): TakenLock =>
          new CalledTake(callStep(), t, d, nested, object);
        const weak =
          (c.inlineOf !== undefined || t.inline ? 1 : 0) |
          (object === OTHER_OBJECT ? 2 : 0) |
          guessBit(dispatchLevel(t));
        if (mergeTake(s.takes, t.lock, t.mode, dropped, t.nested, weak, routeDepth(t) + 1, made)) changed = true;
      }
      if (!s.irreversible && callee.irreversible) {
        s.irreversible = new CalledIrreversible(callStep(), callee.irreversible);
        changed = true;
      }
      for (const cb of callee.callbacks) {
        const at = s.callbacks.findIndex((x) => x.callback === cb.callback);
        if (at >= 0) {
          // The shortest route to the callback is its witness, as for takes.
          if (routeDepth(cb) + 1 < routeDepth(s.callbacks[at])) {
            s.callbacks[at] = new CalledCallback(callStep(), cb);
            changed = true;
          }
          continue;
        }
        if (s.callbacks.length >= MAX_CALLBACKS) continue;
        s.callbacks.push(new CalledCallback(callStep(), cb));
        changed = true;
      }
    }
    return changed;
  };

  // A queue read from a moving head: `shift()` on an array of a whole
  // tree's functions (in V8's large-object space, which cannot be trimmed
  // from the front) copies the whole array per call.
  let work = [...all];
  let head = 0;
  const queued = new Set(all.map(key));
  let budget = all.length * 40 + 1000;
  while (head < work.length && budget-- > 0) {
    const fn = work[head++];
    if (head >= 65536 && head * 2 >= work.length) {
      work = work.slice(head);
      head = 0;
    }
    queued.delete(key(fn));
    if (!absorb(fn)) continue;
    const s = inView.get(key(fn))!;
    version.set(s, (version.get(s) ?? 0) + 1);
    for (const caller of callers.get(key(fn)) ?? []) {
      if (!queued.has(key(caller))) {
        queued.add(key(caller));
        work.push(caller);
      }
    }
  }

  // The merge's own state is done with. `absorb` reads it, so it lives in the scope the returned closures keep:
  // left there, a whole tree's call sites and versions would live as long as the summaries.
  version.clear();
  mergedBase.clear();
  merged = new Int32Array(0);
  calleeAt.length = 0;

  // Lists cut to size (grown by push, they keep room for 16 more): one summary per function in view.
  for (const s of inView.values()) {
    s.takes = s.takes.slice();
    s.requires = s.requires.slice();
    s.callbacks = s.callbacks.slice();
  }

  const implementations = new Map<string, { function: string; file: string; line: number }[]>();
  const listed = new Set<string>();
  for (const f of files) {
    for (const o of f.opsImplementations) {
      const id = `${o.opsStruct}.${o.field}`;
      const once = `${id}\u0000${o.function}\u0000${o.file}`;
      if (listed.has(once)) continue;
      listed.add(once);
      const list = implementations.get(id) ?? [];
      list.push({ function: o.function, file: o.file, line: o.line });
      implementations.set(id, list);
    }
  }

  const callbackCache = new Map<string, CallbackSummary | undefined>();
  // Field name → the ops structs whose initialisers in view set it.
  const structsByField = new Map<string, Set<string>>();
  for (const id of implementations.keys()) {
    const [os, fld] = splitCallback(id);
    if (!os) continue;
    const set = structsByField.get(fld) ?? new Set<string>();
    set.add(os);
    structsByField.set(fld, set);
  }
  const callbackSummary = (
    opsStructIn: string | undefined,
    field: string,
    visiting: Set<string>,
  ): CallbackSummary | undefined => {
    // Ops struct unknown (its declaration is not in view): when exactly one ops
    // table in view has this field, that is the one; marked as a guess.
    let opsStruct = opsStructIn;
    let guessed = false;
    if (!opsStruct) {
      const owners = structsByField.get(field);
      if (owners && owners.size === 1) {
        opsStruct = [...owners][0];
        guessed = true;
      }
    }
    const id = `${opsStruct ?? '?'}.${field}`;
    const cacheKey = guessed ? `?${id}` : id;
    if (callbackCache.has(cacheKey)) return callbackCache.get(cacheKey);
    if (visiting.has(id) || !opsStruct) return undefined;
    visiting.add(id);
    const impls = (implementations.get(id) ?? []).filter((i) => resolve(i.function, i.file));
    const ck = knowledge.callbacks[id];
    let out: CallbackSummary | undefined;
    if (impls.length > 0) {
      const takes: TakenLock[] = [];
      // First taker of each lock and mode wins, unless a later one's route has fewer weaknesses (it took it only
      // by running deferred work inline, or on another object, and a later one does not) or is as weak and
      // shorter; a map, not a scan: a common ops field (`file_operations.release`) has thousands of
      // implementations in a tree.
      // By lock, then by mode (three at most): no key string made per offer, and a common callback's
      // implementations offer their callbacks' thousands of takes again and again.
      const taken = new Map<string, Partial<Record<LockMode, number>>>();
      const takenAt = (t: TakenLock): number | undefined => taken.get(t.lock)?.[t.mode];
      const add = (t: TakenLock): void => {
        const at = takenAt(t);
        if (at === undefined) {
          const byMode = taken.get(t.lock);
          if (byMode) byMode[t.mode] = takes.push(t) - 1;
          else taken.set(t.lock, { [t.mode]: takes.push(t) - 1 });
        } else if (betterWitness(t, takes[at])) takes[at] = t;
      };
      let irreversible: IrreversibleStep | undefined;
      const innerDone = new Set<string>();
      for (const impl of impls) {
        const s = resolveSummary(impl.function, impl.file);
        if (!s) continue;
        for (const t of s.takes) add(t);
        if (!irreversible && s.irreversible) irreversible = s.irreversible;
        // Callbacks the implementation makes in turn (vfio's emulated unmap → the driver's dma_unmap).
        // Each once: after the first, every lock it takes is taken already (the first taker wins),
        // and a common ops field's thousands of implementations make the same few callbacks.
        for (const cb of s.callbacks) {
          if (innerDone.has(cb.callback)) continue;
          innerDone.add(cb.callback);
          const [os, fld] = splitCallback(cb.callback);
          const inner = callbackSummary(os, fld, visiting);
          if (!inner) continue;
          for (const t of inner.takes) {
            const at = takenAt(t);
            // Made only when it goes in (ThroughCallback's depth and weaknesses, computed ahead).
            const width = inner.implementations.length;
            const weak = (weakness(t) & ~GUESS_WEAKNESS) | guessBit(throughDispatch(t, width));
            if (at === undefined || betterRoute(weak, routeDepth(cb) + routeDepth(t) + 1, takes[at]))
              add(new ThroughCallback(cb, t, width));
          }
        }
      }
      if (!irreversible && ck?.irreversible)
        irreversible = { why: ck.irreversible, via: [{ function: impls[0].function, what: ck.irreversible }] };
      out = {
        callback: id,
        implementations: impls,
        takes,
        ...(irreversible ? { irreversible } : {}),
        fromKnowledge: false,
        ...(guessed ? { guessedStruct: true } : {}),
      };
    } else if (ck) {
      const takes: TakenLock[] = (ck.takes ?? []).map((t) => ({
        lock: t.lock,
        kind: kindOf(knowledge, t.lock),
        mode: t.mode,
        resolved: true,
        via: [{ function: `->${field}()`, what: `takes \`${t.lock}\` (knowledge of \`${id}\`)` }],
        fromKnowledge: true,
      }));
      for (const r of ck.reaches ?? []) {
        const target = resolveSummary(r);
        if (!target) continue;
        for (const t of target.takes) {
          if (!takes.some((x) => x.lock === t.lock && x.mode === t.mode))
            takes.push(
              plainTake(
                t,
                [
                  { function: `->${field}()`, what: `reaches \`${r}()\` (knowledge of \`${id}\`)`, reaches: r },
                  ...t.via,
                ],
                t.dropped,
                t.nested,
                true,
                unknownArgs(t),
              ),
            );
        }
      }
      out = {
        callback: id,
        implementations: [],
        takes,
        ...(ck.irreversible
          ? { irreversible: { why: ck.irreversible, via: [{ function: `->${field}()`, what: ck.irreversible }] } }
          : {}),
        fromKnowledge: true,
      };
    }
    visiting.delete(id);
    callbackCache.set(cacheKey, out);
    return out;
  };

  return {
    get: (name: string, fromFile?: string) => resolveSummary(name, fromFile),
    callback: (opsStruct: string | undefined, field: string) => callbackSummary(opsStruct, field, new Set()),
    nestsInstances: (lock: string) => nestedClasses.has(lock),
  };
}

function splitCallback(id: string): [string | undefined, string] {
  const dot = id.lastIndexOf('.');
  const os = id.slice(0, dot);
  return [os === '?' ? undefined : os, id.slice(dot + 1)];
}

/** Re-exported for checks that want the mode words. */
export function modeWord(mode: LockMode): string {
  return mode === 'read' ? ' (read)' : mode === 'write' ? ' (write)' : '';
}

export type { ReachedCallback };
