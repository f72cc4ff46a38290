/**
 * `iommufd-review check [options] PATH...`: read C files, analyse them as one
 * program (summaries cross files), print findings. Exit 0 clean, 1 findings,
 * 2 usage or input error.
 */
import { createHash } from 'crypto';
import * as path from 'path';
import { parseArgs } from 'util';
import { Engine } from '../engine';
import { BACKENDS, DEFAULT_BULK_BACKEND } from '../engine/node/create-parser';
import { DeferredParser } from '../engine/node/deferred-parser';
import { resolveConfig } from '../engine/node/find-config';
import { loadFiles } from '../engine/node/facts-workers';
import {
  DEFAULT_MAX_FILE_BYTES,
  collectSourcePaths,
  outsideKernelDirs,
  digestSources,
  formatBytes,
  readSourceFile,
  readSources,
  type DigestedFile,
} from '../engine/node/read-sources';
import type { Backend } from '../engine/parse/syntax';
import {
  CONFIDENCE_ORDER,
  type AnalysisResult,
  type Confidence,
  type FileProblem,
  type SourceFile,
} from '../engine/types';
import { formatJson } from '../report/json';
import { formatSarif } from '../report/sarif';
import { formatText } from '../report/text';
import {
  INDEX_ARG_OPTIONS,
  INDEX_HELP,
  JOBS_ARG_OPTION,
  JOBS_HELP,
  openIndex,
  printIndexNotes,
  readIndexOptions,
} from './index-options';
import type { IndexOptions } from './index-options';
import { watchCheck } from './check-watch';
import { engineDocsUri, packageInfo } from './package-info';
import { EXIT_FINDINGS, EXIT_OK, UsageError, writeOut } from './usage-error';

export const FORMATS = ['text', 'json', 'sarif'] as const;
export type Format = (typeof FORMATS)[number];

/** Per-file parse cap: a pathological file becomes a coverage problem, never a hang. */
export const DEFAULT_PARSE_TIMEOUT_MS = 5000;

export const HELP = `Usage: iommufd-review check [OPTIONS] PATH...

Analyse C sources (files, or directories searched recursively for .c and .h)
as one program and report lock-order, callback-under-lock,
unmap-before-rollback, unrestored-state, stale-after-relock, lock-leak,
assert-held, missing-undo, published-before-finished and
unlocked-access findings.

Options:
  -f, --format FORMAT          text (default), json or sarif
  -c, --min-confidence LEVEL   low, medium or high: hide findings below LEVEL
                               (default: the configuration's minConfidence, else the engine's default)
      --config FILE            use FILE instead of the nearest .iommufd-review.json
                               found upward from the analysed paths
      --backend NAME           parser backend: wasm or native (default: ${DEFAULT_BULK_BACKEND})
      --max-file-size BYTES    skip larger files with a note (default: ${DEFAULT_MAX_FILE_BYTES}, ${formatBytes(DEFAULT_MAX_FILE_BYTES)})
      --verbose                text format: also list partially parsed functions
      --lock-graph             text format: also print the lock-class graph, edge by edge
      --tree DIR               read every .c and .h under DIR as context (callers,
                               callback implementations, layouts); findings are
                               still reported only for the PATHs; in a kernel
                               tree's root, tools/, scripts/, usr/ and
                               Documentation/ (programs run outside the kernel)
                               are left out
      --watch                  stay loaded after the first answer and check again
                               whenever a reported file is saved (text format;
                               Ctrl-C stops); --tree files are read once
${INDEX_HELP}${JOBS_HELP}  -h, --help                   show this help

Exit status: 0 no findings, 1 findings, 2 usage or input error, 3 internal error.
`;

export interface CheckOptions {
  format: Format;
  minConfidence?: Confidence;
  config?: string;
  backend: Backend;
  maxFileBytes: number;
  verbose: boolean;
  lockGraph: boolean;
  /** --watch: keep checking the PATHs as they are saved. */
  watch: boolean;
  paths: string[];
  /** Context trees (--tree): analysed with the paths, not reported. */
  trees: string[];
  index: IndexOptions;
}

