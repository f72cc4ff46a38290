/**
 * The one activation path of both hosts (desktop/server Node and browser):
 * create the shared services, then one register call per feature. Nothing
 * heavy happens here: the parser's wasm is loaded on the first C file.
 */
import type * as vscode from 'vscode';
import { Engine } from '../engine/engine';
import { AnalysisService } from './analysis/analysis-service';
import { loadParser } from './analysis/wasm';
import { registerCodeActions } from './code-actions';
import { registerCodeLens } from './code-lens';
import { registerCommands } from './commands';
import { registerDiagnostics, type DiagnosticsController } from './diagnostics';
import { FindingStore } from './finding-store';
import { sourceModelFor, stepsFromSourceFor } from './from-source';
import { registerHover } from './hover';
import { createLog } from './log';
import { registerPatchAnnotations, type PatchAnnotationsApi, type PatchAnnotationsDeps } from './patch-annotations';
import { registerSimulatorPanel, type SimulatorPanelApi } from './simulator-panel';
import { registerStatusBar } from './status-bar';
import { loadRuleHeadings } from './rule-docs';
import { registerReviewIfPresent } from './review-hook';
import type { ReviewApi } from './review/register';
import type { RepairRunner } from './repair-job';
import type { LiveEngineFactory } from './analysis/analysis-service';
import { createVerifiedFix, inProcessRepairRunner, type VerifiedFixApi } from './verified-fix';
import { registerVerifiedFixCommands } from './verified-fix-commands';

/** What activate() returns: the services, for the extension-host tests and the bench. */
export interface ExtensionApi {
  analysis: AnalysisService;
  store: FindingStore;
  diagnostics: DiagnosticsController;
  patches: PatchAnnotationsApi;
  panel: SimulatorPanelApi;
  fix: VerifiedFixApi;
  review: ReviewApi | undefined;
  activationMs: number;
}

/** What only one host can do, handed in by its entry (the browser bundle never imports Node code). */
export interface HostServices {
  /** Node hosts: a git repository as the patch layer's pre-image source. */
  openGit?: PatchAnnotationsDeps['openGit'];
  /** Node hosts: the repair search on a worker thread (else it runs in the extension host). */
  repairRunner?: (extensionUri: vscode.Uri) => RepairRunner;
  /** Node hosts: the editor's engine on a worker thread, with the persistent index (else in the extension host). */
  liveEngine?: (context: vscode.ExtensionContext) => LiveEngineFactory;
}

export function activateExtension(
  context: vscode.ExtensionContext,
  host: 'node' | 'web',
  services: HostServices = {},
): ExtensionApi {
  const started = Date.now();
  const log = createLog(context);
  const extensionUri = context.extensionUri;
  const version = String((context.extension.packageJSON as { version?: string }).version ?? '0.0.0');
  const analysis = new AnalysisService(
    extensionUri,
    loadParser,
    (parser, config) => new Engine({ parser, config }),
    log,
    services.liveEngine?.(context),
  );
  const store = new FindingStore();
  context.subscriptions.push(analysis, store);
  void loadRuleHeadings(extensionUri);

  const diagnostics = registerDiagnostics(context, { analysis, store, log, extensionUri });
  const patches = registerPatchAnnotations(context, { analysis, store, log, extensionUri, openGit: services.openGit });
  registerCodeLens(context, store);
  registerHover(context, store, extensionUri);
  registerCodeActions(context, store);
  const fix = createVerifiedFix({
    log,
    runner: services.repairRunner?.(extensionUri) ?? inProcessRepairRunner(extensionUri),
  });
  const panel = registerSimulatorPanel(context, {
    extensionUri,
    log,
    fix,
    stepsFromSource: (file, fn) => stepsFromSourceFor(analysis, patches, file, fn),
    sourceModel: (file, fn) => sourceModelFor(analysis, patches, file, fn),
  });
  registerCommands(context, { extensionUri, version, analysis, diagnostics, patches, panel, log });
  registerVerifiedFixCommands(context, { panel, fix, store });
  registerStatusBar(context, analysis);
  const review = registerReviewIfPresent(context, { patches, log });

  const activationMs = Date.now() - started;
  log.info(`iommufd review ${version} activated (${host} host) in ${activationMs} ms`);
  return { analysis, store, diagnostics, patches, panel, fix, review, activationMs };
}
