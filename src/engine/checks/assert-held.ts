/**
 * assert-held: a call into a function that asserts a lock held
 * (`lockdep_assert_held*`, `__must_hold`, or knowledge `requires`) from a
 * path on which no path holds it; and a read or write of a field the
 * knowledge says a lock protects, with that lock not held.
 *
 * Precision first: a helper is often called with the lock taken by its own
 * caller, so a caller that never touches the lock is reported with low
 * confidence, and not at all when a chain of callers in view holds it. A
 * caller that takes the lock elsewhere but not on this path is the
 * confident case.
 */
import type { FunctionModel } from '../model/types';
import type { Confidence, Finding } from '../types';
import type { Check, CheckContext } from './check';
import { fingerprint, lowerConfidence, perFunctionCheck } from './check';
import { scenarioFor } from './scenario';

/** Does `fn` itself take or assert `lock` anywhere? */
function managesLock(fn: FunctionModel, lock: string): boolean {
  if (fn.mustHold.some((l) => l.id === lock)) return true;
  return fn.blocks.some((b) => b.events.some((e) => (e.kind === 'acquire' || e.kind === 'assert') && e.lock.id === lock));
}

/** Cheap filter before the dataflow: does `fn` call something that requires a lock, or touch a protected field? */
function mayNeedLocks(ctx: CheckContext, fn: FunctionModel): boolean {
  return fn.blocks.some((b) =>
    b.events.some(
      (e) =>
        (e.kind === 'call' && (ctx.summaries.get(e.callee, fn.file)?.requires.length ?? 0) > 0) ||
        ((e.kind === 'read' || e.kind === 'write') && e.field !== undefined && ctx.knowledge.protectedBy[e.field] !== undefined),
    ),
  );
}

type CallSites = Map<string, { fn: FunctionModel; block: number; index: number }[]>;
const siteCache = new WeakMap<CheckContext, CallSites>();

/** Every call site in view by callee name (built once per analysis). */
function callSites(ctx: CheckContext): CallSites {
  let sites = siteCache.get(ctx);
  if (sites) return sites;
  sites = new Map();
  for (const f of ctx.files) {
    for (const fn of f.functions) {
      for (const b of fn.blocks) {
        b.events.forEach((ev, index) => {
          if (ev.kind !== 'call') return;
          const list = sites!.get(ev.callee);
          if (list) list.push({ fn, block: b.id, index });
          else sites!.set(ev.callee, [{ fn, block: b.id, index }]);
        });
      }
    }
  }
  siteCache.set(ctx, sites);
  return sites;
}

/**
 * Whether some chain of callers in view (up to a few levels) holds `lock`
 * when it calls `name`: then `name` is a helper run under its caller's lock.
 */
function heldByCallers(ctx: CheckContext, name: string, lock: string, depth = 0, seen = new Set<string>()): boolean {
  if (depth > 4 || seen.has(name)) return false;
  seen.add(name);
  for (const s of callSites(ctx).get(name) ?? []) {
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
          if (managesLock(fn, r.lock)) confidence = 'high';
          else {
            // The caller may run under its own caller's lock: never more than low.
            if (heldByCallers(ctx, fn.name, r.lock)) continue;
            confidence = 'low';
          }
          if (fn.status === 'partial') confidence = lowerConfidence(confidence);
          const where = r.line ? ` (it asserts it at ${r.file && r.file !== fn.file ? `${r.file}:` : 'line '}${r.line})` : ' (per the knowledge base)';
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
            related: r.line ? [{ file: r.file ?? fn.file, line: r.line, message: `\`${ev.callee}()\` asserts \`${r.lock}\` held here`, role: 'assert', lock: r.lock }] : [],
            scenario: scenarioFor('assert-held', { file: fn.file, function: fn.name }),
          });
        }
        return;
      }
      if (ev.kind !== 'read' && ev.kind !== 'write') return;
      const field = ev.field;
      const lock = field ? ctx.knowledge.protectedBy[field] : undefined;
      if (!field || !lock) return;
      if (must.some((h) => h.lock.id === lock) || held.mayBefore(block.id, index).some((h) => h.lock.id === lock)) return;
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
