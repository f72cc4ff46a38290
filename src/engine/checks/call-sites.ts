/**
 * Every call site in view by callee name, built once per analysis and shared
 * by the rules that ask "who calls this, holding what" (assert-held,
 * unlocked-access).
 *
 * With `throughPointers`, calls the code makes through pointers count too,
 * where the code in view says which function the pointer holds:
 * - a call through a local function pointer reaches each function assigned
 *   to it (`func = handler; func(...)`, the model's `targets`);
 * - an ops callback `x->ops->fn(...)` reaches each function stored in that
 *   struct's field (`.fn = handler` initialisers, `x->fn = handler` writes);
 * - a function passed to a call (`device_for_each_child(dev, NULL, cb)`) is
 *   called from that call site (iterators and walkers call back synchronously).
 */
import type { FileModel, FunctionModel } from '../model/types';
import type { CheckContext } from './check';
import { joinListsAgain } from './joined-lists';
import { PatchedMap } from './patched-map';

export interface CallSite {
  fn: FunctionModel;
  block: number;
  index: number;
  line: number;
}

export type CallSites = Map<string, CallSite[]>;
/** Every call site in view by callee: read-only, shared by the rules of an analysis. */
export type CallSiteMap = ReadonlyMap<string, CallSite[]>;

/**
 * One analysis's maps, by the file list the checks are given (the engine
 * gives every rule the same list, and a rule that widens its context object
 * keeps it), and checked against the function table they were built with.
 */
const built = new WeakMap<
  readonly FileModel[],
  { functions: CheckContext['functions']; direct?: CallSiteMap; withPointers?: CallSiteMap }
>();

/**
 * What one function contributes, computed once per model (models are
 * immutable and replaced on change, so an edit recomputes only its
 * functions): its call sites with the names each may reach. Which of the
 * argument names are functions, and which functions an ops field holds,
 * depend on the whole view and are looked up when the map is assembled.
 * The site itself is what the maps list (one object per call, kept for
 * every function in view: with a whole tree as context there are millions).
 */
interface OwnSite extends CallSite {
  /** The plain callee name (the only name when pointers are not followed); undefined for an ops callback. */
  callee: string | undefined;
  /** A local function pointer's targets, reached instead of `callee` through pointers. */
  targets: string[] | undefined;
  /** Argument texts that may name a function (identifiers other than the callee): those are called back. */
  args: readonly string[];
  /** `struct.field` of an ops callback. */
  ops: string | undefined;
}
const ownSites = new WeakMap<FunctionModel, OwnSite[]>();
/** Per function: `[struct.field, trimmed value]` of its writes of a field (function pointers among them). */
const ownWrites = new WeakMap<FunctionModel, [string, string][]>();
const NO_ARGS: readonly string[] = [];
/** A function's name is an identifier: no other argument text can name one. */
const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

function sitesOf(fn: FunctionModel): OwnSite[] {
  let out = ownSites.get(fn);
  if (out) return out;
  out = [];
  for (const b of fn.blocks) {
    const events = b.events;
    for (let index = 0; index < events.length; index++) {
      const ev = events[index];
      if (ev.kind === 'call') {
        const names = ev.args.map((a) => a.trim()).filter((t) => t !== ev.callee && IDENTIFIER.test(t));
        out.push({
          fn,
          block: b.id,
          index,
          line: ev.line,
          callee: ev.callee,
          targets: ev.targets,
          // Exact size (an array grown by push keeps room for 16 more): there is one per call in view.
          args: names.length > 0 ? names.slice() : NO_ARGS,
          ops: undefined,
        });
      } else if (ev.kind === 'callback') {
        out.push({
          fn,
          block: b.id,
          index,
          line: ev.line,
          // One shape for every site: the maps hold millions of them with a whole tree in view.
          callee: undefined,
          targets: undefined,
          args: NO_ARGS,
          ops: ev.opsStruct ? `${ev.opsStruct}.${ev.field}` : undefined,
        });
      }
    }
  }
  out = out.slice();
  ownSites.set(fn, out);
  return out;
}

function writesOf(fn: FunctionModel): [string, string][] {
  let out = ownWrites.get(fn);
  if (out) return out;
  out = [];
  for (const b of fn.blocks)
    for (const e of b.events) if (e.kind === 'write' && e.field) out.push([e.field, e.value.trim()]);
  ownWrites.set(fn, out);
  return out;
}

