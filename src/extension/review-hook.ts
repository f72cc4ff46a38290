/**
 * Review sessions (src/extension/review/) are their own feature; this is the
 * one place activation hands them the shared services.
 */
import * as vscode from 'vscode';
import type { AnalysisService } from './analysis/analysis-service';
import type { FindingStore } from './finding-store';
import type { Log } from './log';
import type { PatchAnnotationsApi } from './patch-annotations';

export interface ReviewDeps {
  analysis: AnalysisService;
  store: FindingStore;
  patches: PatchAnnotationsApi;
  log: Log;
}

export function registerReviewIfPresent(_context: vscode.ExtensionContext, deps: ReviewDeps): void {
  deps.log.info('review sessions: not part of this build');
}
