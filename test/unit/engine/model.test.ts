import assert from 'node:assert/strict';
import { test } from 'node:test';
import type {
  AcquireEvent,
  CallEvent,
  ReleaseEvent,
  ReadEvent,
  ReturnEvent,
  WriteEvent,
} from '../../../src/engine/model/types';
import { events, fn, HEADER, lineOf, modelOf } from './engine-helpers';

const LOCKS = `${HEADER}
static int take_locks(struct iommufd_access *access, struct iommufd_ioas *ioas)
{
	struct io_pagetable *iopt = &ioas->iopt;
	struct mutex *m = &access->ioas_lock;

	mutex_lock(m);
	down_read(&iopt->iova_rwsem);
	down_write_nest_lock(&access->ioas->iopt.domains_rwsem, &access->ioas_lock);
	up_write(&access->ioas->iopt.domains_rwsem);
	up_read(&iopt->iova_rwsem);
	mutex_unlock(&access->ioas_lock);
	mutex_lock(&unknown_thing->lock);
	mutex_unlock(&unknown_thing->lock);
	return 0;
}
`;

test('lock identities resolve through parameters, &ioas->iopt aliases, lock pointers and struct chains', async () => {
  const f = fn(await modelOf(LOCKS), 'take_locks');
  const acquires = events(f).filter((e): e is AcquireEvent => e.kind === 'acquire');
  assert.deepEqual(
    acquires.map((a) => [a.lock.id, a.lock.kind, a.mode, a.nested, a.lock.resolved, a.line]),
    [
      ['iommufd_access.ioas_lock', 'mutex', 'exclusive', false, true, lineOf(LOCKS, 'mutex_lock(m)')],
      ['io_pagetable.iova_rwsem', 'rwsem', 'read', false, true, lineOf(LOCKS, 'down_read(')],
      ['io_pagetable.domains_rwsem', 'rwsem', 'write', true, true, lineOf(LOCKS, 'down_write_nest_lock')],
      ['unknown_thing->lock', 'mutex', 'exclusive', false, false, lineOf(LOCKS, 'mutex_lock(&unknown_thing')],
    ],
  );
  const releases = events(f).filter((e): e is ReleaseEvent => e.kind === 'release');
  assert.deepEqual(
    releases.map((r) => [r.lock.id, r.mode, r.implicit]),
    [
      ['io_pagetable.domains_rwsem', 'write', false],
      ['io_pagetable.iova_rwsem', 'read', false],
      ['iommufd_access.ioas_lock', 'exclusive', false],
      ['unknown_thing->lock', 'exclusive', false],
    ],
  );
  assert.equal(f.types.access, 'iommufd_access');
  assert.equal(f.types.iopt, 'io_pagetable');
  assert.equal(f.status, 'parsed');
});

const GUARDS = `${HEADER}
static int with_guards(struct iommufd_access *access, struct io_pagetable *iopt)
{
	guard(mutex)(&access->ioas_lock);
	if (!access->ioas)
		return -ENOENT;
	scoped_guard(rwsem_read, &iopt->iova_rwsem) {
		helper(iopt);
	}
	after_scope(access);
	return 0;
}
`;

test('guard() releases at every return and scoped_guard() at the end of its block', async () => {
  const f = fn(await modelOf(GUARDS), 'with_guards');
  const evs = events(f);
  const acq = evs.filter((e): e is AcquireEvent => e.kind === 'acquire');
  assert.deepEqual(
    acq.map((a) => [a.lock.id, a.mode, a.scope, a.line]),
    [
      ['iommufd_access.ioas_lock', 'exclusive', 'guard', lineOf(GUARDS, 'guard(mutex)')],
      ['io_pagetable.iova_rwsem', 'read', 'scoped_guard', lineOf(GUARDS, 'scoped_guard(')],
    ],
  );
  const rel = evs.filter((e): e is ReleaseEvent => e.kind === 'release');
  assert.ok(rel.every((r) => r.implicit));
  // ioas_lock released before each of the two returns; iova_rwsem at the scoped block's end.
  assert.equal(rel.filter((r) => r.lock.id === 'iommufd_access.ioas_lock').length, 2);
  const rw = rel.filter((r) => r.lock.id === 'io_pagetable.iova_rwsem');
  assert.equal(rw.length, 1);
  assert.equal(rw[0].line, lineOf(GUARDS, '}', 'helper(iopt)'));
  // The call inside the scoped block comes between the scoped acquire and its release.
  const order = evs
    .filter((e) => e.kind !== 'read' && e.kind !== 'use')
    .map((e) =>
      e.kind === 'call' ? e.callee : e.kind === 'acquire' || e.kind === 'release' ? `${e.kind}:${e.lock.id}` : e.kind,
    );
  const helperAt = order.indexOf('helper');
  assert.ok(
    order.indexOf('acquire:io_pagetable.iova_rwsem') < helperAt &&
      helperAt < order.indexOf('release:io_pagetable.iova_rwsem'),
  );
  assert.equal(f.status, 'parsed', f.reason);
});

