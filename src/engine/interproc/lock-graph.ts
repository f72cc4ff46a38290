/**
 * The lock-class graph over every function in view: an edge A → B for each
 * place B is taken (directly, or inside a callee per its summary) while A is
 * held on every path. Trylocks add no edge into them (they do not wait);
 * same-class nesting is not an edge; locks the model could not resolve are
 * left out (they would only add guesses).
 */
import type { HeldLock, HeldLocks } from '../model/held-locks';
import type { CallbackKnowledge, Knowledge } from '../knowledge/types';
import type { FunctionModel, LockKind, LockMode } from '../model/types';
import type { LockGraph } from '../types';
import type { InlineRun, Summaries, TakenLock, ViaStep } from './types';
import {
  DISPATCH_GUESS,
  type DispatchGuess,
  dispatchLevel,
  firstStep,
  guessedDispatch,
  inlineRunOf,
} from './via-chain';

export interface EdgeWitness {
  from: string;
  to: string;
  fromMode: LockMode;
  toMode: LockMode;
  function: string;
  file: string;
  /** Where `from` was taken (or asserted) in `function`. */
  heldLine: number;
  /** Where `to` is taken in `function`, or the call that leads to it. */
  takeLine: number;
  takeColumn: number;
  /** The call chain below `function` when `to` is taken in a callee; empty when direct. */
  readonly via: readonly ViaStep[];
  fromKnowledge: boolean;
  /** `function` was only partly parsed. */
  partial: boolean;
  /**
   * The callee's route also takes `from`'s class (not after dropping it):
   * either recursion on one object (a self-deadlock every call would hit) or
   * a second instance of the class nested inside the first, so the edge is
   * only as good as the guess that both instances are one lockdep class.
   */
  sameClassRoute?: boolean;
  /**
   * `function` already holds `to`'s class where it takes it again (directly
   * or down the call): a second acquisition of a held class, a self-deadlock
   * on one object or two instances nested. With one object, the held `to`
   * serialises both threads of an ABBA, so the edge orders nothing.
   */
  toHeld?: boolean;
  /** The edge runs through an ops callback's implementations (`vfio_device_ops.dma_unmap`). */
  callback?: string;
  /**
   * The route runs deferred work inline (`function`'s own call, or a step
   * below): the edge exists only in the mode its `if` names.
   */
  inlineRun?: InlineRun;
  /** That callback's ops struct was not known at the call and was guessed (the only table in view with the field). */
  guessedStruct?: boolean;
  /**
   * `from` is not taken in `function`: the framework that calls it as the
   * `callback` implementation holds it (knowledge `calledWith`); `heldLine`
   * is the function's first line.
   */
  heldByCaller?: boolean;
  /** The route is a guess through ops calls its implementation makes in turn (see `guessedDispatch`). */
  readonly dispatchGuess?: DispatchGuess;
}

/** An edge witness's fields but its route and what is read from it. */
type WitnessFields = Omit<EdgeWitness, 'via' | 'dispatchGuess'>;

const DIRECT: readonly ViaStep[] = Object.freeze([]);

/**
 * The witnesses the graph keeps: one shape for all (a whole tree keeps millions; object literals built from
 * spreads, each with its own getter, were three times the size), the route built when read (a finding's
 * steps) from the take it came from: kept for every witness, the chains were most of the graph.
 */
class Witness implements EdgeWitness {
  readonly from: string;
  readonly to: string;
  readonly fromMode: LockMode;
  readonly toMode: LockMode;
  readonly function: string;
  readonly file: string;
  readonly heldLine: number;
  readonly takeLine: number;
  readonly takeColumn: number;
  readonly fromKnowledge: boolean;
  readonly partial: boolean;
  readonly sameClassRoute: boolean | undefined;
  readonly toHeld: boolean | undefined;
  readonly callback: string | undefined;
  readonly inlineRun: InlineRun | undefined;
  readonly guessedStruct: boolean | undefined;
  readonly heldByCaller: boolean | undefined;
  /**
   * @param head the step before the take's route (the callback's), if any
   * @param taken the callee's (or implementation's) take; undefined for a direct take
   * @param skipFirst the route starts inside `function` itself (an implementation called by its framework)
   */
  constructor(
    f: WitnessFields,
    private readonly head: ViaStep | undefined,
    private readonly taken: TakenLock | undefined,
    private readonly skipFirst: boolean,
  ) {
    this.from = f.from;
    this.to = f.to;
    this.fromMode = f.fromMode;
    this.toMode = f.toMode;
    this.function = f.function;
    this.file = f.file;
    this.heldLine = f.heldLine;
    this.takeLine = f.takeLine;
    this.takeColumn = f.takeColumn;
    this.fromKnowledge = f.fromKnowledge;
    this.partial = f.partial;
    this.sameClassRoute = f.sameClassRoute || undefined;
    this.toHeld = f.toHeld || undefined;
    this.callback = f.callback;
    this.inlineRun = f.inlineRun;
    this.guessedStruct = f.guessedStruct || undefined;
    this.heldByCaller = f.heldByCaller || undefined;
  }

