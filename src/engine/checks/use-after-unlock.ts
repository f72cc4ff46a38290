/**
 * The use-after-unlock half of stale-after-relock: a pointer obtained under a
 * lock (a lookup's result, a field read, an iterator's cursor) and
 * dereferenced or passed on after that lock is released, with no relock
 * before the use (a use after a relock is the other half's, not reported
 * twice).
 *
 * What keeps it quiet, read from the function's own logic:
 * - a reference taken under the lock (`kref_get`, `refcount_inc`, a `*_get`
 *   helper, `iommufd_lock_obj`), or a lookup that returns one;
 * - the value claimed under the lock: unlinked (`list_del`, `xa_erase`), the
 *   field it was read from overwritten, or a pointer field of it or of its
 *   owner set to NULL (others see it taken and back off). A flag
 *   (`area->prevent_access = true`) is no claim: the object stays where a
 *   concurrent path finds and frees it;
 * - only pointers are followed: a scalar copied under the lock is the fix.
 *
 * Confidence: high when the knowledge says the value is valid only under the
 * lock (iommufd's area iterators under `iova_rwsem`), or when a function in
 * view frees an object of the value's type with the lock held; otherwise
 * medium for a lookup in the lock's own object, low for the rest (the object
 * may be kept alive by means the function does not show).
 */
import type { FunctionModel, ReleaseEvent } from '../model/types';
import type { Confidence, Finding, RelatedLocation } from '../types';
import type { CheckContext } from './check';
import { lowerConfidence } from './check';
import { baseVariable, type EventRef, type FlowPaths, flowPathsOf, mentions } from './flow-paths';
import {
  heldAt,
  type Obtained,
  reassigns,
  soleConsumer,
  stillHolds,
  TAKES_REFERENCE,
  UNLINKS,
  staleFinding,
} from './held-values';
import { iteratorStep } from './iterators';
import { fieldStore } from './rollback-steps';
import { withoutSpaces } from '../model/syntax-util';

/** A value and, when the knowledge says so, the lock it is valid under only. */
type Value = Obtained & { validUnder?: string; iterator?: boolean };

/** Calls that only test or print a pointer: passing the pointer itself to them is no dereference. */
const POINTER_TESTS =
  /^(?:IS_ERR|IS_ERR_OR_NULL|PTR_ERR|PTR_ERR_OR_ZERO|ERR_CAST|WARN_ON|WARN_ON_ONCE|WARN|WARN_ONCE|BUG_ON|likely|unlikely|(?:pr|dev|netdev)_(?:err|warn|info|dbg|notice|crit)\w*)$/;
/** Lookups that hand the object over: a reference taken, or the object taken out of the structure. */
const HANDS_OVER = /(?:^|_)(?:pop|dequeue|take|steal|acquire)(?:_|$)/;
/** Allocators: what they return is new and the thread's own, whatever lock was held around the call. */
const ALLOCATES =
  /^(?:k[mzv]?alloc|kcalloc|kvzalloc|kvmalloc|kvcalloc|kmalloc_array|kmem_cache_z?alloc|vz?alloc|memdup_user|vmemdup_user|kstrdup|kmemdup|devm_kz?alloc)(?:_\w+)?$|(?:^|_)(?:alloc|create|new)$/;
/**
 * Verb-first constructors (`create_sniffer_rule()`, `_create_flow_rule()`,
 * `alloc_ctx_locked()`): new objects too, unless the name also says it may
 * find an existing one (`find_or_create_*`, `get_or_alloc_*`).
 */
const CREATES = /(?:^|_)(?:alloc|create|new)_/;
const MAY_FIND = /(?:^|_)(?:find|lookup|get)(?:_|$)/;
const creates = (name: string): boolean => ALLOCATES.test(name) || (CREATES.test(name) && !MAY_FIND.test(name));
/** A `*for_each*` macro given a plain local: it assigns the local (`list_for_each_entry_safe(pos, next, ...)`), it does not use it. */
const FOR_EACH = /for_each/;
/** Calls that free the object they are given. */
const FREES = /^(?:kfree|kvfree|vfree|kfree_rcu|kfree_sensitive|kmem_cache_free)$|_(?:free|destroy)$/;

