/**
 * Function summaries: what a call to a function does, as seen by its caller,
 * computed over every file in view and completed by the knowledge base for
 * functions whose bodies are not in view.
 */
import type { LockKind, LockMode, LockRef } from '../model/types';

/** One step of a call chain, from the summarised function down to an effect. */
export interface ViaStep {
  /** The function in which this step happens. */
  function: string;
  file?: string;
  line?: number;
  /** What happens there: `calls iopt_add_access()`, `takes io_pagetable.iova_rwsem`. */
  what: string;
  /** The function a call step calls (rules ask which one; `what` is for people). */
  callee?: string;
  /** The function a knowledge step says the function reaches. */
  reaches?: string;
  /** A call step that runs a work item inline which the other branch defers (the model's `CallEvent.inlineOf`). */
  inlineOf?: { api: string; line: number };
}

/** Where a route runs deferred work inline: the function, its call, and the deferral the call stands in for. */
export interface InlineRun {
  function: string;
  file?: string;
  /** The call that runs the work (`smi_recv_work`) and its line. */
  callee: string;
  line?: number;
  /** The deferral API the other branch uses (`queue_work`) and its line. */
  api: string;
  apiLine: number;
}

export interface TakenLock {
  lock: string;
  kind: LockKind;
  mode: LockMode;
  resolved: boolean;
  /**
   * How it is reached: the last step is the acquisition itself (in view) or
   * the call into a function whose knowledge says it takes the lock. Empty
   * never: the first step is inside the summarised function.
   */
  via: ViaStep[];
  /** True when some step comes from the knowledge base rather than a body in view. */
  fromKnowledge: boolean;
  /**
   * Locks the caller holds that are released on the way before this lock is
   * taken (`mutex_unlock(&lock); destroy(x); mutex_lock(&lock);`): no edge
   * from them. Absent when nothing is dropped.
   */
  dropped?: string[];
  /**
   * Taken with lockdep's sanctioned same-class nesting (`mutex_lock_nested`,
   * `_nest_lock`) on every route: the author declares it a second instance of
   * a class already held, not the held object again. Absent otherwise.
   */
  nested?: true;
  /**
   * Every route to it passes a call that runs deferred work inline (a step
   * with `inlineOf`): taken under the caller's locks only in the mode the
   * `if` names, not on the usual path. Absent otherwise.
   */
  inline?: true;
  /**
   * Whose lock it is, as the summarised function sees the object: its
   * parameter number `object` (0-based) when the lock is that parameter's
   * (`&fence->lock` with `fence` the first parameter); `OTHER_OBJECT` when
   * every route reaches it through a pointer another object holds
   * (`dma_fence_add_callback(array->fences[i], ...)`, `&dev->parent->mutex`):
   * a lock of the same class on another object. Absent when not known.
   */
  object?: number;
}

/** `TakenLock.object` of a lock on an object reached through a pointer another object holds. */
export const OTHER_OBJECT = -2;

export interface RequiredLock {
  lock: string;
  /** `held`, `read`, `write` from lockdep_assert_held*; `must-hold` from `__must_hold`. */
  expect: 'held' | 'read' | 'write';
  line?: number;
  file?: string;
}

export interface IrreversibleStep {
  /** Why it cannot be undone (from the knowledge base entry that matched). */
  why: string;
  /** Chain down to the irreversible call or callback. */
  via: ViaStep[];
}

export interface ReachedCallback {
  /** `iommufd_access_ops.unmap` when the ops struct is known, else `?.unmap`. */
  callback: string;
  via: ViaStep[];
}

export interface FunctionSummary {
  name: string;
  /** Where the body is, when in view. */
  file?: string;
  line?: number;
  inView: boolean;
  /** Locks taken inside (transitively through callees in view or in knowledge); trylocks excluded. */
  takes: TakenLock[];
  /** Locks the function expects held on entry (lockdep_assert_held before any own acquire, __must_hold). */
  requires: RequiredLock[];
  /** Some return is an error return, or knowledge says its error return is checked. */
  fallible: boolean;
  /** The first irreversible step it contains (itself, a callee, or a callback), if any. */
  irreversible?: IrreversibleStep;
  /** Knowledge says it restores previous state. */
  restoring: boolean;
  /** Ops callbacks it calls, directly or through callees. */
  callbacks: ReachedCallback[];
  /** The body, or one in its reach, was partially parsed or calls through unresolved pointers. */
  partial: boolean;
  /** Locks it takes and still holds at every return (lock helpers): held in the caller after the call. */
  leavesHeld?: { lock: LockRef; mode: LockMode }[];
  /** Locks it releases without having taken them (unlock helpers): released in the caller by the call. */
  releasesHeld?: string[];
  /**
   * Locks the caller holds that it releases on some returns and not on
   * others, where error and success returns do not tell them apart (`return
   * 0` with the lock held, `return ret ? ret : 1` after dropping it): after
   * the call the caller may no longer hold them.
   */
  mayReleaseHeld?: string[];
  /**
   * Per outcome, read from the function's own returns: what it does to the
   * caller's locks only when it fails (a helper that returns with the lock
   * held on success and released on failure) or only when it succeeds (a
   * lock-on-success wrapper).
   */
  onError?: OutcomeEffect;
  onOk?: OutcomeEffect;
}

export interface OutcomeEffect {
  acquires: { lock: LockRef; mode: LockMode }[];
  releases: string[];
}

export interface Summaries {
  /** The summary of a function by name (in view or in knowledge); undefined when neither knows it. `fromFile` prefers a static definition in the caller's file. */
  get(name: string, fromFile?: string): FunctionSummary | undefined;
  /** What an ops callback's implementations take: from `.field = fn` initialisers in view, else knowledge. */
  callback(opsStruct: string | undefined, field: string): CallbackSummary | undefined;
  /**
   * Some function in view takes this lock class with lockdep's nesting
   * annotation (`mutex_lock_nested`): its authors declare that two instances
   * of the class nest, so a plain second acquisition may be the other one.
   */
  nestsInstances(lock: string): boolean;
}

export interface CallbackSummary {
  /** `iommufd_access_ops.unmap`. */
  callback: string;
  /** Implementations in view (function names), empty when only knowledge speaks. */
  implementations: { function: string; file: string; line: number }[];
  /** Locks an implementation's path takes; `via` starts at the implementation (or says "from knowledge"). */
  takes: TakenLock[];
  irreversible?: IrreversibleStep;
  fromKnowledge: boolean;
  /** The ops struct was not known at the call and was taken to be the only ops table in view with this field. */
  guessedStruct?: boolean;
}
