/**
 * The other half of the rollback questions: which calls are fallible steps
 * (their error is checked and the error path does something about it), what
 * on an error path counts as an error return, and what counts as an attempt
 * to restore the previous state.
 */
import { functionKnowledge } from '../knowledge/lookup';
import type { CallEvent, Event, FunctionModel, ReturnEvent } from '../model/types';
import type { CheckContext } from './check';
import { baseVariable, mentions } from './flow-paths';
import type { EventRef, FlowPaths } from './flow-paths';

/** A call whose failure the function checks: known fallible, with an error edge in the model. */
export interface FallibleStep {
  ref: EventRef<CallEvent>;
  /** Everything that runs when it fails. */
  region: EventRef[];
  /** The blocks of `region`. */
  blocks: Set<number>;
  /** Returns on that path that hand an error to the caller. */
  errorReturns: EventRef<ReturnEvent>[];
  /** True when every such return is certainly an error (the model says so, or it returns an errno/the call's result). */
  certain: boolean;
  /** The knowledge base (or configuration) says the call can fail; otherwise only its body's error returns do. */
  known: boolean;
}

export interface RestoreStep {
  ref: EventRef;
  /** "calls `foo()` again to re-attach `prev`", "restores `acc->ioas`". */
  what: string;
  /** Variables the restore reads (for the use-after-put hazard). */
  reads: string[];
}

export function isFallibleCall(ctx: CheckContext, ev: CallEvent): boolean {
  if (functionKnowledge(ctx.knowledge, ev.callee)?.fallible) return true;
  // Beyond the knowledge, only a body in view can say it fails.
  return ctx.functions.has(ev.callee) && ctx.summaries.get(ev.callee)?.fallible === true;
}