/** The values to follow: lookups and field reads, the knowledge's validity for lookups, and iterator cursors. */
function valuesOf(ctx: CheckContext, fn: FunctionModel, paths: FlowPaths, obtained: readonly Obtained[]): Value[] {
  const out: Value[] = [];
  for (const o of obtained) {
    const ev = o.ref.event;
    const step = ev.kind === 'call' ? iteratorStep(ctx.knowledge, ev) : undefined;
    out.push(step?.validUnder ? { ...o, validUnder: step.validUnder } : o);
  }
  for (const r of paths.events()) {
    const ev = r.event;
    if (ev.kind !== 'call' || ev.resultVar) continue;
    const step = iteratorStep(ctx.knowledge, ev);
    if (!step) continue;
    for (const v of step.cursors) {
      if (!fn.types[v]) continue;
      out.push({
        ref: r,
        variable: v,
        source: ev.text,
        lookup: ev.callee,
        iterator: true,
        ...(step.validUnder ? { validUnder: step.validUnder } : {}),
      });
    }
  }
  return out;
}

const isNull = (value: string): boolean => /^(?:NULL|0)$/.test(value.trim());
/** A count of the object's users raised by hand (`temp->users++`, `set->device_count += 1`): a reference in all but name. */
const USER_COUNT = /(?:^|_)(?:users?|refs?|refcnt|refcount|count|usage|kref)$/;
const increments = (value: string): boolean => /\+\+|\+=/.test(value);

/** The function made the value its own under the lock: a reference, an unlink, a claim. */
function owned(fn: FunctionModel, o: Value, window: readonly EventRef[]): boolean {
  if (
    o.lookup &&
    !o.iterator &&
    (TAKES_REFERENCE.test(o.lookup) || UNLINKS.test(o.lookup) || HANDS_OVER.test(o.lookup) || creates(o.lookup))
  )
    return true;
  const isValue = (a: string) => baseVariable(a) === o.variable;
  for (const r of window) {
    const ev = r.event;
    if (ev.kind === 'call' && (TAKES_REFERENCE.test(ev.callee) || UNLINKS.test(ev.callee)) && ev.args.some(isValue))
      return true;
    if (
      ev.kind === 'call' &&
      o.lookup &&
      o.owner &&
      UNLINKS.test(ev.callee) &&
      ev.args.some((a) => baseVariable(a) === o.owner)
    )
      return true;
    const store = fieldStore(fn, ev);
    if (!store || r === o.ref) continue;
    // The field it came from now says something else: nobody else finds it there.
    if (!o.lookup && withoutSpaces(store.target) === o.source) return true;
    const base = baseVariable(store.target);
    const field = store.target.replace(/^.*(?:->|\.)/, '').trim();
    if (base === o.variable && USER_COUNT.test(field) && increments(store.value)) return true;
    if ((base === o.variable || (o.owner !== undefined && base === o.owner)) && isNull(store.value)) return true;
  }
  return false;
}

/** A dereference of `v`, a store through it, or `v` passed on to a call. */
function dereferences(ev: EventRef['event'], v: string): boolean {
  const through = new RegExp(`(?:^|[^\\w.>])${v}\\s*(?:->|\\.|\\[)|\\*\\s*${v}(?:[^\\w]|$)`);
  switch (ev.kind) {
    case 'use':
      return through.test(ev.text);
    case 'read':
      return !ev.local && baseVariable(ev.source) === v && through.test(ev.source);
    case 'write':
      return baseVariable(ev.target) === v && through.test(ev.target);
    case 'call':
      if (POINTER_TESTS.test(ev.callee)) return ev.args.some((a) => through.test(a));
      return ev.args.some((a) => mentions(a, v));
    case 'callback':
      return ev.args.some((a) => mentions(a, v));
    case 'return':
      // `return e->cookie` reads through it; returning the pointer itself hands the
      // lifetime question to the caller (a lookup helper's contract), so it is not counted.
      return through.test(ev.value);
    default:
      return false;
  }
}

