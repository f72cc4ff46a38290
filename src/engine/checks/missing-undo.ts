/**
 * missing-undo: an acquired resource (pinned pages, an access added to an
 * IOAS, a reference, a registration, an allocation held in a local) not
 * released on an error return after it, where the function's own code says
 * it must be: another of its error returns releases it, or it releases it
 * elsewhere (the success path's teardown, an unwind label). The anchor is
 * smatch's unwind check: compare a function's error paths with each other.
 *
 * Pairs come from the knowledge (`releasedBy`: `vfio_pin_pages` →
 * `vfio_unpin_pages`), from names (`sysfs_create_group` /
 * `sysfs_remove_group`, `foo_register` / `foo_unregister`: the same name
 * with an acquire verb swapped for its release verb), from the acquire's own
 * body when it is in view (its error path rolls itself back with a
 * release-like call on exactly its own parameters: that call is its undo),
 * and from the code: a value returned by a call that a release-like call
 * (`kfree`, `*_put`, `*_free`, `*_destroy`) takes as a whole argument. A
 * release must be on the same object: the acquire's result, or its first
 * argument; for a pair whose two calls take the same arguments (`add(a, b)`
 * / `remove(a, b)`), every argument.
 *
 * Released on the wrong object: an error path that calls the pair's release
 * with arguments that differ from the acquire's (`remove(group, old)` after
 * `add(group, new)`) leaves the acquire in place and undoes something this
 * function did not acquire. That is reported even when no path releases the
 * right object: the wrong call is the function's own word that this path
 * must undo the acquire.
 *
 * Quiet when: the return is on the acquire's own failure path; the acquire
 * does not run on every path to the return; the object was handed on before
 * the return (stored into a field, returned, or given whole to another call);
 * nothing in the function releases it (a knowledge pair alone is not enough:
 * the object may be handed over by means the function does not show).
 */
import { functionKnowledge } from '../knowledge/lookup';
import type { CallEvent, FunctionModel, ReturnEvent } from '../model/types';
import type { Confidence, Finding, RelatedLocation } from '../types';
import type { CheckContext } from './check';
import { findFunction, fingerprint, lowerConfidence, perFunctionCheck } from './check';
import { type FlowPaths, flowPathsOf, mentions, type EventRef } from './flow-paths';
import { ALLOCATES, FREES } from './allocations';
import { ownedFieldOverwrites } from './owned-field-overwrite';
import { fieldStore } from './rollback-steps';
import { scenarioFor } from './scenario';
import { withoutSpaces } from '../model/syntax-util';

/** Acquire verb → the verbs that undo it. */
const VERB_PAIRS: Record<string, readonly string[]> = {
  create: ['remove', 'destroy', 'delete'],
  add: ['remove', 'del', 'delete'],
  register: ['unregister'],
  pin: ['unpin'],
  get: ['put'],
  alloc: ['free', 'destroy'],
  attach: ['detach'],
  enable: ['disable'],
  init: ['deinit', 'uninit', 'exit', 'cleanup', 'destroy'],
  request: ['free', 'release'],
  reserve: ['unreserve', 'release'],
  map: ['unmap'],
  bind: ['unbind'],
  claim: ['release'],
  insert: ['remove', 'erase'],
  open: ['close'],
  start: ['stop'],
  grab: ['put', 'release'],
  hold: ['put', 'release'],
};

/** Calls that release a value they are given whole (`kfree(name)`, `foo_put(obj)`). */
const RELEASE_LIKE =
  /(?:^|_)(?:free|put|release|destroy|unpin|unregister|unmap|detach|close|remove|del|delete|erase|abort|drop|unreserve|unbind|disable|deinit|uninit|cleanup)(?:_|$)|^kv?free|^vfree|^kfree/;

export { ALLOCATES };

/** Calls that tear a whole object down. */
const DESTROYS = /(?:^|_)(?:destroy|free|release)$/;
/** Calls that set up or lock a member in place: they keep nothing. */
const SETS_UP = /(?:^|_)(?:init|lock|unlock|trylock|lock_init)(?:_|$)|^INIT_/;