const FLOW = `${HEADER}
static int flow(struct iommufd_access *access, struct iommufd_ioas *new_ioas)
{
	struct iommufd_ioas *cur_ioas = access->ioas;
	struct thing *p;
	int rc;

	p = kzalloc(sizeof(*p), GFP_KERNEL);
	if (!p)
		return -ENOMEM;
	if (!mutex_trylock(&access->ioas_lock))
		return -EBUSY;
	access->ioas = NULL;
	rc = iopt_add_access(&new_ioas->iopt, access);
	if (rc)
		goto out_restore;
	list_for_each_entry(p, &head, node) {
		visit(p);
	}
	access->ops->unmap(access->data, 0, ULONG_MAX);
	mutex_unlock(&access->ioas_lock);
	return 0;

out_restore:
	access->ioas = cur_ioas;
	mutex_unlock(&access->ioas_lock);
	return rc;
}
`;

test('edges carry error/ok and trylock conditions; returns know errors; labels, loops, callbacks, reads and writes', async () => {
  const f = fn(await modelOf(FLOW), 'flow');
  const blockOf = (pred: (e: ReturnType<typeof events>[number]) => boolean) =>
    f.blocks.find((b) => b.events.some(pred))!;

  const allocBlock = blockOf((e) => e.kind === 'call' && e.callee === 'kzalloc');
  const allocIndex = allocBlock.events.findIndex((e) => e.kind === 'call' && e.callee === 'kzalloc');
  assert.deepEqual(allocBlock.succ.map((s) => s.when).filter(Boolean), [
    { on: 'error', event: allocIndex },
    { on: 'ok', event: allocIndex },
  ]);

  const tryBlock = blockOf((e) => e.kind === 'acquire' && e.trylock);
  const tryIndex = tryBlock.events.findIndex((e) => e.kind === 'acquire');
  assert.deepEqual(
    tryBlock.succ.map((s) => s.when),
    [
      { on: 'unlocked', event: tryIndex },
      { on: 'locked', event: tryIndex },
    ],
  );

  const addBlock = blockOf((e) => e.kind === 'call' && e.callee === 'iopt_add_access');
  const addIndex = addBlock.events.findIndex((e) => e.kind === 'call' && e.callee === 'iopt_add_access');
  assert.equal((addBlock.events[addIndex] as CallEvent).resultVar, 'rc');
  assert.deepEqual(
    addBlock.succ.map((s) => s.when),
    [
      { on: 'error', event: addIndex },
      { on: 'ok', event: addIndex },
    ],
  );

  const label = f.blocks.find((b) => b.label === 'out_restore');
  assert.ok(label, 'label block');
  const returns = events(f)
    .filter((e): e is ReturnEvent => e.kind === 'return')
    .sort((a, b) => a.line - b.line);
  assert.deepEqual(
    returns.map((r) => [r.line, r.value, r.isError]),
    [
      [lineOf(FLOW, 'return -ENOMEM'), '-ENOMEM', true],
      [lineOf(FLOW, 'return -EBUSY'), '-EBUSY', true],
      [lineOf(FLOW, 'return 0;', 'ULONG_MAX'), '0', false],
      [lineOf(FLOW, 'return rc;'), 'rc', true],
    ],
  );

  // The iterator macro's body is a loop: its block has a path back to the loop head.
  const visitBlock = blockOf((e) => e.kind === 'call' && e.callee === 'visit');
  const head = visitBlock.succ[0].to;
  assert.ok(
    f.blocks[head].succ.some((s) => s.to === visitBlock.id),
    'loop back edge',
  );

  const cb = events(f).find((e) => e.kind === 'callback');
  assert.deepEqual(cb && cb.kind === 'callback' ? [cb.opsStruct, cb.field, cb.args, cb.line] : [], [
    'iommufd_access_ops',
    'unmap',
    ['access->data', '0', 'ULONG_MAX'],
    lineOf(FLOW, '->unmap('),
  ]);

  const writes = events(f).filter((e) => e.kind === 'write');
  assert.deepEqual(
    writes.map((w) => (w.kind === 'write' ? [w.target, w.field, w.value, w.line] : [])),
    [
      ['access->ioas', 'iommufd_access.ioas', 'NULL', lineOf(FLOW, 'access->ioas = NULL')],
      ['access->ioas', 'iommufd_access.ioas', 'cur_ioas', lineOf(FLOW, 'access->ioas = cur_ioas')],
    ],
  );
  const read = events(f).find((e) => e.kind === 'read');
  assert.deepEqual(read && read.kind === 'read' ? [read.source, read.field, read.into] : [], [
    'access->ioas',
    'iommufd_access.ioas',
    'cur_ioas',
  ]);
  const use = events(f).find((e) => e.kind === 'use');
  assert.deepEqual(use && use.kind === 'use' ? [use.variable, use.line] : [], [
    'cur_ioas',
    lineOf(FLOW, 'access->ioas = cur_ioas'),
  ]);
  assert.equal(f.status, 'parsed', f.reason);
});

