import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { CParser, RuleId } from '../../../src/engine';
import { createParser } from '../../../src/engine/node/create-parser';
import { applyFileDiff } from '../../../src/patch/apply';
import { parseMailDiff } from '../../../src/patch/diff';
import { parseSeries } from '../../../src/patch/series';
import { SIM_FAULTS, SIM_THREADS, variantSteps } from '../../../src/sim';
import type { SimFault, SimThread } from '../../../src/sim';
import { applyReplacements, helperSteps, proposeRepair, searchRepair } from '../../../src/sim/repair';
import type { RepairReport, RepairStep } from '../../../src/sim/repair';

const ROOT = path.resolve(__dirname, '../../../..');
const ALL = { threads: [...SIM_THREADS], faults: [...SIM_FAULTS], contract: 'status-quo' as const };

let parser: CParser;
before(async () => {
  parser = await createParser('wasm');
});
after(() => parser.dispose());

/** A step as the search sees it: what it does, on what, with which id (not its text). */
const shape = (s: RepairStep): string => `${s.op}${s.target ? `(${s.target})` : ''}${s.listId ? `[${s.listId}]` : ''}`;
/** The proposal's main path and each error path, as shapes. */
function order(r: RepairReport): { main: string[]; errors: string[][] } {
  const steps = r.search.proposal!.steps;
  const end = steps.findIndex((s) => s.op === 'return');
  const errors: string[][] = [];
  for (const s of steps.slice(0, end + 1)) {
    if (typeof s.onFail !== 'number') continue;
    const block: string[] = [];
    for (let k = s.onFail; k < steps.length; k++) {
      block.push(shape(steps[k]));
      if (steps[k].op === 'return') break;
    }
    errors.push(block);
  }
  return { main: steps.slice(0, end + 1).map(shape), errors };
}

function propose(
  file: string,
  fn: string,
  text = readFileSync(file, 'utf8'),
  scenario: { threads: SimThread[]; faults: SimFault[]; contract: 'status-quo' | 'usable' } = ALL,
  rules?: RuleId[],
): RepairReport {
  originals.set(file, text);
  return proposeRepair({ parser, file, text, function: fn, ...scenario, ...(rules ? { rules } : {}) });
}

/** Verified: every invariant holds over a complete exploration, the edit re-analysed clean. */
function assertVerified(r: RepairReport, rule: string): void {
  const p = r.search.proposal;
  assert.ok(p, `a proposal (${r.search.bound?.message ?? r.search.note ?? ''})`);
  assert.equal(p.verification.complete, true);
  assert.deepEqual(
    p.verification.invariants.filter((i) => !i.holds).map((i) => i.id),
    [],
  );
  assert.equal(r.editError, undefined);
  assert.ok(
    r.reanalysis!.before.some((f) => f.ruleId === rule),
    `${rule} found before the edit`,
  );
  assert.deepEqual(
    r.reanalysis!.after.map((f) => `${f.ruleId}:${f.line}`),
    [],
    'the rule has no finding in the edited function',
  );
  assert.deepEqual(
    r.reanalysis!.introduced.map((f) => `${f.ruleId}:${f.message}`),
    [],
    'the edit brings no new finding',
  );
  assert.equal(r.verified, true);
  // the line replacements and the diff describe the same edit
  assert.equal(applyReplacements(r.reanalysis ? readOriginal(r) : '', r.edit!.replacements), r.edit!.newText);
}

const originals = new Map<string, string>();
const readOriginal = (r: RepairReport): string => originals.get(r.file) ?? readFileSync(r.file, 'utf8');

/** The merged order's properties: added before the unmap and the remove, the lock dropped right around the callback only. */
function assertMergedLike(main: string[]): void {
  const at = (s: string): number => main.indexOf(s);
  assert.ok(
    at('add-access(new)') >= 0 && at('add-access(new)') < at('unmap-callback'),
    'the new IOAS is added before the driver unmaps',
  );
  assert.ok(
    at('add-access(new)') < at('remove-access(cur)[saved]'),
    'and before the old one is removed, with the saved list id',
  );
  assert.equal(main[at('unmap-callback') - 1], 'unlock');
  assert.equal(main[at('unmap-callback') + 1], 'lock');
  assert.equal(main.filter((s) => s === 'unlock').length, 1, 'ioas_lock is dropped only around the callback');
  assert.ok(
    at('save-id') >= 0 && at('save-id') < at('add-access(new)'),
    'the list id is kept in a local before the add overwrites it',
  );
}

