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