function oneOf<T extends string>(value: string, allowed: readonly T[], option: string): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new UsageError(`invalid ${option} '${value}': expected one of ${allowed.join(', ')}`);
}

/** Parses argv; returns null for --help. Throws UsageError on bad input. */
export function parseCheckArgs(argv: string[]): CheckOptions | null {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        format: { type: 'string', short: 'f' },
        'min-confidence': { type: 'string', short: 'c' },
        config: { type: 'string' },
        backend: { type: 'string' },
        'max-file-size': { type: 'string' },
        verbose: { type: 'boolean' },
        'lock-graph': { type: 'boolean' },
        tree: { type: 'string', multiple: true },
        watch: { type: 'boolean' },
        ...INDEX_ARG_OPTIONS,
        ...JOBS_ARG_OPTION,
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    // node's messages name the option; drop its own "To specify a positional..." hints.
    throw new UsageError((e as Error).message.split(/\.(?:\s|$)/)[0]);
  }
  const v = parsed.values;
  if (v.help) return null;
  let maxFileBytes = DEFAULT_MAX_FILE_BYTES;
  if (v['max-file-size'] !== undefined) {
    const n = Number(v['max-file-size']);
    if (!Number.isInteger(n) || n <= 0)
      throw new UsageError(`invalid --max-file-size '${v['max-file-size']}': expected a positive number of bytes`);
    maxFileBytes = n;
  }
  if (parsed.positionals.length === 0)
    throw new UsageError('no PATH given: name the C files or directories to analyse');
  const format = v.format === undefined ? 'text' : oneOf(v.format, FORMATS, '--format');
  // A stream of JSON or SARIF documents is no document: tools call check once per change instead.
  if (v.watch && format !== 'text') throw new UsageError(`--watch prints text: drop --format ${format}`);
  return {
    format,
    minConfidence:
      v['min-confidence'] === undefined ? undefined : oneOf(v['min-confidence'], CONFIDENCE_ORDER, '--min-confidence'),
    config: v.config,
    backend: v.backend === undefined ? DEFAULT_BULK_BACKEND : oneOf(v.backend, BACKENDS, '--backend'),
    maxFileBytes,
    verbose: v.verbose === true,
    lockGraph: v['lock-graph'] === true,
    watch: v.watch === true,
    paths: parsed.positionals,
    trees: v.tree ?? [],
    index: readIndexOptions(v, 'check'),
  };
}

/**
 * A check kept open after its first answer (`--watch`): the engine with every
 * file still loaded, so a re-check redoes only what the change touches.
 */
export interface CheckSession {
  /** The reported files, as read (the paths `recheck` takes). */
  readonly files: readonly string[];
  /**
   * Reads `changed` again (a file that cannot be read now leaves the analysis, with a note) and analyses.
   * `reusedGlobal`: the summaries and lock graph were kept (see `Engine.lastReusedGlobal`).
   */
  recheck(changed: readonly string[]): { result: AnalysisResult; reusedGlobal: boolean };
}

/**
 * Reads, analyses and returns the result, with file problems from reading
 * merged into coverage. Throws UsageError for input the user must fix.
 * With `keepOpen`, the engine stays loaded until the promise it returns
 * settles (no answer from the index's memory of runs: the engine is needed).
 */