  /** The route once read: a finding reads it many times (picking, wording, steps) and each read built it anew. */
  private route: readonly ViaStep[] | undefined = undefined;

  /** Read from the take when asked (for the few witnesses that become findings). */
  get dispatchGuess(): DispatchGuess | undefined {
    return this.taken ? guessedDispatch(this.taken) : undefined;
  }

  get via(): readonly ViaStep[] {
    if (!this.taken) return DIRECT;
    if (this.route) return this.route;
    if (this.skipFirst) this.route = this.taken.via.slice(1);
    else this.route = this.head ? [this.head, ...this.taken.via] : this.taken.via;
    return this.route;
  }
}

export interface LockClassGraph {
  /** from → to → witnesses (first few per edge). */
  readonly edges: ReadonlyMap<string, ReadonlyMap<string, readonly EdgeWitness[]>>;
  readonly kinds: ReadonlyMap<string, LockKind>;
  /**
   * rwsem classes something takes for write (in view or in knowledge). A
   * reader of such a class waits behind a queued writer (rwsems are
   * writer-fair, and lockdep treats `down_read()` as a non-recursive read),
   * so holding it for read does not let a second reader through.
   */
  readonly writers: ReadonlySet<string>;
  /**
   * The public form: edges with acquisition sites. With `reported`, only the
   * edges with a witness in one of those files: a whole tree's context has
   * millions of edges of its own, more than one JSON string can hold, and
   * none of them is in what was asked about.
   */
  toLockGraph(reported?: ReadonlySet<string>): LockGraph;
}

const MAX_WITNESSES = 4;
/** Take lists from this long are offered through `couldAdd` (see there). */
const LONG_TAKES = 64;

