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
import type { FunctionModel } from '../model/types';
import type { CheckContext } from './check';

export interface CallSite {
  fn: FunctionModel;
  block: number;
  index: number;
  line: number;
}

export type CallSites = Map<string, CallSite[]>;

const direct = new WeakMap<CheckContext, CallSites>();
const withPointers = new WeakMap<CheckContext, CallSites>();

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
    for (const fn of file.functions) {
      for (const b of fn.blocks)
        for (const e of b.events)
          if (e.kind === 'write' && e.field && ctx.functions.has(e.value.trim())) add(e.field, e.value.trim());
    }
  }
  return out;
}

export function callSites(ctx: CheckContext, throughPointers = false): CallSites {
  const cache = throughPointers ? withPointers : direct;
  let sites = cache.get(ctx);
  if (sites) return sites;
  const out: CallSites = new Map();
  const stored = throughPointers ? storedFunctions(ctx) : undefined;
  for (const f of ctx.files) {
    for (const fn of f.functions) {
      for (const b of fn.blocks) {
        b.events.forEach((ev, index) => {
          if (ev.kind !== 'call' && ev.kind !== 'callback') return;
          const site = { fn, block: b.id, index, line: ev.line };
          if (ev.kind === 'call') {
            if (!stored) {
              push(out, ev.callee, site);
              return;
            }
            for (const callee of ev.targets ?? [ev.callee]) push(out, callee, site);
            for (const a of ev.args)
              if (ctx.functions.has(a.trim()) && a.trim() !== ev.callee) push(out, a.trim(), site);
            return;
          }
          if (!stored || !ev.opsStruct) return;
          for (const impl of stored.get(`${ev.opsStruct}.${ev.field}`) ?? []) push(out, impl, site);
        });
      }
    }
  }
  cache.set(ctx, out);
  sites = out;
  return sites;
}
