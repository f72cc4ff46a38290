/**
 * Carries a review from one revision of a series to the next (v8 → v9).
 *
 * Patches match by title: the subject without `Re:` and the `[PATCH v8 2/4]`
 * tags, since the revision and often the numbering change while the title stays.
 * Within a matched patch:
 * - a comment thread moves to the line with the same content on the same side
 *   of the same file (the nearest one to its old line when several match);
 *   line numbers alone mean nothing across revisions;
 * - a dismissal follows its finding's fingerprint (stable across line moves by
 *   design), so a false positive dismissed on v8 stays dismissed on v9;
 * - an adoption follows the fingerprint when its thread was carried.
 * Whatever cannot be placed is listed, with why, in `notCarried` (and kept in
 * the new session, so the reviewer sees it there). Patch states and trailers
 * are not carried: a new revision needs a new look and a new Reviewed-by.
 */
import { parseSubject } from '../patch/subject';
import { anchorOfDiffLine, samePath } from './diff-lines';
import type { Anchor, NotCarried, ReviewPatch, ReviewSession, ReviewThread } from './types';

export interface CarryResult {
  session: ReviewSession;
  /** Threads and dismissals placed in the new revision. */
  carried: { threads: number; dismissals: number; adoptions: number };
  notCarried: NotCarried[];
}

/** The part of a subject that survives revisions. */
export function patchTitle(subject: string): string {
  return parseSubject(subject).title.replace(/\s+/g, ' ').trim();
}

function firstLine(thread: ReviewThread): string {
  return (thread.comments[0]?.body ?? '').split('\n')[0];
}

/** The new place of an anchor in `patch`, or why there is none. */
export function moveAnchor(patch: ReviewPatch, anchor: Anchor): Anchor | string {
  if (anchor.kind === 'patch') return anchor;
  const side = anchor.kind === 'diff' ? anchor.side : 'new';
  const candidates: { anchor: Anchor; distance: number; exact: boolean }[] = [];
  for (const f of patch.files) {
    if (!samePath(side === 'new' ? f.newPath : f.oldPath, anchor.file)) continue;
    for (const h of f.hunks)
      for (const l of h.lines) {
        const n = side === 'new' ? l.newLine : l.kind === 'del' ? l.oldLine : undefined;
        if (n === undefined) continue;
        const exact = l.text === anchor.text;
        // Whitespace-only changes (re-indent, tabs to spaces) keep the comment's place.
        if (!exact && l.text.replace(/\s+/g, ' ').trim() !== anchor.text.replace(/\s+/g, ' ').trim()) continue;
        candidates.push({ anchor: anchorOfDiffLine(f, l), distance: Math.abs(n - anchor.line), exact });
      }
  }
  if (candidates.length === 0) {
    // A comment on a C line the patch does not show is about the checkout, not the patch: it stays.
    if (anchor.kind === 'source') return anchor;
    return `the line is no longer in the patch: ${anchor.text.trim() || '(blank line)'}`;
  }
  candidates.sort((a, b) => Number(b.exact) - Number(a.exact) || a.distance - b.distance);
  const best = candidates[0].anchor;
  // A comment made on a C file stays a C-file comment, at the line's new place.
  if (anchor.kind === 'source' && best.kind === 'diff')
    return { kind: 'source', file: anchor.file, line: best.line, text: best.text };
  return best;
}

/**
 * A session for the next revision with the previous revision's comments and
 * dismissals carried over. `next` is a fresh session of the new revision (its
 * findings already set as suggestions).
 */
export function carryOver(previous: ReviewSession, next: ReviewSession): CarryResult {
  const out: ReviewSession = structuredClone(next);
  const notCarried: NotCarried[] = [];
  const carried = { threads: 0, dismissals: 0, adoptions: 0 };
  const v = `v${next.series.version}`;

  const byTitle = new Map<string, ReviewPatch>();
  for (const p of out.series.patches) byTitle.set(patchTitle(p.subject), p);

  for (const oldPatch of previous.series.patches) {
    const title = patchTitle(oldPatch.subject);
    const review = previous.reviews[oldPatch.id];
    if (!review) continue;
    const newPatch = byTitle.get(title);
    if (!newPatch) {
      const n = review.threads.length + review.suggestions.filter((s) => s.state === 'dismissed').length;
      if (n > 0)
        notCarried.push({
          patch: title,
          what: 'patch',
          summary: `${n} comment thread(s) and dismissal(s)`,
          reason: `no patch with this title in ${v}`,
        });
      continue;
    }
    const target = out.reviews[newPatch.id];
    const threadMap = new Map<string, string>();

    for (const t of review.threads) {
      const moved = moveAnchor(newPatch, t.anchor);
      if (typeof moved === 'string') {
        notCarried.push({ patch: title, what: 'thread', summary: firstLine(t), reason: moved });
        continue;
      }
      const id = `t${out.nextId++}`;
      threadMap.set(t.id, id);
      target.threads.push({ id, anchor: moved, comments: t.comments.map((c) => ({ ...c, id: `c${out.nextId++}` })) });
      carried.threads++;
    }

    for (const old of review.suggestions) {
      if (old.state === 'pending') continue;
      const now = target.suggestions.find((s) => s.fingerprint === old.fingerprint);
      if (old.state === 'dismissed') {
        if (!now) {
          notCarried.push({
            patch: title,
            what: 'dismissal',
            summary: old.message,
            reason: `the finding is not reported on ${v}`,
          });
          continue;
        }
        now.state = 'dismissed';
        if (old.reason !== undefined) now.reason = old.reason;
        carried.dismissals++;
      } else if (now && old.threadId && threadMap.has(old.threadId)) {
        // Adopted and its comment carried: the finding stays adopted instead of showing up again as new.
        now.state = 'adopted';
        now.threadId = threadMap.get(old.threadId)!;
        carried.adoptions++;
      }
    }
  }
  out.notCarried = notCarried;
  return { session: out, carried, notCarried };
}
