/**
 * Fresh in-thread engines for patch reviews and the SARIF export
 * (`sessionFactory`, both hosts), and, in the browser host only, the editor's
 * live engine: which documents it holds (open C buffers with their live
 * text, plus bounded context read through workspace.fs), when it is created
 * (lazily, on the first C file), and the latest analysis result. Node hosts
 * analyse the open C documents in the language server instead
 * (server-analysis.ts).
 */
import * as vscode from 'vscode';
import type { CParser } from '../../engine/parse/syntax';
import type { ReviewConfig } from '../../engine/knowledge/types';
import { parseConfig } from '../../engine/knowledge/config';
import type { AnalysisResult } from '../../engine/types';
import { toReplacements, type OffsetChange } from '../../engine/editor/replacements';
import { isCFile, selectContextFiles, KERNEL_CONTEXT_DIRS } from '../../engine/editor/context-files';
import { inThreadLiveEngine, type EngineApi, type LiveEngine } from './engine-api';
import type { AnalysisState } from './live-analysis';
import { engineKey } from './paths';
import type { Log } from '../log';
import { readSettings } from '../settings';

export type EngineFactory = (parser: CParser, config: ReviewConfig | undefined) => EngineApi;

/** What a result says in the status (the same fields as the server's `iommufd/status`). */
function summary(result: AnalysisResult): Pick<AnalysisState, 'findings' | 'coverage'> {
  return {
    findings: result.findings.length,
    coverage: { files: result.coverage.files, functions: result.coverage.functions },
  };
}

const decoder = new TextDecoder('utf-8');

/** A buffer the engine should not see, and why (said to the user once). */
export function unanalysableReason(text: string, maxBytes: number): string | undefined {
  if (text.length > maxBytes)
    return `larger than iommufd.analysis.maxFileBytes (${Math.round(text.length / 1024)} KiB > ${Math.round(maxBytes / 1024)} KiB): not analysed`;
  if (text.slice(0, 8192).includes('\u0000')) return 'looks binary (contains NUL bytes): not analysed';
  return undefined;
}

