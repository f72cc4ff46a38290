/**
 * What the server and its clients agree on beyond LSP: the custom requests,
 * the commands a code lens or code action names, and their argument shapes.
 * Plain types and string constants only, so a client (the VS Code extension,
 * a Neovim plugin) can import this file without pulling in the server.
 */
import type { Coverage, Finding, LockGraph, RuleId, Scenario } from '../engine/types';
import type { FileModel } from '../engine/model/types';
import type { PatchFinding, SeriesReview } from '../patch/types';
import type { FindingSimulation } from '../sim/finding';

/** The client-side command of the Simulate code lens and hover link (VS Code's simulator panel). */
export const SIMULATE_COMMAND = 'iommufd.simulateFinding';
/**
 * A server-side command (workspace/executeCommand): answers the finding as
 * review text and shows it with window/showMessage, for clients without a
 * clipboard command of their own. Named apart from the extension's
 * `iommufd.copyFinding` so the two can coexist once the extension is a client.
 */
export const COPY_FINDING_COMMAND = 'iommufd-review.copyFinding';

/** What the Simulate command receives: JSON-safe (it also travels in command URIs). */
export interface SimulateArgs {
  scenario: Scenario;
  ruleId: RuleId;
  function: string;
  /** The finding's message; left out of hover links, which must not repeat the diagnostic. */
  message?: string;
  file: string;
  line: number;
}

export function simulateArgs(f: Finding): SimulateArgs {
  return {
    scenario: f.scenario,
    ruleId: f.ruleId,
    function: f.function,
    message: f.message,
    file: f.file,
    line: f.line,
  };
}

/** `iommufd/simulation`: the simulator run for the finding(s) on a line of an open document. */
export const SIMULATION_REQUEST = 'iommufd/simulation';
export interface SimulationParams {
  textDocument: { uri: string };
  /** 0-based, as everywhere in LSP; the finding whose line this is. */
  position: { line: number; character: number };
  /** When several findings share the line: which rule (default: the first). */
  ruleId?: RuleId;
}
export interface SimulationAnswer {
  finding: SimulateArgs;
  /** What the simulator panel shows: headline, invariant, the replace-flow or lock-model run, the witness placed on its trace. */
  simulation: FindingSimulation;
}

/** `iommufd/lockGraph`: the lock-class graph of what the server has analysed. */
export const LOCK_GRAPH_REQUEST = 'iommufd/lockGraph';
export interface LockGraphAnswer {
  edges: LockGraph['edges'];
  /** `from → to` of each edge on a cycle (a possible deadlock). */
  onCycle: { from: string; to: string }[];
  /** The same graph as Markdown with a DOT block (report/lock-graph-text.ts). */
  markdown: string;
}

/** `iommufd/reviewSeries`: patch mail text (an mbox, format-patch files, a diff) → findings per patch. */
export const REVIEW_SERIES_REQUEST = 'iommufd/reviewSeries';
export interface ReviewSeriesParams {
  /** The mail text; or `uri` of an open patch document. */
  text?: string;
  uri?: string;
  /** Shown in problems and findings as the patch file's name. */
  name?: string;
}
export type ReviewSeriesAnswer = SeriesReview;

export type ShownFinding = Finding | PatchFinding;

/**
 * What each finding's diagnostic carries in `Diagnostic.data`: its stable
 * fingerprint and the finding itself, so a client with its own views of a
 * finding (VS Code's code lenses, hovers, simulator panel) needs no second
 * request.
 */
export interface FindingData {
  fingerprint: string;
  finding: ShownFinding;
}

/**
 * `iommufd/status` (server → client notification): what the analysis of the
 * open C documents is doing, truthfully and with counts. Sent only to a
 * client that announces `experimental.iommufdStatus: true` in its
 * capabilities (the VS Code extension's status bar); other clients get the
 * same in window/logMessage lines.
 */
export const STATUS_NOTIFICATION = 'iommufd/status';
export type AnalysisPhase = 'loading' | 'reading' | 'analysing' | 'ready' | 'error';
export interface AnalysisStatus {
  phase: AnalysisPhase;
  message?: string;
  /** reading: context files done so far, of how many; of them, how many came from the persistent index. */
  progress?: { done: number; total: number; fromIndex: number };
  /** analysing and ready: files analysed (open and context), and how many of them are open. */
  files?: { open: number; context: number };
  /** ready (and reading, once a first result is out): findings shown on the open documents, and their coverage. */
  findings?: number;
  coverage?: Pick<Coverage, 'files' | 'functions'>;
  /** Wall time of the last analysis, ms. */
  elapsedMs?: number;
}

/** `iommufd/fileModel`: the engine's model of a file the server holds (open or context), for from-source simulation. */
export const FILE_MODEL_REQUEST = 'iommufd/fileModel';
export interface FileModelParams {
  /** The engine key: a file's path, or the URI of a buffer that is not a file. */
  file: string;
}
export type FileModelAnswer = FileModel | null;

/**
 * `iommufd/settled`: answers once every edit sent before it is applied and
 * the analysis it caused is published (`reanalyze: true` analyses again
 * first). For clients that must know the diagnostics are current.
 */
export const SETTLED_REQUEST = 'iommufd/settled';
export interface SettledParams {
  reanalyze?: boolean;
}

/**
 * The verified fix (a code action of kind `quickfix.iommufd.verifiedFix`):
 * for a finding in a replace helper, the repair search (src/sim/repair) looks
 * for an order of the helper's steps that keeps every invariant in the
 * simulator and whose edit the engine re-analyses clean. The search takes a
 * second or more, so the action is offered at once and its edit computed
 * when the user picks it: by `codeAction/resolve` for clients that resolve
 * `edit`, else by the server command below, which sends the edit with
 * workspace/applyEdit. Either way an answer is refused when the document
 * changed since the action was offered, or the search finds no verified order.
 */
export const VERIFIED_FIX_KIND = 'quickfix.iommufd.verifiedFix';
export const APPLY_VERIFIED_FIX_COMMAND = 'iommufd-review.applyVerifiedFix';
/** The action's `data` and the command's argument: which finding, in which version of which document. */
export interface VerifiedFixData {
  uri: string;
  version: number;
  /** The finding's 1-based line and rule. */
  line: number;
  ruleId: RuleId;
}

/**
 * Requests a server without a file system of its own (the browser Web Worker
 * server, client-host.ts) sends its client, which answers from its own file
 * system (VS Code: workspace.fs; src/extension/server-files.ts).
 */
/** → the parser's two wasm files, base64. */
export const CLIENT_WASM_REQUEST = 'iommufd/client/wasm';
export interface ClientWasmAnswer {
  runtime: string;
  language: string;
}
/** → the knowledge configuration file's text and name, or null (none, or an untrusted workspace). */
export const CLIENT_CONFIG_REQUEST = 'iommufd/client/configuration';
export type ClientConfigAnswer = { file: string; text: string } | null;
/** `{ key }` → a file's text by engine key, or null when it cannot be read. */
export const CLIENT_READ_REQUEST = 'iommufd/client/readText';
/** `{ dir }` → the names of the regular files of a directory (by engine key); [] when there is none. */
export const CLIENT_LIST_REQUEST = 'iommufd/client/listFiles';
