/**
 * The part of the engine's `Engine` class the editor uses (src/engine/engine.ts).
 * Kept as an interface so the analysis service can be driven by the real engine
 * from either entry (Node or browser) without caring how it was built.
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
