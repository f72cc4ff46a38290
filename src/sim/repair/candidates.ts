/**
 * The primitive repairs of a helper's flow. Each one is a small, local change
 * a reviewer would propose in a reply; the search combines them, fewest
 * first. They are generated from the flow's structure (which steps are
 * fallible, which cannot be undone, where the lock is dropped), never from a
 * function's name or a known bug.
 */
import { replaceMemberChain } from '../../engine/text-scan';
import type { SourceStep } from '../types';
import { cloneFlow, lockHeldBefore, needsLock, usesCur, usesSavedId } from './flow';
import type { Flow, RepairStep } from './flow';

export type RepairKind =
  'move' | 'drop-lock' | 'keep-in-local' | 'undo-on-error' | 'revalidate' | 'balance-lock' | 'drop-overwritten';

export interface RepairEdit {
  kind: RepairKind;
  /** What the edit does, in a reviewer's words, naming the calls. */
  description: string;
  /** The original step the edit is about (index into the starting list), if it has one. */
  origin?: number;
  /** move: the original step it now comes before (undefined: before an added step or the end). */
  before?: number;
}

export interface Candidate {
  flow: Flow;
  edits: RepairEdit[];
}

/** Steps that cannot be undone by the helper once done (the driver's pins, list membership, the last reference). */
function irreversible(s: SourceStep): boolean {
  return (
    s.op === 'unmap-callback' ||
    (s.op === 'remove-access' && s.target !== 'new') ||
    (s.op === 'put-ref' && s.target === 'cur')
  );
}

const quote = (s: SourceStep): string => `\`${s.action}\`${s.line ? ` (line ${s.line})` : ''}`;

/** The span of main-path steps that move together: a callback with the unlock/lock right around it moves as one. */
function unitAt(main: readonly RepairStep[], i: number): [number, number] {
  if (main[i].op === 'unmap-callback' && main[i - 1]?.op === 'unlock' && main[i + 1]?.op === 'lock')
    return [i - 1, i + 1];
  return [i, i];
}

/** Moves main[from..to] so that it starts at index `at` of the list without it. */
function moved(flow: Flow, from: number, to: number, at: number): Flow {
  const f = cloneFlow(flow);
  const unit = f.main.splice(from, to - from + 1);
  f.main.splice(at, 0, ...unit);
  return f;
}

/** Can main[from..to] run at `at` (an index of the list without it)? Values it reads exist there; the lock is held if it needs it. */
function legalAt(rest: readonly RepairStep[], unit: readonly RepairStep[], at: number): boolean {
  if (at >= rest.length || rest[rest.length - 1].op !== 'return') return false;
  const before = rest.slice(0, at);
  const after = rest.slice(at);
  const held = lockHeldBefore(rest)[at] ?? true;
  for (const s of unit) {
    if (usesCur(s) && !before.some((b) => b.op === 'save-cur')) return false;
    if (usesSavedId(s) && !before.some((b) => b.op === 'save-id')) return false;
    if (needsLock(s) && !held && unit.every((u) => u.op !== 'lock')) return false;
    // a value the unit produces is still produced before its readers
    if (s.op === 'save-cur' && before.some(usesCur)) return false;
    if (s.op === 'save-id' && before.some(usesSavedId)) return false;
  }
  // a check that leaves early stays before the steps it guards against
  if (unit.some((s) => s.op === 'return')) return false;
  return after.length > 0;
}

function moves(flow: Flow): Candidate[] {
  const out: Candidate[] = [];
  const main = flow.main;
  for (let i = 0; i < main.length; i++) {
    const s = main[i];
    const fallible = s.handler !== undefined;
    if (!fallible && !irreversible(s)) continue;
    const [from, to] = unitAt(main, i);
    const unit = main.slice(from, to + 1);
    const rest = [...main.slice(0, from), ...main.slice(to + 1)];
    // a fallible step moves earlier, past what cannot be undone; an irreversible one moves later, past a fallible step
    const targets: number[] = [];
    // nearest first: the smallest move that works is the one proposed
    if (fallible) for (let at = from - 1; at >= 0; at--) targets.push(at);
    else for (let at = from + 1; at < rest.length; at++) if (rest[at - 1].handler !== undefined) targets.push(at);
    for (const at of targets) {
      if (!legalAt(rest, unit, at)) continue;
      const beforeStep = rest[at];
      out.push({
        flow: moved(flow, from, to, at),
        edits: [
          {
            kind: 'move',
            origin: s.origin,
            before: beforeStep.origin,
            description: `move ${quote(s)} before ${quote(beforeStep)}`,
          },
        ],
      });
    }
  }
  return out;
}

