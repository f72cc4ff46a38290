/**
 * The open file's own diagnostics, remembered in the persistent index: the
 * findings and notes of the analysis of one open C document with nothing
 * else held (the first result an open shows), keyed by everything that
 * analysis depends on. A later open of the exact same text with the same
 * inputs shows them before the parser is even loaded, the way the CLI's warm
 * `check` prints the answer the index remembers; the analysis with context
 * follows as usual. The engine build is part of the store's own key space,
 * so an answer of another build is never read.
 */
import type { ReviewConfig } from '../engine/knowledge/types';
import type { Coverage } from '../engine/types';
import type { DocumentFindings } from './analysis';
import type { ServerSettings } from './settings';

/** Bumped when what is stored (or what the key covers) changes shape. */
const FORMAT = 'lsp-own-file 1';

/** What is remembered: the document's findings and notes, and the coverage the status says. */
export interface RememberedOwn extends DocumentFindings {
  coverage: Pick<Coverage, 'files' | 'functions'>;
}

/**
 * The key of one document's own answer: its path and text, the settings that
 * reach its analysis, and the knowledge configuration in effect (undefined:
 * the built-in knowledge alone).
 */
export function rememberedOwnKey(
  digest: (text: string) => string,
  input: { path: string; text: string; settings: ServerSettings; config: ReviewConfig | undefined },
): string {
  return digest(
    JSON.stringify([
      FORMAT,
      input.path,
      digest(input.text),
      input.settings.minConfidence,
      input.settings.maxFileBytes,
      input.config ?? null,
    ]),
  );
}

/** A stored value in the shape `RememberedOwn` (anything else is treated as absent). */
export function isRememberedOwn(x: unknown): x is RememberedOwn {
  const r = x as RememberedOwn | undefined;
  return (
    typeof r === 'object' &&
    r !== null &&
    Array.isArray(r.placed) &&
    Array.isArray(r.notes) &&
    typeof r.coverage === 'object' &&
    r.coverage !== null &&
    typeof r.coverage.files === 'number'
  );
}
