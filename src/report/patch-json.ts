/**
 * The series review as JSON, the shape issue 3 documents:
 * `{"series":{...},"patches":[{"subject","index","findings":[{...check's fields..., "status","patchLine"}],"problems":[...]}]}`.
 * Finding fields reuse the check report's (jsonFinding), so a consumer reads
 * both the same way; keys keep a fixed order so outputs diff cleanly.
 */
import type { RevisionComparison } from '../patch/revisions';
import type { PatchFinding, PatchReview, Problem, SeriesReview } from '../patch/types';
import { jsonFinding, type JsonFinding } from './json';

export interface JsonPatchFinding extends JsonFinding {
  status: PatchFinding['status'];
  /** Line of the patch file (`source`); null when the patch does not show the finding's file. */
  patchLine: number | null;
  imageFile: string;
  imageLine: number;
  context: PatchFinding['context'];
  originalConfidence?: string;
  related: { file: string; line: number; message: string; patchLine?: number }[];
}

export interface JsonPatch {
  subject: string;
  index: number;
  total: number;
  title: string;
  source: string;
  messageId?: string;
  files: string[];
  mode: PatchReview['mode'];
  preimage: PatchReview['preimage'];
  preimageFiles: PatchReview['preimageFiles'];
  fixes: string[];
  findings: JsonPatchFinding[];
  problems: Problem[];
  notes: Problem[];
}

export interface JsonSeriesReport {
  series: SeriesReview['series'];
  patches: JsonPatch[];
  revision?: RevisionComparison;
}

export function jsonPatchFinding(f: PatchFinding): JsonPatchFinding {
  const out: JsonPatchFinding = {
    ...jsonFinding(f),
    related: f.related.map((r) =>
      r.patchLine === undefined
        ? { file: r.file, line: r.line, message: r.message }
        : { file: r.file, line: r.line, message: r.message, patchLine: r.patchLine },
    ),
    status: f.status,
    patchLine: f.patchLine ?? null,
    imageFile: f.imageFile,
    imageLine: f.imageLine,
    context: f.context,
  };
  if (f.originalConfidence) out.originalConfidence = f.originalConfidence;
  return out;
}

export function toPatchJson(review: SeriesReview, revision?: RevisionComparison): JsonSeriesReport {
  const out: JsonSeriesReport = {
    series: review.series,
    patches: review.patches.map((p) => ({
      subject: p.subject,
      index: p.index,
      total: p.total,
      title: p.title,
      source: p.source,
      messageId: p.messageId,
      files: p.files,
      mode: p.mode,
      preimage: p.preimage,
      preimageFiles: p.preimageFiles,
      fixes: p.fixes,
      findings: p.findings.map(jsonPatchFinding),
      problems: p.problems,
      notes: p.notes,
    })),
  };
  if (revision) out.revision = revision;
  return out;
}

export function formatPatchJson(review: SeriesReview, revision?: RevisionComparison): string {
  return JSON.stringify(toPatchJson(review, revision), null, 2) + '\n';
}
