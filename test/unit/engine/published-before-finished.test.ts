/**
 * published-before-finished: an object made reachable under a lock (a list,
 * an xarray), the lock dropped, then the object still being set up (a field
 * written, iommufd_object_finalize()) where a thread taking the lock can
 * find it half-built.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { analyzeSources, Engine } from '../../../src/engine/engine';
import { mergeKnowledge, parseConfig } from '../../../src/engine/knowledge/config';
import { DEFAULT_KNOWLEDGE } from '../../../src/engine/knowledge/defaults';
import {
  analyzeFixtures,
  fixtureSource,
  lineInText,
  lineOf,
  ofRule,
  relatedLines,
  sharedParser,
} from './engine-fixtures';

const HALF = 'published-before-finished/half-built.c';
const DONE = 'published-before-finished/finished-first.c';

test('published-before-finished: a field set after the unlock, finalize after the unlock, and a callee that publishes what it allocates', async () => {
  const found = ofRule(await analyzeFixtures([HALF]), 'published-before-finished');
  assert.deepEqual(
    found.map((f) => `${f.function}:${f.line}:${f.confidence}`),
    [
      `sensor_add:${lineOf(HALF, 'mutex_unlock(&hub->lock);')}:high`,
      `probe_obj_create:${lineOf(HALF, 'mutex_unlock(&hub->lock);', 2)}:high`,
      `probe_obj_get_shared:${lineOf(HALF, 'mutex_unlock(&hub->lock);', 4)}:medium`,
    ],
  );
  const [field, finalize, callee] = found;

  assert.equal(
    field.message,
    '`s` is put on `&hub->sensors` by `list_add_tail()` (line 44) with `sensor_hub.lock` held, but `sensor_hub.lock` is dropped at line 45 ' +
      'before the object is finished: `s->rate` is set at line 47. A thread that takes `sensor_hub.lock` can find `s` half-built.',
  );
  assert.deepEqual(relatedLines(field), [44, 45, 47]);
  assert.deepEqual(
    field.related.map((r) => r.role),
    ['call', 'release', 'write'],
  );
  assert.deepEqual(
    field.related.map((r) => r.message),
    [
      'published here: `list_add_tail()` makes `s` reachable',
      'lock dropped here: `sensor_hub.lock`',
      'finished here, after the unlock: `s->rate` is set',
    ],
  );
  assert.equal(field.fingerprint, 'published-before-finished:sensor_add:list_add_tail,sensor_hub.lock');

  assert.match(
    finalize.message,
    /^`p` is put on `&hub->sensors` by `list_add\(\)` \(line 62\) with `sensor_hub.lock` held, but `sensor_hub.lock` is dropped at line 63 before the object is finished: `iommufd_object_finalize\(\)` finishes it at line 64\./,
  );
  assert.deepEqual(relatedLines(finalize), [62, 63, 64]);
  assert.deepEqual(
    finalize.related.map((r) => r.role),
    ['call', 'release', 'call'],
  );

  // Through the callee: the call, the callee's list_add_tail, the caller's unlock, the write after it.
  assert.equal(
    callee.message,
    '`probe_obj_alloc_listed()` (line 89) makes `p` reachable: it puts it on `&hub->sensors` with `list_add_tail()` at line 79 ' +
      'with `sensor_hub.lock` held, but `sensor_hub.lock` is dropped at line 94 before the object is finished: `p->shared` is set at line 95. ' +
      'A thread that takes `sensor_hub.lock` can find `p` half-built.',
  );
  assert.deepEqual(relatedLines(callee), [89, 79, 94, 95]);
  assert.equal(callee.related[0].message, 'published here, through `probe_obj_alloc_listed()`');
});

test('published-before-finished: published last, finished under the lock, set under a relock, gated by a release store, on a local list, aborted: nothing', async () => {
  const r = await analyzeFixtures([DONE], { minConfidence: 'low' });
  assert.deepEqual(ofRule(r, 'published-before-finished'), []);
});

/** The finished-first fixture with one edit; the findings of the rule, as `function:line`. */
async function afterEdit(find: string, replace: string): Promise<string[]> {
  const src = fixtureSource(DONE);
  assert.equal(src.text.split(find).length, 2, `anchor not unique: ${find}`);
  const text = src.text.replace(find, replace);
  const found = ofRule(
    analyzeSources(await sharedParser(), [{ path: src.path, text }], { minConfidence: 'low' }),
    'published-before-finished',
  );
  return found.map((f) => `${f.function}:${f.line}`);
}

