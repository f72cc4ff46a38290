/**
 * The step list of a function for the simulator's `from-source` variant: the
 * engine's model of the function (from the live buffer when it is open)
 * turned into simulator steps by the simulator's extractor.
 */
import type { SourceStep } from '../sim/types';
import type { AnalysisService } from './analysis/analysis-service';

export async function stepsFromSourceFor(analysis: AnalysisService, file: string, fn: string): Promise<SourceStep[]> {
  const engine = await analysis.getEngine();
  const model = engine.fileModel(file);
  if (!model) throw new Error(`${file} is not open in the analysis; open it first`);
  const f = model.functions.find((x) => x.name === fn);
  if (!f) throw new Error(`${fn}() is not in ${file} any more`);
  const sim = (await import('../sim')) as unknown as { stepsFromSource?: (m: typeof f) => SourceStep[] };
  if (typeof sim.stepsFromSource !== 'function') throw new Error('this build of the simulator cannot extract steps from source yet; choose a built-in variant');
  return sim.stepsFromSource(f);
}
