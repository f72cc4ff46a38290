/**
 * A short, fixed-seed fuzz run of every command through the built CLI: no
 * exit 3, no stack trace, JSON when asked for, each input under 10 s. The
 * longer run is `npm run fuzz -- --runs N` (docs/cli.md, "Fuzzing").
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fuzz } from './fuzz';
import { judge } from './harness';

test('the judge fails what the fuzzer must catch', () => {
  const c = { target: 'check' as const, args: [], files: [], json: true };
  const run = { signal: null, stdout: '{}', stderr: '', ms: 10, timedOut: false };
  assert.equal(judge(c, { ...run, status: 0 }).ok, true);
  assert.equal(judge(c, { ...run, status: 3 }).reason, 'exit status 3');
  assert.equal(judge(c, { ...run, status: 1, stdout: '{"a":' }).reason?.startsWith('stdout is not JSON'), true);
  assert.equal(
    judge(c, { ...run, status: 2, stderr: 'x: internal error: boom\n    at f (/x/cli.js:1:2)\n' }).reason,
    'a stack trace or internal error on stderr',
  );
  assert.equal(judge(c, { ...run, status: 0, ms: 10_500 }).reason, 'took over 10 s');
  assert.equal(judge(c, { ...run, status: null, timedOut: true }).reason, 'still running after 60 s');
  assert.equal(judge(c, { ...run, status: 2, stdout: '', stderr: 'iommufd-review: no such file\n' }).ok, true);
});

test('fuzz: check, patch, simulate --from and reply on generated hostile input (seed 17)', async () => {
  const { cases, failures } = await fuzz({ runs: { check: 5, patch: 6, simulate: 5, reply: 5 }, seed: 17 });
  assert.equal(cases, 21);
  assert.deepEqual(failures, []);
});
