/**
 * Thread programs: each thread of a scenario compiled to a flat list of
 * instructions. One instruction is one atomic transition of the explorer and
 * one `atomic { }` block of the Promela model, so both checkers interleave at
 * exactly the same points.
 */
import type { SimFault, SimThread, SourceStep } from './types';

/** IOAS numbers inside the model: 0 is NULL, A (1) is the old IOAS, B (2) the new one. */
export const NONE = 0;
export const IOAS_A = 1;
export const IOAS_B = 2;
export const IOAS_NAMES = ['NULL', 'A', 'B'] as const;

/** Error codes a thread's `rc` local can hold. */
export const RC = { ok: 0, enoent: 1, ebusy: 2, enomem: 3 } as const;
export const RC_NAMES = ['0', '-ENOENT', '-EBUSY', '-ENOMEM'] as const;

export type MutexName = 'ioas_lock' | 'drv_lock';
export type Target = 'new' | 'cur';

export type Op =
  | { k: 'lock'; lock: MutexName }
  | { k: 'unlock'; lock: MutexName }
  /** down_write/up_write of IOAS A's iova_rwsem (the user's unmap path). */
  | { k: 'wlock' }
  | { k: 'wunlock' }
  /** Replacer entry: -ENOENT if not attached; else snapshot the state the failure contract compares with. */
  | { k: 'check-attached'; fail: number }
  /** Look up the new IOAS by id (the `lookup` fault). */
  | { k: 'lookup'; fault: boolean; fail: number }
  | { k: 'save-cur' }
  | { k: 'save-id' }
  | { k: 'busy-check'; fail: number }
  | { k: 'same-check'; done: number }
  | { k: 'clear-ioas' }
  /** iopt_add_access: `fault` lets it fail; `rcOnFail` is what it leaves in rc (0: leave rc alone). */
  | { k: 'add-access'; target: Target; fault: boolean; fail: number; rcOnFail: number }
  | { k: 'get-ref'; target: Target }
  | { k: 'put-ref'; target: Target }
  | { k: 'remove-access'; listId: 'saved' | 'field' }
  | { k: 'set-ioas'; target: Target | 'null' }
  | { k: 'restore-ioas' }
  /** v8's re-attach: reads cur's id and looks it up again (fails when cur is gone or the reattach fault fires). */
  | { k: 'read-id'; fault: boolean; fail: number }
  | { k: 'return'; error: boolean; exit: number }
  /** The driver's unmap callback: nothing to unpin → skip to `to`. */
  | { k: 'skip-if-no-pins'; to: number }
  /** The driver unpins every page it pinned (through access->ioas_unpin). */
  | { k: 'unpin-all' }
  /** The driver pins a page into access->ioas (-ENOENT while NULL). */
  | { k: 'pin'; fail: number }
  /** The driver unpins one page through access->ioas_unpin. */
  | { k: 'unpin-one' }
  /** The user's unmap ioctl looks up IOAS A and holds a users reference while it runs. */
  | { k: 'uref-get'; fail: number }
  | { k: 'uref-put' }
  /** The area has no pinned pages: it goes without notifying anyone. */
  | { k: 'skip-if-unpinned'; to: number }
  /** Notify the accesses attached to A; the access is not in A's list → skip to `to`. */
  | { k: 'notify'; to: number }
  /** Detach's entry: leave if not attached or a change is in progress; else save cur and id. */
  | { k: 'detach-check'; fail: number }
  /** Destroy IOAS A: -EBUSY while it has users. */
  | { k: 'destroy' }
  /** Replacer exit: check the failure contract, release ioas_lock if held, return rc. */
  | { k: 'exit' };

export type Instr = Op & { action: string; file?: string; line?: number; via?: SourceStep['via'] };

export interface ThreadProgram {
  thread: SimThread;
  instrs: Instr[];
}

/** The fields of an Op that hold jump targets. */
const JUMP_FIELDS = ['fail', 'done', 'to', 'exit'] as const;

