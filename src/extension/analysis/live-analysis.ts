/**
 * What the editor's live analysis of the open C documents (the language
 * server's client, `server-analysis.ts`) offers the rest of the extension:
 * the status bar, commands, the simulator panel and the tests read this,
 * never the server's protocol.
 */
import type * as vscode from 'vscode';
import type { FileModel } from '../../engine/model/types';
import type { LockGraph } from '../../engine/types';
import type { AnalysisStatus } from '../../lsp/protocol';

/** The server's status (src/lsp/protocol.ts), plus `idle` before any C file. */
export type AnalysisState = Omit<AnalysisStatus, 'phase'> & { phase: AnalysisStatus['phase'] | 'idle' };

export interface DiagnosticsController {
  /** Resolves once the analysis requested so far has finished and is shown (for tests and commands). */
  settled(): Promise<void>;
  reanalyze(): void;
}

export interface LiveAnalysis extends vscode.Disposable, DiagnosticsController {
  readonly state: AnalysisState;
  readonly onDidChangeState: vscode.Event<AnalysisState>;
  /** Activation to the engine being ready (server answered initialize, or wasm loaded), once it is. */
  readonly engineReadyMs?: number;
  /** True while context files are being read in the background. */
  readonly readingContext: boolean;
  /** The engine's model of a file it holds (open or context), for from-source simulation. */
  fileModel(file: string): Promise<FileModel | undefined>;
  /** The lock-class graph of the analysed files; undefined before any C file. */
  lockGraph(): Promise<LockGraph | undefined>;
}