const lockStep = (kind: 'lock' | 'unlock', like?: SourceStep): RepairStep => ({
  op: kind,
  action: like ? like.action.replace(/mutex_(un)?lock/, `mutex_${kind}`) : `mutex_${kind}(&access->ioas_lock)`,
});

/** The check a helper needs once it drops the lock mid-way: another change may be in its own unlocked window. */
function busyCheck(flow: Flow): RepairStep | undefined {
  const cur = flow.main.find((s) => s.op === 'save-cur');
  if (!cur || flow.main.some((s) => s.op === 'busy-check')) return undefined;
  const name = /^(\w+)\s*=/.exec(cur.action)?.[1] ?? 'cur';
  return { op: 'busy-check', onFail: 'return', action: `if (${name} != access->ioas_unpin) return -EBUSY` };
}

function withBusyCheck(f: Flow, check: RepairStep): void {
  const at = f.main.findIndex((s) => s.op === 'save-id');
  const cur = f.main.findIndex((s) => s.op === 'save-cur');
  f.main.splice(Math.max(at, cur) + 1, 0, check);
}

/**
 * What dropping ioas_lock mid-way needs: `access->ioas = NULL` before the
 * first unlock (new pins fail and a concurrent detach or change sees the
 * change in progress) and the busy check on entry. Returns the words for
 * what was added, or undefined when nothing was missing.
 */
function addRevalidation(f: Flow): string | undefined {
  const words: string[] = [];
  const unlock = f.main.findIndex((s) => s.op === 'unlock');
  if (unlock >= 0 && !f.main.slice(0, unlock).some((s) => s.op === 'clear-ioas')) {
    f.main.splice(unlock, 0, { op: 'clear-ioas', action: 'access->ioas = NULL' });
    words.push(
      'set `access->ioas = NULL` before dropping ioas_lock, so new pins fail and a concurrent detach sees the change',
    );
  }
  const check = busyCheck(f);
  if (check) {
    withBusyCheck(f, check);
    words.push(`check \`${check.action}\` on entry, since another change may be in its own unlocked window`);
  }
  return words.length > 0 ? words.join('; ') : undefined;
}

function dropLock(flow: Flow): Candidate[] {
  const out: Candidate[] = [];
  const held = lockHeldBefore(flow.main);
  const lockLike = flow.main.find((s) => s.op === 'lock' || s.op === 'unlock');
  flow.main.forEach((s, i) => {
    if (s.op !== 'unmap-callback' || !held[i]) return;
    const f = cloneFlow(flow);
    f.main.splice(i, 1, lockStep('unlock', lockLike), f.main[i], lockStep('lock', lockLike));
    const added = addRevalidation(f);
    const also = added ? `; ${added}` : '';
    out.push({
      flow: f,
      edits: [{ kind: 'drop-lock', origin: s.origin, description: `drop ioas_lock around ${quote(s)}${also}` }],
    });
  });
  return out;
}

function revalidate(flow: Flow): Candidate[] {
  if (!flow.main.some((s) => s.op === 'unlock')) return [];
  const f = cloneFlow(flow);
  const added = addRevalidation(f);
  return added
    ? [{ flow: f, edits: [{ kind: 'revalidate', description: `the helper drops ioas_lock: ${added}` }] }]
    : [];
}

/**
 * A write of `access->ioas`/`ioas_unpin` that a later write on the main path
 * replaces while ioas_lock stays held: nobody can see it, but it resets what
 * the model tracks with it (a detach's NULL also forgets the list slot).
 */
function dropOverwritten(flow: Flow): Candidate[] {
  const out: Candidate[] = [];
  const writes = new Set(['set-ioas', 'clear-ioas', 'restore-ioas']);
  flow.main.forEach((s, i) => {
    if (s.op !== 'set-ioas' || s.target !== 'null') return;
    const later = flow.main.findIndex((n, k) => k > i && n.op === 'set-ioas' && n.target !== 'null');
    if (later < 0 || flow.main.slice(i + 1, later).some((n) => n.op === 'unlock' || writes.has(n.op))) return;
    const f = cloneFlow(flow);
    f.main.splice(i, 1);
    out.push({
      flow: f,
      edits: [
        {
          kind: 'drop-overwritten',
          origin: s.origin,
          description: `drop ${quote(s)}: ${quote(flow.main[later])} replaces it before anyone can see it`,
        },
      ],
    });
  });
  return out;
}

