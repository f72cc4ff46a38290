/**
 * Ordering questions the rollback-family checks (unmap-before-rollback,
 * unrestored-state, stale-after-relock) ask of one function's control-flow
 * graph: "can B happen after A on some path", "what runs on the error path of
 * this call". Loops are cut at their back edges: a step in one iteration is
 * not treated as coming "before" a step earlier in the body, which would
 * otherwise make every loop body look like a destructive step followed by a
 * fallible one.
 */
import type { Edge, Event, FunctionModel, ReturnEvent } from '../model/types';
import { withoutStringContents } from '../text-scan';

/** An event and where it sits: block id and index within the block. */
export interface EventRef<E extends Event = Event> {
  block: number;
  index: number;
  event: E;
}

export class FlowPaths {
  // Everything is computed on first use: most functions are asked one cheap question.
  private back: Set<number> | undefined;
  private readonly reachCache = new Map<number, Set<number>>();
  private readonly forward = new Map<number, number[]>();
  private readonly byId = new Map<number, FunctionModel['blocks'][number]>();
  private readonly regions = new Map<string, EventRef[]>();
  private readonly regionBlocks = new Map<string, Set<number>>();
  private all: EventRef[] | undefined;
  /** Where each block's events start in `all`. */
  private readonly firstOf = new Map<number, number>();
  private rets: EventRef<ReturnEvent>[] | undefined;

  constructor(readonly fn: FunctionModel) {
    for (const b of fn.blocks) this.byId.set(b.id, b);
  }

  private edgeKey(from: number, to: number): number {
    return from * 1_000_003 + to;
  }

  private backEdges(): Set<number> {
    if (this.back) return this.back;
    // Iterative DFS from the entry; an edge to a block on the stack is a back edge.
    const back = new Set<number>();
    const state = new Map<number, 1 | 2>();
    const stack: { id: number; succ: Edge[]; next: number }[] = [
      { id: this.fn.entry, succ: this.byId.get(this.fn.entry)?.succ ?? [], next: 0 },
    ];
    state.set(this.fn.entry, 1);
    while (stack.length > 0) {
      const top = stack[stack.length - 1];
      if (top.next >= top.succ.length) {
        state.set(top.id, 2);
        stack.pop();
        continue;
      }
      const to = top.succ[top.next++].to;
      const s = state.get(to);
      if (s === 1) back.add(this.edgeKey(top.id, to));
      else if (s === undefined) {
        state.set(to, 1);
        stack.push({ id: to, succ: this.byId.get(to)?.succ ?? [], next: 0 });
      }
    }
    this.back = back;
    return back;
  }

  /** Forward (non-back) successors of a block (kept per block: every reachability walk asks again; do not mutate). */
  successors(block: number): readonly number[] {
    let out = this.forward.get(block);
    if (out) return out;
    const back = this.backEdges();
    out = [];
    for (const e of this.byId.get(block)?.succ ?? []) if (!back.has(this.edgeKey(block, e.to))) out.push(e.to);
    this.forward.set(block, out);
    return out;
  }

  /** Blocks reachable from `block` by at least one forward edge. */
  private reachableFrom(block: number): Set<number> {
    let seen = this.reachCache.get(block);
    if (seen) return seen;
    seen = new Set<number>();
    const work = [...this.successors(block)];
    while (work.length > 0) {
      const b = work.pop()!;
      if (seen.has(b)) continue;
      seen.add(b);
      work.push(...this.successors(b));
    }
    this.reachCache.set(block, seen);
    return seen;
  }

  /** True when `b` can run after `a` on some loop-free path. */
  before(a: EventRef, b: EventRef): boolean {
    if (a.block === b.block) return a.index < b.index;
    return this.reachableFrom(a.block).has(b.block);
  }

  /** Every event of the function in block order (computed once; do not mutate). */
  events(): EventRef[] {
    if (this.all) return this.all;
    const out: EventRef[] = [];
    for (const b of this.fn.blocks) {
      this.firstOf.set(b.id, out.length);
      b.events.forEach((event, index) => out.push({ block: b.id, index, event }));
    }
    this.all = out;
    return out;
  }

