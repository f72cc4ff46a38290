/**
 * A series → findings per patch. Each patch's pre- and post-images are
 * analysed by the engine and the findings classified introduced / fixed /
 * unchanged by fingerprint, then placed on the patch file's own lines.
 *
 * With a base tree the series is applied cumulatively and the engine sees the
 * touched files with every other C file of their directories (for
 * interprocedural context); one engine session is kept across the series, so
 * the post-image analysis of patch k is the pre-image analysis of patch k+1
 * and only changed files are reparsed. Without a base the images are rebuilt
 * from the hunks, and findings are capped at medium confidence and marked
 * `context: 'partial'`.
 */
import type { AnalysisResult, Confidence } from '../engine/types';
import { decodeText } from './bytes';
import { classifyFindings } from './classify';
import { parseMailDiff } from './diff';
import { replacementsBetween, type TextReplacement } from './text-edits';
import { imagesFromHunks, SeriesTree, type PatchImages } from './images';
import { imageTexts, type ImageText } from './image-texts';
import { PARTIAL_CAP, placeFindings } from './place-findings';
import { patchPreimage, preimageTree, resolvePreimages, type GitObjects, type ResolvedPreimages } from './preimage';
import { dirOf, isCSource, type TreeReader } from './tree';
import type { ParsedDiff, PatchMail, PatchReview, PreimageFile, Problem, Series, SeriesReview } from './types';

/** What review needs of the engine: its stateful session (src/engine/index.ts `Engine` fits). */
export interface AnalysisSession {
  setFile(path: string, text: string): void;
  /** Many files at once (the base tree's context): a host may parse them in parallel. Same effect as setFile on each. */
  setFiles?(files: readonly { path: string; text: string }[]): Promise<void>;
  /** Incremental change of a file already set (Engine.editFile); setFile is used without it. */
  editFile?(path: string, replacements: readonly TextReplacement[]): void;
  removeFile(path: string): void;
  analyze(): AnalysisResult;
  dispose(): void;
}

export interface ReviewOptions {
  /** Opens an engine session (`() => new Engine({ parser, config })`). */
  session: () => AnalysisSession;
  /** The tree the series applies to (the work tree); without it and `git`, images are rebuilt from the hunks. */
  base?: TreeReader;
  /** A git repository: pre-images from the diffs' index blobs or the series' base-commit (see preimage.ts). */
  git?: GitObjects;
  /** `git` was found around the tree or the current directory rather than named: fewer notes when it has nothing. */
  gitAuto?: boolean;
  /**
   * `git` and `base` are the repository around the current directory, not
   * named by the user: when neither has any file of the series, the review is
   * the hunks-only one, without a word about them.
   */
  foundAround?: boolean;
  /**
   * With a base: an engine session that mirrors the base tree and outlives this
   * review (the extension's workspace engine, a warm benchmark). Files this
   * review changes in it are put back to their base text afterwards and it is
   * not disposed; only files that changed are reparsed. Never used for
   * hunk-only review, whose rebuilt images would replace real files.
   */
  shared?: AnalysisSession;
  /** Findings below this confidence are not reported (after the partial-context caps). Default: medium, the engine's. */
  minConfidence?: Confidence;
  /**
   * With `shared`: the analysis of the base files, kept between reviews
   * (keyed by the files' paths and texts), so reviewing again (the patch
   * edited, another series on the same tree) skips one analysis.
   */
  baseCache?: Map<string, AnalysisResult>;
  /** Receives, per patch (1-based index), the texts its findings were computed on (to show them). */
  onImages?: (patch: number, images: ImageText[]) => void;
}

function mailProblems(mail: PatchMail): Problem[] {
  return mail.problems.map((message) => ({ source: mail.source, line: mail.startLine, message }));
}

function touchedPaths(diff: ParsedDiff): string[] {
  return diff.files.map((f) => f.newPath ?? f.oldPath ?? '').filter(Boolean);
}

function coverageProblems(result: AnalysisResult, files: ReadonlySet<string>, source: string): Problem[] {
  return result.coverage.problems
    .filter((p) => files.has(p.file))
    .map((p) => ({ source, message: `${p.file}: ${p.message}` }));
}

function renameIdentity(images: PatchImages): (file: string) => string {
  const renamed = new Map<string, string>();
  for (const t of images.touched)
    if (t.prePath && t.postPath && t.prePath !== t.postPath) renamed.set(t.prePath, t.postPath);
  return (file) => renamed.get(file) ?? file;
}

function hunksOnly(diff: ParsedDiff): PreimageFile[] {
  return diff.files
    .filter((f) => f.kind !== 'binary')
    .map((f) => ({ file: f.newPath ?? f.oldPath ?? '', source: 'hunks' }));
}

