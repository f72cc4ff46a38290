/**
 * Which steps an error path cannot undo, found at call sites: a call the
 * knowledge base calls irreversible, an ops callback whose implementations
 * drop pins, or a function in view that contains such a step (v8's detach
 * helper). Reference drops count only for references this function did not
 * take itself: putting what you just looked up is balancing, not destroying
 * (the facts say "dropping a reference to the old object").
 */
import { functionKnowledge, callbackKnowledge } from '../knowledge/lookup';
import type { CallEvent, CallbackEvent, FunctionModel } from '../model/types';
import { textBeforeParen } from '../text-scan';
import type { CheckContext } from './check';
import { findFunction } from './check';
import { baseVariable, type FlowPaths, flowPathsOf } from './flow-paths';
import type { EventRef } from './flow-paths';
import { withoutSpaces } from '../model/syntax-util';
import { NARROW_DISPATCH } from '../interproc/via-chain';

/** What an error path loses; decides the "cannot …" half of a message. */
export type LossKind = 'driver-pins' | 'pins' | 'membership' | 'reference' | 'object' | 'other';

export interface IrreversibleStep {
  /** What it does, as a verb phrase: "removes the access from the IOAS". */
  what: string;
  loss: LossKind;
  /** The call as written (`iopt_remove_access()` / `acc->ops->unmap()`). */
  label: string;
  file: string;
  line: number;
  /** For reference drops: the field the dropped object was read from (`iommufd_access.ioas`). */
  droppedFrom?: string;
  /** For reference drops: the variable that held the object. */
  droppedVar?: string;
  /** True when some part of the chain comes from the knowledge base or a guessed ops struct. */
  guessed: boolean;
}

/** A call site and the irreversible steps it performs (itself, or inside the callee). */
export interface IrreversibleSite {
  ref: EventRef;
  label: string;
  /** The steps, in the order they happen; one entry for a direct call. */
  steps: IrreversibleStep[];
  /** The call is to a function in view whose body holds the steps. */
  throughCallee?: string;
  /** For an ops callback: the implementation in view (`.unmap = drv_unmap`) the steps are in. */
  implementation?: string;
}

const PUT_LIKE = new Set([
  'refcount_dec',
  'refcount_dec_and_test',
  'kref_put',
  'iommufd_put_object',
  'iommufd_object_put',
]);
const GET_LIKE = /(?:^|_)(?:get|inc|lock_obj|grab|hold)(?:_|$)|^kref_get|^refcount_inc/;

function lossOf(name: string, why: string): LossKind {
  if (/unmap/.test(name) && !/unpin/.test(name)) return 'driver-pins';
  if (/unpin/.test(name) || /unpins/.test(why)) return 'pins';
  if (/unmap/.test(why)) return 'driver-pins';
  if (PUT_LIKE.has(name) || /reference/.test(why)) return 'reference';
  if (/destroys/.test(why)) return 'object';
  if (/removes/.test(why)) return 'membership';
  return 'other';
}

/** `foo()` or `x->ops->unmap()` for messages. */
export function callLabel(ev: CallEvent | CallbackEvent): string {
  if (ev.kind === 'call') return `\`${ev.callee}()\``;
  return `\`${withoutSpaces(textBeforeParen(ev.text) ?? ev.field)}()\``;
}

/** The field a local was read from before `at` (`prev = acc->ioas` → `iommufd_access.ioas`). */
export function originField(paths: FlowPaths, variable: string, at?: EventRef): string | undefined {
  for (const r of paths.events()) {
    if (at && !paths.before(r, at)) continue;
    const ev = r.event;
    if (ev.kind === 'read' && ev.into === variable && !ev.local) return ev.field ?? ev.source;
  }
  return undefined;
}

export class IrreversibleSteps {
  private readonly inner = new Map<string, IrreversibleStep[]>();
  private readonly inProgress = new Set<string>();

  constructor(private readonly ctx: CheckContext) {}

