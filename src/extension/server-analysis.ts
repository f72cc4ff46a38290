/**
 * The editor's live analysis through the language server (src/lsp): a
 * vscode-languageclient client whose server runs outside the extension host
 * (a Node child process on desktop and remote hosts). The server gets the
 * open C documents (incremental sync) and the `iommufd.*` settings
 * (workspace/configuration and didChangeConfiguration), and pushes
 * diagnostics that carry their finding in `data`: they fill the finding
 * store, which the extension's own code lenses, hovers, code actions and
 * simulator panel read. Its `iommufd/status` notifications drive the status
 * bar. Patch mails are not sent: their reviews stay in the extension host
 * (patch-annotations.ts), which needs their image models for decorations and
 * review sessions.
 *
 * Diagnostics are pushed, not pulled: vscode-languageclient pulls only for
 * documents shown in a tab, and the extension analyses every open C buffer.
 * The client therefore does not announce pull support (see `clientTweaks`).
 */
import * as vscode from 'vscode';
import type {
  BaseLanguageClient,
  ClientCapabilities,
  DocumentSelector,
  FeatureState,
  LanguageClientOptions,
  StaticFeature,
} from 'vscode-languageclient';
import type { FileModel } from '../engine/model/types';
import type { LockGraph } from '../engine/types';
import {
  FILE_MODEL_REQUEST,
  LOCK_GRAPH_REQUEST,
  SETTLED_REQUEST,
  STATUS_NOTIFICATION,
  type AnalysisStatus,
  type FileModelAnswer,
  type FindingData,
  type LockGraphAnswer,
} from '../lsp/protocol';
import type { AnalysisState, LiveAnalysis } from './analysis/live-analysis';
import type { FindingStore, ShownFinding } from './finding-store';
import type { Log } from './log';
import { ruleDocsUri } from './to-vscode';

/**
 * Makes the host's client (Node: the server in a child process) with the
 * options given; the client's module is imported then, not with the
 * extension's bundle.
 */
export type LanguageClientFactory = (options: LanguageClientOptions) => Promise<BaseLanguageClient>;

/** vscode-languageclient's `State` values, as numbers: the enum lives in the host-specific module. */
const STOPPED = 1;
const RUNNING = 2;

/**
 * The documents the server analyses: C and headers (VS Code opens `.h` as
 * cpp) that are the user's own (on disk, unsaved, or in a virtual workspace
 * folder's scheme), never a `git:` view such as a diff editor's left side.
 */
export function serverDocumentSelector(): DocumentSelector {
  const schemes = new Set(['file', 'untitled']);
  for (const f of vscode.workspace.workspaceFolders ?? []) schemes.add(f.uri.scheme);
  return [...schemes].flatMap((scheme) => [
    { scheme, language: 'c' },
    { scheme, language: 'cpp' },
  ]);
}

/** The client capabilities this extension changes: push diagnostics (no pull), and status notifications. */
const clientTweaks: StaticFeature = {
  fillClientCapabilities(capabilities: ClientCapabilities): void {
    if (capabilities.textDocument) delete capabilities.textDocument.diagnostic;
    if (capabilities.workspace) delete capabilities.workspace.diagnostics;
    capabilities.experimental = { ...(capabilities.experimental as object | undefined), iommufdStatus: true };
  },
  initialize: () => undefined,
  getState: (): FeatureState => ({ kind: 'static' }),
  clear: () => undefined,
};

function codeOf(d: vscode.Diagnostic): string | undefined {
  const c = d.code;
  if (c === undefined) return undefined;
  return typeof c === 'object' ? String(c.value) : String(c);
}

export class ServerAnalysis implements LiveAnalysis {
  state: AnalysisState = { phase: 'idle' };
  private readonly emitter = new vscode.EventEmitter<AnalysisState>();
  readonly onDidChangeState = this.emitter.event;
  engineReadyMs?: number;
  private readonly client: Promise<BaseLanguageClient>;
  private readonly running: Promise<void>;
  /** Per document, the input problems already said (a warning each, once). */
  private readonly told = new Map<string, Set<string>>();

  constructor(
    createClient: LanguageClientFactory,
    private readonly deps: {
      log: Log;
      store: FindingStore;
      extensionUri: vscode.Uri;
      outputChannel: vscode.OutputChannel;
      /** The shipped docs' rule headings, read at activation (never rejects). */
      ruleHeadings: Promise<void>;
    },
  ) {
    const started = Date.now();
    // In a task of its own, after activate() returned: evaluating vscode-languageclient's modules is most of
    // what the extension host does for the extension, and one long task holds everything else in the host up.
    this.client = new Promise((resolve) => setTimeout(resolve, 0)).then(() => this.makeClient(createClient));
    this.running = this.client
      .then((client) => client.start())
      .then(
        () => {
          this.engineReadyMs = Date.now() - started;
          deps.log.info(`language server ready in ${this.engineReadyMs} ms`);
        },
        (e: unknown) => {
          deps.log.error('could not start the language server', e);
          this.setState({
            phase: 'error',
            message: `could not start the language server: ${(e as Error)?.message ?? e}`,
          });
          throw e;
        },
      );
    this.running.catch(() => undefined);
  }

