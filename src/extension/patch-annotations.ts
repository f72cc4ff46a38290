/**
 * Findings on a patch mail's own lines. The series in the document is parsed
 * and reviewed against the exact pre-image when the workspace is a git
 * checkout (the diffs' index blobs, else the series' base-commit; desktop
 * only, git is spawned from Node), else against the workspace when it is a
 * kernel tree, else from the hunks alone, with confidence capped and said so.
 * Each finding becomes a diagnostic on its patch line, saying which pre-image
 * it was computed on, whose related locations open read-only documents of
 * that image; a decoration tells introduced, fixed and unchanged apart, and a
 * status item names the pre-image of the patch mail in front.
 */
import * as vscode from 'vscode';
import { LatestOnly } from '../engine/editor/latest-only';
import { parseSeries } from '../patch/series';
import { reviewSeriesWith } from '../patch/review';
import type { FindingStatus, PatchFinding, SeriesReview } from '../patch/types';
import { isKernelTree, type SessionEngines } from './analysis/session-engines';
import type { EngineApi } from './analysis/engine-api';
import { problemSummary } from './analysis/patch-problems';
import { inputProblems } from '../patch/problems';
import { reviewSession } from './analysis/review-session';
import { isPatchDocument, PATCH_LANGUAGE } from './patch-document';
import type { FunctionModel } from '../engine/model/types';
import type { FindingStore, ShownFinding } from './finding-store';
import type { Log } from './log';
import type { GitObjects } from '../patch/preimage';
import type { ImageText } from '../patch/image-texts';
import type { PatchReview, PreimageKind } from '../patch/types';
import { registerImageDocuments } from './image-documents';
import { readSettings } from './settings';
import { toDiagnostic } from './to-vscode';
import { workspaceTree } from './workspace-tree';

export interface PatchAnnotationsDeps {
  analysis: SessionEngines;
  store: FindingStore;
  log: Log;
  extensionUri: vscode.Uri;
  /**
   * Opens the git repository containing a folder (desktop and remote hosts:
   * git is spawned from Node); absent in the browser, where the workspace
   * files are the pre-image as before.
   */
  openGit?: (folder: string) => Promise<(GitObjects & { dispose(): void }) | undefined>;
}

/** How a diagnostic and the status item name a pre-image. */
export const PREIMAGE_LABEL: Record<PreimageKind, string> = {
  blob: 'pre-image: the index blobs in the git repository',
  'base-commit': 'pre-image: the series base-commit in the git repository',
  tree: 'pre-image: the workspace files',
  hunks: 'pre-image: none, the hunks alone',
};

function preimageSummary(patches: readonly PatchReview[]): string {
  const kinds = [...new Set(patches.filter((p) => p.preimageFiles.length > 0).map((p) => p.preimage))];
  return kinds.length === 0 ? 'none' : kinds.join(' + ');
}

export interface PatchAnnotationsApi {
  /** Reviews a patch document now (not debounced) and shows the result. */
  review(doc: vscode.TextDocument): Promise<SeriesReview | undefined>;
  /** The last review of a document, by URI string. */
  lastReview(uri: vscode.Uri): SeriesReview | undefined;
  /** A function as the latest review saw it (post-images of the patches), for from-source simulation. */
  functionModel(file: string, fn: string): FunctionModel | undefined;
}

const STATUS_LABEL: Record<FindingStatus, string> = {
  introduced: 'introduced by this patch',
  fixed: 'fixed by this patch',
  unchanged: 'already there before this patch',
};

function decorationTypes(): Record<FindingStatus, vscode.TextEditorDecorationType> {
  const make = (color: string, label: string, border: string): vscode.TextEditorDecorationType =>
    vscode.window.createTextEditorDecorationType({
      isWholeLine: true,
      borderWidth: '0 0 0 3px',
      borderStyle: 'solid',
      borderColor: new vscode.ThemeColor(border),
      overviewRulerColor: new vscode.ThemeColor(border),
      overviewRulerLane: vscode.OverviewRulerLane.Right,
      after: { contentText: `  ◀ ${label}`, color: new vscode.ThemeColor(color), fontStyle: 'italic' },
    });
  return {
    introduced: make('editorError.foreground', 'iommufd: introduced', 'editorError.foreground'),
    fixed: make('testing.iconPassed', 'iommufd: fixed', 'testing.iconPassed'),
    unchanged: make('editorInfo.foreground', 'iommufd: unchanged', 'editorInfo.foreground'),
  };
}