/** `&v->member` or `&v.member.inner`: the address of something embedded in `v`. */
function embeddedIn(arg: string, v: string): boolean {
  if (!arg.startsWith(`&${v}`)) return false;
  const rest = arg.slice(v.length + 1);
  return (rest.startsWith('->') || rest.startsWith('.')) && /^(?:(?:->|\.)\w+)+$/.test(rest);
}

/** `name` was set to the address of a member of `v` before `line` (`dev = &epf->dev`: the model's member aliases). */
function memberAliasOf(fn: FunctionModel, name: string, v: string, line: number): boolean {
  return (fn.memberAliases ?? []).some(
    (a) => a.name === name && a.of === v && a.member !== undefined && a.line <= line,
  );
}

/**
 * namePair's answers by acquire, then release name: it is asked for every
 * call after every acquire, and splitting both names each time was this
 * rule's largest cost. Dropped whole when it grows past a bound.
 */
const namePairs = new Map<string, Map<string, boolean>>();
let namePairCount = 0;
const NAME_PAIRS_BOUND = 1 << 16;

/** Name pairs by verb: `sysfs_create_group` / `sysfs_remove_group`, `vfio_pin_pages` / `vfio_unpin_pages`. */
function namePair(acquire: string, release: string): boolean {
  if (namePairCount >= NAME_PAIRS_BOUND) {
    namePairs.clear();
    namePairCount = 0;
  }
  let byRelease = namePairs.get(acquire);
  if (!byRelease) {
    byRelease = new Map();
    namePairs.set(acquire, byRelease);
  }
  let answer = byRelease.get(release);
  if (answer === undefined) {
    answer = splitNamePair(acquire, release);
    byRelease.set(release, answer);
    namePairCount++;
  }
  return answer;
}

function splitNamePair(acquire: string, release: string): boolean {
  const a = acquire.split('_');
  const r = release.split('_');
  if (a.length !== r.length) return false;
  let verb = -1;
  for (let i = 0; i < a.length; i++) {
    if (a[i] === r[i]) continue;
    if (verb >= 0) return false;
    verb = i;
  }
  return verb >= 0 && (VERB_PAIRS[a[verb]]?.includes(r[verb]) ?? false);
}

interface Acquire {
  ref: EventRef<CallEvent>;
  /** The acquired object as the code names it: the result local, or the first argument. */
  object: string;
  byResult: boolean;
  /** The knowledge (or the acquire's own rollback) pairs this call with its release functions. */
  known: boolean;
  /** The function the acquire is in. */
  file: string;
}

/**
 * A call of the acquire's release that takes the acquire's object with
 * other arguments (`remove(group, old)` after `add(group, new)`): it undoes
 * something else, not this acquire.
 */
function releasesOther(ctx: CheckContext, a: Acquire, x: CallEvent): boolean {
  const acq = a.ref.event;
  return (
    x !== acq &&
    !a.byResult &&
    sameShape(acq, x) &&
    withoutSpaces(x.args[0]) === a.object &&
    pairs(ctx, acq, a.file, x) &&
    !releases(ctx, a, x)
  );
}

const rollbackCache = new WeakMap<FunctionModel, string[]>();

/**
 * What a function in view undoes itself with: release-like calls on its
 * error path that take exactly its own parameters, in order
 * (`err: foo_remove(group, hwpt); return rc;` in `foo_add(group, hwpt)`).
 * Its callers' error paths must undo a successful call the same way.
 */
