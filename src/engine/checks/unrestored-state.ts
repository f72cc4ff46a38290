/**
 * unrestored-state: a field of a shared object changed before a step that can
 * fail, and not put back on that step's error path; or changed by a call
 * (knowledge: `iopt_add_access` stores the new slot in the access) while the
 * function still needs the old value (v7: the later remove from the old IOAS
 * used the new slot).
 *
 * Only fields whose old value matters are considered, so that filling in an
 * object the caller will throw away on failure stays quiet: fields the
 * knowledge base says a lock protects, and fields the function itself saved
 * before changing them (a swap it means to be able to undo).
 */
import { functionKnowledge, protectingLock } from '../knowledge/lookup';
import type { CallEvent, FunctionModel } from '../model/types';
import type { Finding, RelatedLocation } from '../types';
import type { Check, CheckContext } from './check';
import { fingerprint, lowerConfidence, minConfidence } from './check';
import { baseVariable, type FlowPaths, flowPathsOf, mentions, type EventRef } from './flow-paths';
import {
  cleanupBlocks,
  fallibleSteps,
  fieldStore,
  isFallibleCall,
  restoreSteps,
  savedValues,
  type FallibleStep,
} from './rollback-steps';
import { outParamWrites } from './out-params';
import { reassigns } from './held-values';
import { scenarioFor } from './scenario';
import { withoutSpaces } from '../model/syntax-util';

/** Calls whose result is an object nobody else can see yet. */
const FRESH_OBJECT = /alloc|^k[mzv]?z?alloc|^kcalloc|^kmemdup|_create$|_new$/;

/**
 * Calls that only print their arguments (printk and the per-subsystem
 * logging helpers): an old value shown in a message is not kept to be put back.
 */
const PRINTS =
  /^(?:printk|pr_[a-z]+|(?:dev|netdev|pci|drm|ibdev|wiphy)_(?:emerg|alert|crit|err|warn|notice|info|dbg)(?:_ratelimited|_once)?)$/;

