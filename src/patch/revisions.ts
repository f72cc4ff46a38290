/**
 * Two revisions of one series (v8 then v9): what the newer one fixed, what it
 * still has, what is new. Patches are matched by title (a revision may
 * reorder or renumber them), findings by file and fingerprint, so the same
 * problem is recognised across revisions whatever its line numbers.
 */
import { matchKey } from './classify';
import type { PatchFinding, SeriesReview } from './types';

export interface RevisionPatch {
  /** Index in the newer revision; undefined for a patch the newer revision dropped. */
  index?: number;
  previousIndex?: number;
  title: string;
  /** Introduced by the older revision's patch, no longer by the newer one: status `fixed`. */
  fixed: PatchFinding[];
  /** Introduced by both. */
  unchanged: PatchFinding[];
  /** Introduced only by the newer one. */
  introduced: PatchFinding[];
}

export interface RevisionComparison {
  previousVersion: number;
  version: number;
  patches: RevisionPatch[];
}

export function compareRevisions(previous: SeriesReview, current: SeriesReview): RevisionComparison {
  const introducedIn = (fs: readonly PatchFinding[]) => fs.filter((f) => f.status === 'introduced');
  const prevByTitle = new Map(previous.patches.map((p) => [p.title, p]));
  const seen = new Set<string>();
  const patches: RevisionPatch[] = [];
  const compare = (
    title: string,
    before: PatchFinding[],
    after: PatchFinding[],
    index?: number,
    previousIndex?: number,
  ) => {
    const waiting = new Map<string, PatchFinding[]>();
    for (const f of before) waiting.set(matchKey(f), [...(waiting.get(matchKey(f)) ?? []), f]);
    const unchanged: PatchFinding[] = [];
    const introduced: PatchFinding[] = [];
    for (const f of after) {
      const match = waiting.get(matchKey(f))?.shift();
      (match ? unchanged : introduced).push(f);
    }
    const fixed = [...waiting.values()].flat().map((f) => ({ ...f, status: 'fixed' as const }));
    patches.push({ index, previousIndex, title, fixed, unchanged, introduced });
  };
  for (const p of current.patches) {
    const old =
      prevByTitle.get(p.title) ??
      previous.patches.find((q) => q.index === p.index && !current.patches.some((c) => c.title === q.title));
    if (old) seen.add(old.title);
    compare(p.title, introducedIn(old?.findings ?? []), introducedIn(p.findings), p.index, old?.index);
  }
  for (const old of previous.patches)
    if (!seen.has(old.title)) compare(old.title, introducedIn(old.findings), [], undefined, old.index);
  return { previousVersion: previous.series.version, version: current.series.version, patches };
}
