/**
 * Values a function obtains while it holds a lock, and how it uses them: what
 * stale-after-relock and its use-after-unlock half share. A value is a local
 * pointer set by a lookup (a call's result), a field read, or an iterator's
 * cursor; a use is a dereference, a field store, or passing it on.
 */
import type { FunctionModel } from '../model/types';
import type { Confidence, Finding, RelatedLocation } from '../types';
import type { CheckContext } from './check';
import { fingerprint } from './check';
import { scenarioFor } from './scenario';
import { baseVariable, type FlowPaths, mentions, type EventRef } from './flow-paths';
import { withoutSpaces } from '../model/syntax-util';

export const TAKES_REFERENCE =
  /(?:^|_)(?:get|grab|hold|lock_obj|tryget)(?:_|$)|get_not_zero|^kref_get|^refcount_inc|^mmget|^get_/;
/** Taking the object out of the shared structure makes it this thread's own. */
export const UNLINKS = /(?:^|_)(?:del|remove|erase|unlink|detach)(?:_|$)|^list_del|^list_move|^hlist_del|^rb_erase/;
/** Calls that change the object a value was looked up in (the function swaps it out itself). */
export const MUTATES = /(?:^|_)(?:set|replace|swap|assign|store|clear|reset|insert|add|del|remove|erase)(?:_|$)/;
export const ITERATOR = /(?:^|_)for_each(?:_|$)/;

export interface Obtained {
  ref: EventRef;
  variable: string;
  /** `iopt->area_itree` lookup text or the field read (`st->current_slot`). */
  source: string;
  /** The call that produced it, for lookups. */
  lookup?: string;
  /** The object it was found in: the base of the field read, or of the lookup's first argument. */
  owner?: string;
}

/** Pointers stored into locals by a call or a field read. */
export function obtainedValues(fn: FunctionModel, paths: FlowPaths): Obtained[] {
  const out: Obtained[] = [];
  for (const r of paths.events()) {
    const ev = r.event;
    // A copy of another local (`pos = next`) is not obtained under a lock: only a reassignment.
    if (ev.kind === 'read' && ev.into && fn.types[ev.into] && !ev.local) {
      out.push({ ref: r, variable: ev.into, source: withoutSpaces(ev.source), owner: baseVariable(ev.source) });
    } else if (ev.kind === 'call' && ev.resultVar && fn.types[ev.resultVar]) {
      out.push({
        ref: r,
        variable: ev.resultVar,
        source: ev.text,
        lookup: ev.callee,
        owner: ev.args[0] === undefined ? undefined : baseVariable(ev.args[0]),
      });
    }
  }
  return out;
}

/** Uses of a variable, however the model recorded them. */
export function usesVariable(ev: EventRef['event'], v: string): boolean {
  switch (ev.kind) {
    case 'use':
      return ev.variable === v;
    case 'read':
      return baseVariable(ev.source) === v;
    case 'write':
      return baseVariable(ev.target) === v;
    case 'call':
    case 'callback':
      return ev.args.some((a) => mentions(a, v));
    default:
      return false;
  }
}

/** The variable gets a new value here (an assignment, an iterator macro). */
export function reassigns(ev: EventRef['event'], v: string): boolean {
  if (ev.kind === 'read') return ev.into === v;
  if (ev.kind === 'call')
    return ev.resultVar === v || (ITERATOR.test(ev.callee) && baseVariable(ev.args[0] ?? '') === v);
  return false;
}

/**
 * Whether the value `v` got at `from` can still be in `v` at `to`: some path
 * from one to the other gives `v` no new value (`entry = lookup(); if (entry)
 * return entry; entry = kzalloc(...); ... unlock` reaches the unlock only
 * with the allocation in `entry`).
 */
export function stillHolds(fn: FunctionModel, from: EventRef, to: EventRef, v: string): boolean {
  const reassignedIn = (b: number, start: number, end: number): boolean => {
    const evs = fn.blocks[b]?.events ?? [];
    for (let i = start; i < Math.min(end, evs.length); i++) if (reassigns(evs[i], v)) return true;
    return false;
  };
  if (from.block === to.block && from.index < to.index) return !reassignedIn(from.block, from.index + 1, to.index);
  if (reassignedIn(from.block, from.index + 1, Infinity)) return false;
  const seen = new Set<number>();
  const work = (fn.blocks[from.block]?.succ ?? []).map((e) => e.to);
  while (work.length > 0) {
    const b = work.pop()!;
    if (seen.has(b)) continue;
    seen.add(b);
    if (b === to.block && !reassignedIn(b, 0, to.index)) return true;
    if (reassignedIn(b, 0, Infinity)) continue;
    for (const e of fn.blocks[b]?.succ ?? []) work.push(e.to);
  }
  return false;
}

