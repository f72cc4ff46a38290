/**
 * The diff of one patch mail → FileDiffs whose every line knows its line in
 * the patch file. Hunks, git's extended headers (binary, rename, copy, mode,
 * new and deleted files) are parsed by jsdiff's parsePatch; this module adds
 * what jsdiff does not keep: where each line was in the file, the `@@`
 * section text, and per-file error isolation (one broken file section is
 * reported and the others are still read).
 */
import { parsePatch, type StructuredPatch } from 'diff';
import type { FileChangeKind, FileDiff, Hunk, HunkLine, ParsedDiff, PatchMail, Problem } from './types';
import { splitLines } from './mbox';

const HUNK_HEADER = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@ ?(.*)$/;
/** git's `index 1a2b3c4..5d6e7f8 100644` (ids of 4 to 64 hex digits, SHA-1 or SHA-256). */
const INDEX_LINE = /^index ([0-9a-f]{4,64})\.\.([0-9a-f]{4,64})(?: [0-7]{6})?$/;

/** The blob ids of a file section's `index` line (before its first hunk), if it has one. */
function indexIds(text: readonly string[]): { oldBlob: string; newBlob: string } | undefined {
  for (const line of text) {
    if (line.startsWith('@@')) return undefined;
    const m = INDEX_LINE.exec(line);
    if (m) return { oldBlob: m[1], newBlob: m[2] };
  }
  return undefined;
}

