/**
 * The simulator panel's view of a repair search (what "Find a verified
 * order" shows): on the detach-first example with its finding's own
 * scenario, the merged order with every invariant kept, the diff classified
 * line by line, and the reply paragraph the report layer words.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { CParser } from '../../../src/engine';
import { createParser } from '../../../src/engine/node/create-parser';
import { repairReplyText, repairShortfall } from '../../../src/report/repair';
import { viewOfRepair } from '../../../src/sim/panel-view';
import { canRepair } from '../../../src/sim/panel-protocol';
import { proposeRepair } from '../../../src/sim/repair';
import type { RepairReport } from '../../../src/sim/repair';

const ROOT = path.resolve(__dirname, '../../../..');
const TOY = 'examples/c/toy_replace_detach_first.c';

let parser: CParser;
let report: RepairReport;
before(async () => {
  parser = await createParser('wasm');
  // the finding's scenario, as the code action hands it to the panel
  report = proposeRepair({
    parser,
    file: TOY,
    text: readFileSync(path.join(ROOT, TOY), 'utf8'),
    function: 'toy_replace_detach_first',
    threads: ['replacer', 'driver'],
    faults: ['add-access'],
    contract: 'status-quo',
    rules: ['unmap-before-rollback'],
  });
});
after(() => parser.dispose());

test('the view of a verified proposal: the merged order, every invariant kept, the counts, the diff and the reply', () => {
  const v = viewOfRepair(report, { reply: repairReplyText(report), shortfall: repairShortfall(report) });
  assert.equal(v.verified, true);
  const states = report.search.proposal!.verification.states;
  assert.equal(
    v.headline,
    `An order of toy_replace_detach_first() that keeps every invariant, checked over ${states} states.`,
  );
  const actions = v.steps.map((s) => s.action);
  const at = (a: string): number => actions.indexOf(a);
  assert.ok(at('iopt_add_access(&new_ioas->iopt, access)') >= 0, actions.join(' | '));
  assert.ok(
    at('iopt_add_access(&new_ioas->iopt, access)') < at('mutex_unlock(&access->ioas_lock)'),
    actions.join(' | '),
  );
  assert.equal(at('access->ops->unmap(access->data, 0, ULONG_MAX)'), at('mutex_unlock(&access->ioas_lock)') + 1);
  assert.equal(at('mutex_lock(&access->ioas_lock)'), at('access->ops->unmap(access->data, 0, ULONG_MAX)') + 1);
  assert.ok(at('mutex_lock(&access->ioas_lock)') < at('refcount_dec(&cur->obj.users)'));
  assert.equal(actions[actions.length - 1], 'return 0');
  // the original steps keep their lines; an added one has none
  assert.equal(v.steps.find((s) => s.action === 'iopt_add_access(&new_ioas->iopt, access)')?.line, 34);
  assert.deepEqual(
    v.invariants,
    report.search.proposal!.verification.invariants.map((i) => ({ id: i.id, holds: true })),
  );
  assert.deepEqual(
    v.invariants.map((i) => i.id),
    ['no-deadlock', 'failure-contract', 'pin-attached', 'no-use-after-free', 'list-id-consistent'],
  );
  assert.match(v.stats!, /^\d+ states, \d+ transitions, \d+ ms, exhaustive$/);
  assert.match(
    v.search,
    /^searched \d+ candidates \(\d+ full explorations, \d+ states\) in \d+ ms; broken as written: failure-contract/,
  );
  assert.equal(v.edits.length, report.search.proposal!.edits.length);
  // the diff, line by line, classified; the separator line of jsdiff is left out
  assert.deepEqual(v.diff.slice(0, 3), [
    { kind: 'file', text: `--- a/${TOY}` },
    { kind: 'file', text: `+++ b/${TOY}` },
    { kind: 'hunk', text: v.diff[2].text },
  ]);
  assert.match(v.diff[2].text, /^@@ -\d+,\d+ \+\d+,\d+ @@$/);
  assert.ok(v.diff.some((l) => l.kind === 'add' && l.text === '+\t\taccess->ioas = cur;'));
  assert.ok(v.diff.some((l) => l.kind === 'del' && l.text === '-\t\tWARN_ON(toy_replace_detach_first(access, cur));'));
  assert.equal(v.diff.map((l) => l.text).join('\n') + '\n', report.edit!.diff.replace(/^=+\n/, ''));
  assert.equal(v.applicable, true);
  assert.equal(v.reply, repairReplyText(report));
  assert.ok(
    v.reply!.startsWith(`An order that keeps every invariant, checked over ${states} states:\n\n--- a/${TOY}\n`),
  );
  assert.equal(v.shortfall, undefined);
});

test('the view without a proposal says why and offers nothing to apply or insert', () => {
  const none: RepairReport = {
    ...report,
    search: {
      ...report.search,
      proposal: undefined,
      rejected: [],
      bound: { kind: 'time', message: 'stopped after 10 ms without a candidate that keeps every invariant' },
    },
    verified: false,
  };
  delete (none as { edit?: unknown }).edit;
  const shortfall = repairShortfall(none);
  const v = viewOfRepair(none, { reply: repairReplyText(none), shortfall });
  assert.equal(v.verified, false);
  assert.equal(v.headline, 'No verified order for toy_replace_detach_first().');
  assert.equal(v.shortfall, 'no proposal: stopped after 10 ms without a candidate that keeps every invariant');
  assert.deepEqual([v.steps, v.edits, v.invariants, v.diff], [[], [], [], []]);
  assert.equal(v.applicable, false);
  assert.equal(v.reply, undefined);
});

test('only a replace helper replayed from source offers the search', () => {
  const base = { threads: ['replacer' as const], faults: [], contract: 'status-quo' as const };
  assert.equal(canRepair({ ...base, variant: 'from-source', file: 'a.c', function: 'f' }), true);
  assert.equal(canRepair({ ...base, variant: 'v8' }), false);
  assert.equal(
    canRepair({
      ...base,
      variant: 'lock-model',
      finding: { ruleId: 'lock-leak', message: 'm', file: 'a.c', line: 1, function: 'f' },
    }),
    false,
  );
  assert.equal(canRepair(undefined), false);
});