  /** Blocks entered when the call at `ref` reports an error (the model's `error` edges). */
  errorTargets(ref: EventRef): number[] {
    const block = this.byId.get(ref.block);
    return (block?.succ ?? []).filter((e) => e.when?.on === 'error' && e.when.event === ref.index).map((e) => e.to);
  }

  /**
   * The events on the error path of the call at `ref`: everything reachable
   * from its error edges, in block order. Empty when the model saw no error
   * check of that call.
   */
  errorRegion(ref: EventRef): EventRef[] {
    const key = `${ref.block}:${ref.index}`;
    const cached = this.regions.get(key);
    if (cached) return cached;
    const blocks = this.errorBlocks(ref);
    // `events()` in block order, taken block by block (each block's events are one run of it).
    const region: EventRef[] = [];
    if (blocks.size > 0) {
      const all = this.events();
      for (const b of this.fn.blocks) {
        if (!blocks.has(b.id)) continue;
        const first = this.firstOf.get(b.id)!;
        for (let i = first; i < first + b.events.length; i++) region.push(all[i]);
      }
    }
    this.regions.set(key, region);
    return region;
  }

  /** The blocks of `errorRegion(ref)`. */
  errorBlocks(ref: EventRef): Set<number> {
    const key = `${ref.block}:${ref.index}`;
    let blocks = this.regionBlocks.get(key);
    if (blocks) return blocks;
    blocks = new Set<number>();
    for (const t of this.errorTargets(ref)) {
      blocks.add(t);
      for (const b of this.reachableFrom(t)) blocks.add(b);
    }
    this.regionBlocks.set(key, blocks);
    return blocks;
  }

  /** True when `block` lies on a cycle that does not pass through `avoid` (a loop of its own). */
  onCycleAvoiding(block: number, avoid: number): boolean {
    if (block === avoid) return false;
    const seen = new Set<number>();
    const work = (this.byId.get(block)?.succ ?? []).map((e) => e.to);
    while (work.length > 0) {
      const x = work.pop()!;
      if (x === block) return true;
      if (x === avoid || seen.has(x)) continue;
      seen.add(x);
      for (const e of this.byId.get(x)?.succ ?? []) work.push(e.to);
    }
    return false;
  }

  /** Return events that can run after `ref`. */
  returnsAfter(ref: EventRef): EventRef<ReturnEvent>[] {
    this.rets ??= this.events().filter((r): r is EventRef<ReturnEvent> => r.event.kind === 'return');
    return this.rets.filter((r) => this.before(ref, r));
  }

  /**
   * True when every path from the entry to `block` goes through a block
   * whose goto label matches `label` (`err_unpin:` and the code after it).
   */
  onlyThroughLabel(block: number, label: RegExp): boolean {
    const gates = this.fn.blocks.filter((b) => b.label !== undefined && label.test(b.label)).map((b) => b.id);
    if (gates.includes(block)) return true;
    if (gates.length === 0) return false;
    const seen = new Set<number>(gates);
    const work = [this.fn.entry];
    while (work.length > 0) {
      const b = work.pop()!;
      if (b === block) return false;
      if (seen.has(b)) continue;
      seen.add(b);
      work.push(...this.successors(b));
    }
    return true;
  }

  /** Events strictly between `a` and `b` on some path (a before x before b). */
  between(a: EventRef, b: EventRef): EventRef[] {
    return this.events().filter((x) => this.before(a, x) && this.before(x, b));
  }
}

const shared = new WeakMap<FunctionModel, FlowPaths>();

/** One FlowPaths per function model, shared by the checks of one analysis (models are rebuilt on change). */
export function flowPathsOf(fn: FunctionModel): FlowPaths {
  let p = shared.get(fn);
  if (!p) shared.set(fn, (p = new FlowPaths(fn)));
  return p;
}

export { baseVariable } from '../model/syntax-util';

/** True when `text` mentions the identifier `name` as a whole word, outside literals (`"zone\\n"` does not mention `n`). */
export function mentions(text: string, name: string): boolean {
  const code = text.includes('"') || text.includes("'") ? withoutStringContents(text) : text;
  return new RegExp(`(^|[^\\w])${name.replace(/[$]/g, '\\$')}([^\\w]|$)`).test(code);
}
