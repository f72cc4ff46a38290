/**
 * `iommufd-review patch [--base DIR] [--format text|json|sarif|b4] FILE...`:
 * review a patch series (mbox, format-patch files, a plain diff) patch by
 * patch: findings introduced, fixed or unchanged, on the patch file's lines.
 * With `--format b4` and no FILE (or `-`), one patch mail is read from
 * standard input, for `b4.review-perpatch-check-cmd`.
 */
import * as fs from 'fs';
import * as path from 'path';
import { parseArgs } from 'util';
import type { Engine, SourceFile } from '../engine';
import { BACKENDS, DEFAULT_BULK_BACKEND, createParser } from '../engine/node/create-parser';
import { defaultJobs, loadFiles as loadFilesOnWorkers } from '../engine/node/facts-workers';
import { DEFAULT_PARSE_TIMEOUT_MS } from './check';
import { resolveConfig } from '../engine/node/find-config';
import type { Backend } from '../engine/parse/syntax';
import { compareRevisions, parseSeriesFiles, reviewSeries, type SeriesInput, type SeriesReview } from '../patch/index';
import { fsTree } from '../patch/node/fs-tree';
import { openGitRepo, type GitRepo } from '../patch/node/git-repo';
import type { RevisionComparison } from '../patch/revisions';
import { formatB4 } from '../report/b4';
import { formatPatchJson } from '../report/patch-json';
import { formatPatchSarif } from '../report/patch-sarif';
import { formatPatchText } from '../report/patch-text';
import { defaultIndexDir } from '../engine/node/facts-disk-store';
import {
  INDEX_ARG_OPTIONS,
  JOBS_ARG_OPTION,
  openIndex,
  printIndexNotes,
  readIndexOptions,
  type IndexOptions,
} from './index-options';
import { engineDocsUri, packageInfo } from './package-info';
import { EXIT_FINDINGS, EXIT_OK, UsageError, writeOut } from './usage-error';

export const PATCH_FORMATS = ['text', 'json', 'sarif', 'b4'] as const;
export type PatchFormat = (typeof PATCH_FORMATS)[number];

export const HELP = `Usage: iommufd-review patch [OPTIONS] FILE...

Review a patch series patch by patch: which lock-order, callback-under-lock,
unmap-before-rollback (and other) findings each patch introduces, fixes or
leaves unchanged, on the lines of the patch file itself.

FILE is an mbox (b4 or lore), git format-patch files (any order), a single
mail, or a plain diff. Covers, replies and other revisions are set aside.

Options:
  -b, --base DIR          a kernel tree the series applies to: patches are applied
                          in memory (offset and fuzz like patch(1)) and analysed with
                          the other C files of their directories. Without it, only
                          what the hunks show is analysed (confidence capped at medium)
  -g, --git DIR           a git repository holding the series' pre-images: each file's
                          pre-image is the blob its diff's \`index\` line names, else the
                          file at the series' base-commit, else the work tree file (as
                          --base), else the hunks alone; each patch says which it used.
                          Used by default when --base or the current directory is
                          inside a git work tree
      --no-git            do not look for a git repository
  -f, --format FORMAT     text (default), json, sarif or b4 (b4 review's check JSON)
  -p, --previous FILE     an older revision of the series (repeatable): also report
                          what this revision fixed or newly introduced compared to it
      --config FILE       use FILE instead of the nearest .iommufd-review.json
      --backend NAME      parser backend: wasm or native (default: ${DEFAULT_BULK_BACKEND})
      --index DIR         keep per-file facts of the tree's files in DIR: unchanged
                          files are not parsed again (default: ${defaultIndexDir()})
      --no-index          neither read nor write the index
  -j, --jobs N            parse the base tree's files on N worker threads (default:
                          the number of cores, ${defaultJobs()}; 1: no workers)
  -h, --help              show this help

For b4 (git config):
  [b4]
      review-perpatch-check-cmd = iommufd-review patch --format b4 --base .

Exit status: 0 no introduced findings, 1 introduced findings, 2 usage or input
error, 3 internal error. With --format b4 the exit status is 0 unless the
command itself failed, as b4 expects.
`;

export interface PatchOptions {
  format: PatchFormat;
  base?: string;
  /** `--git DIR`; undefined: found around --base or the current directory, unless `noGit`. */
  git?: string;
  noGit: boolean;
  previous: string[];
  config?: string;
  backend: Backend;
  index: IndexOptions;
  files: string[];
}

function oneOf<T extends string>(value: string, allowed: readonly T[], option: string): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new UsageError(`invalid ${option} '${value}': expected one of ${allowed.join(', ')}`, 'patch');
}

