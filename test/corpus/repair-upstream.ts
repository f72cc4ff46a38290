/**
 * The repair search against the real upstream fixes of the real-bug
 * benchmark (test/corpus/real-bugs.ts): for each bug put back into 6.12, each
 * of its functions is given to the repair search's front door
 * (`helperSteps()`, then `proposeRepair()` when the replace-flow model covers
 * it), and the outcome is compared with the fix upstream made. docs/simulator.md's
 * table is generated from these rows (test/corpus/repair-upstream.test.ts
 * checks it), so it stays true when the model grows.
 */
import type { CParser } from '../../src/engine/parse/syntax';
import { RULE_IDS, type RuleId } from '../../src/engine/types';
import { helperSteps, proposeRepair, RepairInputError } from '../../src/sim/repair';
import { SIM_FAULTS, SIM_THREADS } from '../../src/sim/types';
import type { GoneBug, PresentBug } from './real-bugs';

export type UpstreamVerdict = 'same repair' | 'equivalent' | 'different' | 'none found';

/**
 * How a proposal compares with the upstream fix, written by whoever makes the
 * model cover a bug's function (judged from both diffs). Empty today: no
 * bug of the benchmark sits in a replace-flow helper.
 */
export const UPSTREAM_COMPARISON: Record<string, { verdict: Exclude<UpstreamVerdict, 'none found'>; why: string }> = {};

export interface UpstreamRow {
  bug: string;
  function: string;
  rule: string;
  /** Whether the replace-flow model covers the function, and if not why. */
  covered: boolean;
  verdict: UpstreamVerdict;
  why: string;
}

/** One row per function of a present bug, searched on the bug's pre-fix text. */
export function upstreamRows(parser: CParser, bug: PresentBug, preText: string): UpstreamRow[] {
  return bug.functions.map((fn): UpstreamRow => {
    const base = { bug: bug.id, function: fn, rule: bug.rule };
    try {
      helperSteps(parser, bug.file, preText, fn);
    } catch (e) {
      if (!(e instanceof RepairInputError)) throw e;
      // a function the benchmark names that is not in its file is stale data, not a verdict
      if (e.message.startsWith('no function ')) throw e;
      return {
        ...base,
        covered: false,
        verdict: 'none found',
        why: 'not a replace-flow helper (it makes no `iopt_add_access()` call): the simulator has no model of it to search',
      };
    }
    const report = proposeRepair({
      parser,
      file: bug.file,
      text: preText,
      function: fn,
      threads: [...SIM_THREADS],
      faults: [...SIM_FAULTS],
      contract: 'status-quo',
      ...(RULE_IDS.includes(bug.rule as RuleId) ? { rules: [bug.rule as RuleId] } : {}),
    });
    const known = UPSTREAM_COMPARISON[bug.id];
    if (!report.verified)
      return {
        ...base,
        covered: true,
        verdict: 'none found',
        why: report.search.bound?.message ?? report.editError ?? 'no verified proposal',
      };
    if (!known)
      throw new Error(
        `${bug.id}: ${fn}() now gets a verified proposal; compare it with the upstream fix and record it in UPSTREAM_COMPARISON`,
      );
    return { ...base, covered: true, verdict: known.verdict, why: known.why };
  });
}

export function goneRow(bug: GoneBug): UpstreamRow {
  return {
    bug: bug.id,
    function: bug.functions[0],
    rule: bug.rule,
    covered: false,
    verdict: 'none found',
    why: 'the code is gone from 6.12: nothing to search',
  };
}

export function upstreamTable(rows: readonly UpstreamRow[]): string {
  const out = [
    '| bug | function | rule | model covers | proposal vs upstream fix | why |',
    '|---|---|---|---|---|---|',
  ];
  for (const r of rows)
    out.push(
      `| ${r.bug} | \`${r.function}()\` | \`${r.rule}\` | ${r.covered ? 'yes' : 'no'} | ${r.verdict} | ${r.why} |`,
    );
  return out.join('\n');
}
