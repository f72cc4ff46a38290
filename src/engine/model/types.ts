/**
 * The per-function effect model: what every check reads. Built once per
 * function from the syntax tree (src/engine/model/), never by a check itself.
 *
 * Lines and columns are 1-based. A lock's identity is the lockdep-like class
 * `struct_name.field` (`iommufd_access.ioas_lock`, `io_pagetable.iova_rwsem`,
 * `iopt_pages.mutex`); a file-scope lock is `file-scope:name`; an expression
 * the model could not resolve keeps `resolved: false` and its source text.
 */

export type LockKind = 'mutex' | 'rwsem' | 'spinlock' | 'xa_lock' | 'unknown';

/** exclusive: mutex/spinlock; read/write: the two sides of an rwsem. */
export type LockMode = 'exclusive' | 'read' | 'write';

export interface LockRef {
  /** Class identity, e.g. `iommufd_access.ioas_lock`. */
  id: string;
  kind: LockKind;
  /** The source expression, e.g. `&access->ioas_lock`. */
  expr: string;
  /** False when the struct type of the base could not be found. */
  resolved: boolean;
}

export interface Site {
  line: number;
  column: number;
}

export interface AcquireEvent extends Site {
  kind: 'acquire';
  lock: LockRef;
  mode: LockMode;
  /** mutex_trylock & co: held only on the success edge (see Edge.when). */
  trylock: boolean;
  /** _nested / nest_lock variants: lockdep's sanctioned same-class nesting. */
  nested: boolean;
  /** guard(): released at scope exit; scoped_guard(): released at its block's end. */
  scope?: 'guard' | 'scoped_guard';
  api: string;
}

export interface ReleaseEvent extends Site {
  kind: 'release';
  lock: LockRef;
  mode: LockMode;
  /** True when synthesised at a guard()/scoped_guard() scope exit. */
  implicit: boolean;
  api: string;
}

export interface AssertEvent extends Site {
  kind: 'assert';
  lock: LockRef;
  /** lockdep_assert_held / _read / _write / _not_held. */
  expect: 'held' | 'read' | 'write' | 'not-held';
}

export interface CallEvent extends Site {
  kind: 'call';
  callee: string;
  /** Argument source texts. */
  args: string[];
  /** The variable the result is assigned to (`rc = foo()`), if any. */
  resultVar?: string;
  /** The whole call expression's text, for messages. */
  text: string;
  /**
   * For arguments that are the address of a field (`&obj->id`, `&a->b.c`):
   * argument index → `struct.field`, so a callee that stores through that
   * argument (`xa_alloc(&xa, &obj->id, ...)`) is seen writing the field.
   */
  addressed?: Record<number, string>;
  /** A call through a local function pointer: the functions this function assigned to it (`func = handler;`). */
  targets?: string[];
  /**
   * The call runs a work item inline that the other branch of the same
   * `if`/`else` hands to a deferral API (`if (polling) handler(&x->work);
   * else queue_work(wq, &x->work);`): the deferral's API and line. What the
   * callee takes is then taken under this function's locks only in the mode
   * the condition names (see model/deferred-work.ts).
   */
  inlineOf?: { api: string; line: number };
}

/** `x->ops->fn(...)` or `ops->fn(...)`: an indirect call through an ops table. */
export interface CallbackEvent extends Site {
  kind: 'callback';
  /** The ops struct type when resolved (`iommufd_access_ops`), else undefined. */
  opsStruct?: string;
  field: string;
  args: string[];
  resultVar?: string;
  text: string;
}

/** A write to a field of a shared object (`access->ioas = NULL`), or through a pointer parameter (`*out = id`). */
export interface WriteEvent extends Site {
  kind: 'write';
  /** The lvalue's text, `access->ioas`, or `*out` for a store through a parameter. */
  target: string;
  /** `struct.field` when the base's type is known (`iommufd_access.ioas`). */
  field?: string;
  /** The assigned expression's text. */
  value: string;
}

/** A read of a field of a shared object into a local: `cur = access->ioas`. */
export interface ReadEvent extends Site {
  kind: 'read';
  source: string;
  field?: string;
  /** The local it is stored in, if any. */
  into?: string;
  /**
   * True when `source` is another local or parameter, not a shared field
   * (`err = npinned`, `pos = next`): the checks see the local reassigned.
   */
  local?: boolean;
}

/** A use of a local variable (for stale-after-relock). */
export interface UseEvent extends Site {
  kind: 'use';
  variable: string;
  text: string;
}

export interface ReturnEvent extends Site {
  kind: 'return';
  /** The returned expression's text ('' for `return;`). */
  value: string;
  /** Returns an errno (`-EINVAL`, `rc` known to hold an error on this path, `ERR_PTR(...)`). */
  isError: boolean;
}

export type Event =
  | AcquireEvent
  | ReleaseEvent
  | AssertEvent
  | CallEvent
  | CallbackEvent
  | WriteEvent
  | ReadEvent
  | UseEvent
  | ReturnEvent;

