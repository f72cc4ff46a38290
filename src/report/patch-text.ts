/**
 * The series review as compiler-style text on the patch file's own lines
 * (`v8.mbox:239: error: ...`), so an editor or `less +N` jumps to the line in
 * the patch a reviewer replies to; the post-image file and line follow.
 */
import type { PatchFinding, PatchReview, PreimageKind, SeriesReview } from '../patch/types';
import type { RevisionComparison } from '../patch/revisions';

function where(p: PatchReview, line?: number): string {
  return line ? `${p.source}:${line}` : p.source;
}

function findingText(p: PatchReview, f: PatchFinding): string[] {
  const context =
    f.context === 'partial' ? `; partial context, confidence capped from ${f.originalConfidence ?? f.confidence}` : '';
  // A fix patch whose pre-image had the finding: what a maintainer most wants confirmed.
  const confirms =
    f.status === 'fixed' && p.fixes.length > 0
      ? `; confirms the fix of ${p.fixes.map((x) => `Fixes: ${x.split(' ')[0]}`).join(', ')}`
      : '';
  const head = `${where(p, f.patchLine)}: ${f.severity}: ${f.status}: [${f.ruleId}] ${f.message} (${f.imageFile}:${f.imageLine}; confidence: ${f.confidence}${context}${confirms}; in ${f.function}())`;
  const witness = f.related.map(
    (r) => `  ${r.patchLine ? where(p, r.patchLine) : `${r.file}:${r.line}`}: note: ${r.message}`,
  );
  return [head, ...witness];
}

const PREIMAGE_TEXT: Record<PreimageKind, string> = {
  blob: 'pre-image: the index blobs',
  'base-commit': 'pre-image: the base-commit',
  tree: 'pre-image: the work tree',
  hunks: 'from the hunks alone',
};

/** Which pre-image the patch was applied to, with each file's when they differ. */
export function preimageText(p: PatchReview): string {
  const kinds = new Set(p.preimageFiles.map((f) => f.source));
  if (kinds.size <= 1) return PREIMAGE_TEXT[p.preimage];
  return `${PREIMAGE_TEXT[p.preimage]}; ${p.preimageFiles.map((f) => `${f.file}: ${f.source}`).join(', ')}`;
}

export function formatPatchText(review: SeriesReview, revision?: RevisionComparison): string {
  const s = review.series;
  const out: string[] = [
    `series: ${s.title || '(untitled)'} (v${s.version}${s.rfc ? ', RFC' : ''}, ${review.patches.length} of ${s.total} patches${s.baseCommit ? `, base ${s.baseCommit.slice(0, 12)}` : ''})`,
  ];
  for (const a of s.setAside)
    out.push(`${a.source}:${a.startLine}: note: set aside: ${a.subject || '(no subject)'}: ${a.reason}`);
  for (const p of s.problems) out.push(`${p.source}${p.line ? `:${p.line}` : ''}: warning: ${p.message}`);
  for (const p of s.notes) out.push(`${p.source}${p.line ? `:${p.line}` : ''}: note: ${p.message}`);
  let introduced = 0;
  for (const p of review.patches) {
    out.push('', `[${p.index}/${p.total}] ${p.title}  (${p.source}, ${preimageText(p)})`);
    for (const problem of p.problems) out.push(`${where(p, problem.line)}: warning: ${problem.message}`);
    for (const note of p.notes) out.push(`${where(p, note.line)}: note: ${note.message}`);
    for (const f of p.findings) out.push(...findingText(p, f));
    const counts = (['introduced', 'fixed', 'unchanged'] as const).map(
      (st) => `${p.findings.filter((f) => f.status === st).length} ${st}`,
    );
    out.push(`  ${counts.join(', ')}`);
    introduced += p.findings.filter((f) => f.status === 'introduced').length;
  }
  if (revision) {
    out.push('', `since v${revision.previousVersion}:`);
    for (const rp of revision.patches) {
      for (const f of rp.fixed)
        out.push(
          `  fixed in ${rp.index ? `[${rp.index}]` : '(dropped patch)'} ${rp.title}: [${f.ruleId}] ${f.function}() (${f.fingerprint})`,
        );
      for (const f of rp.introduced)
        out.push(`  new in [${rp.index}] ${rp.title}: [${f.ruleId}] ${f.function}() (${f.fingerprint})`);
    }
  }
  out.push(
    '',
    `${introduced} introduced finding${introduced === 1 ? '' : 's'} in ${review.patches.length} patch${review.patches.length === 1 ? '' : 'es'}`,
  );
  return out.join('\n') + '\n';
}