function push(out: CallSites, callee: string, site: CallSite): void {
  const list = out.get(callee);
  if (list) list.push(site);
  else out.set(callee, [site]);
}

/**
 * One file's `[struct.field, name]` pairs that may store a function: its ops
 * initialisers (always functions) and its field writes (functions only if
 * the name is one in view), kept per file model.
 */
interface StoredPairs {
  ops: readonly (readonly [string, string])[];
  writes: readonly (readonly [string, string])[];
}
const storedPairs = new WeakMap<FileModel, StoredPairs>();

function storedPairsOf(file: FileModel): StoredPairs {
  let out = storedPairs.get(file);
  if (out) return out;
  const ops = file.opsImplementations.map((o) => [`${o.opsStruct}.${o.field}`, o.function] as const);
  const writes: (readonly [string, string])[] = [];
  for (const fn of file.functions) for (const w of writesOf(fn)) writes.push(w);
  out = { ops, writes };
  storedPairs.set(file, out);
  return out;
}

function samePairs(a: readonly (readonly [string, string])[], b: readonly (readonly [string, string])[]): boolean {
  return a.length === b.length && a.every((x, i) => x[0] === b[i][0] && x[1] === b[i][1]);
}

/** The last answer of storedFunctions, with the pairs and the function table it was made from. */
let lastStored:
  { pairs: StoredPairs[]; functions: CheckContext['functions']; out: Map<string, Set<string>> } | undefined;

/**
 * `struct.field` → the functions stored in it, from initialisers and writes
 * in view. After an edit that changed no pair and no function name (most
 * keystrokes), the last answer is the answer.
 */
function storedFunctions(ctx: CheckContext): Map<string, Set<string>> {
  const pairs = ctx.files.map(storedPairsOf);
  const last = lastStored;
  if (
    last &&
    last.pairs.length === pairs.length &&
    pairs.every(
      (p, i) =>
        p === last.pairs[i] || (samePairs(p.ops, last.pairs[i].ops) && samePairs(p.writes, last.pairs[i].writes)),
    ) &&
    PatchedMap.sameKeyOrder(ctx.functions, last.functions)
  ) {
    lastStored = { pairs, functions: ctx.functions, out: last.out };
    return last.out;
  }
  const out = new Map<string, Set<string>>();
  const add = (key: string, fn: string): void => {
    const set = out.get(key);
    if (set) set.add(fn);
    else out.set(key, new Set([fn]));
  };
  for (const p of pairs) {
    for (const [key, fn] of p.ops) add(key, fn);
    for (const [field, value] of p.writes) if (ctx.functions.has(value)) add(field, value);
  }
  lastStored = { pairs, functions: ctx.functions, out };
  return out;
}

/**
 * One file's part of a map, kept per file model (an edit replaces one file's
 * model; the others keep theirs): by callee, its sites in order. The map
 * through pointers also depends on which names are functions and which
 * functions the ops fields hold, anywhere in view: its part is kept with the
 * digest of those it was built against.
 */
const perFile = new WeakMap<FileModel, { direct?: CallSites; pointers?: { view: string; sites: CallSites } }>();
/** The last view digest, so equal digests are one string and compare at once. */
let lastView = '';

function fileSites(
  f: FileModel,
  pointers: { view: string; functions: CheckContext['functions']; stored: Map<string, Set<string>> } | undefined,
): CallSites {
  let entry = perFile.get(f);
  if (!entry) perFile.set(f, (entry = {}));
  if (!pointers && entry.direct) return entry.direct;
  if (pointers && entry.pointers?.view === pointers.view) return entry.pointers.sites;
  const out: CallSites = new Map();
  for (const fn of f.functions) {
    for (const s of sitesOf(fn)) {
      if (s.callee !== undefined) {
        if (!pointers) {
          push(out, s.callee, s);
          continue;
        }
        if (s.targets) for (const callee of s.targets) push(out, callee, s);
        else push(out, s.callee, s);
        for (const a of s.args) if (pointers.functions.has(a)) push(out, a, s);
        continue;
      }
      if (!pointers || s.ops === undefined) continue;
      for (const impl of pointers.stored.get(s.ops) ?? []) push(out, impl, s);
    }
  }
  // Lists grown by push, cut to their size: kept for every file in view.
  for (const [callee, list] of out) if (list.length > 1) out.set(callee, list.slice());
  if (pointers) entry.pointers = { view: pointers.view, sites: out };
  else entry.direct = out;
  return out;
}

