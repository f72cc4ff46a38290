/**
 * After an edit that keeps the global step (typing inside an expression), the
 * engine re-checks only the changed functions and their callers in the file;
 * the others keep their findings. The answer must be what a fresh engine
 * gives: findings of untouched functions stay, a changed caller of a changed
 * helper is re-checked, and a fix in one function removes only its finding.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { analyzeSources, Engine } from '../../../src/engine/engine';
import type { Finding } from '../../../src/engine/types';
import { wasmParser } from './engine-helpers';

const SRC = `struct ctr {
	struct mutex lock;
	int v;
};

static int ctr_leaky(struct ctr *c, int x)
{
	mutex_lock(&c->lock);
	if (x)
		return -EINVAL;
	c->v = x;
	mutex_unlock(&c->lock);
	return 0;
}

static int ctr_bump(struct ctr *c, int x)
{
	int y = x + 1;

	return y;
}

static int ctr_twice(struct ctr *c, int x)
{
	return ctr_bump(c, x) + ctr_bump(c, x + 1);
}

static int ctr_other_leak(struct ctr *c, int x)
{
	mutex_lock(&c->lock);
	if (x > 3)
		return -EBUSY;
	mutex_unlock(&c->lock);
	return 0;
}
`;

function key(f: Finding): string {
  return `${f.ruleId}:${f.function}:${f.line}:${f.message}`;
}

test('edits that keep the global step re-check only what changed and still equal a fresh analysis', async () => {
  const parser = await wasmParser();
  const engine = new Engine({ parser });
  try {
    let text = SRC;
    engine.setFile('ctr.c', text);
    const first = engine.analyze({ minConfidence: 'low' }).findings;
    assert.deepEqual(
      first.filter((f) => f.ruleId === 'lock-leak').map((f) => f.function),
      ['ctr_leaky', 'ctr_other_leak'],
    );

    const edit = (from: string, to: string): Finding[] => {
      const start = text.indexOf(from);
      assert.ok(start >= 0, from);
      engine.editFile('ctr.c', [{ start, deletedLength: from.length, inserted: to }]);
      text = text.slice(0, start) + to + text.slice(start + from.length);
      const got = engine.analyze({ minConfidence: 'low' }).findings;
      const fresh = analyzeSources(parser, [{ path: 'ctr.c', text }], { minConfidence: 'low' }).findings;
      assert.deepEqual(got, fresh, `after ${from} -> ${to}`);
      return got;
    };

    // Inside an expression of a helper with callers: same findings as before.
    assert.deepEqual(edit('x + 1;', 'x + 2;').map(key), first.map(key));
    // Inside an expression of the leaking function: its finding is found again.
    const fixed = edit('c->v = x;', 'c->v = x * 2;');
    assert.equal(
      fixed.some((f) => f.function === 'ctr_leaky' && f.ruleId === 'lock-leak'),
      true,
    );
    // Only the other function's text changes: ctr_leaky keeps its finding.
    const again = edit('x > 3', 'x > 4');
    assert.deepEqual(
      again.filter((f) => f.function === 'ctr_leaky').map(key),
      fixed.filter((f) => f.function === 'ctr_leaky').map(key),
    );
    // Fix the other leak: only its finding goes.
    const last = edit('\t\treturn -EBUSY;', '\t\t{ mutex_unlock(&c->lock); return -EBUSY; }');
    assert.equal(
      last.some((f) => f.function === 'ctr_other_leak' && f.ruleId === 'lock-leak'),
      false,
    );
    assert.equal(
      last.some((f) => f.function === 'ctr_leaky' && f.ruleId === 'lock-leak'),
      true,
    );
  } finally {
    engine.dispose();
  }
});
