/**
 * missing-undo, the overwrite form: a field that owns an allocation across
 * calls (the function stores a fresh allocation in it on one path and
 * releases what it holds on another, so a value stored by one call is
 * released by a later one) is given a new allocation on a path that has
 * not released, cleared or even looked at the old value. When the paths do
 * not alternate as the author expected (the state changed behind the
 * function's back), the earlier allocation leaks.
 *
 * Allocations: calls whose knowledge pairs them with a release
 * (`releasedBy`), or allocator names (`kmalloc`, `kstrdup`, `*_alloc`, ...).
 * Releases of the field: a free-like call or a paired release that takes
 * the field or its address (`kfree(obj->buf)`,
 * `pci_load_and_free_saved_state(pdev, &obj->saved)`).
 *
 * Quiet when the release runs before the store (the fix), or after it on
 * the same path (a buffer used and freed within the call), when the field is
 * written or read before the store (cleared, or tested: `if (!obj->buf)`),
 * and when the function has no release of the field at all (a constructor
 * filling a fresh object).
 */
import { functionKnowledge } from '../knowledge/lookup';
import type { CallEvent, FunctionModel } from '../model/types';
import type { Finding } from '../types';
import type { CheckContext } from './check';
import { fingerprint } from './check';
import { type EventRef, flowPathsOf } from './flow-paths';
import { ALLOCATES, FREES } from './allocations';
import { scenarioFor } from './scenario';
import { withoutSpaces } from '../model/syntax-util';

/** `name(args)` → `name`, when the whole value is one call. */
function calleeOf(value: string): string | undefined {
  return /^\s*([A-Za-z_]\w*)\s*\(.*\)\s*$/s.exec(value)?.[1];
}

function allocates(ctx: CheckContext, callee: string): boolean {
  const released = functionKnowledge(ctx.knowledge, callee)?.releasedBy ?? [];
  return released.some((r) => FREES.test(r)) || (ALLOCATES.test(callee) && !/^(?:devm|pcim|drmm)_/.test(callee));
}

/** `b` can run after `a` on some path, through loops too (flow paths' `before` follows loop-free paths only). */
function reaches(fn: FunctionModel, a: EventRef, b: EventRef): boolean {
  if (a.block === b.block && a.index < b.index) return true;
  const seen = new Set<number>();
  const work = (fn.blocks[a.block]?.succ ?? []).map((e) => e.to);
  while (work.length > 0) {
    const x = work.pop()!;
    if (x === b.block) return true;
    if (seen.has(x)) continue;
    seen.add(x);
    for (const e of fn.blocks[x]?.succ ?? []) work.push(e.to);
  }
  return false;
}

export function ownedFieldOverwrites(ctx: CheckContext, fn: FunctionModel): Finding[] {
  const paths = flowPathsOf(fn);
  const events = paths.events();
  const out: Finding[] = [];
  for (const store of events) {
    const ev = store.event;
    if (ev.kind !== 'write' || !ev.field) continue;
    const alloc = calleeOf(ev.value);
    if (!alloc || !allocates(ctx, alloc)) continue;
    const target = withoutSpaces(ev.target);
    const pairs = functionKnowledge(ctx.knowledge, alloc)?.releasedBy ?? [];
    const releasesField = (x: CallEvent) =>
      x.callee !== alloc &&
      (FREES.test(x.callee) || pairs.includes(x.callee)) &&
      x.args.some((a) => withoutSpaces(a) === target || withoutSpaces(a) === `&${target}`);
    const releases = events.filter((r): r is EventRef<CallEvent> => r.event.kind === 'call' && releasesField(r.event));
    // The function's own word that the field outlives the call: it releases it on a path the store is not on
    // (loops included: a free loop after an allocation loop is on the store's path).
    const elsewhere = releases.filter((r) => !reaches(fn, r, store) && !reaches(fn, store, r));
    if (elsewhere.length === 0 || releases.some((r) => paths.before(r, store))) continue;
    // Cleared or tested before the store: the old value is accounted for.
    const touched = (text: string) => withoutSpaces(text) === target;
    const before = events.filter((x) => x !== store && paths.before(x, store));
    if (before.some((x) => x.event.kind === 'write' && touched(x.event.target))) continue;
    if (
      fn.blocks.some((b) =>
        (b.accesses ?? []).some(
          (a) =>
            touched(a.text) &&
            a.kind === 'read' &&
            paths.before({ block: b.id, index: a.at, event: ev }, store) &&
            (b.id !== store.block || a.at < store.index),
        ),
      )
    )
      continue;
    const rel = elsewhere[0].event;
    out.push({
      ruleId: 'missing-undo',
      severity: 'warning',
      confidence: fn.status === 'partial' ? 'low' : 'medium',
      message:
        `\`${ev.target.trim()}\` is given a new allocation from \`${alloc}()\` at line ${ev.line} without releasing ` +
        `what it holds: the function releases it on another path (\`${rel.callee}()\` at line ${rel.line}), so it ` +
        'owns an allocation across calls, and a call that reaches this store while it is still set leaks it.',
      file: fn.file,
      line: ev.line,
      column: ev.column,
      function: fn.name,
      fingerprint: fingerprint('missing-undo', fn.name, [alloc, ev.field, 'overwrite']),
      related: [
        {
          file: fn.file,
          line: ev.line,
          message: `\`${ev.target.trim()}\` given a new allocation from \`${alloc}()\``,
          role: 'store',
        },
        { file: fn.file, line: rel.line, message: `\`${rel.callee}()\` releases what \`${ev.target.trim()}\` holds` },
      ],
      scenario: scenarioFor('missing-undo', { file: fn.file, function: fn.name, leak: true }),
    });
  }
  return out;
}