test('published-before-finished: each negative case turns into a finding when its safeguard goes', async () => {
  // Finalize moved after the unlock.
  assert.deepEqual(
    await afterEdit(
      '\tiommufd_object_finalize(hub->ictx, &o->obj);\n\tmutex_unlock(&hub->lock);\n\treturn 0;\n}\n\n/* The depth',
      '\tmutex_unlock(&hub->lock);\n\tiommufd_object_finalize(hub->ictx, &o->obj);\n\treturn 0;\n}\n\n/* The depth',
    ),
    ['relay_obj_create:63'],
  );
  // The relock removed: the depth is written with no lock.
  assert.deepEqual(
    await afterEdit(
      '\tmutex_lock(&hub->lock);\n\tr->depth = depth;\n\tmutex_unlock(&hub->lock);\n',
      '\tr->depth = depth;\n',
    ),
    ['relay_add_then_size:82'],
  );
  // The gate removed: readers no longer skip the relay.
  assert.deepEqual(await afterEdit('\tsmp_store_release(&r->ready, true);\n', ''), ['relay_add_gated:106']);
  // The batch list made the hub's.
  assert.deepEqual(await afterEdit('list_add(&r->node, &batch);', 'list_add(&r->node, &hub->relays);'), [
    'relay_batch:125',
  ]);
  // The count set before the listing: readers can take the relay_ref while its depth is still unset.
  assert.deepEqual(
    await afterEdit(
      '\trr->depth = depth;\n\trefcount_set(&rr->users, 1);\n',
      '\trefcount_set(&rr->users, 1);\n\trr->depth = depth;\n',
    ),
    ['relay_ref_add:' + (lineOf(DONE, 'list_add(&rr->node, &hub->relays);') + 1)],
  );
  // The depth reset after the success test: the callee had published the relay by then.
  assert.deepEqual(
    await afterEdit('\tif (rc) {\n\t\tr->depth = 0;\n\t\tkfree(r);', '\tr->depth = 0;\n\tif (rc) {\n\t\tkfree(r);'),
    [],
  );
  assert.deepEqual(
    await afterEdit('\t\treturn rc;\n\t}\n\treturn 0;\n}\n', '\t\treturn rc;\n\t}\n\tr->depth = 0;\n\treturn 0;\n}\n'),
    ['relay_add_or_drop:' + (lineOf(DONE, 'return rc;', 3) + 2)],
  );
});

test('published-before-finished: a field nobody else writes under the lock is low confidence; finalize stays a finding', async () => {
  // Without the writers that hold the hub's lock, nothing says readers under the lock read `rate` or `shared`.
  const src = fixtureSource(HALF);
  const cut = src.text.indexOf("/* The hub's readers see the rate");
  assert.ok(cut > 0);
  const text = src.text.slice(0, cut);
  const all = ofRule(
    analyzeSources(await sharedParser(), [{ path: src.path, text }], { minConfidence: 'low' }),
    'published-before-finished',
  );
  assert.deepEqual(
    all.map((f) => `${f.function}:${f.confidence}`),
    ['sensor_add:low', 'probe_obj_create:high', 'probe_obj_get_shared:medium'],
  );
  // probe_obj_get_shared(): past the unprotected `shared`, the finalize after the unlock is the step reported.
  assert.match(all[2].message, /before the object is finished: `iommufd_object_finalize\(\)` finishes it at line 96\./);
  const atDefault = ofRule(
    analyzeSources(await sharedParser(), [{ path: src.path, text }]),
    'published-before-finished',
  );
  assert.deepEqual(
    atDefault.map((f) => f.function),
    ['probe_obj_create', 'probe_obj_get_shared'],
  );
});

test('published-before-finished: publishes/finishes are knowledge a configuration can add, with clear problems', async () => {
  // A project's own registration helper: publishes its second argument into its first; its own finish step.
  const { config, problems } = parseConfig(
    JSON.stringify({
      functions: { hub_register: { publishes: { object: 1, into: 0 } }, hub_obj_done: { finishes: { object: 0 } } },
    }),
    'cfg.json',
  );
  assert.deepEqual(problems, []);
  const k = mergeKnowledge(DEFAULT_KNOWLEDGE, config);
  assert.deepEqual(k.functions.hub_register.publishes, { object: 1, into: 0 });
  assert.deepEqual(k.functions.hub_obj_done.finishes, { object: 0 });
  // The defaults: list and xarray publication, iommufd's finalize and abort.
  assert.deepEqual(k.functions.list_add_tail.publishes, { object: 0, into: 1 });
  assert.deepEqual(k.functions.xa_alloc.publishes, { object: 2, into: 0 });
  assert.equal(k.functions.xa_alloc.fallible, true);
  assert.deepEqual(k.functions.iommufd_object_abort_and_destroy.finishes, { object: 1, aborts: true });
  assert.deepEqual(
    parseConfig(
      JSON.stringify({
        functions: { f: { publishes: { object: 'first', into: 0, via: 1 }, finishes: { object: 0, aborts: 'yes' } } },
      }),
      'c.json',
    ).problems,
    [
      'c.json: functions.f.publishes.via: unknown key (allowed: object, into)',
      'c.json: functions.f.publishes.object: expected an argument position (a whole number from 0), got "first"',
      'c.json: functions.f.finishes.aborts: expected true or false, got a string',
    ],
  );

  // A configured publisher is followed like the defaults.
  const text = [
    'struct hub { struct mutex lock; struct xarray objs; };',
    'struct thing { struct hub *hub; unsigned int mode; };',
    'int thing_add(struct hub *hub)',
    '{',
    '\tstruct thing *t;',
    '',
    '\tt = kzalloc(sizeof(*t), GFP_KERNEL);',
    '\tif (!t)',
    '\t\treturn -ENOMEM;',
    '\tmutex_lock(&hub->lock);',
    '\thub_register(&hub->objs, t);',
    '\tmutex_unlock(&hub->lock);',
    '\thub_obj_done(t);',
    '\treturn 0;',
    '}',
  ].join('\n');
  const found = ofRule(
    analyzeSources(await sharedParser(), [{ path: 'thing.c', text }], { config: config! }),
    'published-before-finished',
  );
  assert.deepEqual(
    found.map((f) => `${f.function}:${f.line}:${f.confidence}`),
    ['thing_add:12:high'],
  );
  assert.deepEqual(relatedLines(found[0]), [11, 12, 13]);
});

