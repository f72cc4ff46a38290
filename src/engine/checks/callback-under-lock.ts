/**
 * callback-under-lock: an ops callback (`x->ops->fn(...)`) called while a
 * lock is held on every path, where the callback's implementations take that
 * lock again (self-deadlock) or take a lock that is ordered before it
 * (inversion). Implementations come from `.fn = impl` initialisers in view,
 * else from the knowledge base (`iommufd_access_ops.unmap`: the unpin path
 * takes ioas_lock → iova_rwsem → pages mutex).
 */
import type { HeldLock } from '../model/held-locks';
import type { CallbackEvent, FunctionModel } from '../model/types';
import { withoutSpaces } from '../model/syntax-util';
import type { CallbackSummary, TakenLock, ViaStep } from '../interproc/types';
import type { Confidence, Finding, RelatedLocation } from '../types';
import type { Check, CheckContext } from './check';
import {
  dispatchGuessText,
  findFunction,
  fingerprint,
  inlineRunText,
  lineRef,
  lowerConfidence,
  perFunctionCheck,
  routeLocations,
} from './check';
import { firstStep, guessedDispatch, inlineRunOf, otherObjectStep } from '../interproc/via-chain';
import { isChangeHelper, scenarioFor } from './scenario';

/** Is `outer` ordered before `inner` (documented, or an edge in the lock graph)? */
function orderedBefore(ctx: CheckContext, outer: string, inner: string): boolean {
  if (documentedBefore(ctx, outer, inner)) return true;
  return (ctx.lockGraph.edges.get(outer)?.get(inner)?.length ?? 0) > 0;
}

function documentedBefore(ctx: CheckContext, outer: string, inner: string): boolean {
  return ctx.knowledge.documentedOrders.some((o) => o.indexOf(outer) >= 0 && o.indexOf(inner) > o.indexOf(outer));
}

/**
 * The order stands only on lock-graph routes that are guesses (every witness
 * kept relies on ops calls made in turn, or on a wide one: `guessedDispatch`)?
 * A hard-irq descriptor lock "ordered before" a mutex through some driver's
 * handler picked by name is no order.
 */
function orderOnlyGuessed(ctx: CheckContext, outer: string, inner: string): boolean {
  if (documentedBefore(ctx, outer, inner)) return false;
  const ws = ctx.lockGraph.edges.get(outer)?.get(inner) ?? [];
  return ws.length > 0 && ws.every((w) => w.dispatchGuess);
}

function callText(ev: CallbackEvent): string {
  const paren = ev.text.indexOf('(');
  return `\`${paren > 0 ? ev.text.slice(0, paren) : ev.text}()\``;
}

/**
 * `adapter->rn_ops->ndo_open(...)` → `opa_vnic_adapter.rn_ops`: the struct
 * field the ops pointer is read from, when the call reads it one level down
 * from a variable of known type; undefined otherwise.
 */
function holderOf(fn: FunctionModel, ev: CallbackEvent): string | undefined {
  const paren = ev.text.indexOf('(');
  const callee = withoutSpaces(paren > 0 ? ev.text.slice(0, paren) : ev.text);
  const m = /^\(?([A-Za-z_]\w*)(?:->|\.)(\w+)->(\w+)\)?$/.exec(callee);
  if (!m || m[3] !== ev.field) return undefined;
  const type = fn.types[m[1]];
  return type ? `${type}.${m[2]}` : undefined;
}

/**
 * Whether the implementation `name` itself calls the op it implements
 * through the same holder field: a stacked layer forwarding down (the lower
 * device's ops saved in `adapter->rn_ops` before the device's own were put
 * in place). Were it the holder's target, it would call itself without end,
 * so a call through that holder does not reach it.
 */
function forwardsThrough(
  ctx: CheckContext,
  name: string,
  file: string | undefined,
  field: string,
  holder: string,
): boolean {
  const body = findFunction(ctx, name, file);
  return (
    body?.blocks.some((b) =>
      b.events.some((e) => e.kind === 'callback' && e.field === field && holderOf(body, e) === holder),
    ) ?? false
  );
}

/**
 * The function whose own acquisition ends the route (its last step), when
 * its body also asserts the lock held (`if (flags & LOCK) mutex_lock(l);
 * else lockdep_assert_held(l);`): it takes the lock only in one mode.
 */
