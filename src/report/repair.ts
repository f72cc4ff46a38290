/**
 * A repair proposal as text (the CLI), JSON (the edit as line replacements)
 * and as a suggestion for a review reply, in the mail's plain-text style.
 */
import { trimTrailing } from '../engine/text-scan';
import type { RepairReport } from '../sim/repair/propose';

/** The states the proposal was verified over (its full exploration). */
export function verifiedStates(r: RepairReport): number {
  return r.search.proposal?.verification.states ?? 0;
}

/** What to say when there is no verified proposal: the bound hit, the edit that could not be written, or what re-analysis found. */
export function repairShortfall(r: RepairReport): string | undefined {
  if (r.search.broken.length === 0) return `every invariant already holds for ${r.function}(): nothing to repair`;
  if (r.search.note) return `no search: ${r.search.note}`;
  if (!r.search.proposal) {
    const down =
      r.search.rejected.length > 0
        ? ` (${r.search.rejected.length} kept every invariant in the simulator but were turned down: ${r.search.rejected[0].why})`
        : '';
    return `no proposal: ${r.search.bound?.message ?? 'no candidate keeps every invariant'}${down}`;
  }
  if (r.editError) return `the proposal could not be written as an edit of the source: ${r.editError}`;
  const re = r.reanalysis;
  if (re && !re.gone)
    return `re-analysis of the edited function still finds: ${re.after.map((f) => `${f.ruleId} (line ${f.line})`).join(', ')}`;
  if (re && re.introduced.length > 0)
    return `re-analysis of the edited function finds something new: ${re.introduced.map((f) => `${f.ruleId} (line ${f.line})`).join(', ')}`;
  return undefined;
}

export function formatRepairText(r: RepairReport): string {
  const out: string[] = [];
  const s = r.search;
  out.push(`repair search: ${r.function}() in ${r.file}, contract ${r.contract}`);
  out.push(`threads: ${r.threads.join(', ')}; faults: ${r.faults.length ? r.faults.join(', ') : 'none'}`);
  out.push(`breaks as written: ${s.broken.length ? s.broken.join(', ') : 'nothing'}`);
  out.push(
    `searched ${s.candidates} candidates (${s.fullRuns} full explorations, ${s.states} states) in ${s.elapsedMs} ms`,
  );
  for (const x of s.rejected) out.push(`turned down: ${x.edits.map((e) => e.description).join('; ')}: ${x.why}`);
  const p = s.proposal;
  if (p) {
    out.push('');
    out.push(
      `An order that keeps every invariant, checked over ${p.verification.states} states (${p.verification.transitions} transitions, exhaustive, ${p.verification.elapsedMs} ms):`,
    );
    p.edits.forEach((e, i) => out.push(`  ${i + 1}. ${e.description}`));
    out.push('');
    out.push('The steps in the proposed order:');
    const main = p.steps.slice(0, p.steps.findIndex((x) => x.op === 'return') + 1);
    main.forEach((x, i) =>
      out.push(`  ${String(i + 1).padStart(2)}  ${x.action}${x.line ? ` (line ${x.line})` : ' (added)'}`),
    );
  }
  const short = repairShortfall(r);
  if (r.reanalysis) {
    out.push('');
    const before = r.reanalysis.before.map((f) => `${f.ruleId} (line ${f.line})`).join(', ') || 'none';
    out.push(
      `re-analysis of the edited file: before ${before}; after ${r.reanalysis.after.length ? r.reanalysis.after.map((f) => f.ruleId).join(', ') : 'none'}; new ${r.reanalysis.introduced.length ? r.reanalysis.introduced.map((f) => f.ruleId).join(', ') : 'none'}`,
    );
  }
  if (short) out.push('', short);
  if (r.edit) out.push('', r.edit.diff.trimEnd());
  return out.join('\n') + '\n';
}

export function toRepairJson(r: RepairReport): unknown {
  const p = r.search.proposal;
  return {
    file: r.file,
    function: r.function,
    threads: r.threads,
    faults: r.faults,
    contract: r.contract,
    broken: r.search.broken,
    search: {
      candidates: r.search.candidates,
      rejected: r.search.rejected,
      fullRuns: r.search.fullRuns,
      states: r.search.states,
      elapsedMs: r.search.elapsedMs,
      ...(r.search.bound ? { bound: r.search.bound } : {}),
      ...(r.search.note ? { note: r.search.note } : {}),
    },
    ...(p
      ? {
          proposal: {
            edits: p.edits,
            steps: p.steps.map(({ op, target, listId, onFail, error, action, line, origin }) => ({
              op,
              target,
              listId,
              onFail,
              error,
              action,
              line,
              origin,
            })),
            verification: {
              states: p.verification.states,
              transitions: p.verification.transitions,
              complete: p.verification.complete,
              elapsedMs: p.verification.elapsedMs,
              invariants: p.verification.invariants.map((i) => ({ id: i.id, holds: i.holds })),
            },
          },
        }
      : {}),
    ...(r.edit
      ? { edit: { file: r.edit.file, replacements: r.edit.replacements, inlined: r.edit.inlined, diff: r.edit.diff } }
      : {}),
    ...(r.editError ? { editError: r.editError } : {}),
    ...(r.reanalysis
      ? {
          reanalysis: {
            gone: r.reanalysis.gone,
            before: r.reanalysis.before.map((f) => ({ ruleId: f.ruleId, line: f.line, message: f.message })),
            after: r.reanalysis.after.map((f) => ({ ruleId: f.ruleId, line: f.line, message: f.message })),
            introduced: r.reanalysis.introduced.map((f) => ({ ruleId: f.ruleId, line: f.line, message: f.message })),
          },
        }
      : {}),
    verified: r.verified,
  };
}

export function formatRepairJson(r: RepairReport): string {
  return JSON.stringify(toRepairJson(r), null, 2) + '\n';
}

/** The unified diff alone (`--format diff`); empty when there is no edit. */
export function formatRepairDiff(r: RepairReport): string {
  return r.edit ? r.edit.diff.replace(/^=+\n/, '') : '';
}

/**
 * The proposal as a paragraph of a review reply: one sentence saying what
 * was checked, then the diff of the function, as plain text. Undefined
 * when there is no verified proposal to suggest.
 */
export function repairReplyText(r: RepairReport): string | undefined {
  const p = r.search.proposal;
  if (!p || !r.edit || !r.verified) return undefined;
  const lines = [`An order that keeps every invariant, checked over ${p.verification.states} states:`, ''];
  lines.push(...formatRepairDiff(r).trimEnd().split('\n'));
  return lines.join('\n') + '\n';
}

/**
 * Inserts a suggestion into a composed reply body: before its trailers
 * (`Reviewed-by:` and kin) at the end, else at the end.
 */
export function insertIntoReply(body: string, suggestion: string): string {
  const lines = trimTrailing(body, '\n').split('\n');
  let at = lines.length;
  while (at > 0 && /^[A-Z][A-Za-z-]*-by: /.test(lines[at - 1])) at--;
  const before = lines.slice(0, at);
  while (before.length > 0 && before[before.length - 1] === '') before.pop();
  const after = lines.slice(at);
  const parts = [...before, '', ...trimTrailing(suggestion, '\n').split('\n')];
  if (after.length > 0) parts.push('', ...after);
  return parts.join('\n') + '\n';
}
