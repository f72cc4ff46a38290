/**
 * From a finding's scenario to a simulation request: what the "Simulate" link
 * of a finding runs. For `from-source` the helper's steps come from the
 * engine's model of the file the finding points at.
 */
import type { FileModel } from '../engine/model/types';
import type { Scenario } from '../engine/types';
import { stepsFromSource } from './from-source';
import type { SimulationRequest } from './types';

export function requestFromScenario(scenario: Scenario, fileModel?: FileModel): SimulationRequest {
  if (scenario.variant === 'lock-model' || scenario.variant === 'none')
    throw new Error(`scenario ${scenario.variant} is not a replace-flow simulation`);
  const base = {
    variant: scenario.variant,
    threads: [...scenario.threads],
    faults: [...scenario.faults],
    contract: scenario.contract,
  };
  if (scenario.variant !== 'from-source') return base;
  const fn = fileModel?.functions.find((f) => f.name === scenario.function);
  if (!fileModel || !fn)
    throw new Error(
      `from-source scenario: no model of ${scenario.function ?? '(no function)'} in ${scenario.file ?? '(no file)'}`,
    );
  return { ...base, steps: stepsFromSource(fn, fileModel) };
}
