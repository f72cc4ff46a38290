/**
 * Pre- and post-images of the files a patch touches, and which patch-file
 * line shows each image line. Two ways: applied cumulatively to a base tree
 * (SeriesTree, an in-memory overlay over a TreeReader), or rebuilt from the
 * hunks alone (imagesFromHunks).
 */
import { applyFileDiff, type HunkPlacement } from './apply';
import { decodeText } from './bytes';
import { buildFragments } from './fragments';
import { dirOf, isCSource, type TreeReader } from './tree';
import type { FileDiff, ParsedDiff, Problem } from './types';

export interface HunkSpan {
  preFrom: number;
  preTo: number;
  postFrom: number;
  postTo: number;
  /** Patch-file lines of the hunk's header and last line. */
  firstPatchLine: number;
  lastPatchLine: number;
}

export interface TouchedFile {
  diff: FileDiff;
  /** Path of the pre-image (undefined for a new file). */
  prePath?: string;
  /** Path of the post-image (undefined for a deleted file). */
  postPath?: string;
  preText?: string;
  postText?: string;
  preOrigin: Map<number, number>;
  postOrigin: Map<number, number>;
  spans: HunkSpan[];
  /** Rebuilt images only: functions whose start the hunks do not show, per side. */
  prePartial?: Set<string>;
  postPartial?: Set<string>;
}

export interface PatchImages {
  touched: TouchedFile[];
  problems: Problem[];
}

function spansAndOrigins(placements: readonly HunkPlacement[], file: TouchedFile): void {
  for (const p of placements) {
    if (!p.applied) continue;
    let pre = p.preStart;
    let post = p.postStart;
    const from = { pre, post };
    for (const l of p.hunk.lines) {
      if (l.op === ' ') {
        file.preOrigin.set(pre++, l.patchLine);
        file.postOrigin.set(post++, l.patchLine);
      } else if (l.op === '-') file.preOrigin.set(pre++, l.patchLine);
      else if (l.op === '+') file.postOrigin.set(post++, l.patchLine);
    }
    const last = p.hunk.lines[p.hunk.lines.length - 1]?.patchLine ?? p.hunk.headerLine;
    file.spans.push({
      preFrom: from.pre,
      preTo: pre - 1,
      postFrom: from.post,
      postTo: post - 1,
      firstPatchLine: p.hunk.headerLine,
      lastPatchLine: last,
    });
  }
}

function describeSkip(file: FileDiff): string | undefined {
  const name = file.newPath ?? file.oldPath;
  if (file.kind === 'binary') return `${name}: binary diff, not applied and not analysed`;
  return undefined;
}

/** More C files than this in one directory: only the touched ones are read for context. */
export const MAX_CONTEXT_FILES = 200;

/** A base tree plus the changes of the patches applied so far. */
export class SeriesTree {
  private readonly overlay = new Map<string, string | undefined>();
  private readonly problems: Problem[] = [];
  constructor(private readonly reader: TreeReader) {}

  async read(path: string): Promise<string | undefined> {
    if (this.overlay.has(path)) return this.overlay.get(path);
    const raw = await this.reader.readFile(path);
    let text: string | undefined;
    if (raw === undefined) text = undefined;
    else if (typeof raw === 'string') text = raw;
    else {
      const d = decodeText(raw);
      text = d.text;
      if (!d.utf8)
        this.problems.push({
          source: path,
          message: `${path} in the base tree is not valid UTF-8: read as ISO-8859-1`,
        });
    }
    this.overlay.set(path, text);
    return text;
  }