export function registerPatchAnnotations(
  context: vscode.ExtensionContext,
  deps: PatchAnnotationsDeps,
): PatchAnnotationsApi {
  const { analysis, store, log, extensionUri } = deps;
  const images = registerImageDocuments(context);
  // One repository per workspace folder, opened once (its cat-file process is reused by every review).
  const repos = new Map<string, Promise<(GitObjects & { dispose(): void }) | undefined>>();
  const repoOf = (folder: vscode.WorkspaceFolder): Promise<(GitObjects & { dispose(): void }) | undefined> => {
    if (!deps.openGit || folder.uri.scheme !== 'file') return Promise.resolve(undefined);
    let r = repos.get(folder.uri.toString());
    if (!r) {
      r = deps.openGit(folder.uri.fsPath).catch(() => undefined);
      repos.set(folder.uri.toString(), r);
    }
    return r;
  };
  const status = vscode.window.createStatusBarItem('iommufd.patchPreimage', vscode.StatusBarAlignment.Left, 9);
  status.name = 'iommufd patch pre-image';
  status.command = 'iommufd.showLog';
  const showStatus = (editor: vscode.TextEditor | undefined): void => {
    const r = editor && isPatchDocument(editor.document) ? reviews.get(editor.document.uri.toString()) : undefined;
    if (!r) {
      status.hide();
      return;
    }
    status.text = `$(git-commit) iommufd: pre-image ${preimageSummary(r.patches)}`;
    status.tooltip = r.patches
      .map(
        (p) =>
          `[${p.index}/${p.total}] ${p.title}: ${PREIMAGE_LABEL[p.preimage]}${p.preimageFiles.length > 1 && new Set(p.preimageFiles.map((f) => f.source)).size > 1 ? ` (${p.preimageFiles.map((f) => `${f.file}: ${f.source}`).join(', ')})` : ''}`,
      )
      .join('\n');
    status.show();
  };
  const collection = vscode.languages.createDiagnosticCollection('iommufd-patch');
  const decorations = decorationTypes();
  const scheduler = new LatestOnly<string>();
  const reviews = new Map<string, SeriesReview>();
  // Documents whose input problems the user was told about (once per opening).
  const told = new Set<string>();
  // The engines of each document's last review are kept (their dispose is
  // deferred) so a finding on a patch line can be simulated from the
  // post-image the review analysed.
  const sessions = new Map<string, EngineApi[]>();
  const dropSessions = (key: string): void => {
    for (const e of sessions.get(key) ?? []) e.dispose();
    sessions.delete(key);
  };

  const decorate = (editor: vscode.TextEditor): void => {
    const shown = store.get(editor.document.uri);
    for (const status of Object.keys(decorations) as FindingStatus[]) {
      const ranges = shown
        .filter((s) => (s.finding as PatchFinding).status === status)
        .map((s) => {
          const l = Math.min(s.line - 1, editor.document.lineCount - 1);
          return { range: new vscode.Range(l, 0, l, 0), hoverMessage: `${s.finding.ruleId}: ${STATUS_LABEL[status]}` };
        });
      editor.setDecorations(decorations[status], ranges);
    }
  };

  const review = async (doc: vscode.TextDocument): Promise<SeriesReview | undefined> => {
    const started = Date.now();
    const name = doc.uri.path.split('/').pop() || 'patch';
    const folder = vscode.workspace.getWorkspaceFolder(doc.uri) ?? vscode.workspace.workspaceFolders?.[0];
    const kernel = folder ? await isKernelTree(folder.uri) : false;
    const git = folder ? await repoOf(folder) : undefined;
    // A git checkout that is not a kernel tree still may hold the series' blobs or base-commit; its files are then the fallback too.
    const base = folder && (kernel || git) ? workspaceTree(folder.uri) : undefined;
    const produced: { patch: number; texts: ImageText[] }[] = [];
    let result: SeriesReview;
    try {
      const series = await parseSeries(doc.getText(), name);
      const make = await analysis.sessionFactory();
      const kept: EngineApi[] = [];
      result = await reviewSeriesWith(series, {
        session: () => {
          const e = make();
          kept.push(e);
          return reviewSession(e);
        },
        base,
        git,
        gitAuto: true,
        foundAround: !kernel,
        onImages: (patch, texts) => produced.push({ patch, texts }),
        // Applied after classification, so a finding that only loses confidence is not "fixed".
        minConfidence: readSettings(doc.uri).minConfidence,
      });
      dropSessions(doc.uri.toString());
      sessions.set(doc.uri.toString(), kept);
    } catch (e) {
      log.error(`could not review ${name}`, e);
      if (!told.has(doc.uri.toString())) {
        told.add(doc.uri.toString());
        void vscode.window.showWarningMessage(`iommufd: could not review ${name}: ${(e as Error)?.message ?? e}`);
      }
      return undefined;
    }
    reviews.set(doc.uri.toString(), result);
    images.drop(doc.uri);
    for (const p of produced) images.set(doc.uri, p.patch, p.texts);
    const shown: ShownFinding[] = [];
    const diagnostics: vscode.Diagnostic[] = [];
    for (const pr of [...result.series.problems, ...result.series.notes])
      log.info(`${pr.source}${pr.line ? `:${pr.line}` : ''}: ${pr.message}`);
    for (const p of result.patches) {
      for (const f of p.findings) {
        // A finding the patch does not show sits on the patch's first line, so it is still seen.
        const line = f.patchLine ?? 1;
        const partial = f.context === 'partial' ? ' (patch-only analysis: partial context, confidence capped)' : '';
        const d = toDiagnostic(f, extensionUri, doc, {
          line,
          column: 1,
          suffix: ` — ${STATUS_LABEL[f.status]} [${p.index}/${p.total}]${partial}; ${PREIMAGE_LABEL[p.preimage]}`,
        });
        d.relatedInformation = relatedInImages(doc.uri, p, f, folder);
        if (f.status === 'fixed') d.severity = vscode.DiagnosticSeverity.Information;
        if (f.status === 'unchanged') d.severity = vscode.DiagnosticSeverity.Hint;
        d.tags = f.status === 'fixed' ? [vscode.DiagnosticTag.Unnecessary] : undefined;
        diagnostics.push(d);
        shown.push({ finding: f, line, column: 1 });
      }
      for (const pr of [...p.problems, ...p.notes])
        log.info(`${pr.source}${pr.line ? `:${pr.line}` : ''}: ${pr.message}`);
    }
    const problems = inputProblems(result);
    // Said once per opening: the review runs again on every edit of the document.
    const message =
      result.patches.length === 0
        ? `iommufd: ${name} has no reviewable patch: ${problems[0]?.message ?? 'no patch found in it'}`
        : problemSummary(name, problems);
    if (message && !told.has(doc.uri.toString())) {
      told.add(doc.uri.toString());
      log.warn(message);
      void vscode.window.showWarningMessage(message, 'Show Log').then((a) => a && log.show());
    }
    collection.set(doc.uri, diagnostics);
    store.set(doc.uri, shown);
    for (const editor of vscode.window.visibleTextEditors) if (editor.document === doc) decorate(editor);
    log.info(
      `reviewed ${name}: ${result.patches.length} patch(es), ${shown.length} finding(s), pre-image ${preimageSummary(result.patches)}, ${Date.now() - started} ms`,
    );
    if (vscode.window.activeTextEditor?.document === doc) showStatus(vscode.window.activeTextEditor);
    return result;
  };

  /**
   * A patch finding's witness in the images it was computed on: first the
   * finding itself, then each related location; a file the patch does not
   * touch is the workspace's own.
   */
  const relatedInImages = (
    doc: vscode.Uri,
    p: PatchReview,
    f: PatchFinding,
    folder: vscode.WorkspaceFolder | undefined,
  ): vscode.DiagnosticRelatedInformation[] => {
    const side = f.status === 'fixed' ? 'pre' : 'post';
    const at = (file: string, line: number): vscode.Location | undefined => {
      const uri =
        images.uri(doc, p.index, side, file) ??
        (folder ? vscode.Uri.joinPath(folder.uri, ...file.split('/')) : undefined);
      return uri ? new vscode.Location(uri, new vscode.Position(Math.max(0, line - 1), 0)) : undefined;
    };
    const out: vscode.DiagnosticRelatedInformation[] = [];
    const self = at(f.imageFile, f.imageLine);
    if (self)
      out.push(
        new vscode.DiagnosticRelatedInformation(
          self,
          `${f.function}(): the finding in the ${side === 'pre' ? 'pre-image' : 'post-image'} of patch ${p.index}/${p.total} (${PREIMAGE_LABEL[p.preimage]})`,
        ),
      );
    for (const r of f.related) {
      const loc = at(r.file, r.line);
      if (loc) out.push(new vscode.DiagnosticRelatedInformation(loc, r.message));
    }
    return out;
  };

  const schedule = (doc: vscode.TextDocument, delay: number): void => {
    if (!isPatchDocument(doc)) return;
    scheduler.request(doc.uri.toString(), delay, async (token) => {
      if (!token.superseded()) await review(doc);
    });
  };

  context.subscriptions.push(
    status,
    vscode.window.onDidChangeActiveTextEditor(showStatus),
    { dispose: () => void Promise.all([...repos.values()]).then((list) => list.forEach((r) => r?.dispose())) },
    collection,
    ...Object.values(decorations),
    { dispose: () => scheduler.dispose() },
    vscode.workspace.onDidOpenTextDocument((d) => schedule(d, 0)),
    vscode.workspace.onDidChangeTextDocument((e) => schedule(e.document, 500)),
    vscode.workspace.onDidCloseTextDocument((d) => {
      if (d.languageId !== PATCH_LANGUAGE) return;
      scheduler.cancel(d.uri.toString());
      collection.delete(d.uri);
      store.set(d.uri, []);
      reviews.delete(d.uri.toString());
      images.drop(d.uri);
      told.delete(d.uri.toString());
      dropSessions(d.uri.toString());
    }),
    { dispose: () => [...sessions.keys()].forEach(dropSessions) },
    vscode.window.onDidChangeVisibleTextEditors((editors) =>
      editors.filter((e) => isPatchDocument(e.document)).forEach(decorate),
    ),
  );
  for (const doc of vscode.workspace.textDocuments) schedule(doc, 0);
  return {
    review,
    lastReview: (uri) => reviews.get(uri.toString()),
    functionModel(file, fn) {
      for (const list of sessions.values()) {
        for (const e of [...list].reverse()) {
          const f = e.fileModel(file)?.functions.find((x) => x.name === fn);
          if (f) return f;
        }
      }
      return undefined;
    },
  };
}