/** The first use of the value after `rel` on a path with neither the lock retaken nor the value replaced. */
function firstUnlockedUse(
  ctx: CheckContext,
  fn: FunctionModel,
  paths: FlowPaths,
  o: Value,
  rel: EventRef<ReleaseEvent>,
): EventRef | undefined {
  const lockId = rel.event.lock.id;
  const events = paths.events();
  const held = ctx.held(fn);
  const after = events
    .filter((r) => paths.before(rel, r))
    .sort((a, b) => a.event.line - b.event.line || a.event.column - b.event.column);
  const relocks = events.filter(
    (r) => r.event.kind === 'acquire' && r.event.lock.id === lockId && paths.before(rel, r),
  );
  for (const r of after) {
    if (reassigns(r.event, o.variable)) return undefined;
    if (r.event.kind === 'call' && FOR_EACH.test(r.event.callee) && r.event.args.some((a) => a.trim() === o.variable))
      return undefined;
    if (!dereferences(r.event, o.variable)) continue;
    // Retaken before this use: stale-after-relock's case.
    if (relocks.some((a) => paths.before(a, r))) continue;
    if (paths.between(rel, r).some((x) => reassigns(x.event, o.variable))) continue;
    if (held.before(r.block, r.index).some((h) => h.lock.id === lockId)) continue;
    return r;
  }
  return undefined;
}

/**
 * Calls that stop the work, thread, timer or interrupt handler that may be
 * using an object: a teardown that makes one before its frees does not race
 * those users.
 */
const QUIESCES =
  /^(?:cancel_(?:delayed_)?work_sync|flush_(?:delayed_)?work|flush_workqueue|drain_workqueue|destroy_workqueue|kthread_stop|del_timer_sync|timer_delete_sync|timer_shutdown_sync|tasklet_kill|synchronize_irq|free_irq)$/;

type FreedUnder = Map<string, Set<string>>;
const freedCache = new WeakMap<object, FreedUnder>();

/** Struct type → the locks held where a function in view frees an object of that type (computed once per analysis). */
function freedUnder(ctx: CheckContext): FreedUnder {
  let map = freedCache.get(ctx.summaries);
  if (map) return map;
  map = new Map();
  for (const file of ctx.files) {
    for (const fn of file.functions) {
      for (const b of fn.blocks) {
        b.events.forEach((ev, index) => {
          if (ev.kind !== 'call' || !FREES.test(ev.callee)) return;
          const arg = ev.args[0]?.trim();
          const type = arg !== undefined && /^[A-Za-z_]\w*$/.test(arg) ? fn.types[arg] : undefined;
          if (!type) return;
          const held = ctx.held(fn);
          if (!held.reachable(b.id)) return;
          // A teardown that stopped the users first (the driver's remove cancelling its work).
          if (stopsUsersBefore(fn, { block: b.id, index, event: ev })) return;
          for (const h of held.before(b.id, index)) {
            const set = map!.get(type) ?? new Set<string>();
            set.add(h.lock.id);
            map!.set(type, set);
          }
        });
      }
    }
  }
  freedCache.set(ctx.summaries, map);
  return map;
}

/** A call that quiesces the object's users (QUIESCES) comes before `at` in its function. */
function stopsUsersBefore(fn: FunctionModel, at: EventRef): boolean {
  const paths = flowPathsOf(fn);
  return paths.events().some((r) => r.event.kind === 'call' && QUIESCES.test(r.event.callee) && paths.before(r, at));
}

function confidenceOf(
  ctx: CheckContext,
  fn: FunctionModel,
  paths: FlowPaths,
  o: Value,
  rel: EventRef<ReleaseEvent>,
  use: EventRef,
): { confidence: Confidence; why: string } {
  const lockId = rel.event.lock.id;
  const type = fn.types[o.variable];
  let confidence: Confidence;
  let why = '';
  const lockBase = baseVariable(rel.event.lock.expr);
  const related =
    !lockId.startsWith('file-scope:') &&
    lockBase !== undefined &&
    (o.owner === lockBase || mentions(o.source, lockBase));
  const held = ctx.held(fn);
  const atUse = held.before(use.block, use.index);
  // Another lock held from the lookup to the use may be what protects the value.
  const otherLock = held
    .mayBefore(o.ref.block, o.ref.index)
    .some((h) => h.lock.id !== lockId && atUse.some((u) => u.lock.id === h.lock.id));
  if (o.validUnder === lockId) {
    confidence = 'high';
    why = ', valid only while it is held';
  } else if (related && !otherLock && type && freedUnder(ctx).get(type)?.has(lockId)) {
    // A function in view frees such objects with this (per-object) lock held: the
    // window is real, but what else keeps this one alive (a state, a lock of the
    // caller's) may not be in view, so not high.
    confidence = 'medium';
    why = `; \`struct ${type}\` objects are freed with it held`;
  } else {
    // A lookup alone does not say the object can go away once the lock is dropped
    // (allocations, conversions, objects freed only under another lock look the same).
    confidence = 'low';
  }
  if (fn.status === 'partial') confidence = lowerConfidence(confidence);
  if (paths.onCycleAvoiding(use.block, o.ref.block)) confidence = 'low';
  return { confidence, why };
}

