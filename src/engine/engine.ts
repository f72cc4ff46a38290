/**
 * The engine: files in, findings out. Per-file work (parse, struct layouts,
 * model, per-function effects and held locks) is cached by path and text, so
 * an edit redoes that file plus the cheap global steps (summaries, lock graph,
 * checks). Browser-safe: no fs, no native parser here.
 */
import { DEFAULT_KNOWLEDGE } from './knowledge/defaults';
import { mergeKnowledge } from './knowledge/config';
import { resolveOrderNames } from './knowledge/documented-orders';
import type { Knowledge, ReviewConfig } from './knowledge/types';
import { buildFileModel, newFunctionModelCache, readFileStructs } from './model/build-file';
import type { FunctionModelCache } from './model/build-file';
import { computeHeldLocks, holdsNoLocks, noHeldLocks, ownHeldLocks } from './model/held-locks';
import type { CallLockEffect, HeldLocks } from './model/held-locks';
import { mergeStructs } from './model/structs';
import { lineMapBetween } from './model/line-map';
import type { LineMap } from './model/line-map';
import { atStepLines, findingsAtLines, lockGraphAtLines } from './model/step-lines';
import type { StructTable } from './model/structs';
import type { FileModel, FunctionModel } from './model/types';
import { ParsedDocuments } from './parse/parsed-documents';
import type { Replacement } from './parse/parsed-documents';
import type { CParser } from './parse/syntax';
import { computeSummaries, functionsByName, globalSignature } from './interproc/summaries';
import { buildLockGraph } from './interproc/lock-graph';
import type { LockClassGraph } from './interproc/lock-graph';
import type { Summaries } from './interproc/types';
import { CHECKS } from './checks/registry';
import { PatchedMap } from './checks/patched-map';
import { atLeast } from './checks/check';
import { withReplayableScenario } from './checks/scenario';
import type { Check, CheckContext } from './checks/check';
import { modelContext } from './index/facts';
import type { FactsStore, FileFacts } from './index/facts';
import { CONFIDENCE_ORDER } from './types';
import type { AnalysisResult, Confidence, Coverage, FileProblem, Finding, FunctionCoverage, SourceFile } from './types';

export interface EngineOptions {
  parser: CParser;
  config?: ReviewConfig;
  parseTimeoutMs?: number;
  maxFileBytes?: number;
  /** Per-file facts from earlier runs: a file found there is not parsed again (see index/facts.ts). */
  facts?: FactsStore;
}

interface FileEntry {
  path: string;
  /** '' for a context file set by its digest (setContextFile): its text stays on disk. */
  text: string;
  /** The store's digest of the text, for a context file set without it. */
  textDigest?: string;
  /** Structs this file defines, and their serialised form (to notice layout changes). */
  own: StructTable;
  ownKey: string;
  model?: FileModel;
  /** The global struct key the model was built against. */
  builtWith?: string;
  problem?: string;
  /** A problem that still lets the file be analysed (e.g. replaced non-UTF-8 bytes). */
  warning?: string;
  /** Models of unchanged functions survive an edit. */
  functionCache: FunctionModelCache;
  /** Facts the store had for this exact text (then the file is parsed only if its model must be rebuilt). */
  stored?: FileFacts;
}

const DEFAULT_MAX_BYTES = 8 * 1024 * 1024;

/** What the interprocedural step built, and from what. */
interface GlobalStep {
  models: FileModel[];
  /** The models' functions by name, as the rules were given them. */
  functions: ReadonlyMap<string, readonly FunctionModel[]>;
  structsKey: string;
  summaries: Summaries;
  lockGraph: LockClassGraph;
  knowledge: Knowledge;
}

/**
 * A file model's part of the global key, as parts (models are immutable once
 * built): compared part by part, since joining them made a string the size of
 * every signature of the file on each edit.
 */
const fileKeys = new WeakMap<FileModel, string[]>();

function fileKey(m: FileModel): string[] {
  let key = fileKeys.get(m);
  if (key === undefined) {
    key = [m.file, JSON.stringify(m.opsImplementations), JSON.stringify(m.documentedOrders)];
    for (const fn of m.functions) key.push(globalSignature(fn));
    fileKeys.set(m, key);
  }
  return key;
}

function sameFileKey(a: FileModel, b: FileModel): boolean {
  const x = fileKey(a);
  const y = fileKey(b);
  return x.length === y.length && x.every((part, i) => part === y[i]);
}

/**
 * `functionsByName(models)` for models that give a kept global step the same
 * input: the same functions by name and order in every file, some of them
 * new objects. The last map with those names' lists patched (a whole tree
 * has hundreds of thousands of names; an edit changes one file's).
 */
