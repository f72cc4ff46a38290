/**
 * The check interface every rule implements, the context it is given, and the
 * small helpers all checks share (fingerprints, confidence, locations). A
 * check reads the effect model, the summaries and the held-lock analysis; it
 * never walks syntax.
 *
 * Registry: src/engine/checks/registry.ts lists every check. A rule module
 * exports one `Check` constant named after its id in camelCase
 * (`lockOrder`, `callbackUnderLock`, `unmapBeforeRollback`, `unrestoredState`,
 * `staleAfterRelock`, `lockLeak`, `assertHeld`).
 */
import type { Knowledge } from '../knowledge/types';
import type { HeldLocks } from '../model/held-locks';
import type { FileModel, FunctionModel, LockRef } from '../model/types';
import type { InlineRun, Summaries, ViaStep } from '../interproc/types';
import type { DispatchGuess } from '../interproc/via-chain';
import { visibleFrom } from '../interproc/summaries';
import type { LockClassGraph } from '../interproc/lock-graph';
import { CONFIDENCE_ORDER } from '../types';
import type { Confidence, Finding, RelatedLocation, RuleId } from '../types';

export interface CheckContext {
  /** Every file model in view (reported files and context files alike). */
  readonly files: readonly FileModel[];
  /** Every function body in view by name (static functions of the same name in several files: all of them). */
  readonly functions: ReadonlyMap<string, readonly FunctionModel[]>;
  readonly summaries: Summaries;
  readonly knowledge: Knowledge;
  /** The interprocedural lock-class graph (built once per analysis, shared). */
  readonly lockGraph: LockClassGraph;
  /** Locks held before each event of a function (computed once per function, cached). */
  held(fn: FunctionModel): HeldLocks;
  /** True when findings in this file are reported (the others are context only). */
  reports(file: string): boolean;
}

export interface Check {
  readonly id: RuleId;
  /**
   * The rule's findings in one file depend on other files' bodies (not only
   * through the summaries): the engine runs it whole on every analysis
   * instead of keeping findings per file.
   */
  readonly global?: boolean;
  /**
   * The rule reads only the global step (summaries, lock graph), which files
   * are reported, and what of the models the global step was built from
   * (their global signatures): the engine keeps its findings while those are
   * the same, even when a model changed.
   */
  readonly fromGlobalStep?: boolean;
  run(ctx: CheckContext): Finding[];
}

/**
 * The stable identity of a finding: rule, function, and the sorted locks or
 * calls involved. Never line numbers, so a finding keeps its fingerprint when
 * code moves (patch revisions, review sessions).
 */
export function fingerprint(rule: RuleId, fn: string, involved: readonly string[]): string {
  const parts = [...new Set(involved)].sort();
  return `${rule}:${fn}:${parts.join(',')}`;
}

/** The lower of two confidences. */
export function minConfidence(a: Confidence, b: Confidence): Confidence {
  return CONFIDENCE_ORDER.indexOf(a) <= CONFIDENCE_ORDER.indexOf(b) ? a : b;
}

/** One step lower (low stays low). */
export function lowerConfidence(c: Confidence): Confidence {
  const i = CONFIDENCE_ORDER.indexOf(c);
  return CONFIDENCE_ORDER[Math.max(0, i - 1)];
}

export function atLeast(c: Confidence, threshold: Confidence): boolean {
  return CONFIDENCE_ORDER.indexOf(c) >= CONFIDENCE_ORDER.indexOf(threshold);
}

/** How a lock is named in messages: its class id, or its source text when unresolved. */
export function lockName(lock: LockRef): string {
  return lock.resolved ? lock.id : lock.expr;
}

/**
 * A line as messages name it: `line 79` in the file the message is about
 * (`anchorFile`), `hw_pagetable.c:195` in another. The engine moves lines
 * in messages by this convention after an edit that only moved lines
 * (model/step-lines.ts), so every line a message names goes through here
 * or is in the finding's own file.
 */
export function lineRef(file: string | undefined, line: number, anchorFile: string): string {
  return file === undefined || file === anchorFile ? `line ${line}` : `${file}:${line}`;
}

/**
 * The sentence a finding adds when its route runs deferred work inline (a
 * mode-dependent route, see model/deferred-work.ts); such findings are low
 * confidence.
 */
export function inlineRunText(r: InlineRun, anchorFile: string): string {
  const at = r.line ? ` at ${lineRef(r.file, r.line, anchorFile)}` : '';
  return ` Only in one mode, though: \`${r.function}()\` calls \`${r.callee}()\` directly${at} where the other branch of its \`if\` hands the same work to \`${r.api}()\` (${lineRef(r.file, r.apiLine, anchorFile)}), which runs it later without these locks.`;
}

