/**
 * Edits that keep the global step (no call, lock, callback or store changed
 * or moved): the engine says it kept it, and every answer is still exactly a
 * fresh engine's on the same texts. What is kept per step (lock-order's
 * findings, unlocked-access's findings per field, the functions by name) must
 * follow what such an edit can change: which fields a function reads.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { analyzeSources, Engine } from '../../../src/engine/engine';
import { lineOf, wasmParser } from './engine-helpers';

const STATS = `// SPDX-License-Identifier: MIT
struct sdev {
	struct mutex lock;
	struct mutex cfg_lock;
	int count;
	int limit;
};

void sdev_bump(struct sdev *s)
{
	mutex_lock(&s->lock);
	s->count++;
	s->limit = 4;
	mutex_unlock(&s->lock);
}

void sdev_reset(struct sdev *s)
{
	mutex_lock(&s->lock);
	s->count = 0;
	s->limit = 8;
	mutex_unlock(&s->lock);
}

void sdev_clear(struct sdev *s)
{
	mutex_lock(&s->lock);
	s->count = 0;
	s->limit = 0;
	mutex_unlock(&s->lock);
}

void sdev_order(struct sdev *s)
{
	mutex_lock(&s->cfg_lock);
	mutex_lock(&s->lock);
	mutex_unlock(&s->lock);
	mutex_unlock(&s->cfg_lock);
}
`;

// Reads a field without the lock in a condition; the field read (and a comment) are what the edits change.
const PEEK = (field: string, note: string) => `// SPDX-License-Identifier: MIT
struct sdev {
	struct mutex lock;
	struct mutex cfg_lock;
	int count;
	int limit;
};

int sdev_peek(struct sdev *s)
{
	/* ${note} */
	if (s->${field} > 2)
		return 1;
	return 0;
}

void sdev_inverse(struct sdev *s)
{
	mutex_lock(&s->lock);
	mutex_lock(&s->cfg_lock);
	mutex_unlock(&s->cfg_lock);
	mutex_unlock(&s->lock);
}
`;

test("edits that keep the global step: the engine says so, and the answer is a fresh engine's", async () => {
  const parser = await wasmParser();
  const engine = new Engine({ parser });
  try {
    engine.setFile('stats.c', STATS);
    engine.setFile('peek.c', PEEK('count', 'a first look'));
    const first = engine.analyze({ minConfidence: 'low' });
    assert.equal(engine.lastReusedGlobal, false);
    const rules = (r: typeof first) => r.findings.map((f) => `${f.ruleId} ${f.file}:${f.line} ${f.function}`);
    const peek = PEEK('count', 'a first look');
    assert.deepEqual(rules(first), [
      `unlocked-access peek.c:${lineOf(peek, 'if (s->count')} sdev_peek`,
      `lock-order stats.c:${lineOf(STATS, 'mutex_lock(&s->lock);', 'sdev_order')} sdev_order`,
    ]);
    const steps: [string, string][] = [
      ['limit', 'a first look'],
      ['limit', 'another look'],
      ['count', 'another look'],
      ['count', 'a first look'],
    ];
    for (const [field, note] of steps) {
      const text = PEEK(field, note);
      engine.setFile('peek.c', text);
      const kept = engine.analyze({ minConfidence: 'low' });
      assert.equal(engine.lastReusedGlobal, true, `reading ${field} (${note}) keeps the global step`);
      const fresh = analyzeSources(
        parser,
        [
          { path: 'stats.c', text: STATS },
          { path: 'peek.c', text },
        ],
        { minConfidence: 'low' },
      );
      assert.deepEqual(kept, fresh, `reading ${field} (${note})`);
      // The unlocked read names the field that is read now.
      const ua = kept.findings.filter((f) => f.ruleId === 'unlocked-access');
      assert.deepEqual(
        ua.map((f) => f.message.match(/`s->(\w+)`/)?.[1]),
        [field],
      );
    }
    // Only peek.c reported: lock-order's kept findings are per reported set.
    const onlyPeek = engine.analyze({ minConfidence: 'low', paths: ['peek.c'] });
    assert.equal(engine.lastReusedGlobal, true);
    // The cycle is anchored in the first reported file on it: peek.c's side now, not stats.c's.
    assert.deepEqual(rules(onlyPeek), [
      `unlocked-access peek.c:${lineOf(peek, 'if (s->count')} sdev_peek`,
      `lock-order peek.c:${lineOf(peek, 'mutex_lock(&s->cfg_lock);')} sdev_inverse`,
    ]);
    // Nothing reported, then every file again: an empty list is a reported set of its own.
    assert.deepEqual(engine.analyze({ minConfidence: 'low', paths: [] }).findings, []);
    assert.deepEqual(rules(engine.analyze({ minConfidence: 'low' })), rules(first));
    assert.equal(engine.lastReusedGlobal, true);
  } finally {
    engine.dispose();
  }
});
