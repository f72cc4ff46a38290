/**
 * lock-order: a cycle in the lock-class graph (every function in view,
 * interprocedural through summaries), and edges that invert a documented
 * order ("locking order is A -> B -> C" comments, configuration, defaults).
 *
 * rwsem/rwlock read sides: where one edge arrives at a lock taking it for
 * read and the next edge leaves it held for read, the two threads can both
 * be inside it, so that junction does not block and the cycle is not
 * reported. (lockdep is stricter about recursive read; we keep the simple,
 * quiet rule.) Same-class nesting (`_nested`, `nest_lock`) is never an edge.
 * Only the shortest cycle over a set of locks is reported, once.
 *
 * Two instances of one class: where an edge A → B exists only through a
 * callee whose route takes A again (the caller holds a parent's lock, the
 * callee takes a child's), the cycle closes over two instances of A. lockdep
 * gives each init site its own class, so when A is initialised at two or
 * more sites in view (a parent and a child object from different
 * allocators) the instances can be different classes and nothing is
 * reported; otherwise it cannot be told, and the cycle is low confidence.
 * Also low: an edge whose function already holds its target where the route
 * takes it again (a second acquisition, not an order), and a route whose only
 * way to the lock is a put balancing the function's own get.
 */
import type { EdgeWitness } from '../interproc/lock-graph';
import type { Confidence, Finding, RelatedLocation } from '../types';
import type { Check, CheckContext } from './check';
import { dispatchGuessText, findFunction, fingerprint, inlineRunText, lineRef, routeLocations } from './check';
import { TAKES_REFERENCE } from './held-values';
import { withoutSpaces } from '../model/syntax-util';
import { scenarioFor } from './scenario';

/** A call that drops a reference (`foo_put(x)`, `kref_put()`): the object is freed only on the last one. */
const PUTS_REFERENCE = /(?:^|_)put(?:_|$)|^kref_put|^refcount_dec_and_test$/;

/**
 * Where an edge's route drops a reference that the same function took itself
 * earlier (`get(dev); ... if (err) put(dev);`, or `srv = get_or_create_srv();
 * ... put_srv(srv);`): that put frees, and takes
 * the free path's locks, only if every other holder let go meanwhile, which
 * the caller's own reference (it had one to take another) makes the
 * exception. Returns the put and the get, or undefined.
 */
function balancingPut(
  ctx: CheckContext,
  w: EdgeWitness,
): { fn: string; file: string; put: number; get: number } | undefined {
  const calls: { fn: string; file?: string; line?: number; callee: string }[] = [];
  if (w.via[0]) calls.push({ fn: w.function, file: w.file, line: w.takeLine, callee: w.via[0].function });
  for (const s of w.via) if (s.callee) calls.push({ fn: s.function, file: s.file, line: s.line, callee: s.callee });
  for (const c of calls) {
    if (!PUTS_REFERENCE.test(c.callee) || c.line === undefined) continue;
    const body = findFunction(ctx, c.fn, c.file);
    if (!body) continue;
    const events = body.blocks.flatMap((b) => b.events);
    const put = events.find((e) => e.kind === 'call' && e.callee === c.callee && e.line === c.line);
    if (put?.kind !== 'call' || put.args[0] === undefined) continue;
    const object = withoutSpaces(put.args[0]);
    // The reference taken on the object (`get(dev)`), or handed back with one (`srv = get_or_create_srv(...)`).
    const get = events.find(
      (e) =>
        e.kind === 'call' &&
        e.line < put.line &&
        TAKES_REFERENCE.test(e.callee) &&
        ((e.args[0] !== undefined && withoutSpaces(e.args[0]) === object) || e.resultVar === object),
    );
    if (get) return { fn: c.fn, file: body.file, put: put.line, get: get.line };
  }
  return undefined;
}

const MAX_CYCLE = 6;

interface CycleEdge {
  from: string;
  to: string;
  witness: EdgeWitness;
}

function isRead(mode: string): boolean {
  return mode === 'read';
}