function keptFunctions(kept: GlobalStep, models: readonly FileModel[]): ReadonlyMap<string, readonly FunctionModel[]> {
  const lists = new Map<string, FunctionModel[]>();
  for (let i = 0; i < models.length; i++) {
    const was = kept.models[i];
    const now = models[i];
    if (was === now) continue;
    now.functions.forEach((fn, k) => {
      let list = lists.get(fn.name);
      if (!list) lists.set(fn.name, (list = [...(kept.functions.get(fn.name) ?? [])]));
      const at = list.indexOf(was.functions[k]);
      if (at >= 0) list[at] = fn;
      else list.push(fn);
    });
  }
  return lists.size === 0 ? kept.functions : PatchedMap.of(kept.functions).with(lists);
}

function byteLength(text: string): number {
  // UTF-8 length without Buffer (browser-safe); only needs to be right near the cap.
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    n += c < 0x80 ? 1 : c < 0x800 ? 2 : c >= 0xd800 && c <= 0xdbff ? 2 : 3;
  }
  return n;
}

function looksBinary(text: string): boolean {
  const head = text.slice(0, 8192);
  if (head.indexOf('\u0000') >= 0) return true;
  let control = 0;
  for (let i = 0; i < head.length; i++) {
    const c = head.charCodeAt(i);
    if (c < 32 && c !== 9 && c !== 10 && c !== 13 && c !== 12) control++;
  }
  return head.length > 0 && control / head.length > 0.1;
}

/** Why a text is not analysed at all (too large, binary), or undefined. */
export function textProblem(text: string, maxFileBytes = DEFAULT_MAX_BYTES): string | undefined {
  const bytes = byteLength(text);
  if (bytes > maxFileBytes)
    return `not analysed: ${(bytes / 1048576).toFixed(1)} MiB is over the ${(maxFileBytes / 1048576).toFixed(1)} MiB limit`;
  if (looksBinary(text)) return 'not analysed: this looks like a binary file, not C source';
  return undefined;
}

export class Engine {
  private readonly docs: ParsedDocuments;
  private readonly files = new Map<string, FileEntry>();
  private readonly knowledge: Knowledge;
  private readonly maxFileBytes: number;
  private readonly timeoutMs: number;
  /** Held locks per function, for the global step of `generation`. */
  private heldCache = new WeakMap<FunctionModel, { generation: object; held: HeldLocks }>();
  /**
   * A token per global step: what is cached against one (held locks, a file's findings) keys on this, not on the
   * summaries, so that nothing cached keeps an old step's summaries alive.
   */
  private generation: object = {};
  private structs: StructTable | undefined;
  private structsKey = '';
  /** The sorted paths and their layouts' keys that `structsKey` joins. */
  private structsParts: { paths: string[]; keys: string[] } = { paths: [], keys: [] };
  /** The facts store's digest of the struct context (only with a store). */
  private context = '';
  /** Per rule, per file: findings (all confidences) and what they were computed from. */
  private readonly findingCache = new Map<
    string,
    Map<string, { model: FileModel; generation: object; findings: Finding[] }>
  >();
  /** Per rule that reads only the global step (`Check.fromGlobalStep`): its findings, and for which step and files. */
  private readonly stepFindings = new Map<string, { generation: object; reported: string; findings: Finding[] }>();
  /** Whether the last analyze() reused the global step (summaries, lock graph) of the one before. */
  private reusedGlobal = false;
  /** The last global step, reused while no function's global signature changed. */
  private global: GlobalStep | undefined;
  /**
   * The text the global step saw of each file edited since (kept at the
   * first edit): an edit that only moved lines keeps the step, the file's
   * model seen at these texts' lines (see model/step-lines.ts).
   */
  private readonly stepTexts = new Map<string, string>();
  /** Per edited file, its current model at the step's lines and the map back, while the model is the same. */
  private readonly stepViews = new Map<
    string,
    { model: FileModel; step: FileModel; view: FileModel | undefined; map: LineMap | undefined }
  >();

  constructor(private readonly options: EngineOptions) {
    this.timeoutMs = options.parseTimeoutMs ?? 2000;
    this.maxFileBytes = options.maxFileBytes ?? DEFAULT_MAX_BYTES;
    // Trees are kept for incremental edits. The bound keeps wasm memory in
    // check on bulk runs (a tree costs several times its file); a tree evicted
    // here is simply reparsed if its model must be rebuilt.
    this.docs = new ParsedDocuments(options.parser, 512, this.timeoutMs);
    this.knowledge = mergeKnowledge(DEFAULT_KNOWLEDGE, options.config);
  }

