/**
 * What a caller's summary holds of what it reaches through a call: the call
 * (one step) and the callee's own entry, whose chain is shared, not copied.
 * A whole kernel tree reaches about twenty locks per function through chains
 * a dozen calls deep; copying each chain into every caller grew the
 * summaries past a 14 GB heap. The chain (`via`) is built when a rule reads
 * it, which is for the few entries that become findings or graph witnesses.
 *
 * These are class instances with getters (`ThroughCallback` too): a spread (`{ ...t }`) would drop
 * `via` and the lock's name, so code that needs a changed copy uses
 * `withRoute()`, and code that needs a plain object uses `plainTake()`.
 */
import type { LockKind, LockMode } from '../model/types';
import type { InlineRun, IrreversibleStep, ReachedCallback, TakenLock, ViaStep } from './types';
import { OTHER_OBJECT } from './types';

/** The steps of a chain: this entry's step, then its callee's, down to a plain entry. */
function chainOf(step: ViaStep, below: { readonly via: ViaStep[] }): ViaStep[] {
  const out = [step];
  let t: { readonly via: ViaStep[] } = below;
  while (t instanceof CalledTake || t instanceof CalledCallback || t instanceof CalledIrreversible) {
    out.push(t.step);
    t = t.below;
  }
  for (const s of t.via) out.push(s);
  return out;
}

/**
 * An entry over a shared chain: the lock's facts are the plain entry's at the
 * bottom (`origin`), read directly (rules ask an entry's lock name again and
 * again); the chain is built when read.
 */
abstract class SharedTake implements TakenLock {
  readonly origin: TakenLock;
  /** How many calls the route makes before the take (`routeDepth()`), kept so that comparing routes builds no chain. */
  abstract readonly depth: number;
  /** The route's ops calls made in turn, as `dispatchLevel()` reads them, kept for the same reason. */
  abstract readonly dispatch: number;
  /**
   * The lock's name, copied: the fixpoint scans a caller's take list for it at
   * every offer, and through a getter that scan was a third of a whole tree's
   * summaries (the list mixes entry shapes, so the getter is never inlined).
   */
  readonly lock: string;
  constructor(below: TakenLock) {
    this.origin = originOf(below);
    this.lock = this.origin.lock;
  }
  get kind(): LockKind {
    return this.origin.kind;
  }
  get mode(): LockMode {
    return this.origin.mode;
  }
  get resolved(): boolean {
    return this.origin.resolved;
  }
  get fromKnowledge(): boolean {
    return this.origin.fromKnowledge;
  }
  abstract get via(): ViaStep[];
}

/** The plain entry under shared chains (itself when it is one). */
function originOf(t: TakenLock): TakenLock {
  return t instanceof SharedTake ? t.origin : t;
}

/** A lock a function takes inside a callee, reached through the call at `step`. */
export class CalledTake extends SharedTake {
  readonly dropped?: string[];
  readonly nested?: true;
  readonly inline?: true;
  readonly object?: number;
  readonly depth: number;
  readonly dispatch: number;
  constructor(
    readonly step: ViaStep,
    readonly below: TakenLock,
    dropped: string[] | undefined,
    nested: true | undefined,
    /** The caller's view of the lock's object (see `TakenLock.object`), worked out from the call's arguments. */
    object: number | undefined,
  ) {
    super(below);
    this.depth = routeDepth(below) + 1;
    this.dispatch = dispatchLevel(below);
    if (dropped) this.dropped = dropped;
    if (nested) this.nested = nested;
    if (step.inlineOf || below.inline) this.inline = true;
    if (object !== undefined) this.object = object;
  }
  get via(): ViaStep[] {
    return chainOf(this.step, this.below);
  }
}

/** An ops callback a function calls inside a callee, reached through the call at `step`. */
export class CalledCallback implements ReachedCallback {
  readonly depth: number;
  /** Kept, not read down the chain: a caller's merge compares it with each callback it has, on every pass. */
  readonly callback: string;
  constructor(
    readonly step: ViaStep,
    readonly below: ReachedCallback,
  ) {
    this.depth = routeDepth(below) + 1;
    this.callback = below.callback;
  }
  get via(): ViaStep[] {
    return chainOf(this.step, this.below);
  }
}

