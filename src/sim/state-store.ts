/**
 * The explorer's visited set: every state's bytes in one growing buffer and an
 * open-addressing hash table of state numbers. No per-state objects or string
 * keys, so a search of tens of thousands of states makes little garbage.
 */

/** FNV-1a over the state's bytes. */
function hashBytes(s: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s[i];
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export class StateStore {
  private bytes: Uint8Array;
  /** Slot → state number + 1 (0: empty). */
  private table: Int32Array;
  private mask: number;
  count = 0;

  constructor(
    readonly width: number,
    capacity = 4096,
  ) {
    this.bytes = new Uint8Array(width * capacity);
    this.table = new Int32Array(capacity * 2);
    this.mask = this.table.length - 1;
  }

  /** The bytes of state n (a view: copy before changing). */
  get(n: number): Uint8Array {
    return this.bytes.subarray(n * this.width, (n + 1) * this.width);
  }

  private equals(n: number, s: Uint8Array): boolean {
    const base = n * this.width;
    for (let i = 0; i < this.width; i++) if (this.bytes[base + i] !== s[i]) return false;
    return true;
  }

  /** The state's number if seen before, else -1. */
  find(s: Uint8Array): number {
    for (let slot = hashBytes(s) & this.mask; ; slot = (slot + 1) & this.mask) {
      const e = this.table[slot];
      if (e === 0) return -1;
      if (this.equals(e - 1, s)) return e - 1;
    }
  }

  /** Adds a state not yet in the store; returns its number. */
  add(s: Uint8Array): number {
    if ((this.count + 1) * this.width > this.bytes.length) {
      const grown = new Uint8Array(this.bytes.length * 2);
      grown.set(this.bytes);
      this.bytes = grown;
    }
    if ((this.count + 1) * 2 > this.table.length) this.rehash(this.table.length * 2);
    const n = this.count++;
    this.bytes.set(s, n * this.width);
    this.place(n);
    return n;
  }

  private place(n: number): void {
    for (let slot = hashBytes(this.get(n)) & this.mask; ; slot = (slot + 1) & this.mask) {
      if (this.table[slot] === 0) {
        this.table[slot] = n + 1;
        return;
      }
    }
  }

  private rehash(size: number): void {
    this.table = new Int32Array(size);
    this.mask = size - 1;
    for (let n = 0; n < this.count; n++) this.place(n);
  }
}
