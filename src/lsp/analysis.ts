/**
 * The server's analysis state, Node-free: one engine holding the open C
 * documents (live text, edited incrementally) plus bounded context read
 * through the host (the open file's directory; in a kernel tree, the same
 * folders the extension reads, best first), and per patch document the last
 * series review with the engines of its post-images (so a finding on a patch
 * line can be simulated from the code the review analysed).
 */
import { Engine } from '../engine/engine';
import { KERNEL_CONTEXT_DIRS, selectContextFiles } from '../engine/editor/context-files';
import { toReplacements, type OffsetChange } from '../engine/editor/replacements';
import type { CParser } from '../engine/parse/syntax';
import type { ReviewConfig } from '../engine/knowledge/types';
import type { AnalysisResult, Finding, LockGraph } from '../engine/types';
import {
  inputProblems,
  parseSeries,
  reviewSeriesWith,
  sessionOf,
  type PatchFinding,
  type SeriesReview,
} from '../patch/index';
import { simulateFinding } from '../sim/finding';
import type { FileModel } from '../engine/model/types';
import type { FactsStore } from '../engine/index/facts';
import type { LoadedConfiguration, ServerHost } from './host';
import type { ServerSettings } from './settings';
import { DEFAULT_SETTINGS } from './settings';
import type { Placed } from './to-lsp';
import { isRememberedOwn, rememberedOwnKey, type RememberedOwn } from './remembered-own';
import { simulateArgs, type SimulationAnswer } from './protocol';
import { baseName, keyOfUri } from './uris';

export interface Logger {
  info(message: string): void;
  warn(message: string): void;
}

/** A problem with the input, said in words: on its 1-based line, else the first. */
export interface Note {
  message: string;
  line?: number;
}

/** What one analysis shows in one document. */
export interface DocumentFindings {
  placed: Placed[];
  /** Whole-document notes (not analysed and why, partly reviewed). */
  notes: Note[];
  /** For a patch mail: the tree it was reviewed against, if any. */
  root?: string;
}

/** Context files read so far, of how many, and how many of them came from the persistent index. */
export interface ContextProgress {
  done: number;
  total: number;
  fromIndex: number;
}

function parentOf(key: string): string {
  const i = key.lastIndexOf('/');
  return i <= 0 ? key : key.slice(0, i);
}

export class Analysis {
  settings: ServerSettings = { ...DEFAULT_SETTINGS };
  /** Workspace folders (engine keys), first is the root configuration is read from. */
  roots: string[] = [];
  private parser?: Promise<CParser>;
  private engine?: Engine;
  private configuration?: LoadedConfiguration;
  /** Open C documents the engine holds, by key. */
  private readonly live = new Set<string>();
  private readonly context = new Set<string>();
  private readonly loadedDirs = new Set<string>();
  private readonly loadedTrees = new Set<string>();
  /** Per open patch document (by URI): its last review and the engines of its images. */
  private readonly reviews = new Map<string, { review: SeriesReview; engines: Engine[] }>();
  lastResult?: AnalysisResult;
  /**
   * Documents being typed into (edited since their last whole text): every
   * keystroke is a new text, so storing them would write an index entry per
   * keystroke and grow the index without end. They are modelled as usual,
   * never stored; a whole text set again (reopened, read from disk) is.
   */
  private readonly typing = new Set<string>();
  private readonly facts?: FactsStore;
  /** The one open document whose own answer the next analysis may remember, under this key. */
  private ownCandidate?: { path: string; key: string };
  /** The open document's own answer came from the index and nothing changed since (see takeAnswered). */
  private answered = false;

  constructor(
    private readonly host: ServerHost,
    private readonly log: Logger,
  ) {
    const store = host.facts?.store;
    if (store)
      this.facts = {
        // An open document is parsed and modelled here, never taken from the index: a model from the index
        // comes without a tree, and the first keystroke would then parse and model the whole file and
        // re-check all of it. (Its own answer still comes from the index at the open: rememberedOwn.)
        get: (p, text) => (this.typing.has(p) || this.live.has(p) ? undefined : store.get(p, text)),
        put: (p, text, f) => {
          if (!this.typing.has(p)) store.put(p, text, f);
        },
        digest: (text) => store.digest(text),
      };
  }

  private getParser(): Promise<CParser> {
    if (!this.parser) {
      this.parser = this.host.createParser();
      this.parser.catch(() => (this.parser = undefined));
    }
    return this.parser;
  }

  /**
   * Starts loading the C parser (compiling the grammar's wasm) without waiting
   * for it. Called once the client is initialised, so the first opened
   * document does not wait for the load on top of the server's own start; a
   * failed load is said when a document needs the parser.
   */
  warmUp(): void {
    this.getParser().catch(() => undefined);
  }

