/**
 * The lock-class graph over every function in view: an edge A → B for each
 * place B is taken (directly, or inside a callee per its summary) while A is
 * held on every path. Trylocks add no edge into them (they do not wait);
 * same-class nesting is not an edge; locks the model could not resolve are
 * left out (they would only add guesses).
 */
import type { HeldLock, HeldLocks } from '../model/held-locks';
import type { FunctionModel, LockKind, LockMode } from '../model/types';
import type { LockGraph } from '../types';
import type { Summaries, TakenLock, ViaStep } from './types';

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
  via: ViaStep[];
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
  /** The edge runs through an ops callback's implementations (`vfio_device_ops.dma_unmap`). */
  callback?: string;
  /** That callback's ops struct was not known at the call and was guessed (the only table in view with the field). */
  guessedStruct?: boolean;
}

export interface LockClassGraph {
  /** from → to → witnesses (first few per edge). */
  readonly edges: ReadonlyMap<string, ReadonlyMap<string, readonly EdgeWitness[]>>;
  readonly kinds: ReadonlyMap<string, LockKind>;
  /** The public form: edges with acquisition sites. */
  toLockGraph(): LockGraph;
}

const MAX_WITNESSES = 4;

export function buildLockGraph(
  functions: readonly FunctionModel[],
  summaries: Summaries,
  held: (fn: FunctionModel) => HeldLocks,
  lockKinds: Record<string, LockKind>,
): LockClassGraph {
  const edges = new Map<string, Map<string, EdgeWitness[]>>();
  const kinds = new Map<string, LockKind>(Object.entries(lockKinds));
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
  const heldUsable = (h: readonly HeldLock[]): HeldLock[] => h.filter((x) => x.lock.resolved);

  for (const fn of functions) {
    if (held(fn).none) continue;
    const partial = fn.status === 'partial';
    held(fn).forEachEvent((_block, index, heldNow) => {
      const ev = _block.events[index];
      if (ev.kind === 'acquire') {
        if (!ev.lock.resolved) return;
        if (ev.lock.kind !== 'unknown' && !kinds.has(ev.lock.id)) kinds.set(ev.lock.id, ev.lock.kind);
        if (ev.trylock && ev.api.includes('trylock')) return;
        for (const h of heldUsable(heldNow)) {
          if (h.lock.id === ev.lock.id) continue;
          add({
            from: h.lock.id,
            to: ev.lock.id,
            fromMode: h.mode,
            toMode: ev.mode,
            function: fn.name,
            file: fn.file,
            heldLine: h.line,
            takeLine: ev.line,
            takeColumn: ev.column,
            via: [],
            fromKnowledge: false,
            partial,
          });
        }
        return;
      }
      if (ev.kind !== 'call' && ev.kind !== 'callback') return;
      const hs = heldUsable(heldNow);
      if (hs.length === 0) return;
      let takes: readonly TakenLock[];
      let extra: (t: TakenLock) => Partial<EdgeWitness> & { via: ViaStep[] };
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
        extra = (t) => ({
          via: [step, ...t.via],
          fromKnowledge: cb.fromKnowledge || t.fromKnowledge,
          callback: cb.callback,
          ...(cb.guessedStruct ? { guessedStruct: true } : {}),
        });
      } else {
        const callee = summaries.get(ev.callee, fn.file);
        if (!callee) return;
        takes = callee.takes;
        extra = (t) => ({ via: t.via });
      }
      for (const t of takes) {
        if (!t.resolved) continue;
        for (const h of hs) {
          if (h.lock.id === t.lock || t.dropped?.includes(h.lock.id)) continue;
          const sameClassRoute = takes.some((x) => x.lock === h.lock.id && !x.dropped?.includes(h.lock.id));
          add({
            from: h.lock.id,
            to: t.lock,
            fromMode: h.mode,
            toMode: t.mode,
            function: fn.name,
            file: fn.file,
            heldLine: h.line,
            takeLine: ev.line,
            takeColumn: ev.column,
            fromKnowledge: t.fromKnowledge,
            partial,
            ...(sameClassRoute ? { sameClassRoute } : {}),
            ...extra(t),
          });
        }
      }
    });
  }
  let publicGraph: LockGraph | undefined;
  return {
    edges,
    kinds,
    toLockGraph(): LockGraph {
      // Built once per graph; callers get a copy they may change.
      if (publicGraph)
        return { edges: publicGraph.edges.map((e) => ({ ...e, sites: e.sites.map((x) => ({ ...x })) })) };
      const out: LockGraph = { edges: [] };
      for (const [from, row] of [...edges].sort(([a], [b]) => a.localeCompare(b))) {
        for (const [to, ws] of [...row].sort(([a], [b]) => a.localeCompare(b))) {
          const sites: { file: string; line: number }[] = [];
          for (const w of ws) {
            for (const line of [w.heldLine, w.takeLine]) {
              if (!sites.some((s) => s.file === w.file && s.line === line)) sites.push({ file: w.file, line });
            }
          }
          out.edges.push({ from, to, sites });
        }
      }
      publicGraph = out;
      return this.toLockGraph();
    },
  };
}