const ERRNO = /^-E[A-Z0-9]+$|^ERR_PTR\s*\(|^PTR_ERR\s*\(|^ERR_CAST\s*\(/;
const NOT_ERROR = /^(?:0|true|false|NULL|)$/;

function errorReturnsIn(region: EventRef[], call: CallEvent): { returns: EventRef<ReturnEvent>[]; certain: boolean } {
  const returns: EventRef<ReturnEvent>[] = [];
  let certain = true;
  for (const r of region) {
    if (r.event.kind !== 'return') continue;
    const ev = r.event;
    const value = ev.value.trim();
    if (NOT_ERROR.test(value) || /^\d+$/.test(value)) continue;
    if (!(ev.isError || ERRNO.test(value) || (call.resultVar !== undefined && value === call.resultVar)))
      certain = false;
    returns.push(r as EventRef<ReturnEvent>);
  }
  return { returns, certain };
}

/**
 * The fallible steps of a function: known-fallible calls whose error edge the
 * model found. A fallible call made on another one's error path (a re-attach
 * attempt) is part of that error path, not a step of its own.
 */
export function fallibleSteps(ctx: CheckContext, fn: FunctionModel, paths: FlowPaths): FallibleStep[] {
  let perFn = cache.get(ctx.summaries);
  if (!perFn) cache.set(ctx.summaries, (perFn = new WeakMap()));
  const cached = perFn.get(fn);
  if (cached) return cached;
  const steps: FallibleStep[] = [];
  for (const r of paths.events()) {
    if (r.event.kind !== 'call' || r.event.callee === fn.name) continue;
    if (!isFallibleCall(ctx, r.event)) continue;
    const blocks = paths.errorBlocks(r);
    if (blocks.size === 0) continue;
    const region = paths.errorRegion(r);
    const { returns, certain } = errorReturnsIn(region, r.event);
    steps.push({
      ref: r as EventRef<CallEvent>,
      region,
      blocks,
      errorReturns: returns,
      certain,
      known: functionKnowledge(ctx.knowledge, r.event.callee)?.fallible === true,
    });
  }
  const result = steps.filter((s) => !steps.some((o) => o !== s && o.blocks.has(s.ref.block)));
  perFn.set(fn, result);
  return result;
}

/**
 * Per global generation (the summaries object, replaced whenever what a call
 * does may have changed; the engine hands each rule its own context object)
 * and function: both rollback checks ask.
 */
const cache = new WeakMap<object, WeakMap<FunctionModel, FallibleStep[]>>();

/** Blocks that only run when some fallible step failed. */
export function cleanupBlocks(steps: readonly FallibleStep[]): Set<number> {
  const out = new Set<number>();
  for (const s of steps) for (const b of s.blocks) out.add(b);
  return out;
}

/** Locals read from a shared field before `at`: the "saved old value" of a change. */
export function savedValues(paths: FlowPaths, at: EventRef): Map<string, string> {
  const saved = new Map<string, string>();
  for (const r of paths.events()) {
    if (r.event.kind !== 'read' || !r.event.into || !paths.before(r, at)) continue;
    saved.set(r.event.into, r.event.field ?? r.event.source);
  }
  return saved;
}

/** Steps on an error path that try to put back what was there before `at`. */
export function restoreSteps(
  ctx: CheckContext,
  fn: FunctionModel,
  paths: FlowPaths,
  region: EventRef[],
  at: EventRef,
): RestoreStep[] {
  const saved = savedValues(paths, at);
  const out: RestoreStep[] = [];
  for (const r of region) {
    const ev = r.event;
    if (ev.kind === 'call') {
      const savedArgs = [...saved.keys()].filter((v) => ev.args.some((a) => mentions(a, v)));
      const reads = ev.args.map(baseVariable).filter((v): v is string => v !== undefined);
      if (ev.callee === fn.name) {
        const what =
          savedArgs.length > 0
            ? `calls \`${ev.callee}()\` again to re-attach \`${savedArgs[0]}\``
            : `calls \`${ev.callee}()\` again to restore the previous state`;
        out.push({ ref: r, what, reads });
      } else if (functionKnowledge(ctx.knowledge, ev.callee)?.restoring || ctx.summaries.get(ev.callee)?.restoring) {
        out.push({ ref: r, what: `calls \`${ev.callee}()\` to restore the previous state`, reads });
      } else if (savedArgs.length > 0 && isFallibleCall(ctx, ev)) {
        out.push({ ref: r, what: `calls \`${ev.callee}()\` on \`${savedArgs[0]}\` to put it back`, reads });
      }
    }
    const store = fieldStore(fn, ev);
    if (store && isRestoringWrite(store, saved))
      out.push({ ref: r, what: `restores \`${store.target}\``, reads: [store.value.trim()] });
  }
  return out;
}

/** A store to a field: an assignment, or a store macro (`WRITE_ONCE(a->b, v)`, `rcu_assign_pointer`). */
export interface FieldStore {
  target: string;
  field?: string;
  value: string;
}

const STORE_CALLS = new Set(['WRITE_ONCE', 'rcu_assign_pointer', 'RCU_INIT_POINTER', 'smp_store_release']);

export function fieldStore(fn: FunctionModel, ev: Event): FieldStore | undefined {
  if (ev.kind === 'write') return { target: ev.target.trim(), field: ev.field, value: ev.value };
  if (ev.kind !== 'call' || !STORE_CALLS.has(ev.callee) || ev.args.length !== 2) return undefined;
  const target = ev.args[0].replace(/^\s*&/, '').trim();
  const m = /^([A-Za-z_]\w*)\s*->\s*([A-Za-z_]\w*)$/.exec(target);
  const type = m ? fn.types[m[1]] : undefined;
  return { target, ...(m && type ? { field: `${type}.${m[2]}` } : {}), value: ev.args[1] };
}

/** `acc->ioas = prev` where `prev` was read from that same field. */
export function isRestoringWrite(ev: FieldStore, saved: Map<string, string>): boolean {
  const v = ev.value.trim();
  const from = saved.get(v);
  if (from === undefined) return false;
  return from === (ev.field ?? ev.target) || from === ev.target;
}
