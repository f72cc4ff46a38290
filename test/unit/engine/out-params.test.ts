/**
 * unrestored-state through out-parameters: `xa_alloc(&xa, &obj->id, ...)`
 * (knowledge) and a helper in view that stores `*out` write the field they
 * are given, so a later failure that leaves the field changed is reported,
 * and an error path that puts the old value back is not.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { analyzeFixtures, lineOf, ofRule, relatedLines } from './engine-fixtures';
import { fn, modelOf } from './engine-helpers';
import { fixtureSource } from './engine-fixtures';
import type { CallEvent } from '../../../src/engine/model/types';

const SLOT = 'unrestored-state/out-param-slot.c';
const RESTORED = 'unrestored-state/out-param-restored.c';

test('the model records which field an argument addresses, and stores through pointer parameters', async () => {
  const model = await modelOf(fixtureSource(SLOT).text, 'out-param-slot.c');
  const move = fn(model, 'port_move');
  const alloc = move.blocks
    .flatMap((b) => b.events)
    .find((e): e is CallEvent => e.kind === 'call' && e.callee === 'xa_alloc');
  assert.deepEqual(alloc?.addressed, { 0: 'slot_table.slots', 1: 'port.slot_id' });
  const pick = fn(model, 'port_pick_tag');
  assert.deepEqual(pick.params, ['t', 'out']);
  const store = pick.blocks.flatMap((b) => b.events).find((e) => e.kind === 'write');
  assert.deepEqual(store && { target: store.kind === 'write' ? store.target : '', line: store.line }, {
    target: '*out',
    line: lineOf(SLOT, '*out = 7;'),
  });
});

test('unrestored-state: a field written through an out-parameter and left changed on a later error path', async () => {
  // Only the callees' bodies say they fail: low, unless the field is known to be shared (lock-protected).
  // port_retag only prints the old tag: no backup, so only a lock protecting the field makes it matter.
  const guessed = ofRule(await analyzeFixtures([SLOT], { minConfidence: 'low' }), 'unrestored-state');
  assert.deepEqual(
    guessed.map((f) => `${f.function}:${f.confidence}`),
    ['port_move:low'],
  );
  const config = { protectedBy: { 'port.slot_id': 'port.lock', 'port.tag': 'port.lock' } };
  const found = ofRule(await analyzeFixtures([SLOT], { config }), 'unrestored-state');
  assert.deepEqual(
    found.map((f) => `${f.function}:${f.line}:${f.confidence}`),
    [`port_move:${lineOf(SLOT, 'rc = xa_alloc(')}:medium`, `port_retag:${lineOf(SLOT, 'rc = port_pick_tag(')}:medium`],
  );
  const [move, retag] = found;
  assert.equal(
    move.message,
    '`xa_alloc()` stores into `p->slot_id` (line 33) before `port_announce()` can fail (line 36); ' +
      'the error path returns at line 39 without restoring it, so it keeps what `xa_alloc()` stored.',
  );
  assert.deepEqual(relatedLines(move), [33, 36, 39]);
  assert.equal(move.related[0].message, '`xa_alloc()` writes `p->slot_id` through its out-parameter');
  assert.equal(move.fingerprint, 'unrestored-state:port_move:port.slot_id,port_announce,xa_alloc');
  // The helper in view stores `*out`: its caller's `&p->tag` is written.
  assert.match(
    retag.message,
    /^`port_pick_tag\(\)` stores into `p->tag` \(line 51\) before `port_announce\(\)` can fail \(line 54\); the error path returns at line 56/,
  );
  assert.deepEqual(relatedLines(retag), [51, 54, 56]);
});

test('unrestored-state: out-parameter writes restored on the error path, or into a fresh object, give nothing', async () => {
  const r = await analyzeFixtures([RESTORED], { minConfidence: 'low' });
  assert.deepEqual(ofRule(r, 'unrestored-state'), []);
});