const FILE_FACTS = `/*
 * The locking order is domains_rwsem -> iova_rwsem -> pages::mutex
 */
struct io_pagetable {
	struct rw_semaphore domains_rwsem;
	struct rw_semaphore iova_rwsem;
	union {
		struct xarray access_list;
		unsigned long spare;
	};
};

static void drv_unmap(void *data, unsigned long iova, unsigned long length);

static const struct iommufd_access_ops drv_ops = {
	.unmap = drv_unmap,
};

static void locked_helper(struct io_pagetable *iopt)
	__must_hold(&iopt->iova_rwsem)
{
	lockdep_assert_held_write(&iopt->domains_rwsem);
}
`;

test('file facts: documented orders with their struct, ops implementations, flattened unions, __must_hold, assertions', async () => {
  const m = await modelOf(FILE_FACTS);
  assert.deepEqual(m.documentedOrders, [
    { names: ['domains_rwsem', 'iova_rwsem', 'pages::mutex'], line: 2, struct: 'io_pagetable' },
  ]);
  assert.deepEqual(m.opsImplementations, [
    {
      opsStruct: 'iommufd_access_ops',
      field: 'unmap',
      function: 'drv_unmap',
      file: 'test.c',
      line: lineOf(FILE_FACTS, '.unmap'),
    },
  ]);
  assert.equal(m.structs.io_pagetable.access_list, 'struct xarray');
  assert.equal(m.structs.io_pagetable.iova_rwsem, 'struct rw_semaphore');
  const f = fn(m, 'locked_helper');
  assert.deepEqual(
    f.mustHold.map((l) => [l.id, l.resolved]),
    [['io_pagetable.iova_rwsem', true]],
  );
  const a = events(f).find((e) => e.kind === 'assert');
  assert.deepEqual(a && a.kind === 'assert' ? [a.lock.id, a.lock.kind, a.expect] : [], [
    'io_pagetable.domains_rwsem',
    'rwsem',
    'write',
  ]);
});

test('broken C: partial functions say where, unreadable definitions are listed, nothing throws', async () => {
  const src = `static int ok_fn(int a)
{
	return a;
}

static int half_broken(struct foo *f)
{
	int x = f->a;
	if (x > ) {
		do_thing(f);
	}
	return x;
}

static int (*weird)(int) = ;
`;
  const m = await modelOf(src);
  assert.equal(fn(m, 'ok_fn').status, 'parsed');
  const hb = fn(m, 'half_broken');
  assert.equal(hb.status, 'partial');
  assert.match(hb.reason ?? '', /at line \d+/);
  // What could be read is still modelled.
  assert.ok(events(hb).some((e) => e.kind === 'call' && e.callee === 'do_thing'));
});

test('macro arguments that are types and GNU case ranges do not make a function partial', async () => {
  const src = `static int ranges(struct foo *f, int c)
{
	struct bar *b = container_of(f, struct bar, foo);

	switch (c) {
	case 1 ... 5:
		use_bar(b);
		break;
	default:
		break;
	}
	return 0;
}
`;
  const f = fn(await modelOf(src), 'ranges');
  assert.equal(f.status, 'parsed', f.reason);
  assert.equal(f.types.b, 'bar');
  const call = events(f).find((e): e is CallEvent => e.kind === 'call' && e.callee === 'container_of');
  assert.deepEqual(call?.args, ['f', 'struct bar', 'foo']);
});

