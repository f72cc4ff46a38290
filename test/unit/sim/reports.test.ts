import { test } from 'node:test';
import assert from 'node:assert/strict';
import { simulate, SIM_FAULTS, SIM_THREADS } from '../../../src/sim';
import type { SourceStep } from '../../../src/sim';
import { formatSimJson } from '../../../src/report/sim-json';
import { formatSimText, formatTrace } from '../../../src/report/sim-text';
import { toSimSarif } from '../../../src/report/sim-sarif';
import { validateSarif } from '../cli/sarif-schema';

const v8destroy = () =>
  simulate({ variant: 'v8', threads: ['replacer', 'destroy'], faults: ['add-access'], contract: 'status-quo' });

test('text: verdicts, then per-thread columns with the state after each step', () => {
  const text = formatSimText(v8destroy());
  const lines = text.split('\n');
  assert.equal(lines[0], 'replace-flow simulation: variant v8, contract status-quo');
  assert.ok(lines.includes('  no-use-after-free   VIOLATED (19 steps)'));
  assert.ok(lines.includes('  no-deadlock         holds'));
  const header = lines.find((l) => l.includes('| state after the step'))!;
  assert.match(header, /^\s+#\s+replacer\s+\| destroy\s+\| state after the step$/);
  // the destroy step sits in the destroy column: its row starts with an empty replacer cell
  const destroyRow = lines.find((l) => l.includes('destroy IOAS A'))!;
  const col = header.indexOf('| destroy');
  assert.equal(destroyRow.slice(6, col).trim(), '');
  assert.match(destroyRow, /A\[list - users 0 pins 0 DESTROYED\]/);
  assert.ok(lines.some((l) => l.endsWith('<-- no-use-after-free')));
});

test('text: a from-source step shows its file and line', () => {
  const steps: SourceStep[] = [
    { op: 'save-cur', action: 'old = access->ioas', file: 'drv.c', line: 10 },
    {
      op: 'add-access',
      target: 'new',
      onFail: 'return',
      action: 'iopt_add_access(&n->iopt, access)',
      file: 'drv.c',
      line: 11,
    },
    { op: 'return', error: false, action: 'return 0', file: 'drv.c', line: 12 },
  ];
  const r = simulate({ variant: 'from-source', steps, threads: ['replacer'], faults: [], contract: 'usable' });
  // it never detaches from A: not a working replace, but every invariant this scenario can reach holds
  assert.ok(r.invariants.every((i) => i.holds));
  const cx = simulate({
    variant: 'from-source',
    steps: [{ op: 'clear-ioas', action: 'access->ioas = NULL', file: 'drv.c', line: 9 }, ...steps],
    threads: ['replacer'],
    faults: ['add-access'],
    contract: 'usable',
  });
  const fc = cx.invariants.find((i) => i.id === 'failure-contract')!;
  assert.equal(fc.holds, false);
  assert.match(formatTrace(fc.counterexample!.steps), /access->ioas = NULL \(drv\.c:9\)/);
});

test('json: the issue shape, round-trips', () => {
  const r = v8destroy();
  const json = JSON.parse(formatSimJson(r));
  assert.deepEqual(Object.keys(json).slice(0, 2), ['variant', 'contract']);
  for (const k of ['states', 'elapsedMs', 'invariants', 'observations']) assert.ok(k in json, k);
  const uaf = json.invariants.find((i: { id: string }) => i.id === 'no-use-after-free');
  assert.equal(uaf.holds, false);
  const step = uaf.counterexample.steps[0];
  assert.deepEqual(Object.keys(step), ['thread', 'action', 'state']);
  assert.equal(json.states, r.states);
  const fromSource = simulate({
    variant: 'from-source',
    steps: [
      { op: 'clear-ioas', action: 'access->ioas = NULL', file: 'h.c', line: 3 },
      { op: 'return', error: false, action: 'return 0', file: 'h.c', line: 4 },
    ],
    threads: ['replacer'],
    faults: [],
    contract: 'usable',
  });
  assert.deepEqual(Object.keys(JSON.parse(formatSimJson(fromSource)).observations), []);
  const traced = simulate({
    variant: 'from-source',
    steps: [{ op: 'clear-ioas', action: 'access->ioas = NULL', file: 'h.c', line: 3 }],
    threads: ['replacer', 'driver'],
    faults: [],
    contract: 'usable',
  });
  const obs = JSON.parse(formatSimJson(traced)).observations[0];
  assert.deepEqual(Object.keys(obs.example.steps[3]), ['thread', 'action', 'file', 'line', 'state']);
});

test('sarif: valid 2.1.0, one codeFlow per counterexample, one threadFlow per thread', () => {
  const r = simulate({ variant: 'v8', threads: [...SIM_THREADS], faults: [...SIM_FAULTS], contract: 'status-quo' });
  const log = toSimSarif(r, '0.1.0');
  const v = validateSarif(log);
  assert.equal(v.valid, true, v.errors);
  const results = log.runs[0].results!;
  assert.deepEqual(
    results.map((x) => x.ruleId),
    ['sim/failure-contract', 'sim/no-use-after-free'],
  );
  for (const res of results) {
    assert.equal(res.codeFlows!.length, 1);
    const inv = r.invariants.find((i) => `sim/${i.id}` === res.ruleId)!;
    const steps = inv.counterexample!.steps;
    const flows = res.codeFlows![0].threadFlows;
    assert.deepEqual(
      flows.map((f) => f.id),
      [...new Set(steps.map((s) => s.thread))],
    );
    // every step appears once, in its thread's flow, numbered in global order
    const orders = flows.flatMap((f) => f.locations.map((l) => l.executionOrder!)).sort((a, b) => a - b);
    assert.deepEqual(
      orders,
      steps.map((_, i) => i + 1),
    );
    const first = flows[0].locations[0];
    assert.equal(first.location!.message!.text, steps[0].action);
    assert.equal(first.state!.ioas.text, 'A');
  }
  assert.equal(log.runs[0].tool.driver.rules!.length, 5);
});

test('sarif: from-source steps become physical locations', () => {
  const steps: SourceStep[] = [
    { op: 'save-cur', action: 'old = access->ioas', file: 'drv/replace.c', line: 20 },
    { op: 'clear-ioas', action: 'access->ioas = NULL', file: 'drv/replace.c', line: 21 },
    {
      op: 'add-access',
      target: 'new',
      onFail: 'return',
      action: 'iopt_add_access(&n->iopt, access)',
      file: 'drv/replace.c',
      line: 22,
    },
    { op: 'return', error: false, action: 'return 0', file: 'drv/replace.c', line: 23 },
  ];
  const r = simulate({
    variant: 'from-source',
    steps,
    threads: ['replacer'],
    faults: ['add-access'],
    contract: 'usable',
  });
  const log = toSimSarif(r, '0.1.0');
  assert.equal(validateSarif(log).valid, true);
  const res = log.runs[0].results![0];
  assert.equal(res.ruleId, 'sim/failure-contract');
  assert.equal(res.locations![0].physicalLocation!.region!.startLine, 22);
  const locs = res.codeFlows![0].threadFlows[0].locations;
  assert.ok(
    locs.some(
      (l) =>
        l.location!.physicalLocation?.artifactLocation?.uri === 'drv/replace.c' &&
        l.location!.physicalLocation!.region!.startLine === 21,
    ),
  );
});