function ownRollbacks(fn: FunctionModel): string[] {
  const hit = rollbackCache.get(fn);
  if (hit) return hit;
  const out: string[] = [];
  const params = fn.params ?? [];
  if (params.length > 0) {
    const paths = flowPathsOf(fn);
    const returns = paths.events().filter((r): r is EventRef<ReturnEvent> => r.event.kind === 'return');
    for (const r of paths.events()) {
      const ev = r.event;
      if (ev.kind !== 'call' || ev.callee === fn.name || !RELEASE_LIKE.test(ev.callee) || out.includes(ev.callee))
        continue;
      if (ev.args.length !== params.length || !ev.args.every((arg, i) => withoutSpaces(arg) === params[i])) continue;
      // On the error path only: it leads to an error return and never to a success return.
      const after = returns.filter((x) => paths.before(r, x));
      if (after.length > 0 && after.every((x) => isErrorReturn(x.event))) out.push(ev.callee);
    }
  }
  rollbackCache.set(fn, out);
  return out;
}

/** knownReleases' answers per analysis (one context), by file and callee: asked for every pair of calls. */
const releaseLists = new WeakMap<CheckContext, Map<string, readonly string[]>>();

/** The releases that pair with an acquire call: knowledge, then the acquire's own rollback when its body is in view. */
function knownReleases(ctx: CheckContext, callee: string, file: string): readonly string[] {
  let lists = releaseLists.get(ctx);
  if (!lists) releaseLists.set(ctx, (lists = new Map()));
  const key = `${file}\u0000${callee}`;
  let list = lists.get(key);
  if (!list) {
    const known = functionKnowledge(ctx.knowledge, callee)?.releasedBy ?? [];
    const body = findFunction(ctx, callee, file);
    list = body ? [...known, ...ownRollbacks(body)] : known;
    lists.set(key, list);
  }
  return list;
}

/** Does `x` undo calls like `acq` (on some object)? */
function pairs(ctx: CheckContext, acq: CallEvent, file: string, x: CallEvent): boolean {
  return knownReleases(ctx, acq.callee, file).includes(x.callee) || namePair(acq.callee, x.callee);
}

/** Both calls take the same number of arguments (two or more): each argument names part of the object. */
function sameShape(acq: CallEvent, x: CallEvent): boolean {
  return acq.args.length >= 2 && acq.args.length === x.args.length;
}

/** A constant or flags (`GFP_KERNEL`, `0`, `IORESOURCE_MEM | IORESOURCE_BUSY`): no part of an object. */
const CONSTANT = /^(?:[A-Z_][A-Z0-9_]*|\d\w*)(?:\|(?:[A-Z_][A-Z0-9_]*|\d\w*))*$/;

/**
 * Same-shape pairs name the object by every argument that is not a constant:
 * `ida_free(&ida, dev->index)` undoes `ida_alloc(&ida, GFP_KERNEL)` (the flags
 * say how to allocate, not what), `remove(group, old)` does not undo `add(group, new)`.
 */
function sameObject(acq: CallEvent, x: CallEvent): boolean {
  return x.args.every(
    (arg, i) => CONSTANT.test(withoutSpaces(acq.args[i])) || withoutSpaces(arg) === withoutSpaces(acq.args[i]),
  );
}

/** `&object->member` or `&object.member`, by object: one compiled pattern per object instead of one per test. */
const embeddedPatterns = new Map<string, RegExp>();
function embeddedPattern(object: string): RegExp {
  let re = embeddedPatterns.get(object);
  if (!re) {
    if (embeddedPatterns.size > 4096) embeddedPatterns.clear();
    re = new RegExp(`^&${object}(?:->|\\.)\\w+$`);
    embeddedPatterns.set(object, re);
  }
  return re;
}

/** The acquired object itself, or the address of an object embedded in it (`&ioas->obj`, what `*_put_object()` takes). */
function isObject(a: Acquire, arg: string): boolean {
  const text = withoutSpaces(arg);
  return text === a.object || embeddedPattern(a.object).test(text);
}

