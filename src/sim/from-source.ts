/**
 * from-source: a replace helper's effect model (built by the engine) turned
 * into the simulator's step list, each step keeping its source line. The main
 * path follows the success side of every fallible call; each error side is
 * appended after it and the fallible step's `onFail` points at its first step.
 *
 * Recognised (by effect, not by the function's name): saving `access->ioas`
 * and the list id, `access->ioas = NULL`, putting the saved pointer back,
 * pointing `ioas`/`ioas_unpin` at the new IOAS, `ioas_lock` release/acquire,
 * the `unmap` ops callback, `iopt_add_access` (fallible) and
 * `iopt_remove_access` (with the saved or the current list id), reference
 * gets and puts, a recursive call (re-attach by id), the ioas_unpin busy check
 * and the same-IOAS check. Anything else has no effect on the protocol and is
 * left out.
 */
import type { Block, CallEvent, Event, FunctionModel } from '../engine/model/types';
import type { SourceStep } from './types';

const LOCK_ID = 'iommufd_access.ioas_lock';
/** How deep calls into same-file helpers are followed (`__detach()` inside the change helper). */
const MAX_INLINE = 3;
const GET_REF = new Set(['refcount_inc', 'iommufd_ref_to_users', 'iommufd_object_ref', 'kref_get']);
const PUT_REF = new Set([
  'refcount_dec',
  'iommufd_put_object',
  'iommufd_object_put',
  'kref_put',
  'refcount_dec_and_test',
]);

/**
 * A function whose model cannot be replayed: a path runs into a block that
 * neither returns nor goes on (a `goto` to a label the function does not
 * define). A coverage problem of that function, for the caller to show as
 * such (the command line: an input error, exit 2), never an internal error.
 */
export class ReplayCoverageError extends Error {
  constructor(
    readonly fn: string,
    readonly file: string,
    readonly line: number,
    reason: string,
  ) {
    super(`${fn}() cannot be simulated: ${reason}`);
    this.name = 'ReplayCoverageError';
  }
}

/** A block a path can reach that neither returns nor has a successor: the target of a goto to a missing label. */
function deadEnd(fn: FunctionModel, b: Block): boolean {
  return b.succ.length === 0 && b.id !== fn.exit && !b.events.some((e) => e.kind === 'return');
}

interface Walk {
  fn: FunctionModel;
  /** Functions of the same file, by name: a call to one is walked inline. */
  callees: Map<string, FunctionModel>;
  /** Inline depth: 0 in the helper itself. */
  depth: number;
  /** The path being walked is the error side of a fallible step: what it returns is that error. */
  errorSide: boolean;
  steps: SourceStep[];
  /** Error sides still to emit: the step whose onFail they fill, and where they start. */
  pending: { step: number; block: number }[];
  /** The locals holding the saved `access->ioas` and list id. */
  curVar?: string;
  idVar?: string;
  /** The calls being walked inline, outermost first: every step emitted inside carries them. */
  via: { action: string; file: string; line: number }[];
}

/** Does this expression name the saved old IOAS (`&prev->iopt`, `prev->obj.id`)? */
function mentions(text: string, variable: string | undefined): boolean {
  return !!variable && new RegExp(`(^|[^\\w])${variable}([^\\w]|$)`).test(text);
}

function isBareReturn(fn: FunctionModel, blockId: number, error: boolean): boolean {
  const b = fn.blocks[blockId];
  const ret = b.events.find((e) => e.kind === 'return');
  return (
    !!ret &&
    ret.kind === 'return' &&
    ret.isError === error &&
    b.events.every((e) => e.kind === 'return' || e.kind === 'use')
  );
}

/** Emits the effect of one event; returns the step index of a fallible add-access, if it was one. */
function emitEvent(w: Walk, e: Event): number | undefined {
  const at = { file: w.fn.file, line: e.line, ...(w.via.length > 0 ? { via: [...w.via] } : {}) };
  const push = (s: Omit<SourceStep, 'file' | 'line'>): number => w.steps.push({ ...s, ...at }) - 1;
  switch (e.kind) {
    case 'read':
      if (e.field === 'iommufd_access.ioas' && e.into) {
        w.curVar = e.into;
        push({ op: 'save-cur', action: `${e.into} = ${e.source}` });
      } else if (e.field === 'iommufd_access.iopt_access_list_id' && e.into) {
        w.idVar = e.into;
        push({ op: 'save-id', action: `${e.into} = ${e.source}` });
      }
      return undefined;
    case 'write': {
      const action = `${e.target} = ${e.value}`;
      const last = w.steps[w.steps.length - 1];
      if (e.field === 'iommufd_access.ioas') {
        if (e.value === 'NULL' || e.value === '0') push({ op: 'clear-ioas', action });
        else if (e.value === w.curVar) push({ op: 'restore-ioas', action });
        else push({ op: 'set-ioas', target: 'new', action });
      } else if (e.field === 'iommufd_access.ioas_unpin') {
        // the simulator's set-ioas points both fields at the new IOAS at once
        if (last?.op === 'set-ioas') last.action += `; ${action}`;
        else if (e.value === 'NULL' || e.value === '0') push({ op: 'set-ioas', target: 'null', action });
        else push({ op: 'set-ioas', target: mentions(e.value, w.curVar) ? 'cur' : 'new', action });
      }
      return undefined;
    }
    case 'acquire':
      if (e.lock.id === LOCK_ID) push({ op: 'lock', action: `${e.api}(${e.lock.expr})` });
      return undefined;
    case 'release':
      if (e.lock.id === LOCK_ID && !e.implicit) push({ op: 'unlock', action: `${e.api}(${e.lock.expr})` });
      return undefined;
    case 'callback':
      if (e.field === 'unmap') push({ op: 'unmap-callback', action: e.text });
      return undefined;
    case 'call':
      return emitCall(w, e, push);
    default:
      return undefined;
  }
}