/** An irreversible step a function performs inside a callee, reached through the call at `step`. */
export class CalledIrreversible implements IrreversibleStep {
  constructor(
    readonly step: ViaStep,
    readonly below: IrreversibleStep,
  ) {}
  get why(): string {
    return this.below.why;
  }
  get via(): ViaStep[] {
    return chainOf(this.step, this.below);
  }
}

/**
 * A lock taken inside a callback that a callback's implementation makes in
 * turn (vfio's emulated unmap → the driver's `dma_unmap`): the route to that
 * inner callback, then the inner take's own route. Both are shared: a common
 * ops field has hundreds of such entries, and copying each pair of chains
 * into its summary was kept for every callback in view.
 */
export class ThroughCallback extends SharedTake {
  readonly dropped?: string[];
  readonly nested?: true;
  readonly inline?: true;
  readonly object?: number;
  readonly depth: number;
  readonly dispatch: number;
  constructor(
    readonly route: ReachedCallback,
    readonly below: TakenLock,
    /** How many implementations the inner callback has in view: the one that takes the lock is one of them. */
    readonly width: number,
  ) {
    super(below);
    this.depth = routeDepth(route) + routeDepth(below) + 1;
    this.dispatch = throughDispatch(below, width);
    if (below.dropped) this.dropped = below.dropped;
    if (below.nested) this.nested = below.nested;
    // The inner take's own route only: the route to the inner callback is not asked (its chain is built when read).
    if (below.inline) this.inline = below.inline;
    // Which of the implementation's parameters the inner callback was given is not followed; another object stays one.
    if (below.object === OTHER_OBJECT) this.object = OTHER_OBJECT;
  }
  get via(): ViaStep[] {
    return [...this.route.via, ...this.below.via];
  }
}

/** The same route with what it drops and whether it nests replaced. */
export function withRoute(t: TakenLock, dropped: string[] | undefined, nested: true | undefined): TakenLock {
  if (t instanceof CalledTake) return new CalledTake(t.step, t.below, dropped, nested, t.object);
  return plainTake(t, t.via, dropped, nested);
}

/**
 * What makes a route a weaker witness than the function's ordinary behaviour,
 * as bits: 1, it runs deferred work inline (mode-dependent); 2, the lock is
 * another object's; 4, it is a guess (`guessedDispatch()`). A route with fewer
 * of them replaces one with more.
 */
export function weakness(t: TakenLock): number {
  return (t.inline ? 1 : 0) | (t.object === OTHER_OBJECT ? 2 : 0) | guessBit(dispatchLevel(t));
}

/** `weakness()`'s bit for a guess, and the bit for a route whose `dispatchLevel()` is `level`. */
export const GUESS_WEAKNESS = 4;
export function guessBit(level: number): number {
  return level >= DISPATCH_GUESS ? GUESS_WEAKNESS : 0;
}

/**
 * How many calls a route makes before its last step (the take, or the call
 * through the ops pointer): its chain's length less one, read without
 * building the chain.
 */
export function routeDepth(t: TakenLock | ReachedCallback): number {
  return t instanceof SharedTake || t instanceof CalledCallback ? t.depth : t.via.length - 1;
}

/** Does a route with weaknesses `offer` make a better witness than one with `held`: a strict subset of them? */
export function strongerRoute(offer: number, held: number): boolean {
  return (held & ~offer) !== 0 && (offer & ~held) === 0;
}

/**
 * A nested ops call has at most this many implementations in view and still
 * counts as known: a framework's driver callback (`vfio_device_ops.dma_unmap`:
 * three) is, `file_operations.release` (thousands) or a clocksource's `read`
 * (every architecture's) is not.
 */
export const NARROW_DISPATCH = 8;

/**
 * A route's ops calls made in turn, summed up without walking it: 0, none;
 * 1, one with at most `NARROW_DISPATCH` implementations; `DISPATCH_GUESS`,
 * a guess (two or more, or a wider one).
 */
export const DISPATCH_GUESS = 2;
export function dispatchLevel(t: TakenLock): number {
  return t instanceof SharedTake ? t.dispatch : 0;
}

/** `dispatchLevel()` of a `ThroughCallback` over `below` with `width` implementations, before it is made. */
export function throughDispatch(below: TakenLock, width: number): number {
  return dispatchLevel(below) > 0 || width > NARROW_DISPATCH ? DISPATCH_GUESS : 1;
}