function modedTaker(ctx: CheckContext, t: TakenLock, lock: string): string | undefined {
  const last = t.via[t.via.length - 1];
  if (!last || t.fromKnowledge) return undefined;
  const body = findFunction(ctx, last.function, last.file);
  const asserts = body?.blocks.some((b) =>
    b.events.some((e) => e.kind === 'assert' && e.lock.id === lock && e.expect !== 'not-held'),
  );
  return asserts ? last.function : undefined;
}

/** Why a lock taken again may be another object's: the step that reached it through another object's pointer. */
function otherObjectText(step: ViaStep, anchorFile: string): string {
  const where = step.line ? ` at ${lineRef(step.file, step.line, anchorFile)}` : '';
  const how = step.callee
    ? `\`${step.function}()\` calls \`${step.callee}()\`${where} with a pointer read from another object`
    : `\`${step.function}()\` takes it${where} through a pointer another object holds`;
  return ` But the lock taken again may be another object's: ${how}, so this deadlocks only if both are one object.`;
}

/** "`drv_dma_unmap()` reaches `iommufd_access_unpin_pages()`, which takes `x`" */
function pathText(cb: CallbackSummary, t: TakenLock): string {
  const steps = t.via.filter((s) => !s.function.startsWith('->'));
  if (cb.fromKnowledge || steps.length === 0) {
    const reached = t.via.flatMap((s) => (s.reaches ? [s.reaches] : []));
    const who = reached.length > 0 ? `reach \`${reached[reached.length - 1]}()\`, which takes` : 'take';
    return `its implementations (per the knowledge of \`${cb.callback}\`) ${who} \`${t.lock}\``;
  }
  const first = steps[0].function;
  const last = steps[steps.length - 1].function;
  if (first === last) return `\`${first}()\` takes \`${t.lock}\``;
  return `\`${first}()\` reaches \`${last}()\`, which takes \`${t.lock}\``;
}

function relatedOf(
  fnFile: string,
  held: HeldLock,
  ev: CallbackEvent,
  t: TakenLock,
  cb: CallbackSummary,
): RelatedLocation[] {
  const out: RelatedLocation[] = [
    {
      file: fnFile,
      line: held.line,
      message: `\`${held.lock.id}\` ${held.how === 'assert' ? 'asserted held' : 'taken'} here`,
      role: held.how === 'assert' ? 'assert' : 'acquire',
      lock: held.lock.id,
    },
  ];
  const impl = cb.implementations.find((i) => t.via[0]?.function === i.function) ?? cb.implementations[0];
  if (impl)
    out.push({
      file: impl.file,
      line: impl.line,
      message: `\`${impl.function}()\` is an implementation of \`${cb.callback}\``,
    });
  const steps = routeLocations(t.via, t.lock);
  // The witness runs: the lock held, the callback called, the steps inside its implementation, the lock taken (the last of them).
  // with no step of the implementation in view (knowledge), the callback step itself names the lock it takes
  out.push({
    file: fnFile,
    line: ev.line,
    message: `${callText(ev)} called here`,
    role: 'callback',
    ...(steps.length === 0 ? { lock: t.lock } : {}),
  });
  out.push(...steps);
  return out;
}

