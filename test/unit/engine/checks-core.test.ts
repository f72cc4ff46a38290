import assert from 'node:assert/strict';
import { test } from 'node:test';
import { analyze, HEADER, lineOf, only } from './engine-helpers';

// ---- lock-order ---------------------------------------------------------------

const ABBA = `struct foo_dev {
	struct mutex state_lock;
	struct mutex list_lock;
	int count;
};

static int count_entries(struct foo_dev *fd)
{
	int n;

	mutex_lock(&fd->state_lock);
	n = fd->count;
	mutex_unlock(&fd->state_lock);
	return n;
}

static void foo_walk(struct foo_dev *fd)
{
	mutex_lock(&fd->list_lock);
	count_entries(fd);
	mutex_unlock(&fd->list_lock);
}

static void foo_update(struct foo_dev *fd)
{
	mutex_lock(&fd->state_lock);
	mutex_lock(&fd->list_lock);
	fd->count++;
	mutex_unlock(&fd->list_lock);
	mutex_unlock(&fd->state_lock);
}
`;

test('lock-order: an ABBA through a helper call is one finding with both edges and their sites', async () => {
  const r = await analyze({ 'foo.c': ABBA });
  const lo = only(r.findings, 'lock-order');
  assert.equal(lo.length, 1);
  const f = lo[0];
  assert.equal(f.function, 'foo_walk');
  assert.equal(f.line, lineOf(ABBA, 'count_entries(fd);'));
  assert.equal(f.confidence, 'high');
  assert.equal(f.severity, 'error');
  assert.equal(
    f.message,
    `\`foo_dev.list_lock\` → \`foo_dev.state_lock\` here, in \`foo_walk()\` (line ${lineOf(ABBA, 'count_entries(fd);')}, through \`count_entries()\`), but \`foo_dev.state_lock\` → \`foo_dev.list_lock\` in \`foo_update()\` (line ${lineOf(ABBA, 'mutex_lock(&fd->list_lock);', 'foo_update')}): possible ABBA deadlock.`,
  );
  assert.deepEqual(
    f.related.map((x) => x.line),
    [
      lineOf(ABBA, 'mutex_lock(&fd->list_lock);'),
      lineOf(ABBA, 'count_entries(fd);'),
      lineOf(ABBA, 'mutex_lock(&fd->state_lock);'),
      lineOf(ABBA, 'mutex_lock(&fd->state_lock);', 'foo_update'),
      lineOf(ABBA, 'mutex_lock(&fd->list_lock);', 'foo_update'),
    ],
  );
  assert.equal(f.fingerprint, 'lock-order:foo_walk:foo_dev.list_lock,foo_dev.state_lock');
  // outside the replace flow: the generic lock model of its witness (each edge one path)
  assert.deepEqual(f.scenario, {
    variant: 'lock-model',
    threads: [],
    faults: [],
    contract: 'status-quo',
    invariant: 'no-deadlock',
  });
  assert.deepEqual([...new Set(f.related.map((r) => r.path))], [0, 1]);
  // Both edges are in the public graph, with the acquisition sites.
  const edge = r.lockGraph.edges.find((e) => e.from === 'foo_dev.list_lock' && e.to === 'foo_dev.state_lock');
  assert.deepEqual(edge?.sites, [
    { file: 'foo.c', line: lineOf(ABBA, 'mutex_lock(&fd->list_lock);') },
    { file: 'foo.c', line: lineOf(ABBA, 'count_entries(fd);') },
  ]);
});

test('lock-order: the fingerprint survives lines moving', async () => {
  const a = only((await analyze({ 'foo.c': ABBA })).findings, 'lock-order');
  const b = only((await analyze({ 'foo.c': `/* moved */\n\n\n${ABBA}` })).findings, 'lock-order');
  assert.equal(a[0].fingerprint, b[0].fingerprint);
  assert.equal(b[0].line, a[0].line + 3);
});

