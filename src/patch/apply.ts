/**
 * Applies one file's hunks to its text in memory, hunk by hunk, with the
 * offset and fuzz tolerance of `patch`/`git apply`: jsdiff's applyPatch does
 * the applying (fuzzFactor, compareLine). Applying one hunk at a time is what
 * lets us say which hunk failed and keep the others, and tells us where each
 * hunk landed, which the line mapping needs.
 */
import { applyPatch, type StructuredPatch } from 'diff';
import type { FileDiff, Hunk } from './types';

/**
 * `patch`'s default fuzz: up to this many context lines at either end of a
 * hunk may be ignored when the hunk does not apply as it is. (jsdiff's own
 * fuzzFactor also forgives lines in the middle of a hunk, which lets a hunk
 * land in the wrong function; so the trimming is done here, patch's way.)
 */
export const FUZZ = 2;

function trimContext(hunk: Hunk, fuzz: number): { lines: Hunk['lines']; lead: number; tail: number } {
  let lead = 0;
  while (lead < fuzz && hunk.lines[lead]?.op === ' ') lead++;
  let end = hunk.lines.length;
  while (end > 0 && hunk.lines[end - 1].op === '\\') end--;
  let tail = 0;
  while (tail < fuzz && end - tail - 1 > lead && hunk.lines[end - tail - 1].op === ' ') tail++;
  const lines = [...hunk.lines.slice(lead, end - tail), ...(tail === 0 ? hunk.lines.slice(end) : [])];
  return { lines, lead, tail };
}

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
    // jsdiff already moved a zero-length old side (`-10,0`) to the line it goes before.
    const expected = Math.max(0, hunk.oldStart - 1 + delta);
    for (let fuzz = 0; fuzz <= FUZZ; fuzz++) {
      const t = trimContext(hunk, fuzz);
      if (fuzz > 0 && t.lead === 0 && t.tail === 0) continue;
      const oldSide = t.lines.filter((l) => l.op !== '+' && l.op !== '\\').map((l) => l.text);
      const at = oldSide.length === 0 ? Math.min(expected + t.lead, before.length) : findNear(before, oldSide, expected + t.lead);
      if (at < 0) continue;
      const single: StructuredPatch = {
        oldFileName: path,
        newFileName: path,
        oldHeader: undefined,
        newHeader: undefined,
        hunks: [
          {
            oldStart: at + 1,
            oldLines: oldSide.length,
            newStart: at + 1,
            newLines: t.lines.filter((l) => l.op !== '-' && l.op !== '\\').length,
            lines: t.lines.map((l) => l.op + l.text),
          },
        ],
      };
      let result: string | false;
      try {
        // We found the place; jsdiff applies it there (trailing-blank tolerant, `\ No newline` aware).
        result = applyPatch(current, single, { compareLine: (_n: number, line: string | undefined, _op: string, content: string) => line !== undefined && sameLine(line, content) });
      } catch {
        result = false;
      }
      if (result === false) continue;
      const start = at - t.lead; // where the hunk's first (possibly trimmed) line sits
      placements.push({ hunk, number, applied: true, preStart: start + 1 - delta, postStart: start + 1, offset: start - expected, fuzzed: fuzz > 0 });
      delta += hunk.newLines - hunk.oldLines;
      current = result;
      return;
    }
    const oldCount = hunk.lines.filter((l) => l.op === ' ' || l.op === '-').length;
    placements.push({
      hunk,
      number,
      applied: false,
      preStart: hunk.oldStart,
      postStart: hunk.newStart,
      offset: 0,
      fuzzed: false,
      failure: `${hunkLabel(path, hunk, number)} does not apply: its ${oldCount} context and removed lines were not found, even ignoring ${FUZZ} lines of context at each end`,
    });
  });
  return { text: current, placements };
}
