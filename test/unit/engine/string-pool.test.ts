/**
 * The string pool the index store runs facts through: values stay equal,
 * objects are changed in place, and what is not plain data is left alone.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StringPool } from '../../../src/engine/index/string-pool';

test('StringPool.intern: every string in plain objects and arrays, in place, values unchanged', () => {
  const pool = new StringPool();
  const facts = {
    own: { widget: { lock: 'struct mutex', state: 'int' } },
    model: { functions: [{ name: 'widget_reset', args: ['wd', 'wd->lock', ''], line: 3, partial: undefined }] },
  };
  const before = structuredClone(facts);
  const functions = facts.model.functions;
  assert.equal(pool.intern(facts), facts);
  assert.equal(facts.model.functions, functions);
  assert.deepEqual(facts, before);
  // A second value through the same pool: still equal to itself.
  const again = { name: 'widget_reset', list: [['wd', 'wd->lock']] };
  assert.deepEqual(pool.intern(again), { name: 'widget_reset', list: [['wd', 'wd->lock']] });
});

test('StringPool.intern: a Map or class instance is left as it is, a bare string or number comes back', () => {
  const pool = new StringPool();
  const map = new Map([['k', 'v']]);
  const value = { map, n: 1 };
  pool.intern(value);
  assert.equal(value.map, map);
  assert.deepEqual([...map], [['k', 'v']]);
  assert.equal(pool.intern('alone'), 'alone');
  assert.equal(pool.intern(7), 7);
});
