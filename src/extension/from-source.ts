/**
 * The engine's model of the functions a simulation replays from source: the
 * file's model from the live analysis (the language server on Node hosts) when it holds it, else the post-image
 * function a patch review analysed.
 */
import type { FunctionModel } from '../engine/model/types';
import { stepsFromSource } from '../sim/from-source';
import type { SourceStep } from '../sim/types';
import type { LiveAnalysis } from './analysis/live-analysis';
import type { PatchAnnotationsApi } from './patch-annotations';

export async function sourceModelFor(
  analysis: LiveAnalysis,
  patches: PatchAnnotationsApi,
  file: string,
  fn: string,
): Promise<{ functions: FunctionModel[] } | undefined> {
  const model = await analysis.fileModel(file);
  if (model?.functions.some((x) => x.name === fn)) return model;
  const f = patches.functionModel(file, fn);
  return f ? { functions: [f] } : undefined;
}

export async function stepsFromSourceFor(
  analysis: LiveAnalysis,
  patches: PatchAnnotationsApi,
  file: string,
  fn: string,
): Promise<SourceStep[]> {
  const model = await sourceModelFor(analysis, patches, file, fn);
  const f = model?.functions.find((x) => x.name === fn);
  if (!model || !f) throw new Error(`${fn}() is not in the analysed files (open ${file}, or the patch that adds it)`);
  // with the whole file, calls to its other functions are followed inline (a detach helper called by the replace)
  const steps = stepsFromSource(f, model);
  if (steps.length === 0) throw new Error(`no replace-flow steps recognised in ${fn}()`);
  return steps;
}
