/**
 * A `goto` to a label the function does not define is broken C: the engine
 * marks the function partial and says why; the simulator refuses to replay
 * it with that reason (an input error, exit 2), where it used to crash in its
 * program assembler (exit 3, a stack trace).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { runCli } from '../cli/run-cli';
import { Engine } from '../../../src/engine';
import { createParser } from '../../../src/engine/node/create-parser';
import { ReplayCoverageError, stepsFromSource } from '../../../src/sim/from-source';

const BROKEN = `// SPDX-License-Identifier: MIT
static int demo_switch_ioas(struct iommufd_access *access, struct iommufd_ioas *new_ioas)
{
	struct iommufd_ioas *cur = access->ioas;
	int rc;

	access->ioas = NULL;
	rc = iopt_add_access(&new_ioas->iopt, access);
	if (rc)
		goto out_restore;
	access->ioas = new_ioas;
	return 0;
}
`;

const REASON = 'a goto to `out_restore`, a label the function does not define, at line 10';

function brokenFile(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'missing-label-'));
  const file = path.join(dir, 'broken.c');
  writeFileSync(file, BROKEN);
  return file;
}

test('check: a goto to a missing label makes its function partial, with the goto line', () => {
  const file = brokenFile();
  const r = runCli(['check', '--format', 'json', file]);
  assert.equal(r.status, 0, r.stderr);
  const entry = JSON.parse(r.stdout).coverage.entries.find(
    (e: { function: string }) => e.function === 'demo_switch_ioas',
  );
  assert.equal(entry.status, 'partial');
  assert.equal(entry.reason, `${REASON}; the statements there were not modelled`);
});

test('simulate --from on it: exit 2 with the coverage problem, no stack trace', () => {
  const file = brokenFile();
  for (const format of ['text', 'json']) {
    const r = runCli(['simulate', '--from', `${file}:demo_switch_ioas`, '--format', format]);
    assert.equal(r.status, 2, r.stderr);
    assert.equal(r.stdout, '');
    assert.equal(
      r.stderr.split('\n')[0],
      `iommufd-review simulate: ${file}: demo_switch_ioas() cannot be simulated: ${REASON} (coverage: partial)`,
    );
    assert.doesNotMatch(r.stderr, /^\s+at /m);
    assert.doesNotMatch(r.stderr, /internal error|no label/);
  }
});

test('stepsFromSource throws the typed coverage error, naming the function and file', async () => {
  const parser = await createParser('wasm');
  const engine = new Engine({ parser });
  try {
    engine.setFile('broken.c', BROKEN);
    const model = engine.fileModel('broken.c')!;
    const fn = model.functions.find((f) => f.name === 'demo_switch_ioas')!;
    assert.throws(
      () => stepsFromSource(fn, model),
      (e: unknown) =>
        e instanceof ReplayCoverageError &&
        e.fn === 'demo_switch_ioas' &&
        e.file === 'broken.c' &&
        e.message === `demo_switch_ioas() cannot be simulated: ${REASON} (coverage: partial)`,
    );
  } finally {
    engine.dispose();
    parser.dispose();
  }
});