/** The witness to show for an edge: in view, direct, fully parsed, in a reported file first. */
function bestWitness(
  ws: readonly EdgeWitness[],
  ctx: CheckContext,
  filter?: (w: EdgeWitness) => boolean,
): EdgeWitness | undefined {
  const score = (w: EdgeWitness): number =>
    (w.sameClassRoute || w.toHeld || w.inlineRun ? 16 : 0) +
    (ctx.reports(w.file) ? 0 : 8) +
    (w.fromKnowledge ? 4 : 0) +
    (w.partial ? 2 : 0) +
    (w.via.length > 0 ? 1 : 0);
  const list = filter ? ws.filter(filter) : [...ws];
  return list.sort((a, b) => score(a) - score(b) || a.file.localeCompare(b.file) || a.takeLine - b.takeLine)[0];
}

function through(w: EdgeWitness): string {
  // `via` starts in the callee called at takeLine and ends where the lock is taken.
  const names = w.via.map((s) => s.function).filter((n) => !n.startsWith('->'));
  if (names.length === 0) return '';
  const first = names[0];
  const last = names[names.length - 1];
  return first === last ? `, through \`${first}()\`` : `, through \`${first}()\` → \`${last}()\``;
}

function edgeText(e: CycleEdge, anchorFile: string): string {
  const w = e.witness;
  const where = lineRef(w.file, w.takeLine, anchorFile);
  const caller = w.heldByCaller ? `, called as \`${w.callback}\` with \`${e.from}\` held by its caller` : '';
  return `\`${e.from}\` → \`${e.to}\` in \`${w.function}()\` (${where}${through(w)}${caller})`;
}

/** Each edge of the cycle is one path of the witness (one thread of the lock model): hold `from`, then take `to`. */
function related(edges: CycleEdge[]): RelatedLocation[] {
  const out: RelatedLocation[] = [];
  edges.forEach((e, path) => {
    const w = e.witness;
    const steps = routeLocations(w.via, e.to);
    out.push({
      file: w.file,
      line: w.heldLine,
      message: w.heldByCaller
        ? `\`${e.from}\` held on entry to \`${w.function}()\`: its caller holds it around \`${w.callback}\` (knowledge)`
        : `\`${e.from}\` taken here in \`${w.function}()\``,
      role: 'acquire',
      lock: e.from,
      path,
    });
    out.push({
      file: w.file,
      line: w.takeLine,
      message:
        w.via.length > 0
          ? `\`${e.to}\` taken inside this call while \`${e.from}\` is held`
          : `\`${e.to}\` taken here while \`${e.from}\` is held`,
      // taken inside the call: the call is a step, the take is the last step inside it
      ...(steps.length > 0 ? { role: 'call' as const } : { role: 'acquire' as const, lock: e.to }),
      path,
    });
    for (const step of steps) out.push({ ...step, path });
  });
  return out;
}

function confidenceOf(ws: EdgeWitness[]): Confidence {
  if (ws.some((w) => w.partial)) return 'low';
  if (ws.some((w) => w.fromKnowledge || w.guessedStruct)) return 'medium';
  return 'high';
}

const cycleCache = new WeakMap<object, { starts: string; cycles: CycleEdge[][] }>();
const initSiteCache = new WeakMap<object, Map<string, Set<string>>>();

/** Lock class → its distinct init sites (`file:line`) in view (once per graph). */
function initSites(ctx: CheckContext): Map<string, Set<string>> {
  const hit = initSiteCache.get(ctx.lockGraph);
  if (hit) return hit;
  const out = new Map<string, Set<string>>();
  for (const f of ctx.files) {
    for (const fn of f.functions) {
      for (const i of fn.lockInits ?? []) {
        const set = out.get(i.lock) ?? new Set<string>();
        set.add(`${fn.file}:${i.line}`);
        out.set(i.lock, set);
      }
    }
  }
  initSiteCache.set(ctx.lockGraph, out);
  return out;
}

/**
 * Shortest cycles, one per set of locks, respecting read/read junctions
 * (once per graph and set of edges a search starts from).
 */