  setFile(path: string, text: string): void {
    const prev = this.files.get(path);
    if (prev && prev.text === text) return;
    if (prev) this.noteStepText(prev);
    this.docs.close(path);
    const entry: FileEntry = {
      path,
      text,
      own: {},
      ownKey: '',
      functionCache: prev?.functionCache ?? newFunctionModelCache(),
    };
    this.files.set(path, entry);
    const problem = textProblem(text, this.maxFileBytes);
    if (problem) {
      entry.problem = problem;
      return;
    }
    if (text.indexOf('\uFFFD') >= 0)
      entry.warning = 'contains bytes that are not valid UTF-8 (read as U+FFFD); the rest was analysed';
    const stored = this.options.facts?.get(path, text);
    if (stored) {
      entry.stored = stored;
      entry.own = stored.own;
      entry.ownKey = JSON.stringify(stored.own);
      if (stored.warning) entry.warning = stored.warning;
      return;
    }
    this.parse(entry, () => this.docs.open(path, text));
  }

  /**
   * A context file by its text's digest and the facts a worker built for it
   * (its layouts now, its model once built in the final struct context and
   * put in the store with `putDigested`): the engine holds neither its text
   * nor a tree, so a whole kernel tree fits. A model the store lacks cannot
   * be built here: the host sets the file again with its text (setFile).
   */
  setContextFile(path: string, textDigest: string, facts: FileFacts): void {
    this.docs.close(path);
    this.files.set(path, {
      path,
      text: '',
      textDigest,
      own: facts.own,
      ownKey: JSON.stringify(facts.own),
      functionCache: newFunctionModelCache(),
      stored: facts,
      ...(facts.warning ? { warning: facts.warning } : {}),
    });
  }

  editFile(path: string, replacements: readonly Replacement[]): void {
    const entry = this.files.get(path);
    if (!entry) throw new Error(`${path} was not set before being edited`);
    if (entry.textDigest !== undefined) throw new Error(`${path} was set by its digest: set its text before editing`);
    if (!this.docs.get(path)) {
      // No tree to edit (a problem file, evicted, or held from the facts store): start over from the new
      // text, in place. The file keeps its position among the models, so the global step's input still
      // compares equal file by file when the edit kept every global signature (a file held from the store
      // moved last would make the first keystroke redo the summaries and the lock graph of the whole context).
      let text = entry.text;
      for (const r of replacements) text = text.slice(0, r.start) + r.inserted + text.slice(r.start + r.deletedLength);
      this.setFile(path, text);
      return;
    }
    this.noteStepText(entry);
    this.parse(entry, () => this.docs.edit(path, replacements));
  }

  removeFile(path: string): void {
    this.stepTexts.delete(path);
    this.stepViews.delete(path);
    this.docs.close(path);
    this.files.delete(path);
    for (const byFile of this.findingCache.values()) byFile.delete(path);
  }

  fileModel(path: string): FileModel | undefined {
    const entry = this.files.get(path);
    if (!entry) return undefined;
    this.refreshStructs();
    return this.model(entry);
  }

