/**
 * lock-order's edges beyond a lock taken under another in one body: a lock a
 * framework holds around an ops callback (knowledge `calledWith`), locks a
 * loop takes one per element and holds past the loop, calls through a local
 * function pointer, and rwsem read sides that wait behind a writer.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Engine, analyzeSources } from '../../../src/engine/engine';
import { analyzeFixtures, fixtureSource, lineOf, ofRule, relatedLines, sharedParser } from './engine-fixtures';

const HANDLER = 'lock-order/error-handler-under-bus-sem.c';
const DISPATCH = 'lock-order/dispatch-pointer.c';
const BUS_SEM = 'file-scope:pci_bus_sem';

async function edited(rel: string, ...edits: [find: string, replace: string][]) {
  const src = fixtureSource(rel);
  let text = src.text;
  for (const [find, replace] of edits) {
    assert.ok(text.includes(find), `${rel}: no ${JSON.stringify(find)}`);
    text = text.replace(find, replace);
  }
  return analyzeSources(await sharedParser(), [{ path: src.path, text }], { minConfidence: 'low' });
}

const edges = (r: { lockGraph: { edges: { from: string; to: string }[] } }) =>
  r.lockGraph.edges.map((e) => `${e.from}>${e.to}`).sort();

test('lock-order: an error handler taking a lock the PCI recovery holds pci_bus_sem around, against a bus reset under per-device locks taken in a loop', async () => {
  const r = await analyzeFixtures([HANDLER]);
  const found = ofRule(r, 'lock-order');
  const take = lineOf(HANDLER, 'mutex_lock(&adev->event_lock);');
  const inner = lineOf(HANDLER, 'down_write(&adev->state_rwsem);');
  const outer = lineOf(HANDLER, 'mutex_lock(&adev->event_lock);', 2);
  const trylock = lineOf(HANDLER, 'if (!down_write_trylock(&adev->state_rwsem)) {');
  const reset = lineOf(HANDLER, 'ret = pci_reset_bus(bridge_dev);');
  assert.deepEqual(
    found.map((f) => `${f.function}:${f.line}:${f.confidence}`),
    [`acc_error_detected:${take}:medium`],
  );
  const [f] = found;
  assert.equal(
    f.message,
    'These locks are taken in a cycle: ' +
      `\`${BUS_SEM}\` → \`acc_dev.event_lock\` in \`acc_error_detected()\` (line ${take}, called as \`pci_error_handlers.error_detected\` with \`${BUS_SEM}\` held by its caller); ` +
      `\`acc_dev.event_lock\` → \`acc_dev.state_rwsem\` in \`acc_set_err_trigger()\` (line ${inner}); ` +
      `\`acc_dev.state_rwsem\` → \`${BUS_SEM}\` in \`acc_set_reset()\` (line ${reset}, through \`pci_reset_bus()\`): possible deadlock.`,
  );
  // Each edge: where `from` is held (the handler's first line for the framework's lock), where `to` is taken.
  assert.deepEqual(relatedLines(f), [
    lineOf(HANDLER, 'static pci_ers_result_t acc_error_detected('),
    take,
    outer,
    inner,
    trylock,
    reset,
  ]);
  assert.equal(
    f.related[0].message,
    `\`${BUS_SEM}\` held on entry to \`acc_error_detected()\`: its caller holds it around \`pci_error_handlers.error_detected\` (knowledge)`,
  );
  assert.deepEqual(
    f.related.map((x) => `${x.role}:${x.path}`),
    // the bus reset's take is knowledge: the call itself is the step that takes it
    ['acquire:0', 'acquire:0', 'acquire:1', 'acquire:1', 'acquire:2', 'acquire:2'],
  );
});

test('lock-order: the handler reading its eventfd without the lock, or locks taken and dropped per element, give no cycle', async () => {
  const unlocked = await edited(HANDLER, [
    '\tmutex_lock(&adev->event_lock);\n\tif (adev->err_ctx)\n\t\teventfd_signal(adev->err_ctx);\n\tmutex_unlock(&adev->event_lock);\n',
    '\trcu_read_lock();\n\tif (adev->err_ctx)\n\t\teventfd_signal(adev->err_ctx);\n\trcu_read_unlock();\n',
  ]);
  assert.deepEqual(ofRule(unlocked, 'lock-order'), []);
  assert.ok(!edges(unlocked).some((e) => e.startsWith(`${BUS_SEM}>`)));
  // Each state lock released in its own iteration (and no unwind loop): none is held at the reset.
  const perElement = await edited(
    HANDLER,
    [
      '\t\tif (!down_write_trylock(&adev->state_rwsem)) {\n\t\t\tret = -EBUSY;\n\t\t\tbreak;\n\t\t}\n',
      '\t\tdown_write(&adev->state_rwsem);\n\t\tadev->err_ctx = NULL;\n\t\tup_write(&adev->state_rwsem);\n',
    ],
    ['\tlist_for_each_entry(adev, &set->devs, set_node)\n\t\tup_write(&adev->state_rwsem);\n', ''],
  );
  assert.deepEqual(ofRule(perElement, 'lock-order'), []);
  assert.ok(!edges(perElement).includes(`acc_dev.state_rwsem>${BUS_SEM}`), edges(perElement).join(' '));
});

test('lock-order: a call through a local function pointer takes what the functions assigned to it take', async () => {
  const r = await analyzeFixtures([DISPATCH]);
  const found = ofRule(r, 'lock-order');
  const call = lineOf(DISPATCH, 'ret = handler(vq, arg);');
  assert.deepEqual(
    found.map((f) => `${f.function}:${f.line}:${f.confidence}`),
    [`vq_ioctl:${call}:high`],
  );
  assert.equal(
    found[0].message,
    `\`vq_dev.cfg_lock\` → \`vq_dev.ring_lock\` here, in \`vq_ioctl()\` (line ${call}, through \`vq_set_ring()\`), ` +
      `but \`vq_dev.ring_lock\` → \`vq_dev.cfg_lock\` in \`vq_drain()\` (line ${lineOf(DISPATCH, 'mutex_lock(&vq->cfg_lock);', 2)}): possible ABBA deadlock.`,
  );
  assert.deepEqual(relatedLines(found[0]), [
    lineOf(DISPATCH, 'mutex_lock(&vq->cfg_lock);'),
    call,
    lineOf(DISPATCH, 'mutex_lock(&vq->ring_lock);'),
    lineOf(DISPATCH, 'mutex_lock(&vq->ring_lock);', 2),
    lineOf(DISPATCH, 'mutex_lock(&vq->cfg_lock);', 2),
  ]);
  // Only the lock-free handler assigned: nothing.
  const quiet = await edited(DISPATCH, ['\t\thandler = vq_set_ring;\n', '\t\thandler = vq_set_mode;\n']);
  assert.deepEqual(ofRule(quiet, 'lock-order'), []);
});

test('lock-order: rwsem readers in opposite orders deadlock once something takes one of them for write', async () => {
  const readers = `struct tbl {
	struct rw_semaphore a_rwsem;
	struct rw_semaphore b_rwsem;
	int gen;
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
`;
  // Each junction blocks only behind a writer queued on its rwsem: a writer of one is not enough.
  const writerA = `
static void bump_a(struct tbl *t)
{
	down_write(&t->a_rwsem);
	t->gen++;
	up_write(&t->a_rwsem);
}
`;
  const writerB = writerA.replace(/a_rwsem/g, 'b_rwsem').replace('bump_a', 'bump_b');
  const parser = await sharedParser();
  const run = (text: string) =>
    ofRule(analyzeSources(parser, [{ path: 't.c', text }], { minConfidence: 'low' }), 'lock-order').map(
      (f) => `${f.function}:${f.line}:${f.confidence}`,
    );
  assert.deepEqual(run(readers), []);
  assert.deepEqual(run(readers + writerA), []);
  assert.deepEqual(run(readers + writerA + writerB), ['reader_one:10:high']);
});

test("lock graph: a static helper defined in several files is resolved in the caller's own file, not the first definition in view", async () => {
  const file = (prefix: string): string => `// SPDX-License-Identifier: MIT
struct ${prefix}_dev {
	struct mutex state_lock;
	spinlock_t stat_lock;
};

static void flush_stats(struct ${prefix}_dev *d)
{
	spin_lock(&d->stat_lock);
	spin_unlock(&d->stat_lock);
}

void ${prefix}_suspend(struct ${prefix}_dev *d)
{
	mutex_lock(&d->state_lock);
	flush_stats(d);
	mutex_unlock(&d->state_lock);
}
`;
  // The file defining flush_stats first takes no lock under another: only its own definition must be used by each caller.
  const first = `// SPDX-License-Identifier: MIT
struct cam_dev {
	spinlock_t irq_lock;
};

static void flush_stats(struct cam_dev *c)
{
	spin_lock(&c->irq_lock);
	spin_unlock(&c->irq_lock);
}
`;
  const r = analyzeSources(
    await sharedParser(),
    [
      { path: 'cam.c', text: first },
      { path: 'eth.c', text: file('eth') },
      { path: 'wlan.c', text: file('wlan') },
    ],
    { minConfidence: 'low' },
  );
  assert.deepEqual(edges(r), ['eth_dev.state_lock>eth_dev.stat_lock', 'wlan_dev.state_lock>wlan_dev.stat_lock']);
});

test('lock-order with context: a cycle of the context alone is reported nowhere and hides no reported cycle', async () => {
  const CORE = 'lock-order/context-cycle/core.c';
  const DRIVER = 'lock-order/context-cycle/driver.c';
  const engine = new Engine({ parser: await sharedParser() });
  try {
    for (const rel of [CORE, DRIVER]) {
      const src = fixtureSource(rel);
      engine.setFile(rel, src.text);
    }
    const at = (f: { file: string; function?: string; line: number }) => `${f.file}:${f.function}:${f.line}`;
    // The whole view reported: the core's own two-lock cycle, and the driver's
    // three-lock cycle over a superset of its locks adds nothing.
    const all = ofRule(engine.analyze({ minConfidence: 'low' }), 'lock-order');
    assert.deepEqual(all.map(at), [`${CORE}:tbl_core_grow:${lineOf(CORE, 'mutex_lock(&core->slot_lock);')}`]);
    // Only the driver reported: its cycle through the core is its own finding.
    const [f, ...rest] = ofRule(engine.analyze({ paths: [DRIVER], minConfidence: 'low' }), 'lock-order');
    assert.deepEqual(rest, []);
    const take = lineOf(DRIVER, 'mutex_lock(&core->table_lock);');
    assert.equal(at(f), `${DRIVER}:tbl_drv_event:${take}`);
    assert.equal(f.confidence, 'high');
    assert.equal(
      f.message,
      'These locks are taken in a cycle: ' +
        `\`tbl_core.event_lock\` → \`tbl_core.table_lock\` in \`tbl_drv_event()\` (line ${take}); ` +
        `\`tbl_core.table_lock\` → \`tbl_core.slot_lock\` in \`tbl_core_grow()\` (${CORE}:${lineOf(CORE, 'mutex_lock(&core->slot_lock);')}); ` +
        `\`tbl_core.slot_lock\` → \`tbl_core.event_lock\` in \`tbl_core_notify()\` (${CORE}:${lineOf(CORE, 'mutex_lock(&core->event_lock);')}): possible deadlock.`,
    );
  } finally {
    engine.dispose();
  }
});

test('lock-order: a route closed only through a read/read junction is not a cycle, and the longer route around it is the one reported', async () => {
  const hub = `struct hub {
	struct mutex a_lock;
	struct mutex x_lock;
	struct mutex c_lock;
	struct mutex d_lock;
	struct rw_semaphore r_rwsem;
};

static void take_ax(struct hub *h)
{
	mutex_lock(&h->a_lock);
	mutex_lock(&h->x_lock);
	mutex_unlock(&h->x_lock);
	mutex_unlock(&h->a_lock);
}

static void take_xr(struct hub *h)
{
	mutex_lock(&h->x_lock);
	down_read(&h->r_rwsem);
	up_read(&h->r_rwsem);
	mutex_unlock(&h->x_lock);
}

static void take_ra(struct hub *h)
{
	down_read(&h->r_rwsem);
	mutex_lock(&h->a_lock);
	mutex_unlock(&h->a_lock);
	up_read(&h->r_rwsem);
}
`;
  // x → c → d → a: one edge longer than x → r → a, whose junction at the rwsem (taken for read, then held for
  // read while a is taken) lets a second reader through.
  const around = `
static void take_xc(struct hub *h)
{
	mutex_lock(&h->x_lock);
	mutex_lock(&h->c_lock);
	mutex_unlock(&h->c_lock);
	mutex_unlock(&h->x_lock);
}

static void take_cd(struct hub *h)
{
	mutex_lock(&h->c_lock);
	mutex_lock(&h->d_lock);
	mutex_unlock(&h->d_lock);
	mutex_unlock(&h->c_lock);
}

static void take_da(struct hub *h)
{
	mutex_lock(&h->d_lock);
	mutex_lock(&h->a_lock);
	mutex_unlock(&h->a_lock);
	mutex_unlock(&h->d_lock);
}
`;
  const parser = await sharedParser();
  const run = (text: string) =>
    ofRule(analyzeSources(parser, [{ path: 'hub.c', text }], { minConfidence: 'low' }), 'lock-order');
  assert.deepEqual(run(hub), []);
  const found = run(hub + around);
  assert.deepEqual(
    found.map((f) => `${f.function}:${f.line}:${f.confidence}`),
    ['take_ax:12:high'],
  );
  assert.equal(
    found[0].message,
    'These locks are taken in a cycle: `hub.a_lock` → `hub.x_lock` in `take_ax()` (line 12); `hub.x_lock` → `hub.c_lock` in `take_xc()` (line 36); `hub.c_lock` → `hub.d_lock` in `take_cd()` (line 44); `hub.d_lock` → `hub.a_lock` in `take_da()` (line 52): possible deadlock.',
  );
  // With a writer of the rwsem, the junction blocks: the shorter route is a cycle too (over other locks, so both).
  const writer = `
static void take_r_write(struct hub *h)
{
	down_write(&h->r_rwsem);
	up_write(&h->r_rwsem);
}
`;
  const both = run(hub + around + writer);
  assert.deepEqual(
    both.map((f) => f.message.match(/`[^`]+` → `[^`]+` in `[^`]+`/g)),
    [
      [
        '`hub.a_lock` → `hub.x_lock` in `take_ax()`',
        '`hub.x_lock` → `hub.r_rwsem` in `take_xr()`',
        '`hub.r_rwsem` → `hub.a_lock` in `take_ra()`',
      ],
      // found from its edge out of x (the search from a's edge stops at the shorter cycle)
      [
        '`hub.x_lock` → `hub.c_lock` in `take_xc()`',
        '`hub.c_lock` → `hub.d_lock` in `take_cd()`',
        '`hub.d_lock` → `hub.a_lock` in `take_da()`',
        '`hub.a_lock` → `hub.x_lock` in `take_ax()`',
      ],
    ],
  );
});
