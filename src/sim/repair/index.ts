/** Repairs of a replace helper, searched with the simulator and mapped back to source. */
export { searchRepair } from './search';
export type { RepairBounds, RepairProposal, RepairResult } from './search';
export type { RepairEdit, RepairKind } from './candidates';
export type { RepairStep } from './flow';