export const callbackUnderLock: Check = perFunctionCheck(
  'callback-under-lock',
  (ctx, fn) => !ctx.held(fn).none,
  (ctx, fn) => {
    const findings: Finding[] = [];
    const seen = new Set<string>();
    ctx.held(fn).forEachEvent((block, index, held) => {
      const ev = block.events[index];
      if (ev.kind !== 'callback' || held.length === 0) return;
      const cb = ctx.summaries.callback(ev.opsStruct, ev.field);
      if (!cb) return;
      // A guessed ops table whose implementation is this very function is the
      // wrong guess: a dispatcher (`file_operations.mmap` calling the device's
      // `ops.mmap`) does not call itself through its own table.
      // The table may sit in another file than the function (`vt.c` listing `qp.c`'s `rvt_modify_qp`): the
      // implementation is this function when its name resolves, from the table's file, to this definition.
      if (
        cb.guessedStruct &&
        cb.implementations.some(
          (i) => i.function === fn.name && (i.file === fn.file || findFunction(ctx, i.function, i.file) === fn),
        )
      )
        return;
      for (const h of held) {
        if (!h.lock.resolved) continue;
        // Self-deadlock: the implementation takes the held lock again (read-read on an rwsem does not block).
        // A lock the implementation takes only after dropping the held one (`dropped`) does not count, nor
        // one taken with lockdep's nesting annotation: that declares another instance of the class.
        const again = cb.takes.find(
          (t) =>
            t.lock === h.lock.id &&
            !(t.mode === 'read' && h.mode === 'read') &&
            !t.dropped?.includes(h.lock.id) &&
            !t.nested,
        );
        // Inversion: it takes a lock ordered before the held one.
        const before = again
          ? undefined
          : cb.takes.find(
              (t) => t.lock !== h.lock.id && !t.dropped?.includes(h.lock.id) && orderedBefore(ctx, t.lock, h.lock.id),
            );
        const t = again ?? before;
        if (!t) continue;
        // The implementation on this route forwards the op down through the holder this call reads: not its target.
        const holder = holderOf(fn, ev);
        const impl = firstStep(t);
        if (holder && impl && forwardsThrough(ctx, impl.function, impl.file, ev.field, holder)) continue;
        const key = `${cb.callback}|${h.lock.id}`;
        if (seen.has(key)) continue;
        seen.add(key);
        const heldHow =
          h.how === 'assert'
            ? `asserted held at line ${h.line}`
            : h.how === 'entry'
              ? 'held on entry'
              : `taken at line ${h.line}`;
        const nests = again !== undefined && ctx.summaries.nestsInstances(h.lock.id);
        const tail = again
          ? nests
            ? `${pathText(cb, t)} again: a self-deadlock if both are one object (the class is also taken with a lockdep nesting annotation in view, so they may be two instances).`
            : `${pathText(cb, t)} again: self-deadlock.`
          : `${pathText(cb, t)}, which is ordered before \`${h.lock.id}\`: lock inversion, possible deadlock.`;
        // A route that runs deferred work inline is taken under the lock only in the mode its `if` names.
        const run = t.inline ? inlineRunOf(t.via) : undefined;
        // Taken again on another object of the class (a child, an array element): not the held one unless both are one.
        const other = again ? otherObjectStep(t) : undefined;
        // Through ops calls the implementation makes in turn, each implementation picked by name and type alone.
        const guess = guessedDispatch(t);
        // An inversion whose order itself stands only on such guesses.
        const guessedOrder = !again && orderOnlyGuessed(ctx, t.lock, h.lock.id);
        // The function that takes it again asserts it held on its other path: a mode its caller picks.
        const moded = again ? modedTaker(ctx, t, h.lock.id) : undefined;
        let confidence: Confidence = cb.fromKnowledge || t.fromKnowledge ? 'medium' : 'high';
        if (fn.status === 'partial') confidence = lowerConfidence(confidence);
        if (cb.guessedStruct) confidence = lowerConfidence(confidence);
        if (!again) confidence = lowerConfidence(confidence);
        // The class is taken `_nested` elsewhere: "again" may be another instance (a parent's suspend
        // resuming its children), a guess below the default until the objects are shown to be one.
        else if (nests) confidence = 'low';
        if (run || other || guess || guessedOrder || moded) confidence = 'low';
        findings.push({
          ruleId: 'callback-under-lock',
          severity: 'error',
          confidence,
          message: `${callText(ev)} is called in \`${fn.name}()\` (line ${ev.line}) with \`${h.lock.id}\` held (${heldHow}); ${tail}${other ? otherObjectText(other, fn.file) : ''}${run ? inlineRunText(run, fn.file) : ''}${guess ? dispatchGuessText(firstStep(t)?.function ?? cb.callback, guess) : ''}${guessedOrder ? ` That order itself stands only on routes through ops calls whose implementation is picked by the field's name and type alone.` : ''}${moded ? ` But \`${moded}()\` also asserts \`${h.lock.id}\` held on another path: it takes the lock only in the mode its caller asks for (a flag), and a caller holding it may ask for the other.` : ''}`,
          file: fn.file,
          line: ev.line,
          column: ev.column,
          function: fn.name,
          fingerprint: fingerprint('callback-under-lock', fn.name, [cb.callback, h.lock.id]),
          related: relatedOf(fn.file, h, ev, t, cb),
          scenario: scenarioFor('callback-under-lock', {
            file: fn.file,
            function: fn.name,
            changeHelper: isChangeHelper(fn.name),
          }),
        });
      }
    });
    return findings;
  },
);
