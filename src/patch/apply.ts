/**
 * Applies one file's hunks to its text in memory, hunk by hunk, with the
 * offset and fuzz tolerance of `patch`/`git apply`: jsdiff's applyPatch does
 * the applying (fuzzFactor, compareLine). Applying one hunk at a time is what
 * lets us say which hunk failed and keep the others, and tells us where each
 * hunk landed, which the line mapping needs.
 */
import { applyPatch, type StructuredPatch } from 'diff';
import type { FileDiff, Hunk } from './types';

/** Context lines that may differ, like `patch`'s default fuzz. */
export const FUZZ = 2;

export interface HunkPlacement {
  hunk: Hunk;
  /** 1-based hunk number in its file. */
  number: number;
  applied: boolean;
  /** First line of the hunk's old side in the pre-image (after placement), 1-based. */
  preStart: number;
  /** First line of the hunk's new side in the post-image, 1-based. */
  postStart: number;
  /** Lines away from where the header said. */
  offset: number;
  fuzzed: boolean;
  /** Why it failed, in words. */
  failure?: string;
}

export interface FileApplyResult {
  /** The post-image text; undefined for a deleted file. */
  text?: string;
  placements: HunkPlacement[];
}

const sameLine = (a: string, b: string) => a === b || a.replace(/\s+$/, '') === b.replace(/\s+$/, '');

function sideLines(hunk: Hunk, side: 'old' | 'new'): string[] {
  const skip = side === 'old' ? '+' : '-';
  return hunk.lines.filter((l) => l.op !== skip && l.op !== '\\').map((l) => l.text);
}

/** Where `needle` occurs in `hay` nearest to `expected` (0-based), or -1. */
function findNear(hay: readonly string[], needle: readonly string[], expected: number): number {
  const fits = (at: number) => {
    if (at < 0 || at + needle.length > hay.length) return false;
    for (let i = 0; i < needle.length; i++) if (!sameLine(hay[at + i], needle[i])) return false;
    return true;
  };
  const limit = Math.max(expected, hay.length - expected) + 1;
  for (let d = 0; d <= limit; d++) {
    if (fits(expected - d)) return expected - d;
    if (d > 0 && fits(expected + d)) return expected + d;
  }
  return -1;
}

function hunkLabel(path: string, hunk: Hunk, n: number): string {
  return `hunk #${n} of ${path} (@@ -${hunk.oldStart},${hunk.oldLines} +${hunk.newStart},${hunk.newLines} @@, patch line ${hunk.headerLine})`;
}

function splitText(text: string): { lines: string[]; finalNewline: boolean } {
  if (text === '') return { lines: [], finalNewline: true };
  const finalNewline = text.endsWith('\n');
  const lines = (finalNewline ? text.slice(0, -1) : text).split('\n');
  return { lines, finalNewline };
}

/**
 * Applies `file`'s hunks to `text` (undefined when the file does not exist).
 * Failed hunks are reported in their placement and skipped, like `patch`
 * writing a .rej: the rest of the file is still patched and analysed.
 */
export function applyFileDiff(text: string | undefined, file: FileDiff): FileApplyResult {
  const path = file.newPath ?? file.oldPath ?? '';
  if (file.kind === 'delete') {
    return { text: undefined, placements: file.hunks.map((hunk, i) => ({ hunk, number: i + 1, applied: true, preStart: hunk.oldStart, postStart: 0, offset: 0, fuzzed: false })) };
  }
  let current = text ?? '';
  let delta = 0; // post lines minus pre lines so far
  const placements: HunkPlacement[] = [];
  file.hunks.forEach((hunk, i) => {
    const number = i + 1;
    const before = splitText(current).lines;
    const oldSide = sideLines(hunk, 'old');
    // jsdiff already moved a zero-length old side (`-10,0`) to the line it goes before.
    const expected = Math.max(0, hunk.oldStart - 1 + delta);
    const exact = oldSide.length === 0 ? Math.min(expected, before.length) : findNear(before, oldSide, expected);
    const single: StructuredPatch = {
      oldFileName: path,
      newFileName: path,
      oldHeader: undefined,
      newHeader: undefined,
      hunks: [
        {
          oldStart: hunk.oldStart + delta,
          oldLines: hunk.oldLines,
          newStart: hunk.newStart,
          newLines: hunk.newLines,
          lines: hunk.lines.map((l) => l.op + l.text),
        },
      ],
    };
    let result: string | false = false;
    try {
      result = applyPatch(current, single, {
        fuzzFactor: FUZZ,
        // jsdiff asks past the end of the file too (line undefined).
        compareLine: (_n: number, line: string | undefined, _op: string, content: string) => line !== undefined && sameLine(line, content),
      });
    } catch (e) {
      result = false;
      placements.push({ hunk, number, applied: false, preStart: hunk.oldStart, postStart: hunk.newStart, offset: 0, fuzzed: false, failure: `${hunkLabel(path, hunk, number)} could not be applied: ${(e as Error).message}` });
      return;
    }
    if (result === false) {
      placements.push({
        hunk,
        number,
        applied: false,
        preStart: hunk.oldStart,
        postStart: hunk.newStart,
        offset: 0,
        fuzzed: false,
        failure: `${hunkLabel(path, hunk, number)} does not apply: its ${oldSide.length} context and removed lines were not found, even ${FUZZ} lines of fuzz allowed`,
      });
      return;
    }
    let at = exact;
    const fuzzed = exact < 0;
    if (fuzzed) {
      // Fuzz changed some context: the first line that differs tells where it landed.
      const after = splitText(result).lines;
      let p = 0;
      while (p < before.length && p < after.length && before[p] === after[p]) p++;
      const lead = hunk.lines.findIndex((l) => l.op === '+' || l.op === '-');
      at = Math.max(0, p - Math.max(0, lead));
    }
    const postStart = at + 1; // later hunks land below, so this line stays put
    placements.push({ hunk, number, applied: true, preStart: at + 1 - delta, postStart, offset: at - expected, fuzzed });
    delta += hunk.newLines - hunk.oldLines;
    current = result;
  });
  return { text: current, placements };
}
