/**
 * Which text a patch applies to. A `git format-patch` diff names its
 * pre-image exactly (`index 1a2b3c4..5d6e7f8` per file) and a series usually
 * names its `base-commit:`; a reviewer has a kernel repository at hand. So
 * for each file a series touches, its pre-image is looked for, in order:
 *
 *   blob         the `index` line's pre-image blob, when the repository has it
 *   base-commit  the file at the series' base-commit, when the repository has it
 *   tree         the file in the work tree (`--base DIR`)
 *   hunks        nothing found: the patch is rebuilt from its hunks
 *
 * A candidate is taken only when every hunk of the file applies to it (a
 * blob exactly where the hunk header says, as it must if the id is true);
 * otherwise the next one is tried, and what was wrong is said. The other C
 * files of the touched directories (the engine's context) come from the
 * base-commit when there is one, else from the work tree.
 *
 * Git itself is not spawned here (this layer runs in browsers too): a
 * GitObjects is injected (src/patch/node/git-repo.ts in Node).
 */
import { applyFileDiff } from './apply';
import { decodeText } from './bytes';
import { dirOf, type TreeReader } from './tree';
import type { FileDiff, ParsedDiff, PreimageKind, PreimageFile, Problem } from './types';

/** A blob read from the repository, or why not. */
export type BlobRead = { bytes: Uint8Array } | { missing: string };

/** What the patch layer needs of a git repository. */
export interface GitObjects {
  /** A name for messages (the repository's directory). */
  readonly name: string;
  /**
   * The blobs named by (abbreviated) object id or `<commit>:<path>`, in the
   * order asked; many names are read in one round trip.
   */
  readBlobs(names: readonly string[]): Promise<BlobRead[]>;
  /** The full id of a commit, or undefined when the repository does not have it. */
  resolveCommit(rev: string): Promise<string | undefined>;
  /** Names of the files (not subdirectories) of a directory of a commit's tree; [] when there is none. */
  listTree(commit: string, dir: string): Promise<string[]>;
  /** What went wrong talking to git since the last call (each said once). */
  takeProblems(): string[];
}

export interface PreimageSources {
  /** The repository (`--git DIR`, or found around `--base` / the current directory). */
  git?: GitObjects;
  /** The work tree (`--base DIR`, or the repository's work tree). */
  tree?: TreeReader;
  /**
   * The repository was found around the work tree or the current directory,
   * not named: when it has none of the series' blobs nor its base-commit,
   * that is said once instead of once per file.
   */
  auto?: boolean;
}

/** The pre-image sources, most exact first. */
export const PREIMAGE_ORDER: readonly PreimageKind[] = ['blob', 'base-commit', 'tree', 'hunks'];

/** A commit's tree as a TreeReader (reads go through the repository's one batch process). */
export function commitTree(git: GitObjects, commit: string): TreeReader {
  return {
    async readFile(path) {
      const [r] = await git.readBlobs([`${commit}:${path}`]);
      return 'bytes' in r ? r.bytes : undefined;
    },
    listDir: (dir) => git.listTree(commit, dir),
  };
}

interface Resolved {
  text: string;
  source: Exclude<PreimageKind, 'hunks'>;
  blob?: string;
}

export interface ResolvedPreimages {
  /** First-touched files' pre-images, by path; files without one are absent. */
  files: Map<string, Resolved>;
  /** Where the other C files of the touched directories are read; undefined when nowhere. */
  context?: TreeReader;
  contextKind?: Exclude<PreimageKind, 'blob' | 'hunks'>;
  /** Per patch (index in the series): each file's source; a file touched earlier inherits its first source. */
  perPatch: PreimageFile[][];
  /** Per patch: why a source was passed over. */
  notes: Problem[][];
  /** Problems of the series as a whole (git failing, a corrupt repository). */
  problems: Problem[];
  /** Notes of the series as a whole (a base-commit the repository lacks). */
  seriesNotes: Problem[];
}

const short = (id: string) => id.slice(0, 12);
const isNullId = (id: string) => /^0+$/.test(id);

/** Why `text` is not the pre-image of `file`, or undefined when every hunk applies (exactly, for a blob). */
function mismatch(text: string, file: FileDiff, exact: boolean): string | undefined {
  const { placements } = applyFileDiff(text, file);
  for (const p of placements) {
    if (!p.applied) return `hunk #${p.number} (patch line ${p.hunk.headerLine}) does not apply to it`;
    if (exact && (p.fuzzed || p.offset !== 0))
      return `hunk #${p.number} (patch line ${p.hunk.headerLine}) applies only ${p.fuzzed ? 'with fuzz' : `${p.offset > 0 ? '+' : ''}${p.offset} lines away`}`;
  }
  return undefined;
}