test('bool results are success flags: `if (!lock_obj())` is the failure edge, `if (rc)` on an int is the error edge', async () => {
  const src = `bool obj_get(struct obj *o);

static int user(struct obj *o)
{
	bool ok;
	int rc;

	if (!obj_get(o))
		return -ENOENT;
	ok = obj_get(o);
	if (!ok)
		return -ENOENT;
	rc = obj_prepare(o);
	if (rc)
		return rc;
	return 0;
}
`;
  const f = fn(await modelOf(src), 'user');
  const conds = f.blocks
    .filter((b) => b.events.some((e) => e.kind === 'call'))
    .map((b) => {
      const i = b.events.findIndex((e) => e.kind === 'call');
      const call = b.events[i] as CallEvent;
      return [call.callee, call.line, b.succ.map((s) => s.when?.on)];
    });
  assert.deepEqual(conds, [
    ['obj_get', lineOf(src, 'if (!obj_get(o))'), ['error', 'ok']],
    ['obj_get', lineOf(src, 'ok = obj_get(o);'), ['error', 'ok']],
    ['obj_prepare', lineOf(src, 'rc = obj_prepare(o);'), ['error', 'ok']],
  ]);
  const rets = events(f)
    .filter((e): e is ReturnEvent => e.kind === 'return')
    .map((r) => [r.value, r.isError]);
  assert.deepEqual(rets, [
    ['-ENOENT', true],
    ['-ENOENT', true],
    ['rc', true],
    ['0', false],
  ]);
});

test('an assignment inside the condition ties the edge to the call it assigns', async () => {
  const src = `static int cond_assign(struct obj *o)
{
	struct thing *p;
	int rc;

	if ((rc = obj_prepare(o)))
		return rc;
	if (!(p = kzalloc(sizeof(*p), GFP_KERNEL)))
		return -ENOMEM;
	return 0;
}
`;
  const f = fn(await modelOf(src), 'cond_assign');
  const conds = f.blocks
    .filter((b) => b.events.some((e) => e.kind === 'call'))
    .map((b) => {
      const i = b.events.findIndex((e) => e.kind === 'call');
      return [(b.events[i] as CallEvent).callee, b.succ.map((s) => s.when && `${s.when.on}@${s.when.event}`)];
    });
  assert.deepEqual(conds, [
    ['obj_prepare', ['error@0', 'ok@0']],
    ['kzalloc', ['error@0', 'ok@0']],
  ]);
  const rets = events(f)
    .filter((e): e is ReturnEvent => e.kind === 'return')
    .map((r) => [r.value, r.isError]);
  assert.deepEqual(rets, [
    ['rc', true],
    ['-ENOMEM', true],
    ['0', false],
  ]);
});

test('store macros are writes: WRITE_ONCE, smp_store_release (by address) and rcu_assign_pointer; other targets are not', async () => {
  const src = `${HEADER}
struct flag_box {
	bool dying;
	struct iommufd_ioas *cur;
};

static void mark(struct flag_box *fb, struct iommufd_ioas *ioas, int *p)
{
	WRITE_ONCE(fb->dying, true);
	smp_store_release(&fb->dying, false);
	rcu_assign_pointer(fb->cur, ioas);
	WRITE_ONCE(*p, 1);
}
`;
  const f = fn(await modelOf(src), 'mark');
  const writes = events(f).filter((e): e is WriteEvent => e.kind === 'write');
  assert.deepEqual(
    writes.map((w) => [w.target, w.field, w.value, w.line]),
    [
      ['fb->dying', 'flag_box.dying', 'true', lineOf(src, 'WRITE_ONCE(fb')],
      ['fb->dying', 'flag_box.dying', 'false', lineOf(src, 'smp_store_release')],
      ['fb->cur', 'flag_box.cur', 'ioas', lineOf(src, 'rcu_assign_pointer')],
    ],
  );
  // They are no longer calls; a store through a plain pointer stays what it was (no write to a field).
  assert.deepEqual(
    events(f)
      .filter((e) => e.kind === 'call')
      .map((e) => (e as CallEvent).callee),
    [],
  );
});

