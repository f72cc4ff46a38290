/**
 * assert-held: a call into a function that asserts a lock held
 * (`lockdep_assert_held*`, `__must_hold`, or knowledge `requires`) from a
 * path on which no path holds it; and a read or write of a field the
 * knowledge says a lock protects, with that lock not held.
 *
 * Precision first: a helper is often called with the lock taken by its own
 * caller, so a caller that never touches the lock is not reported when a
 * chain of callers in view holds it, and only at low confidence when it
 * documents that its callers hold it (named `*_locked`, or a comment "Caller
 * must hold" / "called with ... held"). A caller that says nothing of the
 * lock is medium: nothing tells its own callers to take it. A caller that
 * takes the lock elsewhere but not on this path is the confident case.
 */
import type { FunctionModel } from '../model/types';
import type { Confidence, Finding } from '../types';
import type { Check, CheckContext } from './check';
import { findFunction, fingerprint, lowerConfidence, perFunctionCheck } from './check';
import type { RequiredLock } from '../interproc/types';
import { scenarioFor } from './scenario';
import { callSites } from './call-sites';

/** Does `fn` itself take or assert `lock` anywhere? */
function managesLock(fn: FunctionModel, lock: string): boolean {
  if (fn.mustHold.some((l) => l.id === lock)) return true;
  return fn.blocks.some((b) =>
    b.events.some((e) => (e.kind === 'acquire' || e.kind === 'assert') && e.lock.id === lock),
  );
}

/** The function says it runs under its caller's lock: its name (`*_locked`) or a comment. */
function documentedHelper(fn: FunctionModel): boolean {
  return fn.name.endsWith('_locked') || fn.callerHoldsNote === true;
}

/**
 * Reasons to think the caller, or a caller of it, may hold the lock after all,
 * or is not obliged to: then the finding is low. Medium needs callers in view
 * that call it without the lock while nothing tells them to take it.
 * - the helper is itself an assertion (`iommu_group_mutex_assert()`): calling
 *   it is the caller asserting the lock, not forgetting it;
 * - the helper asserts only on some paths (depends on the arguments);
 * - a file-scope lock: it guards the file's state, not an object the caller
 *   was handed, and the callers that own that state are often in another file;
 * - on a chain of callers in view (this function included), one documents
 *   that its callers hold the lock, takes a lock of the same name the model
 *   could not tie to the same class (or states it held with
 *   `lockdep_is_held()`), or is run through a pointer: its address is taken,
 *   or it is static with no direct call in view (its callers are out of view).
 */
function weakEvidence(ctx: CheckContext, fn: FunctionModel, callee: string, r: RequiredLock): boolean {
  if (ASSERTION.test(callee) || r.lock.startsWith('file-scope:') || assertsOnlySometimes(ctx, callee, r)) return true;
  // No caller in view: who runs it, and with what held, is out of view (a static
  // function called only through a pointer, or an API whose users are elsewhere).
  if (!callSites(ctx).has(fn.name)) return true;
  return onCallerChain(
    ctx,
    fn,
    (f) => documentedHelper(f) || runThroughPointer(ctx, f) || takesLockNamedLike(f, r.lock),
  );
}

/** A helper named as an assertion (`*_assert*`, `lockdep_*`). */
const ASSERTION = /(?:^|_)(?:assert|lockdep)(?:_|$)/;

/** Whether `test` holds for `fn` or for a function on a chain of its callers in view (a few levels up). */
function onCallerChain(ctx: CheckContext, fn: FunctionModel, test: (f: FunctionModel) => boolean): boolean {
  const seen = new Set<FunctionModel>();
  let level: FunctionModel[] = [fn];
  for (let depth = 0; depth <= 4 && level.length > 0; depth++) {
    const next: FunctionModel[] = [];
    for (const f of level) {
      if (seen.has(f)) continue;
      seen.add(f);
      if (test(f)) return true;
      for (const s of callSites(ctx).get(f.name) ?? []) next.push(s.fn);
    }
    level = next;
  }
  return false;
}

/** Its address is taken in view, or it is static with no direct call in view (an ops table or a local function pointer runs it). */
function runThroughPointer(ctx: CheckContext, f: FunctionModel): boolean {
  return addressTaken(ctx).has(f.name) || (f.fileLocal === true && !callSites(ctx).has(f.name));
}

const addressCache = new WeakMap<CheckContext, Set<string>>();