export async function runCheck(
  options: CheckOptions,
  keepOpen?: (first: AnalysisResult, session: CheckSession) => Promise<void>,
): Promise<AnalysisResult> {
  const started = performance.now();
  const loaded = resolveConfig({ explicit: options.config, paths: options.paths });
  if (loaded.problems.length > 0) {
    throw new UsageError(`bad configuration:\n  ${loaded.problems.join('\n  ')}`);
  }
  const read = readSources(options.paths, { maxFileBytes: options.maxFileBytes });
  if (read.missing.length > 0) throw new UsageError(`no such file or directory: ${read.missing.join(', ')}`);
  if (read.files.length === 0) {
    const why = [
      ...read.empty.map((d) => `${d}: no .c or .h files found`),
      ...read.problems.map((p) => `${p.file}: ${p.message}`),
    ];
    throw new UsageError(`nothing to analyse:\n  ${why.join('\n  ')}`);
  }
  const store = openIndex(options.index);
  const context = readContext(options, read.files, (text) => store.digest(text));
  const analysed = new Set(read.files.map((f) => f.path));
  const analyzeOptions = {
    ...(options.minConfidence ? { minConfidence: options.minConfidence } : {}),
    ...(context.length > 0 ? { paths: [...analysed] } : {}),
  };
  let readProblems = read.problems;
  const withReadProblems = (result: AnalysisResult): AnalysisResult => {
    // The engine notes replaced bytes itself: keep one note per file.
    const engineNoted = new Set(result.coverage.problems.map((p) => p.file));
    const readSide = readProblems.filter((p) => !(analysed.has(p.file) && engineNoted.has(p.file)));
    result.coverage.problems = [...readSide, ...result.coverage.problems];
    return result;
  };
  // The same inputs as a run the index remembers: its answer, without loading a model.
  const key =
    store.dir && !keepOpen ? runKey(store.version, options, loaded.config, read.files, context, analyzeOptions) : '';
  const remembered = key ? (store.getResult(key) as AnalysisResult | undefined) : undefined;
  if (remembered) {
    printIndexNotes(store, 'check');
    return withReadProblems(remembered);
  }
  // Loaded only if some file is not in the index (a warm run never loads the grammar).
  const parser = new DeferredParser(options.backend);
  const engine = new Engine({
    parser,
    config: loaded.config,
    parseTimeoutMs: DEFAULT_PARSE_TIMEOUT_MS,
    maxFileBytes: options.maxFileBytes,
    facts: store,
  });
  try {
    await loadFiles(
      engine,
      store,
      read.files,
      {
        jobs: options.index.jobs,
        backend: options.backend,
        timeoutMs: DEFAULT_PARSE_TIMEOUT_MS,
        maxFileBytes: options.maxFileBytes,
        needParser: () => parser.load(),
        parser,
      },
      context,
    );
    (globalThis as { __enginePhase?: (name: string, ms: number) => void }).__enginePhase?.(
      `files read and modelled (${read.files.length + context.length})`,
      performance.now() - started,
    );
    const result = engine.analyze(analyzeOptions);
    // A parse cut off by the time limit depends on the machine's load, not on the inputs: not remembered.
    if (key && !result.coverage.problems.some((p) => TIMED_OUT.test(p.message))) store.putResult(key, result);
    if (keepOpen) {
      // A changed file not in the index is parsed here.
      await parser.load();
      const recheck = (changed: readonly string[]): { result: AnalysisResult; reusedGlobal: boolean } => {
        const again = new Set(changed);
        const notes: FileProblem[] = readProblems.filter((p) => !again.has(p.file));
        for (const file of again) {
          const outcome = readSourceFile(file, { maxFileBytes: options.maxFileBytes });
          if ('problem' in outcome) {
            engine.removeFile(file);
            notes.push(outcome.problem);
          } else {
            engine.setFile(file, outcome.file.text);
            if (outcome.note) notes.push(outcome.note);
          }
        }
        readProblems = notes;
        const next = engine.analyze(analyzeOptions);
        return { result: withReadProblems(next), reusedGlobal: engine.lastReusedGlobal };
      };
      const first = withReadProblems(result);
      await keepOpen(first, { files: [...analysed], recheck });
      return first;
    }
    return withReadProblems(result);
  } finally {
    engine.dispose();
    parser.dispose();
    printIndexNotes(store, 'check');
  }
}

/** The engine's note for a file whose parse hit the time limit. */
const TIMED_OUT = /parsing took longer than/;

