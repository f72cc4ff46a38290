/**
 * Saves to different functions of one file, one after the other, each
 * keeping the global step: the changed functions are checked again as one
 * more file, and a function the next save leaves alone keeps its model, so
 * its call sites sit in two parts of the joined call-site lists. After every
 * save the answer must be exactly a fresh engine's on the same texts. The
 * list joining once could put a wrong run of a callee's sites back after a
 * second save; joined-lists.test.ts catches that at the list level, and this
 * sequence did not reach it through the engine (it passes on that code too):
 * it guards the patched re-check as a whole.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { analyzeSources, Engine } from '../../../src/engine/engine';
import type { AnalysisResult } from '../../../src/engine/types';
import { lineOf, wasmParser } from './engine-helpers';

// The callee every function of the edited file calls, with the lock asserted.
const POOL = `// SPDX-License-Identifier: MIT
struct pool {
	struct mutex lock;
	int used;
	int limit;
};

void pool_note(struct pool *p)
{
	lockdep_assert_held(&p->lock);
	p->used++;
}

/* No assertion: which lock guards the count is read off its callers. */
void pool_bump(struct pool *p)
{
	p->limit++;
}
`;

// Three callers of pool_note: two hold the lock, one does not. Each has a
// comment and an error code that a save changes in place.
const USERS = (notes: [string, string, string], codes: [string, string, string]) => `// SPDX-License-Identifier: MIT
struct pool {
	struct mutex lock;
	int used;
	int limit;
};

int user_fill(struct pool *p)
{
	/* ${notes[0]} */
	mutex_lock(&p->lock);
	if (p->used >= p->limit) {
		mutex_unlock(&p->lock);
		return -${codes[0]};
	}
	pool_note(p);
	pool_bump(p);
	mutex_unlock(&p->lock);
	return 0;
}

int user_drain(struct pool *p)
{
	/* ${notes[1]} */
	mutex_lock(&p->lock);
	if (!p->used) {
		mutex_unlock(&p->lock);
		return -${codes[1]};
	}
	pool_note(p);
	pool_bump(p);
	mutex_unlock(&p->lock);
	return 0;
}

void user_grow(struct pool *p)
{
	mutex_lock(&p->lock);
	p->limit += 8;
	pool_bump(p);
	mutex_unlock(&p->lock);
}

void user_shrink(struct pool *p)
{
	mutex_lock(&p->lock);
	p->limit -= 8;
	mutex_unlock(&p->lock);
}

int user_peek(struct pool *p)
{
	/* ${notes[2]} */
	if (p->limit < 0)
		return -${codes[2]};
	pool_note(p);
	pool_bump(p);
	return 0;
}
`;

// More files in view, each calling the asserting callee under the lock: a re-check
// patches the joined lists only while the changed parts are a quarter of
// them at most, and joins them afresh otherwise.
const OTHER = (n: number) => `// SPDX-License-Identifier: MIT
struct pool {
	struct mutex lock;
	int used;
	int limit;
};

void other${n}_tick(struct pool *p)
{
	mutex_lock(&p->lock);
	pool_note(p);
	mutex_unlock(&p->lock);
}
`;
const OTHERS = Array.from({ length: 8 }, (_, n) => ({ path: `other${n}.c`, text: OTHER(n) }));

test("saves to one function, then another, each keeping the global step: every answer is a fresh engine's", async () => {
  const parser = await wasmParser();
  const notes: [string, string, string] = ['fill it', 'drain it', 'look'];
  const codes: [string, string, string] = ['ENOSPC', 'ENOENT', 'EINVAL'];
  // Each save: which function, a new comment, a new error code.
  const saves: [number, string, string][] = [
    [0, 'fill it up', 'EBUSY'],
    [1, 'drain it all', 'EAGAIN'],
    [0, 'fill it again', 'ENOMEM'],
    [2, 'look closer', 'ERANGE'],
    [1, 'drain it once more', 'EIO'],
    [2, 'look', 'EINVAL'],
  ];
  const texts = [USERS(notes, codes)];
  for (const [at, note, code] of saves) {
    notes[at] = note;
    codes[at] = code;
    texts.push(USERS(notes, codes));
  }
  // The fresh answers first: the merges an engine patches are kept per process, and a fresh engine's run in between
  // would make the next re-check join afresh instead of patching its own last merge.
  const fresh = texts.map((text) =>
    analyzeSources(parser, [{ path: 'pool.c', text: POOL }, { path: 'users.c', text }, ...OTHERS], {
      minConfidence: 'low',
    }),
  );
  const peekCall = lineOf(texts[0], 'pool_note(p);', 'int user_peek');
  const bumpCall = lineOf(texts[0], 'pool_bump(p);', 'int user_peek');
  const named = (r: AnalysisResult) =>
    r.findings.map(
      (f) =>
        `${f.ruleId} ${f.file}:${f.line} ${f.function} [${(f.related ?? []).map((x) => `${x.file}:${x.line}`).join(' ')}]`,
    );
  // The caller that does not hold the lock is the one named; the other callers are the consensus.
  const expected = [
    `assert-held users.c:${peekCall} user_peek [pool.c:${lineOf(POOL, 'lockdep_assert_held')}]`,
    `unlocked-access users.c:${bumpCall} user_peek [${[
      // The write it reaches, then the first locked sites (the finding names five places at most).
      `pool.c:${lineOf(POOL, 'p->limit++')}`,
      `users.c:${lineOf(texts[0], 'p->used >= p->limit')}`,
      `users.c:${lineOf(texts[0], 'pool_bump(p);', 'int user_fill')}`,
      `users.c:${lineOf(texts[0], 'pool_bump(p);', 'int user_drain')}`,
      `users.c:${lineOf(texts[0], 'p->limit += 8')}`,
    ].join(' ')}]`,
  ];
  assert.deepEqual(named(fresh[0]), expected);
  const engine = new Engine({ parser });
  try {
    engine.setFile('pool.c', POOL);
    for (const o of OTHERS) engine.setFile(o.path, o.text);
    engine.setFile('users.c', texts[0]);
    assert.deepEqual(engine.analyze({ minConfidence: 'low' }), fresh[0]);
    saves.forEach(([at, note, code], i) => {
      engine.setFile('users.c', texts[i + 1]);
      const kept = engine.analyze({ minConfidence: 'low' });
      const what = `after saving function ${at} (${note}, ${code})`;
      assert.equal(engine.lastReusedGlobal, true, `${what}: the global step is kept`);
      assert.deepEqual(kept, fresh[i + 1], what);
      assert.deepEqual(named(kept), expected, what);
    });
  } finally {
    engine.dispose();
  }
});