function findCycles(ctx: CheckContext): CycleEdge[][] {
  const starts = startEdges(ctx);
  const key = [...starts].join('\n');
  const hit = cycleCache.get(ctx.lockGraph);
  if (hit && hit.starts === key) return hit.cycles;
  const cycles = searchCycles(ctx, starts);
  cycleCache.set(ctx.lockGraph, { starts: key, cycles });
  return cycles;
}

/**
 * The edges a cycle search starts from: those with a witness in a reported
 * file. A cycle made only of the context's edges (a whole kernel tree's)
 * would be reported nowhere, and searching from each of its edges is what
 * made the rule take minutes there; a cycle through a reported edge is
 * found from that edge. Without `--tree` every edge is reported.
 */
function startEdges(ctx: CheckContext): Set<string> {
  const out = new Set<string>();
  for (const [from, row] of ctx.lockGraph.edges)
    for (const [to, ws] of row) if (ws.some((w) => ctx.reports(w.file))) out.add(`${from}\u0000${to}`);
  return out;
}

function searchCycles(ctx: CheckContext, starts: ReadonlySet<string>): CycleEdge[][] {
  const edges = ctx.lockGraph.edges;
  const writers = ctx.lockGraph.writers;
  const cycles = new Map<string, CycleEdge[]>();
  const out: CycleEdge[][] = [];
  // A cycle lies inside one strongly connected component: an edge between two
  // components, or a lock outside the start's, can never lead back to it. With
  // the whole tree as context most edges are such, and the search skips them.
  const component = components(edges);
  // The search walks numbers, not names: locks numbered in the graph's order, each one's successors in its
  // row's order (so the search meets them in the same order as over the maps).
  const g = numbered(edges, component, writers);
  // Per search: the states (lock, arrived for read) seen, stamped with the search's number.
  const seen = new Int32Array(g.names.length * 2);
  let stamp = 0;
  for (const [start, row] of edges) {
    const startId = g.ids.get(start)!;
    const home = g.component[startId];
    // Per mode the first edge holds `start` in: how many edges each state is from closing the cycle.
    const toClose: (Int8Array | undefined)[] = [undefined, undefined];
    for (const [next, ws0] of row) {
      const nextId = g.ids.get(next)!;
      if (g.component[nextId] !== home || !starts.has(`${start}\u0000${next}`)) continue;
      // The search depends on the first witness only through its modes: one search per pair of modes (the
      // first witness of each), whose cycle the others would only repeat (a repeat of a cycle's length is
      // never kept below).
      const modes = new Set<string>();
      for (const w0 of ws0) {
        const pair = `${isRead(w0.fromMode)}${isRead(w0.toMode)}`;
        if (modes.has(pair)) continue;
        modes.add(pair);
        const startRead = isRead(w0.fromMode) ? 1 : 0;
        const dist = (toClose[startRead] ??= distancesToClose(g, startId, startRead === 1));
        const first = nextId * 2 + (isRead(w0.toMode) ? 1 : 0);
        if (dist[first] > MAX_CYCLE - 1) continue;
        const firstEdge: CycleEdge = { from: start, to: next, witness: w0 };
        stamp++;
        let found = shortestClosing(g, startId, w0, firstEdge, dist, seen, stamp, true);
        if (!found) {
          // Only where every shortest route repeats a lock (the distances do not know the path): the
          // search with them as a bound.
          stamp++;
          found = shortestClosing(g, startId, w0, firstEdge, dist, seen, stamp, false);
        }
        if (!found) continue;
        const key = [...new Set(found.map((e) => e.from))].sort().join(' ');
        const prev = cycles.get(key);
        if (!prev || found.length < prev.length) cycles.set(key, found);
      }
    }
  }
  // Shortest first; a longer cycle over a superset of an already reported one adds nothing.
  const sorted = [...cycles.entries()].sort((a, b) => a[1].length - b[1].length || a[0].localeCompare(b[0]));
  const reported: Set<string>[] = [];
  for (const [, cycle] of sorted) {
    const nodes = new Set(cycle.map((e) => e.from));
    if (reported.some((r) => [...r].every((n) => nodes.has(n)))) continue;
    reported.push(nodes);
    out.push(cycle);
  }
  return out;
}

