/**
 * A read-only map that is another one with a few keys set or deleted, without
 * copying it: what `new Map(base)` followed by those `set`/`delete` calls
 * would hold, in the same iteration order (a key set again keeps its place, a
 * new or deleted-then-set key goes last). An edit changes the call sites of a
 * few callees out of thousands: copying the whole map on every keystroke was
 * a tenth of what an edit allocated, and the copy lived on into the next
 * collections. Versions share their base and never change once made; the
 * patch is folded into a new base once it grows past a fraction of it.
 */
export class PatchedMap<K, V> implements ReadonlyMap<K, V> {
  private constructor(
    private readonly base: ReadonlyMap<K, V>,
    /** Keys of `base` with another value, in place. */
    private readonly replaced: ReadonlyMap<K, V>,
    /** Keys of `base` deleted (one set again is in `appended`). */
    private readonly removed: ReadonlySet<K>,
    /** Keys after the base's, in the order they were (last) added. */
    private readonly appended: ReadonlyMap<K, V>,
  ) {}

  static of<K, V>(base: ReadonlyMap<K, V>): PatchedMap<K, V> {
    return base instanceof PatchedMap ? base : new PatchedMap(base, new Map(), new Set(), new Map());
  }

  /** This map with `changes` applied in order: a value sets its key, undefined deletes it. */
  with(changes: Iterable<[K, V | undefined]>): PatchedMap<K, V> {
    const replaced = new Map(this.replaced);
    const removed = new Set(this.removed);
    const appended = new Map(this.appended);
    for (const [key, value] of changes) {
      const inBase = this.base.has(key) && !removed.has(key);
      if (value === undefined) {
        if (appended.has(key)) appended.delete(key);
        else if (inBase) {
          removed.add(key);
          replaced.delete(key);
        }
      } else if (appended.has(key)) appended.set(key, value);
      else if (inBase) replaced.set(key, value);
      else appended.set(key, value);
    }
    // A large patch would make every read pay for it: fold it into a base of its own.
    if ((replaced.size + removed.size + appended.size) * 8 > this.base.size)
      return PatchedMap.of(new Map(new PatchedMap(this.base, replaced, removed, appended)));
    return new PatchedMap(this.base, replaced, removed, appended);
  }

  /**
   * Whether `a` and `b` iterate the same keys in the same order. Two versions
   * of one base that replaced values but removed and appended the same keys
   * answer without a walk over the base (an edit that renamed nothing, with
   * half a million functions in view); anything else is compared key by key.
   */
  static sameKeyOrder<K, V>(a: ReadonlyMap<K, V>, b: ReadonlyMap<K, V>): boolean {
    if (a === b) return true;
    if (a.size !== b.size) return false;
    if (a instanceof PatchedMap && b instanceof PatchedMap && a.base === b.base && sameMembers(a.removed, b.removed)) {
      const other = b.appended.keys();
      for (const key of a.appended.keys()) if (other.next().value !== key) return false;
      return true;
    }
    const other = b.keys();
    for (const key of a.keys()) if (other.next().value !== key) return false;
    return true;
  }

  get size(): number {
    return this.base.size - this.removed.size + this.appended.size;
  }

  get(key: K): V | undefined {
    const v = this.replaced.get(key);
    if (v !== undefined) return v;
    if (this.removed.has(key)) return this.appended.get(key);
    return this.base.get(key) ?? this.appended.get(key);
  }

  has(key: K): boolean {
    return this.get(key) !== undefined;
  }

  *entries(): MapIterator<[K, V]> {
    for (const [key, value] of this.base) {
      if (this.removed.has(key)) continue;
      yield [key, this.replaced.get(key) ?? value];
    }
    yield* this.appended;
  }

  [Symbol.iterator](): MapIterator<[K, V]> {
    return this.entries();
  }

  *keys(): MapIterator<K> {
    for (const [key] of this.entries()) yield key;
  }

  *values(): MapIterator<V> {
    for (const [, value] of this.entries()) yield value;
  }

  forEach(callback: (value: V, key: K, map: ReadonlyMap<K, V>) => void, thisArg?: unknown): void {
    for (const [key, value] of this.entries()) callback.call(thisArg, value, key, this);
  }
}

/** Whether two sets have the same members (in any order). */
export function sameMembers<T>(a: ReadonlySet<T>, b: ReadonlySet<T>): boolean {
  if (a.size !== b.size) return false;
  for (const x of a) if (!b.has(x)) return false;
  return true;
}
