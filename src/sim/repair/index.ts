/** Repairs of a replace helper, searched with the simulator and mapped back to source. */
export { searchRepair } from './search';
export type { RepairBounds, RepairProposal, RepairResult } from './search';
export type { RepairEdit, RepairKind } from './candidates';
export type { RepairStep } from './flow';
export { proposeRepair, helperSteps, RepairInputError } from './propose';
export type { RepairInput, RepairReport } from './propose';
export { sourceEditFor, SourceEditError, applyReplacements } from './source-edit';
export type { LineReplacement, SourceEdit } from './source-edit';
export { reanalyse } from './reanalyse';
export type { Reanalysis } from './reanalyse';
export { lockLeakFix } from './lock-leak-fix';
export type { QuickFix } from './lock-leak-fix';
