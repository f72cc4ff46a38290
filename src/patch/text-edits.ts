/**
 * The edits that turn one text into another, as replacements the engine's
 * incremental reparse takes (Engine.editFile): a file a patch touches is
 * mostly unchanged, and tree-sitter reparses only around the edits. Line
 * runs are compared with jsdiff's diffArrays; the result is checked by
 * applying it, and undefined (so: reparse the whole text) if it does not
 * reproduce the new text exactly.
 */
import { diffArrays } from 'diff';
import { linesOf } from '../engine/model/line-map';

export interface TextReplacement {
  start: number;
  deletedLength: number;
  inserted: string;
}

/** Replacements to apply in order (bottom-up, so each offset is in the old text). */
export function replacementsBetween(oldText: string, newText: string): TextReplacement[] | undefined {
  if (oldText === newText) return [];
  const changes = diffArrays(linesOf(oldText), linesOf(newText));
  const out: TextReplacement[] = [];
  let pos = 0;
  let pending: TextReplacement | undefined;
  for (const c of changes) {
    const length = c.value.reduce((n, l) => n + l.length, 0);
    if (!c.added && !c.removed) {
      if (pending) out.push(pending);
      pending = undefined;
      pos += length;
      continue;
    }
    pending ??= { start: pos, deletedLength: 0, inserted: '' };
    if (c.removed) {
      pending.deletedLength += length;
      pos += length;
    } else pending.inserted += c.value.join('');
  }
  if (pending) out.push(pending);
  out.reverse();
  let text = oldText;
  for (const r of out) text = text.slice(0, r.start) + r.inserted + text.slice(r.start + r.deletedLength);
  return text === newText ? out : undefined;
}