/** A tiny assembler: instructions may name labels as jump targets; `label()` marks the next one. */
class Asm {
  readonly out: (Instr | { label: string })[] = [];
  add(i: Instr): this {
    this.out.push(i);
    return this;
  }
  label(name: string): this {
    this.out.push({ label: name });
    return this;
  }
  /** Resolves the `L:name` placeholders `ref` put in jump fields to instruction indexes. */
  finish(thread: SimThread): ThreadProgram {
    const at = new Map<string, number>();
    const instrs: Instr[] = [];
    for (const x of this.out) {
      if ('label' in x && !('k' in x)) at.set(x.label, instrs.length);
      else instrs.push(x as Instr);
    }
    const resolve = (v: unknown): unknown => {
      if (typeof v === 'string' && v.startsWith('L:')) {
        const i = at.get(v.slice(2));
        if (i === undefined) throw new Error(`${thread}: no label ${v}`);
        return i;
      }
      return v;
    };
    const fixed = instrs.map((i) => {
      const o: Record<string, unknown> = { ...i };
      for (const key of JUMP_FIELDS) if (key in o) o[key] = resolve(o[key]);
      return o as unknown as Instr;
    });
    return { thread, instrs: fixed };
  }
}

/** A jump target written as a label name; typed as a number so it fits Op's fields. */
const ref = (name: string): number => `L:${name}` as unknown as number;

/** The driver's unmap callback, run by whichever thread calls it: driver lock, then the unpin path. */
function callback(a: Asm, tag: string, where: { file?: string; line?: number }): void {
  a.add({ k: 'lock', lock: 'drv_lock', action: 'drv_unmap(): mutex_lock(&drv->lock)', ...where })
    .add({ k: 'skip-if-no-pins', to: ref(`${tag}-done`), action: 'drv_unmap(): pages pinned?', ...where })
    .add({ k: 'lock', lock: 'ioas_lock', action: 'unpin_pages(): mutex_lock(&access->ioas_lock)', ...where })
    .add({ k: 'unpin-all', action: 'unpin_pages(): unpin all from access->ioas_unpin', ...where })
    .add({ k: 'unlock', lock: 'ioas_lock', action: 'unpin_pages(): mutex_unlock(&access->ioas_lock)', ...where })
    .label(`${tag}-done`)
    .add({ k: 'unlock', lock: 'drv_lock', action: 'drv_unmap(): mutex_unlock(&drv->lock)', ...where });
}

