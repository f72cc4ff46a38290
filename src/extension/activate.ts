/**
 * The one activation path of both hosts (desktop/server Node and browser):
 * create the shared services, then one register call per feature. Nothing
 * heavy happens here: on Node hosts the language server's process is started
 * (it loads the parser on the first C file); in the browser the wasm is
 * loaded on the first C file.
 */
import type * as vscode from 'vscode';
import { Engine } from '../engine/engine';
import { SessionEngines } from './analysis/session-engines';
import { loadParser } from './analysis/wasm';
import { registerCodeActions } from './code-actions';
import { registerCodeLens } from './code-lens';
import { registerCommands } from './commands';
import type { LiveAnalysis } from './analysis/live-analysis';
import { ServerAnalysis, type LanguageClientFactory } from './server-analysis';
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
import type { RepairRunner } from '../lsp/repair-job';
import { createVerifiedFix, inProcessRepairRunner, type VerifiedFixApi } from './verified-fix';
import { registerVerifiedFixCommands } from './verified-fix-commands';

/** What activate() returns: the services, for the extension-host tests and the bench. */
export interface ExtensionApi {
  /** The live analysis of the open C documents: the language server's client on Node hosts. */
  analysis: LiveAnalysis;
  store: FindingStore;
  /** The same object as `analysis` (settled, reanalyze), under the name the tests and commands used. */
  diagnostics: LiveAnalysis;
  patches: PatchAnnotationsApi;
  panel: SimulatorPanelApi;
  fix: VerifiedFixApi;
  review: ReviewApi | undefined;
  activationMs: number;
  /** When activate() started (Date.now()): the bench's open → activation. */
  activatedAt: number;
  /** The language server's process id while it runs (Node hosts); undefined in the browser. */
  serverPid: () => number | undefined;
}

/** What only one host can do, handed in by its entry (the browser bundle never imports Node code). */
export interface HostServices {
  /** Node hosts: a git repository as the patch layer's pre-image source. */
  openGit?: PatchAnnotationsDeps['openGit'];
  /** Node hosts: the repair search on a worker thread (else it runs in the extension host). */
  repairRunner?: (extensionUri: vscode.Uri) => RepairRunner;
  /**
   * The language client whose server (src/lsp) analyses the open C
   * documents: in a Node child process with the persistent index (Node
   * hosts), in a Web Worker (the browser).
   */
  languageClient: (context: vscode.ExtensionContext) => LanguageClientFactory;
  /** Node hosts: the process id of the language server while it runs. */
  serverPid?: () => number | undefined;
}

export function activateExtension(
  context: vscode.ExtensionContext,
  host: 'node' | 'web',
  services: HostServices,
): ExtensionApi {
  const started = Date.now();
  const log = createLog(context);
  const extensionUri = context.extensionUri;
  const version = String((context.extension.packageJSON as { version?: string }).version ?? '0.0.0');
  const sessions = new SessionEngines(
    extensionUri,
    loadParser,
    (parser, config) => new Engine({ parser, config }),
    log,
  );
  const store = new FindingStore();
  context.subscriptions.push(sessions, store);
  const ruleHeadings = loadRuleHeadings(extensionUri);

  const analysis: LiveAnalysis = new ServerAnalysis(services.languageClient(context), {
    log,
    store,
    extensionUri,
    outputChannel: log.channel,
    ruleHeadings,
  });
  context.subscriptions.push(analysis);
  const patches = registerPatchAnnotations(context, {
    analysis: sessions,
    store,
    log,
    extensionUri,
    openGit: services.openGit,
  });
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
  registerCommands(context, { extensionUri, version, sessions, live: analysis, patches, panel, log });
  registerVerifiedFixCommands(context, { panel, fix, store });
  registerStatusBar(context, analysis);
  const review = registerReviewIfPresent(context, { patches, log });

  const activationMs = Date.now() - started;
  log.info(`iommufd review ${version} activated (${host} host) in ${activationMs} ms`);
  const serverPid = services.serverPid ?? (() => undefined);
  return {
    analysis,
    store,
    diagnostics: analysis,
    patches,
    panel,
    fix,
    review,
    activationMs,
    activatedAt: started,
    serverPid,
  };
}
