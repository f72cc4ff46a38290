/**
 * What no C file's diagnostics need: the engine in the extension host and
 * the patch-mail annotations it runs, the simulator panel and its verified
 * fix, the palette commands, review sessions. Activation loads this on first
 * use (deferred-features.ts); on Node hosts it is its own bundle
 * (dist/extension-features.js), so the one the extension host loads before
 * activate() holds the language client and the finding views only.
 */
import type * as vscode from 'vscode';
import { Engine } from '../engine/engine';
import type { RepairRunner } from '../lsp/repair-job';
import type { LiveAnalysis } from './analysis/live-analysis';
import { SessionEngines } from './analysis/session-engines';
import { loadParser } from './analysis/wasm';
import { registerCommands } from './commands';
import type { CommandRegistrar } from './deferred-features';
import type { FindingStore } from './finding-store';
import { sourceModelFor, stepsFromSourceFor } from './from-source';
import type { Log } from './log';
import { registerPatchAnnotations, type PatchAnnotationsApi, type PatchAnnotationsDeps } from './patch-annotations';
import { registerReview, type ReviewApi } from './review/register';
import type { ReviewNode } from './review/tree';
import { createSimulatorPanel, type SimulatorPanelApi } from './simulator-panel';
import { createVerifiedFix, inProcessRepairRunner, type VerifiedFixApi } from './verified-fix';
import { registerVerifiedFixCommands } from './verified-fix-commands';

export interface FeatureDeps {
  context: vscode.ExtensionContext;
  version: string;
  log: Log;
  store: FindingStore;
  /** The live analysis of the open C documents (the language server's client). */
  analysis: LiveAnalysis;
  /** Every command goes through this: activation registered stand-ins for the contributed ones. */
  registerCommand: CommandRegistrar;
  /** The Review Sessions view's data (activation made the view). */
  showReviewTree(tree: vscode.TreeDataProvider<ReviewNode>): vscode.Disposable;
  /** Node hosts: a git repository as the patch layer's pre-image source. */
  openGit?: PatchAnnotationsDeps['openGit'];
  /** Node hosts: the repair search on a worker thread (else it runs in the extension host). */
  repairRunner?: (extensionUri: vscode.Uri) => RepairRunner;
}

export interface Features {
  patches: PatchAnnotationsApi;
  panel: SimulatorPanelApi;
  fix: VerifiedFixApi;
  review: ReviewApi | undefined;
}

export function registerFeatures(deps: FeatureDeps): Features {
  const { context, log, store, analysis, registerCommand } = deps;
  const extensionUri = context.extensionUri;
  const sessions = new SessionEngines(
    extensionUri,
    loadParser,
    (parser, config) => new Engine({ parser, config }),
    log,
  );
  context.subscriptions.push(sessions);
  const patches = registerPatchAnnotations(context, {
    analysis: sessions,
    store,
    log,
    extensionUri,
    openGit: deps.openGit,
  });
  const fix = createVerifiedFix({
    log,
    runner: deps.repairRunner?.(extensionUri) ?? inProcessRepairRunner(extensionUri),
  });
  const panel = createSimulatorPanel({
    extensionUri,
    log,
    fix,
    stepsFromSource: (file, fn) => stepsFromSourceFor(analysis, patches, file, fn),
    sourceModel: (file, fn) => sourceModelFor(analysis, patches, file, fn),
  });
  registerCommands(context, {
    extensionUri,
    version: deps.version,
    sessions,
    live: analysis,
    patches,
    panel,
    log,
    registerCommand,
  });
  registerVerifiedFixCommands(context, { panel, fix, store, registerCommand });
  let review: ReviewApi | undefined;
  try {
    review = registerReview(context, { log, patches, registerCommand, showTree: deps.showReviewTree });
  } catch (e) {
    // A broken review feature must not take the patch annotations and the simulator down with it.
    log.error('review sessions could not start', e);
  }
  return { patches, panel, fix, review };
}
