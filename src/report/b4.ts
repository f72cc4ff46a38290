/**
 * b4 review's external check format, for `b4.review-perpatch-check-cmd`: b4
 * pipes one patch mail to the command and reads a JSON array of
 * `{tool, status: pass|warn|fail, summary, url, details}` from its output.
 * fail: the patch introduces an error-severity finding; warn: it introduces
 * a lesser one, or could not be fully analysed; pass otherwise.
 */
import type { PatchReview, SeriesReview } from '../patch/types';

export const B4_TOOL = 'iommufd-review';

export interface B4CheckResult {
  tool: string;
  status: 'pass' | 'warn' | 'fail';
  summary: string;
  url?: string;
  details?: string;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

export function b4Result(patch: PatchReview, docsUri?: string): B4CheckResult {
  const introduced = patch.findings.filter((f) => f.status === 'introduced');
  const fixed = patch.findings.filter((f) => f.status === 'fixed');
  const status: B4CheckResult['status'] = introduced.some((f) => f.severity === 'error')
    ? 'fail'
    : introduced.length > 0 || patch.problems.length > 0
      ? 'warn'
      : 'pass';
  const parts: string[] = [];
  if (introduced.length > 0)
    parts.push(
      `introduces ${plural(introduced.length, 'finding')} (${[...new Set(introduced.map((f) => f.ruleId))].join(', ')})`,
    );
  if (fixed.length > 0)
    parts.push(`fixes ${plural(fixed.length, 'finding')} (${[...new Set(fixed.map((f) => f.ruleId))].join(', ')})`);
  if (parts.length === 0) parts.push('no new lock or rollback findings');
  if (patch.problems.length > 0) parts.push(plural(patch.problems.length, 'problem'));
  // Which text the verdict rests on comes first: a blob is exact, hunks are not.
  const details: string[] = [
    `pre-image: ${patch.preimage}${new Set(patch.preimageFiles.map((f) => f.source)).size > 1 ? ` (${patch.preimageFiles.map((f) => `${f.file}: ${f.source}`).join(', ')})` : ''}`,
  ];
  for (const f of [...introduced, ...fixed]) {
    details.push(
      `${f.status}: ${f.imageFile}:${f.imageLine}: ${f.severity}: [${f.ruleId}] ${f.message} (confidence: ${f.confidence}${f.patchLine ? `; patch line ${f.patchLine}` : ''})`,
    );
    for (const r of f.related) details.push(`  ${r.file}:${r.line}: ${r.message}`);
  }
  for (const p of [...patch.problems, ...patch.notes])
    details.push(`note: ${p.line ? `line ${p.line}: ` : ''}${p.message}`);
  const out: B4CheckResult = { tool: B4_TOOL, status, summary: parts.join('; ') };
  if (docsUri && introduced.length + fixed.length > 0) out.url = docsUri;
  if (details.length > 0) out.details = details.join('\n');
  return out;
}

/** One result per patch; a mail without a patch (a cover letter) gives []: nothing to report. */
export function toB4(review: SeriesReview, docsUri?: string): B4CheckResult[] {
  return review.patches.map((p) => b4Result(p, docsUri));
}

export function formatB4(review: SeriesReview, docsUri?: string): string {
  return JSON.stringify(toB4(review, docsUri), null, 2) + '\n';
}