function finding(
  ctx: CheckContext,
  fn: FunctionModel,
  paths: FlowPaths,
  o: Value,
  rel: EventRef<ReleaseEvent>,
  use: EventRef,
): Finding {
  const lock = rel.event.lock.id;
  const { confidence, why } = confidenceOf(ctx, fn, paths, o, rel, use);
  const how = o.iterator
    ? `moved by \`${o.lookup}()\``
    : o.lookup
      ? `found by \`${o.lookup}()\``
      : `read from \`${o.source}\``;
  const message =
    `\`${o.variable}\` is ${how} under \`${lock}\` (line ${o.ref.event.line}${why}); the lock is dropped at line ${rel.event.line} ` +
    `and \`${o.variable}\` is used at line ${use.event.line} without it: it may have been freed or changed meanwhile.`;
  const related: RelatedLocation[] = [
    { file: fn.file, line: o.ref.event.line, message: `\`${o.variable}\` obtained under \`${lock}\``, role: 'read' },
    { file: fn.file, line: rel.event.line, message: `\`${lock}\` dropped`, role: 'release', lock },
    { file: fn.file, line: use.event.line, message: `\`${o.variable}\` used without \`${lock}\``, role: 'use' },
  ];
  return staleFinding(fn, o, lock, use, confidence, message, related, ['after-unlock']);
}

const RANK: Record<Confidence, number> = { low: 0, medium: 1, high: 2 };

/** Findings for values used after their lock is released and before any relock. */
export function usesAfterUnlock(
  ctx: CheckContext,
  fn: FunctionModel,
  paths: FlowPaths,
  obtained: readonly Obtained[],
  releases: readonly EventRef<ReleaseEvent>[],
  /** `variable|lock` pairs the relock half already reports (not reported twice). */
  relocked: ReadonlySet<string>,
): Finding[] {
  const events = paths.events();
  const out: Finding[] = [];
  for (const o of valuesOf(ctx, fn, paths, obtained)) {
    let best: Finding | undefined;
    for (const rel of releases) {
      const lockId = rel.event.lock.id;
      if (o.validUnder !== undefined && o.validUnder !== lockId) continue;
      if (relocked.has(`${o.variable}|${lockId}`)) continue;
      if (!paths.before(o.ref, rel) || !heldAt(ctx, fn, paths, lockId, o.ref)) continue;
      // Every way to the release gave the variable another value first: not the one obtained.
      if (!stillHolds(fn, o.ref, rel, o.variable)) continue;
      // The object whose lock it is, or a release that is not the end of the hold it was obtained under.
      if (baseVariable(rel.event.lock.expr) === o.variable) continue;
      if (
        events.some(
          (r) =>
            r.event.kind === 'release' &&
            r.event.lock.id === lockId &&
            r !== rel &&
            paths.before(o.ref, r) &&
            paths.before(r, rel),
        )
      )
        continue;
      if (owned(fn, o, paths.between(o.ref, rel)) || soleConsumer(ctx, fn, o)) continue;
      const use = firstUnlockedUse(ctx, fn, paths, o, rel);
      if (!use) continue;
      const f = finding(ctx, fn, paths, o, rel, use);
      if (!best || RANK[f.confidence] > RANK[best.confidence]) best = f;
    }
    if (best) out.push(best);
  }
  return out;
}
