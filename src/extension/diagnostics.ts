/**
 * Live diagnostics on C files with the engine in the extension host (the
 * browser host; Node hosts use the language server, server-analysis.ts): each change event is applied to the engine as
 * an incremental edit (in order, through one queue), analysis runs debounced
 * over all open C documents, and a run superseded by newer typing is dropped.
 * An opened file's own diagnostics come first; its context (sibling files, the
 * kernel tree) is read afterwards in the background, outside that queue, so
 * typing never waits for it, and the analysis runs again once it is in.
 */
import * as vscode from 'vscode';
import { LatestOnly, type RunToken } from '../engine/editor/latest-only';
import type { AnalysisService } from './analysis/analysis-service';
import { engineKey, isUserDocument, uriOfKey } from './analysis/paths';
import type { FindingStore } from './finding-store';
import type { LiveAnalysis } from './analysis/live-analysis';
import type { Log } from './log';
import { readSettings } from './settings';
import { toDiagnostic } from './to-vscode';

/** C and headers (VS Code opens `.h` as cpp), in the user's own documents (see isUserDocument). */
export function isAnalysedDocument(doc: vscode.TextDocument): boolean {
  return (doc.languageId === 'c' || doc.languageId === 'cpp') && isUserDocument(doc.uri);
}

export interface DiagnosticsDeps {
  analysis: AnalysisService;
  store: FindingStore;
  log: Log;
  extensionUri: vscode.Uri;
}

export function registerDiagnostics(context: vscode.ExtensionContext, deps: DiagnosticsDeps): LiveAnalysis {
  const { analysis, store, log, extensionUri } = deps;
  const collection = vscode.languages.createDiagnosticCollection('iommufd');
  const scheduler = new LatestOnly<string>();
  const toldOnce = new Set<string>();
  const needsContext = new Set<string>();
  // Engine mutations must happen in event order: a queue of promises.
  let queue: Promise<unknown> = Promise.resolve();
  let pending = 0;
  let idle: (() => void)[] = [];
  const enqueue = <T>(work: () => Promise<T>): Promise<T | undefined> => {
    pending++;
    const p = queue.then(work).catch((e) => {
      log.error('analysis step failed', e);
      return undefined;
    });
    queue = p.finally(() => {
      pending--;
      if (pending === 0) {
        const waiters = idle;
        idle = [];
        for (const w of waiters) w();
      }
    });
    return p;
  };

  const tellOnce = (doc: vscode.TextDocument, reason: string | undefined): void => {
    const key = doc.uri.toString();
    if (!reason) {
      toldOnce.delete(key);
      return;
    }
    collection.delete(doc.uri);
    store.set(doc.uri, []);
    if (toldOnce.has(key)) return;
    toldOnce.add(key);
    log.warn(`${doc.uri.fsPath || key}: ${reason}`);
    void vscode.window.showWarningMessage(`iommufd: ${vscode.workspace.asRelativePath(doc.uri)} ${reason}.`);
  };

  // Context is read in the background, one document's at a time, after its own diagnostics are out.
  let contextReads: Promise<unknown> = Promise.resolve();
  const readContextLater = (key: string): void => {
    contextReads = contextReads.then(async () => {
      const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === key);
      if (!doc) return;
      try {
        if ((await analysis.loadContext(doc)) > 0) schedule(0);
      } catch (e) {
        log.error(`could not read the context of ${key}`, e);
      }
    });
  };

  const runAnalysis = async (token: RunToken): Promise<void> => {
    const paths = analysis.livePaths();
    const result = await analysis.analyze(paths);
    if (token.superseded()) return;
    const byFile = new Map<string, typeof result.findings>();
    for (const f of result.findings) byFile.set(f.file, [...(byFile.get(f.file) ?? []), f]);
    for (const key of paths) {
      const uri = uriOfKey(key);
      const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
      const findings = byFile.get(key) ?? [];
      collection.set(
        uri,
        findings.map((f) => toDiagnostic(f, extensionUri, doc)),
      );
      store.set(
        uri,
        findings.map((f) => ({ finding: f, line: f.line, column: f.column })),
      );
    }
    for (const p of result.coverage.problems) log.warn(`${p.file}: ${p.message}`);
    // Own-file diagnostics first (whatever context is already held); the rest of the context after them.
    for (const key of [...needsContext]) {
      needsContext.delete(key);
      readContextLater(key);
    }
  };

  const schedule = (delay = readSettings().debounceMs): void => {
    scheduler.request('all', delay, (token) => enqueue(() => runAnalysis(token)).then(() => undefined));
  };

  const open = (doc: vscode.TextDocument): void => {
    if (!isAnalysedDocument(doc)) return;
    needsContext.add(doc.uri.toString());
    void enqueue(async () => tellOnce(doc, await analysis.openDocument(doc)));
    schedule(0);
  };

  context.subscriptions.push(
    collection,
    { dispose: () => scheduler.dispose() },
    vscode.workspace.onDidOpenTextDocument(open),
    vscode.workspace.onDidChangeTextDocument((e) => {
      if (!isAnalysedDocument(e.document) || e.contentChanges.length === 0) return;
      const changes = e.contentChanges.map((c) => ({
        rangeOffset: c.rangeOffset,
        rangeLength: c.rangeLength,
        text: c.text,
      }));
      const doc = e.document;
      void enqueue(async () => tellOnce(doc, await analysis.changeDocument(doc, changes)));
      schedule();
    }),
    vscode.workspace.onDidCloseTextDocument((doc) => {
      if (!isAnalysedDocument(doc)) return;
      collection.delete(doc.uri);
      store.set(doc.uri, []);
      toldOnce.delete(doc.uri.toString());
      void enqueue(() => analysis.closeDocument(doc));
      schedule();
    }),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('iommufd')) schedule(0);
    }),
  );

  // Context files changed on disk (a branch switch, a `git am`): the analysis follows.
  const watcher = vscode.workspace.createFileSystemWatcher('**/*.{c,h}');
  const onDisk = (deleted: boolean) => (uri: vscode.Uri) => {
    void enqueue(async () => {
      if (await analysis.refreshFromDisk(uri, deleted)) schedule();
    });
  };
  context.subscriptions.push(
    watcher,
    watcher.onDidChange(onDisk(false)),
    watcher.onDidCreate(onDisk(false)),
    watcher.onDidDelete(onDisk(true)),
  );

  for (const doc of vscode.workspace.textDocuments) open(doc);
  log.info(
    `diagnostics: watching ${vscode.workspace.textDocuments.filter(isAnalysedDocument).length} open C document(s)`,
  );

  return {
    get state() {
      return analysis.state;
    },
    onDidChangeState: analysis.onDidChangeState,
    get engineReadyMs() {
      return analysis.engineReadyMs;
    },
    get readingContext() {
      return analysis.readingContext;
    },
    settled: () => (pending === 0 ? Promise.resolve() : new Promise((resolve) => idle.push(resolve))),
    reanalyze: () => {
      for (const doc of vscode.workspace.textDocuments)
        if (isAnalysedDocument(doc) && !analysis.livePaths().includes(engineKey(doc.uri))) open(doc);
      schedule(0);
    },
    fileModel: async (file) => (await analysis.getEngine()).fileModel(file),
    lockGraph: async () => {
      const paths = analysis.livePaths();
      return (analysis.lastResult ?? (paths.length ? await analysis.analyze(paths) : undefined))?.lockGraph;
    },
    dispose: () => undefined,
  };
}