function emitCall(w: Walk, e: CallEvent, push: (s: Omit<SourceStep, 'file' | 'line'>) => number): number | undefined {
  const target = (arg: string | undefined): 'cur' | 'new' => (mentions(arg ?? '', w.curVar) ? 'cur' : 'new');
  if (e.callee === 'iopt_add_access') return push({ op: 'add-access', target: target(e.args[0]), action: e.text });
  if (e.callee === 'iopt_remove_access') {
    const id = e.args[2];
    return void push({
      op: 'remove-access',
      target: 'cur',
      listId: id !== undefined && id === w.idVar ? 'saved' : 'field',
      action: e.text,
    });
  }
  if (GET_REF.has(e.callee)) {
    const arg = e.args.find((a) => /obj|users|ref/.test(a)) ?? e.args[0];
    return void push({ op: 'get-ref', target: target(arg), action: e.text });
  }
  if (PUT_REF.has(e.callee)) {
    // a put on the new IOAS drops the lookup's short-term reference, which the simulator's lookup does not take
    const arg = e.args.find((a) => /obj|users|ref/.test(a)) ?? e.args[e.args.length - 1];
    if (target(arg) === 'cur') push({ op: 'put-ref', target: 'cur', action: e.text });
    return undefined;
  }
  // calling itself on the old IOAS's id: the re-attach of a rollback
  if (e.callee === w.fn.name && e.args.some((a) => mentions(a, w.curVar)))
    return void push({ op: 'reattach', target: 'cur', action: e.text });
  const callee = w.callees.get(e.callee);
  if (callee && callee !== w.fn && w.depth < MAX_INLINE) {
    w.via.push({ action: e.text, file: w.fn.file, line: e.line });
    inline(w, callee);
    w.via.pop();
  }
  return undefined;
}

/** The condition text of a plain two-way branch: the last `use` in the block. */
function conditionOf(b: Block): { text: string; line: number } | undefined {
  for (let i = b.events.length - 1; i >= 0; i--) {
    const e = b.events[i];
    if (e.kind === 'use') return { text: e.text, line: e.line };
  }
  return undefined;
}

/** Walks one path from `start` until a return, queueing the error sides of fallible steps. */
function walkPath(w: Walk, start: number): void {
  const seen = new Set<number>();
  let id: number | undefined = start;
  while (id !== undefined && !seen.has(id)) {
    seen.add(id);
    const b: Block = w.fn.blocks[id];
    if (deadEnd(w.fn, b)) {
      // The engine's coverage reason names the goto and its line; its tail is about the model.
      const reason =
        w.fn.status === 'partial' && w.fn.reason
          ? w.fn.reason
          : `a path ends at \`${b.label ?? 'a block'}\` without returning`;
      const why = reason.includes(';') ? reason.slice(0, reason.indexOf(';')) : reason;
      throw new ReplayCoverageError(w.fn.name, w.fn.file, w.fn.line, `${why} (coverage: partial)`);
    }
    const fallible = new Map<number, number>(); // event index → step index
    for (let i = 0; i < b.events.length; i++) {
      const e = b.events[i];
      if (e.kind === 'return') {
        if (w.depth > 0) return; // the end of an inlined callee: the caller goes on
        // on a fallible step's error side, `return rc` returns that step's error
        const error = e.isError || (w.errorSide && e.value !== '0' && e.value !== '');
        w.steps.push({
          op: 'return',
          error,
          action: e.value ? `return ${e.value}` : 'return',
          file: w.fn.file,
          line: e.line,
        });
        return;
      }
      const s = emitEvent(w, e);
      if (s !== undefined) fallible.set(i, s);
    }
    id = next(w, b, fallible);
  }
  // No return met on this path (a loop back to a block already walked): it ends here. Every
  // walk at depth 0 ends in a step of its own, so an error side's onFail always names a step.
  if (w.depth === 0)
    w.steps.push({ op: 'return', error: w.errorSide, action: 'return', file: w.fn.file, line: w.fn.endLine });
}