async function v8PostImage(): Promise<string> {
  const series = await parseSeries(new Uint8Array(readFileSync(path.join(ROOT, 'examples/series/v8.mbox'))), 'v8.mbox');
  let device = readFileSync(path.join(ROOT, 'examples/series/tree/drivers/iommu/iommufd/device.c'), 'utf8');
  for (const mail of series.patches)
    for (const f of parseMailDiff(mail).files) {
      if (f.newPath !== 'drivers/iommu/iommufd/device.c') continue;
      const r = applyFileDiff(device, f);
      assert.ok(r.placements.every((p) => p.applied));
      device = r.text!;
    }
  return device;
}

test('v8 series post-image: the search finds the merged order for iommufd_access_change_ioas_id() by itself', async () => {
  const text = await v8PostImage();
  const file = 'drivers/iommu/iommufd/device.c';
  const r = propose(file, 'iommufd_access_change_ioas_id', text);
  assert.deepEqual(r.search.broken, ['failure-contract', 'no-use-after-free']);
  assertVerified(r, 'unmap-before-rollback');
  const { main, errors } = order(r);
  // the detach helper's steps are laid out in the caller: add first, then unmap and remove the old IOAS
  assert.deepEqual(main, [
    'save-cur',
    'save-id',
    'save-cur',
    'clear-ioas',
    'add-access(new)',
    'unlock',
    'unmap-callback',
    'lock',
    'remove-access(cur)[saved]',
    'put-ref(cur)',
    'get-ref(new)',
    'set-ioas(new)',
    'return',
  ]);
  assertMergedLike(main);
  // the old ioas restored on failure, no re-attach by id
  assert.deepEqual(errors, [['restore-ioas', 'return']]);
  assert.deepEqual(r.search.proposal!.edits.map((e) => e.kind).sort(), [
    'drop-overwritten',
    'keep-in-local',
    'move',
    'undo-on-error',
  ]);
  assert.deepEqual(r.edit!.inlined, ['__iommufd_access_detach']);
  // the edited function no longer calls the detach helper and keeps the unmap under its guard
  const fnText = r.edit!.newText.slice(r.edit!.newText.indexOf('static int iommufd_access_change_ioas_id'));
  assert.doesNotMatch(fnText.slice(0, fnText.indexOf('\n}\n')), /__iommufd_access_detach\(access\)|WARN_ON/);
});

test('v8-like fixture: add first, restore on failure, keep the list id', () => {
  const r = propose(path.join(ROOT, 'test/fixtures/sim/v8-like.c'), 'demo_move_ioas');
  assertVerified(r, 'unmap-before-rollback');
  const { main, errors } = order(r);
  assert.deepEqual(main, [
    'save-cur',
    'save-id',
    'same-check',
    'clear-ioas',
    'add-access(new)',
    'unlock',
    'unmap-callback',
    'lock',
    'remove-access(cur)[saved]',
    'put-ref(cur)',
    'set-ioas(new)',
    'get-ref(new)',
    'return',
  ]);
  assert.deepEqual(errors, [['restore-ioas', 'return']]);
  assertMergedLike(main);
  // the moved call keeps its source line; the added save has none
  const steps = r.search.proposal!.steps;
  assert.equal(steps.find((s) => s.op === 'add-access')!.line, 66);
  assert.equal(steps.find((s) => s.op === 'save-id')!.line, undefined);
});

test('the engine fixture with a detach helper (v8 shape) gets the same order', () => {
  const r = propose(
    path.join(ROOT, 'test/fixtures/engine/unmap-before-rollback/v8-detach-first.c'),
    'emu_access_set_ioas',
  );
  assertVerified(r, 'unmap-before-rollback');
  const { main, errors } = order(r);
  assertMergedLike(main);
  assert.deepEqual(errors, [['restore-ioas', 'return']]);
  // the undo goes inside the `if (ret)` before its goto: the shared exit label is not touched
  assert.match(r.edit!.newText, /if \(ret\) \{\n\t\tacc->ioas = prev_ioas;\n\t\tgoto out_put;\n\t\}/);
  assert.match(r.edit!.newText, /out_put:\n\tiommufd_put_object\(acc->ictx, &next_ioas->obj\);\n\treturn ret;/);
});

test('built-in v8 step list: the same order under either contract, state count and time reported', () => {
  const r = searchRepair({ variant: 'from-source', ...ALL }, variantSteps('v8'));
  const p = r.proposal!;
  const main = p.steps.slice(0, p.steps.findIndex((s) => s.op === 'return') + 1).map(shape);
  assertMergedLike(main);
  assert.ok(p.verification.states > 10000, `verified over ${p.verification.states} states`);
  assert.ok(r.elapsedMs >= 0 && r.candidates > 0 && r.fullRuns >= 2);
});

