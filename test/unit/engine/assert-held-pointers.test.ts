/**
 * assert-held with callers that reach a helper through a pointer (an ops
 * dispatcher, a walker's callback argument, a handler picked into a local
 * function pointer) and through a struct member declared under `#if`.
 * Fixtures are our own.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { analyze, events, fn, lineOf, modelOf, only } from './engine-helpers';

const PORTS = `struct port_set {
	struct mutex lock;
	int open_count;
};

struct port;

struct port_ops {
	int (*open)(struct port *p);
	void (*close)(struct port *p);
};

struct port {
	struct port_set *set;
	const struct port_ops *ops;
};

static int port_set_count(struct port_set *set)
{
	lockdep_assert_held(&set->lock);
	return set->open_count;
}

static void fast_port_close(struct port *p)
{
	if (port_set_count(p->set) == 1)
		p->set->open_count = 0;
}

static const struct port_ops fast_port_ops = {
	.close = fast_port_close,
};

void port_last_close(struct port *p)
{
	mutex_lock(&p->set->lock);
	p->ops->close(p);
	mutex_unlock(&p->set->lock);
}
`;

test('assert-held: an ops implementation dispatched with the lock held is quiet', async () => {
  const r = await analyze({ 'port.c': PORTS }, 'low');
  assert.deepEqual(only(r.findings, 'assert-held'), []);
});

test('assert-held: an ops implementation dispatched without the lock is still reported', async () => {
  const src = PORTS.replace('\tmutex_lock(&p->set->lock);\n', '').replace('\tmutex_unlock(&p->set->lock);\n', '');
  const ah = only((await analyze({ 'port.c': src }, 'low')).findings, 'assert-held');
  assert.deepEqual(
    ah.map((f) => [f.function, f.line]),
    [['fast_port_close', lineOf(src, 'if (port_set_count')]],
  );
});

const WALK = `struct shelf {
	struct rw_semaphore books_sem;
	int nr_books;
};

static void shelf_drop_one(struct shelf *s)
{
	lockdep_assert_held(&s->books_sem);
	s->nr_books--;
}

static int drop_cb(struct shelf *s, void *data)
{
	shelf_drop_one(s);
	return 0;
}

void shelf_clear(struct shelf *s)
{
	down_write(&s->books_sem);
	shelf_for_each_child(s, NULL, drop_cb);
	up_write(&s->books_sem);
}
`;

test("assert-held: a walker's callback runs with what the walker's caller holds", async () => {
  const r = await analyze({ 'shelf.c': WALK }, 'low');
  assert.deepEqual(only(r.findings, 'assert-held'), []);
});

test('assert-held: a handler picked into a local function pointer runs with what the dispatcher holds', async () => {
  const src = `struct gate_dev {
	struct mutex gate;
	int masked;
};

static int gate_mask(struct gate_dev *d)
{
	lockdep_assert_held(&d->gate);
	d->masked = 1;
	return 0;
}

static int gate_unmask(struct gate_dev *d)
{
	lockdep_assert_held(&d->gate);
	d->masked = 0;
	return 0;
}

static int gate_set(struct gate_dev *d, int op)
{
	int (*func)(struct gate_dev *d) = NULL;

	switch (op) {
	case 1:
		func = gate_mask;
		break;
	case 2:
		func = gate_unmask;
		break;
	}
	if (!func)
		return -EINVAL;
	return func(d);
}

int gate_ioctl(struct gate_dev *d, int op)
{
	int ret;

	mutex_lock(&d->gate);
	ret = gate_set(d, op);
	mutex_unlock(&d->gate);
	return ret;
}
`;
  const r = await analyze({ 'gate.c': src }, 'low');
  assert.deepEqual(only(r.findings, 'assert-held'), []);
});

const HUB_H = `struct hub_group {
	struct mutex glock;
	int users;
};

struct hub {
	int id;
#if IS_ENABLED(CONFIG_HUB_GROUPS)
	struct hub_group *group;
	struct list_head group_next;
#else
	void *unused;
#endif
	struct mutex lock;
};
`;

const HUB_C = `static bool hub_group_busy(struct hub_group *g)
{
	lockdep_assert_held(&g->glock);
	return g->users > 0;
}

int hub_open(struct hub *h)
{
	int ret = 0;

	mutex_lock(&h->group->glock);
	if (hub_group_busy(h->group))
		ret = -EBUSY;
	mutex_unlock(&h->group->glock);
	return ret;
}
`;

test('struct members under #if are fields: a lock reached through one resolves to its class', async () => {
  const m = await modelOf(HUB_H + HUB_C);
  assert.equal(m.structs.hub.group, 'struct hub_group *');
  assert.equal(m.structs.hub.unused, 'void *');
  assert.equal(m.structs.hub.lock, 'struct mutex');
  const acquire = events(fn(m, 'hub_open')).find((e) => e.kind === 'acquire');
  assert.equal(acquire?.kind === 'acquire' ? acquire.lock.id : undefined, 'hub_group.glock');
  const r = await analyze({ 'hub.h': HUB_H, 'hub.c': HUB_C }, 'low');
  assert.deepEqual(only(r.findings, 'assert-held'), []);
});

/** Our own receive path: handlers in a table of functions, run under the queue lock. */
const RX = `// SPDX-License-Identifier: MIT
struct rxq {
	spinlock_t lock;
	int count;
	int acks;
};

struct pkt {
	struct rxq *q;
	int op;
};

typedef void (*rx_handler)(struct pkt *p);

static void rx_account(struct pkt *p)
{
	lockdep_assert_held(&p->q->lock);
	p->q->count++;
}

void rx_data(struct pkt *p)
{
	rx_account(p);
}

void rx_ack(struct pkt *p)
{
	p->q->acks++;
}

static const rx_handler rx_table[2] = {
	[0] = rx_data,
	[1] = &rx_ack,
};

void rx_one(struct pkt *p)
{
	spin_lock(&p->q->lock);
	rx_table[p->op](p);
	spin_unlock(&p->q->lock);
}
`;