  /**
   * The irreversible steps performed by the event at `ref` of `fn`, if any.
   * `nested`: `fn` is a callee of the function under review, not that function.
   */
  at(fn: FunctionModel, paths: FlowPaths, ref: EventRef, nested = false): IrreversibleSite | undefined {
    const ev = ref.event;
    if (ev.kind === 'callback') {
      const impl = this.callbackImplementation(ev, nested);
      if (impl)
        return {
          ref,
          label: callLabel(ev),
          steps: impl.steps,
          throughCallee: impl.function,
          implementation: impl.function,
        };
      const step = this.callbackStep(fn, ev);
      return step ? { ref, label: step.label, steps: [step] } : undefined;
    }
    if (ev.kind !== 'call' || ev.callee === fn.name) return undefined;
    const label = callLabel(ev);
    const known = functionKnowledge(this.ctx.knowledge, ev.callee);
    // A reference drop means what the knowledge says (only the old object counts), even when
    // its inline body in a header is in view and shows only the mechanics.
    if (known?.irreversible && (PUT_LIKE.has(ev.callee) || /reference/.test(known.irreversible))) {
      const step = this.knownStep(fn, paths, ref as EventRef<CallEvent>, new Set());
      return step ? { ref, label, steps: [step] } : undefined;
    }
    // Otherwise a body in view says best what the call does, step by step.
    const body = findFunction(this.ctx, ev.callee, fn.file);
    if (body) {
      const steps = this.stepsInside(body);
      if (steps.length > 0) return { ref, label, steps, throughCallee: ev.callee };
    }
    const step = this.knownStep(fn, paths, ref as EventRef<CallEvent>, new Set());
    return step ? { ref, label, steps: [step] } : undefined;
  }

  /** A call the knowledge base knows, directly or through what it reaches. */
  private knownStep(
    fn: FunctionModel,
    paths: FlowPaths,
    ref: EventRef<CallEvent>,
    seen: Set<string>,
    name = ref.event.callee,
  ): IrreversibleStep | undefined {
    if (seen.has(name)) return undefined;
    seen.add(name);
    const ev = ref.event;
    const k = functionKnowledge(this.ctx.knowledge, name);
    if (!k) return undefined;
    if (k.irreversible) {
      if (PUT_LIKE.has(name) || /reference/.test(k.irreversible)) {
        const dropped = this.unbalancedDrop(fn, paths, ref);
        // Only the old object counts: one the shared state pointed at (`old = acc->ioas`). A
        // reference the caller handed in, or one taken here, is the caller's bookkeeping.
        const from = dropped === undefined ? undefined : originField(paths, dropped, ref);
        if (!dropped || !from || !/->|\./.test(from)) return undefined;
        return {
          // Only the old object gets here (see above), so say which one it is.
          what: k.irreversible.replace(/\ba reference to the object\b/, 'the reference to the old object'),
          loss: 'reference',
          label: callLabel(ev),
          file: fn.file,
          line: ev.line,
          droppedVar: dropped,
          droppedFrom: from,
          guessed: false,
        };
      }
      return {
        what: k.irreversible,
        loss: lossOf(name, k.irreversible),
        label: callLabel(ev),
        file: fn.file,
        line: ev.line,
        guessed: false,
      };
    }
    for (const reached of k.reaches ?? []) {
      const via = this.knownStep(fn, paths, ref, seen, reached);
      if (via) return { ...via, guessed: true };
    }
    return undefined;
  }

  /**
   * The object a put-like call drops, unless this function took that
   * reference itself (looked it up, allocated it, or incremented it).
   */
  private unbalancedDrop(fn: FunctionModel, paths: FlowPaths, ref: EventRef<CallEvent>): string | undefined {
    const args = ref.event.args;
    // The object is the last argument for iommufd_put_object(ictx, &obj->obj), the first otherwise.
    const objectArg = ref.event.callee === 'iommufd_put_object' ? args[args.length - 1] : args[0];
    const v = objectArg === undefined ? undefined : baseVariable(objectArg);
    if (!v) return undefined;
    for (const r of paths.events()) {
      const e = r.event;
      if (e.kind !== 'call' || r === ref) continue;
      if (e.resultVar === v) return undefined;
      if (GET_LIKE.test(e.callee) && e.args.some((a) => baseVariable(a) === v)) return undefined;
    }
    return v;
  }

