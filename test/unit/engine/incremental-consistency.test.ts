/**
 * The engine's caches (parse trees, per-function models, the global step,
 * per-file findings, held locks) must never change an answer: after any
 * sequence of edits, analyze() gives exactly what a fresh engine gives on the
 * same texts. Seeded random edits, including ones that break the syntax.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { analyzeSources, Engine } from '../../../src/engine/engine';
import { HEADER, wasmParser } from './engine-helpers';

const DRIVER = `struct drv_dev {
	struct mutex state_lock;
	struct mutex list_lock;
	struct iommufd_access *access;
	int count;
};

static int drv_count(struct drv_dev *dd)
{
	int n;

	mutex_lock(&dd->state_lock);
	n = dd->count;
	mutex_unlock(&dd->state_lock);
	return n;
}

static void drv_walk(struct drv_dev *dd)
{
	mutex_lock(&dd->list_lock);
	drv_count(dd);
	mutex_unlock(&dd->list_lock);
}

static int drv_update(struct drv_dev *dd, int v)
{
	mutex_lock(&dd->state_lock);
	if (v < 0)
		return -EINVAL;
	mutex_lock(&dd->list_lock);
	dd->count = v;
	mutex_unlock(&dd->list_lock);
	mutex_unlock(&dd->state_lock);
	return 0;
}

static int drv_change(struct iommufd_access *access, struct iommufd_ioas *new_ioas)
{
	struct iommufd_ioas *cur = access->ioas;
	int rc;

	lockdep_assert_held(&access->ioas_lock);
	access->ioas = NULL;
	rc = iopt_add_access(&new_ioas->iopt, access);
	if (rc) {
		access->ioas = cur;
		return rc;
	}
	access->ops->unmap(access->data, 0, ULONG_MAX);
	iopt_remove_access(&cur->iopt, access, access->iopt_access_list_id);
	access->ioas = new_ioas;
	return 0;
}
`;

const PIECES = [
  '{',
  '}',
  '(',
  ')',
  ';',
  '\n',
  'goto out;',
  'out:',
  'mutex_lock(&dd->list_lock);',
  'mutex_unlock(&dd->state_lock);',
  'return -EBUSY;',
  'if (rc)',
  'scoped_guard(mutex, &dd->list_lock) {',
  'guard(mutex)(&dd->state_lock);',
  'drv_count(dd);',
  '/*',
  '*/',
  'struct drv_dev *',
  '',
];

test('after random edits, incremental analysis equals a fresh analysis of the same texts', async () => {
  const parser = await wasmParser();
  const engine = new Engine({ parser });
  let seed = 20240717;
  const rnd = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
  try {
    engine.setFile('iommufd.h', HEADER);
    let text = DRIVER;
    engine.setFile('drv.c', text);
    // The starting point has findings of several rules to keep or lose.
    assert.deepEqual([...new Set(engine.analyze({ minConfidence: 'low' }).findings.map((f) => f.ruleId))].sort(), [
      'callback-under-lock',
      'lock-leak',
      'lock-order',
      'unrestored-state',
    ]);
    for (let i = 0; i < 80; i++) {
      const start = Math.floor(rnd() * text.length);
      const deletedLength = Math.floor(rnd() * 12);
      const inserted = PIECES[Math.floor(rnd() * PIECES.length)];
      engine.editFile('drv.c', [{ start, deletedLength, inserted }]);
      text = text.slice(0, start) + inserted + text.slice(start + deletedLength);
      const incremental = engine.analyze({ minConfidence: 'low' });
      if (i % 8 === 7) {
        const fresh = analyzeSources(
          parser,
          [
            { path: 'iommufd.h', text: HEADER },
            { path: 'drv.c', text },
          ],
          { minConfidence: 'low' },
        );
        assert.deepEqual(incremental, fresh, `after edit ${i + 1}`);
      }
    }
  } finally {
    engine.dispose();
  }
});
