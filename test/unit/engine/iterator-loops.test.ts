/**
 * Iterator macros (`list_for_each_entry(...) stmt;`, `xa_for_each`, any
 * `for_each_*`) are loops, with or without braces: the function stays fully
 * parsed and the body runs zero or more times.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CallEvent } from '../../../src/engine/model/types';
import { rewriteLoopMacros } from '../../../src/engine/parse/loop-macros';
import { flowPathsOf } from '../../../src/engine/checks/flow-paths';
import { fixtureSource, lineOf } from './engine-fixtures';
import { events, fn, modelOf } from './engine-helpers';

const FIXTURE = 'iterator-loops/braceless.c';

test('rewriteLoopMacros renames loop heads only, keeping every offset', () => {
  const src = [
    '#define for_each_x(p) list_for_each_entry(p, &h, n)',
    'void f(void)',
    '{',
    '\tlist_for_each_entry(p, &h, n)',
    '\t\tcount++;',
    '\tfor_each_thing_done(a);',
    '\tx = list_for_each_count(a, b);',
    '\tif (ok) xa_for_each(&xa, i, e) {',
    '\t\tuse(e);',
    '\t}',
    '}',
  ].join('\n');
  const out = rewriteLoopMacros(src);
  assert.equal(out.length, src.length);
  const lines = out.split('\n');
  assert.equal(lines[0], '#define for_each_x(p) list_for_each_entry(p, &h, n)');
  assert.equal(lines[3], '\twhile              (p, &h, n)');
  // A call statement, and a call inside an expression, are left alone.
  assert.equal(lines[5], '\tfor_each_thing_done(a);');
  assert.equal(lines[6], '\tx = list_for_each_count(a, b);');
  assert.equal(lines[7], '\tif (ok) while      (&xa, i, e) {');
});

test('brace-less iterator bodies are loops: functions parsed, the macro recorded, the statements after modelled', async () => {
  const { text } = fixtureSource(FIXTURE);
  const model = await modelOf(text, 'braceless.c');
  const sum = fn(model, 'blk_table_sum');
  assert.equal(sum.status, 'parsed', sum.reason);
  const drop = fn(model, 'blk_table_drop');
  assert.equal(drop.status, 'parsed', drop.reason);

  const macros = events(sum).filter((e): e is CallEvent => e.kind === 'call' && e.callee === 'list_for_each_entry');
  assert.deepEqual(
    macros.map((m) => [m.line, m.args]),
    [
      [lineOf(FIXTURE, 'list_for_each_entry(e, &t->entries, node)'), ['e', '&t->entries', 'node']],
      [lineOf(FIXTURE, 'list_for_each_entry(e, &t->entries, node)', 2), ['e', '&t->entries', 'node']],
    ],
  );
  // The unlock and the return after the loops are modelled (nothing was swallowed).
  const release = events(sum).find((e) => e.kind === 'release');
  assert.equal(release?.line, lineOf(FIXTURE, 'mutex_unlock(&t->lock);'));
  const ret = events(sum).find((e) => e.kind === 'return');
  assert.equal(ret?.line, lineOf(FIXTURE, 'return sum + count;'));

  // The body runs zero or more times: the call in xa_for_each's body is on a cycle,
  // and the write after the loops is reachable without entering either body.
  const paths = flowPathsOf(drop);
  const all = paths.events();
  const free = all.find((r) => r.event.kind === 'call' && r.event.callee === 'blk_entry_free')!;
  const write = all.find((r) => r.event.kind === 'write' && r.event.target === 't->total')!;
  assert.ok(free && write);
  assert.ok(paths.onCycleAvoiding(free.block, -1), 'the body is inside a loop');
  const xa = all.find((r) => r.event.kind === 'call' && r.event.callee === 'xa_for_each')!;
  assert.ok(paths.before(xa, free));
  assert.ok(paths.before(xa, write));
  assert.deepEqual((xa.event as CallEvent).args, ['&t->slots', 'idx', 'e']);
  const bits = all.find((r) => r.event.kind === 'call' && r.event.callee === 'for_each_set_bit')!;
  assert.equal(bits.event.line, lineOf(FIXTURE, 'for_each_set_bit('));
  const callInBody = all.find((r) => r.event.kind === 'call' && r.event.callee === 'blk_bitmap_word')!;
  assert.ok(paths.before(bits, callInBody));
});
