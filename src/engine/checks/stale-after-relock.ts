/**
 * stale-after-relock: a pointer obtained while a lock was held (a lookup's
 * result, a field read), the lock dropped and retaken (typically around a
 * callback), and the pointer used after without looking it up again.
 *
 * What makes such a use safe, and keeps the check quiet:
 * - the pointer is obtained again, or compared with its source, after the relock;
 * - a reference was taken on it before the drop (it stays alive);
 * - before the drop the function claimed the object it read it from, by
 *   writing one of that object's fields (the merged replace helper sets
 *   `access->ioas = NULL`, and a concurrent change sees that and backs off
 *   with -EBUSY): the saved value is still the one that counts.
 * Only pointers (locals the model typed as structs) are followed: a saved
 * scalar cannot be freed under us. A value read from a field, rather than
 * found by a lookup, gets medium confidence: its object may be kept alive by
 * means the function does not show.
 *
 * The same family without the retake (a value used after its lock is
 * released, with no relock before the use) is reported under this rule id
 * too, by use-after-unlock.ts; a use after a retake is only this half's.
 */
import type { AcquireEvent, FunctionModel, ReleaseEvent } from '../model/types';
import type { Finding, RelatedLocation } from '../types';
import { textBeforeParen } from '../text-scan';
import type { Check, CheckContext } from './check';
import { findFunction, lowerConfidence } from './check';
import { fetches } from './destroy-leaves-entries';
import { baseVariable, type FlowPaths, flowPathsOf, mentions, type EventRef } from './flow-paths';
import {
  heldAt,
  MUTATES,
  type Obtained,
  obtainedValues,
  reassigns,
  revalidates,
  soleConsumer,
  TAKES_REFERENCE,
  UNLINKS,
  usesVariable,
  staleFinding,
} from './held-values';
import { fieldStore } from './rollback-steps';
import { usesAfterUnlock } from './use-after-unlock';
import { protectingLock } from '../knowledge/lookup';
import { withoutSpaces } from '../model/syntax-util';

/** A flag or state set to a constant (`true`, `1`, `SLOT_BUSY`, `NULL`). */
const CONSTANT = /^(?:true|false|\d+|NULL|[A-Z][A-Z0-9_]*)$/;

/**
 * A helper that sets a flag or state of what it returns to a constant
 * before returning it (a victim slot marked `read_pending = true`, an entry
 * set `BUSY`): the object is claimed for the caller, and the others that
 * follow the protocol pass it by while the lock is dropped. Like a mark made
 * in the function itself between the lookup and the unlock.
 */
function marksReturned(helper: FunctionModel): boolean {
  const returned = new Set(
    helper.blocks.flatMap((b) => b.events.flatMap((e) => (e.kind === 'return' ? [e.value.trim()] : []))),
  );
  return helper.blocks.some((b) =>
    b.events.some((e) => {
      const store = fieldStore(helper, e);
      return (
        store !== undefined &&
        returned.has(baseVariable(store.target) ?? '') &&
        /->/.test(store.target) &&
        CONSTANT.test(store.value.trim())
      );
    }),
  );
}