  analyze(options: { paths?: string[]; minConfidence?: Confidence } = {}): AnalysisResult {
    const tStart = performance.now();
    this.refreshStructs();
    const current: FileModel[] = [];
    for (const entry of this.files.values()) {
      const m = this.model(entry);
      if (m) current.push(m);
    }
    // Files edited since the global step, seen at the lines it was built at: kept if only lines moved.
    const moved = this.atStepLines(current);
    let models = moved?.models ?? current;
    const tModels = performance.now();
    // Opt-in, as each phase ends (a run over a whole tree may never reach the end): `globalThis.__enginePhase`.
    const phase = (globalThis as { __enginePhase?: (name: string, ms: number) => void }).__enginePhase;
    phase?.('models', tModels - tStart);
    const reported = options.paths ? new Set(options.paths) : undefined;
    const reports = (file: string): boolean => !reported || reported.has(file);
    // '' for every file; a list (even an empty one) otherwise.
    const reportedKey = reported ? `\u0001${[...reported].sort().join('\n')}` : '';
    const tProf = performance.now();
    const kept = this.keptGlobal(models);
    // Redone: at the current lines, which the next edits are then compared with.
    if (!kept) {
      models = current;
      this.stepTexts.clear();
      this.stepViews.clear();
    }
    const lineMaps: ReadonlyMap<string, LineMap> = kept && moved ? moved.maps : new Map();
    this.reusedGlobal = kept !== undefined;
    const functions = kept ? keptFunctions(kept, models) : functionsByName(models);
    let knowledge: Knowledge;
    let summaries: Summaries;
    let lockGraph: LockClassGraph;
    let tSumm: number;
    try {
      knowledge = kept ? kept.knowledge : this.withDocumentedOrders(models);
      summaries = kept ? kept.summaries : computeSummaries(models, knowledge);
      tSumm = performance.now();
      phase?.('summaries', tSumm - tProf);
      const forGraph = summaries;
      lockGraph = kept
        ? kept.lockGraph
        : buildLockGraph(
            models.flatMap((m) => m.functions),
            summaries,
            (fn) => this.heldOf(fn, forGraph),
            knowledge,
          );
    } catch (e) {
      // A bug in the interprocedural step must not crash an editor or a CI run: report it.
      this.global = undefined;
      this.stepTexts.clear();
      this.stepViews.clear();
      return {
        findings: [],
        lockGraph: { edges: [] },
        coverage: this.coverage(reports, [
          { file: '(engine)', message: `the interprocedural analysis failed: ${(e as Error).message}` },
        ]),
      };
    }
    this.global = { models, functions, structsKey: this.structsKey, summaries, lockGraph, knowledge };
    const held = (fn: FunctionModel): HeldLocks => this.heldOf(fn, summaries);
    const tGraph = performance.now();
    phase?.('lock graph', tGraph - tSumm);
    const ctx: CheckContext = { files: models, functions, summaries, knowledge, lockGraph, held, reports };
    // Opt-in phase timings for benchmarks and profiling: set
    // `globalThis.__engineProfile = {}` and read the accumulated milliseconds.
    const prof = (globalThis as { __engineProfile?: Record<string, number> }).__engineProfile;
    if (prof) {
      prof.models = (prof.models ?? 0) + tModels - tStart;
      prof.summaries = (prof.summaries ?? 0) + tSumm - tProf;
      prof.graph = (prof.graph ?? 0) + tGraph - tSumm;
    }

    const disabled = new Set(this.options.config?.disabledRules ?? []);
    const threshold: Confidence = options.minConfidence ?? this.options.config?.minConfidence ?? 'medium';
    const findings: Finding[] = [];
    const problems: FileProblem[] = [];
    // The reported files' models, and every model by file, once per analysis: with a whole tree in view, each
    // rule walking every model to find the reported ones was a tenth of a warm re-check.
    const reportedModels = reported ? models.filter((m) => reported.has(m.file)) : models;
    let byFile: Map<string, FileModel> | undefined;
    const modelOf = (file: string): FileModel | undefined =>
      (byFile ??= new Map(models.map((m) => [m.file, m]))).get(file);
    for (const check of CHECKS) {
      if (disabled.has(check.id)) continue;
      const started = prof || phase ? performance.now() : 0;
      try {
        for (const f of this.runCheck(check, ctx, { models, reportedModels, modelOf }, reportedKey))
          if (reports(f.file) && atLeast(f.confidence, threshold)) findings.push(f);
      } catch (e) {
        // One broken rule must not take the others down; say which.
        problems.push({ file: '(engine)', message: `rule ${check.id} failed: ${(e as Error).message}` });
      }
      if (prof) prof[check.id] = (prof[check.id] ?? 0) + performance.now() - started;
      phase?.(check.id, performance.now() - started);
    }
    findings.sort(
      (a, b) =>
        a.file.localeCompare(b.file) ||
        a.line - b.line ||
        a.ruleId.localeCompare(b.ruleId) ||
        a.fingerprint.localeCompare(b.fingerprint),
    );
    return {
      findings: dedupe(findingsAtLines(findings, lineMaps)),
      lockGraph: lockGraphAtLines(lockGraph.toLockGraph(reported), lineMaps),
      coverage: this.coverage(reports, problems),
    };
  }

  /**
   * Whether the last `analyze()` kept the summaries and the lock graph of the one before: no function's calls,
   * locks, callbacks or stores changed (see `globalSignature()`), or only lines moved (model/step-lines.ts).
   * Otherwise it redid them over every file.
   */
  get lastReusedGlobal(): boolean {
    return this.reusedGlobal;
  }

  dispose(): void {
    this.docs.dispose();
    this.files.clear();
    this.findingCache.clear();
  }

  // ---- internals -----------------------------------------------------------

  private parse(
    entry: FileEntry,
    run: () => { text: string; tree: { rootNode: Parameters<typeof readFileStructs>[0] } | null; timedOut: boolean },
  ): void {
    entry.model = undefined;
    entry.stored = undefined;
    entry.builtWith = undefined;
    entry.problem = undefined;
    let doc;
    try {
      doc = run();
    } catch (e) {
      entry.problem = `not analysed: the parser failed (${(e as Error).message})`;
      entry.own = {};
      entry.ownKey = '';
      return;
    }
    entry.text = doc.text;
    if (!doc.tree) {
      entry.problem = `not analysed: parsing took longer than ${this.timeoutMs} ms`;
      entry.own = {};
      entry.ownKey = '';
      this.docs.close(entry.path);
      return;
    }
    try {
      entry.own = readFileStructs(doc.tree.rootNode, entry.functionCache);
    } catch (e) {
      // Pathological nesting can exhaust the stack: the file's layouts are then unknown, not fatal.
      entry.own = {};
      entry.warning = `struct definitions could not be read (${(e as Error).message}); lock names in other files may stay unresolved`;
    }
    entry.ownKey = JSON.stringify(entry.own);
  }