/** Names of functions in view whose address is taken (ops tables, bare call arguments). */
function addressTaken(ctx: CheckContext): Set<string> {
  let names = addressCache.get(ctx);
  if (names) return names;
  names = new Set();
  for (const f of ctx.files) {
    for (const o of f.opsImplementations) names.add(o.function);
    for (const fn of f.functions) {
      for (const b of fn.blocks) {
        for (const ev of b.events) {
          if (ev.kind !== 'call' && ev.kind !== 'callback') continue;
          for (const a of ev.args) {
            const t = a.trim().replace(/^&\s*/, '');
            if (ctx.functions.has(t)) names.add(t);
          }
        }
      }
    }
  }
  addressCache.set(ctx, names);
  return names;
}

/**
 * The function takes or asserts a lock of the same field name that the model
 * could not tie to the same class (`device->group->group_lock` through a
 * member chain), or states it held (`lockdep_is_held()`): it may well be the
 * lock the helper wants.
 */
function takesLockNamedLike(fn: FunctionModel, lock: string): boolean {
  const field = lock.slice(lock.lastIndexOf('.') + 1);
  const named = new RegExp(`(?:->|\\.)\\s*${field}\\s*\\)?$`);
  return fn.blocks.some((b) =>
    b.events.some(
      (e) =>
        ((e.kind === 'acquire' || e.kind === 'assert') && e.lock.id !== lock && named.test(e.lock.expr.trim())) ||
        // `rcu_dereference_protected(p, lockdep_is_held(&vdev->igate))`: the function states the lock is held.
        (e.kind === 'call' && e.callee.startsWith('lockdep_is_held') && e.args.some((a) => named.test(a.trim()))),
    ),
  );
}

/**
 * The helper asserts the lock only on some paths (`if (state > PCI_D0)
 * lockdep_assert_held(...)`): whether a caller must hold it depends on the
 * arguments, which this check does not follow.
 */
function assertsOnlySometimes(ctx: CheckContext, callee: string, r: RequiredLock): boolean {
  if (r.line === undefined) return false;
  const body = findFunction(ctx, callee, r.file);
  if (!body) return false;
  const at = body.blocks.find((b) =>
    b.events.some((e) => e.kind === 'assert' && e.line === r.line && e.lock.id === r.lock),
  );
  return at !== undefined && bypassed(body, at.id);
}

/** Some block after `block` is also reached from the entry without passing through it (a join past an `if`). */
function bypassed(fn: FunctionModel, block: number): boolean {
  const byId = new Map(fn.blocks.map((b) => [b.id, b]));
  const reach = (starts: number[], avoid?: number): Set<number> => {
    const seen = new Set<number>();
    const work = [...starts];
    while (work.length > 0) {
      const x = work.pop()!;
      if (x === avoid || seen.has(x)) continue;
      seen.add(x);
      for (const e of byId.get(x)?.succ ?? []) work.push(e.to);
    }
    return seen;
  };
  const without = reach([fn.entry], block);
  const after = reach((byId.get(block)?.succ ?? []).map((e) => e.to));
  for (const b of after) if (b !== fn.exit && without.has(b)) return true;
  return false;
}

/** Cheap filter before the dataflow: does `fn` call something that requires a lock, or touch a protected field? */
function mayNeedLocks(ctx: CheckContext, fn: FunctionModel): boolean {
  return fn.blocks.some((b) =>
    b.events.some(
      (e) =>
        (e.kind === 'call' && (ctx.summaries.get(e.callee, fn.file)?.requires.length ?? 0) > 0) ||
        ((e.kind === 'read' || e.kind === 'write') &&
          e.field !== undefined &&
          ctx.knowledge.protectedBy[e.field] !== undefined),
    ),
  );
}

/**
 * Whether some chain of callers in view (up to a few levels) holds `lock`
 * when it calls `name`: then `name` is a helper run under its caller's lock.
 */
function heldByCallers(ctx: CheckContext, name: string, lock: string, depth = 0, seen = new Set<string>()): boolean {
  if (depth > 4 || seen.has(name)) return false;
  seen.add(name);
  // Through pointers too: an ops callback runs with what its dispatcher holds
  // (`dev_set->lock` around `->open_device()`), a walker's callback with what
  // the walker's caller holds, a handler picked into a local pointer with what
  // its caller holds (the SET_IRQS table under `igate`).
  for (const s of callSites(ctx, true).get(name) ?? []) {
    const held = ctx.held(s.fn);
    if (!held.reachable(s.block)) continue;
    if (held.mayBefore(s.block, s.index).some((h) => h.lock.id === lock)) return true;
    if (!managesLock(s.fn, lock) && heldByCallers(ctx, s.fn.name, lock, depth + 1, seen)) return true;
  }
  return false;
}