/** Does `x` release what `a` acquired? */
function releases(ctx: CheckContext, a: Acquire, x: CallEvent, pairsOnly = false): boolean {
  const acq = a.ref.event;
  if (x === acq) return false;
  // Most calls are on another object: that test first, before the pair lookups.
  if (!a.byResult && (x.args.length === 0 || withoutSpaces(x.args[0]) !== a.object)) return false;
  const named = pairs(ctx, acq, a.file, x);
  if (a.byResult) {
    if (named) return x.args.some((arg) => isObject(a, arg));
    // An allocation is freed by a free-like call taking it first (`kfree(p)`; not `free_irq(irq, p)`,
    // where it is only the cookie). Device-managed allocations (`devm_*`) free themselves.
    return (
      ALLOCATES.test(acq.callee) &&
      !/^(?:devm|pcim|drmm)_/.test(acq.callee) &&
      FREES.test(x.callee) &&
      x.args.length > 0 &&
      isObject(a, x.args[0])
    );
  }
  if (named && sameShape(acq, x)) return sameObject(acq, x);
  // Destroying the object undoes whatever was acquired on it (`iommufd_access_destroy(access)` detaches too).
  return named || (!pairsOnly && /^[A-Za-z_]\w*$/.test(a.object) && DESTROYS.test(x.callee));
}

/**
 * A call to a function in view whose own body releases the acquired object,
 * its parameters read as the call's arguments (`__cleanup_nmi(irq, desc)`
 * calling `irq_chip_pm_put(&desc->irq_data)`): one level deep.
 */
function releasesInCallee(ctx: CheckContext, a: Acquire, x: CallEvent, file: string): boolean {
  if (a.byResult || x === a.ref.event) return false;
  const body = findFunction(ctx, x.callee, file);
  const params = body?.params;
  if (!body || !params || params.length === 0) return false;
  // Each parameter's name, as a word, and the caller's argument it stands for: made once per call.
  const subs = params.flatMap((p, i) =>
    x.args[i] === undefined ? [] : [[new RegExp(`(?<![\\w>.])${p}\\b`, 'g'), withoutSpaces(x.args[i])] as const],
  );
  const asCaller = (arg: string): string =>
    subs.reduce((out, [re, given]) => out.replace(re, () => given), withoutSpaces(arg));
  return body.blocks.some((b) =>
    b.events.some(
      (y) =>
        y.kind === 'call' &&
        y.args.length > 0 &&
        // The object first (most calls are on another one), then the pair.
        asCaller(y.args[0]) === a.object &&
        releases(ctx, a, { ...y, args: y.args.map(asCaller) }, true),
    ),
  );
}

function acquiresOf(ctx: CheckContext, fn: FunctionModel, paths: FlowPaths): Acquire[] {
  const out: Acquire[] = [];
  const calls = paths.events().filter((r): r is EventRef<CallEvent> => r.event.kind === 'call');
  for (const r of calls) {
    const ev = r.event;
    if (RELEASE_LIKE.test(ev.callee) || ev.callee === fn.name) continue;
    // Precision first: the acquire's own failure check must be understood (`if (!p)`,
    // `if (rc)`, `IS_ERR`), or a return after a failed acquire would look like a leak.
    if (paths.errorBlocks(r).size === 0) continue;
    const known = knownReleases(ctx, ev.callee, fn.file).length > 0;
    const byResult: Acquire | undefined = ev.resultVar
      ? { ref: r, object: ev.resultVar, byResult: true, known, file: fn.file }
      : undefined;
    const byArg: Acquire | undefined =
      ev.args.length > 0
        ? { ref: r, object: withoutSpaces(ev.args[0]), byResult: false, known, file: fn.file }
        : undefined;
    // The object is what the code releases: the result (`kfree(name)`) or the first argument
    // (`vfio_unpin_pages(&vdev, ...)`); for a pair known only from the knowledge, a struct
    // result (`iommufd_get_ioas()`), else the first argument (`vfio_pin_pages()` returns a count).
    // What makes a call an acquire is a pair (knowledge, names, allocations), never a teardown alone.
    const seen = (c: Acquire | undefined) => c !== undefined && calls.some((x) => releases(ctx, c, x.event, true));
    if (seen(byResult)) out.push(byResult!);
    else if (seen(byArg)) out.push(byArg!);
    else if (known && byResult && fn.types[byResult.object] !== undefined) out.push(byResult);
    else if (known && byArg) out.push(byArg);
  }
  return out;
}

