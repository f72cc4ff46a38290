/**
 * missing-undo, the teardown form: an object's destroy function frees the
 * entries left in one of its containers but never empties another container
 * the same entries are moved into. Entries move between an object's
 * containers as they change state (queued, then handed to userspace and
 * parked until it answers); whoever owns the object owns them in either
 * place, so the teardown that frees them in one must free them in the
 * other, or the entries parked there at destroy time are lost.
 *
 * Evidence, all from the code in the file:
 * - the teardown (a function registered as an ops `destroy`/`release`/`free`
 *   callback, or named `*_destroy`, `*_release`, `*_free`, `*_fini`)
 *   iterates a container of its object (`list_for_each_entry*(e, &obj->a, m)`,
 *   `xa_for_each(&obj->a, i, e)`) and frees the entry (`kfree(e)`,
 *   `*_free*(e)`);
 * - another function takes an entry of the same type from that container
 *   (`list_first_entry(&o->a, ...)`, or its iterator) of an object of the
 *   same type, unlinks it (`list_del*`, or `list_move*`) and stores it into
 *   another container of the object (`xa_alloc`/`xa_store`/`xa_insert`,
 *   `list_add*`/`list_move*`): a move;
 * - the teardown never mentions the other container, and hands the object
 *   to no call that might (a helper in the file is read; one elsewhere is
 *   assumed to).
 *
 * Quiet when the teardown drains, erases, destroys or checks the other
 * container (`WARN_ON(!xa_empty(...))` says the protocol empties it first),
 * when entries are only added to both (an index beside a list holds the
 * same entries twice, and one drain frees them), and when either function
 * is partial (the loop or the move may be misread).
 *
 * The constructor is context: a call in the file that sets the other
 * container up (`xa_init*`, `INIT_LIST_HEAD`) on an object of the type is
 * cited, and an xarray's missing `xa_destroy()` is named.
 */
import type { CallEvent, FileModel, FunctionModel } from '../model/types';
import type { Finding, RelatedLocation } from '../types';
import type { Check, CheckContext } from './check';
import { fingerprint, lineRef } from './check';
import { FREES } from './allocations';
import { scenarioFor } from './scenario';

const TEARDOWN_NAME = /_(?:destroy|release|free|fini)$/;
const TEARDOWN_FIELD = /^(?:destroy|release|free)$/;

/**
 * `&obj->field` (or `&obj->a.field`), or a local set to such an address
 * (`list = &fault->deliver`): the object variable and the member path.
 */
function memberOf(arg: string | undefined, fn?: FunctionModel): { base: string; field: string } | undefined {
  const text = (arg ?? '').trim();
  const m = /^&\s*([A-Za-z_]\w*)\s*->\s*([\w.]+)$/.exec(text);
  if (m) return { base: m[1], field: m[2] };
  const alias = fn?.memberAliases?.find((a) => a.name === text && a.member);
  return alias?.member ? { base: alias.of, field: alias.member } : undefined;
}

// Models are immutable and replaced on change: what is read off a function is kept while it lives (the pass
// runs whole on every analysis, so a one-line edit must not redo every file's reading).
const callsOf = new WeakMap<FunctionModel, CallEvent[]>();
const fetchOf = new WeakMap<FunctionModel, { param: number; field: string } | null>();

function calls(fn: FunctionModel): CallEvent[] {
  let out = callsOf.get(fn);
  if (!out) {
    out = fn.blocks.flatMap((b) => b.events.filter((e): e is CallEvent => e.kind === 'call'));
    callsOf.set(fn, out);
  }
  return out;
}

/** An iteration over a container: the entry variable and the container (`&obj->field`). */
function iteration(ev: CallEvent, fn: FunctionModel): { entry: string; base: string; field: string } | undefined {
  if (/^list_for_each_entry(?:_safe|_continue|_from|_reverse|_safe_reverse)?$/.test(ev.callee)) {
    const c = memberOf(ev.args[ev.callee.includes('safe') ? 2 : 1], fn);
    return c && ev.args[0] ? { entry: ev.args[0].trim(), ...c } : undefined;
  }
  if (/^xa_for_each(?:_start|_range|_marked)?$/.test(ev.callee)) {
    const c = memberOf(ev.args[0], fn);
    return c && ev.args[2] ? { entry: ev.args[2].trim(), ...c } : undefined;
  }
  return undefined;
}

/** A call that frees an entry (`kfree(e)`, `foo_free_group(e)`). */
function frees(ev: CallEvent, entry: string): boolean {
  return FREES.test(ev.callee) && ev.args.some((a) => a.trim() === entry);
}

interface Drain {
  at: CallEvent;
  entry: string;
  entryType: string;
  object: string;
  objectType: string;
  field: string;
}

/** The containers a teardown empties by freeing each entry. */
function drains(fn: FunctionModel): Drain[] {
  const all = calls(fn);
  const out: Drain[] = [];
  for (const ev of all) {
    const it = iteration(ev, fn);
    if (!it) continue;
    const entryType = fn.types[it.entry];
    const objectType = fn.types[it.base];
    if (!entryType || !objectType) continue;
    if (!all.some((x) => x.line >= ev.line && frees(x, it.entry))) continue;
    out.push({ at: ev, entry: it.entry, entryType, object: it.base, objectType, field: it.field });
  }
  return out;
}

