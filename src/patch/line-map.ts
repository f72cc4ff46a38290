/**
 * From an image line to the patch-file line that shows it: the `+`, `-` or
 * context line itself when the patch shows that line, else the nearest line
 * of the nearest hunk of the same file (a finding in unchanged code of a
 * function the patch touched still lands on that patch's lines).
 */
import type { HunkSpan } from './images';

export function patchLineFor(
  line: number,
  origin: ReadonlyMap<number, number>,
  spans: readonly HunkSpan[],
  side: 'pre' | 'post',
): number | undefined {
  const exact = origin.get(line);
  if (exact !== undefined) return exact;
  let best: { distance: number; patchLine: number } | undefined;
  for (const s of spans) {
    const from = side === 'pre' ? s.preFrom : s.postFrom;
    const to = side === 'pre' ? s.preTo : s.postTo;
    let candidate: number;
    let distance: number;
    if (to < from) {
      // The hunk shows no line of this side (a pure deletion seen from the post-image).
      candidate = s.firstPatchLine;
      distance = Math.abs(line - from);
    } else if (line < from) {
      candidate = origin.get(from) ?? s.firstPatchLine;
      distance = from - line;
    } else if (line > to) {
      candidate = origin.get(to) ?? s.lastPatchLine;
      distance = line - to;
    } else {
      // Inside the span but not shown (lines the other side owns): the closest shown line above.
      let l = line;
      while (l >= from && !origin.has(l)) l--;
      candidate = origin.get(l) ?? s.firstPatchLine;
      distance = 0;
    }
    if (!best || distance < best.distance) best = { distance, patchLine: candidate };
  }
  return best?.patchLine;
}

/** For a rebuilt (no-base) image: fragment line → the file line the hunk header declares. */
export function declaredLines(
  origin: ReadonlyMap<number, number>,
  declared: ReadonlyMap<number, number>,
): Map<number, number> {
  const out = new Map<number, number>();
  for (const [imageLine, patchLine] of origin) {
    const d = declared.get(patchLine);
    if (d !== undefined) out.set(imageLine, d);
  }
  return out;
}
