/**
 * Which problems of a series review a user is told about in a notification:
 * those of the input (mail, diff, hunks that do not apply or are truncated,
 * files that could not be read). The note that a review without a base tree
 * rests on partial context is not one: every diagnostic already says so.
 */
import type { Problem, SeriesReview } from '../../patch/types';

// review.ts words the no-base note this way; it is a fact about the mode, not about the input.
const CONTEXT_NOTE = /^no base tree: /;

export function inputProblems(review: SeriesReview): Problem[] {
  return [...review.series.problems, ...review.patches.flatMap((p) => p.problems)].filter((p) => !CONTEXT_NOTE.test(p.message));
}

/** One line for a notification: the first problem, and how many more the log has. */
export function problemSummary(name: string, problems: readonly Problem[]): string | undefined {
  if (problems.length === 0) return undefined;
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more problem(s); see the output log)` : '';
  return `iommufd: ${name} was only partly reviewed: ${problems[0].message}${more}`;
}
