import { PatchedMap } from './patched-map';

/**
 * Per-file maps of lists (call sites by callee, field accesses by field)
 * joined into one, keeping each list's order: maps come in walk order, so
 * appending map by map keeps the whole walk's order.
 */

/**
 * A key only one map has keeps that map's list itself (lists are never
 * changed once built, so sharing it is safe and saves a copy per key on a
 * large tree); a key several maps have gets a list of its own, cut to size
 * (an array grown by push keeps spare room, and these are kept per analysis).
 */
export function joinLists<K, V>(maps: Iterable<ReadonlyMap<K, V[]>>): Map<K, V[]> {
  const out = new Map<K, V[]>();
  const joined = new Set<K>();
  for (const m of maps) {
    for (const [key, items] of m) {
      const list = out.get(key);
      if (!list) out.set(key, items);
      else if (joined.has(key)) for (const item of items) list.push(item);
      else {
        out.set(key, list.concat(items));
        joined.add(key);
      }
    }
  }
  for (const key of joined) out.set(key, out.get(key)!.slice());
  return out;
}

function sameItems<V>(a: readonly V[], b: readonly V[] | undefined): boolean {
  return b !== undefined && a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * `joinLists` again after an edit, given the last join and the parts it was
 * made of. When only some parts differ from the last ones (the rest the same
 * objects at the same places: an edit replaces one file's part; parts added
 * or dropped at the end: the changed functions checked as one more file),
 * only the keys those parts name are joined again, as a patch over the last
 * result; every other key's list is the same concatenation as before. Keys
 * keep their lists' order; a key new to the join goes last, so iterating
 * the result may order keys differently from a fresh join (callers look
 * keys up, or sort what they derive). The lists are shared, never changed.
 */
export function joinListsAgain<K, V>(
  parts: readonly ReadonlyMap<K, V[]>[],
  last: { parts: readonly ReadonlyMap<K, V[]>[]; out: ReadonlyMap<K, V[]> } | undefined,
): ReadonlyMap<K, V[]> {
  if (last) {
    const common = Math.min(parts.length, last.parts.length);
    const stale = new Set<K>();
    const changed: number[] = [];
    for (let i = 0; i < common; i++) {
      const p = parts[i];
      const was = last.parts[i];
      if (p === was) continue;
      changed.push(i);
      // A key whose items in this part are the same objects (the functions of the file an edit did not touch) keeps its list.
      for (const [key, items] of was) if (!sameItems(items, p.get(key))) stale.add(key);
      for (const [key, items] of p) if (!sameItems(items, was.get(key))) stale.add(key);
    }
    // Parts only one side has, at the end: every key they name.
    for (const side of [parts, last.parts])
      for (let i = common; i < side.length; i++) for (const key of side[i].keys()) stale.add(key);
    const ends = Math.abs(parts.length - last.parts.length);
    if ((changed.length + ends) * 4 <= parts.length) {
      // The last map with the stale keys' lists made again (a patch over it: copying it whole was most of this).
      const changes: [K, V[] | undefined][] = [];
      for (const key of stale) {
        const list = respliced(key, parts, last, changed) ?? rejoined(key, parts);
        changes.push([key, list.length > 0 ? list : undefined]);
      }
      return PatchedMap.of(last.out).with(changes);
    }
  }
  return PatchedMap.of(joinLists(parts));
}

/** A key's list joined from every part (a pass over all of them). */
function rejoined<K, V>(key: K, parts: readonly ReadonlyMap<K, V[]>[]): V[] {
  const list: V[] = [];
  for (const p of parts) for (const item of p.get(key) ?? []) list.push(item);
  return list;
}

/**
 * A key's list made from its last list: the runs of parts dropped from the
 * end taken off the end, each changed part's old run of items replaced by
 * its new one in place (a part's items are one run, in part order), and the
 * runs of parts added at the end put there. A lookup in every part for every
 * stale key was most of a re-check with a whole tree in view: an edited
 * file's functions are new objects, so every callee it calls is stale.
 * Changed parts are done last first, each run looked for before the one
 * after it: the same items can be in two parts (the engine checks changed
 * functions as one more file at the end, and a function the next edit does
 * not touch keeps its model, so its sites are in both). Undefined when a
 * changed part had no run to replace (where its first item goes needs the
 * other parts) or its run is not where it should be.
 */
function respliced<K, V>(
  key: K,
  parts: readonly ReadonlyMap<K, V[]>[],
  last: { parts: readonly ReadonlyMap<K, V[]>[]; out: ReadonlyMap<K, V[]> },
  changed: readonly number[],
): V[] | undefined {
  const list = (last.out.get(key) ?? []).slice();
  const runAt = (was: readonly V[], at: number): boolean => at >= 0 && was.every((x, j) => list[at + j] === x);
  for (let i = last.parts.length - 1; i >= parts.length; i--) {
    const was = last.parts[i].get(key) ?? [];
    if (was.length === 0) continue;
    if (!runAt(was, list.length - was.length)) return undefined;
    list.length -= was.length;
  }
  let before = list.length;
  for (let k = changed.length - 1; k >= 0; k--) {
    const i = changed[k];
    const was = last.parts[i].get(key) ?? [];
    const now = parts[i].get(key) ?? [];
    if (was.length === 0) {
      if (now.length === 0) continue;
      return undefined;
    }
    const at = before > 0 ? list.lastIndexOf(was[was.length - 1], before - 1) - was.length + 1 : -1;
    if (!runAt(was, at)) return undefined;
    list.splice(at, was.length, ...now);
    before = at;
  }
  for (let i = last.parts.length; i < parts.length; i++) list.push(...(parts[i].get(key) ?? []));
  return list;
}