export function buildLockGraph(
  functions: readonly FunctionModel[],
  summaries: Summaries,
  held: (fn: FunctionModel) => HeldLocks,
  knowledge: Pick<Knowledge, 'lockKinds' | 'callbacks' | 'functions'>,
): LockClassGraph {
  const edges = new Map<string, Map<string, EdgeWitness[]>>();
  const kinds = new Map<string, LockKind>(Object.entries(knowledge.lockKinds));
  const writers = knownWriters(knowledge);
  const add = (w: EdgeWitness): void => {
    if (w.from === w.to) return;
    let row = edges.get(w.from);
    if (!row) edges.set(w.from, (row = new Map()));
    const list = row.get(w.to);
    if (!list) row.set(w.to, [w]);
    else if (
      list.length < MAX_WITNESSES &&
      !list.some((x) => x.function === w.function && x.file === w.file && x.takeLine === w.takeLine)
    )
      list.push(w);
  };
  // Whether add() would keep a witness from this site: asked before one is
  // made, since a witness through a call builds the callee's chain, and a
  // function holding a lock around many calls offers the same edges again.
  const wants = (from: string, to: string, fn: string, file: string, takeLine: number): boolean => {
    if (from === to) return false;
    const list = edges.get(from)?.get(to);
    return (
      !list ||
      (list.length < MAX_WITNESSES &&
        !list.some((x) => x.function === fn && x.file === file && x.takeLine === takeLine))
    );
  };
  const heldUsable = (h: readonly HeldLock[]): HeldLock[] => h.filter((x) => x.lock.resolved);
  // A long take list (an ops callback's, the union of its implementations': thousands on a whole tree) is offered
  // under the same held class at many call sites. Per list and held class, two answers kept:
  // - `open`: the takes that could still add a witness, in list order (almost every edge such a list offers is
  //   full after the first few). Only shrinks: an edge that is full stays full, and the other exclusions do not
  //   depend on the site;
  // - `retakes`: whether the list also takes the held class (not after dropping it), asked at every witness a
  //   callback site adds: a scan of thousands of entries each time.
  const longLists = new WeakMap<readonly TakenLock[], Map<string, { open: readonly TakenLock[]; retakes?: boolean }>>();
  const underHeld = (takes: readonly TakenLock[], from: string): { open: readonly TakenLock[]; retakes?: boolean } => {
    let byHeld = longLists.get(takes);
    if (!byHeld) longLists.set(takes, (byHeld = new Map()));
    let entry = byHeld.get(from);
    if (!entry) byHeld.set(from, (entry = { open: takes }));
    return entry;
  };
  const couldAdd = (takes: readonly TakenLock[], from: string): readonly TakenLock[] => {
    if (takes.length < LONG_TAKES) return takes;
    const entry = underHeld(takes, from);
    entry.open = entry.open.filter(
      (t) =>
        t.resolved &&
        t.lock !== from &&
        !t.dropped?.includes(from) &&
        (edges.get(from)?.get(t.lock)?.length ?? 0) < MAX_WITNESSES,
    );
    return entry.open;
  };
  const retakes = (takes: readonly TakenLock[], from: string): boolean => {
    // A guessed route (`guessedDispatch()`) does not count: it says nothing about what this call does. The list
    // keeps a route that is not a guess whenever one is in view (guesses are a weakness).
    const scan = (): boolean =>
      takes.some((x) => x.lock === from && !x.dropped?.includes(from) && dispatchLevel(x) < DISPATCH_GUESS);
    if (takes.length < LONG_TAKES) return scan();
    const entry = underHeld(takes, from);
    entry.retakes ??= scan();
    return entry.retakes;
  };

  for (const fn of functions) {
    if (held(fn).none) continue;
    const partial = fn.status === 'partial';
    const loops = loopAcquired(fn, summaries);
    held(fn).forEachEvent((_block, index, mustNow) => {
      const ev = _block.events[index];
      const heldNow = loops ? withLoopHeld(held(fn), loops, _block.id, index, mustNow) : mustNow;
      if (ev.kind === 'acquire') {
        if (!ev.lock.resolved) return;
        if (ev.lock.kind !== 'unknown' && !kinds.has(ev.lock.id)) kinds.set(ev.lock.id, ev.lock.kind);
        if (ev.mode === 'write') writers.add(ev.lock.id);
        if (ev.trylock && ev.api.includes('trylock')) return;
        const usable = heldUsable(heldNow);
        const toHeld = !ev.nested && usable.some((h) => h.lock.id === ev.lock.id);
        for (const h of usable) {
          if (h.lock.id === ev.lock.id) continue;
          add(
            new Witness(
              {
                from: h.lock.id,
                to: ev.lock.id,
                fromMode: h.mode,
                toMode: ev.mode,
                function: fn.name,
                file: fn.file,
                heldLine: h.line,
                takeLine: ev.line,
                takeColumn: ev.column,
                fromKnowledge: false,
                partial,
                toHeld,
              },
              undefined,
              undefined,
              false,
            ),
          );
        }
        return;
      }
      if (ev.kind !== 'call' && ev.kind !== 'callback') return;
      const hs = heldUsable(heldNow);
      if (hs.length === 0) return;
      let takes: readonly TakenLock[];
      let extra: (t: TakenLock) => Pick<WitnessFields, 'fromKnowledge' | 'callback' | 'guessedStruct'>;
      /** The step before the callee's route (the callback's, when through one). */
      let first: ViaStep | undefined;
      if (ev.kind === 'callback') {
        // Locks an ops callback's implementations take (found from `.field = fn`
        // initialisers in view, through their calls and their own callbacks,
        // or from knowledge) are taken under whatever the caller holds.
        const cb = summaries.callback(ev.opsStruct, ev.field);
        if (!cb) return;
        const impls = cb.implementations.map((i) => `\`${i.function}()\``);
        const step: ViaStep = {
          function: `->${ev.field}`,
          file: fn.file,
          line: ev.line,
          what:
            impls.length > 0
              ? `is \`${cb.callback}\`, implemented by ${impls.slice(0, 3).join(', ')}${impls.length > 3 ? ' and others' : ''}`
              : `is \`${cb.callback}\` (knowledge)`,
        };
        takes = cb.takes;
        first = step;
        extra = (t) => ({
          fromKnowledge: cb.fromKnowledge || t.fromKnowledge,
          callback: cb.callback,
          guessedStruct: cb.guessedStruct,
        });
      } else {
        // A call through a local function pointer takes what any function assigned to it takes.
        const callees = [ev.callee, ...(ev.targets ?? [])]
          .map((name) => summaries.get(name, fn.file))
          .filter((s) => s !== undefined);
        if (callees.length === 0) return;
        takes = callees.length === 1 ? callees[0].takes : callees.flatMap((c) => c.takes);
        extra = (t) => ({ fromKnowledge: t.fromKnowledge, callback: undefined, guessedStruct: undefined });
      }
      for (const h of hs) {
        for (const t of couldAdd(takes, h.lock.id)) {
          if (!t.resolved) continue;
          if (
            h.lock.id === t.lock ||
            t.dropped?.includes(h.lock.id) ||
            !wants(h.lock.id, t.lock, fn.name, fn.file, ev.line)
          )
            continue;
          const sameClassRoute = retakes(takes, h.lock.id);
          // Not when the route lets go of that held lock before retaking it (`dropped`).
          const toHeld = !t.nested && !t.dropped?.includes(t.lock) && hs.some((x) => x.lock.id === t.lock);
          const inlineRun =
            ev.kind === 'call' && ev.inlineOf
              ? {
                  function: fn.name,
                  file: fn.file,
                  callee: ev.callee,
                  line: ev.line,
                  api: ev.inlineOf.api,
                  apiLine: ev.inlineOf.line,
                }
              : t.inline
                ? inlineRunOf(t.via)
                : undefined;
          add(
            new Witness(
              {
                from: h.lock.id,
                to: t.lock,
                fromMode: h.mode,
                toMode: t.mode,
                function: fn.name,
                file: fn.file,
                heldLine: h.line,
                takeLine: ev.line,
                takeColumn: ev.column,
                partial,
                sameClassRoute,
                toHeld,
                inlineRun,
                ...extra(t),
              },
              first,
              t,
              false,
            ),
          );
        }
      }
    });
  }
  addCalledWithEdges(knowledge.callbacks, summaries, add, wants);
  // Built once per graph and set of reported files; callers get a copy they may change.
  let publicGraph: { key: string; graph: LockGraph } | undefined;
  return {
    edges,
    kinds,
    writers,
    toLockGraph(reported?: ReadonlySet<string>): LockGraph {
      const key = reported ? [...reported].sort().join('\n') : '\u0000all';
      if (publicGraph?.key !== key) {
        const out: LockGraph = { edges: [] };
        for (const [from, row] of [...edges].sort(([a], [b]) => a.localeCompare(b))) {
          for (const [to, ws] of [...row].sort(([a], [b]) => a.localeCompare(b))) {
            if (reported && !ws.some((w) => reported.has(w.file))) continue;
            const sites: { file: string; line: number }[] = [];
            for (const w of ws) {
              for (const line of [w.heldLine, w.takeLine]) {
                if (!sites.some((s) => s.file === w.file && s.line === line)) sites.push({ file: w.file, line });
              }
            }
            out.edges.push({ from, to, sites });
          }
        }
        publicGraph = { key, graph: out };
      }
      return { edges: publicGraph.graph.edges.map((e) => ({ ...e, sites: e.sites.map((x) => ({ ...x })) })) };
    },
  };
}