export class AnalysisService implements vscode.Disposable {
  private engine?: Promise<LiveEngine>;
  private parserLoad?: Promise<CParser>;
  /** Documents whose live text the engine holds (engine key → document version seen). */
  private readonly live = new Set<string>();
  /** Context files read from disk (engine keys). */
  private readonly context = new Set<string>();
  private readonly loadedDirs = new Set<string>();
  private kernelTreeLoaded = false;
  /** Progress of the context read in the background, while one runs. */
  private reading?: { done: number; total: number; fromIndex: number };
  private disposed = false;
  private readonly stateEmitter = new vscode.EventEmitter<AnalysisState>();
  readonly onDidChangeState = this.stateEmitter.event;
  state: AnalysisState = { phase: 'idle' };
  /** The last analysis, for the lock graph. */
  lastResult?: AnalysisResult;
  private config?: Promise<ReviewConfig | undefined>;
  /** Set once the parser and engine exist: activation-to-ready, for the status bar and bench. */
  engineReadyMs?: number;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly loadParser: (extensionUri: vscode.Uri) => Promise<CParser>,
    private readonly createEngine: EngineFactory,
    private readonly log: Log,
  ) {}

  private setState(state: AnalysisState): void {
    this.state = state;
    this.stateEmitter.fire(state);
  }

  /** The live engine, created on first use (the wasm is loaded once). */
  getEngine(): Promise<LiveEngine> {
    if (!this.engine) {
      const started = Date.now();
      this.setState({ ...this.state, phase: 'loading', message: 'loading the C parser' });
      this.engine = (async () => {
        const config = await this.readConfigOnce();
        const engine = inThreadLiveEngine(this.createEngine(await this.loadParserOnce(), config));
        this.engineReadyMs = Date.now() - started;
        this.log.info(`engine ready in ${this.engineReadyMs} ms (in the extension host)`);
        return engine;
      })();
      this.engine.catch((e) => {
        this.log.error('could not start the engine', e);
        this.setState({ phase: 'error', message: `could not start the engine: ${(e as Error)?.message ?? e}` });
        this.engine = undefined;
      });
    }
    return this.engine;
  }

  private loadParserOnce(): Promise<CParser> {
    this.parserLoad ??= this.loadParser(this.extensionUri);
    this.parserLoad.catch(() => (this.parserLoad = undefined));
    return this.parserLoad;
  }

  private readConfigOnce(): Promise<ReviewConfig | undefined> {
    this.config ??= this.readConfig();
    return this.config;
  }

  /** The persistent index's notes (an unwritable folder, entries set aside), each said once in the log. */
  private readonly toldNotes = new Set<string>();
  async tellIndexNotes(): Promise<void> {
    if (!this.engine) return;
    try {
      for (const n of await (await this.engine).indexNotes())
        if (!this.toldNotes.has(n)) {
          this.toldNotes.add(n);
          this.log.warn(`index: ${n}`);
        }
    } catch {
      /* the engine stopped: its own error is logged */
    }
  }

  /** Makes fresh in-thread engines on the same parser and configuration (a patch review uses several). */
  async sessionFactory(): Promise<() => EngineApi> {
    const [parser, config] = await Promise.all([this.loadParserOnce(), this.readConfigOnce()]);
    return () => this.createEngine(parser, config);
  }

  /** The configuration file of the first workspace folder; skipped in untrusted workspaces. */
  private async readConfig(): Promise<ReviewConfig | undefined> {
    const folder = vscode.workspace.workspaceFolders?.[0];
    if (!folder || !vscode.workspace.isTrusted) return undefined;
    const name = readSettings(folder.uri).configFile;
    if (!name) return undefined;
    const uri = /^([a-z]+:|\/)/i.test(name)
      ? name.startsWith('/')
        ? folder.uri.with({ path: name })
        : vscode.Uri.parse(name)
      : vscode.Uri.joinPath(folder.uri, name);
    let text: string;
    try {
      text = decoder.decode(await vscode.workspace.fs.readFile(uri));
    } catch {
      return undefined; // no config file: the defaults apply
    }
    const { config, problems } = parseConfig(text, name);
    for (const p of problems) this.log.warn(p);
    if (problems.length > 0)
      void vscode.window
        .showWarningMessage(`iommufd: ${problems.length} problem(s) in ${name}; see the output log.`, 'Show Log')
        .then((a) => a && this.log.show());
    return config;
  }

  /** Gives the engine a document's whole text; returns why it was refused, if it was. */
  async openDocument(doc: vscode.TextDocument): Promise<string | undefined> {
    const engine = await this.getEngine();
    const key = engineKey(doc.uri);
    const text = doc.getText();
    const reason = unanalysableReason(text, readSettings(doc.uri).maxFileBytes);
    if (reason) {
      this.forget(engine, key);
      return reason;
    }
    // held as live before the text arrives: a context read racing with this open then leaves it alone
    this.live.add(key);
    this.context.delete(key);
    try {
      await engine.setFile(key, text);
    } catch (e) {
      this.live.delete(key);
      this.log.error(`could not read ${key}`, e);
      return `could not be parsed: ${(e as Error)?.message ?? e}`;
    }
    return undefined;
  }

  /** Applies the editor's incremental changes; falls back to a full reparse. */
  async changeDocument(doc: vscode.TextDocument, changes: readonly OffsetChange[]): Promise<string | undefined> {
    const engine = await this.getEngine();
    const key = engineKey(doc.uri);
    if (!this.live.has(key) || changes.length === 0) return this.openDocument(doc);
    const reason = unanalysableReason(doc.getText(), readSettings(doc.uri).maxFileBytes);
    if (reason) {
      this.forget(engine, key);
      return reason;
    }
    try {
      await engine.editFile(key, toReplacements(changes));
    } catch (e) {
      this.log.warn(`incremental update of ${key} failed, reparsing it whole: ${(e as Error)?.message ?? e}`);
      await engine.setFile(key, doc.getText());
    }
    return undefined;
  }

  /** The document was closed: keep it as context only when it is on disk and near open files. */
  async closeDocument(doc: vscode.TextDocument): Promise<void> {
    if (!this.engine) return;
    const engine = await this.engine;
    const key = engineKey(doc.uri);
    if (!this.live.delete(key)) return;
    if (
      doc.uri.scheme === 'file' &&
      this.loadedDirs.has(parentPath(key)) &&
      (await this.readInto(engine, doc.uri, key, readSettings(doc.uri).maxFileBytes))
    )
      return;
    this.forget(engine, key);
  }

  private forget(engine: LiveEngine, key: string): void {
    this.live.delete(key);
    this.context.delete(key);
    engine.removeFile(key).catch(() => undefined); // it was never there
  }

  /** Reads a file from disk into the engine as context; false when it was refused, else whether it came from the index. */
  private async readInto(
    engine: LiveEngine,
    uri: vscode.Uri,
    key: string,
    maxBytes: number,
  ): Promise<false | { fromIndex: boolean }> {
    try {
      const stat = await vscode.workspace.fs.stat(uri);
      if (stat.size > maxBytes) return false;
      const text = decoder.decode(await vscode.workspace.fs.readFile(uri));
      if (unanalysableReason(text, maxBytes)) return false;
      // opened in the editor while it was read (a background context read): the live text wins
      if (this.live.has(key)) return false;
      this.context.add(key);
      return await engine.setFile(key, text);
    } catch (e) {
      this.context.delete(key);
      // Deleted or unreadable while we looked: it is simply not context.
      this.log.warn(`context file ${key} skipped: ${(e as Error)?.message ?? e}`);
      return false;
    }
  }

  /**
   * Reads the other C files of `doc`'s directory, and the workspace's kernel
   * tree when there is one, within the configured bounds, as context. Meant to
   * run in the background after the open file's own diagnostics are out: edits
   * and analyses go on meanwhile (the state stays `reading`, with counts and
   * the latest result). Each directory and the tree are read once; later edits
   * on disk arrive through `refreshFromDisk`. Returns how many files were
   * added; when some were, the state says `analysing` and the caller analyses
   * again with them.
   */
  async loadContext(doc: vscode.TextDocument): Promise<number> {
    if (doc.uri.scheme === 'untitled') return 0;
    const engine = await this.getEngine();
    const wanted = await this.contextFilesFor(doc);
    const settings = readSettings(doc.uri);
    const total = wanted.length;
    if (total === 0) return 0;
    const progress = { done: 0, total, fromIndex: 0 };
    this.reading = progress;
    // said as it goes: reading a kernel tree's context takes seconds
    const tell = (): void =>
      this.setState({
        ...this.state,
        phase: 'reading',
        progress: { ...progress },
        message: `reading context files: ${progress.done} of ${total} (${progress.fromIndex} from the index, ${progress.done - progress.fromIndex} parsed)`,
      });
    tell();
    let added = 0;
    try {
      for (const uri of wanted) {
        if (this.disposed) break;
        const k = engineKey(uri);
        if (!this.live.has(k) && !this.context.has(k)) {
          const read = await this.readInto(engine, uri, k, settings.maxFileBytes);
          if (read) added++;
          if (read && read.fromIndex) progress.fromIndex++;
        }
        progress.done++;
        if (progress.done % 5 === 0 || progress.done === total) tell();
      }
    } finally {
      this.reading = undefined;
    }
    if (added > 0)
      this.log.info(
        `read ${added} context file(s) for ${engineKey(doc.uri)}, ${progress.fromIndex} of them from the index`,
      );
    void this.tellIndexNotes();
    this.setState(
      added > 0
        ? {
            ...this.state,
            phase: 'analysing',
            progress: undefined,
            message: `read ${added} context file(s); analysing again with them`,
          }
        : {
            ...this.state,
            phase: this.state.findings !== undefined ? 'ready' : 'idle',
            progress: undefined,
            message: undefined,
          },
    );
    return added;
  }

  /** The context files `doc` still needs (its directory's and the kernel tree's, each listed once). */
  private async contextFilesFor(doc: vscode.TextDocument): Promise<vscode.Uri[]> {
    const settings = readSettings(doc.uri);
    const key = engineKey(doc.uri);
    const dirUri = vscode.Uri.joinPath(doc.uri, '..');
    const dirKey = parentPath(key);
    const wanted: vscode.Uri[] = [];
    if (!this.loadedDirs.has(dirKey)) {
      this.loadedDirs.add(dirKey);
      try {
        const entries = await vscode.workspace.fs.readDirectory(dirUri);
        const files = entries
          .filter(([n, t]) => t === vscode.FileType.File && isCFile(n))
          .map(([n]) => vscode.Uri.joinPath(dirUri, n));
        const byKey = new Map(files.map((u) => [engineKey(u), u] as const));
        for (const k of selectContextFiles(key, [...byKey.keys()], undefined, [], settings)) wanted.push(byKey.get(k)!);
      } catch (e) {
        this.log.warn(`could not list ${dirKey}: ${(e as Error)?.message ?? e}`);
      }
    }
    const folder = vscode.workspace.getWorkspaceFolder(doc.uri);
    if (!this.kernelTreeLoaded && folder && settings.maxWorkspaceFiles > 0 && (await isKernelTree(folder.uri))) {
      this.kernelTreeLoaded = true;
      const found: vscode.Uri[] = [];
      for (const dir of KERNEL_CONTEXT_DIRS) {
        const pattern = dir.endsWith('/') ? `${dir}**/*.{c,h}` : dir;
        found.push(
          ...(await vscode.workspace.findFiles(
            new vscode.RelativePattern(folder, pattern),
            undefined,
            settings.maxWorkspaceFiles,
          )),
        );
        if (found.length >= settings.maxWorkspaceFiles * 2) break;
      }
      const rootKey = engineKey(folder.uri);
      const rel = new Map(found.map((u) => [engineKey(u).slice(rootKey.length + 1), u] as const));
      const picked = selectContextFiles(key, [], rootKey, [...rel.keys()], {
        maxDirectoryFiles: 0,
        maxWorkspaceFiles: settings.maxWorkspaceFiles,
      });
      for (const abs of picked) {
        const u = rel.get(abs.slice(rootKey.length + 1));
        if (u) wanted.push(u);
      }
    }
    return wanted;
  }

  /** A file changed or vanished on disk: update it when the engine holds it as context. */
  async refreshFromDisk(uri: vscode.Uri, deleted: boolean): Promise<boolean> {
    if (!this.engine) return false;
    const engine = await this.engine;
    const key = engineKey(uri);
    if (!this.context.has(key)) return false;
    if (deleted || !(await this.readInto(engine, uri, key, readSettings(uri).maxFileBytes))) this.forget(engine, key);
    return true;
  }

  /**
   * Analyses, reporting findings for `paths` (the open C documents). While
   * context is being read in the background the phase stays `reading` (with
   * its counts) and the result is attached to it.
   */
  async analyze(paths: string[]): Promise<AnalysisResult> {
    const engine = await this.getEngine();
    const files = { open: paths.length, context: this.context.size };
    if (!this.reading)
      this.setState({
        ...this.state,
        phase: 'analysing',
        files,
        message: `analysing ${files.open} open file(s) with ${files.context} context file(s)`,
      });
    // in this thread the analysis runs synchronously: let the status item show the phase before it starts
    await new Promise((resolve) => setTimeout(resolve, 0));
    const started = Date.now();
    try {
      const result = await engine.analyze({ paths, minConfidence: readSettings().minConfidence });
      this.lastResult = result;
      const elapsedMs = Date.now() - started;
      void this.tellIndexNotes();
      this.setState(
        this.reading
          ? { ...this.state, phase: 'reading', ...summary(result), files, elapsedMs }
          : { phase: 'ready', ...summary(result), files, elapsedMs },
      );
      return result;
    } catch (e) {
      this.log.error('analysis failed', e);
      this.setState({ phase: 'error', message: `analysis failed: ${(e as Error)?.message ?? e}` });
      throw e;
    }
  }

  /** True while context files are being read in the background. */
  get readingContext(): boolean {
    return this.reading !== undefined;
  }

  /** Keys of the documents whose live text the engine holds. */
  livePaths(): string[] {
    return [...this.live];
  }

  dispose(): void {
    this.disposed = true;
    this.stateEmitter.dispose();
    void this.engine?.then(
      (e) => e.dispose(),
      () => undefined,
    );
  }
}

function parentPath(key: string): string {
  const i = key.lastIndexOf('/');
  return i <= 0 ? key : key.slice(0, i);
}

/** A kernel tree with iommufd in it: the analysis may read its code as context. */
export async function isKernelTree(folder: vscode.Uri): Promise<boolean> {
  try {
    const stat = await vscode.workspace.fs.stat(vscode.Uri.joinPath(folder, 'drivers', 'iommu', 'iommufd'));
    return (stat.type & vscode.FileType.Directory) !== 0;
  } catch {
    return false;
  }
}
