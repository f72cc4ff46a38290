/**
 * The texts a patch's findings were computed on, for showing them (the
 * extension opens them as read-only documents at a finding's lines). Applied
 * images are the files as they were analysed; images rebuilt from hunks are
 * laid out at the line numbers the hunk headers give, which are the lines
 * their findings name, with the unseen lines left empty.
 */
import type { PatchImages } from './images';
import type { FileDiff } from './types';

export interface ImageText {
  /** Path of the file in that image. */
  path: string;
  side: 'pre' | 'post';
  text: string;
}

/** What the hunks show of one side, each line at its declared number. */
export function declaredLayout(diff: FileDiff, side: 'pre' | 'post'): string {
  const lines: string[] = [];
  const skip = side === 'pre' ? '+' : '-';
  for (const h of diff.hunks) {
    let n = (side === 'pre' ? h.oldStart : h.newStart) - 1;
    for (const l of h.lines) {
      if (l.op === skip || l.op === '\\') continue;
      while (lines.length < n) lines.push('');
      lines[n++] = l.text;
    }
  }
  return lines.join('\n') + '\n';
}

export function imageTexts(images: PatchImages, rebuilt: boolean): ImageText[] {
  const out: ImageText[] = [];
  for (const t of images.touched) {
    if (t.prePath && t.preText !== undefined)
      out.push({ path: t.prePath, side: 'pre', text: rebuilt ? declaredLayout(t.diff, 'pre') : t.preText });
    if (t.postPath && t.postText !== undefined)
      out.push({ path: t.postPath, side: 'post', text: rebuilt ? declaredLayout(t.diff, 'post') : t.postText });
  }
  return out;
}
