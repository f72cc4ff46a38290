/**
 * A notification's words for the problems of a series review's input
 * (`inputProblems` of the patch layer: the no-base note is not one, every
 * diagnostic already says so).
 */
import type { Problem } from '../../patch/types';

/** One line for a notification: the first problem, and how many more the log has. */
export function problemSummary(name: string, problems: readonly Problem[]): string | undefined {
  if (problems.length === 0) return undefined;
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more problem(s); see the output log)` : '';
  return `iommufd: ${name} was only partly reviewed: ${problems[0].message}${more}`;
}