test('lock-order: read/read on an rwsem and nest_lock same-class nesting are not cycles', async () => {
  const src = `struct tbl {
	struct rw_semaphore a_rwsem;
	struct rw_semaphore b_rwsem;
};

static void reader_one(struct tbl *t)
{
	down_read(&t->a_rwsem);
	down_read(&t->b_rwsem);
	up_read(&t->b_rwsem);
	up_read(&t->a_rwsem);
}

static void reader_two(struct tbl *t)
{
	down_read(&t->b_rwsem);
	down_read(&t->a_rwsem);
	up_read(&t->a_rwsem);
	up_read(&t->b_rwsem);
}

static void nested(struct tbl *t, struct tbl *u)
{
	down_write(&t->a_rwsem);
	down_write_nest_lock(&u->a_rwsem, &t->a_rwsem);
	up_write(&u->a_rwsem);
	up_write(&t->a_rwsem);
}
`;
  const r = await analyze({ 't.c': src }, 'low');
  assert.deepEqual(only(r.findings, 'lock-order'), []);
  assert.deepEqual(r.lockGraph.edges.map((e) => `${e.from}>${e.to}`).sort(), [
    'tbl.a_rwsem>tbl.b_rwsem',
    'tbl.b_rwsem>tbl.a_rwsem',
  ]);
});

test('lock-order: a write side breaks the read/read exemption', async () => {
  const src = `struct tbl {
	struct rw_semaphore a_rwsem;
	struct rw_semaphore b_rwsem;
};

static void reader(struct tbl *t)
{
	down_read(&t->a_rwsem);
	down_read(&t->b_rwsem);
	up_read(&t->b_rwsem);
	up_read(&t->a_rwsem);
}

static void writer(struct tbl *t)
{
	down_write(&t->b_rwsem);
	down_write(&t->a_rwsem);
	up_write(&t->a_rwsem);
	up_write(&t->b_rwsem);
}
`;
  const lo = only((await analyze({ 't.c': src })).findings, 'lock-order');
  assert.equal(lo.length, 1);
  assert.match(lo[0].message, /possible ABBA deadlock/);
});

test('lock-order: an edge against a documented "locking order is" comment', async () => {
  const src = `/*
 * The locking order is outer_lock -> inner_lock
 */
struct pair {
	struct mutex outer_lock;
	struct mutex inner_lock;
};

static void backwards(struct pair *p)
{
	mutex_lock(&p->inner_lock);
	mutex_lock(&p->outer_lock);
	mutex_unlock(&p->outer_lock);
	mutex_unlock(&p->inner_lock);
}
`;
  const lo = only((await analyze({ 'p.c': src })).findings, 'lock-order');
  assert.equal(lo.length, 1);
  assert.equal(lo[0].line, lineOf(src, 'mutex_lock(&p->outer_lock);'));
  assert.equal(
    lo[0].message,
    `\`pair.inner_lock\` is held while \`pair.outer_lock\` is taken in \`backwards()\` (line ${lo[0].line}), against the documented order \`pair.outer_lock\` → \`pair.inner_lock\`: a path that follows the documented order can deadlock with this one.`,
  );
});

// ---- callback-under-lock ---------------------------------------------------------------

const UNDER_LOCK = `${HEADER}
static void notify_under_lock(struct iommufd_access *access)
{
	mutex_lock(&access->ioas_lock);
	access->ops->unmap(access->data, 0, ULONG_MAX);
	mutex_unlock(&access->ioas_lock);
}

static void notify_scoped(struct iommufd_access *access)
{
	scoped_guard(mutex, &access->ioas_lock) {
		access->ops->unmap(access->data, 0, ULONG_MAX);
	}
}

static void notify_dropped(struct iommufd_access *access)
{
	mutex_lock(&access->ioas_lock);
	access->ioas = NULL;
	mutex_unlock(&access->ioas_lock);
	access->ops->unmap(access->data, 0, ULONG_MAX);
	mutex_lock(&access->ioas_lock);
	access->ioas_unpin = NULL;
	mutex_unlock(&access->ioas_lock);
}
`;