/**
 * Edges from what a framework holds when it calls an ops callback (knowledge
 * `calledWith`: PCI error recovery holds `pci_bus_sem` for read around a
 * driver's `error_detected`) to each lock the callback's implementations take.
 * Only implementations in view: a framework lock with nothing known taken
 * under it adds nothing. Asked before a witness is made (`wants`), and the chain is built when read:
 * on a whole tree such a callback's take list has thousands of entries, each
 * chain a dozen calls deep, and almost every edge is full after its first few.
 */
function addCalledWithEdges(
  callbacks: Record<string, CallbackKnowledge>,
  summaries: Summaries,
  add: (w: EdgeWitness) => void,
  wants: (from: string, to: string, fn: string, file: string, takeLine: number) => boolean,
): void {
  for (const [id, ck] of Object.entries(callbacks)) {
    if (!ck.calledWith || ck.calledWith.length === 0) continue;
    const dot = id.lastIndexOf('.');
    const cb = summaries.callback(id.slice(0, dot), id.slice(dot + 1));
    if (!cb || cb.implementations.length === 0) continue;
    for (const t of cb.takes) {
      if (!t.resolved) continue;
      // The route starts inside the implementation: the take itself, or the call that leads to it.
      const first = firstStep(t);
      if (!first || first.line === undefined) continue;
      const impl = summaries.get(first.function, first.file);
      if (!impl?.file) continue;
      for (const h of ck.calledWith) {
        if (
          h.lock === t.lock ||
          t.dropped?.includes(h.lock) ||
          !wants(h.lock, t.lock, impl.name, impl.file, first.line)
        )
          continue;
        add(
          new Witness(
            {
              from: h.lock,
              to: t.lock,
              fromMode: h.mode,
              toMode: t.mode,
              function: impl.name,
              file: impl.file,
              heldLine: impl.line ?? first.line,
              takeLine: first.line,
              takeColumn: 1,
              fromKnowledge: true,
              partial: impl.partial,
              callback: id,
              heldByCaller: true,
            },
            undefined,
            t,
            true,
          ),
        );
      }
    }
  }
}