function shell(
  mail: PatchMail,
  index: number,
  total: number,
  diff: ParsedDiff,
  mode: PatchReview['mode'],
  preimageFiles: PreimageFile[] = hunksOnly(diff),
): PatchReview {
  return {
    subject: mail.subject,
    title: mail.title,
    index,
    total,
    source: mail.source,
    messageId: mail.messageId,
    files: touchedPaths(diff),
    mode,
    preimage: patchPreimage(preimageFiles, mode === 'hunks' ? 'hunks' : 'tree'),
    preimageFiles,
    fixes: mail.trailers.filter((t) => t.key.toLowerCase() === 'fixes').map((t) => t.value),
    findings: [],
    problems: [...mailProblems(mail), ...diff.problems],
    notes: [],
  };
}

/** A cheap identity of a set of files (FNV-1a over paths and texts). */
function contentKey(files: ReadonlyMap<string, string>): string {
  let h = 0x811c9dc5;
  let n = 0;
  for (const [path, text] of [...files].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    for (const part of [path, '\u0000', text, '\u0001']) {
      for (let i = 0; i < part.length; i++) {
        h ^= part.charCodeAt(i);
        h = Math.imul(h, 0x01000193);
      }
      n += part.length;
    }
  }
  return `${files.size}:${n}:${(h >>> 0).toString(16)}`;
}

async function reviewWithBase(
  series: Series,
  diffs: ParsedDiff[],
  resolved: ResolvedPreimages,
  /** The work tree a shared session mirrors: files are put back from it. */
  base: TreeReader | undefined,
  open: () => AnalysisSession,
  shared: AnalysisSession | undefined,
  minConfidence: Confidence,
  baseCache: Map<string, AnalysisResult> | undefined,
  onImages: ReviewOptions['onImages'],
): Promise<PatchReview[]> {
  const tree = new SeriesTree(preimageTree(resolved));
  const dirs = new Set<string>();
  const touched = new Set<string>();
  for (const d of diffs) {
    for (const f of d.files) {
      for (const p of [f.oldPath, f.newPath]) {
        if (p && isCSource(p)) {
          dirs.add(dirOf(p));
          touched.add(p);
        }
      }
    }
  }
  const session = shared ?? open();
  // Files whose text in the session differs from the work tree's: pre-images from git, patched files.
  const changed = new Set<string>([...resolved.files].filter(([, r]) => r.source !== 'tree').map(([p]) => p));
  // What the session holds for each file, for incremental edits.
  const current = new Map<string, string>();
  try {
    const loaded = new Set<string>();
    const baseFiles = await tree.cFilesIn(dirs, touched);
    if (session.setFiles) await session.setFiles([...baseFiles].map(([path, text]) => ({ path, text })));
    for (const [path, text] of baseFiles) {
      if (!session.setFiles) session.setFile(path, text);
      loaded.add(path);
      current.set(path, text);
    }
    const startProblems = tree.takeProblems();
    const key = baseCache ? contentKey(current) : '';
    let before = (baseCache && baseCache.get(key)) || session.analyze();
    if (baseCache) {
      baseCache.clear();
      baseCache.set(key, before);
    }
    const out: PatchReview[] = [];
    for (let i = 0; i < series.patches.length; i++) {
      const mail = series.patches[i];
      const files = resolved.perPatch[i];
      if (files.length > 0 && files.every((f) => f.source === 'hunks')) {
        // No source has any of its files: this patch alone is rebuilt from its hunks.
        const review = reviewFromHunks(mail, i + 1, series.total, diffs[i], open, minConfidence, onImages);
        review.notes.push(...resolved.notes[i]);
        if (i === 0) review.problems.push(...startProblems);
        out.push(review);
        continue;
      }
      const review = shell(mail, i + 1, series.total, diffs[i], 'base', files);
      review.notes.push(...resolved.notes[i]);
      if (i === 0) review.problems.push(...startProblems);
      const images = await tree.apply(diffs[i], mail.source);
      review.problems.push(...images.problems);
      const cTouched = new Set<string>();
      for (const t of images.touched) {
        for (const p of [t.prePath, t.postPath]) if (p && isCSource(p)) changed.add(p);
        if (t.prePath && isCSource(t.prePath) && t.prePath !== t.postPath && loaded.has(t.prePath)) {
          session.removeFile(t.prePath);
          loaded.delete(t.prePath);
          current.delete(t.prePath);
        }
        if (t.postPath && isCSource(t.postPath)) {
          cTouched.add(t.postPath);
          if (t.postText === undefined) {
            if (loaded.delete(t.postPath)) session.removeFile(t.postPath);
            current.delete(t.postPath);
          } else {
            update(session, t.postPath, current.get(t.postPath), t.postText);
            current.set(t.postPath, t.postText);
            loaded.add(t.postPath);
          }
        }
      }
      // A patch that changes no C file (docs, Kconfig, a binary) changes no finding.
      const after =
        cTouched.size > 0 || images.touched.some((t) => t.prePath && isCSource(t.prePath)) ? session.analyze() : before;
      review.problems.push(...coverageProblems(after, cTouched, mail.source));
      review.findings = placeFindings(
        classifyFindings(before.findings, after.findings, renameIdentity(images)),
        images,
        false,
        minConfidence,
      );
      onImages?.(i + 1, imageTexts(images, false));
      before = after;
      out.push(review);
    }
    return out;
  } finally {
    if (shared && base) {
      // Give the caller's engine its base tree back.
      for (const path of changed) {
        const raw = await base.readFile(path);
        if (raw === undefined) shared.removeFile(path);
        else update(shared, path, current.get(path), typeof raw === 'string' ? raw : decodeText(raw).text);
      }
    } else session.dispose();
  }
}