test('callback-under-lock: ops->unmap under ioas_lock (plain and scoped_guard) from knowledge; dropped around it is quiet', async () => {
  const cul = only((await analyze({ 'a.c': UNDER_LOCK })).findings, 'callback-under-lock');
  assert.deepEqual(
    cul.map((f) => [f.function, f.line, f.confidence]),
    [
      ['notify_under_lock', lineOf(UNDER_LOCK, 'access->ops->unmap', 'notify_under_lock'), 'medium'],
      ['notify_scoped', lineOf(UNDER_LOCK, 'access->ops->unmap', 'notify_scoped'), 'medium'],
    ],
  );
  assert.equal(
    cul[0].message,
    `\`access->ops->unmap()\` is called in \`notify_under_lock()\` (line ${cul[0].line}) with \`iommufd_access.ioas_lock\` held (taken at line ${cul[0].line - 1}); its implementations (per the knowledge of \`iommufd_access_ops.unmap\`) take \`iommufd_access.ioas_lock\` again: self-deadlock.`,
  );
  assert.equal(
    cul[0].fingerprint,
    'callback-under-lock:notify_under_lock:iommufd_access.ioas_lock,iommufd_access_ops.unmap',
  );
  assert.equal(cul[0].scenario.variant, 'lock-model');
  assert.deepEqual(cul[0].related[0], {
    file: 'a.c',
    line: cul[0].line - 1,
    message: '`iommufd_access.ioas_lock` taken here',
    role: 'acquire',
    lock: 'iommufd_access.ioas_lock',
  });
});

const OWN_OPS = `struct blk_ops {
	void (*flush)(struct blk_dev *bd);
};

struct blk_dev {
	struct mutex io_lock;
	const struct blk_ops *ops;
};

static void blk_do_flush(struct blk_dev *bd)
{
	mutex_lock(&bd->io_lock);
	bd->pending = 0;
	mutex_unlock(&bd->io_lock);
}

static void my_flush(struct blk_dev *bd)
{
	blk_do_flush(bd);
}

static const struct blk_ops my_ops = {
	.flush = my_flush,
};

static void blk_sync(struct blk_dev *bd)
{
	mutex_lock(&bd->io_lock);
	bd->ops->flush(bd);
	mutex_unlock(&bd->io_lock);
}
`;

test('callback-under-lock: a non-iommufd ops table whose implementation is in view', async () => {
  const cul = only((await analyze({ 'blk.c': OWN_OPS })).findings, 'callback-under-lock');
  assert.equal(cul.length, 1);
  const f = cul[0];
  assert.deepEqual([f.function, f.line, f.confidence], ['blk_sync', lineOf(OWN_OPS, 'bd->ops->flush'), 'high']);
  assert.equal(
    f.message,
    `\`bd->ops->flush()\` is called in \`blk_sync()\` (line ${f.line}) with \`blk_dev.io_lock\` held (taken at line ${f.line - 1}); \`my_flush()\` reaches \`blk_do_flush()\`, which takes \`blk_dev.io_lock\` again: self-deadlock.`,
  );
  assert.deepEqual(
    f.related.map((x) => x.line),
    [
      f.line - 1,
      lineOf(OWN_OPS, '.flush = my_flush'),
      f.line,
      lineOf(OWN_OPS, 'blk_do_flush(bd);'),
      lineOf(OWN_OPS, 'mutex_lock(&bd->io_lock);'),
    ],
  );
  // the witness: held, the callback, a call inside its implementation, the lock taken again there
  assert.deepEqual(
    f.related.filter((x) => x.role).map((x) => `${x.role}:${x.lock ?? ''}`),
    ['acquire:blk_dev.io_lock', 'callback:', 'call:', 'acquire:blk_dev.io_lock'],
  );
});

// ---- lock-leak ---------------------------------------------------------------