/** Calls that put an entry into a container: [entry argument, container argument]. */
function insertion(ev: CallEvent): { entry: string; container: string } | undefined {
  if (/^(?:__)?xa_(?:alloc|alloc_cyclic|store|insert)$/.test(ev.callee) && ev.args.length >= 3)
    return { entry: ev.args[2].trim(), container: ev.args[0] };
  if (/^(?:list_add|list_add_tail|list_move|list_move_tail|hlist_add_head)$/.test(ev.callee) && ev.args.length >= 2) {
    const entry = entryOfLink(ev.args[0]);
    return entry ? { entry, container: ev.args[1] } : undefined;
  }
  return undefined;
}

interface Move {
  fn: FunctionModel;
  at: CallEvent;
  into: string;
}

/** `&v->member` as the first argument of a list call: the entry variable `v`. */
const entryOfLink = (arg: string | undefined): string | undefined =>
  /^&\s*([A-Za-z_]\w*)\s*->/.exec((arg ?? '').trim())?.[1];

/**
 * A helper that takes an entry off a container of its parameter and returns
 * it unlinked (`group = list_first_entry(list, ...); list_del(&group->node);
 * return group;`): which parameter, and which member.
 */
export function fetches(fn: FunctionModel): { param: number; field: string } | undefined {
  let known = fetchOf.get(fn);
  if (known === undefined) fetchOf.set(fn, (known = fetchesUncached(fn) ?? null));
  return known ?? undefined;
}

function fetchesUncached(fn: FunctionModel): { param: number; field: string } | undefined {
  if (fn.status !== 'parsed' || !fn.params) return undefined;
  const all = calls(fn);
  const returned = new Set(
    fn.blocks.flatMap((b) => b.events.flatMap((e) => (e.kind === 'return' ? [e.value.trim()] : []))),
  );
  for (const ev of all) {
    if (!/^list_(?:first|last)_entry(?:_or_null)?$/.test(ev.callee) || !ev.resultVar || !returned.has(ev.resultVar))
      continue;
    const c = memberOf(ev.args[0], fn);
    const param = c ? fn.params.indexOf(c.base) : -1;
    const v = ev.resultVar;
    if (c && param >= 0 && all.some((x) => /^list_del(?:_init)?$/.test(x.callee) && entryOfLink(x.args[0]) === v))
      return { param, field: c.field };
  }
  return undefined;
}

/** Moves of an entry of `d.entryType` out of `d.field` into another container of an object of `d.objectType`. */
function movesOutOf(ctx: CheckContext, file: FileModel, d: Drain): Move[] {
  const out: Move[] = [];
  for (const fn of file.functions) {
    if (fn.status !== 'parsed') continue;
    const all = calls(fn);
    const ofType = (v: string | undefined) => v !== undefined && fn.types[v] === d.objectType;
    // entries this function takes from the drained container of an object of the type; true: unlinked there
    // (made only for a function that takes one: this runs over every function of the file on every analysis)
    let taken: Map<string, boolean> | undefined;
    for (const ev of all) {
      const it = iteration(ev, fn);
      if (it && it.field === d.field && ofType(it.base)) (taken ??= new Map()).set(it.entry, false);
      if (!ev.resultVar) continue;
      if (/^list_(?:first|last)_entry(?:_or_null)?$/.test(ev.callee)) {
        const first = memberOf(ev.args[0], fn);
        if (first?.field === d.field && ofType(first.base)) (taken ??= new Map()).set(ev.resultVar, false);
      }
      // a helper in view that takes the entry off and returns it
      const helper = ctx.functions.get(ev.callee)?.find((x) => x.file === fn.file) ?? ctx.functions.get(ev.callee)?.[0];
      const f = helper ? fetches(helper) : undefined;
      if (f && f.field === d.field && ofType(ev.args[f.param]?.trim())) (taken ??= new Map()).set(ev.resultVar, true);
    }
    if (!taken) continue;
    for (const ev of all) {
      const ins = insertion(ev);
      const into = memberOf(ins?.container, fn);
      if (!ins || !into || into.field === d.field || !ofType(into.base)) continue;
      if (!taken.has(ins.entry) || fn.types[ins.entry] !== d.entryType) continue;
      // unlinked from the drained container: by the helper, by a list_move, or by a list_del here
      const unlinked =
        taken.get(ins.entry) === true ||
        /^list_move/.test(ev.callee) ||
        all.some((x) => /^list_del(?:_init)?$/.test(x.callee) && entryOfLink(x.args[0]) === ins.entry);
      if (unlinked) out.push({ fn, at: ev, into: into.field });
    }
  }
  return out;
}