/** `a/drivers/x.c` → `drivers/x.c`; `/dev/null` → undefined. */
export function stripPath(name: string | undefined, git: boolean): string | undefined {
  if (name === undefined || name === '' || name === '/dev/null') return undefined;
  // A tab ends the name (a timestamp may follow, as `diff -u` writes).
  const tab = name.indexOf('\t');
  const clean = (tab < 0 ? name : name.slice(0, tab)).replace(/^"(.*)"$/, '$1');
  if (git) return clean.replace(/^[ab]\//, '');
  // `diff -u` and quilt name `linux.orig/drivers/x.c`: strip one component like `patch -p1`.
  const slash = clean.indexOf('/');
  return slash > 0 ? clean.slice(slash + 1) : clean;
}

/** The first hunk that has fewer lines than its header announces (a cut-off mail). */
function shortHunk(
  text: readonly string[],
): { at: number; oldLines: number; newLines: number; found: number } | undefined {
  for (let i = 0; i < text.length; i++) {
    const h = HUNK_HEADER.exec(text[i]);
    if (!h) continue;
    let oldLeft = h[2] === undefined ? 1 : Number(h[2]);
    let newLeft = h[4] === undefined ? 1 : Number(h[4]);
    const oldLines = oldLeft;
    const newLines = newLeft;
    let j = i + 1;
    for (; j < text.length && (oldLeft > 0 || newLeft > 0); j++) {
      const op = text[j][0];
      if (op === '-') oldLeft--;
      else if (op === '+') newLeft--;
      else if (op === ' ' || text[j] === '') {
        oldLeft--;
        newLeft--;
      } else if (op !== '\\') break;
    }
    if (oldLeft > 0 || newLeft > 0) return { at: i, oldLines, newLines, found: j - i - 1 };
    i = j - 1;
  }
  return undefined;
}

function kindOf(p: StructuredPatch, text: readonly string[], oldPath?: string, newPath?: string): FileChangeKind {
  // jsdiff flags `Binary files ... differ`; git's own `GIT binary patch` blocks are recognised here.
  if (p.isBinary || text.some((l) => l === 'GIT binary patch' || /^Binary files .* differ$/.test(l))) return 'binary';
  if (p.isCreate || (oldPath === undefined && newPath !== undefined)) return 'create';
  if (p.isDelete || (newPath === undefined && oldPath !== undefined)) return 'delete';
  if (p.isRename) return 'rename';
  if (p.isCopy) return 'copy';
  if (p.hunks.length === 0 && p.oldMode !== p.newMode) return 'mode';
  return 'modify';
}

/** Splits the diff into per-file sections at `diff --git` / `Index:` lines, keeping each section's first line. */
function sections(lines: readonly string[]): { from: number; to: number }[] {
  const starts: number[] = [];
  for (let i = 0; i < lines.length; i++)
    if (lines[i].startsWith('diff --git ') || lines[i].startsWith('Index: ')) starts.push(i);
  if (starts.length === 0 || starts[0] !== 0) starts.unshift(0);
  return starts.map((from, k) => ({ from, to: k + 1 < starts.length ? starts[k + 1] : lines.length }));
}

export function parseMailDiff(mail: PatchMail): ParsedDiff {
  const files: FileDiff[] = [];
  const problems: Problem[] = [];
  if (mail.diffStart < 0) return { files, problems };
  const body = splitLines(mail.body);
  const lines = body.slice(mail.diffStart, mail.diffEnd);
  const patchLineOf = (i: number) => mail.bodyLines[mail.diffStart + i] ?? mail.endLine;
  for (const { from, to } of sections(lines)) {
    const text = lines.slice(from, to);
    let parsed: StructuredPatch[];
    try {
      parsed = parsePatch(text.join('\n') + '\n');
    } catch (e) {
      const name =
        /^diff --git a\/(\S+)/.exec(text[0])?.[1] ?? /^\+\+\+ (?:b\/)?(\S+)/m.exec(text.join('\n'))?.[1] ?? 'a file';
      const short = shortHunk(text);
      if (short) {
        problems.push({
          source: mail.source,
          line: patchLineOf(from + short.at),
          message: `the diff of ${name} is truncated: the hunk at patch line ${patchLineOf(from + short.at)} announces ${short.oldLines} old and ${short.newLines} new lines, but the input ends after ${short.found} lines of it; this file is left out`,
        });
        continue;
      }
      const message = (e as Error).message;
      const at = /line (\d+)/.exec(message);
      const line = at ? patchLineOf(from + Number(at[1]) - 1) : patchLineOf(from);
      problems.push({
        source: mail.source,
        line,
        message: `the diff of ${name} could not be read (${message.replace(/^Hunk at line \d+ /, 'a hunk ').trim()}); this file is left out`,
      });
      continue;
    }
    // jsdiff keeps hunks in input order: the k-th `@@` line of the section is the k-th hunk.
    const headers: number[] = [];
    for (let i = 0; i < text.length; i++) if (HUNK_HEADER.test(text[i])) headers.push(i);
    let h = 0;
    for (const p of parsed) {
      const git = p.isGit === true || text[0].startsWith('diff --git ');
      const oldPath = stripPath(p.oldFileName, git);
      const newPath = stripPath(p.newFileName, git);
      const headerLine = patchLineOf(from);
      const hunks: Hunk[] = [];
      for (const hunk of p.hunks) {
        const at = headers[h++] ?? 0;
        const section = HUNK_HEADER.exec(text[at])?.[5] ?? '';
        const hunkLines: HunkLine[] = hunk.lines.map((l, i) => ({
          op: (l === '' ? ' ' : l[0]) as HunkLine['op'],
          text: l.slice(1),
          patchLine: patchLineOf(from + at + 1 + i),
        }));
        hunks.push({
          oldStart: hunk.oldStart,
          oldLines: hunk.oldLines,
          newStart: hunk.newStart,
          newLines: hunk.newLines,
          section,
          headerLine: patchLineOf(from + at),
          lines: hunkLines,
        });
      }
      if (oldPath === undefined && newPath === undefined) {
        problems.push({
          source: mail.source,
          line: headerLine,
          message: 'a diff section names no file; it is left out',
        });
        continue;
      }
      const file: FileDiff = {
        oldPath,
        newPath,
        kind: kindOf(p, text, oldPath, newPath),
        oldMode: p.oldMode,
        newMode: p.newMode,
        hunks,
        headerLine,
      };
      const ids = parsed.length === 1 ? indexIds(text) : undefined;
      if (ids) Object.assign(file, ids);
      files.push(file);
    }
  }
  return { files, problems };
}