/**
 * Breadth first from the first edge's target back to `start`; arriving modes matter at each junction. With
 * `exact`, only states whose distance to closing is the path's remainder are walked: the states of the
 * shortest cycles, in the order the whole search would meet them, so it finds the same cycle while walking a
 * handful of states where the whole search walked every lock within reach (a whole tree's components).
 * Without, the distances only bound the search.
 */
function shortestClosing(
  g: NumberedGraph,
  startId: number,
  w0: EdgeWitness,
  firstEdge: CycleEdge,
  dist: Int8Array,
  seen: Int32Array,
  stamp: number,
  exact: boolean,
): CycleEdge[] | undefined {
  const home = g.component[startId];
  const startRead = isRead(w0.fromMode);
  type State = { node: number; arrivedRead: boolean; path: CycleEdge[]; on: number[] };
  const nextId = g.ids.get(firstEdge.to)!;
  const queue: State[] = [{ node: nextId, arrivedRead: isRead(w0.toMode), path: [firstEdge], on: [startId] }];
  seen[nextId * 2 + (isRead(w0.toMode) ? 1 : 0)] = stamp;
  // Read from a moving head: `shift()` copies a large array whole.
  let head = 0;
  while (head < queue.length) {
    const s = queue[head++];
    if (s.path.length >= MAX_CYCLE) continue;
    // Edges this path may still add after the next one.
    const left = exact ? dist[s.node * 2 + (s.arrivedRead ? 1 : 0)] - 1 : MAX_CYCLE - s.path.length - 1;
    const from = g.names[s.node];
    for (const { to, ws } of g.successors[s.node]) {
      for (const w of ws) {
        // Junction at s.node: taken for read by the previous edge and held for read now cannot
        // block, unless something takes that rwsem for write (a reader waits behind a queued writer).
        if (s.arrivedRead && isRead(w.fromMode) && !g.written[s.node]) continue;
        if (to === startId) {
          if (exact && left !== 0) continue;
          if (isRead(w.toMode) && startRead && !g.written[startId]) continue;
          return [...s.path, { from, to: g.names[startId], witness: w }];
        }
        if (g.component[to] !== home || s.on.includes(to)) continue;
        const key = to * 2 + (isRead(w.toMode) ? 1 : 0);
        if (exact ? dist[key] !== left : dist[key] > left) continue;
        if (seen[key] === stamp) continue;
        seen[key] = stamp;
        queue.push({
          node: to,
          arrivedRead: isRead(w.toMode),
          path: [...s.path, { from, to: g.names[to], witness: w }],
          on: [...s.on, s.node],
        });
      }
    }
  }
  return undefined;
}

/** The lock graph over numbers (see `searchCycles`). */
interface NumberedGraph {
  ids: Map<string, number>;
  names: string[];
  /** Each lock's successors in its row's order, with the edge's witnesses. */
  successors: { to: number; ws: readonly EdgeWitness[] }[][];
  /** Each lock's predecessors, with the pairs of modes their edges' witnesses have (`modeBit`). */
  predecessors: { from: number; modes: number }[][];
  component: Int32Array;
  /** Something takes the lock for write (an rwsem reader then waits behind a queued writer). */
  written: Uint8Array;
}

function numbered(
  edges: ReadonlyMap<string, ReadonlyMap<string, readonly EdgeWitness[]>>,
  component: ReadonlyMap<string, number>,
  writers: ReadonlySet<string>,
): NumberedGraph {
  const ids = new Map<string, number>();
  const names: string[] = [];
  const idOf = (name: string): number => {
    let id = ids.get(name);
    if (id === undefined) {
      id = names.length;
      ids.set(name, id);
      names.push(name);
    }
    return id;
  };
  for (const [from, row] of edges) {
    idOf(from);
    for (const to of row.keys()) idOf(to);
  }
  const successors = names.map(() => [] as { to: number; ws: readonly EdgeWitness[] }[]);
  const predecessors = names.map(() => [] as { from: number; modes: number }[]);
  for (const [from, row] of edges) {
    const f = ids.get(from)!;
    for (const [to, ws] of row) {
      const t = ids.get(to)!;
      successors[f].push({ to: t, ws });
      let modes = 0;
      for (const w of ws) modes |= modeBit(isRead(w.fromMode), isRead(w.toMode));
      predecessors[t].push({ from: f, modes });
    }
  }
  const comp = new Int32Array(names.length).fill(-1);
  const written = new Uint8Array(names.length);
  names.forEach((n, i) => {
    comp[i] = component.get(n) ?? -1;
    if (writers.has(n)) written[i] = 1;
  });
  return { ids, names, successors, predecessors, component: comp, written };
}