  /** The merged struct table (knowledge under the files'), rebuilt only when some file's layouts changed. */
  private refreshStructs(): void {
    const paths = [...this.files.keys()].sort();
    const parts = paths.map((p) => this.files.get(p)!.ownKey);
    // Compared part by part (most are the same strings): joining every file's layouts on each keystroke was most of this.
    const last = this.structsParts;
    if (
      this.structs &&
      last.paths.length === paths.length &&
      paths.every((p, i) => p === last.paths[i]) &&
      parts.every((k, i) => k === last.keys[i])
    )
      return;
    this.structsParts = { paths, keys: parts };
    const key = parts.join('\n');
    if (this.structs && key === this.structsKey) return;
    this.structsKey = key;
    this.structs = mergeStructs([this.knowledge.structs, ...paths.map((p) => this.files.get(p)!.own)]);
    if (this.options.facts) this.context = modelContext(this.options.facts, key, this.knowledge.structs);
  }

  /**
   * What a model of a file set here is built against: the merged struct
   * table and the facts store's context digest. For hosts that build models
   * elsewhere (worker threads) and put them in the store first.
   */
  modelInputs(): { structs: StructTable; context: string } {
    this.refreshStructs();
    return { structs: this.structs ?? {}, context: this.context };
  }

  private model(entry: FileEntry): FileModel | undefined {
    if (entry.problem) return undefined;
    if (entry.model && entry.builtWith === this.structsKey) return entry.model;
    const facts = this.options.facts;
    if (facts) {
      // Another run may have modelled this text in the same context since setFile.
      const stored =
        entry.stored?.model?.context === this.context
          ? entry.stored
          : entry.textDigest !== undefined
            ? facts.getDigested?.(entry.path, entry.textDigest)
            : facts.get(entry.path, entry.text);
      if (stored?.model && stored.model.context === this.context) {
        entry.model = stored.model.value;
        entry.builtWith = this.structsKey;
        return entry.model;
      }
    }
    if (entry.textDigest !== undefined) {
      entry.problem = 'not analysed: a context file without its text or a model in this context';
      return undefined;
    }
    let doc = this.docs.get(entry.path);
    if (!doc || doc.text !== entry.text) doc = this.docs.open(entry.path, entry.text);
    if (!doc.tree) {
      entry.problem = `not analysed: parsing took longer than ${this.timeoutMs} ms`;
      return undefined;
    }
    try {
      entry.model = buildFileModel(
        doc.tree.rootNode,
        entry.path,
        entry.text,
        this.structs ?? {},
        entry.own,
        entry.functionCache,
      );
    } catch (e) {
      entry.problem = `not analysed: the model could not be built (${(e as Error).message})`;
      return undefined;
    }
    entry.builtWith = this.structsKey;
    facts?.put(entry.path, entry.text, {
      own: entry.own,
      ...(entry.warning ? { warning: entry.warning } : {}),
      model: { context: this.context, value: entry.model },
    });
    return entry.model;
  }

  /** The last `models` + changed parts list: every rule of one analysis is given the same array, so what rules keep per file list (call sites) is built once. */
  private lastRunFiles: { models: FileModel[]; extra: FileModel[]; files: FileModel[] } | undefined;

  private filesWith(models: FileModel[], extra: FileModel[]): FileModel[] {
    const last = this.lastRunFiles;
    if (
      last &&
      last.models === models &&
      last.extra.length === extra.length &&
      last.extra.every((x, i) => x === extra[i])
    )
      return last.files;
    const files = [...models, ...extra];
    this.lastRunFiles = { models, extra, files };
    return files;
  }

