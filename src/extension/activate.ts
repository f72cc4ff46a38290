/**
 * The one activation path of both hosts (desktop/server Node and browser):
 * create the shared services, then one register call per feature that the
 * open C files' findings need; the rest (features.ts) is loaded on first use
 * (deferred-features.ts). Nothing heavy happens here: on Node hosts the
 * language server's process is started (it loads the parser on the first C
 * file); in the browser the wasm is loaded on the first C file.
 */
import type * as vscode from 'vscode';
import type { LiveAnalysis } from './analysis/live-analysis';
import { registerCodeActions } from './code-actions';
import { registerCodeLens } from './code-lens';
import { DeferredFeatures, type FeaturesModule } from './deferred-features';
import { FindingStore } from './finding-store';
import { registerHover } from './hover';
import { createLog } from './log';
import type { PatchAnnotationsApi } from './patch-annotations';
import type { ReviewApi } from './review/register';
import { loadRuleHeadings } from './rule-docs';
import { ServerAnalysis, type LanguageClientFactory } from './server-analysis';
import type { SimulatorPanelApi } from './simulator-panel';
import { registerStatusBar } from './status-bar';
import type { VerifiedFixApi } from './verified-fix';

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
  /**
   * features.ts (patch mails, the simulator, commands, review sessions):
   * Node hosts require their own bundle of it on first use
   * (node-features.ts, with git and the repair worker thread); the
   * browser's bundle holds it.
   */
  features: () => FeaturesModule;
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
  const store = new FindingStore();
  context.subscriptions.push(store);
  const ruleHeadings = loadRuleHeadings(extensionUri);

  const analysis: LiveAnalysis = new ServerAnalysis(services.languageClient(context), {
    log,
    store,
    extensionUri,
    outputChannel: log.channel,
    ruleHeadings,
  });
  context.subscriptions.push(analysis);
  registerCodeLens(context, store);
  registerHover(context, store, extensionUri);
  registerCodeActions(context, store);
  registerStatusBar(context, analysis);
  const features = new DeferredFeatures(services.features, {
    context,
    version,
    log,
    store,
    analysis,
  });

  const activationMs = Date.now() - started;
  log.info(`iommufd review ${version} activated (${host} host) in ${activationMs} ms`);
  const serverPid = services.serverPid ?? (() => undefined);
  return {
    analysis,
    store,
    diagnostics: analysis,
    // the first use of any of these loads the features
    get patches() {
      return features.get().patches;
    },
    get panel() {
      return features.get().panel;
    },
    get fix() {
      return features.get().fix;
    },
    get review() {
      return features.get().review;
    },
    activationMs,
    activatedAt: started,
    serverPid,
  };
}