test('local-to-local assignments are reads marked local: the error carried into `err` makes `return err` an error return', async () => {
  const src = `${HEADER}
struct pin_ctx {
	struct mutex lock;
	struct pin_ctx *next;
};

static int pin_some(struct pin_ctx *pc, unsigned long n)
{
	struct pin_ctx *pos = pc;
	struct pin_ctx *cur;
	long npinned;
	int err = 0;

	npinned = pin_user_range(pc, n);
	if (npinned < 0) {
		err = npinned;
		goto out;
	}
	cur = pos;
	pos = cur->next;
	err = (int)npinned;
	return err;
out:
	return err;
}
`;
  const f = fn(await modelOf(src), 'pin_some');
  const reads = events(f).filter((e): e is ReadEvent => e.kind === 'read');
  assert.deepEqual(
    reads.map((r) => [r.source, r.into, r.local ?? false, r.line]),
    [
      ['pc', 'pos', true, lineOf(src, 'pos = pc')],
      ['npinned', 'err', true, lineOf(src, 'err = npinned')],
      ['pos', 'cur', true, lineOf(src, 'cur = pos')],
      ['cur->next', 'pos', false, lineOf(src, 'pos = cur->next')],
      ['npinned', 'err', true, lineOf(src, 'err = (int)npinned')],
    ],
  );
  const returns = events(f).filter((e): e is ReturnEvent => e.kind === 'return');
  // `return err` after the success path's copy is not an error; after the failure branch's copy it is.
  assert.deepEqual(
    returns.map((r) => [r.line, r.isError]).sort((a, b) => Number(a[0]) - Number(b[0])),
    [
      [lineOf(src, 'return err;'), false],
      [lineOf(src, 'return err;', 'out:'), true],
    ],
  );
});

test('a call on one branch that runs the work the other branch defers is marked with the deferral; others are not', async () => {
  const src = `static void rx_done(struct port *p, bool polled, bool now)
{
	if (polled) {
		port_rx_work(&p->rx_work);
	} else {
		queue_work(p->wq, &p->rx_work);
	}
	if (now)
		port_tick(&p->tick.work);
	else
		mod_delayed_work(p->wq, &p->tick, HZ);
	if (polled)
		port_free_rcu(&p->rcu);
	else
		call_rcu(&p->rcu, port_free_rcu);
	if (now)
		flush_workqueue(p->wq);
	else
		queue_work(p->wq, &p->rx_work);
	if (now)
		port_rx_work(&p->rx_work);
	queue_work(p->wq, &p->rx_work);
	if (!now)
		del_timer(&p->timer);
	else
		mod_timer(&p->timer, jiffies + HZ);
}
`;
  const f = fn(await modelOf(src), 'rx_done');
  const calls = events(f)
    .filter((e): e is CallEvent => e.kind === 'call')
    .map((c) => [c.callee, c.line, c.inlineOf ? `${c.inlineOf.api}@${c.inlineOf.line}` : '']);
  assert.deepEqual(calls, [
    ['port_rx_work', 4, 'queue_work@6'],
    ['queue_work', 6, ''],
    // A delayed work's handler gets its inner work item.
    ['port_tick', 9, 'mod_delayed_work@11'],
    ['mod_delayed_work', 11, ''],
    // The RCU callback called by name.
    ['port_free_rcu', 13, 'call_rcu@15'],
    ['call_rcu', 15, ''],
    // Sharing the workqueue is not running the work.
    ['flush_workqueue', 17, ''],
    ['queue_work', 19, ''],
    // No else: the call is what the function does whenever `now` holds.
    ['port_rx_work', 21, ''],
    ['queue_work', 22, ''],
    // The deferral machinery's own calls (a cancel, a flush) take the item without running it.
    ['del_timer', 24, ''],
    ['mod_timer', 26, ''],
  ]);
});

test('an early return is an else: the work run before it is inline when the rest of the block defers it; a goto is not', async () => {
  const src = `static void rx_kick(struct port *p, bool sync)
{
	if (sync) {
		port_rx_work(&p->rx_work);
		return;
	}
	queue_work(p->wq, &p->rx_work);
}

static int rx_kick_or_fail(struct port *p, bool sync)
{
	if (sync) {
		port_rx_work(&p->rx_work);
		goto out;
	}
	queue_work(p->wq, &p->rx_work);
out:
	return 0;
}
`;
  const model = await modelOf(src);
  const marks = (name: string) =>
    events(fn(model, name))
      .filter((e): e is CallEvent => e.kind === 'call')
      .map((c) => [c.callee, c.line, c.inlineOf ? `${c.inlineOf.api}@${c.inlineOf.line}` : '']);
  assert.deepEqual(marks('rx_kick'), [
    ['port_rx_work', 4, 'queue_work@7'],
    ['queue_work', 7, ''],
  ]);
  // The label after the deferral is where the branch lands: the rest of the block is not its other side.
  assert.deepEqual(marks('rx_kick_or_fail'), [
    ['port_rx_work', 13, ''],
    ['queue_work', 16, ''],
  ]);
});
