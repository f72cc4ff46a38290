import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCli, repoRoot } from '../cli/run-cli';
import { parseSimulateArgs } from '../../../src/cli/simulate';
import { runSpin } from '../../../src/cli/spin-check';

test('simulate: merged holds everything, exit 0', () => {
  const r = runCli(['simulate', '--variant', 'merged', '--contract', 'usable']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^replace-flow simulation: variant merged, contract usable$/m);
  assert.match(
    r.stdout,
    /threads: replacer, driver, user-unmap, detach, destroy; faults: add-access, lookup, reattach/,
  );
  assert.match(r.stdout, /exhaustive/);
  assert.doesNotMatch(r.stdout, /VIOLATED/);
  assert.match(r.stdout, /observation pin-enoent/);
});

test('simulate: v8 with a destroy, JSON, exit 1', () => {
  const r = runCli([
    'simulate',
    '--variant',
    'v8',
    '--threads',
    'replacer,destroy',
    '--fault',
    'add-access',
    '--format',
    'json',
  ]);
  assert.equal(r.status, 1, r.stderr);
  const json = JSON.parse(r.stdout);
  assert.equal(json.variant, 'v8');
  assert.deepEqual(json.threads, ['replacer', 'destroy']);
  const holds = Object.fromEntries(json.invariants.map((i: { id: string; holds: boolean }) => [i.id, i.holds]));
  assert.deepEqual(holds, {
    'no-deadlock': true,
    'failure-contract': false,
    'pin-attached': true,
    'no-use-after-free': false,
    'list-id-consistent': true,
  });
});

test('simulate --from FILE:FUNCTION runs the fixture helper and reports its lines', () => {
  const file = path.join(repoRoot, 'test/fixtures/sim/v8-like.c');
  const r = runCli([
    'simulate',
    '--from',
    `${file}:demo_move_ioas`,
    '--threads',
    'replacer',
    '--fault',
    'add-access',
    '-f',
    'sarif',
  ]);
  assert.equal(r.status, 1, r.stderr);
  const log = JSON.parse(r.stdout);
  const res = log.runs[0].results[0];
  assert.equal(res.ruleId, 'sim/failure-contract');
  const lines = res.codeFlows[0].threadFlows[0].locations
    .map(
      (l: { location: { physicalLocation?: { region: { startLine: number } } } }) =>
        l.location.physicalLocation?.region.startLine,
    )
    .filter(Boolean);
  assert.ok(lines.includes(61) && lines.includes(66), `lines ${lines}`);
});

test('simulate --emit promela writes a model spin verifies to the same verdicts', () => {
  const r = runCli([
    'simulate',
    '--variant',
    'v7',
    '--threads',
    'replacer,driver',
    '--fault',
    'none',
    '--emit',
    'promela',
  ]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^proctype replacer\(\)/m);
  const spin = runSpin(r.stdout);
  assert.equal(spin.verdicts['list-id-consistent'], false);
  assert.equal(spin.verdicts['failure-contract'], true);
});

test('simulate: usage errors exit 2 with a message', () => {
  for (const [args, msg] of [
    [['--variant', 'v9'], /invalid --variant 'v9'/],
    [['--variant', 'v8', '--from', 'x.c:f'], /not both/],
    [['--from', 'nocolon'], /expected FILE:FUNCTION/],
    [['--threads', 'replacer,gpu'], /invalid --threads 'gpu'/],
    [['--contract', 'maybe'], /invalid --contract/],
    [['--variant', 'from-source'], /needs --from/],
  ] as const) {
    const r = runCli(['simulate', ...args]);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stdout}`);
    assert.match(r.stderr, msg);
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'sim-cli-'));
  const c = path.join(dir, 'x.c');
  writeFileSync(c, 'int other(void) { return 0; }\n');
  const missing = runCli(['simulate', '--from', `${c}:helper`]);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /no function helper in .*x\.c \(functions: other\)/);
  const notHelper = runCli(['simulate', '--from', `${c}:other`]);
  assert.equal(notHelper.status, 2);
  assert.match(notHelper.stderr, /does not look like a replace helper/);
});

test('parseSimulateArgs: defaults and the replacer is always in', () => {
  const o = parseSimulateArgs(['--threads', 'driver'])!;
  assert.deepEqual(o.request.threads, ['replacer', 'driver']);
  assert.deepEqual(o.request.faults, ['add-access', 'lookup', 'reattach']);
  assert.equal(o.request.contract, 'status-quo');
  assert.equal(o.request.variant, 'merged');
  assert.equal(parseSimulateArgs(['-h']), null);
  assert.deepEqual(parseSimulateArgs(['--fault', 'none'])!.request.faults, []);
  assert.deepEqual(parseSimulateArgs(['--fault', 'lookup', '--fault', 'reattach,lookup'])!.request.faults, [
    'lookup',
    'reattach',
  ]);
});