function textOf(bytes: Uint8Array | string): string {
  return typeof bytes === 'string' ? bytes : decodeText(bytes).text;
}

/**
 * Finds the pre-image of every file the series touches first (a file an
 * earlier patch touched applies onto that patch's post-image, so it inherits
 * the source of its first touch). All blobs and base-commit files are asked
 * for at once: one round trip to the repository.
 */
export async function resolvePreimages(
  diffs: readonly ParsedDiff[],
  sources: PreimageSources,
  baseCommit: string | undefined,
  /** The series' file (for series notes) and each patch's (for its notes' lines). */
  source: string,
  patchSources: readonly string[] = [],
): Promise<ResolvedPreimages> {
  const { git, tree } = sources;
  const problems: Problem[] = [];
  const seriesNotes: Problem[] = [];
  // Notes about what the repository lacks (dropped when a found repository has nothing of the series).
  const gitNotes = new Set<Problem>();
  let commit: string | undefined;
  if (git && baseCommit) {
    commit = await git.resolveCommit(baseCommit);
    if (!commit)
      seriesNotes.push(
        remember(gitNotes, {
          source,
          message: `base-commit ${short(baseCommit)} is not in the repository ${git.name}: pre-images from the index blobs${tree ? ' or the work tree' : ''}`,
        }),
      );
  }
  const atCommit = git && commit ? commitTree(git, commit) : undefined;
  let context: TreeReader | undefined = atCommit ?? tree;
  let contextKind: ResolvedPreimages['contextKind'] = atCommit ? 'base-commit' : tree ? 'tree' : undefined;
  if (!context && git) {
    // A bare repository without a base-commit: its HEAD is the best guess for the neighbours.
    const head = await git.resolveCommit('HEAD');
    if (head) {
      context = commitTree(git, head);
      contextKind = 'base-commit';
    }
  }

  // The first touch of each path, in series order.
  const first: { patch: number; file: FileDiff; path: string }[] = [];
  const seen = new Set<string>();
  diffs.forEach((d, patch) => {
    for (const f of d.files) {
      const path = f.oldPath;
      if (f.kind === 'binary' || f.kind === 'create' || path === undefined) {
        if (f.newPath) seen.add(f.newPath);
        continue;
      }
      if (!seen.has(path)) first.push({ patch, file: f, path });
      seen.add(path);
      if (f.newPath) seen.add(f.newPath);
    }
  });

  // One batch for every blob and every base-commit file.
  const blobIds = first.map((x) => (git && x.file.oldBlob && !isNullId(x.file.oldBlob) ? x.file.oldBlob : undefined));
  const names: string[] = [];
  for (const id of blobIds) if (id) names.push(id);
  if (atCommit && commit) for (const x of first) names.push(`${commit}:${x.path}`);
  const reads = git && names.length > 0 ? await git.readBlobs(names) : [];
  const treeTexts = tree ? await Promise.all(first.map((x) => tree.readFile(x.path))) : [];

  const files = new Map<string, Resolved>();
  const notes: Problem[][] = diffs.map(() => []);
  let k = 0;
  const blobReads = blobIds.map((id) => (id ? reads[k++] : undefined));
  const commitReads = first.map(() => (atCommit ? reads[k++] : undefined));
  first.forEach((x, i) => {
    const at = patchSources[x.patch] ?? source;
    const note = (message: string) => notes[x.patch].push({ source: at, line: x.file.headerLine, message });
    const candidates: { kind: Resolved['source']; text: string; blob?: string }[] = [];
    const id = blobIds[i];
    const b = blobReads[i];
    if (id && b) {
      if ('bytes' in b) candidates.push({ kind: 'blob', text: textOf(b.bytes), blob: id });
      else
        notes[x.patch].push(
          remember(gitNotes, {
            source: at,
            line: x.file.headerLine,
            message: `${x.path}: index blob ${id} ${b.missing}: its pre-image is taken from the next source`,
          }),
        );
    }
    const c = commitReads[i];
    if (c && 'bytes' in c) candidates.push({ kind: 'base-commit', text: textOf(c.bytes) });
    const t = treeTexts[i];
    if (t !== undefined) candidates.push({ kind: 'tree', text: textOf(t) });
    for (const cand of candidates) {
      const wrong = mismatch(cand.text, x.file, cand.kind === 'blob');
      if (!wrong) {
        files.set(x.path, { text: cand.text, source: cand.kind, blob: cand.blob });
        return;
      }
      const what =
        cand.kind === 'blob'
          ? `index blob ${cand.blob}`
          : cand.kind === 'base-commit'
            ? `the file at base-commit ${short(commit ?? '')}`
            : 'the work tree file';
      note(`${x.path}: ${what} does not match the patch (${wrong}): the next source is tried`);
    }
    // Nothing matches every hunk: the least bad is still better than no pre-image (the failing hunks are reported).
    const fallback = candidates.find((cand) => cand.kind !== 'blob') ?? candidates[0];
    if (fallback) files.set(x.path, { text: fallback.text, source: fallback.kind, blob: fallback.blob });
    else note(`${x.path}: no pre-image found (${describeTried(git, id, commit, tree)}): analysed from the hunks`);
  });
  if (git) for (const message of git.takeProblems()) problems.push({ source, message });
  const fromGit = [...files.values()].some((f) => f.source === 'blob' || f.source === 'base-commit');
  if (git && sources.auto && !fromGit) {
    // A repository that merely surrounds the tree (the tree's own history, another project): it adds nothing, so it says nothing.
    for (const list of notes) for (let i = list.length - 1; i >= 0; i--) if (gitNotes.has(list[i])) list.splice(i, 1);
    for (let i = seriesNotes.length - 1; i >= 0; i--) if (gitNotes.has(seriesNotes[i])) seriesNotes.splice(i, 1);
  }

  // Each patch's files, with the source their pre-image came from.
  const firstSource = new Map<string, PreimageKind>();
  const perPatch = diffs.map((d) =>
    d.files
      .filter((f) => f.kind !== 'binary')
      .map((f): PreimageFile => {
        const path = f.newPath ?? f.oldPath ?? '';
        let kind: PreimageKind;
        if (f.kind === 'create' || f.oldPath === undefined) kind = firstSource.get(path) ?? contextKind ?? 'hunks';
        else kind = firstSource.get(f.oldPath) ?? files.get(f.oldPath)?.source ?? 'hunks';
        firstSource.set(path, kind);
        if (f.oldPath) firstSource.set(f.oldPath, kind);
        const blob = f.oldPath ? files.get(f.oldPath)?.blob : undefined;
        return blob && kind === 'blob' ? { file: path, source: kind, blob } : { file: path, source: kind };
      }),
  );
  return { files, context, contextKind, perPatch, notes, problems, seriesNotes };
}

