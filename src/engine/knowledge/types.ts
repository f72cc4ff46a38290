/**
 * What the analyzer knows about code it cannot see: lock behaviour of entry
 * points, which calls can fail, which steps cannot be undone, which restore.
 * Defaults for iommufd live in defaults.ts; users override them with
 * `.iommufd-review.json` (see config.ts).
 */
import type { LockKind, LockMode } from '../model/types';

export interface LockTake {
  /** `struct.field` class id. */
  lock: string;
  mode: LockMode;
}

export interface FunctionKnowledge {
  /** Locks the function takes (and releases) inside, outer to inner. */
  takes?: LockTake[];
  /** Its error return is checked: a step that can fail. */
  fallible?: boolean;
  /** Why it cannot be undone by an error path, when it cannot. */
  irreversible?: string;
  /** It restores previous state (re-attach, re-add). */
  restoring?: boolean;
  /**
   * Why the locks it takes are not part of its callers' lock order, when they
   * are not: it runs only once the kernel has found a bug (a sanitizer's or
   * lockdep's report, a WARN, a panic), or it is lockdep's own bookkeeping.
   * Routes stop at it: its body, even in view, adds nothing to its callers.
   */
  outsideLockOrder?: string;
  /** Functions it reaches whose effects it inherits (`vfio_unpin_pages` → `iommufd_access_unpin_pages`). */
  reaches?: string[];
  /** Locks it asserts held on entry (`lockdep_assert_held`). */
  requires?: LockTake[];
  /**
   * `struct.field`s of objects passed to it that it overwrites
   * (`iopt_add_access` stores the new slot in `iommufd_access.iopt_access_list_id`).
   */
  writes?: string[];
  /**
   * `struct.field`s it reads from an object passed to it, when called with
   * exactly `whenArgs` arguments: an older signature that took the value from
   * the object instead of an argument (`iopt_remove_access(iopt, access)`
   * before Linux 6.6 read `access->iopt_access_list_id` itself).
   */
  implicitReads?: { field: string; whenArgs: number }[];
  /**
   * Argument positions (0-based) it stores through: an out-parameter
   * (`xa_alloc(xa, &obj->id, ...)` writes `obj->id`, `copy_from_user(&obj->f, ...)` writes `obj->f`).
   */
  outParams?: number[];
  /**
   * Functions that undo a successful call (`vfio_pin_pages` → `vfio_unpin_pages`):
   * what an error path after it must call (missing-undo). The acquired object is
   * the call's result, or its first argument when the result is a count or errno.
   */
  releasedBy?: string[];
  /**
   * An iterator (macro): the argument positions it moves (its cursors), and the
   * lock class its cursors are valid under only (`io_pagetable.iova_rwsem` for
   * iommufd's area iterators): a cursor used after that lock is released is stale.
   */
  iterator?: { cursors: number[]; validUnder?: string };
  /**
   * It makes an object reachable by other threads: the argument at `object`
   * (`&obj->node`, or the object itself) is put into the container at `into`
   * (`list_add(&obj->node, &head->list)`: object 0, into 1; `xa_store(xa, id, obj, gfp)`: object 2, into 0).
   */
  publishes?: { object: number; into: number };
  /**
   * It ends the construction of the object at argument `object`
   * (`iommufd_object_finalize()`); `aborts`: it ends it by tearing it down, on the failure path
   * (`iommufd_object_abort()`).
   */
  finishes?: { object: number; aborts?: boolean };
}

export interface CallbackKnowledge {
  /** What every implementation's path takes, when none is in view. */
  takes?: LockTake[];
  /**
   * Locks the framework holds when it calls the implementations (the PCI
   * error recovery walks the bus with `pci_bus_sem` held for read around
   * `pci_error_handlers.error_detected`): every lock an implementation in
   * view takes is taken under them (lock-order edges).
   */
  calledWith?: LockTake[];
  reaches?: string[];
  irreversible?: string;
}

export interface Knowledge {
  /** Function name → knowledge. */
  functions: Record<string, FunctionKnowledge>;
  /** `ops_struct.field` (`iommufd_access_ops.unmap`) → knowledge. */
  callbacks: Record<string, CallbackKnowledge>;
  /** struct name → field → type text; merged under the structs found in the analysed files. */
  structs: Record<string, Record<string, string>>;
  /** `struct.field` → kind, for lock fields whose declaration is not in view. */
  lockKinds: Record<string, LockKind>;
  /** Documented orders, each outer to inner, as lock class ids. */
  documentedOrders: string[][];
  /** `struct.field` of data → the lock class that protects it. */
  protectedBy: Record<string, string>;
}

/** The shape of `.iommufd-review.json`: every key optional, merged over the defaults. */
export interface ReviewConfig {
  functions?: Record<string, FunctionKnowledge>;
  callbacks?: Record<string, CallbackKnowledge>;
  structs?: Record<string, Record<string, string>>;
  lockKinds?: Record<string, LockKind>;
  documentedOrders?: string[][];
  protectedBy?: Record<string, string>;
  /** Rule ids to turn off. */
  disabledRules?: string[];
  minConfidence?: 'low' | 'medium' | 'high';
}
