/**
 * The step list of a function for the simulator's `from-source` variant: the
 * engine's model of the function (from the live buffer when it is open)
 * turned into simulator steps by the simulator's extractor.
 */
import { stepsFromSource } from '../sim/from-source';
import type { SourceStep } from '../sim/types';
import type { AnalysisService } from './analysis/analysis-service';
import type { PatchAnnotationsApi } from './patch-annotations';

export async function stepsFromSourceFor(analysis: AnalysisService, patches: PatchAnnotationsApi, file: string, fn: string): Promise<SourceStep[]> {
  const engine = await analysis.getEngine();
  // An open C file first, else the post-image a patch review analysed.
  const f = engine.fileModel(file)?.functions.find((x) => x.name === fn) ?? patches.functionModel(file, fn);
  if (!f) throw new Error(`${fn}() is not in the analysed files (open ${file}, or the patch that adds it)`);
  const steps = stepsFromSource(f);
  if (steps.length === 0) throw new Error(`no replace-flow steps recognised in ${fn}()`);
  return steps;
}