  /** The configuration problems the user must be told about, once per load. */
  configProblems(): string[] {
    return this.configuration?.problems ?? [];
  }

  private config(): ReviewConfig | undefined {
    if (!this.configuration) {
      this.configuration = this.host.loadConfig(this.settings.configFile, this.roots, [...this.live]);
      if (this.configuration.file) this.log.info(`configuration: ${this.configuration.file}`);
      for (const p of this.configuration.problems) this.log.warn(p);
    }
    return this.configuration.problems.length > 0 ? undefined : this.configuration.config;
  }

  private async getEngine(): Promise<Engine> {
    const parser = await this.getParser();
    if (!this.engine)
      this.engine = new Engine({
        parser,
        config: this.config(),
        maxFileBytes: this.settings.maxFileBytes,
        facts: this.facts,
      });
    return this.engine;
  }

  /**
   * Settings or the configuration file changed: the next analysis starts a
   * fresh engine (knowledge and size limits are fixed per engine) with the
   * open documents and rereads context.
   */
  reset(): void {
    this.engine?.dispose();
    this.engine = undefined;
    this.configuration = undefined;
    this.answered = false;
    this.ownCandidate = undefined;
    this.context.clear();
    this.loadedDirs.clear();
    this.loadedTrees.clear();
  }

  /** Gives the engine an open document's text (again after a reset). */
  async setDocument(key: string, text: string): Promise<void> {
    this.typing.delete(key);
    this.live.add(key);
    this.context.delete(key);
    this.answered = false;
    this.ownCandidate = this.onlyDocument(key) ? { path: key, key: this.ownKey(key, text) } : undefined;
    (await this.getEngine()).setFile(key, text);
  }

  /** Whether an own answer for `key` could be remembered now (an index that keeps answers; `key` alone held). */
  mayRemember(key: string): boolean {
    return this.onlyDocument(key);
  }

  /** `key` is the one document held: no other open, no context (the state an own answer is computed in). */
  private onlyDocument(key: string): boolean {
    return (
      this.host.facts?.getResult !== undefined && this.context.size === 0 && [...this.live].every((k) => k === key)
    );
  }

  private ownKey(key: string, text: string): string {
    // the configuration is looked up from the open files: `key` is among them by now
    return rememberedOwnKey((t) => this.host.facts!.store.digest(t), {
      path: key,
      text,
      settings: this.settings,
      config: this.config(),
    });
  }

  /**
   * The own answer the index remembers for `key` with exactly `text`, when it
   * would be the one document held; read without the parser. Call before
   * setDocument, then markAnswered once it is shown.
   */
  rememberedOwn(key: string, text: string): RememberedOwn | undefined {
    if (!this.onlyDocument(key)) return undefined;
    this.live.add(key);
    const value = this.host.facts!.getResult!(this.ownKey(key, text));
    return isRememberedOwn(value) ? value : undefined;
  }

  /** The remembered own answer of the document just set is what the client shows. */
  markAnswered(): void {
    this.answered = true;
  }

  /**
   * Whether the open document's own answer came from the index and nothing
   * changed since (an own-file analysis now would repeat it); asked once.
   */
  takeAnswered(): boolean {
    const was = this.answered;
    this.answered = false;
    return was;
  }

  /** Applies a didChange's edits to the engine's tree; a full reparse when that fails. */
  async editDocument(key: string, edits: readonly OffsetChange[], text: string): Promise<void> {
    const engine = await this.getEngine();
    if (!this.live.has(key) || edits.length === 0) return this.setDocument(key, text);
    this.typing.add(key);
    this.answered = false;
    this.ownCandidate = undefined;
    try {
      engine.editFile(key, toReplacements(edits));
    } catch (e) {
      this.log.warn(`incremental update of ${key} failed, reparsing it whole: ${(e as Error).message}`);
      engine.setFile(key, text);
    }
  }

  /** The document was closed: it stays as context when it is a file of a directory read as context. */
  async closeDocument(key: string): Promise<void> {
    if (!this.live.delete(key) || !this.engine) return;
    this.answered = false;
    this.ownCandidate = undefined;
    if (this.loadedDirs.has(parentOf(key)) && (await this.readContext(this.engine, key)) !== false) return;
    this.engine.removeFile(key);
  }

  /** Reads a file from disk as context: false when it could not be, else whether it was parsed or came from the index. */
  private async readContext(engine: Engine, key: string): Promise<false | 'parsed' | 'index'> {
    const text = await this.host.readText(key);
    if (text === undefined || this.live.has(key)) return false;
    const loaded = this.host.facts?.loaded() ?? 0;
    this.typing.delete(key);
    engine.setFile(key, text);
    this.context.add(key);
    return (this.host.facts?.loaded() ?? 0) > loaded ? 'index' : 'parsed';
  }