/** The value is, or assigns, the result of an allocating call (`kzalloc(...)`, `buf = kvmalloc(...)`). */
function allocatesIn(value: string): boolean {
  const call = /(?:^|=)\s*([A-Za-z_]\w*)\s*\(/.exec(value.trim());
  return call !== null && FRESH_OBJECT.test(call[1]);
}

/** `v` is assigned in `value` (`f = v = 8` stores 8 in both: v's old value goes nowhere). */
function assignedIn(value: string, v: string): boolean {
  return new RegExp(`(?:^|[^\\w.>])${v}\\s*=(?!=)`).test(value);
}

/** A field change: an assignment in this function, or one a callee makes (from knowledge). */
interface Change {
  ref: EventRef;
  /** `acc->ioas` */
  target: string;
  /** `iommufd_access.ioas` when known. */
  field?: string;
  /** The assigned text, or undefined when a callee writes it. */
  value?: string;
  /** The callee that writes it. */
  byCall?: string;
  /** The callee that stores into it through an out-parameter (`xa_alloc(&xa, &obj->id, ...)`). */
  viaOut?: string;
}

/**
 * An mmap handler's VMA (`foo_mmap(..., struct vm_area_struct *vma)`): the
 * core's new mapping, not in the process's tree until the handler returns 0,
 * and freed by the core when it fails. Filling it in and then failing leaves
 * nothing behind (`vma->vm_pgoff = 0` after reading a block id out of it).
 */
function mmapHandlerVma(fn: FunctionModel, base: string): boolean {
  return fn.types[base] === 'vm_area_struct' && (fn.params ?? []).includes(base) && /(?:^|_)mmap$/.test(fn.name);
}

/**
 * A local stepped through a list (`cur = cur->next`): what it read from the
 * field is where a walk starts, not an old value kept to put back (moving
 * nodes from one list to another reads the head into the cursor first).
 */
function isCursor(paths: FlowPaths, v: string): boolean {
  return paths
    .events()
    .some((r) => r.event.kind === 'read' && r.event.into === v && baseVariable(r.event.source) === v);
}

/** Locals holding objects this function allocated (not shared until published). */
function freshObjects(paths: FlowPaths): Set<string> {
  const fresh = new Set<string>();
  for (const r of paths.events()) {
    const ev = r.event;
    if (ev.kind === 'call' && ev.resultVar && FRESH_OBJECT.test(ev.callee)) fresh.add(ev.resultVar);
  }
  return fresh;
}

function changesOf(ctx: CheckContext, fn: FunctionModel, paths: FlowPaths): Change[] {
  const out: Change[] = [];
  const fresh = freshObjects(paths);
  for (const r of paths.events()) {
    const ev = r.event;
    const store = fieldStore(fn, ev);
    if (store) {
      const base = baseVariable(store.target);
      if (!base || !/->|\./.test(store.target) || fresh.has(base) || mmapHandlerVma(fn, base)) continue;
      // The current task's own fields (`current->x`, `me->il_weight` with `me` a task_struct):
      // task-local state no other thread reads half-done.
      if (base === 'current' || fn.types[base] === 'task_struct') continue;
      // `tmp.data = ...` on a struct declared in the function: a copy on the stack, not shared.
      if (new RegExp(`^${base}\\s*\\.`).test(store.target) && fn.types[base] !== undefined) continue;
      // A fresh allocation put in the field (`data->wbuf = buf = kzalloc(...)`, made on first use): a
      // buffer kept for later, not a setting to put back. Whether an old one is lost is missing-undo's
      // question (an owning field overwritten).
      if (allocatesIn(store.value)) continue;
      out.push({ ref: r, target: withoutSpaces(store.target), field: store.field, value: store.value.trim() });
    } else if (ev.kind === 'call') {
      for (const w of outParamWrites(ctx, ev, fn.file)) {
        const base = baseVariable(w.target);
        if (!base || fresh.has(base)) continue;
        if (new RegExp(`^${base}\\s*\\.`).test(w.target) && fn.types[base] !== undefined) continue;
        out.push({
          ref: r,
          target: withoutSpaces(w.target),
          field: w.field,
          value: `what \`${ev.callee}()\` stored`,
          viaOut: ev.callee,
        });
      }
      for (const field of functionKnowledge(ctx.knowledge, ev.callee)?.writes ?? []) {
        const [struct, member] = field.split('.');
        const arg = ev.args.map((a) => baseVariable(a)).find((b) => b !== undefined && fn.types[b] === struct);
        if (arg) out.push({ ref: r, target: `${arg}->${member}`, field, byCall: ev.callee });
      }
    }
  }
  return out;
}

/** How a later call reads the changed field: explicitly in an argument, or implicitly (knowledge). */
function readsTarget(
  ctx: CheckContext,
  ev: EventRef['event'],
  target: string,
  field?: string,
): 'explicit' | 'implicit' | undefined {
  if (ev.kind === 'read') return withoutSpaces(ev.source) === target ? 'explicit' : undefined;
  if (ev.kind !== 'call') return undefined;
  if (ev.args.some((a) => withoutSpaces(a).includes(target))) return 'explicit';
  const base = target.split('->')[0];
  const implicit = functionKnowledge(ctx.knowledge, ev.callee)?.implicitReads ?? [];
  if (
    field &&
    implicit.some((r) => r.field === field && r.whenArgs === ev.args.length) &&
    ev.args.some((a) => baseVariable(a) === base)
  )
    return 'implicit';
  return undefined;
}

function writesTarget(fn: FunctionModel, ev: EventRef['event'], target: string): boolean {
  const store = fieldStore(fn, ev);
  return store !== undefined && withoutSpaces(store.target) === target;
}

/** Shape A: changed in this function, a fallible step, an error path that does not put it back. */
function unrestoredOnError(
  ctx: CheckContext,
  fn: FunctionModel,
  paths: FlowPaths,
  c: Change,
  fallibles: FallibleStep[],
  changes: Change[],
): Finding | undefined {
  if (c.value === undefined) return undefined;
  const next = fallibles
    .filter((f) => paths.before(c.ref, f.ref))
    .sort((a, b) => a.ref.event.line - b.ref.event.line)[0];
  if (!next || next.errorReturns.length === 0) return undefined;
  const saved = savedValues(paths, c.ref);
  // Saved to be undone, not merely read as an input (`max = cmd->num` used as a bound):
  // an object pointer kept aside, or an old value the function hands on (a call, its
  // return value) or stores (the new value computed from it, or written back). Printing
  // it, or assigning it together with the field (`f = v = max`), keeps nothing: that is a
  // value read from the object and corrected (a device's descriptor clamped), not a backup.
  // A local given another value before the failing step no longer holds the old one:
  // it was an input (`v = dev->used; request(v); ++dev->used; v = next(v);`), not a backup.
  const overwritten = (v: string) => paths.between(c.ref, next.ref).some((r) => reassigns(r.event, v));
  const kept = [...saved.entries()]
    .filter(
      ([v, from]) => (from === c.field || withoutSpaces(from) === c.target) && !overwritten(v) && !isCursor(paths, v),
    )
    .map(([v]) => v);
  const wasSaved = kept.some(
    (v) =>
      fn.types[v] !== undefined ||
      paths
        .events()
        .some(
          (r) =>
            (r.event.kind === 'call' && !PRINTS.test(r.event.callee) && r.event.args.some((a) => mentions(a, v))) ||
            (r.event.kind === 'return' && mentions(r.event.value, v)) ||
            (fieldStore(fn, r.event) !== undefined &&
              mentions(fieldStore(fn, r.event)!.value, v) &&
              !assignedIn(fieldStore(fn, r.event)!.value, v)),
        ),
  );
  const guarded = c.field !== undefined && protectingLock(ctx.knowledge, c.field) !== undefined;
  if (!wasSaved && !guarded) return undefined;
  // The value written is the saved one: this is itself a restore.
  if (saved.has(c.value)) return undefined;
  // Changed again before the fallible step: that later change is the one to judge.
  if (
    changes.some(
      (o) =>
        o !== c &&
        o.target === c.target &&
        o.value !== undefined &&
        paths.before(c.ref, o.ref) &&
        paths.before(o.ref, next.ref),
    )
  )
    return undefined;
  if (next.region.some((r) => writesTarget(fn, r.event, c.target))) return undefined;
  if (restoreSteps(ctx, fn, paths, next.region, next.ref).some((s) => s.ref.event.kind === 'call')) return undefined;

  const f = next.ref.event;
  const ret = next.errorReturns[0].event;
  const w = { target: c.target, line: c.ref.event.line, column: c.ref.event.column };
  const message = c.viaOut
    ? `\`${c.viaOut}()\` stores into \`${w.target.trim()}\` (line ${w.line}) before \`${f.callee}()\` can fail (line ${f.line}); ` +
      `the error path returns at line ${ret.line} without restoring it, so it keeps ${c.value}.`
    : `\`${w.target.trim()}\` is set to \`${c.value}\` (line ${w.line}) before \`${f.callee}()\` can fail (line ${f.line}); ` +
      `the error path returns at line ${ret.line} without restoring it, so it stays \`${c.value}\`.`;
  const related: RelatedLocation[] = [
    {
      file: fn.file,
      line: w.line,
      message: c.viaOut
        ? `\`${c.viaOut}()\` writes \`${w.target.trim()}\` through its out-parameter`
        : `\`${w.target.trim()}\` is changed here`,
      role: 'write',
    },
    { file: fn.file, line: f.line, message: `\`${f.callee}()\` can fail here`, role: 'fallible' },
    ...next.errorReturns.map((r) => ({
      file: fn.file,
      line: r.event.line,
      message: `returns without restoring \`${w.target.trim()}\``,
      role: 'return' as const,
    })),
  ];
  let confidence: Finding['confidence'] = guarded && next.certain ? 'high' : 'medium';
  if (fn.status === 'partial') confidence = lowerConfidence(confidence);
  // Only the callee's body says it can fail: believable for a field the knowledge says a
  // lock protects (shared for sure) when the failure is returned as an error (medium at
  // most), a guess otherwise.
  if (!next.known) confidence = guarded && next.certain ? minConfidence(confidence, 'medium') : 'low';
  return finding(fn, w.line, w.column, message, related, confidence, [
    c.field ?? c.target,
    f.callee,
    ...(c.viaOut ? [c.viaOut] : []),
  ]);
}

/** Shape B: a callee overwrites the field, and the old value is used afterwards without having been saved. */
function overwrittenThenUsed(ctx: CheckContext, fn: FunctionModel, paths: FlowPaths, c: Change): Finding | undefined {
  if (!c.byCall) return undefined;
  const saved = savedValues(paths, c.ref);
  for (const r of paths.events()) {
    if (!paths.before(c.ref, r) || r.event.kind !== 'call') continue;
    const use = r.event as CallEvent;
    const how = readsTarget(ctx, use, c.target, c.field);
    if (!how) continue;
    // The use is about the object the function had before the change: it wants the old value.
    const old = [...saved.keys()].find((v) =>
      use.args.some((a) => !withoutSpaces(a).includes(c.target) && mentions(a, v)),
    );
    if (!old) continue;
    if (paths.between(c.ref, r).some((x) => writesTarget(fn, x.event, c.target))) continue;
    const call = c.ref.event as CallEvent;
    const uses = how === 'explicit' ? `uses \`${c.target}\`` : `reads \`${c.target}\` itself`;
    const message =
      `\`${call.callee}()\` overwrites \`${c.target}\` (line ${call.line}) and nothing saves or restores the old value; ` +
      `\`${use.callee}()\` at line ${use.line} then ${uses} with the old \`${old}\`, so it gets the new value instead of the one that belonged to \`${old}\`.`;
    const related: RelatedLocation[] = [
      { file: fn.file, line: call.line, message: `\`${call.callee}()\` overwrites \`${c.target}\``, role: 'write' },
      {
        file: fn.file,
        line: use.line,
        message: `\`${use.callee}()\` ${how === 'explicit' ? 'uses' : 'reads'} the overwritten \`${c.target}\` for \`${old}\``,
        role: 'use',
      },
    ];
    const known = functionKnowledge(ctx.knowledge, use.callee);
    let confidence: Finding['confidence'] = known?.irreversible || isFallibleCall(ctx, use) ? 'high' : 'medium';
    if (fn.status === 'partial') confidence = lowerConfidence(confidence);
    return finding(fn, call.line, call.column, message, related, confidence, [
      c.field ?? c.target,
      call.callee,
      use.callee,
    ]);
  }
  return undefined;
}

function finding(
  fn: FunctionModel,
  line: number,
  column: number,
  message: string,
  related: RelatedLocation[],
  confidence: Finding['confidence'],
  involved: string[],
): Finding {
  return {
    ruleId: 'unrestored-state',
    severity: 'warning',
    confidence,
    message,
    file: fn.file,
    line,
    column,
    function: fn.name,
    fingerprint: fingerprint('unrestored-state', fn.name, involved),
    related,
    scenario: scenarioFor('unrestored-state', { file: fn.file, function: fn.name }),
  };
}

export function checkFunction(ctx: CheckContext, fn: FunctionModel): Finding[] {
  const paths = flowPathsOf(fn);
  const fallibles = fallibleSteps(ctx, fn, paths);
  const cleanup = cleanupBlocks(fallibles);
  const changes = changesOf(ctx, fn, paths).filter((c) => !cleanup.has(c.ref.block));
  const out: Finding[] = [];
  for (const c of changes) {
    const f = unrestoredOnError(ctx, fn, paths, c, fallibles, changes) ?? overwrittenThenUsed(ctx, fn, paths, c);
    if (f && !out.some((x) => x.fingerprint === f.fingerprint)) out.push(f);
  }
  return out;
}

export const unrestoredState: Check = {
  id: 'unrestored-state',
  run(ctx: CheckContext): Finding[] {
    const out: Finding[] = [];
    for (const file of ctx.files) {
      if (!ctx.reports(file.file)) continue;
      for (const fn of file.functions) out.push(...checkFunction(ctx, fn));
    }
    return out;
  },
};