/** rwsem classes knowledge says some function or callback takes for write. */
function knownWriters(knowledge: Pick<Knowledge, 'callbacks' | 'functions'>): Set<string> {
  const out = new Set<string>();
  for (const k of [...Object.values(knowledge.functions), ...Object.values(knowledge.callbacks)])
    for (const t of k.takes ?? []) if (t.mode === 'write') out.add(t.lock);
  return out;
}

/** Where a function takes, inside a loop body, a lock it never releases in the same loop path, and where it releases it. */
interface LoopLocks {
  /** Lock class → blocks that release it. */
  releases: Map<string, number[]>;
  /** Lock class → loop blocks that take it. */
  takes: Map<string, number[]>;
  /** Blocks reachable from a block (itself excluded unless on a cycle). */
  reach(from: number): ReadonlySet<number>;
}

/**
 * Locks a function takes inside a loop body (an acquire in a block on a
 * cycle of its flow graph): one instance per element of what the loop walks
 * (`list_for_each_entry(...) down_write_trylock(&vdev->memory_lock)` before
 * a bus reset). Undefined when there are none.
 */
function loopAcquired(fn: FunctionModel, summaries: Summaries): LoopLocks | undefined {
  const cache = new Map<number, Set<number>>();
  const reach = (from: number): Set<number> => {
    let seen = cache.get(from);
    if (seen) return seen;
    seen = new Set<number>();
    const work = (fn.blocks[from]?.succ ?? []).map((e) => e.to);
    while (work.length > 0) {
      const b = work.pop()!;
      if (seen.has(b)) continue;
      seen.add(b);
      for (const e of fn.blocks[b]?.succ ?? []) work.push(e.to);
    }
    cache.set(from, seen);
    return seen;
  };
  const takes = new Map<string, number[]>();
  const releases = new Map<string, number[]>();
  for (const b of fn.blocks) {
    for (const e of b.events) {
      if (e.kind === 'release') releases.set(e.lock.id, [...(releases.get(e.lock.id) ?? []), b.id]);
      else if (e.kind === 'call')
        // A helper that drops the caller's lock (on every return, on some, or on one outcome) releases it here.
        for (const id of releasedBy(summaries, e.callee, fn.file))
          releases.set(id, [...(releases.get(id) ?? []), b.id]);
      else if (e.kind === 'acquire' && e.lock.resolved && !e.scope && reach(b.id).has(b.id))
        takes.set(e.lock.id, [...(takes.get(e.lock.id) ?? []), b.id]);
    }
  }
  return takes.size > 0 ? { takes, releases, reach } : undefined;
}

/** The caller's locks a call to `callee` may release (its summary's lock effect). */
function releasedBy(summaries: Summaries, callee: string, file: string): string[] {
  const s = summaries.get(callee, file);
  if (!s || (!s.releasesHeld && !s.mayReleaseHeld && !s.onError && !s.onOk)) return [];
  return [
    ...(s.releasesHeld ?? []),
    ...(s.mayReleaseHeld ?? []),
    ...(s.onError?.releases ?? []),
    ...(s.onOk?.releases ?? []),
  ];
}

/**
 * The locks held at an event, with those a loop took and some path still
 * holds: the path that skipped the loop (an empty walk) holds none of them,
 * every path through it holds one per element, and that is the path lockdep
 * records an order on. Only when no release of the class lies between the
 * loop and the event (`if (n) spin_unlock(&n->lock)` after a loop that
 * moves from lock to lock: the may-held state there is a path the
 * condition rules out), its own or a helper's that drops the caller's lock
 * (btrfs' head loop releases through `cleanup_ref_head()` on one outcome).
 */
function withLoopHeld(
  held: HeldLocks,
  loops: LoopLocks,
  block: number,
  index: number,
  must: readonly HeldLock[],
): readonly HeldLock[] {
  const extra = held.mayBefore(block, index).filter((h) => {
    const at = loops.takes.get(h.lock.id);
    if (!at || h.how !== 'acquire' || must.some((m) => m.lock.id === h.lock.id)) return false;
    return !(loops.releases.get(h.lock.id) ?? []).some(
      (r) => at.some((a) => a === r || loops.reach(a).has(r)) && (r === block || loops.reach(r).has(block)),
    );
  });
  return extra.length > 0 ? [...must, ...extra] : must;
}
