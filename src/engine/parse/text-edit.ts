import type { Point, TextEdit } from './syntax';

/** The row/column (UTF-16 units, 0-based) of `offset` in `text`. */
export function pointAt(text: string, offset: number): Point {
  let row = 0;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i >= 0 && i < offset; i = text.indexOf('\n', i + 1)) {
    row++;
    lineStart = i + 1;
  }
  return { row, column: offset - lineStart };
}

/** The end point of `inserted` when it starts at `start`. */
function advance(start: Point, inserted: string): Point {
  const lines = inserted.split('\n');
  if (lines.length === 1) return { row: start.row, column: start.column + inserted.length };
  return { row: start.row + lines.length - 1, column: lines[lines.length - 1].length };
}

/**
 * Describes replacing `oldText[start, start + deletedLength)` with `inserted`
 * as a tree-sitter edit. Apply edits in order, each against the text the
 * previous one produced (that is how VS Code's contentChanges arrive).
 */
export function describeEdit(oldText: string, start: number, deletedLength: number, inserted: string): TextEdit {
  const startPosition = pointAt(oldText, start);
  return {
    startIndex: start,
    oldEndIndex: start + deletedLength,
    newEndIndex: start + inserted.length,
    startPosition,
    oldEndPosition: pointAt(oldText, start + deletedLength),
    newEndPosition: advance(startPosition, inserted),
  };
}

export function applyEdit(oldText: string, start: number, deletedLength: number, inserted: string): string {
  return oldText.slice(0, start) + inserted + oldText.slice(start + deletedLength);
}
