/**
 * Debounced work where only the latest request matters: a new request cancels
 * the pending timer and marks any run in progress as superseded, so results of
 * stale runs are dropped instead of overwriting newer ones. Timer functions are
 * injected so the scheduler runs the same in Node, a browser and in tests.
 */
export interface Timers {
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

export const realTimers: Timers = {
  set: (fn, ms) => setTimeout(fn, ms),
  clear: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

/** Handed to a run: `superseded()` turns true once a newer request arrived. */
export interface RunToken {
  superseded(): boolean;
}

export class LatestOnly<K> {
  private readonly pending = new Map<K, unknown>();
  private readonly generation = new Map<K, number>();

  constructor(private readonly timers: Timers = realTimers) {}

  /** Runs `work` after `delayMs` unless another request for `key` comes first. */
  request(key: K, delayMs: number, work: (token: RunToken) => void | Promise<void>): void {
    const gen = (this.generation.get(key) ?? 0) + 1;
    this.generation.set(key, gen);
    const old = this.pending.get(key);
    if (old !== undefined) this.timers.clear(old);
    const token: RunToken = { superseded: () => this.generation.get(key) !== gen };
    const handle = this.timers.set(() => {
      this.pending.delete(key);
      if (!token.superseded()) void work(token);
    }, delayMs);
    this.pending.set(key, handle);
  }

  /** Drops any pending run for `key` and supersedes one in progress. */
  cancel(key: K): void {
    const old = this.pending.get(key);
    if (old !== undefined) this.timers.clear(old);
    this.pending.delete(key);
    this.generation.set(key, (this.generation.get(key) ?? 0) + 1);
  }

  dispose(): void {
    for (const h of this.pending.values()) this.timers.clear(h);
    this.pending.clear();
  }
}