function checkFunction(ctx: CheckContext, fn: FunctionModel): Finding[] {
  const paths = flowPathsOf(fn);
  const events = paths.events();
  const out: Finding[] = [];
  const releases = events.filter(
    (r): r is EventRef<ReleaseEvent> => r.event.kind === 'release' && !r.event.implicit && r.event.lock.resolved,
  );
  if (releases.length === 0) return out;
  const obtained = obtainedValues(fn, paths);
  // `variable|lock` of the values the relock half reports: their use in the unlocked window is part of that finding.
  const relocked = new Set<string>();
  for (const rel of releases) {
    const lockId = rel.event.lock.id;
    // The same lock instance: same expression, its base not reassigned in between
    // (`task->pi_lock` after `task = next_task` is another lock of the same class).
    const expr = withoutSpaces(rel.event.lock.expr);
    const lockBase = baseVariable(rel.event.lock.expr);
    const reacquires = events.filter(
      (r): r is EventRef<AcquireEvent> =>
        r.event.kind === 'acquire' &&
        r.event.lock.id === lockId &&
        withoutSpaces(r.event.lock.expr) === expr &&
        paths.before(rel, r) &&
        !(lockBase !== undefined && paths.between(rel, r).some((x) => reassigns(x.event, lockBase))),
    );
    if (reacquires.length === 0) continue;
    for (const o of obtained) {
      if (!paths.before(o.ref, rel) || !heldAt(ctx, fn, paths, lockId, o.ref)) continue;
      if (soleConsumer(ctx, fn, o)) continue;
      // Released in between already: this release is not the end of the hold it was read under.
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
      const window = paths.between(o.ref, rel);
      const argIsValue = (a: string) => baseVariable(a) === o.variable;
      // A reference taken, or the object unlinked from the shared structure: it is this thread's now.
      if (
        window.some(
          (r) =>
            r.event.kind === 'call' &&
            (TAKES_REFERENCE.test(r.event.callee) || UNLINKS.test(r.event.callee)) &&
            r.event.args.some(argIsValue),
        )
      )
        continue;
      // Handed back by a helper in view that took it off its list (`iu = __get_tx_iu(ch)`): unlinked as well.
      // Or that marked it before handing it back (`page->read_pending = true`): claimed, others pass it by.
      if (o.ref.event.kind === 'call') {
        const helper = findFunction(ctx, o.ref.event.callee, fn.file);
        if (helper && (fetches(helper) || marksReturned(helper))) continue;
      }
      // The object whose lock it is cannot go stale relative to that lock.
      if (lockBase === o.variable) continue;
      // The function claimed (or swapped out) what it read the value from, or marked the
      // object itself (`epi->dying = true`), before dropping the lock.
      const owner = o.owner;
      if (owner && window.some((r) => baseVariable(fieldStore(fn, r.event)?.target ?? '') === owner)) continue;
      if (window.some((r) => r !== o.ref && baseVariable(fieldStore(fn, r.event)?.target ?? '') === o.variable))
        continue;
      if (
        o.lookup &&
        owner &&
        window.some(
          (r) =>
            r.event.kind === 'call' &&
            MUTATES.test(r.event.callee) &&
            r.event.args.some((a) => baseVariable(a) === owner),
        )
      )
        continue;
      for (const acq of reacquires) {
        const stale = firstStaleUse(fn, paths, events, o, rel, acq, lockBase);
        if (!stale) continue;
        out.push(finding(ctx, fn, paths, o, rel, acq, stale));
        relocked.add(`${o.variable}|${lockId}`);
        break;
      }
    }
  }
  out.push(...usesAfterUnlock(ctx, fn, paths, obtained, releases, relocked));
  return dedupe(out);
}

function firstStaleUse(
  fn: FunctionModel,
  paths: FlowPaths,
  events: EventRef[],
  o: Obtained,
  rel: EventRef,
  acq: EventRef,
  lockBase: string | undefined,
): EventRef | undefined {
  const after = events
    .filter((r) => paths.before(acq, r))
    .sort((a, b) => a.event.line - b.event.line || a.event.column - b.event.column);
  // Given a new value while the lock was dropped: what is used after is not the old one.
  if (paths.between(rel, acq).some((x) => reassigns(x.event, o.variable))) return undefined;
  // Branches on the lock owner's state after the retake (see below), found once, not per use.
  const checks = ownerChecks(fn, lockBase).filter((x) => paths.before(acq, x));
  for (const r of after) {
    // A path that revalidates before this use protects it; be conservative and treat any such step as covering.
    if (events.some((x) => revalidates(x.event, o) && paths.before(acq, x) && (paths.before(x, r) || x === r)))
      return undefined;
    // Or one that checks the state of the lock's own object under the retaken
    // lock and branches on it (`if (!vi->ready) continue;`): the check is how
    // the code learns whether what it held across the unlock still counts.
    if (checks.some((x) => paths.before(x, r))) return undefined;
    if (usesVariable(r.event, o.variable)) return r;
  }
  return undefined;
}

/**
 * Branches on a field of the lock's object (`if (!vi->ready)`): a block with
 * two ways out whose last step reads `lockBase->field`, as a position after
 * the block's events (where its condition is evaluated).
 */
function ownerChecks(fn: FunctionModel, lockBase: string | undefined): EventRef[] {
  if (!lockBase) return [];
  const out: EventRef[] = [];
  for (const b of fn.blocks) {
    if (b.succ.length < 2) continue;
    const last = b.events.length;
    // The condition's read, followed by nothing but the uses of locals in the same condition.
    const inCondition = (at: number) => b.events.slice(at).every((e) => e.kind === 'use');
    if ((b.accesses ?? []).some((a) => a.kind === 'read' && a.root === lockBase && inCondition(a.at)))
      out.push({ block: b.id, index: last, event: b.events[last - 1] ?? CONDITION });
  }
  return out;
}

/** Stands for a condition in a block with no events of its own (only its position matters). */
const CONDITION: EventRef['event'] = { kind: 'use', variable: '', text: '', line: 0, column: 0 };

/**
 * How sure we are that the lock protects the value: it was found in, or read
 * from, the object the lock belongs to (or the knowledge says the field is
 * protected by it). A file-scope lock protects we cannot tell what.
 */
