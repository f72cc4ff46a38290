/**
 * The series review as SARIF 2.1.0, built with the check report's builders
 * (src/report/sarif.ts). One run for the series; each result is at the
 * finding's image file and line, carries `baselineState` (introduced → new,
 * fixed → absent, unchanged → unchanged), and points at the patch-file line
 * that shows it as a related location and in its properties.
 */
import type * as Sarif from 'sarif';
import type { FindingStatus, PatchFinding, SeriesReview } from '../patch/types';
import { artifactUri, sarifLocation, sarifLog, sarifResult, sarifTool, type SarifOptions } from './sarif';

const BASELINE: Record<FindingStatus, Sarif.Result.baselineState> = {
  introduced: 'new',
  fixed: 'absent',
  unchanged: 'unchanged',
};

export function patchSarifResult(f: PatchFinding, patch: SeriesReview['patches'][number]): Sarif.Result {
  const result = sarifResult(f);
  result.baselineState = BASELINE[f.status];
  const related = result.relatedLocations ?? [];
  if (f.patchLine !== undefined) {
    related.push(
      sarifLocation(
        patch.source,
        f.patchLine,
        undefined,
        `shown by patch ${patch.index}/${patch.total} "${patch.title}"`,
        related.length + 1,
      ),
    );
  }
  result.relatedLocations = related;
  result.properties = {
    ...result.properties,
    status: f.status,
    patchIndex: patch.index,
    patchSubject: patch.subject,
    patchFile: patch.source,
    patchLine: f.patchLine ?? null,
    context: f.context,
    preimage: patch.preimage,
  };
  return result;
}

export function toPatchSarif(review: SeriesReview, options: SarifOptions): Sarif.Log {
  const notifications: Sarif.Notification[] = [];
  const said = [
    ...[...review.series.problems, ...review.patches.flatMap((x) => x.problems)].map((p) => ({
      p,
      level: 'warning' as const,
    })),
    ...[...review.series.notes, ...review.patches.flatMap((x) => x.notes)].map((p) => ({ p, level: 'note' as const })),
  ];
  for (const { p, level } of said) {
    const n: Sarif.Notification = { level, message: { text: p.message } };
    if (p.source) {
      n.locations = [
        {
          physicalLocation: {
            artifactLocation: { uri: artifactUri(p.source) },
            ...(p.line ? { region: { startLine: p.line } } : {}),
          },
        },
      ];
    }
    notifications.push(n);
  }
  const run: Sarif.Run = {
    tool: sarifTool(options),
    invocations: [{ executionSuccessful: true, toolExecutionNotifications: notifications }],
    results: review.patches.flatMap((p) => p.findings.map((f) => patchSarifResult(f, p))),
    properties: {
      series: {
        title: review.series.title,
        version: review.series.version,
        total: review.series.total,
        baseCommit: review.series.baseCommit ?? null,
      },
      patches: review.patches.map((p) => ({
        index: p.index,
        subject: p.subject,
        preimage: p.preimage,
        preimageFiles: p.preimageFiles,
      })),
    },
  };
  return sarifLog([run]);
}

export function formatPatchSarif(review: SeriesReview, options: SarifOptions): string {
  return JSON.stringify(toPatchSarif(review, options), null, 2) + '\n';
}
