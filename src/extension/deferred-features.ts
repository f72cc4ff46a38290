/**
 * features.ts, loaded on first use. Until then activation holds a stand-in
 * for each of its entry points: every contributed command (it loads the
 * features, then runs the handler they registered), the simulator panel's
 * serializer, and the Review Sessions view (its first rows load them). What
 * is drawn without being asked for loads them at once: a patch mail that is
 * open or opened, and a workspace with saved review sessions.
 */
import * as vscode from 'vscode';
import { SESSION_DIR } from '../review/store';
import type { FeatureDeps, Features } from './features';
import type { Log } from './log';
import { isPatchDocument } from './patch-document';
import type { ReviewNode } from './review/tree';
import { REVIEW_VIEW_ID, SIMULATOR_VIEW_TYPE } from './view-ids';

/** Registers a command's handler: what the features use instead of vscode.commands.registerCommand. */
export type CommandRegistrar = (id: string, handler: (...args: never[]) => unknown) => vscode.Disposable;

/** The features module as its bundle exports it. */
export interface FeaturesModule {
  registerFeatures(deps: FeatureDeps): Features;
}

type Handler = (...args: unknown[]) => unknown;

/** The Review Sessions view's rows, from the review feature once loaded; asking for them loads it. */
class DeferredTree implements vscode.TreeDataProvider<ReviewNode>, vscode.Disposable {
  private real?: vscode.TreeDataProvider<ReviewNode>;
  private readonly emitter = new vscode.EventEmitter<ReviewNode | ReviewNode[] | undefined | null | void>();
  readonly onDidChangeTreeData = this.emitter.event;

  constructor(private readonly load: () => void) {}

  attach(real: vscode.TreeDataProvider<ReviewNode>): vscode.Disposable {
    this.real = real;
    const sub = real.onDidChangeTreeData?.((e) => this.emitter.fire(e));
    this.emitter.fire(undefined);
    return new vscode.Disposable(() => {
      sub?.dispose();
      if (this.real === real) this.real = undefined;
    });
  }

  getChildren(node?: ReviewNode): vscode.ProviderResult<ReviewNode[]> {
    if (!this.real) this.load();
    return this.real ? this.real.getChildren(node) : [];
  }

  getTreeItem(node: ReviewNode): vscode.TreeItem | Thenable<vscode.TreeItem> {
    return this.real ? this.real.getTreeItem(node) : new vscode.TreeItem('');
  }

  dispose(): void {
    this.emitter.dispose();
  }
}

export class DeferredFeatures {
  private features?: Features;
  private failure?: unknown;
  private readonly handlers = new Map<string, Handler>();
  private readonly deferred: ReadonlySet<string>;
  private readonly tree: DeferredTree;

  constructor(
    private readonly load: () => FeaturesModule,
    private readonly deps: Omit<FeatureDeps, 'registerCommand' | 'showReviewTree'> & { log: Log },
  ) {
    const { context } = deps;
    const contributes = (context.extension.packageJSON as { contributes?: { commands?: { command: string }[] } })
      .contributes;
    this.deferred = new Set((contributes?.commands ?? []).map((c) => c.command));
    for (const id of this.deferred)
      context.subscriptions.push(vscode.commands.registerCommand(id, (...args: unknown[]) => this.run(id, args)));
    this.tree = new DeferredTree(() => this.loadQuietly('the Review Sessions view'));
    context.subscriptions.push(
      this.tree,
      vscode.window.registerWebviewPanelSerializer(SIMULATOR_VIEW_TYPE, {
        deserializeWebviewPanel: async (panel, state) => this.get().panel.restore(panel, state),
      }),
      vscode.workspace.onDidOpenTextDocument((doc) => {
        if (isPatchDocument(doc)) this.loadQuietly('a patch mail');
      }),
    );
    const folder = vscode.workspace.workspaceFolders?.[0];
    if (folder) {
      // review sessions are saved in the folder (review/register.ts answers every command with why without one)
      context.subscriptions.push(
        vscode.window.createTreeView(REVIEW_VIEW_ID, { treeDataProvider: this.tree, showCollapseAll: true }),
      );
      void vscode.commands.executeCommand('setContext', 'iommufd.reviewAvailable', true);
      vscode.workspace.fs.stat(vscode.Uri.joinPath(folder.uri, ...SESSION_DIR.split('/'))).then(
        () => this.loadQuietly('saved review sessions'),
        () => undefined,
      );
    }
    if (vscode.workspace.textDocuments.some(isPatchDocument)) this.loadQuietly('a patch mail');
  }

  /** The features, loaded and registered on the first call. */
  get(): Features {
    if (this.features) return this.features;
    if (this.failure !== undefined) throw this.failure;
    const started = Date.now();
    try {
      this.features = this.load().registerFeatures({
        ...this.deps,
        registerCommand: this.register,
        showReviewTree: (tree) => this.tree.attach(tree),
      });
    } catch (e) {
      // not again: a half-registered feature must not register its listeners twice
      this.failure = e;
      throw e;
    }
    this.deps.log.info(`patch, simulator and review features loaded in ${Date.now() - started} ms`);
    return this.features;
  }

  private loadQuietly(why: string): void {
    try {
      this.get();
    } catch (e) {
      this.deps.log.error(`could not load the features (for ${why})`, e);
    }
  }

  private readonly register: CommandRegistrar = (id, handler) => {
    if (!this.deferred.has(id)) return vscode.commands.registerCommand(id, handler);
    this.handlers.set(id, handler as Handler);
    return new vscode.Disposable(() => {
      if (this.handlers.get(id) === handler) this.handlers.delete(id);
    });
  };

  private run(id: string, args: unknown[]): unknown {
    this.get();
    const handler = this.handlers.get(id);
    if (!handler) throw new Error(`iommufd: the command ${id} is not available`);
    return handler(...args);
  }
}