  /** The persistent index's notes (an unwritable folder, entries set aside), each logged once. */
  private readonly toldNotes = new Set<string>();
  private tellIndexNotes(): void {
    for (const n of this.host.facts?.notes() ?? [])
      if (!this.toldNotes.has(n)) {
        this.toldNotes.add(n);
        this.log.warn(`index: ${n}`);
      }
  }

  /**
   * Reads the context of the open documents not read yet; stops when
   * `superseded()`. The files wanted (each open document's directory and, in
   * a kernel tree, the tree's iommufd-related folders) are listed first, so
   * `progress` can say how many of how many, and how many came from the
   * persistent index. A directory or tree counts as read only once all of its
   * wanted files are in, so a run cut short by newer typing is resumed by the
   * next one (files already in are not read again). Returns how many files
   * were added, or undefined when superseded part way.
   */
  async loadContext(superseded: () => boolean, progress?: (p: ContextProgress) => void): Promise<number | undefined> {
    const engine = await this.getEngine();
    const dirs = new Map<string, string[]>();
    const trees = new Map<string, string[]>();
    for (const key of [...this.live]) {
      if (!this.host.readable(key)) continue; // untitled, or a scheme the host cannot read: no directory to read
      const dir = parentOf(key);
      if (!this.loadedDirs.has(dir) && !dirs.has(dir)) {
        const files = (await this.host.listFiles(dir)).map((n) => `${dir}/${n}`);
        dirs.set(dir, selectContextFiles(key, files, undefined, [], this.settings));
      }
      const root = this.settings.maxWorkspaceFiles > 0 ? await this.host.kernelRoot(key, this.roots) : undefined;
      if (root && !this.loadedTrees.has(root) && !trees.has(root)) {
        const rel = await this.host.listTree(root, KERNEL_CONTEXT_DIRS, this.settings.maxWorkspaceFiles * 2);
        trees.set(
          root,
          selectContextFiles(key, [], root, rel, {
            maxDirectoryFiles: 0,
            maxWorkspaceFiles: this.settings.maxWorkspaceFiles,
          }),
        );
      }
    }
    const wanted = [...new Set([...dirs.values(), ...trees.values()].flat())].filter(
      (k) => !this.live.has(k) && !this.context.has(k),
    );
    const count: ContextProgress = { done: 0, total: wanted.length, fromIndex: 0 };
    if (wanted.length > 0) progress?.({ ...count });
    let added = 0;
    for (const k of wanted) {
      if (superseded()) {
        if (added > 0) this.log.info(`read ${added} context file(s) before newer edits came`);
        return undefined;
      }
      const read = await this.readContext(engine, k);
      if (read) added++;
      if (read === 'index') count.fromIndex++;
      count.done++;
      // said as it goes, not per file: a kernel tree's context is 200 files
      if (count.done % 5 === 0 || count.done === count.total) progress?.({ ...count });
    }
    for (const d of dirs.keys()) this.loadedDirs.add(d);
    for (const r of trees.keys()) this.loadedTrees.add(r);
    if (added > 0) this.log.info(`read ${added} context file(s), ${count.fromIndex} of them from the index`);
    this.tellIndexNotes();
    return added;
  }

  /** The engine exists (the parser is loaded). */
  get started(): boolean {
    return this.engine !== undefined;
  }

  /** Files held as context (read from disk, not open). */
  get contextCount(): number {
    return this.context.size;
  }

  /** The engine's model of a file it holds (open or context); undefined when it holds none. */
  async modelOf(file: string): Promise<FileModel | undefined> {
    return this.engine ? this.engine.fileModel(file) : undefined;
  }

  /** Analyses every open C document; findings and notes per document key. */
  async analyzeOpen(): Promise<Map<string, DocumentFindings>> {
    const engine = await this.getEngine();
    const paths = [...this.live];
    const result = engine.analyze({ paths, minConfidence: this.settings.minConfidence });
    this.lastResult = result;
    const byKey = new Map<string, DocumentFindings>(paths.map((k) => [k, { placed: [], notes: [] }]));
    for (const f of result.findings) byKey.get(f.file)?.placed.push({ finding: f, line: f.line, column: f.column });
    for (const p of result.coverage.problems) {
      const entry = byKey.get(p.file);
      if (entry) entry.notes.push({ message: `iommufd-review: ${baseName(p.file)}: ${p.message}` });
      else this.log.warn(`${p.file}: ${p.message}`);
    }
    this.rememberOwn(byKey, result);
    return byKey;
  }