const LEAKS = `struct ctr {
	struct mutex lock;
	int value;
};

static int leaky(struct ctr *c, int v)
{
	mutex_lock(&c->lock);
	if (v < 0)
		return -EINVAL;
	c->value = v;
	mutex_unlock(&c->lock);
	return 0;
}

static int unwinds(struct ctr *c, int v)
{
	int rc = 0;

	mutex_lock(&c->lock);
	if (v < 0) {
		rc = -EINVAL;
		goto out_unlock;
	}
	c->value = v;
out_unlock:
	mutex_unlock(&c->lock);
	return rc;
}

static int guarded(struct ctr *c, int v)
{
	guard(mutex)(&c->lock);
	if (v < 0)
		return -EINVAL;
	c->value = v;
	return 0;
}

static int lock_if_ready(struct ctr *c)
{
	mutex_lock(&c->lock);
	if (!c->value) {
		mutex_unlock(&c->lock);
		return -EAGAIN;
	}
	return 0;
}

static int try_set(struct ctr *c, int v)
{
	if (!mutex_trylock(&c->lock))
		return -EBUSY;
	c->value = v;
	mutex_unlock(&c->lock);
	return 0;
}
`;

test('lock-leak: a missing unlock on an early error return; goto unwinding, guard(), lock-on-success and trylock are quiet', async () => {
  const ll = only((await analyze({ 'ctr.c': LEAKS })).findings, 'lock-leak');
  assert.equal(ll.length, 1);
  const f = ll[0];
  assert.deepEqual([f.function, f.line, f.confidence], ['leaky', lineOf(LEAKS, 'return -EINVAL;'), 'high']);
  assert.equal(
    f.message,
    `\`leaky()\` returns \`-EINVAL\` at line ${f.line} with \`ctr.lock\` still held (taken at line ${f.line - 2}), but its return at line ${lineOf(LEAKS, 'return 0;')} releases it: missing unlock on this path.`,
  );
  assert.deepEqual(f.related, [
    { file: 'ctr.c', line: f.line - 2, message: '`ctr.lock` taken here', role: 'acquire', lock: 'ctr.lock' },
    { file: 'ctr.c', line: lineOf(LEAKS, 'return 0;'), message: 'this return has released `ctr.lock`' },
  ]);
  assert.equal(f.fingerprint, 'lock-leak:leaky:ctr.lock');
  assert.equal(f.scenario.variant, 'lock-model');
});

// ---- assert-held ---------------------------------------------------------------

const ASSERTS = `struct grp {
	struct mutex group_lock;
	int users;
};

static void grp_put_locked(struct grp *g)
{
	lockdep_assert_held(&g->group_lock);
	g->users--;
}

static void grp_release(struct grp *g, bool fast)
{
	if (fast) {
		grp_put_locked(g);
		return;
	}
	mutex_lock(&g->group_lock);
	grp_put_locked(g);
	mutex_unlock(&g->group_lock);
}
`;

test('assert-held: a call into an asserting helper on a path without the lock, in a function that takes it elsewhere', async () => {
  const ah = only((await analyze({ 'grp.c': ASSERTS })).findings, 'assert-held');
  assert.equal(ah.length, 1);
  const f = ah[0];
  assert.deepEqual([f.function, f.line, f.confidence], ['grp_release', lineOf(ASSERTS, 'grp_put_locked(g);'), 'high']);
  assert.equal(
    f.message,
    `\`grp_release()\` calls \`grp_put_locked()\` at line ${f.line} without holding \`grp.group_lock\`, which \`grp_put_locked()\` requires held (it asserts it at line ${lineOf(ASSERTS, 'lockdep_assert_held')}).`,
  );
  assert.deepEqual(f.related, [
    {
      file: 'grp.c',
      line: lineOf(ASSERTS, 'lockdep_assert_held'),
      message: '`grp_put_locked()` asserts `grp.group_lock` held here',
      role: 'assert',
      lock: 'grp.group_lock',
    },
  ]);
});

test("assert-held: a helper only ever called under its caller's lock is quiet", async () => {
  const src = `struct grp {
	struct mutex group_lock;
	int users;
};

static void grp_put_locked(struct grp *g)
{
	lockdep_assert_held(&g->group_lock);
	g->users--;
}

static void grp_drop(struct grp *g)
{
	grp_put_locked(g);
}

static void grp_release(struct grp *g)
{
	mutex_lock(&g->group_lock);
	grp_drop(g);
	mutex_unlock(&g->group_lock);
}
`;
  assert.deepEqual(only((await analyze({ 'grp.c': src }, 'low')).findings, 'assert-held'), []);
});

