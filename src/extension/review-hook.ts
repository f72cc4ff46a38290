/**
 * Review sessions (src/extension/review/) are their own feature; this is the
 * one place activation hands them the shared services.
 */
import type * as vscode from 'vscode';
import type { Log } from './log';
import type { PatchAnnotationsApi } from './patch-annotations';
import { registerReview, type ReviewApi } from './review/register';

export interface ReviewDeps {
  patches: PatchAnnotationsApi;
  log: Log;
}

export function registerReviewIfPresent(context: vscode.ExtensionContext, deps: ReviewDeps): ReviewApi | undefined {
  try {
    return registerReview(context, { log: deps.log, patches: deps.patches });
  } catch (e) {
    // A broken review feature must not take diagnostics and the simulator down with it.
    deps.log.error('review sessions could not start', e);
    return undefined;
  }
}