  private async makeClient(createClient: LanguageClientFactory): Promise<BaseLanguageClient> {
    const { deps } = this;
    const client = await createClient({
      documentSelector: serverDocumentSelector(),
      outputChannel: deps.outputChannel,
      synchronize: { configurationSection: 'iommufd' },
      middleware: {
        // After the rule headings are read: the first diagnostics can arrive before, and their rule
        // links would open the docs at the top. Chained on one promise, so documents keep their order.
        handleDiagnostics: (uri, diagnostics, next) =>
          void deps.ruleHeadings.then(() => this.shown(uri, diagnostics, next)),
        // The extension's own lenses, hovers and actions read the finding store (VS Code icons, trusted
        // command links, the verified-fix panel); the server's would show each a second time.
        provideHover: () => undefined,
        provideCodeLenses: () => [],
        provideCodeActions: () => [],
      },
    });
    client.registerFeature(clientTweaks);
    client.onNotification(STATUS_NOTIFICATION, (s: AnalysisStatus) => this.setState(s));
    client.onDidChangeState((e) => {
      if (e.newState === STOPPED) {
        deps.log.warn('the language server stopped');
        this.setState({ phase: 'error', message: 'the language server stopped: see the output log' });
      } else if (e.newState === RUNNING && e.oldState !== RUNNING && this.engineReadyMs !== undefined) {
        deps.log.info('the language server is running again; the open C documents were sent to it again');
      }
    });
    return client;
  }

  private setState(state: AnalysisState): void {
    this.state = state;
    this.emitter.fire(state);
  }

  get readingContext(): boolean {
    return this.state.phase === 'reading';
  }

  /**
   * A document's diagnostics as the server pushed them: findings go to the
   * store (with the rule link pointing into the shipped docs at the rule's
   * heading line), input problems (binary, too large) become one warning each.
   */
  private shown(
    uri: vscode.Uri,
    diagnostics: vscode.Diagnostic[],
    next: (u: vscode.Uri, d: vscode.Diagnostic[]) => void,
  ): void {
    const findings: ShownFinding[] = [];
    const kept: vscode.Diagnostic[] = [];
    const problems: string[] = [];
    for (const d of diagnostics) {
      const code = codeOf(d);
      if (code === 'input') {
        problems.push(d.message.replace(/^iommufd-review: /, ''));
        continue;
      }
      const data = (d as vscode.Diagnostic & { data?: FindingData }).data;
      if (data?.finding) {
        findings.push({ finding: data.finding, line: data.finding.line, column: data.finding.column });
        d.code = { value: data.finding.ruleId, target: ruleDocsUri(this.deps.extensionUri, data.finding.ruleId) };
      }
      kept.push(d);
    }
    this.tell(uri, problems);
    next(uri, kept);
    this.deps.store.set(uri, findings);
  }

  private tell(uri: vscode.Uri, problems: string[]): void {
    const key = uri.toString();
    if (problems.length === 0) {
      this.told.delete(key);
      return;
    }
    const said = this.told.get(key) ?? new Set<string>();
    this.told.set(key, said);
    for (const p of problems) {
      if (said.has(p)) continue;
      said.add(p);
      this.deps.log.warn(`${uri.scheme === 'file' ? uri.fsPath : key}: ${p}`);
      void vscode.window.showWarningMessage(`iommufd: ${p}.`);
    }
  }

  private async request<T>(method: string, params: unknown): Promise<T> {
    await this.running;
    return (await this.client).sendRequest<T>(method, params);
  }

  async settled(): Promise<void> {
    await this.request(SETTLED_REQUEST, {});
  }

  reanalyze(): void {
    this.request(SETTLED_REQUEST, { reanalyze: true }).catch((e) => this.deps.log.error('reanalysis failed', e));
  }

  async fileModel(file: string): Promise<FileModel | undefined> {
    return (await this.request<FileModelAnswer>(FILE_MODEL_REQUEST, { file })) ?? undefined;
  }

  async lockGraph(): Promise<LockGraph | undefined> {
    if (this.state.phase === 'idle') return undefined;
    return { edges: (await this.request<LockGraphAnswer>(LOCK_GRAPH_REQUEST, {})).edges };
  }

  dispose(): void {
    this.emitter.dispose();
    this.client.then((client) => client.dispose(2000)).catch(() => undefined);
  }
}