/** A file's new text: as edits when the session reparses incrementally and the old text is known. */
function update(session: AnalysisSession, path: string, oldText: string | undefined, newText: string): void {
  const edits = session.editFile && oldText !== undefined ? replacementsBetween(oldText, newText) : undefined;
  if (edits && session.editFile) {
    if (edits.length > 0) session.editFile(path, edits);
  } else session.setFile(path, newText);
}

function reviewFromHunks(
  mail: PatchMail,
  index: number,
  total: number,
  diff: ParsedDiff,
  open: () => AnalysisSession,
  minConfidence: Confidence,
  onImages?: ReviewOptions['onImages'],
): PatchReview {
  const review = shell(mail, index, total, diff, 'hunks');
  const images = imagesFromHunks(diff, mail.source);
  onImages?.(index, imageTexts(images, true));
  review.problems.push(...images.problems);
  const cFiles = images.touched.filter((t) => isCSource(t.postPath ?? t.prePath ?? ''));
  if (cFiles.length === 0) return review;
  const session = open();
  try {
    for (const t of cFiles) if (t.prePath && t.preText !== undefined) session.setFile(t.prePath, t.preText);
    const before = session.analyze();
    for (const t of cFiles) if (t.prePath && t.preText !== undefined) session.removeFile(t.prePath);
    const shown = new Set<string>();
    for (const t of cFiles) {
      if (t.postPath && t.postText !== undefined) {
        session.setFile(t.postPath, t.postText);
        shown.add(t.postPath);
      }
    }
    const after = session.analyze();
    review.problems.push(...coverageProblems(after, shown, mail.source));
    review.findings = placeFindings(
      classifyFindings(before.findings, after.findings, renameIdentity(images)),
      images,
      true,
      minConfidence,
    );
    review.problems.push({
      source: mail.source,
      kind: 'context',
      message: `no base tree: analysed from what the hunks show (partial context); confidence capped at ${PARTIAL_CAP}`,
    });
  } finally {
    session.dispose();
  }
  return review;
}

/** Reviews every patch of the series. Never throws on bad input: problems are reported per patch. */
export async function reviewSeriesWith(series: Series, options: ReviewOptions): Promise<SeriesReview> {
  const diffs = series.patches.map((m) => parseMailDiff(m));
  const min = options.minConfidence ?? 'medium';
  const problems = [...series.problems];
  const notes: Problem[] = [];
  let patches: PatchReview[];
  const source = series.cover?.source ?? series.patches[0]?.source ?? '';
  const auto = options.gitAuto || options.foundAround;
  const resolved =
    options.base || options.git
      ? await resolvePreimages(
          diffs,
          { git: options.git, tree: options.base, auto },
          series.baseCommit,
          source,
          series.patches.map((m) => m.source),
        )
      : undefined;
  if (resolved && (resolved.files.size > 0 || (resolved.context && !options.foundAround))) {
    problems.push(...resolved.problems);
    notes.push(...resolved.seriesNotes);
    // A shared session mirrors the work tree: only usable when the series is read from it.
    const shared = resolved.contextKind === 'tree' && options.base ? options.shared : undefined;
    patches = await reviewWithBase(
      series,
      diffs,
      resolved,
      options.base,
      options.session,
      shared,
      min,
      shared ? options.baseCache : undefined,
      options.onImages,
    );
  } else {
    const say = resolved && !options.foundAround;
    if (say) {
      problems.push(...resolved.problems);
      notes.push(...resolved.seriesNotes);
    }
    patches = series.patches.map((m, i) => {
      const review = reviewFromHunks(m, i + 1, series.total, diffs[i], options.session, min, options.onImages);
      if (say) review.notes.push(...resolved.notes[i]);
      return review;
    });
  }
  const disagreement = sourcesDisagree(patches);
  if (disagreement) notes.push({ source, message: disagreement });
  return {
    series: {
      title: series.title,
      version: series.version,
      rfc: series.rfc,
      total: series.total,
      baseCommit: series.baseCommit,
      cover: series.cover
        ? { subject: series.cover.subject, source: series.cover.source, messageId: series.cover.messageId }
        : undefined,
      setAside: series.setAside,
      problems,
      notes,
    },
    patches,
  };
}

/** `the patches' pre-images come from different sources: 1/3 blob, 2/3 tree`, or undefined when they agree. */
function sourcesDisagree(patches: readonly PatchReview[]): string | undefined {
  const withFiles = patches.filter((p) => p.preimageFiles.length > 0);
  if (new Set(withFiles.map((p) => p.preimage)).size <= 1) return undefined;
  return `the patches' pre-images come from different sources: ${withFiles.map((p) => `${p.index}/${p.total} ${p.preimage}`).join(', ')}`;
}