/** Words for a finding whose route is a guess through ops calls (see `guessedDispatch`). */
export function dispatchGuessText(fn: string, g: DispatchGuess): string {
  const what =
    g.callbacks.length === 1
      ? `\`${g.callbacks[0]}\` running \`${g.implementation ?? '?'}()\`, one of its ${g.implementations} implementations in view`
      : `${g.callbacks.length} ops calls made in turn (\`${g.callbacks.join('` → `')}\`), each running the implementation that takes the lock`;
  return ` The route from \`${fn}()\` relies on ${what}: which implementation runs depends on the object's type there, which is not followed.`;
}

/** A long route's steps shown: this many first (where it leaves the reader's code) and last (where the lock is taken). */
const ROUTE_HEAD = 8;
const ROUTE_TAIL = 4;

/**
 * A route's steps in view as related locations, the last one taking `lock`.
 * With the whole tree as context a route can run through hundreds of calls
 * (callbacks whose implementations make callbacks): the middle of such a
 * route is left out and counted in the step after the gap, since no reader
 * follows it and a finding kept every step of every edge.
 */
export function routeLocations(via: readonly ViaStep[], lock: string): RelatedLocation[] {
  const inside = via.filter((s) => s.file && s.line);
  const skipped = Math.max(0, inside.length - ROUTE_HEAD - ROUTE_TAIL);
  const shown = skipped > 0 ? [...inside.slice(0, ROUTE_HEAD), ...inside.slice(-ROUTE_TAIL)] : inside;
  return shown.map((s, i) => {
    const take = i === shown.length - 1;
    const gap = skipped > 0 && i === ROUTE_HEAD ? ` (after ${skipped} more calls not shown)` : '';
    return {
      file: s.file!,
      line: s.line!,
      message: `\`${s.function}()\` ${s.what}${gap}`,
      role: take ? 'acquire' : 'call',
      ...(take ? { lock } : {}),
    };
  });
}

/** `foo()` for messages. */
export function fnName(name: string): string {
  return `\`${name}()\``;
}

/** Lookup of a function body by name, preferring the one in `file`, else one `file` can call (not another .c file's static one). */
export function findFunction(ctx: CheckContext, name: string, file?: string): FunctionModel | undefined {
  const all = ctx.functions.get(name);
  if (!all || all.length === 0) return undefined;
  if (!file) return all[0];
  return all.find((f) => f.file === file) ?? all.find((f) => visibleFrom(f, file));
}

/**
 * Per-function results of a rule, reused while the function's model and the
 * global step (summaries, lock graph: one object per generation) are the
 * same. Models are immutable and replaced on change, so this is exact.
 */
export class PerFunctionCache<T> {
  private readonly map = new WeakMap<FunctionModel, { generation: object; value: T }>();

  get(ctx: CheckContext, fn: FunctionModel, compute: () => T): T {
    const step = stepToken(ctx.summaries);
    const hit = this.map.get(fn);
    if (hit && hit.generation === step) return hit.value;
    const value = compute();
    this.map.set(fn, { generation: step, value });
    return value;
  }
}

const stepTokens = new WeakMap<object, object>();

/**
 * A small object that stands for a global step in entries that outlive it
 * (kept per function model, and most models outlive a step). Holding the
 * summaries themselves there kept a whole tree's old summaries alive while
 * the next ones were built (gigabytes, and the collector's time with them).
 */
function stepToken(summaries: object): object {
  let token = stepTokens.get(summaries);
  if (!token) stepTokens.set(summaries, (token = {}));
  return token;
}

/**
 * A rule that looks at one function at a time: `check` runs on every function
 * of the files whose findings are reported, unless `applies` rules it out
 * cheaply, and its result is cached per function model until the summaries
 * change (so an edit re-checks only the functions it touched).
 */
export function perFunctionCheck(
  id: RuleId,
  applies: (ctx: CheckContext, fn: FunctionModel) => boolean,
  check: (ctx: CheckContext, fn: FunctionModel) => Finding[],
): Check {
  const cache = new PerFunctionCache<Finding[]>();
  return {
    id,
    run(ctx) {
      const findings: Finding[] = [];
      for (const file of ctx.files) {
        if (!ctx.reports(file.file)) continue;
        for (const fn of file.functions) {
          if (applies(ctx, fn)) findings.push(...cache.get(ctx, fn, () => check(ctx, fn)));
        }
      }
      return findings;
    },
  };
}
