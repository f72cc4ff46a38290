/**
 * Which line of one text is which line of another: the map an edit that
 * only moves code (a comment or blank line inserted, a line changed in
 * place) needs so that what was computed for the old text can be reported
 * at the new text's lines. Lines are 1-based. Runs of lines jsdiff's
 * diffArrays finds unchanged map one to one; in a replaced region, lines are
 * paired in order (the first old line with the first new one), which is what
 * a line edited in place is. The map is bounded: a diff longer than
 * `maxEditLines` gives no map (the caller then recomputes instead).
 */
import { diffArrays } from 'diff';

/** Lines with their `\n` kept, so lengths add up exactly (the last one may lack it). */
export function linesOf(text: string): string[] {
  return text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}

/** A run of lines that map one to one: `old` and `new` are the first lines (1-based). */
interface Run {
  old: number;
  new: number;
  length: number;
}

export class LineMap {
  /** Sorted by both `old` and `new` (a diff never crosses runs). */
  private readonly runs: readonly Run[];

  /** How many lines the new text has. */
  readonly newLength: number;

  constructor(runs: readonly Run[], newLength: number) {
    this.runs = runs;
    this.newLength = newLength;
  }

  /** The new text's line for an old one; an old line deleted goes to the new line where it was (total, monotone). */
  toNew(line: number): number {
    const r = this.runAt(line, 'old');
    // Before the first run: deleted from the top, so where the new text starts.
    if (r === undefined) return 1;
    const run = this.runs[r];
    if (line < run.old + run.length) return run.new + (line - run.old);
    // Past the run: deleted (or before the first run). The next new line after the run.
    return run.new + run.length;
  }

  /** The old text's line for a new one; undefined for a line the edit added. */
  toOld(line: number): number | undefined {
    const r = this.runAt(line, 'new');
    if (r === undefined) return undefined;
    const run = this.runs[r];
    return line < run.new + run.length ? run.old + (line - run.new) : undefined;
  }

  /** Lines `from` to `to` (old text) are at the same lines in the new text. */
  keeps(from: number, to: number): boolean {
    const r = this.runAt(from, 'old');
    if (r === undefined) return false;
    const run = this.runs[r];
    return run.old === run.new && to < run.old + run.length;
  }

  /** How far lines `from` to `to` of the new text moved (new − old), when they lie in one run; else undefined. */
  shiftOf(from: number, to: number): number | undefined {
    const r = this.runAt(from, 'new');
    if (r === undefined) return undefined;
    const run = this.runs[r];
    return to < run.new + run.length ? run.new - run.old : undefined;
  }

  /** Every line of the new text is at its old line (the edit changed lines in place). */
  isIdentity(): boolean {
    const r = this.runs;
    return (
      this.newLength === 0 || (r.length === 1 && r[0].old === 1 && r[0].new === 1 && r[0].length >= this.newLength)
    );
  }

  /** The last run starting at or before `line` on that side, by binary search. */
  private runAt(line: number, side: 'old' | 'new'): number | undefined {
    let lo = 0;
    let hi = this.runs.length - 1;
    let found: number | undefined;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.runs[mid][side] <= line) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  }
}

/**
 * The line map from `oldText` to `newText`, or undefined when more than
 * `maxEditLines` lines were added or removed (then nothing is carried over).
 */
export function lineMapBetween(oldText: string, newText: string, maxEditLines = 400): LineMap | undefined {
  const a = linesOf(oldText);
  const b = linesOf(newText);
  // The common head and tail are cheap to see; only the middle is diffed.
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  const runs: Run[] = [];
  const add = (old: number, now: number, length: number): void => {
    if (length <= 0) return;
    const last = runs[runs.length - 1];
    if (last && last.old + last.length === old && last.new + last.length === now) last.length += length;
    else runs.push({ old, new: now, length });
  };
  add(1, 1, head);
  const changes = diffArrays(a.slice(head, a.length - tail), b.slice(head, b.length - tail), {
    maxEditLength: maxEditLines,
  });
  if (changes === undefined) return undefined;
  let old = head + 1;
  let now = head + 1;
  let removed = 0;
  let added = 0;
  // A replaced region (removals and additions between two kept runs): its lines paired in order.
  const flush = (): void => {
    add(old - removed, now - added, Math.min(removed, added));
    removed = 0;
    added = 0;
  };
  for (const c of changes) {
    if (c.removed) {
      removed += c.count;
      old += c.count;
    } else if (c.added) {
      added += c.count;
      now += c.count;
    } else {
      flush();
      add(old, now, c.count);
      old += c.count;
      now += c.count;
    }
  }
  flush();
  add(old, now, tail);
  return new LineMap(runs, b.length);
}
