/**
 * Ordering questions the rollback-family checks (unmap-before-rollback,
 * unrestored-state, stale-after-relock) ask of one function's control-flow
 * graph: "can B happen after A on some path", "what runs on the error path of
 * this call". Loops are cut at their back edges: a step in one iteration is
 * not treated as coming "before" a step earlier in the body, which would
 * otherwise make every loop body look like a destructive step followed by a
 * fallible one.
 */
import type { Event, FunctionModel } from '../model/types';

/** An event and where it sits: block id and index within the block. */
export interface EventRef<E extends Event = Event> {
  block: number;
  index: number;
  event: E;
}

export class FlowPaths {
  private readonly back = new Set<string>();
  private readonly reachCache = new Map<number, Set<number>>();
  private readonly byId = new Map<number, FunctionModel['blocks'][number]>();

  constructor(readonly fn: FunctionModel) {
    for (const b of fn.blocks) this.byId.set(b.id, b);
    this.findBackEdges();
  }

  private findBackEdges(): void {
    // Iterative DFS from the entry; an edge to a block on the stack is a back edge.
    const state = new Map<number, 1 | 2>();
    const stack: { id: number; next: number }[] = [{ id: this.fn.entry, next: 0 }];
    state.set(this.fn.entry, 1);
    while (stack.length > 0) {
      const top = stack[stack.length - 1];
      const succ = this.byId.get(top.id)?.succ ?? [];
      if (top.next >= succ.length) {
        state.set(top.id, 2);
        stack.pop();
        continue;
      }
      const to = succ[top.next++].to;
      const s = state.get(to);
      if (s === 1) this.back.add(`${top.id}>${to}`);
      else if (s === undefined) {
        state.set(to, 1);
        stack.push({ id: to, next: 0 });
      }
    }
  }

  /** Forward (non-back) successors of a block. */
  successors(block: number): number[] {
    return (this.byId.get(block)?.succ ?? []).filter((e) => !this.back.has(`${block}>${e.to}`)).map((e) => e.to);
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

  /** Every event of the function in block order. */
  events(): EventRef[] {
    const out: EventRef[] = [];
    for (const b of this.fn.blocks) b.events.forEach((event, index) => out.push({ block: b.id, index, event }));
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
    const targets = this.errorTargets(ref);
    if (targets.length === 0) return [];
    const blocks = new Set<number>(targets);
    for (const t of targets) for (const b of this.reachableFrom(t)) blocks.add(b);
    return this.events().filter((r) => blocks.has(r.block));
  }

  /** Events strictly between `a` and `b` on some path (a before x before b). */
  between(a: EventRef, b: EventRef): EventRef[] {
    return this.events().filter((x) => this.before(a, x) && this.before(x, b));
  }
}

/** `&acc->ioas_lock`, `acc->ioas`, `prev->obj.id` → `acc` / `prev`: the variable an expression hangs off. */
export function baseVariable(expr: string): string | undefined {
  const m = /^[\s(&*]*([A-Za-z_]\w*)/.exec(expr);
  return m?.[1];
}

/** True when `text` mentions the identifier `name` as a whole word. */
export function mentions(text: string, name: string): boolean {
  return new RegExp(`(^|[^\\w])${name.replace(/[$]/g, '\\$')}([^\\w]|$)`).test(text);
}