  /**
   * Runs a rule over the reported files whose findings are not known yet:
   * a file keeps its findings while its model and the global step
   * (`generation`) are the same, so an edit re-checks only the edited
   * file. A rule that reads only the global step (lock-order) keeps its
   * findings per step and reported files; a global rule runs whole.
   */
  private runCheck(
    check: Check,
    ctx: CheckContext,
    view: {
      models: FileModel[];
      /** The models of the reported files, in model order. */
      reportedModels: FileModel[];
      modelOf: (file: string) => FileModel | undefined;
    },
    /** Which files are reported, as one string ('' for all). */
    reported: string,
  ): Finding[] {
    if (check.fromGlobalStep) {
      const hit = this.stepFindings.get(check.id);
      if (hit && hit.generation === this.generation && hit.reported === reported) return hit.findings;
      const findings = check.run(ctx);
      this.stepFindings.set(check.id, { generation: this.generation, reported, findings });
      return findings;
    }
    if (check.global) return check.run(ctx);
    let byFile = this.findingCache.get(check.id);
    if (!byFile) this.findingCache.set(check.id, (byFile = new Map()));
    // Stale files are re-checked whole, or (after an edit that kept the
    // global step) only in the functions that changed: the others keep
    // their findings, which depend only on their model and the global step.
    const whole = new Set<string>();
    const partly = new Map<string, { model: FileModel; keep: Finding[] }>();
    for (const m of view.reportedModels) {
      const hit = byFile.get(m.file);
      if (hit && hit.model === m && hit.generation === this.generation) continue;
      const changed = hit && hit.generation === this.generation ? changedSince(hit.model, m) : undefined;
      if (!changed) {
        whole.add(m.file);
        continue;
      }
      const stay = new Set(m.functions.filter((fn) => !changed.has(fn)).map((fn) => fn.name));
      partly.set(m.file, { model: changedPart(m, changed), keep: hit!.findings.filter((f) => stay.has(f.function)) });
    }
    if (whole.size > 0 || partly.size > 0) {
      // The changed functions are checked as an extra, reported-only file (its
      // functions keep their real file); every real file stays in view as context.
      const extra = [...partly.values()].map((p) => p.model);
      const runFiles = extra.length > 0 ? this.filesWith(view.models, extra) : view.models;
      const runReports = (file: string): boolean => whole.has(file) || extra.some((x) => x.file === file);
      const fresh = new Map<string, Finding[]>();
      for (const raw of check.run({ ...ctx, files: runFiles, reports: runReports })) {
        if (!whole.has(raw.file) && !partly.has(raw.file)) continue;
        // Cached with the finding: it depends only on the file's model.
        const f = withReplayableScenario(raw, view.modelOf(raw.scenario.file ?? raw.file));
        const list = fresh.get(f.file);
        if (list) list.push(f);
        else fresh.set(f.file, [f]);
      }
      for (const m of view.reportedModels) {
        if (whole.has(m.file))
          byFile.set(m.file, { model: m, generation: this.generation, findings: fresh.get(m.file) ?? [] });
        const p = partly.get(m.file);
        if (p)
          byFile.set(m.file, {
            model: m,
            generation: this.generation,
            findings: [...p.keep, ...(fresh.get(m.file) ?? [])],
          });
      }
    }
    const out: Finding[] = [];
    for (const m of view.reportedModels) out.push(...(byFile.get(m.file)?.findings ?? []));
    return out;
  }

  /** Before a file's text changes: the text the global step saw, kept once per step. */
  private noteStepText(entry: FileEntry): void {
    if (this.global && entry.textDigest === undefined && entry.text !== '' && !this.stepTexts.has(entry.path))
      this.stepTexts.set(entry.path, entry.text);
  }

  /**
   * The models with each file edited since the global step seen at the
   * step's lines (model/step-lines.ts), and the maps from those lines to the
   * current ones; undefined when no edited file moved. A file whose edit did
   * more than move lines keeps its current model, and the step is redone.
   */
  private atStepLines(models: FileModel[]): { models: FileModel[]; maps: Map<string, LineMap> } | undefined {
    const step = this.global;
    if (!step || this.stepTexts.size === 0 || step.models.length !== models.length) return undefined;
    let out: FileModel[] | undefined;
    const maps = new Map<string, LineMap>();
    for (let i = 0; i < models.length; i++) {
      const m = models[i];
      const was = step.models[i];
      const text = this.stepTexts.get(m.file);
      // Where the step reads the same lines (an edit within lines), the model is compared as it is.
      if (text === undefined || m === was || was.file !== m.file || sameFileKey(m, was)) continue;
      let seen = this.stepViews.get(m.file);
      if (!seen || seen.model !== m || seen.step !== was) {
        const entryText = this.files.get(m.file)?.text ?? '';
        const map = entryText === '' ? undefined : lineMapBetween(text, entryText);
        // Lines edited in place: the model is at the step's lines already.
        seen = { model: m, step: was, map, view: map && (map.isIdentity() ? m : atStepLines(m, was, map)) };
        this.stepViews.set(m.file, seen);
      }
      if (!seen.view || !seen.map || seen.view === m) continue;
      (out ??= [...models])[i] = seen.view;
      maps.set(m.file, seen.map);
    }
    return out ? { models: out, maps } : undefined;
  }