/** One bit per pair of modes an edge's witness has (held for read, taken for read). */
function modeBit(fromRead: boolean, toRead: boolean): number {
  return 1 << ((fromRead ? 2 : 0) + (toRead ? 1 : 0));
}

/**
 * For each state (lock, arrived for read), at index `lock * 2 + read`: the fewest edges that lead from it back to
 * `start` through `start`'s component with every junction blocking (the search's rule), the first edge holding
 * `start` for read or not (`startRead`); breadth first over the predecessors, up to the longest cycle less its
 * first edge. Farther or never: 127. A bound for the search that ignores only that a path may not repeat a lock.
 */
function distancesToClose(g: NumberedGraph, start: number, startRead: boolean): Int8Array {
  const far = 127;
  const dist = new Int8Array(g.names.length * 2).fill(far);
  const home = g.component[start];
  // Into `start`: an edge that takes it for read, after the first edge held it for read, does not block.
  const closing = startRead && !g.written[start] ? modeBit(false, false) | modeBit(true, false) : 0b1111;
  let frontier: number[] = [];
  const reach = (p: number, modes: number, d: number): void => {
    // Arriving at p not for read: any edge leaves; for read: only one leaving not for read, unless p is written.
    const leaves = modes !== 0;
    const leavesAfterRead = g.written[p] ? leaves : (modes & (modeBit(false, false) | modeBit(false, true))) !== 0;
    if (leaves && dist[p * 2] === far) {
      dist[p * 2] = d;
      frontier.push(p * 2);
    }
    if (leavesAfterRead && dist[p * 2 + 1] === far) {
      dist[p * 2 + 1] = d;
      frontier.push(p * 2 + 1);
    }
  };
  for (const { from, modes } of g.predecessors[start])
    if (from !== start && g.component[from] === home) reach(from, modes & closing, 1);
  for (let d = 2; d <= MAX_CYCLE - 1 && frontier.length > 0; d++) {
    const layer = frontier;
    frontier = [];
    for (const state of layer) {
      const lock = state >> 1;
      // Edges into `lock` whose witness takes it in this state's mode.
      const arriving =
        state & 1 ? modeBit(false, true) | modeBit(true, true) : modeBit(false, false) | modeBit(true, false);
      for (const { from, modes } of g.predecessors[lock])
        if (from !== start && g.component[from] === home) reach(from, modes & arriving, d);
    }
  }
  return dist;
}

/** Strongly connected components of the lock graph (Tarjan's, iterative): lock → component number. */
function components(edges: ReadonlyMap<string, ReadonlyMap<string, unknown>>): Map<string, number> {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const out = new Map<string, number>();
  let counter = 0;
  let count = 0;
  for (const root of edges.keys()) {
    if (index.has(root)) continue;
    // Each frame: a node and the iterator over its successors.
    const frames: { node: string; succ: Iterator<string> }[] = [];
    const enter = (node: string): void => {
      index.set(node, counter);
      low.set(node, counter++);
      stack.push(node);
      onStack.add(node);
      frames.push({ node, succ: (edges.get(node) ?? new Map<string, unknown>()).keys() });
    };
    enter(root);
    while (frames.length > 0) {
      const top = frames[frames.length - 1];
      const step = top.succ.next();
      if (!step.done) {
        const to = step.value;
        if (!index.has(to)) enter(to);
        else if (onStack.has(to)) low.set(top.node, Math.min(low.get(top.node)!, index.get(to)!));
        continue;
      }
      frames.pop();
      if (frames.length > 0) {
        const parent = frames[frames.length - 1].node;
        low.set(parent, Math.min(low.get(parent)!, low.get(top.node)!));
      }
      if (low.get(top.node) === index.get(top.node)) {
        let n: string;
        do {
          n = stack.pop()!;
          onStack.delete(n);
          out.set(n, count);
        } while (n !== top.node);
        count++;
      }
    }
  }
  return out;
}

