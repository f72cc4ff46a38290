/** The simulator's public surface: browser-safe, no Node or vscode imports. */
export { simulate, programsFor, requestSteps, requestThreads } from './simulate';
export { variantSteps } from './variants';
export { stepsFromSource, isReplaceHelper } from './from-source';
export { requestFromScenario } from './scenario';
export * from './types';
