import type { Problem, SeriesReview } from './types';

/**
 * The problems of a series review that are about its input (mail, diff,
 * hunks that do not apply, files that could not be read): what a user is
 * told about once, besides the findings. Notes of kind `context` are left
 * out: each finding's message carries them already.
 */
export function inputProblems(review: SeriesReview): Problem[] {
  return [...review.series.problems, ...review.patches.flatMap((p) => p.problems)].filter((p) => p.kind !== 'context');
}
