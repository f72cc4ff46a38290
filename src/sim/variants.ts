/**
 * The built-in variants of the replace helper, as step lists (see StepOp).
 * Written from the protocol as described in docs/simulator.md, not from kernel
 * source: each step is one effect the simulator interleaves.
 */
import type { SimVariant, SourceStep } from './types';

/** A step whose failure target is written as a label, resolved by `assemble`. */
type Draft = Omit<SourceStep, 'onFail'> & { label?: string; onFail?: string };

/** Resolves labels to indexes; 'return' stays as is. */
function assemble(drafts: Draft[]): SourceStep[] {
  const at = new Map<string, number>();
  drafts.forEach((d, i) => d.label && at.set(d.label, i));
  return drafts.map(({ label: _label, onFail, ...rest }) => {
    if (onFail === undefined) return rest;
    if (onFail === 'return') return { ...rest, onFail: 'return' };
    const i = at.get(onFail);
    if (i === undefined) throw new Error(`variant step list: no label ${onFail}`);
    return { ...rest, onFail: i };
  });
}

const LOCK: Draft = { op: 'lock', action: 'mutex_lock(&access->ioas_lock)' };
const UNLOCK: Draft = { op: 'unlock', action: 'mutex_unlock(&access->ioas_lock)' };
const UNMAP: Draft = { op: 'unmap-callback', action: 'access->ops->unmap(access->data, 0, ULONG_MAX)' };

/** The design that was merged: add the new IOAS first, drop ioas_lock only around the driver's unmap. */
function mergedDrafts(opts: { savedId: boolean; busyCheck: boolean; dropLock: boolean }): Draft[] {
  return [
    { op: 'save-cur', action: 'cur_ioas = access->ioas' },
    ...(opts.savedId ? [{ op: 'save-id', action: 'saved_id = access->iopt_access_list_id' } as Draft] : []),
    ...(opts.busyCheck
      ? [{ op: 'busy-check', onFail: 'return', action: 'if (cur_ioas != access->ioas_unpin) return -EBUSY' } as Draft]
      : []),
    { op: 'same-check', action: 'if (cur_ioas == new_ioas) return 0' },
    { op: 'clear-ioas', action: 'access->ioas = NULL' },
    { op: 'add-access', target: 'new', onFail: 'err', action: 'iopt_add_access(&new_ioas->iopt, access)' },
    { op: 'get-ref', target: 'new', action: 'refcount_inc(&new_ioas->obj.users)' },
    ...(opts.dropLock ? [UNLOCK, UNMAP, LOCK] : [UNMAP]),
    opts.savedId
      ? {
          op: 'remove-access',
          target: 'cur',
          listId: 'saved',
          action: 'iopt_remove_access(&cur_ioas->iopt, access, saved_id)',
        }
      : { op: 'remove-access', target: 'cur', listId: 'field', action: 'iopt_remove_access(&cur_ioas->iopt, access)' },
    { op: 'put-ref', target: 'cur', action: 'refcount_dec(&cur_ioas->obj.users)' },
    { op: 'set-ioas', target: 'new', action: 'access->ioas = access->ioas_unpin = new_ioas' },
    { op: 'return', error: false, action: 'return 0' },
    { label: 'err', op: 'restore-ioas', action: 'access->ioas = cur_ioas' },
    { op: 'return', error: true, action: 'return rc' },
  ];
}

/** v8: unmap and detach from the old IOAS first, then add the new one; re-attach the old by id on failure. */
function v8Drafts(): Draft[] {
  return [
    { op: 'save-cur', action: 'cur_ioas = access->ioas' },
    { op: 'same-check', action: 'if (cur_ioas == new_ioas) return 0' },
    { op: 'clear-ioas', action: 'access->ioas = NULL' },
    UNLOCK,
    UNMAP,
    LOCK,
    { op: 'remove-access', target: 'cur', listId: 'field', action: 'iopt_remove_access(&cur_ioas->iopt, access)' },
    { op: 'put-ref', target: 'cur', action: 'refcount_dec(&cur_ioas->obj.users)' },
    { op: 'add-access', target: 'new', onFail: 'err', action: 'iopt_add_access(&new_ioas->iopt, access)' },
    { op: 'set-ioas', target: 'new', action: 'access->ioas = access->ioas_unpin = new_ioas' },
    { op: 'get-ref', target: 'new', action: 'refcount_inc(&new_ioas->obj.users)' },
    { op: 'return', error: false, action: 'return 0' },
    { label: 'err', op: 'reattach', target: 'cur', action: 'WARN_ON(change_ioas(access, cur_ioas->obj.id))' },
    { op: 'return', error: true, action: 'return rc' },
  ];
}

/** The helper step list of a built-in variant; `from-source` has none (its steps come from the engine). */
export function variantSteps(variant: Exclude<SimVariant, 'from-source'>): SourceStep[] {
  switch (variant) {
    case 'merged':
      return assemble(mergedDrafts({ savedId: true, busyCheck: true, dropLock: true }));
    case 'v8':
      return assemble(v8Drafts());
    case 'v7':
      // adds first, but removes from the old IOAS with the id iopt_add_access() overwrote
      return assemble(mergedDrafts({ savedId: false, busyCheck: false, dropLock: true }));
    case 'unmap-under-lock':
      // the merged order with the driver's unmap called while ioas_lock is held
      return assemble(mergedDrafts({ savedId: true, busyCheck: true, dropLock: false }));
  }
}
