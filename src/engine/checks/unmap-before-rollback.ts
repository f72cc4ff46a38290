/**
 * unmap-before-rollback: on some path a step that cannot be undone (the
 * driver's unmap, removing the access from an IOAS, dropping the last
 * reference to the old object, destroying it, or a callee that does one of
 * these) runs before a step that can fail, and that step's error path returns
 * an error or tries to restore. Whatever the error path does, the first step
 * stays done: this is v8's replace helper, which lockdep and sparse cannot
 * see because its locks are balanced.
 */
import type { FunctionModel } from '../model/types';
import type { Finding, RelatedLocation } from '../types';
import type { Check, CheckContext } from './check';
import { fingerprint, lineRef, lowerConfidence } from './check';
import { type FlowPaths, flowPathsOf } from './flow-paths';
import {
  IrreversibleSteps,
  originField,
  type IrreversibleSite,
  type IrreversibleStep,
  type LossKind,
} from './irreversible-steps';
import {
  cleanupBlocks,
  fallibleSteps,
  isFallibleCall,
  restoreSteps,
  type FallibleStep,
  type RestoreStep,
} from './rollback-steps';
import { scenarioFor } from './scenario';

const LOSS_ORDER: LossKind[] = ['driver-pins', 'pins', 'object', 'reference', 'membership', 'other'];
const LOSS_PHRASE: Record<LossKind, string> = {
  'driver-pins': 'give the driver its pins back',
  pins: 're-pin the pages that were unpinned',
  object: 'bring back the destroyed object',
  reference: 'take back the dropped reference (the object may already be freed)',
  membership: 'undo the removal',
  other: 'undo it',
};

/** "a, b and c" */
export function joinPhrases(phrases: string[]): string {
  const uniq = [...new Set(phrases)];
  if (uniq.length <= 1) return uniq[0] ?? '';
  return `${uniq.slice(0, -1).join(', ')} and ${uniq[uniq.length - 1]}`;
}

/** What a site is, independent of variable names: the callee, or `ops_struct.field` for a callback. */
function stepIdentity(site: IrreversibleSite): string {
  const ev = site.ref.event;
  if (ev.kind === 'callback') return `${ev.opsStruct ?? '?'}.${ev.field}`;
  if (ev.kind === 'call') return ev.callee;
  return site.label;
}

function describeSite(site: IrreversibleSite): string {
  const what = joinPhrases(site.steps.map((s) => s.what));
  return site.implementation
    ? `${site.label} runs \`${site.implementation}()\`, which ${what}`
    : `${site.label} ${what}`;
}

function lossOf(site: IrreversibleSite): LossKind {
  const ev = site.ref.event;
  // A driver's unmap callback drops the driver's own pins, whatever its implementation calls.
  if (ev.kind === 'callback' && /unmap/.test(ev.field)) return 'driver-pins';
  const kinds = new Set(site.steps.map((s) => s.loss));
  return LOSS_ORDER.find((k) => kinds.has(k)) ?? 'other';
}

/** A restore that reads an object whose reference an earlier step dropped. */
function useAfterPut(
  paths: FlowPaths,
  site: IrreversibleSite,
  restore: RestoreStep,
  fn: FunctionModel,
): RelatedLocation | undefined {
  for (const step of site.steps) {
    if (step.loss !== 'reference') continue;
    for (const v of restore.reads) {
      const direct = !site.throughCallee && step.droppedVar === v;
      const viaField = step.droppedFrom !== undefined && originField(paths, v, restore.ref) === step.droppedFrom;
      if (!direct && !viaField) continue;
      return {
        file: fn.file,
        line: restore.ref.event.line,
        message: `the restore reads \`${v}\` after ${stepWhere(step, fn)} dropped the reference to it (${lineRef(step.file, step.line, fn.file)}): the object may already be destroyed`,
      };
    }
  }
  return undefined;
}

function stepWhere(step: IrreversibleStep, fn: FunctionModel): string {
  return step.file === fn.file ? step.label : `${step.label} in ${step.file}`;
}