function isDirectory(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

export function parsePatchArgs(argv: string[]): PatchOptions | null {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        base: { type: 'string', short: 'b' },
        git: { type: 'string', short: 'g' },
        'no-git': { type: 'boolean' },
        format: { type: 'string', short: 'f' },
        previous: { type: 'string', short: 'p', multiple: true },
        config: { type: 'string' },
        backend: { type: 'string' },
        ...INDEX_ARG_OPTIONS,
        ...JOBS_ARG_OPTION,
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    throw new UsageError((e as Error).message.split(/\.(?:\s|$)/)[0], 'patch');
  }
  const v = parsed.values;
  if (v.help) return null;
  const format = v.format === undefined ? 'text' : oneOf(v.format, PATCH_FORMATS, '--format');
  const files = parsed.positionals;
  if (files.length === 0 && format !== 'b4')
    throw new UsageError('no FILE given: name the mbox, format-patch files or diff to review', 'patch');
  if (v.base !== undefined && !isDirectory(v.base)) throw new UsageError(`--base ${v.base}: not a directory`, 'patch');
  if (v.git !== undefined) {
    if (v['no-git']) throw new UsageError('--git and --no-git contradict each other', 'patch');
    if (!isDirectory(v.git)) throw new UsageError(`--git ${v.git}: not a directory`, 'patch');
  }
  return {
    format,
    base: v.base,
    git: v.git,
    noGit: v['no-git'] === true,
    previous: v.previous ?? [],
    config: v.config,
    backend: v.backend === undefined ? DEFAULT_BULK_BACKEND : oneOf(v.backend, BACKENDS, '--backend'),
    files: files.length === 0 ? ['-'] : files,
    index: readIndexOptions(v, 'patch'),
  };
}

function readInputs(files: readonly string[]): SeriesInput[] {
  const missing = files.filter((f) => f !== '-' && !fs.existsSync(f));
  if (missing.length > 0) throw new UsageError(`no such file: ${missing.join(', ')}`, 'patch');
  return files.map((f) => {
    if (f === '-') return { name: '<stdin>', content: new Uint8Array(fs.readFileSync(0)) };
    if (fs.statSync(f).isDirectory()) throw new UsageError(`${f} is a directory: name the patch files in it`, 'patch');
    return { name: f, content: new Uint8Array(fs.readFileSync(f)) };
  });
}

export interface PatchRun {
  review: SeriesReview;
  revision?: RevisionComparison;
}

interface Sources {
  base?: ReturnType<typeof fsTree>;
  git?: GitRepo;
  gitAuto: boolean;
  foundAround: boolean;
}

/**
 * Where pre-images are read: `--git DIR` (an error when it is not a
 * repository), else the repository around `--base`, else the one around the
 * current directory, whose work tree then also serves as the tree.
 */
async function openSources(options: PatchOptions): Promise<Sources> {
  const base = options.base ? fsTree(path.resolve(options.base)) : undefined;
  if (options.git !== undefined) {
    const opened = await openGitRepo(path.resolve(options.git));
    if ('problem' in opened)
      throw new UsageError(`--git ${options.git}: ${opened.problem.replace(/^[^:]*: /, '')}`, 'patch');
    return { base, git: opened.repo, gitAuto: false, foundAround: false };
  }
  if (options.noGit) return { base, gitAuto: false, foundAround: false };
  const around = await openGitRepo(options.base ? path.resolve(options.base) : process.cwd());
  if ('problem' in around) return { base, gitAuto: false, foundAround: false };
  if (base) return { base, git: around.repo, gitAuto: true, foundAround: false };
  return { base: around.repo.workTree, git: around.repo, gitAuto: true, foundAround: true };
}

export async function runPatch(options: PatchOptions): Promise<PatchRun> {
  const loaded = resolveConfig({ explicit: options.config, paths: [options.base ?? process.cwd()] });
  if (loaded.problems.length > 0)
    throw new UsageError(`bad configuration:\n  ${loaded.problems.join('\n  ')}`, 'patch');
  const series = await parseSeriesFiles(readInputs(options.files));
  const sources = await openSources(options);
  const parser = await createParser(options.backend);
  const facts = openIndex(options.index);
  try {
    // The base tree's context files are parsed on worker threads (when there are enough of them).
    const loadFiles = (engine: Engine, files: readonly SourceFile[]) =>
      loadFilesOnWorkers(engine, facts, files, {
        jobs: options.index.jobs,
        backend: options.backend,
        timeoutMs: DEFAULT_PARSE_TIMEOUT_MS,
      }).then(() => undefined);
    const review = await reviewSeries(series, { parser, ...sources, config: loaded.config, facts, loadFiles });
    let revision: RevisionComparison | undefined;
    if (options.previous.length > 0) {
      const older = await reviewSeries(await parseSeriesFiles(readInputs(options.previous)), {
        parser,
        ...sources,
        config: loaded.config,
        facts,
        loadFiles,
      });
      revision = compareRevisions(older, review);
    }
    return { review, revision };
  } finally {
    sources.git?.dispose();
    parser.dispose();
    printIndexNotes(facts, 'patch');
  }
}

export function formatPatchRun(run: PatchRun, format: PatchFormat): string {
  switch (format) {
    case 'json':
      return formatPatchJson(run.review, run.revision);
    case 'sarif':
      return formatPatchSarif(run.review, { toolVersion: packageInfo().version, docsBaseUri: engineDocsUri() });
    case 'b4':
      return formatB4(run.review, engineDocsUri());
    default:
      return formatPatchText(run.review, run.revision);
  }
}

export async function run(argv: string[]): Promise<number> {
  const options = parsePatchArgs(argv);
  if (!options) {
    await writeOut(process.stdout, HELP);
    return EXIT_OK;
  }
  const result = await runPatch(options);
  await writeOut(process.stdout, formatPatchRun(result, options.format));
  return exitCodeFor(result, options.format);
}

/** 1 when a patch introduces a finding; b4 wants 0 whenever the command itself worked. */
export function exitCodeFor(result: PatchRun, format: PatchFormat): number {
  if (format === 'b4') return EXIT_OK;
  const introduced = result.review.patches.some((p) => p.findings.some((f) => f.status === 'introduced'));
  return introduced ? EXIT_FINDINGS : EXIT_OK;
}