  /** Stores the own answer of the one document held, once per whole text set (never one per keystroke). */
  private rememberOwn(byKey: Map<string, DocumentFindings>, result: AnalysisResult): void {
    const c = this.ownCandidate;
    const found = c && byKey.get(c.path);
    if (!c || !found || this.live.size !== 1 || this.context.size > 0 || this.typing.has(c.path)) return;
    this.ownCandidate = undefined;
    const value: RememberedOwn = {
      ...found,
      coverage: { files: result.coverage.files, functions: result.coverage.functions },
    };
    this.host.facts?.putResult?.(c.key, value);
  }

  /** Reviews the series in a patch document; findings on the patch's own lines. */
  async reviewDocument(uri: string, text: string): Promise<DocumentFindings> {
    const name = baseName(uri);
    const { review, root } = await this.reviewAt(text, name, { keepAs: uri, near: keyOfUri(uri) });
    const placed: Placed[] = [];
    for (const p of review.patches) {
      // A finding the patch does not show sits on the patch's first line, so it is still seen.
      for (const f of p.findings) placed.push({ finding: f, line: f.patchLine ?? 1, column: 1 });
    }
    // The no-base note is a fact about the mode, and every finding's diagnostic says it already.
    const problems = inputProblems(review);
    const notes: Note[] = [];
    if (review.patches.length === 0)
      notes.push({
        message: `iommufd-review: ${name} has no reviewable patch: ${problems[0]?.message ?? 'no patch found in it'}`,
      });
    else
      for (const pr of problems)
        notes.push({
          message: `iommufd-review: ${pr.message}`,
          line: pr.source === review.patches[0]?.source ? pr.line : undefined,
        });
    return { placed, notes, root };
  }

  /**
   * The patch layer's review of mail text, against the kernel tree the patch
   * file lies in or the workspace's (else from the hunks alone); `keepAs`
   * keeps its engines for simulation.
   */
  async review(text: string, name: string, options: { keepAs?: string; near?: string } = {}): Promise<SeriesReview> {
    return (await this.reviewAt(text, name, options)).review;
  }

  private async reviewAt(
    text: string,
    name: string,
    options: { keepAs?: string; near?: string },
  ): Promise<{ review: SeriesReview; root?: string }> {
    const { keepAs } = options;
    const parser = await this.getParser();
    const config = this.config();
    const series = await parseSeries(text, name);
    const engines: Engine[] = [];
    const near = options.near?.startsWith('/') ? options.near : this.roots[0] ? `${this.roots[0]}/${name}` : undefined;
    const root = near ? await this.host.kernelRoot(near, this.roots) : undefined;
    const base = root ? this.host.tree(root) : undefined;
    const review = await reviewSeriesWith(series, {
      session: () => {
        const e = new Engine({ parser, config, maxFileBytes: this.settings.maxFileBytes });
        engines.push(e);
        // Not owned: the engines stay alive for from-source simulation until the next review replaces them.
        return sessionOf(e, false);
      },
      base,
      minConfidence: this.settings.minConfidence,
    });
    if (keepAs) {
      this.dropReview(keepAs);
      this.reviews.set(keepAs, { review, engines });
    } else {
      for (const e of engines) e.dispose();
    }
    return { review, root };
  }

  dropReview(uri: string): void {
    for (const e of this.reviews.get(uri)?.engines ?? []) e.dispose();
    this.reviews.delete(uri);
  }

  /**
   * The model of the file holding `fn` around `line`, for from-source
   * simulation: the live engine's, else the patch review image whose `fn`
   * spans the finding's image line (each patch of a series has its own image,
   * and a later patch may move or only partly show the function).
   */
  private fileModel(file: string, fn: string | undefined, line: number): FileModel | undefined {
    const has = (m: FileModel | undefined): m is FileModel =>
      m !== undefined && m.functions.some((x) => x.name === fn && x.line <= line && line <= x.endLine);
    const own = this.engine?.fileModel(file);
    if (has(own)) return own;
    for (const { engines } of this.reviews.values()) {
      for (const e of engines) {
        const m = e.fileModel(file);
        if (has(m)) return m;
      }
    }
    return undefined;
  }

  /** The simulator on a finding (src/sim's finding entry, as the extension's panel runs it). */
  simulateFinding(f: Finding | PatchFinding): SimulationAnswer {
    const { file, function: fn } = f.scenario;
    return {
      finding: simulateArgs(f),
      simulation: simulateFinding(f, file ? this.fileModel(file, fn, f.line) : undefined),
    };
  }

  lockGraph(): LockGraph {
    return this.lastResult?.lockGraph ?? { edges: [] };
  }

  dispose(): void {
    for (const uri of [...this.reviews.keys()]) this.dropReview(uri);
    this.engine?.dispose();
    void this.parser?.then(
      (p) => p.dispose(),
      () => undefined,
    );
  }
}