/** Rotates a cycle so its first edge is the one to anchor the finding on (a reported file, through a call). */
function anchor(cycle: CycleEdge[], ctx: CheckContext): CycleEdge[] {
  let best = 0;
  let bestScore = Infinity;
  cycle.forEach((e, i) => {
    const w = e.witness;
    // The edge through a call leads (it is the one a reader of that function cannot see), as in design.md's example;
    // a callback implementation taking a lock its framework's caller holds hides its edge best (no line shows the
    // held lock), and it is where a fix goes (the implementation stops taking the lock there).
    const score = w.heldByCaller
      ? ctx.reports(w.file)
        ? -1
        : 100
      : (ctx.reports(w.file) ? 0 : 100) + (w.via.length > 0 ? 0 : 10) + (w.fromKnowledge ? 20 : 0);
    if (score < bestScore) {
      bestScore = score;
      best = i;
    }
  });
  return [...cycle.slice(best), ...cycle.slice(0, best)];
}

function cycleFinding(raw: CycleEdge[], ctx: CheckContext): Finding | undefined {
  // Re-pick each edge's witness with the preferences above (the BFS took any).
  const cycle = raw.map((e) => {
    const ws = ctx.lockGraph.edges.get(e.from)?.get(e.to) ?? [e.witness];
    const sameModes = (w: EdgeWitness): boolean => w.fromMode === e.witness.fromMode && w.toMode === e.witness.toMode;
    return {
      ...e,
      witness:
        bestWitness(ws, ctx, (w) => sameModes(w) && !balancingPut(ctx, w)) ??
        bestWitness(ws, ctx, sameModes) ??
        e.witness,
    };
  });
  const edges = anchor(cycle, ctx);
  const head = edges[0].witness;
  if (!ctx.reports(head.file) && !edges.some((e) => ctx.reports(e.witness.file))) return undefined;
  // A cycle closing over two instances of one class (see the header).
  const nesting = edges.find((e) => e.witness.sameClassRoute);
  if (nesting && (initSites(ctx).get(nesting.from)?.size ?? 0) >= 2) return undefined;
  const retaken = nesting ? undefined : edges.find((e) => e.witness.toHeld);
  // An edge whose every witness goes through a balancing put (the witnesses were picked to avoid one).
  let balanced: { edge: CycleEdge; put: NonNullable<ReturnType<typeof balancingPut>> } | undefined;
  for (const e of nesting || retaken ? [] : edges) {
    const put = balancingPut(ctx, e.witness);
    if (put) {
      balanced = { edge: e, put };
      break;
    }
  }
  const parts = edges.map((e) => edgeText(e, head.file));
  let message =
    edges.length === 2
      ? `${parts[0].replace(/^(`[^`]+` → `[^`]+`) in/, '$1 here, in')}, but ${parts[1]}: possible ABBA deadlock.`
      : `These locks are taken in a cycle: ${parts.join('; ')}: possible deadlock.`;
  // Through a callback the second thread is hard to picture: spell out both.
  const viaCallback = edges.find((e) => e.witness.callback);
  if (edges.length === 2 && viaCallback) {
    const [a, b] = edges;
    message += ` Two threads: one in \`${a.witness.function}()\` holds \`${a.from}\` and waits for \`${a.to}\`${a.witness.callback ? ` inside \`${a.witness.callback}\`` : ''}, while another in \`${b.witness.function}()\` holds \`${b.from}\` and waits for \`${b.to}\`${b.witness.callback ? ` inside \`${b.witness.callback}\`` : ''}.`;
  }
  if (retaken)
    message += ` But \`${retaken.witness.function}()\` already holds \`${retaken.to}\` where it takes it again: that is a second acquisition of the class (a self-deadlock on one object, or two instances nested), and with one object the held lock serialises both threads; which objects they are cannot be told here.`;
  if (balanced)
    message += ` But \`${balanced.edge.witness.function}()\` reaches \`${balanced.edge.to}\` only through the reference \`${balanced.put.fn}()\` drops at ${lineRef(balanced.put.file, balanced.put.put, head.file)}, which it took itself at ${lineRef(balanced.put.file, balanced.put.get, head.file)}: that put frees (and takes the lock) only if every other holder let go meanwhile.`;
  const inline = edges.find((e) => e.witness.inlineRun)?.witness.inlineRun;
  if (inline) message += inlineRunText(inline, head.file);
  const guessed = edges.find((e) => e.witness.dispatchGuess);
  if (guessed) message += dispatchGuessText(guessed.witness.function, guessed.witness.dispatchGuess!);
  if (nesting)
    message += ` The route from \`${nesting.witness.function}()\` takes \`${nesting.from}\` again, so the cycle needs two instances of that class nested (or is a self-deadlock on one); which objects they are cannot be told here.`;
  return {
    ruleId: 'lock-order',
    severity: 'error',
    confidence: nesting || retaken || balanced || inline || guessed ? 'low' : confidenceOf(edges.map((e) => e.witness)),
    message,
    file: head.file,
    line: head.takeLine,
    column: head.takeColumn,
    function: head.function,
    fingerprint: fingerprint(
      'lock-order',
      head.function,
      edges.map((e) => e.from),
    ),
    related: related(edges),
    scenario: scenarioFor('lock-order', { file: head.file, function: head.function }),
  };
}