function relation(ctx: CheckContext, o: Obtained, rel: EventRef<ReleaseEvent>): 'related' | 'global' | 'unrelated' {
  const lockBase = baseVariable(rel.event.lock.expr);
  const ev = o.ref.event;
  if (ev.kind === 'read' && ev.field && protectingLock(ctx.knowledge, ev.field) === rel.event.lock.id) return 'related';
  if (rel.event.lock.id.startsWith('file-scope:') || !lockBase) return 'global';
  if (o.owner === lockBase || mentions(o.source, lockBase)) return 'related';
  return 'unrelated';
}

function finding(
  ctx: CheckContext,
  fn: FunctionModel,
  paths: FlowPaths,
  o: Obtained,
  rel: EventRef<ReleaseEvent>,
  acq: EventRef<AcquireEvent>,
  use: EventRef,
): Finding {
  const lock = rel.event.lock.id;
  const inWindow = paths.between(rel, acq).find((r) => r.event.kind === 'callback' || r.event.kind === 'call');
  const around = inWindow ? ` around \`${calledText(inWindow)}\`` : '';
  const how = o.lookup ? `found by \`${o.lookup}()\`` : `read from \`${o.source}\``;
  const message =
    `\`${o.variable}\` is ${how} under \`${lock}\` (line ${o.ref.event.line}); the lock is dropped at line ${rel.event.line}${around} and retaken at line ${acq.event.line}, ` +
    `and \`${o.variable}\` is used at line ${use.event.line} without being looked up again: it may have changed or been freed meanwhile.`;
  const related: RelatedLocation[] = [
    { file: fn.file, line: o.ref.event.line, message: `\`${o.variable}\` obtained under \`${lock}\``, role: 'read' },
    { file: fn.file, line: rel.event.line, message: `\`${lock}\` dropped`, role: 'release', lock },
  ];
  if (inWindow)
    related.push({
      file: fn.file,
      line: inWindow.event.line,
      message: `\`${calledText(inWindow)}\` runs without the lock`,
      role: inWindow.event.kind === 'callback' ? 'callback' : 'call',
    });
  related.push(
    { file: fn.file, line: acq.event.line, message: `\`${lock}\` retaken`, role: 'acquire', lock },
    { file: fn.file, line: use.event.line, message: `stale \`${o.variable}\` used`, role: 'use' },
  );
  const tie = relation(ctx, o, rel);
  // Only a value tied to the lock's object is reported by default: a file-scope lock or an
  // unrelated object may be protected by something the function does not show.
  let confidence: Finding['confidence'] = tie !== 'related' ? 'low' : o.lookup ? 'high' : 'medium';
  if (fn.status === 'partial') confidence = lowerConfidence(confidence);
  // A use inside a loop the value was not obtained in may be the loop's own cursor
  // (`list_for_each_entry(pos, ...)` reassigns `pos` without an event the model shows).
  if (paths.onCycleAvoiding(use.block, o.ref.block)) confidence = 'low';
  // Under the retaken lock the function unhooks the value from where it found it
  // (`sch_set_cdev(sch, NULL)`, `owner->f = NULL`) before using it: it is the one
  // tearing the object down, and what kept others from freeing it meanwhile (a
  // serialising workqueue, a state check on entry) is not in the function's view.
  const unhooks = (r: EventRef): boolean => {
    const ev = r.event;
    if (ev.kind === 'call')
      return (
        o.owner !== undefined &&
        MUTATES.test(ev.callee) &&
        ev.args.some((a) => baseVariable(a) === o.owner) &&
        ev.args.some((a) => a.trim() === 'NULL')
      );
    const store = fieldStore(fn, ev);
    return store !== undefined && withoutSpaces(store.target) === o.source && /^(?:NULL|0)$/.test(store.value.trim());
  };
  if (paths.between(acq, use).some(unhooks)) confidence = 'low';
  return staleFinding(fn, o, lock, use, confidence, message, related);
}

function calledText(r: EventRef): string {
  const ev = r.event;
  if (ev.kind === 'callback') return `${withoutSpaces(textBeforeParen(ev.text) ?? ev.field)}()`;
  if (ev.kind === 'call') return `${ev.callee}()`;
  return '';
}

function dedupe(findings: Finding[]): Finding[] {
  const seen = new Set<string>();
  return findings.filter((f) => !seen.has(f.fingerprint) && seen.add(f.fingerprint));
}

export const staleAfterRelock: Check = {
  id: 'stale-after-relock',
  run(ctx: CheckContext): Finding[] {
    const out: Finding[] = [];
    for (const file of ctx.files) {
      if (!ctx.reports(file.file)) continue;
      for (const fn of file.functions) out.push(...checkFunction(ctx, fn));
    }
    return out;
  },
};
