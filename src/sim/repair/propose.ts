/**
 * A verified fix proposal for one function: its replace-flow steps from the
 * engine's model, the repair search, the edit of its source, and the
 * engine's re-analysis of the edited file. Plain data out; the CLI, the
 * reply composer and the extension present it.
 */
import { Engine } from '../../engine/engine';
import type { CParser } from '../../engine/parse/syntax';
import type { RuleId } from '../../engine/types';
import { isReplaceHelper, stepsFromSource } from '../from-source';
import type { SimContract, SimFault, SimThread, SourceStep } from '../types';
import { reanalyse } from './reanalyse';
import type { Reanalysis } from './reanalyse';
import { searchRepair } from './search';
import type { RepairBounds, RepairResult } from './search';
import { SourceEditError, sourceEditFor } from './source-edit';
import type { SourceEdit } from './source-edit';

export interface RepairInput {
  parser: CParser;
  file: string;
  text: string;
  function: string;
  threads: SimThread[];
  faults: SimFault[];
  contract: SimContract;
  /** The rules the proposal must answer (a finding's rule); default every rule with a finding in the function. */
  rules?: RuleId[];
  maxStates?: number;
  bounds?: RepairBounds;
}

export interface RepairReport {
  file: string;
  function: string;
  threads: SimThread[];
  faults: SimFault[];
  contract: SimContract;
  /** The helper's steps as the engine's model gives them. */
  steps: SourceStep[];
  search: RepairResult;
  edit?: SourceEdit;
  /** Why the proposal has no source edit. */
  editError?: string;
  reanalysis?: Reanalysis;
  /** A proposal whose edit the engine re-analysed: the answered findings are gone and none is new. */
  verified: boolean;
}

export class RepairInputError extends Error {}

/** The function's replace-flow steps, from the engine's model of the file. */
export function helperSteps(parser: CParser, file: string, text: string, fn: string): SourceStep[] {
  const engine = new Engine({ parser });
  try {
    engine.setFile(file, text);
    const model = engine.fileModel(file);
    const f = model?.functions.find((x) => x.name === fn);
    if (!model || !f)
      throw new RepairInputError(
        `no function ${fn} in ${file} (functions: ${model?.functions.map((x) => x.name).join(', ') || 'none'})`,
      );
    const steps = stepsFromSource(f, model);
    if (!isReplaceHelper(steps))
      throw new RepairInputError(`${fn} does not look like a replace helper: no iopt_add_access() call found`);
    return steps;
  } finally {
    engine.dispose();
  }
}

export function proposeRepair(input: RepairInput): RepairReport {
  const steps = helperSteps(input.parser, input.file, input.text, input.function);
  // a candidate the simulator verifies is offered only once its edit is written and the engine re-analyses it clean
  let edit: SourceEdit | undefined;
  let reanalysis: Reanalysis | undefined;
  let editError: string | undefined;
  const accept = (p: { steps: SourceStep[] }): string | undefined => {
    let e: SourceEdit;
    try {
      e = sourceEditFor(input.parser, input.file, input.text, input.function, steps, p.steps);
    } catch (err) {
      if (!(err instanceof SourceEditError)) throw err;
      editError = err.message;
      return `no source edit: ${err.message}`;
    }
    const re = reanalyse(input.parser, input.file, input.text, e.newText, input.function, input.rules);
    if (!re.gone) return `re-analysis still finds ${re.after.map((f) => `${f.ruleId} (line ${f.line})`).join(', ')}`;
    if (re.introduced.length > 0)
      return `re-analysis finds new ${re.introduced.map((f) => `${f.ruleId} (line ${f.line})`).join(', ')}`;
    edit = e;
    reanalysis = re;
    editError = undefined;
    return undefined;
  };
  const search = searchRepair(
    {
      variant: 'from-source',
      steps,
      threads: input.threads,
      faults: input.faults,
      contract: input.contract,
      ...(input.maxStates ? { maxStates: input.maxStates } : {}),
    },
    steps,
    input.bounds,
    accept,
  );
  return {
    file: input.file,
    function: input.function,
    threads: input.threads,
    faults: input.faults,
    contract: input.contract,
    steps,
    search,
    ...(edit ? { edit } : {}),
    ...(reanalysis ? { reanalysis } : {}),
    ...(!search.proposal && editError ? { editError } : {}),
    verified: !!search.proposal && !!edit && !!reanalysis,
  };
}
