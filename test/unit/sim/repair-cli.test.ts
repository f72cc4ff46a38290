import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { runCli, repoRoot } from '../cli/run-cli';
import { applyReplacements } from '../../../src/sim/repair';
import { insertIntoReply } from '../../../src/report/repair';

const V8_LIKE = path.join(repoRoot, 'test/fixtures/sim/v8-like.c');
const TOY = path.join(repoRoot, 'examples/c/toy_replace_detach_first.c');

test('simulate --repair: text names the checked states, the edits, the re-analysis and the diff; exit 0', () => {
  const r = runCli(['simulate', '--from', `${V8_LIKE}:demo_move_ioas`, '--repair']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^repair search: demo_move_ioas\(\) in .*v8-like\.c, contract status-quo$/m);
  assert.match(r.stdout, /^breaks as written: failure-contract, no-use-after-free$/m);
  const states = Number(
    /An order that keeps every invariant, checked over (\d+) states \(\d+ transitions, exhaustive, \d+ ms\):/.exec(
      r.stdout,
    )?.[1],
  );
  assert.ok(states > 10000, r.stdout);
  assert.match(
    r.stdout,
    /move `iopt_add_access\(&target->iopt, access\)` \(line 66\) before `mutex_unlock\(&access->ioas_lock\)` \(line 60\)/,
  );
  assert.match(
    r.stdout,
    /re-analysis of the edited file: before unmap-before-rollback \(line 66\); after none; new none/,
  );
  assert.match(r.stdout, /^-\t\tWARN_ON\(demo_move_ioas\(access, prev->obj\.id\)\);$/m);
  assert.match(r.stdout, /^\+\t\taccess->ioas = prev;$/m);
});

test('simulate --repair --format json: the edit as line replacements that give the diffed text', () => {
  const r = runCli(['simulate', '--from', `${TOY}:toy_replace_detach_first`, '--repair', '--format', 'json']);
  assert.equal(r.status, 0, r.stderr);
  const json = JSON.parse(r.stdout);
  assert.equal(json.verified, true);
  assert.deepEqual(json.broken, ['failure-contract', 'no-use-after-free']);
  assert.deepEqual(
    json.proposal.verification.invariants.map((i: { holds: boolean }) => i.holds),
    [true, true, true, true, true],
  );
  assert.deepEqual(
    json.reanalysis.before.map((f: { ruleId: string; line: number }) => [f.ruleId, f.line]),
    [['unmap-before-rollback', 34]],
  );
  assert.deepEqual(json.reanalysis.after, []);
  const edited = applyReplacements(readFileSync(TOY, 'utf8'), json.edit.replacements);
  assert.ok(
    !/toy_detach_locked\(access\);/.test(edited.slice(edited.indexOf('toy_replace_detach_first('))),
    'the helper call is written out',
  );
  assert.match(edited, /iopt_remove_access\(&cur->iopt, access, saved_id\);/);
  assert.equal(json.edit.inlined[0], 'toy_detach_locked');
});

test('simulate --repair --format diff prints the unified diff only; usage errors exit 2', () => {
  const d = runCli(['simulate', '--from', `${TOY}:toy_replace_detach_first`, '--repair', '--format', 'diff']);
  assert.equal(d.status, 0, d.stderr);
  assert.match(d.stdout, /^--- a\/.*toy_replace_detach_first\.c\n\+\+\+ b\/.*toy_replace_detach_first\.c\n@@ /);
  for (const [args, msg] of [
    [['simulate', '--repair'], /--repair needs --from FILE:FUNCTION/],
    [['simulate', '--variant', 'v8', '--format', 'diff'], /--format diff needs --repair/],
    [
      ['simulate', '--from', `${TOY}:toy_replace_detach_first`, '--repair', '-f', 'sarif'],
      /--repair writes text, json or diff, not sarif/,
    ],
    [
      ['simulate', '--from', `${TOY}:toy_access_replace`, '--repair'],
      /toy_access_replace does not look like a replace helper/,
    ],
  ] as const) {
    const r = runCli([...args]);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stdout}`);
    assert.match(r.stderr, msg);
  }
});

test('a candidate the simulator accepts under a narrow scenario but the engine still flags is turned down, and the search goes on', () => {
  // with only the driver and the add fault, moving the unmap after the add keeps the simulated invariants,
  // but the edited function still removes the access from the old IOAS before the add can fail
  const r = runCli([
    'simulate',
    '--from',
    `${TOY}:toy_replace_detach_first`,
    '--repair',
    '--threads',
    'replacer,driver',
    '--fault',
    'add-access',
    '--format',
    'json',
  ]);
  assert.equal(r.status, 0, r.stderr);
  const json = JSON.parse(r.stdout);
  assert.ok(json.search.rejected.length >= 1);
  assert.match(json.search.rejected[0].why, /^re-analysis still finds unmap-before-rollback \(line \d+\)$/);
  assert.equal(json.verified, true);
  assert.deepEqual(json.reanalysis.after, []);
});

test('the reply paragraph goes before the trailers, byte for byte', () => {
  const body = 'On Mon, A wrote:\n> +\trc = x();\n\nThis detaches first.\n\nReviewed-by: R <r@example.org>\n';
  const suggestion =
    'An order that keeps every invariant, checked over 5 states:\n\n--- a/f.c\n+++ b/f.c\n@@ -1 +1 @@\n-a\n+b\n';
  const out = insertIntoReply(body, suggestion);
  assert.equal(
    out,
    `On Mon, A wrote:\n> +\trc = x();\n\nThis detaches first.\n\n${suggestion}\nReviewed-by: R <r@example.org>\n`,
  );
  assert.equal(insertIntoReply('Thanks.\n', suggestion), `Thanks.\n\n${suggestion}`);
});
