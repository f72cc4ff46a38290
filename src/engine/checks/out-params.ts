/**
 * Out-parameters: a call that stores through one of its arguments writes
 * what that argument points at. `xa_alloc(&xa, &obj->id, ...)` writes
 * `obj->id` as surely as `obj->id = id` does. Which arguments: the knowledge
 * (`outParams`), else the callee's body in view (`*out = ...` on a pointer
 * parameter).
 */
import { functionKnowledge } from '../knowledge/lookup';
import type { CallEvent } from '../model/types';
import type { CheckContext } from './check';
import { findFunction } from './check';

/** `*out` / `*(out)` → `out`; anything else → ''. */
function derefName(target: string): string {
  let t = target.trim();
  if (!t.startsWith('*')) return '';
  t = t.slice(1).trim();
  if (t.startsWith('(') && t.endsWith(')')) t = t.slice(1, -1).trim();
  return /^[A-Za-z_]\w*$/.test(t) ? t : '';
}

/** Argument positions the callee stores through. */
export function outParams(ctx: CheckContext, ev: CallEvent, file?: string): number[] {
  const known = functionKnowledge(ctx.knowledge, ev.callee)?.outParams;
  if (known) return known;
  const body = findFunction(ctx, ev.callee, file);
  if (!body?.params || body.params.length === 0) return [];
  const out: number[] = [];
  for (const b of body.blocks) {
    for (const e of b.events) {
      if (e.kind !== 'write') continue;
      const i = body.params.indexOf(derefName(e.target));
      if (i >= 0 && !out.includes(i)) out.push(i);
    }
  }
  return out;
}

/** The fields a call writes through its out-parameters: `{ index, target: 'obj->id', field: 'foo.id' }`. */
export function outParamWrites(
  ctx: CheckContext,
  ev: CallEvent,
  file?: string,
): { index: number; target: string; field?: string }[] {
  if (!ev.addressed && !ev.args.some((a) => a.trimStart().startsWith('&'))) return [];
  const out: { index: number; target: string; field?: string }[] = [];
  for (const i of outParams(ctx, ev, file)) {
    const arg = ev.args[i];
    if (arg === undefined) continue;
    const target = arg.trim().replace(/^&\s*/, '');
    if (target === arg.trim() || !/->|\./.test(target)) continue;
    out.push({ index: i, target, ...(ev.addressed?.[i] ? { field: ev.addressed[i] } : {}) });
  }
  return out;
}