/** Ops calls a route makes in turn inside the implementation it starts in, when they make the route a guess. */
export interface DispatchGuess {
  /** The ops calls in turn, outer first (`super_operations.drop_inode`, then `address_space_operations.writepages`). */
  callbacks: string[];
  /** The first one's implementation on the route, and how many it has in view. */
  implementation: string | undefined;
  implementations: number;
}

/**
 * The route's ops calls made in turn (callbacks an implementation makes,
 * followed to their implementations), when they make it a guess: two or
 * more, or one with more than `NARROW_DISPATCH` implementations. Each picks,
 * by the field's name and the ops table's type alone, the implementation that
 * takes the lock; whether the object there is of that type is not followed.
 */
export function guessedDispatch(t: TakenLock): DispatchGuess | undefined {
  if (dispatchLevel(t) < DISPATCH_GUESS) return undefined;
  const callbacks: string[] = [];
  let first: ThroughCallback | undefined;
  let widest = 0;
  let cur: TakenLock = t;
  for (;;) {
    if (cur instanceof ThroughCallback) {
      first ??= cur;
      callbacks.push(cur.route.callback);
      widest = Math.max(widest, cur.width);
      cur = cur.below;
    } else if (cur instanceof CalledTake) cur = cur.below;
    else break;
  }
  if (!first || (callbacks.length < 2 && widest <= NARROW_DISPATCH)) return undefined;
  return { callbacks, implementation: firstStep(first.below)?.function, implementations: first.width };
}

/** Is `offer` the better witness of a lock than `held`: fewer weaknesses, or as weak and fewer calls? */
export function betterWitness(offer: TakenLock, held: TakenLock): boolean {
  return betterRoute(weakness(offer), routeDepth(offer), held);
}

/** `betterWitness()` for an offer not made yet, from its weaknesses and depth. */
export function betterRoute(weak: number, depth: number, held: TakenLock): boolean {
  const had = weakness(held);
  return strongerRoute(weak, had) || (weak === had && depth < routeDepth(held));
}

/** A plain copy of a taken lock with another chain (and, when given, other drops and nesting). */
export function plainTake(
  t: TakenLock,
  via: ViaStep[],
  dropped: string[] | undefined = t.dropped,
  nested: true | undefined = t.nested,
  fromKnowledge: boolean = t.fromKnowledge,
  object: number | undefined = t.object,
): TakenLock {
  return {
    lock: t.lock,
    kind: t.kind,
    mode: t.mode,
    resolved: t.resolved,
    via,
    fromKnowledge,
    ...(dropped ? { dropped } : {}),
    ...(nested ? { nested } : {}),
    ...(t.inline ? { inline: t.inline } : {}),
    ...(object !== undefined ? { object } : {}),
  };
}

/** The first step of a chain that runs deferred work inline (see `TakenLock.inline`), if one does. */
export function inlineRunOf(via: readonly ViaStep[]): InlineRun | undefined {
  const s = via.find((x) => x.inlineOf);
  if (!s?.inlineOf) return undefined;
  return {
    function: s.function,
    ...(s.file ? { file: s.file } : {}),
    callee: s.callee ?? s.what,
    ...(s.line ? { line: s.line } : {}),
    api: s.inlineOf.api,
    apiLine: s.inlineOf.line,
  };
}

/** The first step of an entry's chain without building the chain (the step inside the summarised function). */
export function firstStep(t: TakenLock): ViaStep | undefined {
  if (t instanceof CalledTake) return t.step;
  if (t instanceof ThroughCallback) return t.route instanceof CalledCallback ? t.route.step : t.route.via[0];
  return t.via[0];
}

/**
 * Where a route's lock became another object's (`TakenLock.object`): the call
 * that passed a pointer read from another object, or, when the function
 * itself takes a lock through such a pointer, that take's own step.
 */
export function otherObjectStep(t: TakenLock): ViaStep | undefined {
  let cur: TakenLock = t;
  for (;;) {
    if (cur.object !== OTHER_OBJECT) return undefined;
    if (cur instanceof CalledTake) {
      if (cur.below.object !== OTHER_OBJECT) return cur.step;
      cur = cur.below;
    } else if (cur instanceof ThroughCallback) cur = cur.below;
    else return cur.via[0];
  }
}
