/**
 * The engine's public entry: everything other layers (patch, sim, report,
 * cli, extension) import. Browser-safe.
 */
export { Engine, analyzeSources } from './engine';
export type { EngineOptions } from './engine';
export * from './types';
export { witnessOf, witnessPaths } from './witness';
export type { FileModel, FunctionModel } from './model/types';
export type { ReviewConfig, Knowledge } from './knowledge/types';
export type { CParser } from './parse/syntax';
export type { Replacement } from './parse/parsed-documents';
export type { FactsStore, FileFacts } from './index/facts';
