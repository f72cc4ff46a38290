/**
 * One copy of each distinct string across many files' facts. Facts that
 * arrive structured-cloned (from a worker thread, or read back from the
 * index) hold a fresh copy of every string: the file path in each function,
 * `call`/`read` in each event, every callee, field and lock name, the same
 * `mutex_unlock(&dev->lock)` in many files. With a whole tree as context
 * those copies were about a third of the models' heap. Interning changes no
 * answer: strings are values, compared by content everywhere.
 * Browser-safe.
 */
export class StringPool {
  private readonly strings = new Map<string, string>();

  /** Replaces, in place, every string in `value`'s plain objects and arrays by the pool's equal one; returns `value`. */
  intern<T>(value: T): T {
    this.walk(value);
    return value;
  }

  private one(s: string): string {
    const kept = this.strings.get(s);
    if (kept !== undefined) return kept;
    this.strings.set(s, s);
    return s;
  }

  private walk(value: unknown): void {
    if (typeof value !== 'object' || value === null) return;
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        const v: unknown = value[i];
        if (typeof v === 'string') value[i] = this.one(v);
        else this.walk(v);
      }
      return;
    }
    // Plain objects only (facts are plain data); anything else is left as it is.
    const proto: unknown = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) return;
    const record = value as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      const v = record[key];
      if (typeof v === 'string') record[key] = this.one(v);
      else this.walk(v);
    }
  }
}