/** The replacer: iommufd_access_replace()'s prologue, the helper's steps, the epilogue. */
export function replacerProgram(steps: SourceStep[], faults: readonly SimFault[]): ThreadProgram {
  const a = new Asm();
  const f = new Set(faults);
  const stepLabel = (i: number | 'return' | undefined): number =>
    i === undefined || i === 'return' ? ref('exit') : ref(`s${i}`);
  // Steps from a source file: the prologue and epilogue are the caller's (iommufd_access_replace()), not in that file; say so.
  const caller = steps.some((s) => s.file) ? 'caller: ' : '';
  a.add({ k: 'lock', lock: 'ioas_lock', action: `${caller}mutex_lock(&access->ioas_lock)` })
    .add({ k: 'check-attached', fail: ref('exit'), action: `${caller}if (!access->ioas) return -ENOENT` })
    .add({
      k: 'lookup',
      fault: f.has('lookup'),
      fail: ref('exit'),
      action: `${caller}new_ioas = iommufd_get_ioas(ictx, ioas_id)`,
    });
  steps.forEach((s, i) => {
    a.label(`s${i}`);
    const where = { file: s.file, line: s.line, ...(s.via ? { via: s.via } : {}) };
    const base = { action: s.action, ...where };
    const target: Target = s.target === 'cur' ? 'cur' : 'new';
    switch (s.op) {
      case 'save-cur':
        a.add({ k: 'save-cur', ...base });
        break;
      case 'save-id':
        a.add({ k: 'save-id', ...base });
        break;
      case 'busy-check':
        a.add({ k: 'busy-check', fail: stepLabel(s.onFail), ...base });
        break;
      case 'same-check':
        a.add({ k: 'same-check', done: ref('exit'), ...base });
        break;
      case 'clear-ioas':
        a.add({ k: 'clear-ioas', ...base });
        break;
      case 'add-access':
        // adding the old IOAS back is a rollback's re-attach: the reattach fault, and the error already in rc stays
        if (target === 'cur')
          a.add({ k: 'add-access', target, fault: f.has('reattach'), fail: stepLabel(s.onFail), rcOnFail: 0, ...base });
        else
          a.add({
            k: 'add-access',
            target,
            fault: f.has('add-access'),
            fail: stepLabel(s.onFail),
            rcOnFail: RC.enomem,
            ...base,
          });
        break;
      case 'get-ref':
        a.add({ k: 'get-ref', target, ...base });
        break;
      case 'put-ref':
        a.add({ k: 'put-ref', target, ...base });
        break;
      case 'lock':
        a.add({ k: 'lock', lock: 'ioas_lock', ...base });
        break;
      case 'unlock':
        a.add({ k: 'unlock', lock: 'ioas_lock', ...base });
        break;
      case 'unmap-callback':
        callback(a, `cb${i}`, where);
        break;
      case 'remove-access':
        a.add({ k: 'remove-access', listId: s.listId ?? 'field', ...base });
        break;
      case 'set-ioas':
        a.add({ k: 'set-ioas', target: s.target === 'null' ? 'null' : target, ...base });
        break;
      case 'restore-ioas':
        a.add({ k: 'restore-ioas', ...base });
        break;
      case 'reattach':
        // the recursive call: look the old IOAS up by id, add it back, take a reference, point at it
        a.add({
          k: 'read-id',
          fault: false,
          fail: ref(`r${i}-done`),
          action: `${s.action}: iommufd_get_ioas(cur_ioas->obj.id)`,
          ...where,
        })
          .add({
            k: 'add-access',
            target: 'cur',
            fault: f.has('reattach'),
            fail: ref(`r${i}-done`),
            rcOnFail: 0,
            action: `${s.action}: iopt_add_access(&cur_ioas->iopt, access)`,
            ...where,
          })
          .add({
            k: 'set-ioas',
            target: 'cur',
            action: `${s.action}: access->ioas = access->ioas_unpin = cur_ioas`,
            ...where,
          })
          .add({ k: 'get-ref', target: 'cur', action: `${s.action}: refcount_inc(&cur_ioas->obj.users)`, ...where })
          .label(`r${i}-done`);
        break;
      case 'return':
        a.add({ k: 'return', error: s.error ?? false, exit: ref('exit'), ...base });
        break;
    }
  });
  a.label('exit').add({ k: 'exit', action: `${caller}mutex_unlock(&access->ioas_lock); return rc` });
  return a.finish('replacer');
}

/** The driver: pins one page, then unpins one, each under its own lock and ioas_lock. */
function driverProgram(): ThreadProgram {
  const a = new Asm();
  a.add({ k: 'lock', lock: 'drv_lock', action: 'mutex_lock(&drv->lock)' })
    .add({ k: 'lock', lock: 'ioas_lock', action: 'pin_pages(): mutex_lock(&access->ioas_lock)' })
    .add({ k: 'pin', fail: ref('pinned'), action: 'pin_pages(): pin into access->ioas' })
    .label('pinned')
    .add({ k: 'unlock', lock: 'ioas_lock', action: 'pin_pages(): mutex_unlock(&access->ioas_lock)' })
    .add({ k: 'unlock', lock: 'drv_lock', action: 'mutex_unlock(&drv->lock)' })
    .add({ k: 'lock', lock: 'drv_lock', action: 'mutex_lock(&drv->lock)' })
    .add({ k: 'lock', lock: 'ioas_lock', action: 'unpin_pages(): mutex_lock(&access->ioas_lock)' })
    .add({ k: 'unpin-one', action: 'unpin_pages(): unpin one from access->ioas_unpin' })
    .add({ k: 'unlock', lock: 'ioas_lock', action: 'unpin_pages(): mutex_unlock(&access->ioas_lock)' })
    .add({ k: 'unlock', lock: 'drv_lock', action: 'mutex_unlock(&drv->lock)' });
  return a.finish('driver');
}

