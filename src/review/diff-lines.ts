/**
 * Finding places inside a patch's diff: from an anchor to the hunk line it
 * names, from a line of the patch text to an anchor, and back. Comments are
 * stored by file/side/line (stable when the mail is re-rendered), while the
 * editor and the finding list speak in patch lines or post-image lines.
 */
import type { Anchor, DiffLine, FileDiff, ReviewPatch } from './types';

export interface DiffPlace {
  file: FileDiff;
  fileIndex: number;
  hunkIndex: number;
  lineIndex: number;
  line: DiffLine;
}

/** Paths in comments and findings may carry git's `a/`/`b/` prefixes or not. */
export function samePath(a: string, b: string): boolean {
  const strip = (p: string): string => p.replace(/^\.?\//, '').replace(/^[ab]\//, '');
  return strip(a) === strip(b) || a.endsWith('/' + strip(b)) || b.endsWith('/' + strip(a));
}

function fileMatches(f: FileDiff, file: string, side: 'old' | 'new'): boolean {
  return samePath(side === 'new' ? f.newPath : f.oldPath, file);
}

/** The diff line a `side` line number of `file` falls on, if the patch shows it. */
export function findDiffLine(
  patch: ReviewPatch,
  file: string,
  side: 'old' | 'new',
  line: number,
): DiffPlace | undefined {
  for (let fi = 0; fi < patch.files.length; fi++) {
    const f = patch.files[fi];
    if (!fileMatches(f, file, side)) continue;
    for (let hi = 0; hi < f.hunks.length; hi++) {
      const lines = f.hunks[hi].lines;
      for (let li = 0; li < lines.length; li++) {
        const l = lines[li];
        // A context line has both numbers; it is addressed by its new one.
        const n = side === 'new' ? l.newLine : l.kind === 'del' ? l.oldLine : undefined;
        if (n === line) return { file: f, fileIndex: fi, hunkIndex: hi, lineIndex: li, line: l };
      }
    }
  }
  return undefined;
}

/** The diff line an anchor names; `source` anchors resolve when the patch shows that post-image line. */
export function placeOf(patch: ReviewPatch, anchor: Anchor): DiffPlace | undefined {
  if (anchor.kind === 'diff') return findDiffLine(patch, anchor.file, anchor.side, anchor.line);
  if (anchor.kind === 'source') return findDiffLine(patch, anchor.file, 'new', anchor.line);
  return undefined;
}

/** The anchor of a diff line. */
export function anchorOfDiffLine(file: FileDiff, line: DiffLine): Anchor {
  if (line.kind === 'del')
    return { kind: 'diff', file: file.oldPath, side: 'old', line: line.oldLine ?? 0, text: line.text };
  return { kind: 'diff', file: file.newPath, side: 'new', line: line.newLine ?? 0, text: line.text };
}

/** The anchor for a line of the patch's mail text (what the editor shows), if it is a hunk line. */
export function anchorAtPatchLine(patch: ReviewPatch, patchLine: number): Anchor | undefined {
  for (const f of patch.files)
    for (const h of f.hunks) for (const l of h.lines) if (l.patchLine === patchLine) return anchorOfDiffLine(f, l);
  return undefined;
}

/** Where an anchor shows in the patch's mail text, when it does. */
export function patchLineOf(patch: ReviewPatch, anchor: Anchor): number | undefined {
  return placeOf(patch, anchor)?.line.patchLine;
}

/**
 * The anchor for an analyzer location (a post-image line): on the diff when the
 * patch shows that line, else on the source file.
 */
export function anchorForLocation(patch: ReviewPatch, file: string, line: number, sourceText = ''): Anchor {
  const place = findDiffLine(patch, file, 'new', line);
  if (place) return anchorOfDiffLine(place.file, place.line);
  return { kind: 'source', file, line, text: sourceText };
}

/** Every patch line that is a hunk line: the commenting ranges of the patch view. */
export function hunkPatchLines(patch: ReviewPatch): number[] {
  const out: number[] = [];
  for (const f of patch.files)
    for (const h of f.hunks) for (const l of h.lines) if (l.patchLine !== undefined) out.push(l.patchLine);
  return out;
}

/** The first line of a patch's diff in the mail text (its lowest hunk line), if it shows any. */
function firstPatchLine(patch: ReviewPatch): number | undefined {
  let first: number | undefined;
  for (const f of patch.files)
    for (const h of f.hunks)
      for (const l of h.lines)
        if (l.patchLine !== undefined && (first === undefined || l.patchLine < first)) first = l.patchLine;
  return first;
}

/**
 * The patch of a series whose message holds line `line` (1-based) of the
 * series' mail text: messages are cut at mbox `From ` separators, and a
 * message is a patch's when that patch's diff lines are inside it. Undefined
 * on a cover letter, a reply, or text outside every patch: the caller asks.
 */
export function patchAtMailLine(
  patches: readonly ReviewPatch[],
  mailText: string,
  line: number,
): ReviewPatch | undefined {
  const lines = mailText.split('\n');
  const starts = [1];
  lines.forEach((l, i) => i > 0 && /^From \S+/.test(l) && lines[i - 1] === '' && starts.push(i + 1));
  let k = starts.length - 1;
  while (k > 0 && starts[k] > line) k--;
  const from = starts[k];
  const to = starts[k + 1] ?? lines.length + 1;
  return patches.find((p) => {
    const first = firstPatchLine(p);
    return first !== undefined && first >= from && first < to;
  });
}