  /**
   * The last global step when the models give it the same input, else
   * nothing: then everything built on it is let go before the next one is
   * built (with a whole tree as context, two steps do not fit in memory).
   */
  private keptGlobal(models: FileModel[]): GlobalStep | undefined {
    const prev = this.global;
    if (prev !== undefined && this.sameGlobalInput(prev.models, models)) return prev;
    this.global = undefined;
    this.generation = {};
    this.heldCache = new WeakMap();
    return undefined;
  }

  /**
   * Whether the global step (summaries, lock graph) would come out the same:
   * the same struct layouts and, file by file, the same model or one whose
   * functions all have the same global signature (an edit inside an
   * expression). Keys are only computed for files whose model changed.
   */
  private sameGlobalInput(prevModels: FileModel[], models: FileModel[]): boolean {
    if (this.global?.structsKey !== this.structsKey || prevModels.length !== models.length) return false;
    for (let i = 0; i < models.length; i++) {
      if (models[i] === prevModels[i]) continue;
      if (!sameFileKey(models[i], prevModels[i])) return false;
    }
    return true;
  }

  /**
   * Held locks of a function, following lock helpers through their
   * summaries; cached per function and per global generation.
   */
  private heldOf(fn: FunctionModel, summaries: Summaries): HeldLocks {
    const hit = this.heldCache.get(fn);
    if (hit && hit.generation === this.generation) return hit.held;
    const h = computeHeldFor(fn, summaries);
    this.heldCache.set(fn, { generation: this.generation, held: h });
    return h;
  }

  private realStructsOf: { from: StructTable | undefined; real: StructTable } | undefined;

  /**
   * The merged struct table without the reserved `<...>` entries (bool
   * functions, globals), kept while the merged table is the same object, so
   * the documented orders' name index built over it (documented-orders.ts)
   * is kept across edits that change no layout.
   */
  private realStructs(): StructTable {
    const kept = this.realStructsOf;
    if (kept && kept.from === this.structs) return kept.real;
    const real: StructTable = {};
    for (const [k, v] of Object.entries(this.structs ?? {})) if (!k.startsWith('<')) real[k] = v;
    this.realStructsOf = { from: this.structs, real };
    return real;
  }

  /** Knowledge plus the orders documented in comments of the analysed files, resolved to lock classes. */
  private withDocumentedOrders(models: FileModel[]): Knowledge {
    const extra: string[][] = [];
    // The struct table copied once, and orders compared by key: with a whole
    // tree as context, a copy per documented order was quadratic.
    let structs: StructTable | undefined;
    const known = new Set(this.knowledge.documentedOrders.map((d) => d.join()));
    for (const m of models) {
      for (const o of m.documentedOrders) {
        const ids = resolveOrderNames(o.names, (structs ??= this.realStructs()), o.struct);
        const key = ids.join();
        if (ids.length >= 2 && !known.has(key)) {
          known.add(key);
          extra.push(ids);
        }
      }
    }
    if (extra.length === 0) return this.knowledge;
    return { ...this.knowledge, documentedOrders: [...this.knowledge.documentedOrders, ...extra] };
  }

  private coverage(reports: (file: string) => boolean, problems: FileProblem[]): Coverage {
    const entries: FunctionCoverage[] = [];
    const counts = { parsed: 0, partial: 0, skipped: 0 };
    let files = 0;
    const paths = [...this.files.keys()].filter(reports).sort();
    for (const path of paths) {
      const entry = this.files.get(path)!;
      files++;
      if (entry.problem) {
        problems.push({ file: entry.path, message: entry.problem });
        continue;
      }
      if (entry.warning) problems.push({ file: entry.path, message: entry.warning });
      const m = entry.model;
      if (!m) continue;
      const own = fileCoverage(m);
      for (const e of own) {
        counts[e.status]++;
        entries.push({ ...e });
      }
    }
    return { files, functions: counts, entries, problems };
  }
}

const coverageCache = new WeakMap<FileModel, FunctionCoverage[]>();

/** One file's coverage entries in line order (cached per model). */
function fileCoverage(m: FileModel): FunctionCoverage[] {
  let out = coverageCache.get(m);
  if (out) return out;
  out = [
    ...m.functions.map((fn): FunctionCoverage => ({
      file: m.file,
      function: fn.name,
      line: fn.line,
      status: fn.status,
      ...(fn.reason ? { reason: fn.reason } : {}),
    })),
    ...m.skipped.map((sk): FunctionCoverage => ({
      file: m.file,
      function: sk.function,
      line: sk.line,
      status: 'skipped',
      reason: sk.reason,
    })),
  ].sort((a, b) => a.line - b.line);
  coverageCache.set(m, out);
  return out;
}

