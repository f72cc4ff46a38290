/**
 * A global step that is redone is let go: nothing the rules cache per
 * function model (and most models outlive a step) may keep the old
 * summaries alive. With a whole tree in view they are gigabytes, and keeping
 * them while the next step is built doubled the collector's work.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { Engine } from '../../../src/engine/engine';
import { wasmParser } from './engine-helpers';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

const POOL = (extra: string) => `// SPDX-License-Identifier: MIT
struct pool {
	struct mutex lock;
	struct mutex stats_lock;
	int used;
};

static void pool_note(struct pool *p)
{
	lockdep_assert_held(&p->lock);
	p->used++;
}

void pool_take(struct pool *p)
{
	mutex_lock(&p->lock);
	pool_note(p);
	mutex_unlock(&p->lock);
}

void pool_peek(struct pool *p)
{
	pool_note(p);
}
${extra}`;

/** The engine's current global step's summaries (private: what this test watches is their lifetime). */
function summariesOf(engine: Engine): object {
  const step = (engine as unknown as { global?: { summaries: object } }).global;
  assert.ok(step, 'an analysis made a global step');
  return step.summaries;
}

test('after an edit that redoes the global step, the old summaries are collectable', async () => {
  const engine = new Engine({ parser: await wasmParser() });
  try {
    engine.setFile('pool.c', POOL(''));
    const before = engine.analyze({ minConfidence: 'low' });
    // The per-function rules ran and cached their answers (the finding is assert-held's, on pool_peek).
    assert.deepEqual(
      before.findings.map((f) => `${f.ruleId}:${f.line}`),
      ['assert-held:23'],
    );
    const old = new WeakRef(summariesOf(engine));
    // A new lock order: the global step must be redone.
    engine.setFile(
      'pool.c',
      POOL(`
void pool_stats(struct pool *p)
{
	mutex_lock(&p->stats_lock);
	mutex_lock(&p->lock);
	mutex_unlock(&p->lock);
	mutex_unlock(&p->stats_lock);
}
`),
    );
    // Nothing reported: no rule runs over pool.c, so its functions' cached answers are not replaced. (During
    // a redo they are not replaced yet either: the summaries and the lock graph are built first.)
    engine.analyze({ paths: [], minConfidence: 'low' });
    assert.equal(engine.lastReusedGlobal, false);
    assert.notEqual(summariesOf(engine), old.deref());
    // WeakRef targets are kept until the end of the job that made them: collect after it.
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    assert.equal(old.deref(), undefined, 'something cached still holds the old summaries');
  } finally {
    engine.dispose();
  }
});
