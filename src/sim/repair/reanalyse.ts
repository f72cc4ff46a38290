/**
 * Re-analysis of an edited file by the engine: a proposal (or a quick fix)
 * is only offered when the finding it answers is gone and the edit brought
 * no finding of its own into the function.
 */
import { Engine } from '../../engine/engine';
import type { CParser } from '../../engine/parse/syntax';
import type { Finding, RuleId } from '../../engine/types';

export interface Reanalysis {
  /** The rule's findings in the function before and after the edit. */
  before: Finding[];
  after: Finding[];
  /** No finding of the answered rules is left in the function. */
  gone: boolean;
  /** Findings in the function after the edit whose rule and message were not there before. */
  introduced: Finding[];
}

function findingsIn(
  parser: CParser,
  file: string,
  text: string,
  fn: string,
  minConfidence: Finding['confidence'],
): Finding[] {
  const engine = new Engine({ parser });
  try {
    engine.setFile(file, text);
    return engine.analyze({ paths: [file], minConfidence }).findings.filter((f) => f.function === fn);
  } finally {
    engine.dispose();
  }
}

/**
 * Runs the engine on the file before and after the edit (the function's
 * findings at every confidence). `rules`: the rules the edit answers
 * (default: every rule with a finding in the function before).
 */
export function reanalyse(
  parser: CParser,
  file: string,
  oldText: string,
  newText: string,
  fn: string,
  rules?: readonly RuleId[],
): Reanalysis {
  const all = findingsIn(parser, file, oldText, fn, 'low');
  const now = findingsIn(parser, file, newText, fn, 'low');
  const answered = new Set<RuleId>(rules ?? all.map((f) => f.ruleId));
  const key = (f: Finding): string => `${f.ruleId}\u0000${f.fingerprint}`;
  const had = new Set(all.map(key));
  return {
    before: all.filter((f) => answered.has(f.ruleId)),
    after: now.filter((f) => answered.has(f.ruleId)),
    gone: !now.some((f) => answered.has(f.ruleId)),
    introduced: now.filter((f) => !had.has(key(f))),
  };
}