/**
 * Everything a check's answer depends on, digested: the engine build, every
 * file's path and text (a context file's text by its digest) in the order
 * given to the engine, the configuration,
 * the options that reach the engine, and which files are reported.
 */
function runKey(
  version: string,
  options: CheckOptions,
  config: unknown,
  files: readonly SourceFile[],
  context: readonly DigestedFile[],
  analyzeOptions: object,
): string {
  const hash = createHash('sha256');
  const field = (s: string): void => {
    hash.update(String(s.length)).update(':').update(s);
  };
  field('check');
  field(version);
  field(options.backend);
  field(String(options.maxFileBytes));
  field(String(DEFAULT_PARSE_TIMEOUT_MS));
  field(JSON.stringify(config ?? null));
  field(JSON.stringify(analyzeOptions));
  for (const f of files) {
    field(f.path);
    field(f.text);
  }
  field('context');
  for (const f of context) {
    field(f.path);
    field(f.textDigest);
  }
  return hash.digest('hex');
}

/**
 * The --tree files not already named as PATHs (the same file reached both
 * ways is one file, reported), by path and digest: their texts are read one
 * at a time and dropped (the workers read them again), so a whole kernel
 * tree is never in memory. Unreadable context files are left out quietly:
 * they are not what the user asked about.
 */
function readContext(
  options: CheckOptions,
  files: readonly SourceFile[],
  digest: (text: string) => string,
): DigestedFile[] {
  if (options.trees.length === 0) return [];
  const collected = collectSourcePaths(options.trees, new Set(options.trees.flatMap(outsideKernelDirs)));
  if (collected.missing.length > 0) throw new UsageError(`--tree: no such directory: ${collected.missing.join(', ')}`);
  const named = new Set(files.map((f) => path.resolve(f.path)));
  const paths = collected.paths.filter((p) => !named.has(path.resolve(p)));
  return digestSources(paths, digest, { maxFileBytes: options.maxFileBytes });
}

export function formatResult(
  result: AnalysisResult,
  options: Pick<CheckOptions, 'format' | 'verbose' | 'lockGraph'>,
): string {
  switch (options.format) {
    case 'json':
      return formatJson(result);
    case 'sarif':
      return formatSarif(result, { toolVersion: packageInfo().version, docsBaseUri: engineDocsUri() });
    default:
      return formatText(result, { verbose: options.verbose, lockGraph: options.lockGraph });
  }
}

/**
 * `IOMMUFD_REVIEW_PHASES=1`: each phase of the analysis on stderr as it ends,
 * with its time and the heap then. For runs over a whole tree, which may be
 * stopped before they end: the last line says where it was.
 */
function logPhases(): void {
  const mib = (n: number): string => `${Math.round(n / 1048576)} MiB`;
  (globalThis as { __enginePhase?: (name: string, ms: number) => void }).__enginePhase = (name, ms) => {
    const m = process.memoryUsage();
    process.stderr.write(
      `iommufd-review: phase ${name}: ${Math.round(ms)} ms, heap ${mib(m.heapUsed)}, resident ${mib(m.rss)}\n`,
    );
  };
}

export async function run(argv: string[]): Promise<number> {
  const options = parseCheckArgs(argv);
  if (!options) {
    await writeOut(process.stdout, HELP);
    return EXIT_OK;
  }
  if (process.env.IOMMUFD_REVIEW_PHASES) logPhases();
  if (options.watch) {
    let findings = 0;
    await runCheck(options, async (first, session) => {
      findings = await watchCheck(first, session, {
        result: (r) => writeOut(process.stdout, formatResult(r, options)),
        note: (line) => process.stderr.write(`${line}\n`),
      });
    });
    return findings > 0 ? EXIT_FINDINGS : EXIT_OK;
  }
  const result = await runCheck(options);
  await writeOut(process.stdout, formatResult(result, options));
  return result.findings.length > 0 ? EXIT_FINDINGS : EXIT_OK;
}
