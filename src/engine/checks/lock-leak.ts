/**
 * lock-leak: a function that takes a lock and returns with it held on one
 * path while another of its returns has released it. `guard()` scope exits
 * and goto unwinding are releases in the model, so they never count.
 *
 * Quiet on purpose:
 * - "lock on success" helpers (success returns hold, error returns do not);
 * - locks only asserted or held on entry (the caller owns them);
 * - functions that call something that releases the lock for them
 *   (a body in view that releases it, or a callee named *unlock*);
 * - acquire wrappers, whose contract is to return with the lock held
 *   (`__acquires()`, or a `*_lock()` with its `*_unlock()` in view).
 * Confidence: high when an error return keeps the lock and a success return
 * releases it (the classic missing unlock on an early error exit); medium
 * when both returns look alike; low when they return different values.
 */
import type { HeldLock } from '../model/held-locks';
import type { FunctionModel, ReturnEvent } from '../model/types';
import type { Confidence, Finding } from '../types';
import type { Check, CheckContext } from './check';
import { findFunction, fingerprint, lowerConfidence, perFunctionCheck } from './check';
import { scenarioFor } from './scenario';

interface ReturnPoint {
  ev: ReturnEvent;
  must: readonly HeldLock[];
  may: readonly HeldLock[];
}

/** Does `fn` call something that releases `lock` on its behalf? */
function releasedByCallee(ctx: CheckContext, fn: FunctionModel, lock: string): boolean {
  for (const b of fn.blocks) {
    for (const ev of b.events) {
      if (ev.kind !== 'call') continue;
      if (/unlock|release_lock/.test(ev.callee)) return true;
      const body = findFunction(ctx, ev.callee, fn.file);
      if (!body || body === fn) continue;
      let acquires = false;
      let releases = false;
      for (const cb of body.blocks) {
        for (const e of cb.events) {
          if (e.kind === 'acquire' && e.lock.id === lock) acquires = true;
          if (e.kind === 'release' && e.lock.id === lock) releases = true;
        }
      }
      if (releases && !acquires) return true;
    }
  }
  return false;
}

/**
 * Is `fn` a lock API for `lock`, whose contract is to return with it held
 * (on some or all paths)? `__acquires(lock)` says so; so does a `*_lock*` or
 * `*_trylock*` name with its `*_unlock*` counterpart defined in view
 * (`folio_memcg_lock()` / `folio_memcg_unlock()`). Its callers track the
 * lock, not the wrapper.
 */
/**
 * `foo_trylock_irq` → prefix `foo_`, suffix `_irq`: the first `lock` (with a
 * `try` before it dropped) after which only `_word` or nothing follows. What
 * /^(.*?)(?:try)?lock(_\w+)?$/ matched, in one walk: that regex rescans the
 * tail from every `lock` (quadratic on a long name of repeated `lock_`).
 */
function lockNameParts(name: string): { prefix: string; suffix: string } | undefined {
  let lastNonWord = -1;
  for (let i = 0; i < name.length; i++) if (!/\w/.test(name[i])) lastNonWord = i;
  for (let at = name.indexOf('lock'); at >= 0; at = name.indexOf('lock', at + 1)) {
    const rest = at + 4;
    if (rest === name.length || (name[rest] === '_' && rest + 1 < name.length && lastNonWord <= rest)) {
      const start = name.startsWith('try', at - 3) && at >= 3 ? at - 3 : at;
      return { prefix: name.slice(0, start), suffix: name.slice(rest) };
    }
  }
  return undefined;
}

function isAcquireWrapper(ctx: CheckContext, fn: FunctionModel, lock: string): boolean {
  if (fn.acquires?.some((l) => l.id === lock)) return true;
  const m = lockNameParts(fn.name);
  if (!m || !/(?:^|_)$/.test(m.prefix)) return false;
  const counterpart = `${m.prefix}unlock${m.suffix}`;
  return ctx.functions.has(counterpart) || ctx.knowledge.functions[counterpart] !== undefined;
}

