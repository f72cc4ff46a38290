/**
 * The part of the engine's `Engine` class the extension uses in its own
 * thread (src/engine/engine.ts): the patch review's sessions and the SARIF
 * export. The live analysis of the open C documents is the language
 * server's (server-analysis.ts).
 */
import type { Replacement } from '../../engine/parse/parsed-documents';
import type { AnalysisResult, Confidence } from '../../engine/types';
import type { FileModel } from '../../engine/model/types';

export interface EngineApi {
  setFile(path: string, text: string): void;
  editFile(path: string, replacements: readonly Replacement[]): void;
  removeFile(path: string): void;
  fileModel(path: string): FileModel | undefined;
  analyze(options?: { paths?: string[]; minConfidence?: Confidence }): AnalysisResult;
  dispose(): void;
}