  /**
   * The C files of these directories, as they are now (base plus applied
   * patches). A directory with more than MAX_CONTEXT_FILES C files
   * (include/linux has thousands of headers) gives only the `touched` ones:
   * reading all of it would cost far more than the context is worth.
   */
  async cFilesIn(dirs: Iterable<string>, touched: ReadonlySet<string> = new Set()): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (const dir of dirs) {
      const names = new Set((await this.reader.listDir(dir)).map((n) => (dir ? `${dir}/${n}` : n)));
      for (const path of this.overlay.keys()) if (dirOf(path) === dir) names.add(path);
      let paths = [...names].filter(isCSource).sort();
      if (paths.length > MAX_CONTEXT_FILES) {
        this.problems.push({
          source: dir,
          message: `${dir} has ${paths.length} C files: only those the series touches were read for context`,
        });
        paths = paths.filter((p) => touched.has(p));
      }
      for (const path of paths) {
        const text = await this.read(path);
        if (text !== undefined) out.set(path, text);
      }
    }
    return out;
  }

  /** Reading problems found so far (then forgotten). */
  takeProblems(): Problem[] {
    return this.problems.splice(0);
  }

  /** Applies one patch's files; the tree then holds its post-images. */
  async apply(diff: ParsedDiff, source: string): Promise<PatchImages> {
    const touched: TouchedFile[] = [];
    const problems: Problem[] = [];
    for (const d of diff.files) {
      const skip = describeSkip(d);
      if (skip) {
        problems.push({ source, line: d.headerLine, message: skip });
        continue;
      }
      const file: TouchedFile = {
        diff: d,
        prePath: d.oldPath,
        postPath: d.newPath,
        preOrigin: new Map(),
        postOrigin: new Map(),
        spans: [],
      };
      const name = d.newPath ?? d.oldPath ?? '';
      const preText = d.oldPath !== undefined && d.kind !== 'create' ? await this.read(d.oldPath) : undefined;
      if (d.kind === 'create') {
        const existing = d.newPath !== undefined ? await this.read(d.newPath) : undefined;
        if (existing !== undefined) {
          problems.push({
            source,
            line: d.headerLine,
            message: `${name}: the patch creates it, but it already exists in the base tree; not applied`,
          });
          continue;
        }
        file.prePath = undefined;
      } else if (preText === undefined) {
        problems.push({
          source,
          line: d.headerLine,
          message: `${d.oldPath}: not in the base tree, so its ${d.hunks.length} hunk(s) were not applied`,
        });
        continue;
      }
      file.preText = preText;
      const result = applyFileDiff(preText, d);
      for (const p of result.placements) {
        if (p.failure) problems.push({ source, line: p.hunk.headerLine, message: p.failure });
        else if (p.fuzzed)
          problems.push({
            source,
            line: p.hunk.headerLine,
            message: `hunk #${p.number} of ${name} applied with fuzz (some context lines differ from the base)`,
          });
      }
      spansAndOrigins(result.placements, file);
      file.postText = result.text;
      if (d.oldPath !== undefined && d.oldPath !== d.newPath && d.kind !== 'copy')
        this.overlay.set(d.oldPath, undefined);
      if (d.newPath !== undefined) this.overlay.set(d.newPath, result.text);
      touched.push(file);
    }
    problems.push(...this.takeProblems());
    return { touched, problems };
  }
}

/** Without a base: each touched file's images are what its hunks show. */
export function imagesFromHunks(diff: ParsedDiff, source: string): PatchImages {
  const touched: TouchedFile[] = [];
  const problems: Problem[] = [];
  for (const d of diff.files) {
    const skip = describeSkip(d);
    if (skip) {
      problems.push({ source, line: d.headerLine, message: skip });
      continue;
    }
    const both = buildFragments(d);
    const pre = d.kind === 'create' ? undefined : both.old;
    const post = d.kind === 'delete' ? undefined : both.new;
    const file: TouchedFile = {
      diff: d,
      prePath: d.kind === 'create' ? undefined : d.oldPath,
      postPath: d.kind === 'delete' ? undefined : d.newPath,
      preText: pre?.text,
      postText: post?.text,
      preOrigin: pre?.origin ?? new Map(),
      postOrigin: post?.origin ?? new Map(),
      spans: [],
      prePartial: pre?.partial ?? new Set(),
      postPartial: post?.partial ?? new Set(),
    };
    // Spans in fragment coordinates: the image lines each hunk's lines landed
    // on, as the fragment recorded them while building (one pass: looking
    // them up per hunk in the whole file was quadratic in the hunk count).
    const none = { from: 0, to: -1 };
    d.hunks.forEach((h, k) => {
      const preSpan = pre?.hunkLines[k] ?? none;
      const postSpan = post?.hunkLines[k] ?? none;
      file.spans.push({
        preFrom: preSpan.from,
        preTo: preSpan.to,
        postFrom: postSpan.from,
        postTo: postSpan.to,
        firstPatchLine: h.headerLine,
        lastPatchLine: h.lines[h.lines.length - 1]?.patchLine ?? h.headerLine,
      });
    });
    touched.push(file);
  }
  return { touched, problems };
}