test('unmap-under-lock: drop the lock around the callback (built-in variant and a fixture with a goto unwind)', () => {
  const built = searchRepair({ variant: 'from-source', ...ALL }, variantSteps('unmap-under-lock'));
  assert.deepEqual(built.broken, ['no-deadlock']);
  assert.deepEqual(
    built.proposal!.edits.map((e) => e.kind),
    ['drop-lock'],
  );
  const r = propose(path.join(ROOT, 'test/fixtures/sim/unmap-under-lock-like.c'), 'demo_rehome');
  assert.deepEqual(r.search.broken, ['no-deadlock']);
  assertVerified(r, 'callback-under-lock');
  assert.deepEqual(
    r.search.proposal!.edits.map((e) => e.kind),
    ['drop-lock'],
  );
  const { main } = order(r);
  assert.deepEqual(main.slice(main.indexOf('unmap-callback') - 1, main.indexOf('unmap-callback') + 2), [
    'unlock',
    'unmap-callback',
    'lock',
  ]);
  assert.deepEqual(
    r.edit!.replacements.map((x) => [x.start, x.end, x.lines]),
    [
      [58, 57, ['\tmutex_unlock(&acc->ioas_lock);']],
      [61, 60, ['\tmutex_lock(&acc->ioas_lock);']],
    ],
  );
});

test("v7 list-id fixture: keep the id in a local until success (the finding's scenario), plus the revalidation under every thread", () => {
  const file = path.join(ROOT, 'test/fixtures/engine/unrestored-state/v7-list-id.c');
  // the unrestored-state finding's own scenario and rule
  const own = propose(
    file,
    'mdev_access_move',
    undefined,
    { threads: ['replacer', 'driver'], faults: ['add-access'], contract: 'status-quo' },
    ['unrestored-state'],
  );
  assert.equal(own.verified, true);
  assert.deepEqual(own.search.broken, ['list-id-consistent']);
  assert.deepEqual(
    own.search.proposal!.edits.map((e) => e.kind),
    ['keep-in-local'],
  );
  assert.deepEqual(order(own).main, [
    'save-cur',
    'save-id',
    'add-access(new)',
    'get-ref(new)',
    'unlock',
    'unmap-callback',
    'lock',
    'remove-access(cur)[saved]',
    'put-ref(cur)',
    'set-ioas(new)',
    'return',
  ]);
  assert.equal(own.reanalysis!.after.filter((f) => f.ruleId === 'unrestored-state').length, 0);
  assert.ok(
    own.edit!.newText.includes('\tu32 saved_id = access->iopt_access_list_id;\n\tint rc;'),
    'declared with the other locals',
  );
  assert.ok(own.edit!.newText.includes('iopt_remove_access(&from->iopt, access, saved_id);'));

  const every = propose(file, 'mdev_access_move');
  assert.deepEqual(every.search.broken, ['no-use-after-free', 'list-id-consistent']);
  assertVerified(every, 'unrestored-state');
  assert.deepEqual(
    every.search.proposal!.edits.map((e) => e.kind),
    ['keep-in-local', 'revalidate'],
  );
  const main = order(every).main;
  assert.ok(main.indexOf('busy-check') < main.indexOf('add-access(new)'));
  assert.equal(main[main.indexOf('unlock') - 1], 'clear-ioas', 'access->ioas = NULL before the lock is dropped');
});

test('the search is bounded and says which bound stopped it', () => {
  const v8 = variantSteps('v8');
  const edits = searchRepair({ variant: 'from-source', ...ALL }, v8, { maxEdits: 1 });
  assert.equal(edits.proposal, undefined);
  assert.deepEqual(edits.bound, { kind: 'edits', message: 'no combination of up to 1 edits keeps every invariant' });
  const few = searchRepair({ variant: 'from-source', ...ALL }, v8, { maxCandidates: 3 });
  assert.equal(few.bound?.kind, 'candidates');
  assert.match(few.bound!.message, /stopped after 3 candidates/);
  const states = searchRepair({ variant: 'from-source', ...ALL, maxStates: 100 }, v8);
  assert.equal(states.bound?.kind, 'states');
});

test('nothing to repair: the merged-like helper keeps every invariant as written', () => {
  const r = propose(path.join(ROOT, 'test/fixtures/sim/merged-like.c'), 'demo_switch_ioas');
  assert.deepEqual(r.search.broken, []);
  assert.equal(r.search.proposal, undefined);
  assert.equal(r.search.candidates, 0);
});

test('a function that is not a replace helper is refused with a clear message', () => {
  const file = path.join(ROOT, 'test/fixtures/engine/callback-under-lock/unmap-under-ioas-lock.c');
  assert.throws(
    () => helperSteps(parser, file, readFileSync(file, 'utf8'), 'acc_flush_all'),
    /acc_flush_all does not look like a replace helper/,
  );
  assert.throws(() => helperSteps(parser, file, readFileSync(file, 'utf8'), 'nope'), /no function nope in/);
});