export function callSites(ctx: CheckContext, throughPointers = false): CallSiteMap {
  let cache = built.get(ctx.files);
  if (!cache || cache.functions !== ctx.functions) built.set(ctx.files, (cache = { functions: ctx.functions }));
  const hit = throughPointers ? cache.withPointers : cache.direct;
  if (hit) return hit;
  let pointers: Parameters<typeof fileSites>[1];
  if (throughPointers) {
    const stored = storedFunctions(ctx);
    // The same names and the same stored functions as at the last build (an
    // edit that renamed nothing): the digest is the same, and listing half a
    // million names to learn that was most of a warm whole-tree re-check here.
    const same =
      lastViewOf !== undefined &&
      lastViewOf.stored === stored &&
      PatchedMap.sameKeyOrder(ctx.functions, lastViewOf.functions);
    if (!same) {
      const parts = [...ctx.functions.keys()];
      for (const [field, fns] of stored) parts.push(`${field}=${[...fns].join(',')}`);
      // Compared part by part first: joining every name in view on each edit was most of this.
      if (parts.length !== lastViewParts.length || parts.some((p, i) => p !== lastViewParts[i])) {
        lastViewParts = parts;
        lastView = parts.join('\n');
      }
    }
    lastViewOf = { functions: ctx.functions, stored };
    pointers = { view: lastView, functions: ctx.functions, stored };
  }
  const parts = ctx.files.map((f) => fileSites(f, pointers));
  // By kind and file count: the rules run over the files in view, and after an edit some over them plus the changed
  // part. A file count not merged before (the first edit adds the changed part as one more file) starts from the
  // last merge of the same kind: the parts it lacks or adds are at the end.
  const kind = throughPointers ? 'p' : 'd';
  const key = `${kind}${parts.length}`;
  const out = joinListsAgain(parts, lastMerged.get(key) ?? lastMerged.get(kind));
  if (lastMerged.size > 8 && !lastMerged.has(key)) lastMerged.clear();
  lastMerged.set(key, { parts, out });
  lastMerged.set(kind, { parts, out });
  if (throughPointers) cache.withPointers = out;
  else cache.direct = out;
  return out;
}

/** Per file part of a map: each function's callees in it (the part inverted), kept while the part is. */
const calleesPerPart = new WeakMap<CallSites, Map<FunctionModel, string[]>>();

/**
 * The callee names of each function in view, through pointers as in
 * `callSites(ctx, true)`: looked up in the function's own file part, so a
 * walk down from a few functions costs what it visits, not a pass over every
 * call site in view (each part's inversion is kept while the part is).
 */
export function calleesThroughPointers(ctx: CheckContext): (fn: FunctionModel) => readonly string[] {
  callSites(ctx, true);
  const parts = new Map<string, CallSites>();
  for (const f of ctx.files) {
    const part = perFile.get(f)?.pointers?.sites;
    if (part) parts.set(f.file, part);
  }
  return (fn) => {
    const part = parts.get(fn.file);
    if (!part) return NO_ARGS;
    let inverse = calleesPerPart.get(part);
    if (!inverse) {
      inverse = new Map();
      for (const [callee, sites] of part)
        for (const s of sites) {
          const list = inverse.get(s.fn);
          if (list) list.push(callee);
          else inverse.set(s.fn, [callee]);
        }
      calleesPerPart.set(part, inverse);
    }
    return inverse.get(fn) ?? NO_ARGS;
  };
}

/** The view digest's parts at the last build (pointer maps). */
let lastViewParts: string[] = [];
/** The function table and stored functions the last digest was checked against. */
let lastViewOf: { functions: CheckContext['functions']; stored: Map<string, Set<string>> } | undefined;
/** The last merge of each kind (direct, through pointers) and file count, and of each kind: an edit replaces one file's part, the rest is reused. */
const lastMerged = new Map<string, { parts: CallSites[]; out: CallSiteMap }>();
