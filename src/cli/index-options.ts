/**
 * The index and worker options shared by `check`, `patch` and `simulate`:
 * `--index DIR`, `--no-index`, `--jobs N`. One parser for the three, one
 * place that opens the store and prints its notes.
 */
import { DiskFactsStore, defaultIndexDir } from '../engine/node/facts-disk-store';
import { defaultJobs } from '../engine/node/facts-workers';
import { UsageError } from './usage-error';

export const INDEX_ARG_OPTIONS = {
  index: { type: 'string' },
  'no-index': { type: 'boolean' },
} as const;

/** Only for commands that run bulk analyses (check). */
export const JOBS_ARG_OPTION = {
  jobs: { type: 'string', short: 'j' },
} as const;

export const INDEX_HELP = `      --index DIR              keep per-file facts (layouts, models) in DIR, so an
                               unchanged file is never parsed again (default:
                               ${defaultIndexDir()})
      --no-index               neither read nor write the index
`;

export const JOBS_HELP = `  -j, --jobs N                 parse and model on N threads: this one and N - 1
                               workers, or N workers for --tree context files
                               (default: the number of cores, ${defaultJobs()}; 1: no workers)
`;

export interface IndexOptions {
  /** The index folder, or undefined with --no-index. */
  indexDir: string | undefined;
  jobs: number;
}

export function readIndexOptions(
  v: { index?: string; 'no-index'?: boolean; jobs?: string },
  command: string,
): IndexOptions {
  if (v.index !== undefined && v['no-index'])
    throw new UsageError('--index and --no-index contradict each other', command);
  let jobs = defaultJobs();
  if (v.jobs !== undefined) {
    const n = Number(v.jobs);
    if (!Number.isInteger(n) || n < 1 || n > 256)
      throw new UsageError(`invalid --jobs '${v.jobs}': expected a whole number from 1 to 256`, command);
    jobs = n;
  }
  return { indexDir: v['no-index'] ? undefined : (v.index ?? defaultIndexDir()), jobs };
}

export function openIndex(options: IndexOptions): DiskFactsStore {
  return new DiskFactsStore({ dir: options.indexDir });
}

/** The store's notes on stderr: they are about the cache, never part of a report. */
export function printIndexNotes(store: DiskFactsStore, command: string): void {
  for (const note of store.notes) process.stderr.write(`iommufd-review ${command}: note: ${note}\n`);
}
