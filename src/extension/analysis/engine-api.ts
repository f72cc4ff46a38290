/**
 * The part of the engine's `Engine` class the extension uses (src/engine/engine.ts).
 * `EngineApi` is the engine in this thread, synchronous: the patch review's
 * sessions use it. `LiveEngine` is the browser host's live engine behind an
 * asynchronous interface (`inThreadLiveEngine`), as the analysis service
 * drives it; Node hosts analyse in the language server instead.
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

export interface LiveEngine {
  /** `fromIndex`: the file's facts came from the persistent index (it was not parsed). */
  setFile(path: string, text: string): Promise<{ fromIndex: boolean }>;
  editFile(path: string, replacements: readonly Replacement[]): Promise<void>;
  removeFile(path: string): Promise<void>;
  fileModel(path: string): Promise<FileModel | undefined>;
  analyze(options?: { paths?: string[]; minConfidence?: Confidence }): Promise<AnalysisResult>;
  /** Notes about the persistent index met so far (unwritable, entries set aside): one line each. */
  indexNotes(): Promise<string[]>;
  dispose(): void;
}

/** The engine in this thread behind the live interface (no persistent index here). */
export function inThreadLiveEngine(engine: EngineApi): LiveEngine {
  // async functions: a throw becomes a rejection, as from the worker
  return {
    setFile: async (path, text) => {
      engine.setFile(path, text);
      return { fromIndex: false };
    },
    editFile: async (path, replacements) => engine.editFile(path, replacements),
    removeFile: async (path) => engine.removeFile(path),
    fileModel: async (path) => engine.fileModel(path),
    analyze: async (options) => engine.analyze(options),
    indexNotes: async () => [],
    dispose: () => engine.dispose(),
  };
}