test('callback-under-lock: an ops struct not in view is taken to be the only ops table with that field, one confidence step lower', async () => {
  // `struct blk_dev` is not declared here, so `bd->ops` has no known type.
  const src = `static void blk_do_flush(struct blk_dev *bd)
{
	mutex_lock(&bd->io_lock);
	mutex_unlock(&bd->io_lock);
}

static void my_flush(struct blk_dev *bd)
{
	blk_do_flush(bd);
}

static const struct blk_ops my_ops = {
	.flush = my_flush,
};

static void blk_sync(struct blk_dev *bd)
{
	mutex_lock(&bd->io_lock);
	bd->ops->flush(bd);
	mutex_unlock(&bd->io_lock);
}
`;
  const r = await analyze({ 'blk.c': src }, 'low');
  const cul = only(r.findings, 'callback-under-lock');
  assert.deepEqual(
    cul.map((f) => [f.function, f.line, f.confidence, f.fingerprint]),
    [
      [
        'blk_sync',
        lineOf(src, 'bd->ops->flush'),
        'medium',
        'callback-under-lock:blk_sync:blk_dev.io_lock,blk_ops.flush',
      ],
    ],
  );
});

test('lock-order: the finding points at the column of the call or acquisition that closes the edge', async () => {
  const f = only((await analyze({ 'foo.c': ABBA })).findings, 'lock-order')[0];
  assert.equal(f.column, 2);
});

// ---- lock helpers ---------------------------------------------------------------

const HELPERS = `struct mdev_state {
	struct mutex guests_lock;
	struct mutex mdevs_lock;
	int count;
};

static void get_update_locks(struct mdev_state *st)
{
	mutex_lock(&st->guests_lock);
	mutex_lock(&st->mdevs_lock);
}

static void release_update_locks(struct mdev_state *st)
{
	mutex_unlock(&st->mdevs_lock);
	mutex_unlock(&st->guests_lock);
}

static void bump_locked(struct mdev_state *st)
{
	lockdep_assert_held(&st->mdevs_lock);
	st->count++;
}

static void update(struct mdev_state *st)
{
	get_update_locks(st);
	bump_locked(st);
	release_update_locks(st);
}

static void backwards(struct mdev_state *st)
{
	mutex_lock(&st->mdevs_lock);
	get_update_locks(st);
	release_update_locks(st);
	mutex_unlock(&st->mdevs_lock);
}
`;

test('lock helpers: locks a helper leaves held count in the caller until the matching release helper', async () => {
  const r = await analyze({ 'st.c': HELPERS }, 'low');
  // update() calls bump_locked() with mdevs_lock held by get_update_locks(): no assert-held finding.
  assert.deepEqual(only(r.findings, 'assert-held'), []);
  assert.deepEqual(only(r.findings, 'lock-leak'), []);
  // backwards() holds mdevs_lock while the helper takes guests_lock: an inversion of get_update_locks()'s order.
  const lo = only(r.findings, 'lock-order');
  assert.equal(lo.length, 1);
  assert.equal(lo[0].function, 'backwards');
  assert.equal(lo[0].line, lineOf(HELPERS, 'get_update_locks(st);', 'backwards'));
});

test("a lock the function releases before taking it is the caller's: held from the entry, never a leak", async () => {
  const src = `struct iommu_s {
	struct mutex lock;
	struct mutex device_list_lock;
	int empty;
};

static void notify_devices(struct iommu_s *iommu)
{
	if (iommu->empty)
		return;
	mutex_lock(&iommu->device_list_lock);
	mutex_unlock(&iommu->lock);
	poke_devices(iommu);
	mutex_unlock(&iommu->device_list_lock);
	mutex_lock(&iommu->lock);
}
`;
  const r = await analyze({ 'n.c': src }, 'low');
  assert.deepEqual(r.findings, []);
  assert.deepEqual(r.lockGraph.edges, [
    {
      from: 'iommu_s.lock',
      to: 'iommu_s.device_list_lock',
      sites: [
        { file: 'n.c', line: lineOf(src, 'static void notify_devices') },
        { file: 'n.c', line: lineOf(src, 'mutex_lock(&iommu->device_list_lock)') },
      ],
    },
  ]);
});
