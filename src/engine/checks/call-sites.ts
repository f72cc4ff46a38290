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
import { joinLists } from './joined-lists';
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

/** `struct.field` → the functions stored in it, from initialisers and writes in view. */
function storedFunctions(ctx: CheckContext): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  const add = (key: string, fn: string): void => {
    const set = out.get(key);
    if (set) set.add(fn);
    else out.set(key, new Set([fn]));
  };
  for (const file of ctx.files) {
    for (const o of file.opsImplementations) add(`${o.opsStruct}.${o.field}`, o.function);
    for (const fn of file.functions)
      for (const [field, value] of writesOf(fn)) if (ctx.functions.has(value)) add(field, value);
  }
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
    const parts = [...ctx.functions.keys()];
    for (const [field, fns] of stored) parts.push(`${field}=${[...fns].join(',')}`);
    // Compared part by part first: joining every name in view on each edit was most of this.
    if (parts.length !== lastViewParts.length || parts.some((p, i) => p !== lastViewParts[i])) {
      lastViewParts = parts;
      lastView = parts.join('\n');
    }
    pointers = { view: lastView, functions: ctx.functions, stored };
  }
  const parts = ctx.files.map((f) => fileSites(f, pointers));
  // By kind and file count: the rules run over the files in view, and after an edit some over them plus the changed part.
  const key = `${throughPointers ? 'p' : 'd'}${parts.length}`;
  const out = merge(parts, lastMerged.get(key));
  if (lastMerged.size > 8 && !lastMerged.has(key)) lastMerged.clear();
  lastMerged.set(key, { parts, out });
  if (throughPointers) cache.withPointers = out;
  else cache.direct = out;
  return out;
}

/** The view digest's parts at the last build (pointer maps). */
let lastViewParts: string[] = [];
/** The last merge of each kind (direct, through pointers) and file count: an edit replaces one file's part, the rest is reused. */
const lastMerged = new Map<string, { parts: CallSites[]; out: CallSiteMap }>();

function sameSites(a: readonly CallSite[], b: readonly CallSite[] | undefined): boolean {
  return b !== undefined && a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * Each file's sites are one run of the whole walk (files in order, then
 * functions, then sites): appending file by file keeps every list's order.
 * When only some files' parts differ from the last merge (same files in the
 * same order otherwise), only the callees those parts name are merged
 * again; every other callee's list is the same concatenation as before.
 * The lists are shared, never changed after the merge.
 */
function merge(parts: CallSites[], last: { parts: CallSites[]; out: CallSiteMap } | undefined): CallSiteMap {
  if (last && last.parts.length === parts.length) {
    const stale = new Set<string>();
    let changed = 0;
    parts.forEach((p, i) => {
      const was = last.parts[i];
      if (p === was) return;
      changed++;
      // A callee whose sites in this part are the same objects (the functions of the file an edit did not touch) keeps its list.
      for (const [callee, sites] of was) if (!sameSites(sites, p.get(callee))) stale.add(callee);
      for (const [callee, sites] of p) if (!sameSites(sites, was.get(callee))) stale.add(callee);
    });
    if (changed * 4 <= parts.length) {
      // The last map with the stale callees' lists made again (a patch over it: copying it whole was most of this).
      const changes: [string, CallSite[] | undefined][] = [];
      for (const callee of stale) {
        const list: CallSite[] = [];
        for (const p of parts) for (const site of p.get(callee) ?? []) list.push(site);
        changes.push([callee, list.length > 0 ? list : undefined]);
      }
      return PatchedMap.of(last.out).with(changes);
    }
  }
  return PatchedMap.of(joinLists(parts));
}
