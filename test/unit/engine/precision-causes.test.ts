/**
 * The false-positive causes found on kernel code the engine was not tuned on
 * (issue 10), each with a fixture where the cause must keep the engine quiet
 * and one where the real problem next to it must still be reported.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { analyzeSources } from '../../../src/engine/engine';
import type { AnalysisResult } from '../../../src/engine/types';
import {
  analyzeFixtures,
  fixtureSource,
  lineInText,
  lineOf,
  ofRule,
  relatedLines,
  sharedParser,
} from './engine-fixtures';

const P = 'precision';

test("file-scope lock identity: two files' `static ... lock` are two classes; one file's lock in both orders is an ABBA", async () => {
  const apart = await analyzeFixtures([`${P}/static-lock-a.c`, `${P}/static-lock-b.c`], { minConfidence: 'low' });
  assert.deepEqual(ofRule(apart, 'lock-order'), []);
  const froms = apart.lockGraph.edges.map((e) => `${e.from} -> ${e.to}`).sort();
  assert.deepEqual(froms, [
    'file-scope:static-lock-a.c:lock -> widget.m',
    'widget.m -> file-scope:static-lock-b.c:lock',
  ]);

  const same = await analyzeFixtures([`${P}/shared-lock-b.c`]);
  const [f] = ofRule(same, 'lock-order');
  assert.equal(ofRule(same, 'lock-order').length, 1);
  assert.equal(f.confidence, 'high');
  assert.equal(f.line, lineOf(`${P}/shared-lock-b.c`, 'mutex_lock(&w->m);'));
  assert.equal(f.fingerprint, 'lock-order:widget_bump:file-scope:shared-lock-b.c:lock,widget.m');
});

test('a lock dropped around a call (unlock; destroy; relock in a loop) adds no edge from it; held across the call it does', async () => {
  const dropped = await analyzeFixtures([`${P}/dropped-around-call.c`], { minConfidence: 'low' });
  assert.deepEqual(ofRule(dropped, 'lock-order'), []);
  assert.ok(!dropped.lockGraph.edges.some((e) => e.to === 'item.state_lock'), JSON.stringify(dropped.lockGraph.edges));

  const held = await analyzeFixtures([`${P}/held-across-call.c`]);
  const f = ofRule(held, 'lock-order');
  assert.equal(f.length, 1);
  assert.equal(f[0].function, 'reap_all_locked');
  assert.equal(f[0].line, lineOf(`${P}/held-across-call.c`, 'item_destroy(it);'));
  assert.equal(f[0].confidence, 'high');
  assert.match(
    f[0].message,
    /through `item_destroy\(\)`\), but `item\.state_lock` → `file-scope:held-across-call\.c:reap_lock` in `item_queue\(\)`/,
  );
});

test("per-outcome summaries: a helper that releases the caller's lock on failure only is no leak in its caller; one that keeps it is", async () => {
  const released = await analyzeFixtures([`${P}/release-on-failure.c`], { minConfidence: 'low' });
  assert.deepEqual(ofRule(released, 'lock-leak'), []);
  // On success the lock is still held: the write after the call is under it.
  assert.deepEqual(ofRule(released, 'assert-held'), []);

  const kept = await analyzeFixtures([`${P}/keeps-on-failure.c`]);
  const [f] = ofRule(kept, 'lock-leak');
  assert.equal(ofRule(kept, 'lock-leak').length, 1);
  assert.equal(f.line, lineOf(`${P}/keeps-on-failure.c`, 'return -ENOMEM;'));
  assert.equal(f.confidence, 'high');
  assert.equal(
    f.message,
    '`slot_map_reserve()` returns `-ENOMEM` at line 21 with `slot_map.lock` still held (taken at line 19), but its return at line 24 releases it: missing unlock on this path.',
  );
});

test("a conditional acquire's stored result tested after a join: the failure edge holds nothing; a later failure still leaks", async () => {
  const quiet = await analyzeFixtures([`${P}/branchy-interruptible.c`], { minConfidence: 'low' });
  assert.deepEqual(quiet.findings, []);

  const leak = await analyzeFixtures([`${P}/branchy-interruptible-leak.c`]);
  assert.deepEqual(
    ofRule(leak, 'lock-leak').map((f) => [f.function, f.line, f.confidence]),
    [['gadget_thaw', lineOf(`${P}/branchy-interruptible-leak.c`, 'return -EINVAL;'), 'high']],
  );
});

test('two instances of one class held: releasing one leaves the class held; a __releases() destroy helper is an unlock', async () => {
  const r = await analyzeFixtures([`${P}/releasing-destroy.c`]);
  const fs = ofRule(r, 'assert-held');
  // conn_accept() holds the child's mutex when it calls the helper; conn_reject() does not.
  assert.deepEqual(
    fs.map((f) => [f.function, f.line]),
    [['conn_reject', lineOf(`${P}/releasing-destroy.c`, 'conn_destroy_unlock(child);', 2)]],
  );
  assert.deepEqual(ofRule(r, 'lock-leak'), []);
});

test('acquire wrappers: a *_lock() with its *_unlock() in view, or __acquires(), is a lock API, not a leak', async () => {
  const r = await analyzeFixtures([`${P}/acquire-wrapper.c`, `${P}/annotated-acquire.c`], { minConfidence: 'low' });
  const leaks = ofRule(r, 'lock-leak');
  // pool_prepare() has the same body as pool_move_lock() but no counterpart: its lock is a leak.
  assert.deepEqual(
    leaks.map((f) => [f.function, f.line, f.confidence]),
    [['pool_prepare', 35, 'medium']],
  );
  assert.deepEqual(relatedLines(leaks[0]), [33, 32]);
});

test('lock class is the init site: parent and child locks initialised at two sites are two classes; one site is at most low', async () => {
  const two = await analyzeFixtures([`${P}/nesting-two-inits.c`], { minConfidence: 'low' });
  assert.deepEqual(ofRule(two, 'lock-order'), []);

  const one = await analyzeFixtures([`${P}/nesting-one-init.c`], { minConfidence: 'low' });
  const [f] = ofRule(one, 'lock-order');
  assert.equal(ofRule(one, 'lock-order').length, 1);
  assert.equal(f.confidence, 'low');
  assert.equal(f.function, 'xdom_set_dirty');
  assert.equal(f.line, lineOf(`${P}/nesting-one-init.c`, 'xdom_mark_children(parent, dirty);'));
  assert.match(
    f.message,
    /The route from `xdom_set_dirty\(\)` takes `xdom\.lock` again, so the cycle needs two instances of that class nested/,
  );
  assert.equal((await analyzeFixtures([`${P}/nesting-one-init.c`])).findings.length, 0);
});

test("locks taken inside a callback's implementations are lock-graph edges: the hub's inversion is a lock-order cycle with each site", async () => {
  const r = await analyzeFixtures([`${P}/callback-edge.c`]);
  const [f] = ofRule(r, 'lock-order');
  assert.equal(ofRule(r, 'lock-order').length, 1);
  const file = `${P}/callback-edge.c`;
  assert.deepEqual([f.function, f.line, f.confidence], ['hub_notify', lineOf(file, 'port->ops->flush(port);'), 'high']);
  assert.equal(
    f.message,
    '`hub.list_lock` → `hub.state_lock` here, in `hub_notify()` (line 57, through `port_flush()` → `hub_unpin()`), but `hub.state_lock` → `hub.list_lock` in `hub_register()` (line 45): possible ABBA deadlock. ' +
      'Two threads: one in `hub_notify()` holds `hub.list_lock` and waits for `hub.state_lock` inside `hub_port_ops.flush`, while another in `hub_register()` holds `hub.state_lock` and waits for `hub.list_lock`.',
  );
  assert.deepEqual(relatedLines(f), [
    lineOf(file, 'mutex_lock(&hub->list_lock);', 2),
    57,
    57,
    lineOf(file, 'hub_unpin(port->hub);'),
    lineOf(file, 'mutex_lock(&hub->state_lock);'),
    lineOf(file, 'mutex_lock(&hub->state_lock);', 2),
    45,
  ]);
  const quiet = await analyzeFixtures([`${P}/callback-no-edge.c`], { minConfidence: 'low' });
  assert.deepEqual(ofRule(quiet, 'lock-order'), []);
});

test("task-local state: the current task's fields are not shared state for unrestored-state; a shared object's are", async () => {
  const r = await analyzeFixtures([`${P}/task-local.c`], { minConfidence: 'low' });
  const fs = ofRule(r, 'unrestored-state');
  assert.deepEqual(
    fs.map((f) => [f.function, f.line]),
    [['ilv_alloc_shared', lineOf(`${P}/task-local.c`, 'st->il_weight = 0;')]],
  );
});

test('a value read from a field and corrected (clamped, recounted) is no backup: printing the old value or assigning it with the field keeps nothing; handing it on does', async () => {
  const file = `${P}/corrected-descriptor.c`;
  const r = await analyzeFixtures([file], { minConfidence: 'low' });
  // widget_read_config clamps the count (`f = n = 8`, then `f = 1`), widget_count_ports prints the old
  // count and stores the recount: neither keeps the old value. widget_set_ports hands it on to a release.
  assert.deepEqual(
    ofRule(r, 'unrestored-state').map((f) => [f.function, f.line, f.confidence]),
    [['widget_set_ports', lineOf(file, 'w->desc.nports = ports;'), 'medium']],
  );
});

test('a slot a helper marks (`s->busy = true`) before handing it back is claimed across the relock; one it only picks is stale', async () => {
  const file = `${P}/claimed-slot.c`;
  const claimed = await analyzeFixtures([file], { minConfidence: 'low' });
  assert.deepEqual(ofRule(claimed, 'stale-after-relock'), []);
  // The same fill with the helper that only picks the slot.
  const src = fixtureSource(file);
  const picked = src.text.replace('s = slot_claim_victim(cache);', 's = slot_peek_victim(cache);');
  const r = analyzeSources(await sharedParser(), [{ path: src.path, text: picked }], { minConfidence: 'low' });
  const [f, ...rest] = ofRule(r, 'stale-after-relock');
  assert.deepEqual(rest, []);
  assert.equal(f.function, 'slot_fill');
  assert.equal(f.line, lineInText(picked, 's->data = data;'));
  assert.equal(f.confidence, 'high');
  assert.match(f.message, /^`s` is found by `slot_peek_victim\(\)` under `slot_cache.lock`/);
});

test('a state field written mostly without the list lock is not what the lock guards: set after publication, low; a field only written under it, high', async () => {
  const file = `${P}/state-field-writes.c`;
  const r = await analyzeFixtures([file], { minConfidence: 'low' });
  assert.deepEqual(
    ofRule(r, 'published-before-finished').map((f) => [f.function, f.line, f.confidence]),
    [
      ['conn_queue_reject', lineOf(file, 'spin_unlock(&conn->cmd_lock);', 3), 'low'],
      ['conn_queue_tagged', lineOf(file, 'spin_unlock(&conn->cmd_lock);', 4), 'high'],
    ],
  );
});

test('a write made on the found path too (lookup or make, then set) updates whatever it has: low; made only on the made path, or resuming a stashed one, high', async () => {
  const file = `${P}/found-or-made.c`;
  const r = await analyzeFixtures([file], { minConfidence: 'low' });
  assert.deepEqual(
    ofRule(r, 'published-before-finished').map((f) => [f.function, f.line, f.confidence]),
    [
      ['tnode_get', lineOf(file, 'mutex_unlock(&t->lock);', 2), 'low'],
      ['tnode_make', lineOf(file, 'mutex_unlock(&t->lock);', 3), 'high'],
      // The other path takes back the node this function stashed (`n = l->pending`): its own, half-built.
      ['tnode_accept', lineOf(file, 'mutex_unlock(&t->lock);', 5), 'high'],
    ],
  );
});

test('pages taken into a slot by index, with the index recorded in the request (`req->nr_pages += n`), are handed on; unrecorded, a failed batch leaks them', async () => {
  const file = `${P}/counted-pages.c`;
  const recorded = await analyzeFixtures([file], { minConfidence: 'low' });
  assert.deepEqual(ofRule(recorded, 'missing-undo'), []);
  // The same without recording the count: a failed batch leaks what it took.
  const src = fixtureSource(file);
  const unrecorded = src.text.replaceAll('\treq->nr_pages += batch;\n', '');
  const r = analyzeSources(await sharedParser(), [{ path: src.path, text: unrecorded }], { minConfidence: 'low' });
  assert.deepEqual(
    ofRule(r, 'missing-undo').map((f) => [f.function, f.confidence]),
    [['xfer_map_all', 'medium']],
  );
  assert.match(
    ofRule(r, 'missing-undo')[0].message,
    /^what `pool_page_get\(\)` acquired on `&req->pool` \(line \d+\) is not released when the function returns `err`/,
  );
});

test('objects freed under the lock only by a teardown that first stops the worker (cancel_work_sync) do not make a use after the unlock medium; freed without it, they do', async () => {
  const file = `${P}/quiesced-teardown.c`;
  const stopped = fixtureSource(file);
  const use = lineOf(file, 'region_grow(r, 16);');
  const quiesced = ofRule(await analyzeFixtures([file], { minConfidence: 'low' }), 'stale-after-relock');
  assert.deepEqual(
    quiesced.map((f) => [f.function, f.line, f.confidence]),
    [['rdev_grow_fn', use, 'low']],
  );
  // The same teardown without the cancel: the worker can meet a region being freed.
  const racing = stopped.text.replace('\tcancel_work_sync(&d->grow_work);\n', '');
  const raced = ofRule(
    analyzeSources(await sharedParser(), [{ path: stopped.path, text: racing }], { minConfidence: 'low' }),
    'stale-after-relock',
  );
  assert.deepEqual(
    raced.map((f) => [f.function, f.line, f.confidence]),
    [['rdev_grow_fn', use, 'medium']],
  );
  assert.match(raced[0].message, /`struct region` objects are freed with it held/);
});

test('a callback whose route retakes the held lock in a function that asserts it held on its other path (a flag picks) is low; one that always takes it, high', async () => {
  const file = `${P}/flag-moded-lock.c`;
  const r = ofRule(await analyzeFixtures([file], { minConfidence: 'low' }), 'callback-under-lock');
  assert.deepEqual(
    r.map((f) => [f.line, f.confidence]),
    [
      [lineOf(file, 'ret = v->ops->reset(v);'), 'low'],
      [lineOf(file, 'ret = v->ops->quiesce(v);'), 'high'],
    ],
  );
  assert.match(
    r[0].message,
    /But `vdev_reset\(\)` also asserts `vdev.cfg_lock` held on another path: it takes the lock only in the mode its caller asks for/,
  );
  assert.doesNotMatch(r[1].message, /asserts/);
});

test("a helper that drops the caller's lock on some returns only (not told apart by outcome): the lock is not held for sure after it, so no edge from it; a helper that keeps it, a cycle", async () => {
  const file = `${P}/partial-release-helper.c`;
  const text = fixtureSource(file);
  const edges = (r: AnalysisResult) => r.lockGraph.edges.map((e) => `${e.from} -> ${e.to}`);
  const dropped = await analyzeFixtures([file], { minConfidence: 'low' });
  assert.deepEqual(edges(dropped), ['ref_root.lock -> ref_head.lock']);
  assert.deepEqual(ofRule(dropped, 'lock-order'), []);
  // The same helper without its unlock: head_cleanup() calls root_unselect() with the head lock held.
  const keeping = text.text.replace('\tspin_unlock(&h->lock);\n\tdo_op(h);', '\tdo_op(h);');
  const kept = analyzeSources(await sharedParser(), [{ path: text.path, text: keeping }], { minConfidence: 'low' });
  assert.deepEqual(edges(kept).sort(), ['ref_head.lock -> ref_root.lock', 'ref_root.lock -> ref_head.lock']);
  const [cycle] = ofRule(kept, 'lock-order');
  assert.equal(cycle.function, 'head_cleanup');
  assert.equal(cycle.line, lineInText(keeping, 'root_unselect(r, h);'));
});

test('a fresh allocation put in a field on first use is a buffer kept for later, not state to put back; a setting saved and changed still is', async () => {
  const file = `${P}/lazy-buffer.c`;
  const r = await analyzeFixtures([file], { minConfidence: 'low' });
  assert.deepEqual(
    ofRule(r, 'unrestored-state').map((f) => [f.function, f.line]),
    [['entry_write', lineOf(file, 'f->mode = 2;')]],
  );
});

test("a helper in view whose body gives back the acquired object (its parameters read as the call's arguments) is a release on that path; one that does not, a leak", async () => {
  const file = `${P}/release-in-helper.c`;
  const released = await analyzeFixtures([file], { minConfidence: 'low' });
  assert.deepEqual(ofRule(released, 'missing-undo'), []);
  // The same error path through the helper that only undoes the setup.
  const src = fixtureSource(file);
  const leaky = src.text.replace('\t\twidget_teardown(w);', '\t\twidget_unsetup(w);');
  const r = analyzeSources(await sharedParser(), [{ path: src.path, text: leaky }], { minConfidence: 'low' });
  assert.deepEqual(
    ofRule(r, 'missing-undo').map((f) => [f.function, f.line]),
    [['widget_start', lineInText(leaky, 'return -EINVAL;')]],
  );
});

test('an id an acquire wrote through `&id`, stored in the object whose release gives it back, is handed on; stored nowhere, the error path leaks it', async () => {
  const file = `${P}/id-handed-on.c`;
  const stored = await analyzeFixtures([file], { minConfidence: 'low' });
  assert.deepEqual(ofRule(stored, 'missing-undo'), []);
  const src = fixtureSource(file);
  const lost = src.text.replace('\tp->id = id;', '\tp->id = 0;');
  const leaks = ofRule(
    analyzeSources(await sharedParser(), [{ path: src.path, text: lost }], { minConfidence: 'low' }),
    'missing-undo',
  );
  assert.deepEqual(
    leaks.map((f) => [f.function, f.line]),
    [['port_create', lineInText(lost, 'return err;', 2)]],
  );
});

test('a lock taken in a loop and dropped by helpers before the next iteration is not held at the next pick; kept by the helpers, it is', async () => {
  const file = `${P}/loop-released-by-helper.c`;
  const src = fixtureSource(file);
  const edges = (r: AnalysisResult) => r.lockGraph.edges.map((e) => `${e.from} -> ${e.to}`).sort();
  const released = await analyzeFixtures([file], { minConfidence: 'low' });
  assert.deepEqual(edges(released), ['ref_root.lock -> ref_head.lock']);
  assert.deepEqual(ofRule(released, 'lock-order'), []);
  // Helpers that unlock nothing: the head lock is still held when the loop picks the next head.
  const kept = src.text
    .replace('{\n\tspin_unlock(&h->lock);\n}', '{\n}')
    .replace('h->op = 0;\n\tspin_unlock(&h->lock);\n', 'h->op = 0;\n');
  const held = analyzeSources(await sharedParser(), [{ path: src.path, text: kept }], { minConfidence: 'low' });
  assert.deepEqual(edges(held), ['ref_head.lock -> ref_root.lock', 'ref_root.lock -> ref_head.lock']);
  assert.deepEqual(
    ofRule(held, 'lock-order').map((f) => [f.function, f.line]),
    [['root_drain', lineInText(kept, 'h = root_pick(r);')]],
  );
});

test('a callback under a lock whose class is taken `_nested` in view takes it again: a guess about two instances, low', async () => {
  const file = `${P}/nested-class-callback.c`;
  const r = await analyzeFixtures([file], { minConfidence: 'low' });
  assert.deepEqual(
    r.findings.map((f) => [f.ruleId, f.function, f.line, f.confidence]),
    [['callback-under-lock', 'shelf_quiesce_targets', lineOf(file, 's->ops->quiesce(s);'), 'low']],
  );
  assert.match(
    r.findings[0].message,
    /again: a self-deadlock if both are one object \(the class is also taken with a lockdep nesting annotation in view/,
  );
  const byDefault = await analyzeFixtures([file]);
  assert.deepEqual(byDefault.findings, []);
});

test('a callback whose every route takes the held class `_nested` is no self-deadlock, even at low', async () => {
  const r = await analyzeFixtures([`${P}/nested-inner-callback.c`], { minConfidence: 'low' });
  assert.deepEqual(r.findings, []);
});

test('an ABBA whose second edge retakes a lock its function already holds is a second acquisition, low', async () => {
  const file = `${P}/retaken-under-itself.c`;
  const r = await analyzeFixtures([file], { minConfidence: 'low' });
  const [f] = ofRule(r, 'lock-order');
  assert.equal(ofRule(r, 'lock-order').length, 1);
  assert.equal(f.function, 'link_set_opts');
  assert.equal(f.line, lineOf(file, 'link_report_broken(l);'));
  assert.equal(f.confidence, 'low');
  assert.match(
    f.message,
    /But `link_set_opts\(\)` already holds `link\.io_lock` where it takes it again: that is a second acquisition of the class/,
  );
  assert.deepEqual((await analyzeFixtures([file])).findings, []);
});

test('a string literal\'s escape ("...\\n") is not a use of a local named `n`; a real use after the relock is', async () => {
  const file = `${P}/literal-mentions.c`;
  const r = await analyzeFixtures([file], { minConfidence: 'low' });
  assert.deepEqual(
    r.findings.map((f) => [f.ruleId, f.function, f.line]),
    [['stale-after-relock', 'zq_touch_first', lineOf(file, 'zq_touch(q, n);')]],
  );
});

test("a cycle whose route frees only through a put balancing the function's own get is low; another route keeps it confident", async () => {
  const file = `${P}/balanced-put.c`;
  const whole = fixtureSource(file);
  // Without port_drop_first() only the balancing put reaches the free path.
  const cut = whole.text.slice(0, whole.text.indexOf('void port_drop_first('));
  const alone = await analyzeSources(await sharedParser(), [{ path: whole.path, text: cut }], {
    minConfidence: 'low',
  });
  const [low] = ofRule(alone, 'lock-order');
  assert.equal(ofRule(alone, 'lock-order').length, 1);
  assert.equal(low.function, 'port_reopen_all');
  assert.equal(low.confidence, 'low');
  assert.match(
    low.message,
    new RegExp(
      `only through the reference \`link_reopen\\(\\)\` drops at line ${lineOf(file, 'link_put(l);')}, which it took itself at line ${lineOf(file, 'WARN_ON(!link_get(l));')}`,
    ),
  );

  const both = ofRule(await analyzeFixtures([file]), 'lock-order');
  assert.deepEqual(
    both.map((f) => [f.function, f.line, f.confidence]),
    [['port_drop_first', lineOf(file, 'link_put(l);', 2), 'high']],
  );
});

test('a put balancing a reference the function got back from a lookup (`s = get_or_create_*()`) is low too; without the get, confident', async () => {
  const src = `// SPDX-License-Identifier: MIT
struct srv_ctx {
	struct mutex list_mutex;
	struct list_head servers;
};

struct srv {
	struct mutex paths_mutex;
	struct list_head entry;
	struct list_head paths;
	refcount_t refs;
	struct srv_ctx *ctx;
};

static void put_srv(struct srv *s)
{
	if (refcount_dec_and_test(&s->refs)) {
		mutex_lock(&s->ctx->list_mutex);
		list_del(&s->entry);
		mutex_unlock(&s->ctx->list_mutex);
		kfree(s);
	}
}

int srv_connect(struct srv_ctx *ctx, int id)
{
	struct srv *s;

	s = get_or_create_srv(ctx, id);
	if (IS_ERR(s))
		return PTR_ERR(s);
	mutex_lock(&s->paths_mutex);
	if (srv_has_path(s, id)) {
		put_srv(s);
		mutex_unlock(&s->paths_mutex);
		return -EEXIST;
	}
	mutex_unlock(&s->paths_mutex);
	return 0;
}

bool srv_path_taken(struct srv_ctx *ctx, int id)
{
	struct srv *s;
	bool found = false;

	mutex_lock(&ctx->list_mutex);
	list_for_each_entry(s, &ctx->servers, entry) {
		mutex_lock(&s->paths_mutex);
		found = srv_has_path(s, id);
		mutex_unlock(&s->paths_mutex);
		if (found)
			break;
	}
	mutex_unlock(&ctx->list_mutex);
	return found;
}
`;
  const r = analyzeSources(await sharedParser(), [{ path: 'srv.c', text: src }], { minConfidence: 'low' });
  const found = ofRule(r, 'lock-order');
  assert.deepEqual(
    found.map((f) => [f.function, f.line, f.confidence]),
    [['srv_connect', lineInText(src, 'put_srv(s);'), 'low']],
  );
  assert.match(
    found[0].message,
    new RegExp(
      `only through the reference \`srv_connect\\(\\)\` drops at line ${lineInText(src, 'put_srv(s);')}, which it took itself at line ${lineInText(src, 's = get_or_create_srv(ctx, id);')}`,
    ),
  );
  // The server handed in by the caller: no reference of its own, so its put may be the last.
  const handed = src.replace(
    'int srv_connect(struct srv_ctx *ctx, int id)\n{\n\tstruct srv *s;\n\n\ts = get_or_create_srv(ctx, id);\n\tif (IS_ERR(s))\n\t\treturn PTR_ERR(s);\n',
    'int srv_connect(struct srv *s, int id)\n{\n',
  );
  assert.notEqual(handed, src);
  const loud = ofRule(
    analyzeSources(await sharedParser(), [{ path: 'srv.c', text: handed }], { minConfidence: 'low' }),
    'lock-order',
  );
  assert.deepEqual(
    loud.map((f) => [f.function, f.line, f.confidence]),
    [['srv_connect', lineInText(handed, 'put_srv(s);'), 'high']],
  );
});

test('an object put on a file-local list that nothing in the file walks is not published half-built; a walked one is', async () => {
  const r = await analyzeFixtures([`${P}/unwalked-list.c`, `${P}/walked-list.c`], { minConfidence: 'low' });
  assert.deepEqual(
    r.findings.map((f) => [f.ruleId, f.file, f.function, f.line]),
    [
      [
        'published-before-finished',
        'walked-list.c',
        'watch_open',
        lineOf(`${P}/walked-list.c`, 'spin_unlock(&watch_lock);'),
      ],
    ],
  );
});

test('a route that lets go of the held lock before retaking it is a real order: the cycle stays confident', async () => {
  const file = `${P}/retaken-after-drop.c`;
  const found = ofRule(await analyzeFixtures([file]), 'lock-order');
  assert.deepEqual(
    found.map((f) => [f.function, f.line, f.confidence]),
    [['link_reset', lineOf(file, 'link_resync(l);'), 'high']],
  );
});

test('work run inline on one branch and deferred on the other: a route through it is mode-dependent, low confidence, and says so', async () => {
  const file = `${P}/inline-work-callback.c`;
  const inline = await analyzeFixtures([file], { minConfidence: 'low' });
  const [f] = ofRule(inline, 'callback-under-lock');
  assert.equal(ofRule(inline, 'callback-under-lock').length, 1);
  assert.equal(f.line, lineOf(file, 'p->ops->kick(p);'));
  assert.equal(f.confidence, 'low');
  assert.equal(
    f.message,
    '`p->ops->kick()` is called in `port_add_watch()` (line 59) with `port.watch_lock` held (taken at line 57); ' +
      '`hw_kick()` reaches `port_drop_watch()`, which takes `port.watch_lock` again: self-deadlock. ' +
      'Only in one mode, though: `port_rx_done()` calls `port_rx_work()` directly at line 41 where the other branch of ' +
      'its `if` hands the same work to `queue_work()` (line 43), which runs it later without these locks.',
  );
  // Hidden at the default confidence.
  assert.deepEqual(ofRule(await analyzeFixtures([file]), 'callback-under-lock'), []);

  // The same route where the other branch defers nothing: the call is the function's ordinary behaviour.
  const plain = `${P}/inline-work-no-deferral.c`;
  const direct = ofRule(await analyzeFixtures([plain]), 'callback-under-lock');
  assert.deepEqual(
    direct.map((x) => [x.line, x.confidence, x.message.includes('Only in one mode')]),
    [[lineOf(plain, 'p->ops->kick(p);'), 'high', false]],
  );

  // A lock-order edge through such a call in the holder itself: the cycle is low, and names the deferral.
  const abba = `${P}/inline-work-abba.c`;
  const cycle = ofRule(await analyzeFixtures([abba], { minConfidence: 'low' }), 'lock-order');
  assert.deepEqual(
    cycle.map((x) => [x.function, x.line, x.confidence]),
    [['hub_update_stats', lineOf(abba, 'hub_stat_work(&h->stat_work);'), 'low']],
  );
  assert.match(
    cycle[0].message,
    /Only in one mode, though: `hub_update_stats\(\)` calls `hub_stat_work\(\)` directly at line 31 where the other branch of its `if` hands the same work to `schedule_work\(\)` \(line 33\)/,
  );
});

test('a lock reached both through inline-run work and on an ordinary route keeps the ordinary route: high confidence', async () => {
  // Another implementation of the callback takes the lock directly.
  const second = `${P}/inline-work-second-impl.c`;
  const [a] = ofRule(await analyzeFixtures([second]), 'callback-under-lock');
  assert.equal(a?.confidence, 'high');
  assert.match(
    a.message,
    /`soft_kick\(\)` reaches `port_drop_watch\(\)`, which takes `port\.watch_lock` again: self-deadlock\.$/,
  );
  // The same implementation takes it after the inline-run call too: that later route replaces the first.
  const then = `${P}/inline-work-then-direct.c`;
  const [b] = ofRule(await analyzeFixtures([then]), 'callback-under-lock');
  assert.equal(b?.confidence, 'high');
  assert.deepEqual(
    b.related.filter((r) => r.role === 'call' || r.role === 'acquire').map((r) => [r.line, r.message]),
    [
      [lineOf(then, 'p->ops->kick(p);') - 2, '`port.watch_lock` taken here'],
      [lineOf(then, 'port_drop_watch(p);', 2), '`hw_kick()` calls `port_drop_watch()`'],
      [lineOf(then, 'mutex_lock(&p->watch_lock);'), '`port_drop_watch()` takes `port.watch_lock`'],
    ],
  );
});

test('lock-order looks for cycles of up to six locks: a ring of six is one finding, a ring of seven and a spur off the six are none', async () => {
  const file = `${P}/cycle-length.c`;
  const r = await analyzeFixtures([file], { minConfidence: 'low' });
  const found = ofRule(r, 'lock-order');
  assert.deepEqual(
    found.map((f) => [f.function, f.line, f.confidence]),
    [['six_a_then_b', lineOf(file, 'mutex_lock(&r->b);'), 'high']],
  );
  assert.match(found[0].message, /^These locks are taken in a cycle: `ring6\.a` → `ring6\.b` in `six_a_then_b\(\)`/);
  assert.match(found[0].message, /`ring6\.f` → `ring6\.a` in `six_f_then_a\(\)` \(line \d+\): possible deadlock\.$/);
  // The seven-lock ring is in the graph, all of it: only its length keeps it out.
  assert.equal(r.lockGraph.edges.filter((e) => e.from.startsWith('ring7.')).length, 7);
});

test('a dispatcher whose guessed ops table (in another file) lists the dispatcher itself does not call itself: quiet', async () => {
  // The core's modify entry point, listed in the device ops table of another file, hands the
  // driver's own hook a turn under its lock; the device's struct is not in view, so the one
  // table with that field is the guess, and the only implementation there is the dispatcher.
  const core = `// SPDX-License-Identifier: MIT
struct qport {
	spinlock_t state_lock;
	int state;
};

int qcore_modify(struct qdev *qd, struct qport *qp, int state)
{
	int ret;

	spin_lock(&qp->state_lock);
	ret = qd->hooks.modify(qp, state);
	if (!ret)
		qp->state = state;
	spin_unlock(&qp->state_lock);
	return ret;
}
`;
  const table = `// SPDX-License-Identifier: MIT
struct qdev_ops {
	int (*modify)(struct qdev *qd, struct qport *qp, int state);
};

static const struct qdev_ops qcore_dev_ops = {
	.modify = qcore_modify,
};
`;
  const r = analyzeSources(
    await sharedParser(),
    [
      { path: 'qcore.c', text: core },
      { path: 'qtable.c', text: table },
    ],
    { minConfidence: 'low' },
  );
  assert.deepEqual(
    ofRule(r, 'callback-under-lock').map((f) => [f.function, f.line, f.message]),
    [],
  );
});

test('a stacked device forwarding to the lower ops it kept is not their target: quiet; a call through its own ops under the lock is a self-deadlock', async () => {
  const stacked = `${P}/stacked-ops.c`;
  assert.deepEqual(ofRule(await analyzeFixtures([stacked], { minConfidence: 'low' }), 'callback-under-lock'), []);
  // The report goes through the device's own ops instead: its implementation takes the lock again.
  const src = fixtureSource(stacked);
  const own = src.text.replace('\tvn->lower_ops->get_stats(vn->nd, st);\n', '\tvn->own_ops->get_stats(vn->nd, st);\n');
  assert.notEqual(own, src.text);
  const found = ofRule(
    analyzeSources(await sharedParser(), [{ path: src.path, text: own }], { minConfidence: 'low' }),
    'callback-under-lock',
  );
  assert.deepEqual(
    found.map((f) => [f.function, f.line, f.confidence]),
    [['vnet_report', lineInText(own, 'vn->own_ops->get_stats(vn->nd, st);'), 'high']],
  );
  assert.match(found[0].message, /`vnet_get_stats\(\)` takes `vnet\.stats_lock` again: self-deadlock\.$/);
});

test('a callback that retakes the held class on an object it looked up from its argument (same type) is low; on what a get hands back, a self-deadlock', async () => {
  const lookup = `${P}/other-object-lookup.c`;
  const [l] = ofRule(await analyzeFixtures([lookup], { minConfidence: 'low' }), 'callback-under-lock');
  assert.equal(l?.confidence, 'low');
  assert.equal(l.line, lineOf(lookup, 'if (s->ops->arm(s))'));
  assert.equal(
    l.message,
    `\`s->ops->arm()\` is called in \`sig_arm()\` (line ${l.line}) with \`sig.lock\` held (taken at line ${l.line - 1}); ` +
      '`sig_chain_arm()` reaches `sig_add_waiter()`, which takes `sig.lock` again: self-deadlock. But the lock taken ' +
      `again may be another object's: \`sig_chain_arm()\` calls \`sig_add_waiter()\` at line ${lineOf(lookup, 'return sig_add_waiter(inner)')} ` +
      'with a pointer read from another object, so this deadlocks only if both are one object.',
  );
  // The inner signal got with a reference taken instead (`sig_get(s)` hands back the object it was
  // given): the lock is the held one's.
  const src = fixtureSource(lookup);
  const text = src.text.replaceAll('sig_chain_inner', 'sig_get');
  assert.notEqual(text, src.text);
  const [g] = ofRule(
    analyzeSources(await sharedParser(), [{ path: src.path, text }], { minConfidence: 'low' }),
    'callback-under-lock',
  );
  assert.equal(g?.confidence, 'high');
  assert.match(
    g.message,
    /`sig_chain_arm\(\)` reaches `sig_add_waiter\(\)`, which takes `sig\.lock` again: self-deadlock\.$/,
  );
});

test('a callback that retakes the held class on another object (a member, a parent) is low and says so; on its own argument it is a self-deadlock', async () => {
  const member = `${P}/other-object-callback.c`;
  const [m] = ofRule(await analyzeFixtures([member], { minConfidence: 'low' }), 'callback-under-lock');
  assert.equal(m?.confidence, 'low');
  assert.equal(m.line, lineOf(member, 'if (s->ops->arm(s))'));
  assert.equal(
    m.message,
    '`s->ops->arm()` is called in `sig_arm()` (line 56) with `sig.lock` held (taken at line 55); `sig_group_arm()` ' +
      'reaches `sig_add_waiter()`, which takes `sig.lock` again: self-deadlock. But the lock taken again may be another ' +
      "object's: `sig_group_arm()` calls `sig_add_waiter()` at line 44 with a pointer read from another object, so this " +
      'deadlocks only if both are one object.',
  );
  // Taken directly through the parent pointer.
  const parent = `${P}/other-object-parent.c`;
  const [p] = ofRule(await analyzeFixtures([parent], { minConfidence: 'low' }), 'callback-under-lock');
  assert.equal(p?.confidence, 'low');
  assert.match(
    p.message,
    /But the lock taken again may be another object's: `tree_notify\(\)` takes it at line 23 through a pointer another object holds/,
  );
  // Another implementation adds the waiter to its own argument: that route is the witness, and it is confident.
  const both = `${P}/other-object-and-self.c`;
  const found = ofRule(await analyzeFixtures([both]), 'callback-under-lock');
  assert.deepEqual(
    found.map((f) => [f.line, f.confidence]),
    [[lineOf(both, 'if (s->ops->arm(s))'), 'high']],
  );
  assert.match(
    found[0].message,
    /`sig_plain_arm\(\)` reaches `sig_add_waiter\(\)`, which takes `sig\.lock` again: self-deadlock\.$/,
  );
});