  private callbackStep(fn: FunctionModel, ev: CallbackEvent): IrreversibleStep | undefined {
    const label = callLabel(ev);
    const key = ev.opsStruct ? `${ev.opsStruct}.${ev.field}` : undefined;
    const known = key ? callbackKnowledge(this.ctx.knowledge, key) : undefined;
    if (known?.irreversible) {
      return {
        what: known.irreversible,
        loss: lossOf(ev.field, known.irreversible),
        label,
        file: fn.file,
        line: ev.line,
        guessed: false,
      };
    }
    if (ev.opsStruct) return undefined;
    // Ops struct not resolved: only a unique knowledge entry for this field speaks, at lower confidence.
    const candidates = Object.entries(this.ctx.knowledge.callbacks).filter(
      ([k, v]) => k.endsWith(`.${ev.field}`) && v.irreversible,
    );
    if (candidates.length !== 1) return undefined;
    const why = candidates[0][1].irreversible!;
    return { what: why, loss: lossOf(ev.field, why), label, file: fn.file, line: ev.line, guessed: true };
  }

  /**
   * The first implementation in view (`.field = impl` initialisers of this ops struct) whose body has irreversible
   * steps. Inside a callee (`nested`), not when the field has more than `NARROW_DISPATCH` implementations: the one
   * with such a step would be picked by the field's name and type alone (a whole tree's `file_operations.release`
   * found some driver's reference drop under iommu's DMA ownership claim).
   */
  private callbackImplementation(
    ev: CallbackEvent,
    nested: boolean,
  ): { function: string; steps: IrreversibleStep[] } | undefined {
    if (!ev.opsStruct) return undefined;
    // The summaries' list: each implementation once, in file order, those whose body is in view.
    const impls = this.ctx.summaries.callback(ev.opsStruct, ev.field)?.implementations ?? [];
    if (nested && impls.length > NARROW_DISPATCH) return undefined;
    for (const impl of impls) {
      const body = findFunction(this.ctx, impl.function, impl.file);
      const steps = body ? this.stepsInside(body) : [];
      if (steps.length > 0) return { function: impl.function, steps };
    }
    return undefined;
  }

  /** Irreversible steps on the success path of a function in view (its error paths are its own business). */
  stepsInside(body: FunctionModel): IrreversibleStep[] {
    const key = `${body.file}:${body.name}:${body.line}`;
    const cached = this.inner.get(key);
    if (cached) return cached;
    if (this.inProgress.has(key)) return [];
    this.inProgress.add(key);
    const paths = flowPathsOf(body);
    const onErrorPath = new Set<number>();
    for (const r of paths.events()) {
      if (r.event.kind === 'call' || r.event.kind === 'callback') {
        for (const b of paths.errorBlocks(r)) onErrorPath.add(b);
      }
    }
    const steps: IrreversibleStep[] = [];
    for (const r of paths.events()) {
      if (onErrorPath.has(r.block)) continue;
      const site = this.at(body, paths, r, true);
      if (!site || isCleanup(paths, r)) continue;
      for (const s of site.steps) if (!steps.some((x) => x.line === s.line && x.file === s.file)) steps.push(s);
    }
    this.inProgress.delete(key);
    this.inner.set(key, steps);
    return steps;
  }
}

const SUCCESS = /^(?:0|true|)$|^\d+$/;
const ERRNO = /^-E[A-Z0-9]+$/;
/** Goto labels that start unwinding (`err_unlock`, `out_fail`, `abort`). */
export const ERROR_LABEL = /^(?:err|fail|unwind|undo|abort|bad)|_err(?:or)?(?:_|$)|_fail(?:_|$)/;

/**
 * Undoing a half-done step right before giving up is cleanup, not a step of
 * the success path: no success return can follow it, and either every
 * return after it is an errno or it sits under an error label (`err:`),
 * whose `return ret` the model cannot prove to be an error.
 */
function isCleanup(paths: FlowPaths, r: EventRef): boolean {
  const returns = paths.returnsAfter(r);
  if (returns.length === 0 || returns.some((x) => SUCCESS.test(x.event.value.trim()))) return false;
  if (returns.every((x) => x.event.isError || ERRNO.test(x.event.value.trim()))) return true;
  return paths.onlyThroughLabel(r.block, ERROR_LABEL);
}