function findingFor(
  ctx: CheckContext,
  fn: FunctionModel,
  paths: FlowPaths,
  site: IrreversibleSite,
  fallible: FallibleStep,
  more: IrreversibleSite[],
): Finding | undefined {
  const restores = restoreSteps(ctx, fn, paths, fallible.region, fallible.ref);
  if (restores.length === 0 && fallible.errorReturns.length === 0) return undefined;
  const f = fallible.ref.event;
  const fLabel = `\`${f.callee}()\``;
  const errorAt = restores[0]?.ref ?? fallible.errorReturns[0];
  const loss = LOSS_PHRASE[lossOf(site)];
  const tail = restores.length > 0 ? `${restores[0].what} but cannot ${loss}` : `returns an error but cannot ${loss}`;
  const message = `${describeSite(site)} (line ${site.ref.event.line}) before ${fLabel} can fail (line ${f.line}); the error path (line ${errorAt.event.line}) ${tail}.`;

  const related: RelatedLocation[] = [
    {
      file: fn.file,
      line: site.ref.event.line,
      message: `${describeSite(site)}: cannot be undone`,
      role: site.throughCallee ? 'call' : 'irreversible',
    },
  ];
  if (site.throughCallee) {
    for (const s of site.steps)
      related.push({
        file: s.file,
        line: s.line,
        message: `${s.label} ${s.what} (inside \`${site.throughCallee}()\`)`,
        role: 'irreversible',
      });
  }
  for (const m of more)
    related.push({
      file: fn.file,
      line: m.ref.event.line,
      message: `${describeSite(m)}: cannot be undone either`,
      role: 'irreversible',
    });
  related.push({ file: fn.file, line: f.line, message: `${fLabel} can fail here`, role: 'fallible' });
  if (restores.length > 0) {
    related.push({
      file: fn.file,
      line: restores[0].ref.event.line,
      message: `the error path ${restores[0].what}`,
      role: 'restore',
    });
    const hazard = useAfterPut(paths, site, restores[0], fn);
    if (hazard) related.push(hazard);
    // The restore is itself a step that can fail (v8's re-attach inside WARN_ON).
    const r = restores[0].ref.event;
    if (r.kind === 'call' && (r.callee === fn.name || isFallibleCall(ctx, r))) {
      related.push({
        file: fn.file,
        line: r.line,
        message: `\`${r.callee}()\` can fail as well, and then nothing is restored`,
      });
    }
  }
  for (const r of fallible.errorReturns)
    related.push({ file: fn.file, line: r.event.line, message: 'returns the error to the caller', role: 'return' });

  let confidence: Finding['confidence'] = 'high';
  if (!fallible.certain && restores.length === 0) confidence = lowerConfidence(confidence);
  if (site.steps.every((s) => s.guessed)) confidence = lowerConfidence(confidence);
  if (fn.status === 'partial') confidence = lowerConfidence(confidence);
  // A callee that merely has error returns (copying a result to user space, say) is rarely a
  // step anyone means to roll back: without knowledge that it is a real fallible step, say so quietly.
  if (!fallible.known) confidence = 'low';

  const involved = [stepIdentity(site), f.callee];
  return {
    ruleId: 'unmap-before-rollback',
    severity: 'warning',
    confidence,
    message,
    file: fn.file,
    line: f.line,
    column: f.column,
    function: fn.name,
    fingerprint: fingerprint('unmap-before-rollback', fn.name, involved),
    related,
    scenario: scenarioFor('unmap-before-rollback', { file: fn.file, function: fn.name }),
  };
}

export function checkFunction(ctx: CheckContext, fn: FunctionModel, steps: IrreversibleSteps): Finding[] {
  const paths = flowPathsOf(fn);
  const fallibles = fallibleSteps(ctx, fn, paths);
  if (fallibles.length === 0) return [];
  // Cleanup on an error path is not a step of the main flow.
  const cleanup = cleanupBlocks(fallibles);
  // Each irreversible site, grouped under the first fallible step it comes before
  // (by line: the one a reader meets first). One finding per fallible step.
  const groups = new Map<FallibleStep, IrreversibleSite[]>();
  for (const r of paths.events()) {
    if (cleanup.has(r.block)) continue;
    // Only a call or callback can be a step; whether a fallible step follows is the cheaper question.
    if (r.event.kind !== 'call' && r.event.kind !== 'callback') continue;
    const next = fallibles.filter((f) => paths.before(r, f.ref)).sort((a, b) => a.ref.event.line - b.ref.event.line)[0];
    if (!next) continue;
    const site = steps.at(fn, paths, r);
    if (!site) continue;
    const list = groups.get(next);
    if (list) list.push(site);
    else groups.set(next, [site]);
  }
  const findings: Finding[] = [];
  for (const [fallible, sites] of groups) {
    const finding = findingFor(ctx, fn, paths, sites[0], fallible, sites.slice(1));
    if (finding) findings.push(finding);
  }
  return findings;
}

export const unmapBeforeRollback: Check = {
  id: 'unmap-before-rollback',
  run(ctx: CheckContext): Finding[] {
    const steps = new IrreversibleSteps(ctx);
    const out: Finding[] = [];
    for (const file of ctx.files) {
      if (!ctx.reports(file.file)) continue;
      for (const fn of file.functions) out.push(...checkFunction(ctx, fn, steps));
    }
    return out;
  },
};