/** The teardown mentions the container, or hands its object to a call that may empty it. */
function handles(
  ctx: CheckContext,
  fn: FunctionModel,
  object: string,
  field: string,
  seen = new Set<string>(),
): boolean {
  const mentions = new RegExp(`->\\s*${field.replace(/\./g, '\\.')}\\b`);
  if (fn.blocks.some((b) => (b.accesses ?? []).some((a) => mentions.test(a.text)))) return true;
  seen.add(fn.name);
  for (const ev of calls(fn)) {
    if (ev.args.some((a) => mentions.test(a))) return true;
    if (ev.callee === 'container_of' || FREES.test(ev.callee) || !ev.args.some((a) => a.trim() === object)) continue;
    // the object handed whole to a helper: read it when in this file (the finding stays the file's own), else
    // assume it empties the container
    const callee = ctx.functions.get(ev.callee)?.find((x) => x.file === fn.file);
    if (!callee || callee.status !== 'parsed') return true;
    if (seen.has(callee.name)) continue;
    const param = callee.params?.[ev.args.findIndex((a) => a.trim() === object)];
    if (!param || handles(ctx, callee, param, field, seen)) return true;
  }
  return false;
}

function isTeardown(file: FileModel, fn: FunctionModel): boolean {
  return (
    TEARDOWN_NAME.test(fn.name) ||
    file.opsImplementations.some((o) => o.function === fn.name && TEARDOWN_FIELD.test(o.field))
  );
}

/** The call in the file that sets a container of the type up (the constructor's `xa_init*`, `INIT_LIST_HEAD`). */
function setUp(file: FileModel, objectType: string, field: string): { fn: FunctionModel; at: CallEvent } | undefined {
  for (const fn of file.functions)
    for (const ev of calls(fn)) {
      const c = memberOf(ev.args[0], fn);
      if (/^(?:xa_init|xa_init_flags|INIT_LIST_HEAD|INIT_HLIST_HEAD)$/.test(ev.callee) && c?.field === field)
        if (fn.types[c.base] === objectType) return { fn, at: ev };
    }
  return undefined;
}

function entriesLeftByDestroy(ctx: CheckContext, file: FileModel): Finding[] {
  const out: Finding[] = [];
  for (const fn of file.functions) {
    if (fn.status !== 'parsed' || !isTeardown(file, fn)) continue;
    for (const d of drains(fn)) {
      const reported = new Set<string>();
      for (const mv of movesOutOf(ctx, file, d)) {
        if (reported.has(mv.into) || handles(ctx, fn, d.object, mv.into)) continue;
        reported.add(mv.into);
        const left = `${d.object}->${mv.into}`;
        const drained = `${d.object}->${d.field}`;
        const init = setUp(file, d.objectType, mv.into);
        const xarray = /^(?:__)?xa_/.test(mv.at.callee) || /^xa_init/.test(init?.at.callee ?? '');
        const related: RelatedLocation[] = [
          {
            file: fn.file,
            line: d.at.line,
            message: `frees the entries left on \`${drained}\``,
            role: 'call',
          },
          {
            file: fn.file,
            line: fn.endLine,
            message: `\`${fn.name}()\` returns: the object is gone, \`${left}\` not emptied`,
            role: 'drop',
          },
          {
            file: mv.fn.file,
            line: mv.at.line,
            message: `\`${left}\` given an entry moved from \`${drained}\``,
            role: 'store',
            path: 1,
          },
        ];
        if (init)
          related.push({
            file: init.fn.file,
            line: init.at.line,
            message: `\`${init.at.callee}()\` sets \`${left}\` up in \`${init.fn.name}()\``,
          });
        const message =
          `\`${fn.name}()\` frees the entries left on \`${drained}\` (line ${d.at.line}) but never empties ` +
          `\`${left}\`, where \`${mv.fn.name}()\` moves them (\`${mv.at.callee}()\` at ${lineRef(mv.fn.file, mv.at.line, fn.file)}): entries ` +
          `parked there when the object is destroyed are never freed` +
          (xarray ? `, and the xarray is never destroyed (\`xa_destroy()\`)` : '') +
          '.';
        out.push({
          ruleId: 'missing-undo',
          severity: 'warning',
          confidence: 'medium',
          message,
          // where the teardown ends without emptying it: the line a fix adds to
          file: fn.file,
          line: fn.endLine,
          column: 1,
          function: fn.name,
          fingerprint: fingerprint('missing-undo', fn.name, [
            `${d.objectType}.${d.field}`,
            `${d.objectType}.${mv.into}`,
          ]),
          related,
          scenario: scenarioFor('missing-undo', { file: fn.file, function: fn.name, leak: true }),
        });
      }
    }
  }
  return out;
}

/**
 * The teardown form runs as its own pass of missing-undo, whole on every
 * analysis: its findings depend on other functions' bodies (the moves, the
 * helpers that take entries off), not only on the teardown's own model.
 */
export const missingUndoTeardown: Check = {
  id: 'missing-undo',
  global: true,
  run: (ctx) => ctx.files.filter((f) => ctx.reports(f.file)).flatMap((f) => entriesLeftByDestroy(ctx, f)),
};