/**
 * Walks a same-file callee's main path in place of its call. Its own saved
 * locals are its own: the caller's view of which local is the old IOAS is put
 * back after. Error sides inside the callee are not followed (its success path
 * is what the caller's path goes through).
 */
function inline(w: Walk, callee: FunctionModel): void {
  const outer = { fn: w.fn, curVar: w.curVar, idVar: w.idVar, pending: w.pending };
  w.fn = callee;
  w.depth++;
  w.pending = [];
  walkPath(w, callee.entry);
  w.depth--;
  w.fn = outer.fn;
  w.curVar = outer.curVar;
  w.idVar = outer.idVar;
  w.pending = outer.pending;
}

/** Picks the successor the path goes on with, recording checks and error sides on the way. */
function next(w: Walk, b: Block, fallible: Map<number, number>): number | undefined {
  if (b.succ.length === 0 || b.id === w.fn.exit) return undefined;
  if (b.succ.length === 1) return b.succ[0].to;
  const err = b.succ.find((s) => s.when?.on === 'error');
  const ok = b.succ.find((s) => s.when?.on === 'ok');
  if (err && ok) {
    const step = fallible.get(err.when!.event);
    // a fallible step the simulator models gets its error side; others (the lookup) are the prologue's
    if (step !== undefined) w.pending.push({ step, block: err.to });
    return ok.to;
  }
  // a plain if: the busy check and the same-IOAS check leave through a bare return
  const cond = conditionOf(b);
  const [a, c] = b.succ.map((s) => s.to);
  const leaves = (to: number, error: boolean): boolean => isBareReturn(w.fn, to, error);
  if (cond && /ioas_unpin/.test(cond.text) && (leaves(a, true) || leaves(c, true))) {
    w.steps.push({
      op: 'busy-check',
      onFail: 'return',
      action: `if (${cond.text}) return -EBUSY`,
      file: w.fn.file,
      line: cond.line,
    });
    return leaves(a, true) ? c : a;
  }
  if (cond && mentions(cond.text, w.curVar) && /==/.test(cond.text) && (leaves(a, false) || leaves(c, false))) {
    w.steps.push({ op: 'same-check', action: `if (${cond.text}) return 0`, file: w.fn.file, line: cond.line });
    return leaves(a, false) ? c : a;
  }
  // a condition the protocol does not depend on: go on with the side that does not just return
  return leaves(a, true) || leaves(a, false) ? c : a;
}

/**
 * The helper's step list. `file` (the FileModel it came from, or any list of
 * functions) lets calls to helpers in the same file be followed inline, the
 * way v8's change helper calls its detach helper.
 */
export function stepsFromSource(fn: FunctionModel, file?: { functions: FunctionModel[] }): SourceStep[] {
  const callees = new Map((file?.functions ?? []).map((f) => [f.name, f]));
  const w: Walk = { fn, callees, depth: 0, errorSide: false, steps: [], pending: [], via: [] };
  walkPath(w, fn.entry);
  w.errorSide = true;
  while (w.pending.length > 0) {
    const { step, block } = w.pending.shift()!;
    w.steps[step].onFail = w.steps.length;
    walkPath(w, block);
  }
  return foldOwnLocking(w.steps);
}

/**
 * The simulator's replacer holds ioas_lock around the helper (as
 * iommufd_access_replace() does around the change helper). An entry function
 * that takes the lock itself has its first `lock` and every `unlock` right
 * before a `return` folded into that prologue and epilogue, so its error
 * paths are judged with the lock still held, like the helper's.
 */
function foldOwnLocking(steps: SourceStep[]): SourceStep[] {
  const firstLockOp = steps.findIndex((s) => s.op === 'lock' || s.op === 'unlock');
  if (firstLockOp < 0 || steps[firstLockOp].op !== 'lock') return steps;
  const drop = new Set<number>([firstLockOp]);
  steps.forEach((s, i) => s.op === 'unlock' && steps[i + 1]?.op === 'return' && drop.add(i));
  return removeSteps(steps, drop);
}

/** Removes steps, pointing jumps at a removed step to the next one kept. */
function removeSteps(steps: SourceStep[], drop: Set<number>): SourceStep[] {
  const newIndex: number[] = [];
  let kept = 0;
  for (let i = 0; i < steps.length; i++) {
    newIndex[i] = kept;
    if (!drop.has(i)) kept++;
  }
  return steps
    .filter((_, i) => !drop.has(i))
    .map((s) => (typeof s.onFail === 'number' ? { ...s, onFail: newIndex[s.onFail] } : s));
}

/** Whether a step list is a replace/attach helper the simulator can replay (it adds the access somewhere). */
export function isReplaceHelper(steps: readonly SourceStep[]): boolean {
  return steps.some((s) => s.op === 'add-access');
}
