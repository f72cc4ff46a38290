/**
 * stale-after-relock's use-after-unlock half on fixtures of our own: a value
 * obtained under a lock and used after the release with no relock first.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { analyzeFixtures, lineInText, lineOf, ofRule, relatedLines } from './engine-fixtures';
import { analyze } from './engine-helpers';

const ITER = 'use-after-unlock/iter-after-unlock.c';
const LOOKUP = 'use-after-unlock/lookup-after-unlock.c';

test('use after unlock: an area iterator read after up_read, an area length taken after up_write (knowledge: valid under iova_rwsem, high)', async () => {
  const r = await analyzeFixtures([ITER], { minConfidence: 'low' });
  const found = ofRule(r, 'stale-after-relock');
  assert.deepEqual(
    found.map((f) => `${f.function}:${f.line}:${f.confidence}`),
    [
      `shadow_release_range:${lineOf(ITER, 'if (!iopt_area_contig_done(&iter))')}:high`,
      `shadow_evict:${lineOf(ITER, 'iopt_area_length(area)')}:high`,
    ],
  );
  const [iter, evict] = found;
  assert.equal(
    iter.message,
    '`iter` is moved by `iopt_for_each_contig_area()` under `io_pagetable.iova_rwsem` (line 12, valid only while it is held); ' +
      'the lock is dropped at line 14 and `iter` is used at line 15 without it: it may have been freed or changed meanwhile.',
  );
  assert.deepEqual(relatedLines(iter), [12, 14, 15]);
  assert.deepEqual(
    iter.related.map((x) => x.role),
    ['read', 'release', 'use'],
  );
  assert.equal(
    iter.fingerprint,
    'stale-after-relock:shadow_release_range:after-unlock,io_pagetable.iova_rwsem,iopt_for_each_contig_area',
  );
  // The flag (`prevent_access = true`) claims nothing; the NULL store on the other path
  // (`area->pages = NULL`) does, so iopt_abort_area(area) after that unlock is quiet.
  assert.equal(
    evict.message,
    '`area` is found by `iopt_area_iter_first()` under `io_pagetable.iova_rwsem` (line 43, valid only while it is held); ' +
      'the lock is dropped at line 51 and `area` is used at line 52 without it: it may have been freed or changed meanwhile.',
  );
  assert.deepEqual(relatedLines(evict), [43, 51, 52]);
  assert.equal(evict.scenario.invariant, 'no-use-after-free');
  // The fixed walk copies a scalar out under the lock: nothing.
  assert.equal(r.findings.filter((f) => f.function === 'shadow_release_range_fixed').length, 0);
});

test('use after unlock: a lookup in a table whose entries are freed under its lock, dereferenced after the unlock (medium)', async () => {
  const r = await analyzeFixtures([LOOKUP], { minConfidence: 'low' });
  const found = ofRule(r, 'stale-after-relock');
  assert.deepEqual(
    found.map((f) => `${f.function}:${f.line}:${f.confidence}`),
    [
      `rq_table_cookie:${lineOf(LOOKUP, 'return e->cookie;')}:medium`,
      `rq_table_stop:${lineOf(LOOKUP, 'e->cookie = 0;')}:medium`,
    ],
  );
  const [cookie, stop] = found;
  assert.equal(
    cookie.message,
    '`e` is found by `xa_load()` under `rq_table.lock` (line 37; `struct rq_entry` objects are freed with it held); ' +
      'the lock is dropped at line 42 and `e` is used at line 43 without it: it may have been freed or changed meanwhile.',
  );
  assert.deepEqual(relatedLines(cookie), [37, 42, 43]);
  // `e->stopping = true` is a flag, not a claim.
  assert.deepEqual(relatedLines(stop), [52, 54, 55]);
  // Quiet: a reference (kref_get, users++), an unlink (list_del), a claim (field set to NULL),
  // a scalar copied under the lock, a fresh lookup after the lock is retaken.
  for (const quiet of [
    'rq_table_cookie_ref',
    'rq_table_cookie_users',
    'rq_table_take',
    'rq_table_detach',
    'rq_table_cookie_copy',
    'rq_table_cookie_relookup',
    'rq_table_drop',
  ]) {
    assert.deepEqual(
      r.findings.filter((f) => f.function === quiet).map((f) => `${f.ruleId}:${f.line}`),
      [],
      quiet,
    );
  }
  assert.deepEqual(r.coverage.functions, { parsed: 9, partial: 0, skipped: 0 });
});

test('use after unlock: without a free under the lock in view, a lookup used after the unlock is only low', async () => {
  const r = await analyzeFixtures([LOOKUP]);
  // rq_table_drop() is what makes it medium; the same file without it is checked in the next assertion.
  assert.equal(ofRule(r, 'stale-after-relock').length, 2);
  const { analyzeSources } = await import('../../../src/engine/engine');
  const { sharedParser, fixtureSource } = await import('./engine-fixtures');
  const src = fixtureSource(LOOKUP);
  const text = src.text.replace('\tkfree(e);\n\tmutex_unlock(&t->lock);\n}', '\tmutex_unlock(&t->lock);\n}');
  assert.notEqual(text, src.text);
  const low = analyzeSources(await sharedParser(), [{ path: src.path, text }], { minConfidence: 'low' });
  assert.deepEqual(
    ofRule(low, 'stale-after-relock').map((f) => `${f.function}:${f.confidence}`),
    ['rq_table_cookie:low', 'rq_table_stop:low'],
  );
  const atDefault = analyzeSources(await sharedParser(), [{ path: src.path, text }], {});
  assert.deepEqual(ofRule(atDefault, 'stale-after-relock'), []);
});

test("use after unlock: an object made by a verb-first constructor under the lock is the thread's own; find-or-create is not", async () => {
  const src = `struct rule_db {
	struct mutex lock;
	struct xarray rules;
};

struct flow_rule {
	int id;
	struct list_head link;
};

static void rule_db_remove(struct rule_db *db, struct flow_rule *r)
{
	mutex_lock(&db->lock);
	xa_erase(&db->rules, r->id);
	kfree(r);
	mutex_unlock(&db->lock);
}

int rule_db_add(struct rule_db *db)
{
	struct flow_rule *r;

	mutex_lock(&db->lock);
	r = create_flow_rule(db);
	mutex_unlock(&db->lock);
	return r->id;
}
`;
  const quiet = await analyze({ 'rules.c': src }, 'low');
  assert.deepEqual(
    quiet.findings.filter((f) => f.ruleId === 'stale-after-relock').map((f) => f.line),
    [],
  );
  // The same shape through a lookup that may return a rule already in the table is reported.
  const shared = src.replace('create_flow_rule(db)', 'find_or_create_flow_rule(db)');
  const loud = await analyze({ 'rules.c': shared }, 'low');
  assert.deepEqual(
    loud.findings.filter((f) => f.ruleId === 'stale-after-relock').map((f) => [f.function, f.line]),
    [['rule_db_add', 26]],
  );
});

test('use after unlock: a lookup whose hit returns at once, the variable given a new allocation before the unlock: that allocation is no looked-up value', async () => {
  // Our own port table: find the port's entry, or make one; entries are freed under the table lock.
  const src = `// SPDX-License-Identifier: MIT
struct port_ent {
	struct hlist_node node;
	u16 port;
	int users;
};

struct port_table {
	spinlock_t lock;
	DECLARE_HASHTABLE(ents, 8);
};

void port_put(struct port_table *t, struct port_ent *e)
{
	spin_lock(&t->lock);
	if (!--e->users) {
		hash_del(&e->node);
		kfree(e);
	}
	spin_unlock(&t->lock);
}

struct port_ent *port_get(struct port_table *t, u16 port)
{
	struct port_ent *e;

	spin_lock(&t->lock);
	e = port_lookup(t, port);
	if (e) {
		e->users++;
		spin_unlock(&t->lock);
		return e;
	}
	e = kzalloc(sizeof(*e), GFP_ATOMIC);
	if (!e) {
		spin_unlock(&t->lock);
		return NULL;
	}
	e->port = port;
	e->users = 1;
	hash_add(t->ents, &e->node, port);
	spin_unlock(&t->lock);
	port_program(t, e->port);
	return e;
}
`;
  const quiet = await analyze({ 'port.c': src }, 'low');
  assert.deepEqual(ofRule(quiet, 'stale-after-relock'), []);
  // The lookup's own hit used after the unlock: reported.
  const hit = src.replace(
    '\t\te->users++;\n\t\tspin_unlock(&t->lock);\n\t\treturn e;\n',
    '\t\tspin_unlock(&t->lock);\n\t\tport_program(t, e->port);\n\t\treturn e;\n',
  );
  assert.notEqual(hit, src);
  const loud = ofRule(await analyze({ 'port.c': hit }, 'low'), 'stale-after-relock');
  assert.deepEqual(
    loud.map((f) => [f.function, f.line]),
    [['port_get', lineInText(hit, 'port_program(t, e->port);')]],
  );
});