export const assertHeld: Check = perFunctionCheck(
  'assert-held',
  (ctx, fn) => mayNeedLocks(ctx, fn),
  (ctx, fn) => {
    const findings: Finding[] = [];
    const held = ctx.held(fn);
    const seen = new Set<string>();
    held.forEachEvent((block, index, must) => {
      const ev = block.events[index];
      if (ev.kind === 'call') {
        const callee = ctx.summaries.get(ev.callee, fn.file);
        if (!callee || callee.requires.length === 0 || ev.callee === fn.name) return;
        for (const r of callee.requires) {
          if (must.some((h) => h.lock.id === r.lock)) continue;
          if (held.mayBefore(block.id, index).some((h) => h.lock.id === r.lock)) continue;
          const key = `call|${ev.callee}|${r.lock}`;
          if (seen.has(key)) continue;
          seen.add(key);
          let confidence: Confidence;
          // A helper that asserts only on some paths needs the lock for some arguments: a caller that takes
          // it on some paths may take it exactly then (a `global` flag deciding both), which is not followed.
          if (managesLock(fn, r.lock)) confidence = assertsOnlySometimes(ctx, ev.callee, r) ? 'low' : 'high';
          else {
            // Run under its own caller's lock: the chain in view holds it.
            if (heldByCallers(ctx, fn.name, r.lock)) continue;
            // Documented as run under the caller's lock (`*_locked`, "Caller must hold"):
            // the contract is there, only callers out of view can break it. Otherwise
            // nothing tells its callers to hold the lock, and none in view does.
            confidence = weakEvidence(ctx, fn, ev.callee, r) ? 'low' : 'medium';
          }
          if (fn.status === 'partial') confidence = lowerConfidence(confidence);
          const where = r.line
            ? ` (it asserts it at ${r.file && r.file !== fn.file ? `${r.file}:` : 'line '}${r.line})`
            : ' (per the knowledge base)';
          findings.push({
            ruleId: 'assert-held',
            severity: 'warning',
            confidence,
            message: `\`${fn.name}()\` calls \`${ev.callee}()\` at line ${ev.line} without holding \`${r.lock}\`, which \`${ev.callee}()\` requires held${where}.`,
            file: fn.file,
            line: ev.line,
            column: ev.column,
            function: fn.name,
            fingerprint: fingerprint('assert-held', fn.name, [ev.callee, r.lock]),
            related: r.line
              ? [
                  {
                    file: r.file ?? fn.file,
                    line: r.line,
                    message: `\`${ev.callee}()\` asserts \`${r.lock}\` held here`,
                    role: 'assert',
                    lock: r.lock,
                  },
                ]
              : [],
            scenario: scenarioFor('assert-held', { file: fn.file, function: fn.name }),
          });
        }
        return;
      }
      if (ev.kind !== 'read' && ev.kind !== 'write') return;
      const field = ev.field;
      const lock = field ? ctx.knowledge.protectedBy[field] : undefined;
      if (!field || !lock) return;
      if (must.some((h) => h.lock.id === lock) || held.mayBefore(block.id, index).some((h) => h.lock.id === lock))
        return;
      // Only functions that manage the lock themselves: elsewhere the caller may hold it.
      if (!managesLock(fn, lock)) return;
      const key = `${ev.kind}|${field}`;
      if (seen.has(key)) return;
      seen.add(key);
      const text = ev.kind === 'read' ? ev.source : ev.target;
      findings.push({
        ruleId: 'assert-held',
        severity: 'warning',
        confidence: fn.status === 'partial' ? 'low' : 'medium',
        message: `\`${fn.name}()\` ${ev.kind === 'read' ? 'reads' : 'writes'} \`${text}\` at line ${ev.line} without holding \`${lock}\`, which protects \`${field}\` (the function takes it elsewhere).`,
        file: fn.file,
        line: ev.line,
        column: ev.column,
        function: fn.name,
        fingerprint: fingerprint('assert-held', fn.name, [field, lock]),
        related: [],
        scenario: scenarioFor('assert-held', { file: fn.file, function: fn.name }),
      });
    });
    return findings;
  },
);