/** The same, the handler picked by a helper that returns a table element. */
const RX_PICK = RX.replace(
  'void rx_one(struct pkt *p)\n{\n\tspin_lock(&p->q->lock);\n\trx_table[p->op](p);\n',
  'static rx_handler rx_pick(struct pkt *p)\n{\n\treturn rx_table[p->op];\n}\n\n' +
    'void rx_one(struct pkt *p)\n{\n\trx_handler h;\n\n\tspin_lock(&p->q->lock);\n\th = rx_pick(p);\n\th(p);\n',
);

test('assert-held: a handler run from a table of functions (directly, or picked by a helper) under the lock is run under it', async () => {
  assert.notEqual(RX_PICK, RX);
  for (const [name, src] of [
    ['table', RX],
    ['picked', RX_PICK],
  ] as const) {
    const m = await modelOf(src, 'rx.c');
    // The call through the table reaches both handlers.
    const call = events(fn(m, 'rx_one')).find((e) => e.kind === 'call' && e.targets);
    assert.deepEqual(call?.kind === 'call' ? call.targets : undefined, ['rx_data', 'rx_ack'], name);
    const quiet = await analyze({ 'rx.c': src }, 'low');
    assert.deepEqual(only(quiet.findings, 'assert-held'), [], name);
    // The dispatcher without the lock: the handler's call is reported.
    const bare = src.replace('\tspin_lock(&p->q->lock);\n', '').replace('\tspin_unlock(&p->q->lock);\n', '');
    assert.notEqual(bare, src);
    const loud = only((await analyze({ 'rx.c': bare }, 'low')).findings, 'assert-held');
    assert.deepEqual(
      loud.map((f) => [f.function, f.line]),
      [['rx_data', lineOf(bare, 'rx_account(p);')]],
      name,
    );
  }
});
