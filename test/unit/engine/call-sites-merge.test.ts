/**
 * The call-site maps are merged again after an edit only for the callees
 * whose sites changed: the answer must be the one a full merge gives, and a
 * callee the edit did not touch keeps its list.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Engine } from '../../../src/engine/engine';
import { callSites, type CallSiteMap } from '../../../src/engine/checks/call-sites';
import type { CheckContext } from '../../../src/engine/checks/check';
import type { FileModel, FunctionModel } from '../../../src/engine/model/types';
import { wasmParser } from './engine-helpers';

const LIB = `struct pool {
	struct mutex lock;
	int used;
};

int pool_take(struct pool *p)
{
	mutex_lock(&p->lock);
	p->used++;
	mutex_unlock(&p->lock);
	return 0;
}

void pool_give(struct pool *p)
{
	mutex_lock(&p->lock);
	p->used--;
	mutex_unlock(&p->lock);
}
`;

const USER = `static int user_start(struct pool *p)
{
	return pool_take(p);
}

static void user_stop(struct pool *p)
{
	pool_give(p);
}

static void user_cycle(struct pool *p)
{
	pool_take(p);
	pool_give(p);
}
`;

/** A view over `files` as the checks get it (the function table is built the same way the engine builds it). */
function view(files: FileModel[]): CheckContext {
  const functions = new Map<string, FunctionModel[]>();
  for (const m of files) for (const f of m.functions) functions.set(f.name, [...(functions.get(f.name) ?? []), f]);
  return { files, functions } as unknown as CheckContext;
}

/** Callee → `function:line` of each site, in order. */
function plain(map: CallSiteMap): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const callee of [...map.keys()].sort()) out[callee] = map.get(callee)!.map((s) => `${s.fn.name}:${s.line}`);
  return out;
}

const empty = (file: string): FileModel => ({
  file,
  functions: [],
  structs: {},
  opsImplementations: [],
  documentedOrders: [],
  skipped: [],
});

test('after an edit, the re-merged call-site maps equal a full merge, and untouched callees keep their lists', async () => {
  const engine = new Engine({ parser: await wasmParser() });
  try {
    engine.setFile('lib.c', LIB);
    engine.setFile('user.c', USER);
    const lib = engine.fileModel('lib.c')!;
    const before = engine.fileModel('user.c')!;
    const beforeView = view([lib, before]);
    const first = { true: callSites(beforeView, true), false: callSites(beforeView, false) };
    assert.deepEqual(plain(first.true).pool_take, ['user_start:3', 'user_cycle:13']);
    assert.deepEqual(plain(first.true).pool_give, ['user_stop:8', 'user_cycle:14']);

    // user_start now calls pool_give instead; user_stop and user_cycle keep their models.
    const at = USER.indexOf('return pool_take(p);');
    engine.editFile('user.c', [
      { start: at + 'return '.length, deletedLength: 'pool_take'.length, inserted: 'pool_give' },
    ]);
    const after = engine.fileModel('user.c')!;
    assert.notEqual(after, before);
    assert.equal(
      after.functions.find((f) => f.name === 'user_stop'),
      before.functions.find((f) => f.name === 'user_stop'),
      'an untouched function keeps its model',
    );

    for (const pointers of [true, false]) {
      const again = callSites(view([lib, after]), pointers);
      // Three files (one empty) is another file count: merged from scratch.
      const full = callSites(view([lib, after, empty('none.c')]), pointers);
      assert.deepEqual(plain(again), plain(full));
      assert.deepEqual(plain(again).pool_take, ['user_cycle:13']);
      assert.deepEqual(plain(again).pool_give, ['user_start:3', 'user_stop:8', 'user_cycle:14']);
      // A callee whose sites did not change keeps the list of the last merge; a changed one gets a new list.
      assert.equal(again.get('mutex_lock'), first[`${pointers}`].get('mutex_lock'));
      assert.notEqual(again.get('pool_give'), first[`${pointers}`].get('pool_give'));
    }
  } finally {
    engine.dispose();
  }
});
