/**
 * Classified findings → what a patch reports (PatchFinding): which are shown
 * (introduced and fixed anywhere, unchanged where the patch shows their
 * code), where (image file and line, patch-file line, the same for each
 * related location), and how sure (partial-context caps; the threshold is
 * applied last, after classification).
 */
import { CONFIDENCE_ORDER, type Confidence, type Finding, type RelatedLocation } from '../engine/types';
import type { Classified } from './classify';
import type { PatchImages, TouchedFile } from './images';
import { declaredLines, patchLineFor } from './line-map';
import type { FileDiff, PatchFinding } from './types';

/** Rebuilt (no-base) images: the highest confidence a finding keeps. */
export const PARTIAL_CAP: Confidence = 'medium';

function capConfidence(c: Confidence): Confidence {
  return c === 'high' ? PARTIAL_CAP : c;
}

interface Placement {
  file: string;
  line: number;
  patchLine?: number;
  /** Maps other lines of the same image (related locations, `line N` in messages). */
  mapLine: (line: number) => number;
  mapPatchLine: (line: number) => number | undefined;
}

/** Where a finding is: image file and line, patch line; for rebuilt images, the lines the hunk headers declare. */
function placer(images: PatchImages, partial: boolean) {
  const byPost = new Map<string, TouchedFile>();
  const byPre = new Map<string, TouchedFile>();
  for (const t of images.touched) {
    if (t.postPath) byPost.set(t.postPath, t);
    if (t.prePath) byPre.set(t.prePath, t);
  }
  return (file: string, line: number, side: 'pre' | 'post'): Placement => {
    const t = side === 'post' ? byPost.get(file) : byPre.get(file);
    if (!t) return { file, line, mapLine: (l) => l, mapPatchLine: () => undefined };
    const origin = side === 'post' ? t.postOrigin : t.preOrigin;
    const mapPatchLine = (l: number) => patchLineFor(l, origin, t.spans, side);
    let mapLine = (l: number) => l;
    if (partial) {
      const declared = declaredLines(origin, declaredByPatchLine(t.diff, side));
      mapLine = (l: number) => declared.get(l) ?? nearestDeclared(declared, l) ?? l;
    }
    return { file, line: mapLine(line), patchLine: mapPatchLine(line), mapLine, mapPatchLine };
  };
}

/** Patch line → the old/new file line the hunk header says it is. */
function declaredByPatchLine(diff: FileDiff, side: 'pre' | 'post'): Map<number, number> {
  const out = new Map<number, number>();
  for (const h of diff.hunks) {
    let n = side === 'pre' ? h.oldStart : h.newStart;
    const skip = side === 'pre' ? '+' : '-';
    for (const l of h.lines) {
      if (l.op === skip || l.op === '\\') continue;
      out.set(l.patchLine, n++);
    }
  }
  return out;
}

function nearestDeclared(declared: ReadonlyMap<number, number>, line: number): number | undefined {
  for (let d = 1; d < 200; d++) {
    const above = declared.get(line - d);
    if (above !== undefined) return above;
    const below = declared.get(line + d);
    if (below !== undefined) return below;
  }
  return undefined;
}

function annotate(c: Classified, place: ReturnType<typeof placer>, partial: boolean): PatchFinding {
  const f: Finding = c.finding;
  const side = c.status === 'fixed' ? 'pre' : 'post';
  const p = place(f.file, f.line, side);
  const remap = (text: string) =>
    partial ? text.replace(/\bline (\d+)/g, (_m, n: string) => `line ${p.mapLine(Number(n))}`) : text;
  const related = f.related.map((r: RelatedLocation) => {
    if (r.file !== f.file) return { ...r };
    return { ...r, line: p.mapLine(r.line), message: remap(r.message), patchLine: p.mapPatchLine(r.line) };
  });
  const out: PatchFinding = {
    ...f,
    line: p.line,
    endLine: f.endLine !== undefined ? p.mapLine(f.endLine) : undefined,
    related,
    status: c.status,
    patchLine: p.patchLine,
    imageFile: f.file,
    imageLine: p.line,
    context: partial ? 'partial' : 'full',
  };
  if (f.endLine === undefined) delete out.endLine;
  if (partial) {
    // Rebuilt images have their own line numbers: say the file's, as the hunk headers give them.
    out.message = remap(f.message);
    const capped = capConfidence(f.confidence);
    if (capped !== f.confidence) {
      out.originalConfidence = f.confidence;
      out.confidence = capped;
    }
  }
  return out;
}

/** True when the patch shows the finding's primary line or one of its witness lines. */
function shownByPatch(f: Finding, images: PatchImages): boolean {
  const t = images.touched.find((x) => x.postPath === f.file);
  if (!t) return false;
  return t.postOrigin.has(f.line) || f.related.some((r) => r.file === f.file && t.postOrigin.has(r.line));
}

/**
 * Rules whose verdict is the order of calls the hunks show (an irreversible
 * step before a fallible one, a write before a failure that does not undo
 * it): lines out of view do not change that order, so a function seen in
 * part keeps the partial-context cap. The other rules rest on which locks
 * are held, which unseen lines can change.
 */
const ORDER_RULES = new Set(['unmap-before-rollback', 'unrestored-state', 'missing-undo']);

/**
 * Rebuilt images: a finding in a function whose start the hunks do not show
 * rests on part of its body. What the patch fixes is kept (its pre-image
 * finding sits in the lines the patch changes, and the unseen head and tail
 * were inferred alike on both sides); what it introduces or leaves is kept
 * only for order rules.
 */
function demotedInPartialBody(c: Classified, images: PatchImages): boolean {
  if (c.status === 'fixed' || ORDER_RULES.has(c.finding.ruleId)) return false;
  return inPartialBody(c, images);
}

function inPartialBody(c: Classified, images: PatchImages): boolean {
  const f = c.finding;
  return images.touched.some((t) =>
    c.status === 'fixed'
      ? t.prePath === f.file && t.prePartial?.has(f.function)
      : t.postPath === f.file && t.postPartial?.has(f.function),
  );
}

export function placeFindings(
  classified: Classified[],
  images: PatchImages,
  partial: boolean,
  minConfidence: Confidence,
): PatchFinding[] {
  const place = placer(images, partial);
  // What the patch introduces or fixes, anywhere; an unchanged finding only
  // where the patch shows its code (a reviewer reads it in this patch).
  return classified
    .filter((c) => c.status !== 'unchanged' || shownByPatch(c.finding, images))
    .map((c) => {
      const out = annotate(c, place, partial);
      if (partial && demotedInPartialBody(c, images) && out.confidence !== 'low') {
        // Only part of the function is in view (its lock may be taken above the hunk): low.
        out.originalConfidence ??= out.confidence;
        out.confidence = 'low';
      }
      return out;
    })
    .filter((f) => CONFIDENCE_ORDER.indexOf(f.confidence) >= CONFIDENCE_ORDER.indexOf(minConfidence))
    .sort(
      (a, b) =>
        (a.patchLine ?? Infinity) - (b.patchLine ?? Infinity) || a.file.localeCompare(b.file) || a.line - b.line,
    );
}
