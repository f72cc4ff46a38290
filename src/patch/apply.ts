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

const sameLine = (a: string, b: string) => a === b || a.trimEnd() === b.trimEnd();

/** Where `needle` occurs in `hay` nearest to `expected` (0-based), or -1. */
function findNear(hay: readonly string[], needle: readonly string[], expected: number, minAt = 0): number {
  const fits = (at: number) => {
    if (at < minAt || at + needle.length > hay.length) return false;
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
    return {
      text: undefined,
      placements: file.hunks.map((hunk, i) => ({
        hunk,
        number: i + 1,
        applied: true,
        preStart: hunk.oldStart,
        postStart: 0,
        offset: 0,
        fuzzed: false,
      })),
    };
  }
  const source = text ?? '';
  const before = splitText(source).lines;
  interface Placed {
    hunk: Hunk;
    number: number;
    lines: Hunk['lines'];
    lead: number;
    at: number;
    fuzz: number;
  }
  const placed: Placed[] = [];
  const failed: HunkPlacement[] = [];
  // Hunks are placed in the pre-image, in order, never overlapping; like
  // patch(1), the offset found for one hunk is where the next is looked for first.
  let minAt = 0;
  let shift = 0;
  file.hunks.forEach((hunk, i) => {
    const number = i + 1;
    // jsdiff already moved a zero-length old side (`-10,0`) to the line it goes before.
    const declared = Math.max(0, hunk.oldStart - 1);
    const expected = Math.max(minAt, declared + shift);
    for (let fuzz = 0; fuzz <= FUZZ; fuzz++) {
      const t = trimContext(hunk, fuzz);
      if (fuzz > 0 && t.lead === 0 && t.tail === 0) continue;
      const oldSide = t.lines.filter((l) => l.op !== '+' && l.op !== '\\').map((l) => l.text);
      const at =
        oldSide.length === 0
          ? Math.max(minAt, Math.min(expected + t.lead, before.length))
          : findNear(before, oldSide, expected + t.lead, minAt);
      if (at < 0) continue;
      placed.push({ hunk, number, lines: t.lines, lead: t.lead, at, fuzz });
      minAt = at + oldSide.length;
      shift = at - t.lead - declared;
      return;
    }
    const oldCount = hunk.lines.filter((l) => l.op === ' ' || l.op === '-').length;
    failed.push({
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
  // Every place is known: jsdiff applies them in one pass (trailing-blank
  // tolerant, `\ No newline at end of file` aware).
  let delta = 0;
  const placements: HunkPlacement[] = [];
  const hunks = placed.map((p) => {
    const oldLines = p.lines.filter((l) => l.op === ' ' || l.op === '-').length;
    const newLines = p.lines.filter((l) => l.op === ' ' || l.op === '+').length;
    const start = p.at - p.lead;
    placements.push({
      hunk: p.hunk,
      number: p.number,
      applied: true,
      preStart: start + 1,
      postStart: start + 1 + delta,
      offset: start - Math.max(0, p.hunk.oldStart - 1),
      fuzzed: p.fuzz > 0,
    });
    const h = {
      oldStart: p.at + 1,
      oldLines,
      newStart: p.at + 1 + delta,
      newLines,
      lines: p.lines.map((l) => l.op + l.text),
    };
    delta += newLines - oldLines;
    return h;
  });
  let current: string | false = source;
  if (hunks.length > 0) {
    const patch: StructuredPatch = {
      oldFileName: path,
      newFileName: path,
      oldHeader: undefined,
      newHeader: undefined,
      hunks,
    };
    try {
      current = applyPatch(source, patch, {
        compareLine: (_n: number, line: string | undefined, _op: string, content: string) =>
          line !== undefined && sameLine(line, content),
      });
    } catch {
      current = false;
    }
  }
  if (current === false) {
    // Cannot happen for places we verified; say so rather than guess.
    return {
      text: source,
      placements: [
        ...failed,
        ...placements.map((p) => ({
          ...p,
          applied: false,
          failure: `${hunkLabel(path, p.hunk, p.number)} could not be applied`,
        })),
      ].sort((a, b) => a.number - b.number),
    };
  }
  return { text: current, placements: [...placements, ...failed].sort((a, b) => a.number - b.number) };
}