/**
 * A condition on a CFG edge, when the model understood it:
 * - `error`/`ok`: the edge is taken when the result of the call event at
 *   `call` (index into the source block's events) signals an error / success
 *   (`if (rc)`, `if (IS_ERR(p))`, `if (!p)`, `if (WARN_ON(rc))`, `if (xa_err(..))`, `if (rc < 0)`);
 * - `locked`/`unlocked`: the success / failure edge of a trylock event.
 */
export interface EdgeCondition {
  on: 'error' | 'ok' | 'locked' | 'unlocked';
  /** Index of the call/acquire event in the source block. */
  event: number;
}

export interface Edge {
  to: number;
  when?: EdgeCondition;
  /**
   * A conditional acquire (trylock, `mutex_lock_interruptible` & co) in an
   * earlier block whose result this branch tests through the local it was
   * stored in (`if (x) err = mutex_lock_killable(l); else mutex_lock(l);
   * if (err) return err;`): on this edge that acquire failed, so the lock is
   * not held here whichever way the path came (the other way left the local
   * untouched, so it cannot take this edge).
   */
  failed?: { block: number; event: number };
}

export interface Block {
  id: number;
  events: Event[];
  succ: Edge[];
  /** The goto label that starts this block, if any (`err_unlock`). */
  label?: string;
  /** The line of the `goto` that ends this block, if one does (where a path jumps to its unwinding). */
  gotoLine?: number;
  /** For the first block of an `if`'s branch: the line of the `if` (where the path turns). */
  branchLine?: number;
  /**
   * Field accesses through a pointer (`vdev->irq_type`, `s->access->ioas->iopt`)
   * in this block, for the lockset rule (unlocked-access). Kept beside the
   * events, not among them, so the other rules never see them.
   */
  accesses?: FieldAccess[];
}

/**
 * A read or write of a field reached through a pointer: every level of a
 * member chain is one access (`a->b->c` reads `A.b` and `B.c`). `&x->f` is no
 * access (an address); `READ_ONCE()`, `WRITE_ONCE()`, `smp_load_acquire()`,
 * `rcu_dereference()` and the like are `marked`: the author meant a lockless access.
 */
export interface FieldAccess extends Site {
  /** `struct.field`. */
  field: string;
  kind: 'read' | 'write';
  /** The access's text, `vdev->irq_type`. */
  text: string;
  /** Index of the event this access comes before (the block's length when none follows): the held locks there are the access's. */
  at: number;
  /** The chain's leftmost identifier (`s` in `s->access->ioas`), when it is one. */
  root?: string;
  marked?: boolean;
}

export interface FunctionModel {
  name: string;
  file: string;
  line: number;
  endLine: number;
  /** Parameter and local declarations: name → struct type name (`access` → `iommufd_access`). */
  types: Record<string, string>;
  blocks: Block[];
  entry: number;
  /** The exit block (all returns flow into it). */
  exit: number;
  /** Locks named by `__must_hold(...)` annotations (held on entry and exit). */
  mustHold: LockRef[];
  /** Locks named by `__acquires(...)`: the function returns with them held (a lock API). */
  acquires?: LockRef[];
  /** Locks named by `__releases(...)`: the function releases a lock its caller took. */
  releases?: LockRef[];
  /**
   * `spin_lock_init(&x->lock)`, `mutex_init()`, `init_rwsem()`,
   * `lockdep_set_class()` in the body: lockdep gives every such site a class
   * of its own, so a `struct.field` initialised at two sites is two classes.
   */
  lockInits?: { lock: string; line: number }[];
  /**
   * Locals set to the address of a member of another local (`hwpt =
   * &hwpt_paging->common`): the same object under another name, for the
   * checks that follow one object through the function. `member`: the
   * member taken (`common`), for the checks that follow a container
   * (`list = &fault->deliver`).
   */
  memberAliases?: { name: string; of: string; member?: string; line: number }[];
  /** Parameter names in order (`...` left out). */
  params?: string[];
  /**
   * A comment above or inside the function tells callers to hold a lock
   * ("Caller must hold ...", "called with ... held"): a documented helper.
   */
  callerHoldsNote?: true;
  /** Declared `static`: only its file calls it, so with no direct call in view it runs through a pointer. */
  fileLocal?: true;
  /** 'partial' when the body contained ERROR/MISSING nodes the model skipped. */
  status: 'parsed' | 'partial';
  reason?: string;
}

/** `.field = function` designated initialisers of ops tables in the analysed files. */
export interface OpsImplementation {
  opsStruct: string;
  field: string;
  function: string;
  file: string;
  line: number;
}

/** Everything the model learnt from one file. */
export interface FileModel {
  file: string;
  functions: FunctionModel[];
  /** struct name → field name → field type text (`struct iommufd_ioas *`). */
  structs: Record<string, Record<string, string>>;
  opsImplementations: OpsImplementation[];
  /** Orders read from "locking order is A -> B -> C" comments, as written (resolved by the engine). */
  documentedOrders: {
    names: string[];
    line: number;
    /** The struct defined right below the comment, which bare names resolve in first. */ struct?: string;
  }[];
  /** Functions that could not be modelled at all (with why). */
  skipped: { function: string; line: number; reason: string }[];
}