function remember(set: Set<Problem>, p: Problem): Problem {
  set.add(p);
  return p;
}

function describeTried(
  git: GitObjects | undefined,
  blob: string | undefined,
  commit: string | undefined,
  tree: TreeReader | undefined,
): string {
  const tried: string[] = [];
  if (git && blob) tried.push(`blob ${blob}`);
  if (commit) tried.push(`base-commit ${short(commit)}`);
  if (tree) tried.push('work tree');
  return tried.length > 0 ? `tried ${tried.join(', ')}` : 'no repository or tree';
}

/** The resolved pre-images over the context tree: what a SeriesTree starts from. */
export function preimageTree(resolved: ResolvedPreimages): TreeReader {
  const byDir = new Map<string, string[]>();
  for (const path of resolved.files.keys()) {
    const dir = dirOf(path);
    const list = byDir.get(dir);
    const name = path.slice(dir ? dir.length + 1 : 0);
    if (list) list.push(name);
    else byDir.set(dir, [name]);
  }
  return {
    async readFile(path) {
      const hit = resolved.files.get(path);
      if (hit) return hit.text;
      return resolved.context ? resolved.context.readFile(path) : undefined;
    },
    async listDir(dir) {
      const names = new Set(resolved.context ? await resolved.context.listDir(dir) : []);
      for (const n of byDir.get(dir) ?? []) names.add(n);
      return [...names];
    },
  };
}

/** The least exact source among a patch's files: what the patch as a whole rests on. */
export function patchPreimage(files: readonly PreimageFile[], fallback: PreimageKind): PreimageKind {
  let worst = -1;
  for (const f of files) worst = Math.max(worst, PREIMAGE_ORDER.indexOf(f.source));
  return worst < 0 ? fallback : PREIMAGE_ORDER[worst];
}