/** A user unmapping an IOVA range of IOAS A: pinned area → drop the rwsem, notify the access, its callback unpins. */
function userUnmapProgram(): ThreadProgram {
  const a = new Asm();
  a.add({ k: 'uref-get', fail: ref('end'), action: 'ioas = iommufd_get_ioas(ictx, A)' })
    .add({ k: 'wlock', action: 'down_write(&A->iopt.iova_rwsem)' })
    .add({ k: 'skip-if-unpinned', to: ref('unmapped'), action: 'area has pinned pages?' })
    .add({ k: 'wunlock', action: 'up_write(&A->iopt.iova_rwsem) (before notifying)' })
    .add({ k: 'notify', to: ref('put'), action: 'notify_unmap(): access in A->iopt.access_list?' });
  callback(a, 'cb', {});
  a.add({ k: 'wlock', action: 'down_write(&A->iopt.iova_rwsem) (retry)' })
    .label('unmapped')
    .add({ k: 'wunlock', action: 'unmap the area; up_write(&A->iopt.iova_rwsem)' })
    .label('put')
    .add({ k: 'uref-put', action: 'iommufd_put_object(&A->obj)' })
    .label('end');
  return a.finish('user-unmap');
}

/** Detach, with the merged helper's shape and a NULL new IOAS. */
function detachProgram(): ThreadProgram {
  const a = new Asm();
  a.add({ k: 'lock', lock: 'ioas_lock', action: 'detach: mutex_lock(&access->ioas_lock)' })
    .add({ k: 'detach-check', fail: ref('out'), action: 'detach: cur = access->ioas (leave if NULL or changing)' })
    .add({ k: 'clear-ioas', action: 'detach: access->ioas = NULL' })
    .add({ k: 'unlock', lock: 'ioas_lock', action: 'detach: mutex_unlock(&access->ioas_lock)' });
  callback(a, 'cb', {});
  a.add({ k: 'lock', lock: 'ioas_lock', action: 'detach: mutex_lock(&access->ioas_lock)' })
    .add({ k: 'remove-access', listId: 'saved', action: 'detach: iopt_remove_access(&cur->iopt, access, saved_id)' })
    .add({ k: 'put-ref', target: 'cur', action: 'detach: refcount_dec(&cur->obj.users)' })
    .add({ k: 'set-ioas', target: 'null', action: 'detach: access->ioas = access->ioas_unpin = NULL' })
    .label('out')
    .add({ k: 'unlock', lock: 'ioas_lock', action: 'detach: mutex_unlock(&access->ioas_lock)' });
  return a.finish('detach');
}

function destroyProgram(): ThreadProgram {
  const a = new Asm();
  a.add({ k: 'destroy', action: 'destroy IOAS A (-EBUSY while it has users)' });
  return a.finish('destroy');
}

/** Every thread of a scenario, in the canonical order of SIM_THREADS. */
export function buildPrograms(
  threads: readonly SimThread[],
  steps: SourceStep[],
  faults: readonly SimFault[],
): ThreadProgram[] {
  const order: SimThread[] = ['replacer', 'driver', 'user-unmap', 'detach', 'destroy'];
  return order
    .filter((t) => threads.includes(t))
    .map((t) => {
      switch (t) {
        case 'replacer':
          return replacerProgram(steps, faults);
        case 'driver':
          return driverProgram();
        case 'user-unmap':
          return userUnmapProgram();
        case 'detach':
          return detachProgram();
        case 'destroy':
          return destroyProgram();
      }
    });
}