/** Edges that go against a documented order (B held while A is taken, A documented before B). */
function documentedInversions(ctx: CheckContext, inCycles: Set<string>): Finding[] {
  const out: Finding[] = [];
  const seen = new Set<string>();
  for (const order of ctx.knowledge.documentedOrders) {
    for (let i = 0; i < order.length; i++) {
      for (let j = i + 1; j < order.length; j++) {
        const outer = order[i];
        const inner = order[j];
        const ws = ctx.lockGraph.edges.get(inner)?.get(outer);
        if (!ws || ws.length === 0) continue;
        const key = `${inner}>${outer}`;
        if (seen.has(key) || inCycles.has(key)) continue;
        seen.add(key);
        const w = bestWitness(ws, ctx, (x) => ctx.reports(x.file));
        if (!w) continue;
        let confidence: Confidence = w.fromKnowledge ? 'medium' : 'high';
        if (w.partial || (isRead(w.fromMode) && isRead(w.toMode))) confidence = 'low';
        out.push({
          ruleId: 'lock-order',
          severity: 'warning',
          confidence,
          message: `\`${inner}\` is held while \`${outer}\` is taken in \`${w.function}()\` (line ${w.takeLine}${through(w)}), against the documented order ${order.map((n) => `\`${n}\``).join(' → ')}: a path that follows the documented order can deadlock with this one.`,
          file: w.file,
          line: w.takeLine,
          column: w.takeColumn,
          function: w.function,
          fingerprint: fingerprint('lock-order', w.function, [inner, outer]),
          related: related([{ from: inner, to: outer, witness: w }]),
          scenario: scenarioFor('lock-order', { file: w.file, function: w.function }),
        });
      }
    }
  }
  return out;
}

export const lockOrder: Check = {
  id: 'lock-order',
  // Cycles come from the lock graph; a cycle's finding reads the lock inits, calls and documented orders of the
  // functions on it, all part of their global signatures.
  fromGlobalStep: true,
  run(ctx) {
    const findings: Finding[] = [];
    const inCycles = new Set<string>();
    for (const cycle of findCycles(ctx)) {
      for (const e of cycle) inCycles.add(`${e.from}>${e.to}`);
      const f = cycleFinding(cycle, ctx);
      if (f) findings.push(f);
    }
    findings.push(...documentedInversions(ctx, inCycles));
    return findings;
  },
};
