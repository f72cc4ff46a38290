/**
 * The patch layer's public entry (plain data in, plain data out; browser-safe):
 * the extension and the CLI call these.
 */
import { Engine, type AnalysisResult, type CParser, type FactsStore, type ReviewConfig } from '../engine/index';
import { reviewSeriesWith, type AnalysisSession } from './review';
import type { GitObjects } from './preimage';
import type { TreeReader } from './tree';
import type { Series, SeriesReview } from './types';

export { parseSeries, parseSeriesFiles, type SeriesInput } from './series';
export { reviewSeriesWith, type AnalysisSession, type ReviewOptions } from './review';
export { compareRevisions, type RevisionComparison } from './revisions';
export type { TreeReader } from './tree';
export type { BlobRead, GitObjects } from './preimage';
export * from './types';
export { inputProblems } from './problems';

export interface ReviewSeriesOptions {
  parser: CParser;
  /** The tree the series applies to (`--base`); without it the hunks alone are analysed. */
  base?: TreeReader;
  /** A git repository: pre-images from the index blobs or the base-commit (see preimage.ts). */
  git?: GitObjects;
  /** `git` was found, not named (fewer notes when it has nothing of the series). */
  gitAuto?: boolean;
  /** `git` and `base` were found around the current directory: silent when they have nothing of the series. */
  foundAround?: boolean;
  config?: ReviewConfig;
  /** Per-file facts from earlier runs (the CLI's index): unchanged tree files are not parsed again. */
  facts?: FactsStore;
  /** Sets many files on an engine at once (the CLI's worker threads); the engine's own setFile otherwise. */
  loadFiles?: (engine: Engine, files: readonly { path: string; text: string }[]) => Promise<void>;
  /**
   * With `base`: an engine that already holds the base tree (the extension's
   * workspace engine) and is kept warm; files the review changes in it are put
   * back to their base text afterwards. Its parser and config are used.
   */
  engine?: Engine;
  /**
   * With `engine`: remember the analysis of the base files between reviews
   * (keyed by their paths and texts), saving one analysis when the same tree
   * is reviewed again (the patch edited, another revision). Only right when
   * the engine's other files, if any, do not change between reviews.
   */
  rememberBase?: boolean;
}

/** Reviews every patch of a series with the engine. */
export function reviewSeries(series: Series, options: ReviewSeriesOptions): Promise<SeriesReview> {
  return reviewSeriesWith(series, {
    base: options.base,
    git: options.git,
    gitAuto: options.gitAuto,
    foundAround: options.foundAround,
    session: () =>
      sessionOf(
        new Engine({
          parser: options.parser,
          config: options.config,
          ...(options.facts ? { facts: options.facts } : {}),
        }),
        true,
        options.loadFiles,
      ),
    shared: options.base && options.engine ? sessionOf(options.engine, false) : undefined,
    baseCache: options.engine && options.rememberBase ? cacheOf(options.engine) : undefined,
    minConfidence: options.config?.minConfidence,
  });
}

// One remembered base analysis per warm engine.
const baseCaches = new WeakMap<Engine, Map<string, AnalysisResult>>();
function cacheOf(engine: Engine): Map<string, AnalysisResult> {
  let c = baseCaches.get(engine);
  if (!c) baseCaches.set(engine, (c = new Map()));
  return c;
}

/**
 * Findings are asked for down to low confidence and the threshold applied
 * after classification: otherwise a finding whose confidence drops below the
 * threshold in the post-image would read as fixed. Exported for callers that
 * keep a review's engines (`owned` false: dispose leaves the engine alive).
 */
export function sessionOf(
  engine: Engine,
  owned: boolean,
  loadFiles?: ReviewSeriesOptions['loadFiles'],
): AnalysisSession {
  return {
    setFile: (path, text) => engine.setFile(path, text),
    ...(loadFiles ? { setFiles: (files: readonly { path: string; text: string }[]) => loadFiles(engine, files) } : {}),
    editFile: (path, replacements) => engine.editFile(path, replacements),
    removeFile: (path) => engine.removeFile(path),
    analyze: () => engine.analyze({ minConfidence: 'low' }),
    dispose: () => (owned ? engine.dispose() : undefined),
  };
}
