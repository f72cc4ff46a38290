/** Shared by the rule tests: engine fixtures analysed through `analyzeSources` with the wasm parser. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { analyzeSources } from '../../../src/engine/engine';
import type { ReviewConfig } from '../../../src/engine/knowledge/types';
import { readWasmFromDisk } from '../../../src/engine/parse/node-wasm';
import type { CParser } from '../../../src/engine/parse/syntax';
import { createWasmParser } from '../../../src/engine/parse/wasm-parser';
import type { AnalysisResult, Confidence, Finding, RuleId } from '../../../src/engine/types';

const root = path.resolve(__dirname, '../../../..');
export const engineFixtures = path.join(root, 'test/fixtures/engine');

let parser: Promise<CParser> | undefined;
/** One wasm parser for the whole test file (it is not re-entrant, and tests run one at a time). */
export function sharedParser(): Promise<CParser> {
  parser ??= createWasmParser(readWasmFromDisk());
  return parser;
}

export function fixtureSource(rel: string): { path: string; text: string } {
  return { path: path.basename(rel), text: readFileSync(path.join(engineFixtures, rel), 'utf8') };
}

/** Analyses fixture files together (paths reported by base name). */
export async function analyzeFixtures(
  rels: string[],
  options: { config?: ReviewConfig; minConfidence?: Confidence } = {},
): Promise<AnalysisResult> {
  return analyzeSources(await sharedParser(), rels.map(fixtureSource), options);
}

export function ofRule(result: AnalysisResult, rule: RuleId): Finding[] {
  return result.findings.filter((f) => f.ruleId === rule);
}

/** `line: message` of each related location, for exact comparison. */
export function relatedLines(f: Finding): number[] {
  return f.related.map((r) => r.line);
}

/** The 1-based line of the first line containing `needle` in a fixture (to keep expectations readable). */
export function lineOf(rel: string, needle: string, nth = 1): number {
  return lineInText(fixtureSource(rel).text, needle, nth, rel);
}

/** The 1-based line of the `nth` line of `text` that contains `needle` (C written inline in a test). */
export function lineInText(text: string, needle: string, nth = 1, where = 'the text'): number {
  const lines = text.split('\n');
  let seen = 0;
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].includes(needle) && ++seen === nth) return i + 1;
  }
  throw new Error(`${needle} not found in ${where}`);
}