/** Held locks with lock-helper effects; the cheap constant when nothing can be held. */
function computeHeldFor(fn: FunctionModel, summaries: Summaries): HeldLocks {
  const effectOf = (callee: string): CallLockEffect | undefined => {
    const s = summaries.get(callee, fn.file);
    if (!s || (!s.leavesHeld && !s.releasesHeld && !s.mayReleaseHeld && !s.onError && !s.onOk)) return undefined;
    return {
      acquires: s.leavesHeld ?? [],
      releases: s.releasesHeld ?? [],
      ...(s.mayReleaseHeld ? { mayRelease: s.mayReleaseHeld } : {}),
      ...(s.onError ? { onError: s.onError } : {}),
      ...(s.onOk ? { onOk: s.onOk } : {}),
    };
  };
  if (
    holdsNoLocks(fn) &&
    !fn.blocks.some((b) => b.events.some((e) => e.kind === 'call' && effectOf(e.callee)?.acquires.length))
  )
    return noHeldLocks(fn);
  // No callee changes what is held: the function's own analysis (shared with the summaries) is the answer.
  if (!fn.blocks.some((b) => b.events.some((e) => e.kind === 'call' && effectOf(e.callee)))) return ownHeldLocks(fn);
  return computeHeldLocks(fn, effectOf);
}

/**
 * The functions of `next` to check again after an edit of a file whose
 * previous model was `prev` (the global step unchanged): the new function
 * models, and their callers in the file (rules look into same-file callees).
 * Undefined when the whole file should be checked: nothing to gain, two
 * functions of one name (both sides of an #if; rules dedupe by name), or a
 * changed function that is an ops callback implementation.
 */
function changedSince(prev: FileModel, next: FileModel): ReadonlySet<FunctionModel> | undefined {
  // Every per-file rule asks the same question after an edit: answer it once per pair of models.
  const hit = changedMemo.get(next);
  if (hit && hit.prev === prev) return hit.changed;
  const changed = changedFunctions(prev, next);
  changedMemo.set(next, { prev, changed });
  return changed;
}

/**
 * The changed functions of `m` as an extra file to check (its functions keep
 * their real file), one object per model and change set so every rule is
 * given the same one.
 */
function changedPart(m: FileModel, changed: ReadonlySet<FunctionModel>): FileModel {
  const hit = partMemo.get(m);
  if (hit && hit.changed === changed) return hit.part;
  const part: FileModel = {
    ...m,
    file: `${m.file}\u0000changed`,
    functions: m.functions.filter((fn) => changed.has(fn)),
    opsImplementations: [],
    documentedOrders: [],
  };
  partMemo.set(m, { changed, part });
  return part;
}

const partMemo = new WeakMap<FileModel, { changed: ReadonlySet<FunctionModel>; part: FileModel }>();

const changedMemo = new WeakMap<FileModel, { prev: FileModel; changed: ReadonlySet<FunctionModel> | undefined }>();

function changedFunctions(prev: FileModel, next: FileModel): Set<FunctionModel> | undefined {
  const before = new Set(prev.functions);
  const changed = new Set(next.functions.filter((fn) => !before.has(fn)));
  if (changed.size === 0 || changed.size * 2 > next.functions.length) return undefined;
  const names = new Set<string>();
  for (const fn of next.functions) {
    if (names.has(fn.name)) return undefined;
    names.add(fn.name);
  }
  const changedNames = new Set([...changed].map((fn) => fn.name));
  if (next.opsImplementations.some((o) => changedNames.has(o.function))) return undefined;
  for (let grew = true; grew;) {
    grew = false;
    for (const fn of next.functions) {
      if (
        changed.has(fn) ||
        !fn.blocks.some((b) => b.events.some((e) => e.kind === 'call' && changedNames.has(e.callee)))
      )
        continue;
      changed.add(fn);
      changedNames.add(fn.name);
      grew = true;
    }
  }
  return changed.size * 2 > next.functions.length ? undefined : changed;
}

function dedupe(findings: Finding[]): Finding[] {
  const seen = new Set<string>();
  return findings.filter((f) => {
    const k = `${f.fingerprint}@${f.file}:${f.line}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** One-shot analysis of a set of sources (the CLI, tests). The parser stays the caller's. */
export function analyzeSources(
  parser: CParser,
  files: SourceFile[],
  options: { config?: ReviewConfig; minConfidence?: Confidence } = {},
): AnalysisResult {
  const engine = new Engine({ parser, ...(options.config ? { config: options.config } : {}) });
  try {
    for (const f of files) engine.setFile(f.path, f.text);
    return engine.analyze(options.minConfidence ? { minConfidence: options.minConfidence } : {});
  } finally {
    engine.dispose();
  }
}

export { CONFIDENCE_ORDER };