function keepInLocal(flow: Flow): Candidate[] {
  const out: Candidate[] = [];
  flow.main.forEach((s, i) => {
    if (s.op !== 'remove-access' || s.listId !== 'field') return;
    if (!flow.main.slice(0, i).some((p) => p.op === 'add-access')) return;
    const f = cloneFlow(flow);
    const saved = f.main.find((p) => p.op === 'save-id');
    const name = (saved && /^(\w+)\s*=/.exec(saved.action)?.[1]) ?? 'saved_id';
    const action = /->\s*iopt_access_list_id/.test(s.action)
      ? replaceMemberChain(s.action, 'iopt_access_list_id', name)
      : s.action.replace(/\)\s*$/, `, ${name})`);
    f.main[i] = { ...f.main[i], listId: 'saved', action };
    if (!saved) {
      const cur = f.main.findIndex((p) => p.op === 'save-cur');
      f.main.splice(cur + 1, 0, { op: 'save-id', action: 'saved_id = access->iopt_access_list_id' });
    }
    out.push({
      flow: f,
      edits: [
        {
          kind: 'keep-in-local',
          origin: s.origin,
          description: `keep the list id in a local on entry and give it to ${quote(s)}: \`iopt_add_access()\` overwrites \`access->iopt_access_list_id\``,
        },
      ],
    });
  });
  return out;
}

/** The step that undoes a reversible one, if the helper can undo it. */
function undoOf(s: SourceStep): RepairStep | undefined {
  if (s.op === 'clear-ioas') return { op: 'restore-ioas', action: `access->ioas = cur` };
  if (s.op === 'get-ref' && s.target === 'new')
    return { op: 'put-ref', target: 'new', action: 'refcount_dec(&new->obj.users)' };
  return undefined;
}

function undoOnError(flow: Flow): Candidate[] {
  const out: Candidate[] = [];
  flow.main.forEach((s, i) => {
    if (s.handler === undefined) return;
    const undos = flow.main
      .slice(0, i)
      .map(undoOf)
      .filter((u): u is RepairStep => !!u)
      .reverse();
    const block = flow.handlers[s.handler];
    const ret = block[block.length - 1];
    const next = [...undos, ret];
    const same =
      next.length === block.length && next.every((n, k) => n.op === block[k].op && n.target === block[k].target);
    if (same) return;
    const f = cloneFlow(flow);
    f.handlers[s.handler] = next.map((n) => ({ ...n }));
    const dropped = block.filter(
      (b) => b.op !== 'return' && !undos.some((u) => u.op === b.op && u.target === b.target),
    );
    const words =
      undos.length > 0 ? `undo what came before it (${undos.map((u) => u.op).join(', ')})` : 'just return the error';
    const instead = dropped.length > 0 ? ` instead of ${dropped.map(quote).join(', ')}` : '';
    out.push({
      flow: f,
      edits: [{ kind: 'undo-on-error', origin: s.origin, description: `when ${quote(s)} fails, ${words}${instead}` }],
    });
  });
  return out;
}

/** A path that leaves with ioas_lock in another state than on entry gets it taken back or released. */
function balanceLock(flow: Flow): Candidate[] {
  const out: Candidate[] = [];
  const held = lockHeldBefore(flow.main);
  flow.main.forEach((s, i) => {
    if (s.handler === undefined || held[i]) return;
    const f = cloneFlow(flow);
    const block = f.handlers[s.handler];
    if (block.some((b) => b.op === 'lock')) return;
    block.splice(block.length - 1, 0, lockStep('lock'));
    out.push({
      flow: f,
      edits: [
        {
          kind: 'balance-lock',
          origin: s.origin,
          description: `retake ioas_lock on the error path of ${quote(s)} before returning`,
        },
      ],
    });
  });
  return out;
}

/** Every one-edit change of a flow, in a fixed order. */
export function candidatesOf(flow: Flow): Candidate[] {
  return [
    ...keepInLocal(flow),
    ...undoOnError(flow),
    ...dropLock(flow),
    ...revalidate(flow),
    ...balanceLock(flow),
    ...dropOverwritten(flow),
    ...moves(flow),
  ];
}