/** Blocks reachable from the entry without passing through `avoid`. */
export function reachableAvoiding(fn: FunctionModel, avoid: number): Set<number> {
  const seen = new Set<number>();
  const work = [fn.entry];
  while (work.length > 0) {
    const b = work.pop()!;
    if (b === avoid || seen.has(b)) continue;
    seen.add(b);
    for (const e of fn.blocks[b]?.succ ?? []) work.push(e.to);
  }
  return seen;
}

const ERRNO = /^-\s*E[A-Z0-9]+$|^ERR_PTR\s*\(/;

function isErrorReturn(r: ReturnEvent): boolean {
  return r.isError || ERRNO.test(r.value.trim());
}

function checkFunction(ctx: CheckContext, fn: FunctionModel): Finding[] {
  const paths = flowPathsOf(fn);
  const acquires = acquiresOf(ctx, fn, paths);
  if (acquires.length === 0) return [];
  const events = paths.events();
  const returns = events.filter((r): r is EventRef<ReturnEvent> => r.event.kind === 'return' && isErrorReturn(r.event));
  const calls = events.filter((r): r is EventRef<CallEvent> => r.event.kind === 'call');
  const out: Finding[] = [];
  for (const a of acquires) {
    const ownFailure = paths.errorBlocks(a.ref);
    const avoid = reachableAvoiding(fn, a.ref.block);
    const releaseSites = calls.filter((x) => releases(ctx, a, x.event) || releasesInCallee(ctx, a, x.event, fn.file));
    const wrongSites = calls.filter((x) => releasesOther(ctx, a, x.event));
    // The function's own word is required: a pair the function never releases may be handed
    // over by means it does not show (a reference kept by the object it is stored in).
    // A release of the pair on another object is such a word too (see the header).
    if (releaseSites.length === 0 && wrongSites.length === 0) continue;
    const released = (r: EventRef) => releaseSites.some((x) => paths.before(a.ref, x) && paths.before(x, r));
    // Handed on: returned, stored into an object (the acquired value, or the call's result:
    // `mdev->id = rc` after `rc = ida_alloc(...)` makes the id the device's to free), or
    // given whole to another call or callback that may keep it (`ops->create(dev)`).
    const held = [a.object.replace(/^&/, ''), ...(a.ref.event.resultVar ? [a.ref.event.resultVar] : [])];
    // What the acquire wrote through its other arguments: a local whose address it was given (`xa_alloc(&xa,
    // &id, ...)`: the id is what was allocated), or an index it filled (`get(&pool, pg + n)`, `&pages[n]`).
    // Stored into an object (`sf->adev.id = id`, `req->nr_pages += n`), it is recorded for the owner's teardown.
    const written = a.ref.event.args.slice(1).flatMap((arg) => {
      const m =
        /^&\s*([A-Za-z_]\w*)$|^[A-Za-z_][\w>.-]*\s*\+\s*([A-Za-z_]\w*)$|^&?\s*[A-Za-z_][\w>.-]*\[\s*([A-Za-z_]\w*)\s*\]$/.exec(
          arg.trim(),
        );
      return m ? [m[1] ?? m[2] ?? m[3]] : [];
    });
    const handedOn = (r: EventRef<ReturnEvent>) =>
      mentions(r.event.value, a.object) ||
      paths.between(a.ref, r).some((x) => {
        const ev = x.event;
        if (
          (ev.kind === 'call' || ev.kind === 'callback') &&
          x !== a.ref &&
          !releaseSites.includes(x as EventRef<CallEvent>) &&
          !wrongSites.includes(x as EventRef<CallEvent>)
        ) {
          if (ev.args.some((arg) => held.some((v) => withoutSpaces(arg) === v || withoutSpaces(arg) === `&${v}`)))
            return true;
          // The address of a member embedded in it (`add_mmap_entry(ctx, &dm->mentry)`): whoever keeps
          // the member can reach the object (container_of) and free it; setting up the member
          // (`mutex_init(&dm->lock)`, `kref_init(&dm->ref)`) hands nothing on.
          // The same address under a local's name counts alike (`dev = &epf->dev; ... put_device(dev)`:
          // once the embedded device is set up, its release callback frees the container).
          if (
            ev.kind === 'call' &&
            !SETS_UP.test(ev.callee) &&
            ev.args.some((arg) => {
              const text = withoutSpaces(arg);
              return held.some((v) => embeddedIn(text, v) || memberAliasOf(fn, text, v, ev.line));
            })
          )
            return true;
        }
        const store = fieldStore(fn, ev);
        return store !== undefined && [...held, ...written].some((v) => mentions(store.value, v));
      });
    // Judged per later failure (smatch's unwind check): the error returns of each checked call
    // after the acquire, on every path through it. A return right after the acquire is left
    // alone (it may be the acquire's own failure, tested in a way the model did not tie to it).
    const later = calls.filter(
      (c) => c !== a.ref && !ownFailure.has(c.block) && paths.before(a.ref, c) && paths.errorBlocks(c).size > 0,
    );
    // A return shared with the acquire's own failure (`goto err_unlock` from both) must be
    // reached through a release after this failure.
    const releasedAfter = (c: EventRef, r: EventRef<ReturnEvent>) =>
      ownFailure.has(r.block) ? releaseSites.some((x) => paths.before(c, x) && paths.before(x, r)) : released(r);
    // A leaking path that calls the release on another object: the call a fix corrects. The
    // path through the acquire, the failure and the wrong release is the code's own, so a
    // failure also reachable without the acquire (both under one `if`) counts here, and
    // whatever else the path passes the object to, it did not keep it: the path tries to undo.
    const wrong = wrongAfter(paths, later, returns, wrongSites, (c, r) => !releasedAfter(c, r));
    if (wrong) {
      out.push(wrongObjectFinding(fn, a, wrong.x, wrong.r, wrong.c, releaseSites));
      continue;
    }
    const checkpoints = later.filter((c) => !avoid.has(c.block));
    const releasedReturns: EventRef<ReturnEvent>[] = [];
    const missing: EventRef<ReturnEvent>[] = [];
    const failedAt = new Map<EventRef, EventRef<CallEvent>>();
    for (const c of checkpoints) {
      const region = paths.errorBlocks(c);
      for (const r of returns) {
        if (!region.has(r.block) || missing.includes(r) || releasedReturns.includes(r)) continue;
        if (releasedAfter(c, r)) releasedReturns.push(r);
        else if (!handedOn(r)) {
          missing.push(r);
          failedAt.set(r, c);
        }
      }
    }
    if (missing.length === 0) continue;
    // The function's own word that this must be undone: another error return releases it,
    // or it releases it elsewhere; else only the knowledge's contract speaks.
    let confidence: Confidence;
    if (releasedReturns.length > 0) confidence = a.known ? 'high' : 'medium';
    else if (releaseSites.length > 0) confidence = 'medium';
    else continue;
    if (fn.status === 'partial') confidence = lowerConfidence(confidence);
    out.push(
      finding(
        fn,
        a,
        missing,
        failedAt.get(missing[0])!,
        releasedReturns,
        releaseSites,
        confidence,
        ctx,
        turnOf(fn, paths, a, ownFailure, missing[0]),
      ),
    );
  }
  return out;
}

/** The witness's failing step, unless it is the acquire's own line. */
function failingStep(fn: FunctionModel, acq: CallEvent, failed: EventRef<CallEvent>): RelatedLocation[] {
  if (failed.event.line === acq.line) return [];
  return [
    { file: fn.file, line: failed.event.line, message: `\`${failed.event.callee}()\` can fail here`, role: 'fallible' },
  ];
}

/** The first failure, leaking return and wrong-object release on one path (failure → release → return). */
function wrongAfter(
  paths: FlowPaths,
  failures: EventRef<CallEvent>[],
  returns: EventRef<ReturnEvent>[],
  wrongSites: EventRef<CallEvent>[],
  leaks: (c: EventRef<CallEvent>, r: EventRef<ReturnEvent>) => boolean,
): { c: EventRef<CallEvent>; x: EventRef<CallEvent>; r: EventRef<ReturnEvent> } | undefined {
  if (wrongSites.length === 0) return undefined;
  for (const c of failures) {
    const region = paths.errorBlocks(c);
    for (const x of wrongSites) {
      if (!region.has(x.block)) continue;
      const r = returns.find((r) => region.has(r.block) && paths.before(x, r) && leaks(c, r));
      if (r) return { c, x, r };
    }
  }
  return undefined;
}

/** What the acquire and a release take, for messages: `igroup, hwpt_paging`. */
function argsText(ev: CallEvent): string {
  return ev.args.map(withoutSpaces).join(', ');
}

/** The release called on another object than the acquire's (see the header). */
function wrongObjectFinding(
  fn: FunctionModel,
  a: Acquire,
  wrong: EventRef<CallEvent>,
  ret: EventRef<ReturnEvent>,
  failed: EventRef<CallEvent>,
  releaseSites: EventRef<CallEvent>[],
): Finding {
  const acq = a.ref.event;
  const x = wrong.event;
  const differ = x.args
    .map((arg, i) => ({ got: withoutSpaces(arg), want: withoutSpaces(acq.args[i]) }))
    .filter((d) => d.got !== d.want);
  const on = differ.map((d) => `\`${d.got}\` instead of \`${d.want}\``).join(', ');
  const value = ret.event.value ? ` \`${ret.event.value}\`` : '';
  const message =
    `\`${acq.callee}(${argsText(acq)})\` (line ${acq.line}) is undone on the error path after ` +
    `\`${failed.event.callee}()\` fails (line ${failed.event.line}) by \`${x.callee}(${argsText(x)})\` ` +
    `at line ${x.line}, on ${on}: what was acquired stays when the function returns${value} at line ` +
    `${ret.event.line}, and the release undoes something this function did not acquire.`;
  const related: RelatedLocation[] = [
    {
      file: fn.file,
      line: acq.line,
      message: `\`${acq.callee}()\` acquires on \`${argsText(acq)}\``,
      role: 'irreversible',
    },
    ...failingStep(fn, acq, failed),
    { file: fn.file, line: x.line, message: `\`${x.callee}()\` releases \`${argsText(x)}\`, not what was acquired` },
    {
      file: fn.file,
      line: ret.event.line,
      message: `returns without \`${x.callee}(${argsText(acq)})\``,
      role: 'return',
    },
    ...releaseSites.slice(0, 1).map((r) => ({
      file: fn.file,
      line: r.event.line,
      message: `\`${r.event.callee}()\` releases it here`,
    })),
  ];
  return {
    ruleId: 'missing-undo',
    severity: 'warning',
    confidence: fn.status === 'partial' ? 'low' : 'medium',
    message,
    file: fn.file,
    line: x.line,
    column: x.column,
    function: fn.name,
    fingerprint: fingerprint('missing-undo', fn.name, [acq.callee, x.callee]),
    related,
    scenario: scenarioFor('missing-undo', { file: fn.file, function: fn.name }),
  };
}

/**
 * Where the leaking path turns away from the release: the `goto` that jumps
 * past the unwind label, else the `if` whose branch returns, else the return
 * itself. That is the line a fix changes, so a patch that fixes the leak
 * shows the finding on its own lines.
 */
function turnOf(
  fn: FunctionModel,
  paths: FlowPaths,
  a: Acquire,
  ownFailure: Set<number>,
  r: EventRef<ReturnEvent>,
): { line: number; column: number } {
  const jumps = fn.blocks
    .filter((b) => b.gotoLine !== undefined && !ownFailure.has(b.id) && b.id !== r.block)
    .filter(
      (b) =>
        paths.before(a.ref, { block: b.id, index: -1, event: r.event }) &&
        paths.before({ block: b.id, index: b.events.length, event: r.event }, r),
    );
  if (jumps.length > 0) return { line: Math.min(...jumps.map((b) => b.gotoLine!)), column: 1 };
  const own = fn.blocks[r.block];
  if (own?.branchLine !== undefined && r.index === 0) return { line: own.branchLine, column: 1 };
  return { line: r.event.line, column: r.event.column };
}

function finding(
  fn: FunctionModel,
  a: Acquire,
  missing: EventRef<ReturnEvent>[],
  failed: EventRef<CallEvent>,
  releasedReturns: EventRef<ReturnEvent>[],
  releaseSites: EventRef<CallEvent>[],
  confidence: Confidence,
  ctx: CheckContext,
  at: { line: number; column: number },
): Finding {
  const acq = a.ref.event;
  const first = missing[0].event;
  const what = a.byResult
    ? `\`${a.object}\` from \`${acq.callee}()\``
    : `what \`${acq.callee}()\` acquired on \`${a.object}\``;
  const undo =
    releaseSites[0]?.event.callee ?? functionKnowledge(ctx.knowledge, acq.callee)?.releasedBy?.[0] ?? 'the release';
  const others =
    releasedReturns.length > 0
      ? `the error path returning at line ${releasedReturns[0].event.line} calls \`${undo}()\``
      : releaseSites.length > 0
        ? `the function calls \`${undo}()\` on it at line ${releaseSites[0].event.line}`
        : `\`${acq.callee}()\` is undone by \`${undo}()\``;
  const value = first.value ? ` \`${first.value}\`` : '';
  const message =
    `${what} (line ${acq.line}) is not released when the function returns${value} at line ${first.line}: ` +
    `${others}, this path does not, so it leaks.`;
  const related: RelatedLocation[] = [
    // The witness: the acquire stays done (the error path does not undo it), the failing step, the return.
    {
      file: fn.file,
      line: acq.line,
      message: `\`${acq.callee}()\` acquires ${a.byResult ? `\`${a.object}\`` : `on \`${a.object}\``}`,
      role: 'irreversible',
    },
    ...failingStep(fn, acq, failed),
    ...missing.map((r) => ({
      file: fn.file,
      line: r.event.line,
      message: `returns without \`${undo}()\``,
      role: 'return' as const,
    })),
    ...(releasedReturns.length > 0
      ? releaseSites.filter((x) => releasedReturns.some((r) => x.event.line <= r.event.line)).slice(0, 1)
      : releaseSites.slice(0, 1)
    ).map((x) => ({
      file: fn.file,
      line: x.event.line,
      message: `\`${x.event.callee}()\` releases it here`,
    })),
  ];
  return {
    ruleId: 'missing-undo',
    severity: 'warning',
    confidence,
    message,
    file: fn.file,
    line: at.line,
    column: at.column,
    function: fn.name,
    fingerprint: fingerprint('missing-undo', fn.name, [acq.callee, undo]),
    related,
    scenario: scenarioFor('missing-undo', { file: fn.file, function: fn.name }),
  };
}

const hasErrorReturn = (fn: FunctionModel) =>
  fn.blocks.some((b) => b.events.some((e) => e.kind === 'return' && isErrorReturn(e)));
/** A field given a call's result (`obj->buf = kmalloc(...)`): a possible overwrite of what it owns. */
const storesCall = (fn: FunctionModel) =>
  fn.blocks.some((b) => b.events.some((e) => e.kind === 'write' && e.field !== undefined && e.value.includes('(')));

export const missingUndo = perFunctionCheck(
  'missing-undo',
  (_ctx, fn) => hasErrorReturn(fn) || storesCall(fn),
  (ctx, fn) => [
    ...(hasErrorReturn(fn) ? checkFunction(ctx, fn) : []),
    ...(storesCall(fn) ? ownedFieldOverwrites(ctx, fn) : []),
  ],
);