export const lockLeak: Check = perFunctionCheck(
  'lock-leak',
  (ctx, fn) => !ctx.held(fn).none,
  (ctx, fn) => {
    const findings: Finding[] = [];
    const held = ctx.held(fn);
    const returns: ReturnPoint[] = [];
    for (const b of fn.blocks) {
      if (!held.reachable(b.id)) continue;
      b.events.forEach((ev, i) => {
        if (ev.kind === 'return') returns.push({ ev, must: held.before(b.id, i), may: held.mayBefore(b.id, i) });
      });
    }
    if (returns.length < 2) return findings;
    const candidates = new Map<string, HeldLock>();
    for (const r of returns) for (const h of r.must) if (h.how === 'acquire') candidates.set(h.lock.id, h);
    // Locks the caller holds on entry are the caller's to balance.
    for (const h of held.mayBefore(fn.entry, 0)) candidates.delete(h.lock.id);
    // A lock released where this function had not taken it belongs to the caller
    // (dropped and retaken around a callback): not this function's to balance.
    held.forEachEvent((block, index) => {
      const ev = block.events[index];
      if (
        ev.kind === 'release' &&
        candidates.has(ev.lock.id) &&
        !held.mayBefore(block.id, index).some((x) => x.lock.id === ev.lock.id)
      )
        candidates.delete(ev.lock.id);
    });
    for (const [id, h] of candidates) {
      if (isAcquireWrapper(ctx, fn, id)) continue;
      const holding = returns.filter((r) => r.must.some((x) => x.lock.id === id));
      const releasing = returns.filter((r) => !r.may.some((x) => x.lock.id === id));
      if (holding.length === 0 || releasing.length === 0) continue;
      // Lock-on-success helpers: every holding return succeeds and some releasing one fails.
      const holdErr = holding.filter((r) => r.ev.isError);
      const relOk = releasing.filter((r) => !r.ev.isError);
      let leak: ReturnPoint | undefined;
      let other: ReturnPoint | undefined;
      let confidence: Confidence;
      if (holdErr.length > 0 && relOk.length > 0) {
        leak = holdErr[0];
        other = relOk[0];
        confidence = 'high';
      } else if (holding.every((r) => !r.ev.isError) && releasing.some((r) => r.ev.isError)) {
        continue;
      } else {
        leak = holding[0];
        other = releasing.find((r) => r.ev.isError === leak!.ev.isError) ?? releasing[0];
        confidence = leak.ev.value === other.ev.value ? 'medium' : 'low';
      }
      if (releasedByCallee(ctx, fn, id)) continue;
      if (fn.status === 'partial') confidence = lowerConfidence(confidence);
      const name = h.lock.resolved ? h.lock.id : h.lock.expr;
      const what = leak.ev.value
        ? `returns \`${leak.ev.value}\` at line ${leak.ev.line}`
        : `returns at line ${leak.ev.line}`;
      findings.push({
        ruleId: 'lock-leak',
        severity: 'warning',
        confidence,
        message: `\`${fn.name}()\` ${what} with \`${name}\` still held (taken at line ${h.line}), but its return at line ${other.ev.line} releases it: missing unlock on this path.`,
        file: fn.file,
        line: leak.ev.line,
        column: leak.ev.column,
        function: fn.name,
        fingerprint: fingerprint('lock-leak', fn.name, [h.lock.id]),
        related: [
          { file: fn.file, line: h.line, message: `\`${name}\` taken here`, role: 'acquire', lock: h.lock.id },
          ...holding
            .slice(1, 4)
            .map((r) => ({ file: fn.file, line: r.ev.line, message: `also returns here with \`${name}\` held` })),
          { file: fn.file, line: other.ev.line, message: `this return has released \`${name}\`` },
        ],
        scenario: scenarioFor('lock-leak', { file: fn.file, function: fn.name }),
      });
    }
    return findings;
  },
);