test('published-before-finished: an edit to what a callee publishes re-checks its caller (same answer as a fresh engine)', async () => {
  const parser = await sharedParser();
  const src = fixtureSource(HALF);
  const engine = new Engine({ parser });
  try {
    engine.setFile(src.path, src.text);
    const names = () => ofRule(engine.analyze(), 'published-before-finished').map((f) => f.function);
    assert.deepEqual(names(), ['sensor_add', 'probe_obj_create', 'probe_obj_get_shared']);
    // The callee now lists a copy, not what it returns: only the edit to its list_add_tail() argument says so.
    const from = '\tlist_add_tail(&p->item, &hub->sensors);\n\treturn p;';
    const to = '\tlist_add_tail(&hub->spare->item, &hub->sensors);\n\treturn p;';
    const start = src.text.indexOf(from);
    assert.ok(start > 0);
    engine.editFile(src.path, [{ start, deletedLength: from.length, inserted: to }]);
    const text = src.text.replace(from, to);
    assert.deepEqual(names(), ['sensor_add', 'probe_obj_create']);
    assert.deepEqual(engine.analyze().findings, analyzeSources(parser, [{ path: src.path, text }]).findings);
  } finally {
    engine.dispose();
  }
});

test('published-before-finished: a field set after the unlock on some successful paths only is an update, not construction', async () => {
  // A waiter queued for an event, then the event checked: found done already, the
  // waiter's time is noted; otherwise it waits. Both are finished states of the waiter.
  const src = `// SPDX-License-Identifier: MIT
struct ev_waiter {
	struct list_head node;
	u64 stamp;
	int want;
};

struct ev_queue {
	spinlock_t lock;
	struct list_head waiters;
};

int ev_wait(struct ev_queue *q, int want, u64 *stamp)
{
	struct ev_waiter *w;
	int rc = 0;

	w = kzalloc(sizeof(*w), GFP_KERNEL);
	if (!w)
		return -ENOMEM;
	w->want = want;
	spin_lock(&q->lock);
	list_add_tail(&w->node, &q->waiters);
	spin_unlock(&q->lock);
	rc = ev_read_current(q);
	if (rc < 0)
		goto out;
	if (rc >= want)
		w->stamp = ktime_get();
	else
		rc = ev_sleep(q, w);
	*stamp = w->stamp;
out:
	spin_lock(&q->lock);
	list_del(&w->node);
	spin_unlock(&q->lock);
	kfree(w);
	return rc;
}
`;
  const r = analyzeSources(await sharedParser(), [{ path: 'ev.c', text: src }], { minConfidence: 'low' });
  assert.deepEqual(ofRule(r, 'published-before-finished'), []);
  // Set on both branches, the field is part of every finished waiter: reported.
  const both = src.replace('\telse\n\t\trc = ev_sleep(q, w);\n', '\telse\n\t\tw->stamp = 0;\n');
  assert.notEqual(both, src);
  const loud = ofRule(
    analyzeSources(await sharedParser(), [{ path: 'ev.c', text: both }], { minConfidence: 'low' }),
    'published-before-finished',
  );
  assert.deepEqual(
    loud.map((f) => [f.function, f.line, f.related.map((x) => x.line)]),
    [
      [
        'ev_wait',
        lineInText(both, 'spin_unlock(&q->lock);'),
        [
          lineInText(both, 'list_add_tail'),
          lineInText(both, 'spin_unlock(&q->lock);'),
          lineInText(both, 'w->stamp = ktime_get();'),
        ],
      ],
    ],
  );
});