/** The variable gets a new value here, or is compared with / re-read from its source. */
export function revalidates(ev: EventRef['event'], o: Obtained): boolean {
  if (reassigns(ev, o.variable)) return true;
  switch (ev.kind) {
    case 'read':
      return !o.lookup && withoutSpaces(ev.source) === o.source;
    case 'call':
      return o.lookup !== undefined && ev.callee === o.lookup;
    case 'use':
      return !o.lookup && withoutSpaces(ev.text).includes(o.source);
    default:
      return false;
  }
}

/** Whether `lock` is held when `at` runs: taken before it, or held on entry (asserted, __must_hold, or released without being taken). */
export function heldAt(ctx: CheckContext, fn: FunctionModel, paths: FlowPaths, lockId: string, at: EventRef): boolean {
  const held = ctx.held(fn);
  if (held.mayBefore(at.block, at.index).some((h) => h.lock.id === lockId)) return true;
  if (fn.mustHold.some((l) => l.id === lockId)) return true;
  const events = paths.events();
  const acquires = events.filter((r) => r.event.kind === 'acquire' && r.event.lock.id === lockId);
  if (acquires.some((a) => paths.before(a, at))) return false;
  return events.some(
    (r) =>
      (r.event.kind === 'assert' && r.event.lock.id === lockId && r.event.expect !== 'not-held') ||
      (r.event.kind === 'release' && r.event.lock.id === lockId && !acquires.some((a) => paths.before(a, r))),
  );
}

/**
 * A stale-after-relock finding at the use of `o` (both halves): fingerprinted by what
 * the value is (the lookup, or the field it was read from), not what the local is called.
 */
export function staleFinding(
  fn: FunctionModel,
  o: Obtained,
  lock: string,
  use: EventRef,
  confidence: Confidence,
  message: string,
  related: RelatedLocation[],
  extra: string[] = [],
): Finding {
  const what = o.lookup ?? (o.ref.event.kind === 'read' ? (o.ref.event.field ?? o.source) : o.source);
  return {
    ruleId: 'stale-after-relock',
    severity: 'warning',
    confidence,
    message,
    file: fn.file,
    line: use.event.line,
    column: use.event.column,
    function: fn.name,
    fingerprint: fingerprint('stale-after-relock', fn.name, [lock, what, ...extra]),
    related,
    scenario: scenarioFor('stale-after-relock', { file: fn.file, function: fn.name }),
  };
}

/** List accessors: `list_first_entry(head, type, member)` and the like, the entry's link member last. */
const LIST_ENTRY = /^list_(?:first|last|next|prev)?_?entry(?:_or_null)?$/;

/** Calls that take an entry off a list. */
const UNLINK = /^(?:list_del|list_move|hlist_del)/;
const UNLINK_FIRST = new Set(['l'.charCodeAt(0), 'h'.charCodeAt(0)]);

const unlinkSites = new WeakMap<object, Map<string, Set<string>>>();

/** The last member of `&x->a.node` (`node`), or undefined. */
function linkMember(arg: string): string | undefined {
  const at = Math.max(arg.lastIndexOf('->') + 1, arg.lastIndexOf('.'));
  const member = at > 0 ? arg.slice(at + 1) : '';
  return /^\w+$/.test(member) ? member : undefined;
}

/** Link member name → the functions in view that take an entry off a list by it (`list_del_init(&x->member)`). */
function unlinkersByMember(ctx: CheckContext): Map<string, Set<string>> {
  let out = unlinkSites.get(ctx.files);
  if (out) return out;
  out = new Map();
  for (const f of ctx.files) {
    for (const fn of f.functions) {
      for (const b of fn.blocks) {
        for (const ev of b.events) {
          // First letter before the pattern: this loop visits every call in view once per analysis.
          if (ev.kind !== 'call' || !UNLINK_FIRST.has(ev.callee.charCodeAt(0)) || !UNLINK.test(ev.callee)) continue;
          const member = linkMember(withoutSpaces(ev.args[0] ?? ''));
          if (!member) continue;
          const set = out.get(member) ?? new Set<string>();
          set.add(`${fn.file}:${fn.name}`);
          out.set(member, set);
        }
      }
    }
  }
  unlinkSites.set(ctx.files, out);
  return out;
}

/**
 * An entry taken from a list (`list_first_entry(&q->pending, struct work, node)`)
 * by the only function in view that ever takes entries off that list (by its
 * link member): nobody else can unlink it, so nobody can free it while the
 * lock is dropped (a freed entry still linked would corrupt the list). The
 * deferred-work pattern: one worker drains a list others only add to.
 */
export function soleConsumer(ctx: CheckContext, fn: FunctionModel, o: Obtained): boolean {
  const ev = o.ref.event;
  if (ev.kind !== 'call' || !LIST_ENTRY.test(ev.callee) || ev.args.length < 3) return false;
  const member = withoutSpaces(ev.args[ev.args.length - 1]);
  if (!/^\w+$/.test(member)) return false;
  const unlinkers = unlinkersByMember(ctx).get(member);
  return unlinkers !== undefined && unlinkers.size === 1 && unlinkers.has(`${fn.file}:${fn.name}`);
}
